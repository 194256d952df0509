#!/usr/bin/python3
"""In-process rotation against pipe rotators, same work.

The same byte stream (console-like lines) is written in 1-byte and 4 KiB
writes, once through a file chardev with rotate=3,size=1M inside
the writing process, and once into a pipe read by rotatelogs, multilog and
s6-log configured to 1 MiB files and 3 old ones.  Variants run interleaved,
REPS times; the CPU time (user + system) of every process involved and the
wall time are reported as medians, with ratios to in-process rotation.

usage: bench-rotators.py BENCH-BINARY WORKDIR REPS MB-1-BYTE MB-4K OUT.md OUT.dat
"""
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time

bench, workdir, reps = sys.argv[1], sys.argv[2], int(sys.argv[3])
sizes = {1: int(sys.argv[4]) << 20, 4096: int(sys.argv[5]) << 20}
out_md, out_dat = sys.argv[6], sys.argv[7]
MB = 1 << 20


def feeder(size, total, target='-', path='x'):
    return [bench, 'feed', target, path, str(size), str(total)]


VARIANTS = {
    'in-process rotate=3,size=1M': lambda d, size, total: (
        feeder(size, total, 'file,id=f,path=%s,rotate=3,size=1M',
               os.path.join(d, 'console.log')), None),
    'rotatelogs -n 3 (1M)': lambda d, size, total: (
        feeder(size, total), ['rotatelogs', '-n', '3',
                              os.path.join(d, 'console.log'), '1M']),
    'multilog s1048576 n4': lambda d, size, total: (
        feeder(size, total), ['multilog', 's1048576', 'n4',
                              os.path.join(d, 'multilog')]),
    's6-log n3 s1048576': lambda d, size, total: (
        feeder(size, total), ['s6-log', '-b', 'n3', 's1048576',
                              os.path.join(d, 's6log')]),
}


def run(name, size, total):
    d = os.path.join(workdir, 'run')
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    writer, reader = VARIANTS[name](d, size, total)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    if reader is None:
        subprocess.run(writer, check=True)
    else:
        w = subprocess.Popen(writer, stdout=subprocess.PIPE)
        r = subprocess.Popen(reader, stdin=w.stdout)
        w.stdout.close()
        assert w.wait() == 0 and r.wait() == 0
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    kept = sum(os.path.getsize(os.path.join(root, f))
               for root, _, files in os.walk(d) for f in files)
    shutil.rmtree(d)
    return cpu, wall, kept


results = {}
for size, total in sizes.items():
    for rep in range(reps):
        for name in VARIANTS:
            if shutil.which(VARIANTS[name](workdir, 1, 1)[0][0]) is None:
                continue
            cpu, wall, kept = run(name, size, total)
            results.setdefault((size, name), []).append((cpu, wall, kept))
            print('%-40s %5d B writes: %.2f s CPU, %.2f s wall, %d bytes kept'
                  % (name, size, cpu, wall, kept), flush=True)

with open(out_md, 'w') as md, open(out_dat, 'w') as dat:
    md.write('| writer | write size | MB | CPU ms/MB | wall s | CPU vs '
             'in-process | kept bytes |\n|---|---:|---:|---:|---:|---:|---:|\n')
    dat.write('# variant cpu_ms_per_mb_1byte cpu_ms_per_mb_4k\n')
    per_mb = {}
    for size, total in sizes.items():
        ours = None
        for name in VARIANTS:
            runs = results.get((size, name))
            if not runs:
                continue
            cpu = statistics.median(r[0] for r in runs) * 1000 / (total / MB)
            wall = statistics.median(r[1] for r in runs)
            kept = statistics.median(r[2] for r in runs)
            ours = ours or cpu
            per_mb.setdefault(name, {})[size] = cpu
            md.write('| %s | %d | %d | %.2f | %.2f | %.2f | %d |\n'
                     % (name, size, total // MB, cpu, wall, cpu / ours, kept))
    for name, v in per_mb.items():
        dat.write('"%s" %.3f %.3f\n' % (name, v.get(1, 0), v.get(4096, 0)))
