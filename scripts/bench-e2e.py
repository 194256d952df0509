#!/usr/bin/python3
"""End to end: a Linux guest floods numbered lines through the 16550 serial
port and through a virtio-serial port, into the patched QEMU with
rotate=3,size=1M and into the baseline QEMU's plain file backend.
Reports the guest's throughput, the ratio, and QEMU's write system calls
per MB (from /proc/PID/io).

usage: bench-e2e.py OURS BASELINE GUEST-DIR WORKDIR LINES-SERIAL LINES-VPORT OUT.md
"""
import os
import shutil
import subprocess
import sys
import time

ours, baseline, guest, workdir = sys.argv[1:5]
lines = {'ttyS1': int(sys.argv[5]), 'vport': int(sys.argv[6])}
out_md = sys.argv[7]
LINE = 65


def syscw(pid):
    with open('/proc/%d/io' % pid) as f:
        for line in f:
            if line.startswith('syscw:'):
                return int(line.split()[1])
    return 0


def run(qemu, port, options):
    d = os.path.join(workdir, 'e2e')
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    console = os.path.join(d, 'serial.log')
    log = os.path.join(d, 'flood.log')
    chardev = 'file,id=flood,path=%s%s' % (log, options)
    if port == 'vport':
        dev = ['-device', 'virtio-serial-pci', '-chardev', chardev,
               '-device', 'virtserialport,chardev=flood,name=flood']
    else:
        dev = ['-chardev', chardev, '-serial', 'chardev:flood']
    cmd = [qemu, '-M', 'pc', '-m', '256', '-nodefaults', '-display', 'none',
           '-accel', 'tcg', '-kernel', guest + '/vmlinuz',
           '-initrd', guest + '/initramfs.gz',
           '-append', 'console=ttyS0 panic=-1 bootid=b mode=flood port=%s '
           'lines=%d then=idle' % (port, lines[port]),
           '-chardev', 'file,id=serial0,path=' + console,
           '-serial', 'chardev:serial0'] + dev
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    start = calls0 = None
    while True:
        size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d)
                   if f.startswith('flood.log') and
                   os.path.exists(os.path.join(d, f)))
        if start is None and size > 0:
            start, calls0 = time.monotonic(), syscw(p.pid)
        if os.path.exists(console):
            with open(console, 'rb') as f:
                if b'flood done' in f.read():
                    end, calls = time.monotonic(), syscw(p.pid)
                    break
        time.sleep(0.02)
    p.kill()
    p.wait()
    mb = lines[port] * LINE / (1 << 20)
    return mb / (end - start), (calls - calls0) / mb


rows = []
for port in ('ttyS1', 'vport'):
    base = run(baseline, port, '')
    mine = run(ours, port, ',rotate=3,size=1M')
    rows.append((port, base, mine))
    print(port, base, mine, flush=True)

with open(out_md, 'w') as md:
    md.write('| guest port | lines | baseline MB/s | ours MB/s | ratio | '
             'baseline writes/MB | ours writes/MB |\n'
             '|---|---:|---:|---:|---:|---:|---:|\n')
    for port, base, mine in rows:
        md.write('| %s | %d | %.3f | %.3f | %.3f | %.0f | %.0f |\n'
                 % ('16550 serial' if port == 'ttyS1' else 'virtio-serial',
                    lines[port], base[0], mine[0], mine[0] / base[0],
                    base[1], mine[1]))
