#!/bin/bash
# Benchmarks: the micro benchmark of tests/bench (latency of the write path,
# back-pressure, CPU of time stamps), in-process rotation against pipe
# rotators, and a Linux guest flooding its console, with our rotation and
# with the baseline build.  Writes $BUILD/bench/results.md and results.png.
#   bench.sh [--tree DIR] [--micro]
# --tree DIR: measure the QEMU tree DIR (a worktree of $SRC) as it is,
# without assembling $SRC, results in DIR/build/bench; --micro: only the
# micro benchmark.  BENCH_QUICK=1 cuts the sizes down for a quick look.
set -euo pipefail
. "$(dirname "$0")/common.sh"

tree= micro_only=
while [ $# -gt 0 ]; do
    case "$1" in
    --tree) tree=$(cd "$2" && pwd); shift 2 ;;
    --micro) micro_only=1; shift ;;
    *) die "usage: bench.sh [--tree DIR] [--micro]" ;;
    esac
done

# Builds, and the micro benchmark, hold this lock: on a shared machine,
# builds of other trees that take it too neither overlap ours nor disturb
# the measurement.  Do not run this script itself under the lock.
locked() { flock "${BENCH_LOCK:-/tmp/qemu-build.lock}" "$@"; }

"$TOP/scripts/install-deps.sh"
if [ -n "$tree" ]; then
    locked "$TOP/scripts/build.sh" --tree "$tree" \
        tests/bench/chardev-rotate-bench
    [ -n "$micro_only" ] ||
        locked "$TOP/scripts/build.sh" --tree "$tree" qemu-system-x86_64
    obj=$tree/build
else
    "$TOP/scripts/assemble.sh"
    locked "$TOP/scripts/build.sh" tests/bench/chardev-rotate-bench
    [ -n "$micro_only" ] || locked "$TOP/scripts/build.sh" qemu-system-x86_64
    obj=$OBJ
fi
if [ -z "$micro_only" ]; then
    "$TOP/scripts/assemble.sh" --baseline
    locked "$TOP/scripts/build.sh" --baseline qemu-system-x86_64
    "$TOP/scripts/guest-image.sh"
fi

out=${tree:+$obj/bench}
out=${out:-$BUILD/bench}
rm -rf "$out"
mkdir -p "$out/work"
bench=$obj/tests/bench/chardev-rotate-bench
if [ -n "${BENCH_QUICK:-}" ]; then
    reps=2 mb1=2 mb4k=64 serial_lines=5000 vport_lines=20000
else
    reps=5 mb1=16 mb4k=256 serial_lines=100000 vport_lines=100000
fi

# On a disk, not tmpfs: $BUILD.  A machine that is not quiet makes the
# latencies (and their ratios) noise: say so.
load=$(cut -d' ' -f1-3 /proc/loadavg)
note "load average before the benchmark: $load"
if awk -v l="${load%% *}" -v n="$(nproc)" 'BEGIN { exit !(l > n / 4) }'; then
    echo "WARNING: the machine is not quiet (load $load on $(nproc) CPUs):" \
         "latencies and CPU times will be off" >&2
    quiet_note="**The machine was not quiet: the numbers are off.**"
fi
note "micro benchmark (about 40 s)"
# 1 MiB files at 16 MiB/s (a virtio console's flood), with the CPU of
# time stamps; then 4 KiB files at 1 MiB/s, a rotation every 4 ms
(cd "$out/work" && TMPDIR=$out/work locked "$bench" 32 16 &&
 echo && TMPDIR=$out/work locked "$bench" 4 1 latency) > "$out/micro.md"
if [ -n "$micro_only" ]; then
    {
        echo "# Micro benchmark"
        echo
        echo "$(date -u +%Y-%m-%d), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(df -T "$out" | awk 'NR == 2 { print $2 }') file system, load average $load before the run."
        echo
        [ -z "${quiet_note:-}" ] || { echo "$quiet_note"; echo; }
        cat "$out/micro.md"
    } > "$out/results.md"
    rm -rf "$out/work"
    cat "$out/results.md"
    note "results in $out/results.md"
    exit 0
fi
note "in-process rotation against pipe rotators"
/usr/bin/python3 "$TOP/scripts/bench-rotators.py" "$bench" "$out/work" \
    "$reps" "$mb1" "$mb4k" "$out/rotators.md" "$out/rotators.dat"
note "a Linux guest flooding its console"
/usr/bin/python3 "$TOP/scripts/bench-e2e.py" "$obj/qemu-system-x86_64" \
    "$BASE_OBJ/qemu-system-x86_64" "$BUILD/guest" "$out/work" \
    "$serial_lines" "$vport_lines" "$out/e2e.md"

gnuplot <<GNUPLOT
set terminal png size 900,500
set output "$out/results.png"
set title "CPU per MB written, rotating to 1 MiB files (lower is better)"
set style data histograms
set style histogram clustered
set style fill solid border -1
set logscale y
set ylabel "CPU ms per MB (log scale)"
set key top left
set xtics rotate by -15
plot "$out/rotators.dat" using 2:xtic(1) title "1-byte writes", \
     "" using 3 title "4 KiB writes"
GNUPLOT

{
    echo "# Benchmarks"
    echo
    echo "$(date -u +%Y-%m-%d), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(df -T "$out" | awk 'NR == 2 { print $2 }') file system, QEMU $(cat "$BUILD/qemu-version"), load average $load before the micro benchmark."
    echo
    [ -z "${quiet_note:-}" ] || { echo "$quiet_note"; echo; }
    cat "$out/micro.md"
    echo "## In-process rotation against pipe rotators"
    echo
    echo "The same stream, $reps repetitions interleaved, medians; CPU of every process involved."
    echo
    cat "$out/rotators.md"
    echo
    echo "## A Linux guest flooding its console (TCG)"
    echo
    echo "The guest's throughput while it writes numbered lines; QEMU's write system calls per MB."
    echo
    cat "$out/e2e.md"
} > "$out/results.md"
rm -rf "$out/work"
cat "$out/results.md"
note "results in $out/results.md and $out/results.png"
