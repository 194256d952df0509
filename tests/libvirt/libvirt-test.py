#!/usr/bin/python3
"""Console logs of a guest run by libvirt, with the patched QEMU as the
domain's <emulator>: the recipes of docs/console-logs.rst, read from
that file, and what libvirt and virtlogd do by themselves.

    libvirt-test.py QEMU_BINARY GUEST_DIR DOCS_RST

Prints TAP.  Starts virtlogd and libvirtd unless they answer already (no
systemd runs them on a CI machine), waits until they answer, and stops
those it started, by pid (libvirt_stack.py); undefines every domain it defined
and removes every file it made, also when it fails.
"""

import atexit
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

import libvirt_stack as stack
from libvirt_stack import VIRSH, virsh, ticks_in, wait_ticks

QEMU_NS = 'http://libvirt.org/schemas/domain/qemu/1.0'
# The directories the recipes of the documentation use
DOCS_DIRS = ('/var/log/vm1', '/var/lib/nova/instances/INSTANCE')
# upstream QEMU's real_time_iso8601(): microseconds, unless exactly 0
STAMP = re.compile(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z ')
# What QEMU says when asked to rotate a file descriptor
FDSET_REFUSED = ("%s needs a regular file that QEMU opens by name, not "
                 "'/dev/fdset/%s'")

# libvirtd runs elsewhere: it needs absolute paths
qemu, guest_dir, docs = [os.path.abspath(a) for a in sys.argv[1:4]]
work = tempfile.mkdtemp(prefix='qemu-console-log-libvirt-')
os.chmod(work, 0o755)
started = stack.Daemons()       # the daemons this test started
domains = []            # names of the domains this test defined
cases = []


def cleanup():
    stack.remove_domains(domains)
    any_started = bool(started.started)
    started.cleanup()
    # libvirt's cache of our emulator's capabilities
    cache = '/var/cache/libvirt/qemu/capabilities'
    if any_started and os.path.isdir(cache):
        for f in os.listdir(cache):
            path = os.path.join(cache, f)
            with open(path, errors='replace') as fh:
                if qemu in fh.read():
                    os.unlink(path)
    shutil.rmtree(work, ignore_errors=True)


atexit.register(cleanup)


def start_daemons():
    """Start virtlogd, then libvirtd, unless they answer already (run by
    systemd); wait until each answers."""
    for daemon in ('virtlogd', 'libvirtd'):
        if not stack.answers(daemon):
            started.start(daemon, [daemon],
                          os.path.join(work, daemon + '.pid'))


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
    <qemu:commandline> of @fragment (paths of DOCS_DIRS moved to ours)."""
    for d in DOCS_DIRS:
        fragment = fragment.replace(d, os.path.join(work, name))
    # Never write where the host keeps its logs
    assert '/var/' not in fragment, fragment
    extra = ET.fromstring('<r xmlns:qemu="%s">%s</r>' % (QEMU_NS, fragment))
    dom = ET.fromstring(stack.domain_xml(domain_name(name), name, work,
                                         cmdline, qemu))
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
    stack.wait_shut_off(domain_name(name))


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


def nova_restarts(name, fragment, boots=3):
    """Starts of a guest that powers off, as nova does."""
    log_dir(name)
    for boot in range(1, boots + 1):
        define(name, 'bootid=%s%d mode=poweroff' % (name[-1], boot),
               fragment)
        start(name)
        wait_shut_off(name)


def generations(name):
    """The boots in PATH, PATH.0, ..., PATH.3"""
    log = os.path.join(work, name, 'console.log')
    return [boots_in(log if k < 0 else '%s.%d' % (log, k))
            for k in (-1, 0, 1, 2, 3)]


def case(description):
    def wrap(fn):
        cases.append((description, fn))
        return fn
    return wrap


def five_restarts(name, recipe_name):
    """Five nova-style restarts with a rotate=3 recipe: PATH ... PATH.2
    hold the last four boots.  Returns QEMU's command line."""
    nova_restarts(name, recipe(recipe_name), 5)
    gens = generations(name)
    boots = ['%s%d' % (name[-1], b) for b in (5, 4, 3, 2)]
    assert gens == boots + [None], gens
    return qemu_command_line(name)


def domain_log(name):
    return open('/var/log/libvirt/qemu/%s.log' % domain_name(name),
                errors='replace').read()


@case('five nova-style restarts, a serial port of QEMU\'s own in '
      '<qemu:commandline>, rotate=3: PATH, PATH.0 ... PATH.2 hold the last '
      'four boots')
def own_serial():
    name = 'own-a'
    line = five_restarts(name, 'libvirt-own-serial')
    assert '-chardev file,id=cons0,path=%s/own-a/console.log,rotate=3' % \
        work in line, line
    assert 'tainted: custom-argv' in domain_log(name)
    # Created by QEMU as libvirt's user, with libvirt's umask
    st = os.stat(os.path.join(work, name, 'console.log'))
    assert st.st_uid == pwd.getpwnam('libvirt-qemu').pw_uid and \
        st.st_mode & 0o7777 == 0o664, (st.st_uid, oct(st.st_mode))
    return line


@case('five nova-style restarts, libvirt\'s pty serial port with a '
      'rotating logfile set with -set')
def pty_logfile():
    line = five_restarts('pty-b', 'libvirt-pty-logfile')
    assert '-chardev pty,id=charserial0 ' in line + ' ', line
    return line


@case('five nova-style restarts, libvirt\'s file serial port moved to a '
      'path with -set; virtlogd\'s <source> file stays empty, owned by root')
def file_path():
    line = five_restarts('file-c', 'libvirt-file-path')
    assert re.search(r'-chardev file,id=charserial0,path=/dev/fdset/\d+,'
                     r'append=on', line) and \
        '-set chardev.charserial0.rotate=3' in line, line
    st = os.stat(os.path.join(work, 'file-c', 'unused.log'))
    assert st.st_uid == 0 and st.st_size == 0, (st.st_uid, st.st_size)
    return line


def monitor(name, command, hmp=False):
    if hmp:
        return virsh('qemu-monitor-command', domain_name(name), '--hmp',
                     command).stdout
    reply = json.loads(virsh('qemu-monitor-command', domain_name(name),
                             json.dumps(command)).stdout)
    assert 'return' in reply, reply
    return reply


@case('chardev-rotate through virsh qemu-monitor-command while the guest '
      'writes, then HMP chardev-rotate; query-chardev says nothing dropped; '
      'no tick lost or doubled across the three files')
def live_rotate():
    name = 'live-d'
    log = os.path.join(log_dir(name), 'console.log')
    define(name, 'bootid=d1 mode=tick', recipe('libvirt-own-serial'))
    start(name)
    wait_ticks(log)
    monitor(name, {'execute': 'chardev-rotate',
                   'arguments': {'id': 'cons0'}})
    wait_ticks(log)
    st = os.stat(log)
    assert st.st_uid == pwd.getpwnam('libvirt-qemu').pw_uid, st
    out = monitor(name, 'chardev-rotate cons0', hmp=True)
    assert not out.strip(), out
    deadline = time.time() + 30
    while not ticks_in(log + '.1') or len(ticks_in(log)) < 3:
        assert time.time() < deadline, 'HMP chardev-rotate did nothing'
        time.sleep(0.3)
    info = monitor(name, {'execute': 'query-chardev'})
    cons = [c for c in info['return'] if c['label'] == 'cons0']
    assert cons and cons[0]['dropped'] == 0, info
    virsh('destroy', domain_name(name))
    parts = [ticks_in(log + s) for s in ('.1', '.0', '')]
    assert all(parts) and sum(parts, []) == list(range(parts[-1][-1] + 1)), \
        parts
    assert 'tainted: custom-monitor' in domain_log(name)
    return 'ticks %s, dropped 0' % ', '.join('%d-%d' % (p[0], p[-1])
                                            for p in parts)


def refused(name, fragment, option, fdset_re):
    log_dir(name)
    define(name, 'bootid=%s1 mode=poweroff' % name[-1], fragment)
    result = start(name, check=False)
    assert result.returncode != 0
    message = ' '.join(result.stderr.split())
    line = qemu_command_line(name)
    fdset = re.search(fdset_re, line)
    assert fdset, line
    expected = FDSET_REFUSED % (option, fdset.group(1))
    assert expected in message, message
    return '%s => %s' % (line, message)


@case('libvirt\'s own <serial type=\'file\'> with -set ...rotate=3 fails '
      'to start: QEMU refuses to rotate the descriptor')
def fdset_refused():
    return refused('fdset-e', recipe('libvirt-fdset-refused'), 'rotate',
                   r'-chardev file,id=charserial0,path=/dev/fdset/(\d+),'
                   r'append=on')


@case('nova\'s pty with <log append=\'off\'> and -set ...logrotate=3 fails '
      'to start: QEMU refuses to rotate the descriptor of virtlogd\'s pipe')
def log_refused():
    fragment = recipe('nova-serial') + '''
<qemu:commandline>
  <qemu:arg value='-set'/>
  <qemu:arg value='chardev.charserial0.logrotate=3'/>
</qemu:commandline>'''
    return refused('nova-i', fragment, 'logrotate',
                   r'-chardev pty,id=charserial0,logfile=/dev/fdset/(\d+),'
                   r'logappend=on')


@case('logtimestamp on libvirt\'s pty with <log append=\'on\'> (a pipe to '
      'virtlogd), set with -set: three boots in one file, every line '
      'stamped, in order')
def stamps_on_fd():
    name = 'stamp-h'
    nova_restarts(name, recipe('libvirt-stamps'))
    line = qemu_command_line(name)
    assert re.search(r'-chardev pty,id=charserial0,logfile=/dev/fdset/\d+,'
                     r'logappend=on', line) and \
        '-set chardev.charserial0.logtimestamp=on' in line, line
    log = os.path.join(work, name, 'console.log')
    text = open(log, errors='replace').read()
    lines = text.split('\n')[:-1]
    assert lines and all(STAMP.match(l) for l in lines), \
        [l for l in lines if not STAMP.match(l)][:3]
    assert boots_in(log) == 'h1 h2 h3', boots_in(log)
    stamps = [l[:l.index('Z ')] for l in lines]
    stamps = [s if '.' in s else s + '.000000' for s in stamps]
    assert stamps == sorted(stamps), 'stamps out of order'
    # No stamp in the middle of a line
    assert all(not STAMP.search(l, 1) for l in lines), \
        [l for l in lines if STAMP.search(l, 1)][:3]
    shown = [l.rstrip('\r') for l in lines
             if 'Linux version' in l or 'console-log-guest: boot' in l]
    return '%s; %s' % (line, ' | '.join(shown[:2]))


def virtlogd_restarts(name, fragment):
    d = log_dir(name)
    # Backups of an earlier run, for virtlogd to keep or delete
    for k in (0, 1, 2):
        with open('%s/console.log.%d' % (d, k), 'w') as f:
            f.write('console-log-guest: boot old%d\n' % k)
    nova_restarts(name, fragment)
    return generations(name)


@case('libvirt\'s own <serial type=\'file\'> with append=\'on\': virtlogd '
      'keeps every boot in one file')
def virtlogd_append_on():
    gens = virtlogd_restarts('logd-f', '''<serial type='file'>
  <source path='%s/console.log' append='on'/>
  <target port='0'/>
</serial>''' % os.path.join(work, 'logd-f'))
    assert gens == ['f1 f2 f3', 'old0', 'old1', 'old2', None], gens
    return qemu_command_line('logd-f')


@case('nova\'s pty with <log append=\'off\'>: each start keeps only that '
      'boot, and virtlogd deletes the backups')
def virtlogd_append_off():
    gens = virtlogd_restarts('logd-g', recipe('nova-serial'))
    assert gens == ['g3', None, None, None, None], gens
    return qemu_command_line('logd-g')


sys.exit(stack.run_cases(cases, guest_dir, work, domains,
                         setup=start_daemons))
