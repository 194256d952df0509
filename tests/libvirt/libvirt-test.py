#!/usr/bin/python3
"""Console logs of a guest run by libvirt, with the patched QEMU as the
domain's <emulator>: the recipes of docs/system/console-logs.rst, read
from that file, and what libvirt and virtlogd do by themselves.

    libvirt-test.py QEMU_BINARY GUEST_DIR DOCS_RST

Prints TAP.  Starts virtlogd and libvirtd when none answers (no systemd
runs them on a CI machine) and stops them again, by pid; undefines every
domain it defined and removes every file it made, also when it fails.
"""

import atexit
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
import xml.etree.ElementTree as ET

VIRSH = ['virsh', '-q', '-c', 'qemu:///system']
QEMU_NS = 'http://libvirt.org/schemas/domain/qemu/1.0'
BOOT_TIMEOUT = 180
# The directory the recipes of the documentation use
DOCS_DIR = '/var/log/vm1'

qemu, guest_dir, docs = sys.argv[1:4]
work = tempfile.mkdtemp(prefix='qemu-console-log-libvirt-')
os.chmod(work, 0o755)
started = []            # (name, pid) of the daemons this test started
domains = []            # names of the domains this test defined
cases = []


def virsh(*args, check=True):
    result = subprocess.run(VIRSH + list(args), text=True,
                            capture_output=True)
    if check and result.returncode:
        raise RuntimeError('virsh %s: %s' % (' '.join(args),
                                             ' '.join(result.stderr.split())))
    return result


def cleanup():
    for name in domains:
        virsh('destroy', name, check=False)
        virsh('undefine', name, check=False)
        for log in ('/var/log/libvirt/qemu/%s.log' % name,):
            if os.path.exists(log):
                os.unlink(log)
    for name, pid in reversed(started):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGKILL)
    # libvirt's cache of our emulator's capabilities
    cache = '/var/cache/libvirt/qemu/capabilities'
    if started and os.path.isdir(cache):
        for f in os.listdir(cache):
            path = os.path.join(cache, f)
            with open(path, errors='replace') as fh:
                if qemu in fh.read():
                    os.unlink(path)
    shutil.rmtree(work, ignore_errors=True)


atexit.register(cleanup)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
signal.signal(signal.SIGINT, lambda *a: sys.exit(1))


def answers():
    return virsh('list', check=False).returncode == 0


def start_daemons():
    if answers():
        return
    os.makedirs('/run/libvirt', exist_ok=True)
    for daemon in ('virtlogd', 'libvirtd'):
        pidfile = os.path.join(work, daemon + '.pid')
        subprocess.run([daemon, '-d', '-p', pidfile], check=True)
        for _ in range(100):
            if os.path.exists(pidfile) and open(pidfile).read().strip():
                break
            time.sleep(0.1)
        started.append((daemon, int(open(pidfile).read())))
    for _ in range(150):
        if answers():
            return
        time.sleep(0.2)
    raise RuntimeError('libvirtd does not answer')


def recipe(name):
    """The literal block after '.. recipe: NAME' in the documentation."""
    lines = open(docs).read().splitlines()
    i = lines.index('.. recipe: ' + name)
    while not lines[i].endswith('::'):
        i += 1
    block = []
    for line in lines[i + 1:]:
        if line and not line.startswith(' '):
            break
        block.append(line)
    text = '\n'.join(block).strip('\n')
    indent = min(len(l) - len(l.lstrip()) for l in block if l.strip())
    return '\n'.join(l[indent:] for l in text.splitlines())


def domain_name(name):
    return 'qemu-console-log-test-' + name


