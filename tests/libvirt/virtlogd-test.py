#!/usr/bin/python3
"""The libvirt series (libvirt/patches) on the real stack: libvirtd and
virtlogd of the patched build, QEMU, and a guest whose console is defined
as OpenStack nova defines it: a pty serial port with
<log file='.../console.log' append='off'/>.

    virtlogd-test.py LIBVIRT_BUILD GUEST_DIR QEMU_BINARY [--virtlogd PATH]
                     [CASE...]

LIBVIRT_BUILD is libvirt's meson build directory (src/libvirtd, its QEMU
driver module and src/virtlogd run from there); GUEST_DIR holds vmlinuz
and initramfs.gz; QEMU_BINARY is the domain's <emulator>.  --virtlogd
runs another virtlogd (for a comparison with an earlier build); CASE
names run only those cases (the first word of their description).
Prints TAP.

Both daemons listen on the standard sockets, so one that answers there
is stopped first and started again, with the same command line, at the
end.  The test starts its own by hand, waits until each answers, and
stops them by pid, also when it fails; it undefines its domains, puts
back /etc/libvirt/qemu.conf if a case changed it, and removes every file
it made.
"""

import argparse
import atexit
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import libvirt_stack as stack
from libvirt_stack import virsh, ticks_in, wait_ticks

BOOT_TIMEOUT = stack.BOOT_TIMEOUT
STARTS = 5
READER_STARTS = 20
MAX_BACKUPS = 3
NOVA_MAX_CONSOLE_BYTES = stack.NOVA_MAX_CONSOLE_BYTES
QEMU_CONF = '/etc/libvirt/qemu.conf'
VIRTLOGD_PID = '/run/virtlogd.pid'     # where libvirt's virtlogd has it

args = argparse.ArgumentParser()
args.add_argument('build')
args.add_argument('guest_dir')
args.add_argument('qemu')
args.add_argument('--virtlogd')
args.add_argument('only', nargs='*')
args = args.parse_intermixed_args()
build = os.path.abspath(args.build)
guest_dir = os.path.abspath(args.guest_dir)
qemu = os.path.abspath(args.qemu)
virtlogd = os.path.abspath(args.virtlogd or
                           os.path.join(build, 'src', 'virtlogd'))
libvirtd = os.path.join(build, 'src', 'libvirtd')
work = tempfile.mkdtemp(prefix='qemu-console-log-virtlogd-')
os.chmod(work, 0o755)
started = stack.Daemons()
running = {}            # 'virtlogd', 'libvirtd': pid; 'conf': virtlogd.conf
domains = []
cases = []
qemu_conf = {}          # the saved /etc/libvirt/qemu.conf, while changed


def cleanup():
    stack.remove_domains(domains)
    started.cleanup()
    if 'text' in qemu_conf:
        with open(QEMU_CONF, 'w') as f:
            f.write(qemu_conf.pop('text'))
    cache = '/var/cache/libvirt/qemu/capabilities'
    if os.path.isdir(cache):
        for f in os.listdir(cache):
            path = os.path.join(cache, f)
            with open(path, errors='replace') as fh:
                text = fh.read()
            if qemu in text:
                os.unlink(path)
    shutil.rmtree(work, ignore_errors=True)


# (registered after Daemons(): runs first, while libvirtd still answers)
atexit.register(cleanup)


def write_virtlogd_conf(name, **settings):
    conf = os.path.join(work, 'virtlogd-%s.conf' % name)
    with open(conf, 'w') as f:
        f.write('log_outputs = "3:file:%s/virtlogd.log"\n' % work)
        for key, value in settings.items():
            f.write('%s = %s\n' % (key, value))
    return conf


