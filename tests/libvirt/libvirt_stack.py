"""What the libvirt tests share.

virtlogd and libvirtd, which no systemd starts on a CI machine: start
one, wait until it answers, stop it by pid when done, also when a test
fails; make room on the standard sockets for a daemon of the test's own,
and start the one that was there again after.  virsh; the test guest's
output; the TAP loop over the test cases.

    import libvirt_stack as stack
    daemons = stack.Daemons()    # stops what it started at exit
    daemons.start('virtlogd', ['virtlogd'], pidfile)
    stack.virsh('list')
"""

import atexit
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid

VIRSH = ['virsh', '-q', '-c', 'qemu:///system']
VIRTLOGD_SOCK = '/run/libvirt/virtlogd-sock'


def virsh(*args, check=True):
    result = subprocess.run(VIRSH + list(args), text=True,
                            capture_output=True)
    if check and result.returncode:
        raise RuntimeError('virsh %s: %s' % (' '.join(args),
                                             ' '.join(result.stderr.split())))
    return result


def answers(name):
    """Whether daemon @name ('virtlogd' or 'libvirtd') takes connections
    on its standard socket"""
    if name == 'libvirtd':
        return virsh('list', check=False).returncode == 0
    with socket.socket(socket.AF_UNIX) as s:
        try:
            s.connect(VIRTLOGD_SOCK)
            return True
        except OSError:
            return False


def wait_for(what, test, want=True):
    for _ in range(150):
        if test() == want:
            return
        time.sleep(0.2)
    raise RuntimeError('%s %s' % (what, 'does not answer' if want
                                  else 'still answers'))


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def stop(pid):
    """SIGTERM @pid, SIGKILL after 10 s; wait until it is gone."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(100):
        if not alive(pid):
            return
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    while alive(pid):
        time.sleep(0.1)


def pids_of(name):
    """Running processes whose executable is called @name"""
    pids = []
    for p in os.listdir('/proc'):
        if p.isdigit():
            try:
                exe = os.readlink('/proc/%s/exe' % p)
            except OSError:
                continue
            if os.path.basename(exe).split(' ')[0] == name:
                pids.append(int(p))
    return pids


class Daemons:
    """The daemons a test started, by pid, and those it stopped to make
    room; at exit (also on SIGTERM or SIGINT) it stops the former and
    starts the latter again."""

    def __init__(self):
        self.started = {}        # pid: name
        self.restore = []        # argv of daemons stopped to make room
        atexit.register(self.cleanup)
        signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
        signal.signal(signal.SIGINT, lambda *a: sys.exit(1))

    def start(self, name, argv, pidfile):
        """Start daemon @name with @argv, which writes @pidfile; wait
        until it answers.  Returns its pid."""
        os.makedirs('/run/libvirt', exist_ok=True)
        if os.path.exists(pidfile):
            os.unlink(pidfile)
        subprocess.run(argv + ['-d', '-p', pidfile], check=True)
        for _ in range(100):
            if os.path.exists(pidfile) and open(pidfile).read().strip():
                break
            time.sleep(0.1)
        else:
            raise RuntimeError('%s wrote no pid file' % name)
        pid = int(open(pidfile).read())
        self.started[pid] = name
        wait_for(name, lambda: answers(name))
        return pid

    def stop(self, pid):
        """Stop a daemon this test started; never signal its pid again"""
        name = self.started.pop(pid)
        stop(pid)
        wait_for(name, lambda: answers(name), False)

    def make_room(self, name):
        """Stop a daemon @name that answers and is not ours, remembering
        its command line to start it again at exit."""
        if not answers(name):
            return
        others = [p for p in pids_of(name) if p not in self.started]
        if len(others) != 1:
            raise RuntimeError('a %s answers, and %d processes of that name '
                               'are not ours' % (name, len(others)))
        argv = open('/proc/%d/cmdline' % others[0]).read().split('\0')[:-1]
        stop(others[0])
        self.restore.append(argv)
        wait_for('the previous ' + name, lambda: answers(name), False)

    def cleanup(self):
        for pid in reversed(list(self.started)):
            stop(pid)
        self.started.clear()
        for argv in self.restore:
            # (without -d it stays in the foreground: do not wait for it)
            subprocess.Popen(argv, start_new_session=True,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        self.restore.clear()


BOOT_TIMEOUT = 180
NOVA_MAX_CONSOLE_BYTES = 100 * 1024


def domain_xml(name, key, work, cmdline, emulator, devices=''):
    """The test guest as domain @name (its UUID made from @key), with the
    kernel and initramfs in @work, @devices before the memballoon"""
    return """<domain type='qemu'>
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
    %s<memballoon model='none'/>
  </devices>