def domain_xml(name, cmdline, fragment):
    """A domain for the test guest, with the <serial> and the
    <qemu:commandline> of @fragment (paths of DOCS_DIR moved to ours)."""
    fragment = fragment.replace(DOCS_DIR, os.path.join(work, name))
    extra = ET.fromstring('<r xmlns:qemu="%s">%s</r>' % (QEMU_NS, fragment))
    dom = ET.fromstring('''
<domain type='qemu'>
  <name>%s</name>
  <uuid>%s</uuid>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>%s/vmlinuz</kernel>
    <initrd>%s/initramfs.gz</initrd>
    <cmdline>console=ttyS0 panic=-1 %s</cmdline>
  </os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <emulator>%s</emulator>
    <memballoon model='none'/>
  </devices>
</domain>''' % (domain_name(name), uuid.uuid5(uuid.NAMESPACE_URL, name), work,
                work, cmdline, qemu))
    for el in extra:
        if el.tag == '{%s}commandline' % QEMU_NS:
            dom.append(el)
        else:
            dom.find('devices').append(el)
    ET.register_namespace('qemu', QEMU_NS)
    return ET.tostring(dom, encoding='unicode')


def define(name, cmdline, fragment):
    path = os.path.join(work, name + '.xml')
    with open(path, 'w') as f:
        f.write(domain_xml(name, cmdline, fragment))
    if domain_name(name) not in domains:
        domains.append(domain_name(name))
    virsh('define', path)


def start(name, check=True):
    return virsh('start', domain_name(name), check=check)


def wait_shut_off(name):
    deadline = time.time() + BOOT_TIMEOUT
    while virsh('domstate', domain_name(name)).stdout.strip() != 'shut off':
        if time.time() > deadline:
            raise RuntimeError('%s did not power off' % name)
        time.sleep(0.3)


def qemu_command_line(name):
    """The console's part of the last command line libvirt gave QEMU, from
    the domain's log (one option per line, continued with a backslash)."""
    log = open('/var/log/libvirt/qemu/%s.log' % domain_name(name)).read()
    start = log.rfind(qemu + ' \\')
    words = []
    for line in log[start:].splitlines()[1:]:
        words.append(line.rstrip(' \\'))
        if not line.endswith('\\'):
            break
    keep = [w for w in words
            if re.match(r'-(chardev|add-fd|set|device isa-serial)\b', w) and
            'charmonitor' not in w]
    return ' '.join(keep)


def log_dir(name):
    d = os.path.join(work, name)
    os.makedirs(d, exist_ok=True)
    # The directory belongs to the user libvirt runs QEMU as.
    user = pwd.getpwnam('libvirt-qemu')
    os.chown(d, user.pw_uid, user.pw_gid)
    return d


def boots_in(path):
    try:
        text = open(path, errors='replace').read()
    except FileNotFoundError:
        return None
    return ' '.join(re.findall(r'console-log-guest: boot (\S+)', text))


def nova_restarts(name, fragment):
    """Three starts of a guest that powers off, as nova does."""
    log_dir(name)
    for boot in (1, 2, 3):
        define(name, 'bootid=%s%d mode=poweroff' % (name[-1], boot),
               fragment)
        start(name)
        wait_shut_off(name)


def generations(name):
    log = os.path.join(work, name, 'console.log')
    return [boots_in(log if k < 0 else '%s.%d' % (log, k))
            for k in (-1, 0, 1, 2)]


def case(description):
    def wrap(fn):
        cases.append((description, fn))
        return fn
    return wrap


@case('nova-style restarts, a serial port of QEMU\'s own in '
      '<qemu:commandline>: PATH, PATH.0, PATH.1 hold the last three boots')
def own_serial():
    nova_restarts('own-a', recipe('libvirt-own-serial'))
    gens = generations('own-a')
    assert gens == ['a3', 'a2', 'a1', None], gens
    return qemu_command_line('own-a')


@case('nova-style restarts, libvirt\'s pty serial port with a rotating '
      'logfile set with -set')
def pty_logfile():
    nova_restarts('pty-b', recipe('libvirt-pty-logfile'))
    gens = generations('pty-b')
    assert gens == ['b3', 'b2', 'b1', None], gens
    return qemu_command_line('pty-b')


@case('nova-style restarts, libvirt\'s file serial port moved to a path '
      'with -set')
def file_path():
    nova_restarts('file-c', recipe('libvirt-file-path'))
    gens = generations('file-c')
    assert gens == ['c3', 'c2', 'c1', None], gens
    return qemu_command_line('file-c')


@case('chardev-rotate through virsh qemu-monitor-command while the guest '
      'writes; CHARDEV_ROTATED through virsh qemu-monitor-event; no tick '
      'lost or doubled')