def start_virtlogd(**settings):
    """Our virtlogd, alone on the standard socket, with @settings in its
    configuration (max_backups = MAX_BACKUPS unless given)."""
    settings.setdefault('max_backups', MAX_BACKUPS)
    if running.get('virtlogd'):
        started.stop(running.pop('virtlogd'))
    started.make_room('virtlogd')
    conf = write_virtlogd_conf('-'.join('%s%s' % kv for kv in
                                        sorted(settings.items())),
                               **settings)
    running['virtlogd'] = started.start('virtlogd', [virtlogd, '-f', conf],
                                        VIRTLOGD_PID)
    running['conf'] = conf


def start_libvirtd():
    """Our libvirtd (from the build tree: it loads the QEMU driver module
    built beside it), unless it runs already"""
    if running.get('libvirtd'):
        return
    started.make_room('libvirtd')
    running['libvirtd'] = started.start(
        'libvirtd', [libvirtd], os.path.join(work, 'libvirtd.pid'))


def restart_libvirtd():
    if running.get('libvirtd'):
        started.stop(running.pop('libvirtd'))
    start_libvirtd()


def domain_name(name):
    return 'qemu-console-log-virtlogd-' + name


def define(name, bootid, mode='poweroff', log=None, serial=None):
    """The test guest, its serial port as nova defines an instance's
    console (@log: the <log> element) or as @serial says"""
    path = os.path.join(work, name, 'console.log')
    if serial is None:
        serial = '''<serial type='pty'>
      %s
      <target port='0'/>
    </serial>''' % (log or "<log file='%s' append='off'/>") % path
    else:
        serial = serial % path
    xml = stack.domain_xml(domain_name(name), name, work,
                           'bootid=%s mode=%s' % (bootid, mode), qemu,
                           serial + '\n    ')
    xml_path = os.path.join(work, name + '.xml')
    with open(xml_path, 'w') as f:
        f.write(xml)
    if domain_name(name) not in domains:
        domains.append(domain_name(name))
    virsh('define', xml_path)


def wait_shut_off(name):
    stack.wait_shut_off(domain_name(name))


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


def generations(name, n=MAX_BACKUPS + 1):
    """The boots in PATH, PATH.0 ... PATH.(n-1)"""
    log = os.path.join(work, name, 'console.log')
    return [boot_of(log)] + [boot_of('%s.%d' % (log, k))
                             for k in range(n)]


def listing(name):
    d = os.path.join(work, name)
    return ', '.join('%s %d B: %s' % (f, os.path.getsize(os.path.join(d, f)),
                                      boot_of(os.path.join(d, f)))
                     for f in sorted(os.listdir(d)))


def nova_boots(name):
    out = stack.nova_read(os.path.join(work, name, 'console.log'))
    return re.findall(r'console-log-guest: boot (\S+)',
                      out.decode(errors='replace'))


