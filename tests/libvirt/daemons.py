"""virtlogd and libvirtd for the libvirt tests, which no systemd starts
on a CI machine: start one, wait until it answers, stop it by pid when
done, also when a test fails; make room on the standard sockets for a
daemon of the test's own, and start the one that was there again after.

    import daemons
    d = daemons.Daemons()        # stops what it started at exit
    d.start('virtlogd', ['virtlogd'], pidfile)
    daemons.virsh('list')
"""

import atexit
import os
import signal
import socket
import subprocess
import sys
import time

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
