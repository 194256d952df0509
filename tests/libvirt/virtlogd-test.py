#!/usr/bin/python3
"""virtlogd's rollover_on_truncate (libvirt/patches), with Debian's
libvirtd and a guest defined as nova defines it: a pty serial port with
<log file='.../console.log' append='off'/>, which libvirt asks virtlogd
to truncate at each start.

    virtlogd-test.py VIRTLOGD GUEST_DIR QEMU_BINARY...

VIRTLOGD is the virtlogd to test (the patched build; Debian's
/usr/sbin/virtlogd shows the loss the setting prevents).  Each
QEMU_BINARY is started five times with the setting on and five times
with it off; then the setting is turned on in the running virtlogd with
SIGUSR1 while a guest writes.  Prints TAP.

libvirtd talks to virtlogd on its standard socket, so a virtlogd that
answers there is stopped first and started again, with the same command
line, at the end.  The test starts its virtlogd (and libvirtd, unless
one answers) by hand, waits until each answers, and stops those it
started by pid, also when it fails; it undefines its domains and
removes every file it made.
"""

import atexit
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid

VIRSH = ['virsh', '-q', '-c', 'qemu:///system']
VIRTLOGD_SOCK = '/run/libvirt/virtlogd-sock'
VIRTLOGD_PID = '/run/virtlogd.pid'     # where Debian's virtlogd has it
BOOT_TIMEOUT = 180
STARTS = 5
MAX_BACKUPS = 3
NOVA_MAX_CONSOLE_BYTES = 100 * 1024

if len(sys.argv) < 4:
    sys.exit('usage: virtlogd-test.py VIRTLOGD GUEST_DIR QEMU_BINARY...')
virtlogd = os.path.abspath(sys.argv[1])
guest_dir = os.path.abspath(sys.argv[2])
qemus = [os.path.abspath(q) for q in sys.argv[3:]]
work = tempfile.mkdtemp(prefix='qemu-console-log-virtlogd-')
os.chmod(work, 0o755)
started = []            # pids of the daemons this test started
ours = {}               # the running virtlogd of this test: pid
restore = []            # argv of a virtlogd stopped to make room
domains = []
cases = []


def virsh(*args, check=True):
    result = subprocess.run(VIRSH + list(args), text=True,
                            capture_output=True)
    if check and result.returncode:
        raise RuntimeError('virsh %s: %s' % (' '.join(args),
                                             ' '.join(result.stderr.split())))
    return result


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
    os.kill(pid, signal.SIGKILL)
    while alive(pid):
        time.sleep(0.1)


def virtlogd_answers():
    with socket.socket(socket.AF_UNIX) as s:
        try:
            s.connect(VIRTLOGD_SOCK)
            return True
        except OSError:
            return False


def libvirtd_answers():
    return virsh('list', check=False).returncode == 0


def wait_for(what, test, want=True):
    for _ in range(150):
        if test() == want:
            return
        time.sleep(0.2)
    raise RuntimeError('%s %s' % (what, 'does not answer' if want
                                  else 'still answers'))


def daemon(argv, pidfile):
    """Start a daemon that writes @pidfile; return its pid."""
    subprocess.run(argv + ['-d', '-p', pidfile], check=True)
    for _ in range(100):
        if os.path.exists(pidfile) and open(pidfile).read().strip():
            pid = int(open(pidfile).read())
            started.append(pid)
            return pid
        time.sleep(0.1)
    raise RuntimeError('%s wrote no pid file' % argv[0])


def virtlogd_pids():
    """Running virtlogd processes, by their executable's name"""
    pids = []
    for p in os.listdir('/proc'):
        if p.isdigit():
            try:
                exe = os.readlink('/proc/%s/exe' % p)
            except OSError:
                continue
            if os.path.basename(exe).startswith('virtlogd'):
                pids.append(int(p))
    return pids


def make_room():
    """Stop a virtlogd that is not ours, remembering its command line."""
    if not virtlogd_answers():
        return
    others = [p for p in virtlogd_pids() if p not in started]
    if len(others) != 1:
        raise RuntimeError('a virtlogd answers on %s, and %d processes '
                           'look like it' % (VIRTLOGD_SOCK, len(others)))
    argv = open('/proc/%d/cmdline' % others[0]).read().split('\0')[:-1]
    stop(others[0])
    restore.append(argv)
    wait_for('the previous virtlogd', virtlogd_answers, False)