</domain>""" % (name, uuid.uuid5(uuid.NAMESPACE_URL, key), work, work,
                cmdline, emulator, devices)


def nova_read(log):
    """nova's console reader (nova/virt/libvirt/driver.py,
    _get_console_output_file): console.log, then as older output
    console.log.0, console.log.1 ... up to 100 KiB, older files in front;
    a missing console.log is an error (FileNotFoundError)"""
    out = b''
    path, i = log, 0
    if not os.path.exists(path):
        raise FileNotFoundError(path)
    while len(out) < NOVA_MAX_CONSOLE_BYTES and os.path.exists(path):
        with open(path, 'rb') as fh:
            data = fh.read()
        out = data[-(NOVA_MAX_CONSOLE_BYTES - len(out)):] + out
        path, i = '%s.%d' % (log, i), i + 1
    return out


def remove_domains(domains):
    """Destroy and undefine @domains, remove their logs of libvirt"""
    for name in domains:
        virsh('destroy', name, check=False)
        virsh('undefine', name, check=False)
        log = '/var/log/libvirt/qemu/%s.log' % name
        if os.path.exists(log):
            os.unlink(log)


def wait_shut_off(domain, timeout=BOOT_TIMEOUT):
    deadline = time.time() + timeout
    while virsh('domstate', domain).stdout.strip() != 'shut off':
        if time.time() > deadline:
            raise RuntimeError('%s did not power off' % domain)
        time.sleep(0.3)


def ticks_in(path):
    """The numbers of the guest's "tick N" lines in @path"""
    try:
        text = open(path, errors='replace').read()
    except FileNotFoundError:
        return []
    return [int(t) for t in re.findall(r'console-log-guest: tick (\d+)',
                                       text)]


def wait_ticks(path, n=5, timeout=BOOT_TIMEOUT):
    deadline = time.time() + timeout
    while len(ticks_in(path)) < n:
        assert time.time() < deadline, 'no ticks in %s' % path
        time.sleep(0.3)


def run_cases(cases, guest_dir, work, domains, setup=None, before=None,
              skip=None, diagnostics=None):
    """Run @cases, (description, function returning a detail) pairs, as
    TAP, with the test guest copied into @work; only as root.  @setup()
    runs first (an exception fails every case), @before(function) before
    each case, @skip(description) may give a reason to skip one.  A case
    that fails shows the last lines of the logs of the domains it added
    to @domains, and @diagnostics()."""
    print('1..%d' % len(cases))
    if os.geteuid() != 0:
        for n, (description, _) in enumerate(cases, 1):
            print('ok %d - %s # SKIP libvirt\'s system instance needs root'
                  % (n, description))
        return 0
    for f in ('vmlinuz', 'initramfs.gz'):
        shutil.copy(os.path.join(guest_dir, f), work)
    if setup:
        try:
            setup()
        except Exception as e:
            for n, (description, _) in enumerate(cases, 1):
                print('not ok %d - %s # %s' % (n, description, e))
            return 1
    failed = 0
    for n, (description, fn) in enumerate(cases, 1):
        reason = skip(description) if skip else None
        if reason:
            print('ok %d - %s # SKIP %s' % (n, description, reason))
            continue
        t0 = time.time()
        earlier = len(domains)
        try:
            if before:
                before(fn)
            detail = fn()
            print('ok %d - %s' % (n, description))
        except Exception as e:
            failed += 1
            detail = '%s: %s' % (type(e).__name__, e)
            print('not ok %d - %s' % (n, description))
            # What QEMU said, before cleaning up removes the domain's log
            for name in domains[earlier:]:
                log = '/var/log/libvirt/qemu/%s.log' % name
                if os.path.exists(log):
                    for line in open(log, errors='replace').read(
                            ).splitlines()[-5:]:
                        print('# %s: %s' % (name, line))
            for line in diagnostics() if diagnostics else []:
                print('# %s' % line)
        print('# %.1f s; %s' % (time.time() - t0, detail))
        sys.stdout.flush()
    return 1 if failed else 0
