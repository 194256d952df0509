#!/bin/bash
# Benchmarks: the micro benchmark of tests/bench, in-process rotation
# against pipe rotators, and a Linux guest flooding its console, with our
# rotation and with the baseline build.  Writes $BUILD/bench/results.md and
# results.png.  BENCH_QUICK=1 cuts the sizes down for a quick look.
set -euo pipefail
. "$(dirname "$0")/common.sh"

"$TOP/scripts/install-deps.sh"
"$TOP/scripts/assemble.sh"
"$TOP/scripts/assemble.sh" --baseline
"$TOP/scripts/build.sh" qemu-system-x86_64 tests/bench/chardev-rotate-bench
"$TOP/scripts/build.sh" --baseline qemu-system-x86_64
"$TOP/scripts/guest-image.sh"

out=$BUILD/bench
rm -rf "$out"
mkdir -p "$out/work"
bench=$OBJ/tests/bench/chardev-rotate-bench
if [ -n "${BENCH_QUICK:-}" ]; then
    reps=2 mb1=2 mb4k=64 serial_lines=5000 vport_lines=20000
else
    reps=5 mb1=16 mb4k=256 serial_lines=100000 vport_lines=100000
fi

note "micro benchmark"
(cd "$out/work" && TMPDIR=$out/work "$bench") > "$out/micro.md"
note "in-process rotation against pipe rotators"
/usr/bin/python3 "$TOP/scripts/bench-rotators.py" "$bench" "$out/work" \
    "$reps" "$mb1" "$mb4k" "$out/rotators.md" "$out/rotators.dat"
note "a Linux guest flooding its console"
/usr/bin/python3 "$TOP/scripts/bench-e2e.py" "$OBJ/qemu-system-x86_64" \
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
    echo "$(date -u +%Y-%m-%d), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(df -T "$out" | awk 'NR == 2 { print $2 }') file system, QEMU $(cat "$BUILD/qemu-version")."
    echo
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