def live_rotate():
    name = 'live-d'
    log = os.path.join(log_dir(name), 'console.log')
    define(name, 'bootid=d1 mode=tick', recipe('libvirt-own-serial'))
    start(name)
    deadline = time.time() + BOOT_TIMEOUT
    while 'tick 5' not in (open(log, errors='replace').read()
                           if os.path.exists(log) else ''):
        assert time.time() < deadline, 'no ticks'
        time.sleep(0.3)
    watcher = subprocess.Popen(VIRSH + ['qemu-monitor-event',
                                        domain_name(name),
                                        '--event', 'CHARDEV_ROTATED',
                                        '--timeout', '60'],
                               stdout=subprocess.PIPE, text=True)
    time.sleep(1)
    reply = json.loads(virsh('qemu-monitor-command', domain_name(name),
                             json.dumps(
        {'execute': 'chardev-rotate', 'arguments': {'id': 'cons0'}})).stdout)
    assert 'return' in reply, reply
    event = watcher.communicate(timeout=60)[0]
    assert 'CHARDEV_ROTATED' in event and '"cons0"' in event, event
    deadline = time.time() + BOOT_TIMEOUT
    while 'tick 5' not in open(log, errors='replace').read():
        assert time.time() < deadline, 'no ticks after the rotation'
        time.sleep(0.3)
    virsh('destroy', domain_name(name))
    text = open(log + '.0', errors='replace').read() + \
        open(log, errors='replace').read()
    ticks = [int(t) for t in re.findall(r'console-log-guest: tick (\d+)',
                                        text)]
    assert ticks == list(range(len(ticks))), ticks
    return 'event: ' + event.strip().replace('\n', ' ')


@case('libvirt\'s own <serial type=\'file\'> with -set ...rotate=3 fails '
      'to start, saying what to do instead')
def fdset_refused():
    name = 'fdset-e'
    log_dir(name)
    define(name, 'bootid=e1 mode=poweroff', recipe('libvirt-fdset-refused'))
    result = start(name, check=False)
    assert result.returncode != 0
    message = result.stderr
    assert "rotate cannot be used with '/dev/fdset/" in message, message
    assert 'chardev.ID.path=PATH' in message, message
    return ' '.join(message.split())


def virtlogd_restarts(name, append):
    d = log_dir(name)
    fragment = '''<serial type='file'>
  <source path='%s/console.log' append='%s'/>
  <target port='0'/>
</serial>''' % (d, append)
    nova_restarts(name, fragment)
    return generations(name)


@case('libvirt\'s own <serial type=\'file\'> with append=\'on\': virtlogd '
      'keeps every boot in one file')
def virtlogd_append_on():
    gens = virtlogd_restarts('logd-f', 'on')
    assert gens == ['f1 f2 f3', None, None, None], gens
    return qemu_command_line('logd-f')


@case('libvirt\'s own <serial type=\'file\'> with append=\'off\' (nova\'s '
      'default for <log>): each start keeps only that boot')
def virtlogd_append_off():
    gens = virtlogd_restarts('logd-g', 'off')
    assert gens == ['g3', None, None, None], gens
    return qemu_command_line('logd-g')


def main():
    print('1..%d' % len(cases))
    if os.geteuid() != 0:
        for n, (description, _) in enumerate(cases, 1):
            print('ok %d - %s # SKIP libvirt\'s system instance needs root'
                  % (n, description))
        return 0
    for f in ('vmlinuz', 'initramfs.gz'):
        shutil.copy(os.path.join(guest_dir, f), work)
    try:
        start_daemons()
    except Exception as e:
        for n, (description, _) in enumerate(cases, 1):
            print('not ok %d - %s # %s' % (n, description, e))
        return 1
    failed = 0
    for n, (description, fn) in enumerate(cases, 1):
        t0 = time.time()
        try:
            detail = fn()
            print('ok %d - %s' % (n, description))
        except Exception as e:
            failed += 1
            detail = '%s: %s' % (type(e).__name__, e)
            print('not ok %d - %s' % (n, description))
        print('# %.1f s; %s' % (time.time() - t0, detail))
        sys.stdout.flush()
    return 1 if failed else 0


sys.exit(main())