def prepare(name):
    """The instance directory as nova makes it: console.log created
    empty and readable by all before the first start"""
    d = os.path.join(work, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    log = os.path.join(d, 'console.log')
    with open(log, 'w'):
        pass
    os.chmod(log, 0o644)
    return log


def starts(name, n=STARTS, **kw):
    prepare(name)
    for k in range(1, n + 1):
        define(name, '%s%d' % (name, k), **kw)
        virsh('start', domain_name(name))
        wait_shut_off(name)


def check_five(name, want_kept, **kw):
    """STARTS starts: console.log holds the last boot, and, if
    @want_kept, console.log.0 to .2 the three before it, each whole"""
    starts(name, **kw)
    gens = generations(name)
    last = ['%s%d' % (name, k) for k in range(STARTS, 0, -1)]
    want = last[:MAX_BACKUPS + 1] if want_kept else last[:1]
    want += [None] * (MAX_BACKUPS + 2 - len(want))
    nova = nova_boots(name)
    detail = '%s; nova\'s console log shows boots %s' % (listing(name),
                                                        ' '.join(nova))
    assert gens == want, '%s: %s' % (gens, detail)
    assert nova == [b for b in reversed(want) if b], detail
    # virtlogd's own file, not the one nova made readable by all
    mode = os.stat(os.path.join(work, name, 'console.log')).st_mode & 0o777
    assert mode == 0o600, 'console.log has mode %o; %s' % (mode, detail)
    return detail


def case(description, virtlogd_settings=None):
    """A test case; @virtlogd_settings: the virtlogd.conf it needs (None:
    whatever runs)"""
    def wrap(fn):
        fn.settings = virtlogd_settings
        cases.append((description, fn))
        return fn
    return wrap


@case('default: five nova-style starts with <log append=\'off\'/> keep '
      'only the last boot: the earlier ones are deleted, as without the '
      'series', {})
def default():
    return check_five('default', False)


@case('host: rollover_on_truncate = 1, nova\'s <log append=\'off\'/> '
      'unchanged: five starts leave the last boot in console.log and the '
      'three before it, each whole, in console.log.0 to .2, and nova\'s '
      'reader shows all four', {'rollover_on_truncate': 1})
def host():
    return check_five('host', True)


@case('explicit-off: rollover_on_truncate = 1, but the device says '
      '<log append=\'off\' rollover=\'off\'/>: five starts keep only the '
      'last boot, as the device asked', {'rollover_on_truncate': 1})
def explicit_off():
    return check_five('explicit-off', False,
                      log="<log file='%s' append='off' rollover='off'/>")


@case('attribute: <log append=\'off\' rollover=\'on\'/> with the default '
      'virtlogd.conf: five starts keep the three boots before the last '
      'one', {})
def attribute():
    return check_five('attribute', True,
                      log="<log file='%s' append='off' rollover='on'/>")


@case('source: <serial type=\'file\'> with <source rollover=\'on\'/>: '
      'five starts keep the three boots before the last one', {})
def source():
    return check_five('source', True, serial='''<serial type='file'>
      <source path='%s' rollover='on'/>
      <target port='0'/>
    </serial>''')


@case('restore: with rollover=\'on\', a virsh save and restore goes on in '
      'console.log (a backup file holds an earlier boot, not an earlier '
      'QEMU process); the next start rolls the whole boot over', {})
def restore():
    name = 'restore'
    log = prepare(name)
    define(name, 'restore1', 'tick',
           log="<log file='%s' append='off' rollover='on'/>")
    virsh('start', domain_name(name))
    wait_ticks(log, 5)
    saved = os.path.join(work, 'restore.save')
    virsh('save', domain_name(name), saved)
    virsh('restore', saved)
    os.unlink(saved)
    wait_ticks(log, len(ticks_in(log)) + 5)
    assert not os.path.exists(log + '.0'), listing(name)
    virsh('destroy', domain_name(name))
    define(name, 'restore2', log="<log file='%s' append='off' "
                                 "rollover='on'/>")
    virsh('start', domain_name(name))
    wait_shut_off(name)
    ticks = ticks_in(log + '.0')
    assert ticks and ticks == list(range(len(ticks))), \
        'ticks in console.log.0: %s; %s' % (ticks, listing(name))
    assert boot_of(log) == 'restore2', listing(name)
    return 'ticks 0-%d before and after the restore in console.log.0; %s' % (
        ticks[-1], listing(name))


@case('reload: rollover_on_truncate = 1 set in the running virtlogd with '
      'SIGUSR1 (systemctl reload virtlogd) while a guest writes: its log '
      'goes on, no tick lost, and the next start keeps it as console.log.0',
      {'rollover_on_truncate': 0})
def reload():
    name = 'reload'
    log = prepare(name)
    define(name, 'reload1', 'tick')
    virsh('start', domain_name(name))
    wait_ticks(log, 5)
    with open(running['conf']) as f:
        conf = f.read()
    with open(running['conf'], 'w') as f:
        f.write(conf.replace('rollover_on_truncate = 0',
                             'rollover_on_truncate = 1'))
    # virtlogd re-executes itself, reads its configuration again and
    # keeps the files it writes open
    os.kill(running['virtlogd'], signal.SIGUSR1)
    time.sleep(1)
    stack.wait_for('virtlogd', lambda: stack.answers('virtlogd'))
    assert stack.alive(running['virtlogd']), 'virtlogd is gone after SIGUSR1'
    wait_ticks(log, len(ticks_in(log)) + 5)
    virsh('destroy', domain_name(name))
    define(name, 'reload2')
    virsh('start', domain_name(name))
    wait_shut_off(name)
    ticks = ticks_in(log + '.0')
    assert ticks and ticks == list(range(len(ticks))), \
        'ticks in console.log.0: %s; %s' % (ticks, listing(name))
    assert generations(name, 2) == ['reload2', 'reload1 without its end',
                                    None], listing(name)
    return 'ticks 0-%d kept; %s' % (ticks[-1], listing(name))


@case('refused: virtlogd refuses rollover_on_truncate = 1 with '
      'max_backups = 0 and rollover_on_truncate = 2 at load time, naming '
      'the settings')
def refused():
    messages = []
    for settings, words in (
            ({'rollover_on_truncate': 1, 'max_backups': 0},
             ["'rollover_on_truncate'", "'max_backups'"]),
            ({'rollover_on_truncate': 2}, ["'rollover_on_truncate'"])):
        conf = write_virtlogd_conf('bad', **settings)
        # (it fails while reading the configuration, before any socket)
        result = subprocess.run([virtlogd, '-f', conf, '-p',
                                 os.path.join(work, 'bad.pid')], text=True,
                                capture_output=True, timeout=10)
        message = ' '.join(result.stderr.split())
        assert result.returncode != 0 and \
            all(w in message for w in words), (result.returncode, message)
        messages.append(message[message.find('error'):])
    return ' | '.join(messages)


@case('no-backups: with max_backups = 0, a domain with rollover=\'on\' '
      'does not start and the error names the file; its log is untouched',
      {'max_backups': 0})
def no_backups():
    name = 'no-backups'
    log = prepare(name)
    with open(log, 'w') as f:
        f.write('console-log-guest: boot earlier\n')
    define(name, 'nb1', log="<log file='%s' append='off' rollover='on'/>")
    result = virsh('start', domain_name(name), check=False)
    message = ' '.join(result.stderr.split())
    assert result.returncode != 0 and \
        'Cannot roll over %s without backup files' % log in message, message
    assert open(log).read() == 'console-log-guest: boot earlier\n'
    return message


@case('file-handler: with stdio_handler = "file" in qemu.conf, a domain '
      'with rollover=\'on\' does not start, and the error names the '
      'setting; without the attribute it starts', {})
def file_handler():
    name = 'file-handler'
    log = prepare(name)
    with open(QEMU_CONF) as f:
        qemu_conf['text'] = f.read()
    try:
        with open(QEMU_CONF, 'a') as f:
            f.write('\nstdio_handler = "file"\n')
        restart_libvirtd()
        define(name, 'fh1', log="<log file='%s' append='off' "
                                "rollover='on'/>")
        result = virsh('start', domain_name(name), check=False)
        message = ' '.join(result.stderr.split())
        assert result.returncode != 0 and \
            'needs stdio_handler = "logd" in qemu.conf' in message, message
        define(name, 'fh2')
        virsh('start', domain_name(name))
        wait_shut_off(name)
        assert boot_of(log) == 'fh2', listing(name)
    finally:
        with open(QEMU_CONF, 'w') as f:
            f.write(qemu_conf.pop('text'))
        restart_libvirtd()
    return message


READER = r'''
import os, re, sys
sys.path.insert(0, sys.argv[4])
from libvirt_stack import nova_read
log, out, stop = sys.argv[1:4]


def state():
    d = os.path.dirname(log)
    s = []
    for f in sorted(os.listdir(d)):
        try:
            s.append((f, os.lstat(os.path.join(d, f)).st_ino))
        except FileNotFoundError:
            pass
    return s


calls = []
while not os.path.exists(stop):
    before = state()
    data, error = b'', False
    try:
        data = nova_read(log)
    except FileNotFoundError:
        error = True
    # (a whole line: the guest's serial port writes byte by byte, and a
    # read may end in the middle of one)
    boots = re.findall(rb'console-log-guest: boot r(\d+) mode poweroff\r?\n',
                       data)
    calls.append((error, [int(b) for b in boots], len(data),
                  before != state()))
with open(out, 'w') as f:
    for error, boots, n, spanned in calls:
        f.write('%d %d %d %s\n' % (error, n, spanned,
                                   ','.join(map(str, boots))))
'''


@case('reader: nova\'s read loop (console.log, then .0, .1 ... by name, '
      'up to 100 KiB) runs throughout twenty restarts with '
      'rollover_on_truncate = 1: it never gets an error, never misses a '
      'finished boot, and sees a boot twice only in a call during which '
      'the files changed', {'rollover_on_truncate': 1})
def reader():
    name = 'reader'
    log = prepare(name)
    out = os.path.join(work, 'reader.out')
    stop = os.path.join(work, 'reader.stop')
    proc = subprocess.Popen([sys.executable, '-c', READER, log, out, stop,
                             os.path.dirname(os.path.abspath(__file__))])
    try:
        for k in range(1, READER_STARTS + 1):
            define(name, 'r%d' % k)
            virsh('start', domain_name(name))
            wait_shut_off(name)
    finally:
        open(stop, 'w').close()
        proc.wait(timeout=60)
    calls = errors = missed = twice = twice_quiet = 0
    bad = []
    for line in open(out):
        error, n, spanned, boots = line.split(' ')
        boots = [int(b) for b in boots.split(',') if b.strip()]
        calls += 1
        if int(error):
            errors += 1
            bad.append(line.strip())
            continue
        quiet_twice = len(set(boots)) != len(boots) and not int(spanned)
        if len(set(boots)) != len(boots):
            twice += 1
            twice_quiet += quiet_twice
        if boots:
            newest = max(boots)
            gap = set(range(min(boots), newest + 1)) - set(boots)
            # the backups alone hold MAX_BACKUPS boots, unless the
            # reader filled its 100 KiB first
            short = len(set(boots)) < min(newest, MAX_BACKUPS) and \
                int(n) < NOVA_MAX_CONSOLE_BYTES
            missed += bool(gap) or short
            if gap or short or quiet_twice:
                bad.append(line.strip())
    summary = ('%d restarts, %d reads: %d errors, %d with a finished boot '
               'missed, %d with a boot twice (%d of them while no file '
               'changed)' % (READER_STARTS, calls, errors, missed, twice,
                             twice_quiet))
    assert calls > READER_STARTS, summary
    assert generations(name)[:MAX_BACKUPS + 1] == [
        'r%d' % k for k in range(READER_STARTS, READER_STARTS - 4, -1)], \
        listing(name)
    assert errors == 0 and missed == 0 and twice_quiet == 0, \
        '%s; reads (error, bytes, files changed, boots): %s' % (
            summary, ' | '.join(bad[:5]))
    return summary


def before(fn):
    """The virtlogd.conf a case needs, and our libvirtd"""
    if fn.settings is None:
        return
    if fn.settings != running.get('settings'):
        start_virtlogd(**fn.settings)
        running['settings'] = fn.settings
    start_libvirtd()


def diagnostics():
    vlog = os.path.join(work, 'virtlogd.log')
    if not os.path.exists(vlog):
        return []
    return ['virtlogd: %s' % line
            for line in open(vlog).read().splitlines()[-5:]]


sys.exit(stack.run_cases(
    cases, guest_dir, work, domains, before=before, diagnostics=diagnostics,
    skip=lambda d: 'not asked for' if args.only and
    d.split(':')[0] not in args.only else None))