def start_virtlogd(setting):
    """Our virtlogd, alone on the standard socket, with
    rollover_on_truncate = @setting."""
    if ours.get('pid'):
        pid = ours.pop('pid')
        stop(pid)
        started.remove(pid)     # its pid may be reused: never signal it again
        wait_for('virtlogd', virtlogd_answers, False)
    make_room()
    conf = os.path.join(work, 'virtlogd-%d.conf' % setting)
    with open(conf, 'w') as f:
        f.write('log_outputs = "3:file:%s/virtlogd.log"\n'
                'max_backups = %d\n'
                'rollover_on_truncate = %d\n' % (work, MAX_BACKUPS, setting))
    # (the previous one, stopped, removed it)
    if os.path.exists(VIRTLOGD_PID):
        os.unlink(VIRTLOGD_PID)
    ours['pid'] = daemon([virtlogd, '-f', conf], VIRTLOGD_PID)
    ours['conf'] = conf
    wait_for('virtlogd', virtlogd_answers)
    return conf


def cleanup():
    for name in domains:
        virsh('destroy', name, check=False)
        virsh('undefine', name, check=False)
        log = '/var/log/libvirt/qemu/%s.log' % name
        if os.path.exists(log):
            os.unlink(log)
    for pid in reversed(started):
        stop(pid)
    for argv in restore:
        # (without -d it stays in the foreground: do not wait for it)
        subprocess.Popen(argv, start_new_session=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cache = '/var/cache/libvirt/qemu/capabilities'
    if started and os.path.isdir(cache):
        for f in os.listdir(cache):
            path = os.path.join(cache, f)
            with open(path, errors='replace') as fh:
                text = fh.read()
            if any(q in text for q in qemus):
                os.unlink(path)
    shutil.rmtree(work, ignore_errors=True)


atexit.register(cleanup)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
signal.signal(signal.SIGINT, lambda *a: sys.exit(1))


def domain_name(name):
    return 'qemu-console-log-virtlogd-' + name


def define(name, qemu, bootid, mode='poweroff'):
    """The test guest as nova defines an instance's console"""
    log = os.path.join(work, name, 'console.log')
    xml = '''<domain type='qemu'>
  <name>%s</name>
  <uuid>%s</uuid>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>%s/vmlinuz</kernel>
    <initrd>%s/initramfs.gz</initrd>
    <cmdline>console=ttyS0 panic=-1 bootid=%s mode=%s</cmdline>
  </os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <emulator>%s</emulator>
    <serial type='pty'>
      <log file='%s' append='off'/>
      <target port='0'/>
    </serial>
    <memballoon model='none'/>
  </devices>
</domain>''' % (domain_name(name), uuid.uuid5(uuid.NAMESPACE_URL, name),
                work, work, bootid, mode, qemu, log)
    path = os.path.join(work, name + '.xml')
    with open(path, 'w') as f:
        f.write(xml)
    if domain_name(name) not in domains:
        domains.append(domain_name(name))
    virsh('define', path)


def wait_shut_off(name):
    deadline = time.time() + BOOT_TIMEOUT
    while virsh('domstate', domain_name(name)).stdout.strip() != 'shut off':
        if time.time() > deadline:
            raise RuntimeError('%s did not power off' % name)
        time.sleep(0.3)


def qemu_command_line(name, qemu):
    """The serial port's part of the last command line libvirt gave
    QEMU, from the domain's log"""
    log = open('/var/log/libvirt/qemu/%s.log' % domain_name(name)).read()
    words = []
    for line in log[log.rfind(qemu + ' \\'):].splitlines()[1:]:
        words.append(line.rstrip(' \\'))
        if not line.endswith('\\'):
            break
    return ' '.join(w for w in words
                    if re.match(r'-(chardev|add-fd|device isa-serial)\b', w)
                    and 'charmonitor' not in w)


def boot_of(path):
    """The boot whose whole output @path holds (from the kernel's first
    line to the guest's last), or what is wrong with it"""
    try:
        text = open(path, errors='replace').read()
    except FileNotFoundError:
        return None
    boots = re.findall(r'console-log-guest: boot (\S+)', text)
    if len(boots) != 1:
        return 'boots %s' % ' '.join(boots) if boots else 'no boot'
    if 'Linux version' not in text.splitlines()[0]:
        return '%s without its start' % boots[0]
    if 'console-log-guest: powering off %s' % boots[0] not in text:
        return '%s without its end' % boots[0]
    return boots[0]


def listing(name):
    d = os.path.join(work, name)
    return ', '.join('%s %d B: %s' % (f, os.path.getsize(os.path.join(d, f)),
                                      boot_of(os.path.join(d, f)))
                     for f in sorted(os.listdir(d)))


def nova_console_output(name):
    """What nova's console reader returns: console.log, then as older
    output console.log.0, console.log.1 ..., up to 100 KiB"""
    log = os.path.join(work, name, 'console.log')
    out = b''
    path, i = log, 0
    while len(out) < NOVA_MAX_CONSOLE_BYTES and os.path.exists(path):
        with open(path, 'rb') as fh:
            data = fh.read()
        # chronological order: older files go in front
        out = data[-(NOVA_MAX_CONSOLE_BYTES - len(out)):] + out
        path, i = '%s.%d' % (log, i), i + 1
    return re.findall(r'console-log-guest: boot (\S+)',
                      out.decode(errors='replace'))


def starts(name, qemu):
    """STARTS starts of the guest; the boots in PATH, PATH.0, ...
    PATH.MAX_BACKUPS (one more than virtlogd keeps)"""
    os.makedirs(os.path.join(work, name), exist_ok=True)
    # nova creates the log, empty and readable by all, before the first start
    log = os.path.join(work, name, 'console.log')
    with open(log, 'w'):
        pass
    os.chmod(log, 0o644)
    for n in range(1, STARTS + 1):
        define(name, qemu, '%s%d' % (name, n))
        virsh('start', domain_name(name))
        wait_shut_off(name)
    log = os.path.join(work, name, 'console.log')
    return [boot_of(log)] + [boot_of('%s.%d' % (log, k))
                             for k in range(MAX_BACKUPS + 1)]


def case(description):
    def wrap(fn):
        cases.append((description, fn))
        return fn
    return wrap


def label(qemu):
    return 'stock QEMU' if 'baseline' in qemu or qemu.startswith('/usr/') \
        else 'patched QEMU'


def check_starts(name, qemu, want):
    gens = starts(name, qemu)
    line = qemu_command_line(name, qemu)
    assert re.search(r'-chardev pty,id=charserial0,logfile=/dev/fdset/\d+,'
                     r'logappend=on', line), line
    nova = nova_console_output(name)
    detail = '%s; %s; nova\'s console log shows boots %s' % (
        line, listing(name), ' '.join(nova))
    assert gens == want, '%s: %s' % (gens, detail)
    assert nova == [b for b in reversed(want) if b], detail
    # virtlogd's own file, not the one nova made readable by all
    mode = os.stat(os.path.join(work, name, 'console.log')).st_mode & 0o777
    assert mode == 0o600, 'console.log has mode %o; %s' % (mode, detail)
    return detail


for i, qemu in enumerate(qemus):
    tag = 'on%c' % (ord('a') + i)

    def on(qemu=qemu, tag=tag):
        # PATH holds start 5, PATH.0 ... PATH.2 starts 4, 3, 2; none more
        want = ['%s%d' % (tag, n)
                for n in range(STARTS, STARTS - MAX_BACKUPS - 1, -1)]
        return check_starts(tag, qemu, want + [None])
    on.setting = 1
    cases.append(('rollover_on_truncate = 1, max_backups = %d, %s: five '
                  'nova-style starts leave the last boot in console.log and '
                  'the three before it, each whole, in console.log.0 to .2'
                  % (MAX_BACKUPS, label(qemu)), on))

for i, qemu in enumerate(qemus):
    tag = 'off%c' % (ord('a') + i)

    def off(qemu=qemu, tag=tag):
        # today's behaviour: each start deletes console.log and its backups
        return check_starts(tag, qemu, ['%s%d' % (tag, STARTS)] +
                            [None] * (MAX_BACKUPS + 1))
    off.setting = 0
    cases.append(('rollover_on_truncate = 0 (the default), %s: five '
                  'nova-style starts leave only the last boot, no '
                  'console.log.N' % label(qemu), off))


def ticks_in(path):
    try:
        text = open(path, errors='replace').read()
    except FileNotFoundError:
        return []
    return [int(t) for t in re.findall(r'console-log-guest: tick (\d+)',
                                       text)]


def wait_ticks(path, n):
    deadline = time.time() + BOOT_TIMEOUT
    while len(ticks_in(path)) < n:
        assert time.time() < deadline, 'no ticks in %s' % path
        time.sleep(0.3)


@case('rollover_on_truncate = 1 set in the running virtlogd with SIGUSR1 '
      '(systemctl reload virtlogd) while a guest writes: its log goes on, '
      'no tick lost, and the next start keeps it as console.log.0')
def reload():
    name = 'reload'
    qemu = qemus[-1]
    log = os.path.join(work, name, 'console.log')
    os.makedirs(os.path.dirname(log), exist_ok=True)
    define(name, qemu, 'reload1', 'tick')
    virsh('start', domain_name(name))
    wait_ticks(log, 5)
    with open(ours['conf']) as f:
        conf = f.read()
    with open(ours['conf'], 'w') as f:
        f.write(conf.replace('rollover_on_truncate = 0',
                             'rollover_on_truncate = 1'))
    # virtlogd re-executes itself, reads its configuration again and
    # keeps the files it writes open (docs/console-logs.rst)
    subprocess.run('kill -USR1 "$(cat /run/virtlogd.pid)"', shell=True,
                   check=True)
    time.sleep(1)
    wait_for('virtlogd', virtlogd_answers)
    assert alive(ours['pid']), 'virtlogd is gone after SIGUSR1'
    wait_ticks(log, len(ticks_in(log)) + 5)
    virsh('destroy', domain_name(name))
    define(name, qemu, 'reload2')
    virsh('start', domain_name(name))
    wait_shut_off(name)
    ticks = ticks_in(log + '.0')
    assert ticks and ticks == list(range(len(ticks))), \
        'ticks in console.log.0: %s; %s' % (
            '%d-%d' % (ticks[0], ticks[-1]) if ticks else 'none',
            listing(name))
    gens = [boot_of(log)] + [boot_of('%s.%d' % (log, k)) for k in range(2)]
    assert gens == ['reload2', 'reload1 without its end', None], gens
    return 'ticks 0-%d kept; %s' % (ticks[-1], listing(name))


reload.setting = 0


@case('virtlogd refuses rollover_on_truncate = 2 and = "yes", naming the '
      'setting')
def bad_values():
    messages = []
    for value in ('2', '"yes"'):
        conf = os.path.join(work, 'bad.conf')
        with open(conf, 'w') as f:
            f.write('rollover_on_truncate = %s\n' % value)
        # (it fails while reading the configuration, before any socket)
        result = subprocess.run([virtlogd, '-f', conf, '-p',
                                 os.path.join(work, 'bad.pid')], text=True,
                                capture_output=True, timeout=10)
        message = ' '.join(result.stderr.split())
        assert result.returncode != 0 and \
            "'rollover_on_truncate'" in message, (result.returncode, message)
        messages.append(message[message.find('error'):])
    return ' | '.join(messages)


bad_values.setting = None


def main():
    print('1..%d' % len(cases))
    if os.geteuid() != 0:
        for n, (description, _) in enumerate(cases, 1):
            print('ok %d - %s # SKIP libvirt\'s system instance needs root'
                  % (n, description))
        return 0
    for f in ('vmlinuz', 'initramfs.gz'):
        shutil.copy(os.path.join(guest_dir, f), work)
    failed = 0
    setting = None
    for n, (description, fn) in enumerate(cases, 1):
        t0 = time.time()
        earlier = len(domains)
        try:
            if fn.setting is not None and fn.setting != setting:
                start_virtlogd(fn.setting)
                setting = fn.setting
                if not libvirtd_answers():
                    daemon(['libvirtd'], os.path.join(work, 'libvirtd.pid'))
                    wait_for('libvirtd', libvirtd_answers)
            detail = fn()
            print('ok %d - %s' % (n, description))
        except Exception as e:
            failed += 1
            detail = '%s: %s' % (type(e).__name__, e)
            print('not ok %d - %s' % (n, description))
            for name in domains[earlier:]:
                log = '/var/log/libvirt/qemu/%s.log' % name
                if os.path.exists(log):
                    for line in open(log, errors='replace').read(
                            ).splitlines()[-5:]:
                        print('# %s: %s' % (name, line))
            vlog = os.path.join(work, 'virtlogd.log')
            if os.path.exists(vlog):
                for line in open(vlog).read().splitlines()[-5:]:
                    print('# virtlogd: %s' % line)
        print('# %.1f s; %s' % (time.time() - t0, detail))
        sys.stdout.flush()
    return 1 if failed else 0


sys.exit(main())
