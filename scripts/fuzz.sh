#!/bin/bash
# Fuzz the rotating output file with libFuzzer (clang, with AddressSanitizer
# and UndefinedBehaviorSanitizer) for SECONDS (default 600), starting from
# and adding to the corpus in tests/unit/fuzz-rotating-file-corpus.
#   fuzz.sh [SECONDS] [--tap FILE]   FILE gets a one-case TAP result
# With --tap (a short run in the tests) new inputs go to $BUILD/fuzz/new
# instead of the corpus in the repository.
set -euo pipefail
. "$(dirname "$0")/common.sh"

seconds=${1:-600}
tap=
[ "${2:-}" = --tap ] && tap=$3
out=$BUILD/fuzz
mkdir -p "$out"
corpus=$TOP/tests/fuzz/rotating-file-corpus

# The corpus replay test of meson needs the same objects: build it.
"$TOP/scripts/build.sh" tests/unit/fuzz-rotating-file >/dev/null
bin=$out/fuzz-rotating-file
sources="$SRC/tests/unit/fuzz-rotating-file.c $SRC/chardev/rotating-file.c"
if [ ! -x "$bin" ] || [ -n "$(find $sources "$OBJ/libqemuutil.a" -newer "$bin")" ]; then
    note "building $bin"
    # shellcheck disable=SC2046,SC2086
    clang -g -O1 -std=gnu11 -DFUZZING -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 \
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
        -I"$OBJ" -I"$OBJ/qapi" -I"$OBJ/trace" -iquote "$SRC" \
        -iquote "$SRC/include" -iquote "$SRC/host/include/x86_64" \
        -iquote "$SRC/host/include/generic" -isystem "$SRC/linux-headers" \
        $(pkg-config --cflags glib-2.0) \
        $sources -o "$bin" \
        "$OBJ"/libqom.a.p/*.o "$OBJ"/libevent-loop-base.a.p/*.o \
        -Wl,--start-group "$OBJ/libqemuutil.a" \
        -Wl,--wrap=write -Wl,--wrap=writev -Wl,--wrap=open -Wl,--wrap=openat \
        -Wl,--wrap=renameat -Wl,--wrap=unlinkat \
        -lrt -lm -pthread $(pkg-config --libs glib-2.0) -Wl,--end-group \
        -Wl,-Map="$out/link.map"
fi

note "fuzzing for $seconds s"
log=$out/fuzz.log
status=0
dirs=("$corpus")
if [ -n "$tap" ]; then
    rm -rf "$out/new"
    mkdir -p "$out/new"
    dirs=("$out/new" "$corpus")
fi
(cd "$out" && "$bin" -max_total_time="$seconds" -print_final_stats=1 \
    "${dirs[@]}") > "$log" 2>&1 || status=$?
execs=$(awk '/stat::number_of_executed_units/ { print $2 }' "$log")
grep -E '^(#[0-9]+.*DONE|==.*ERROR|SUMMARY)' "$log" | tail -3 || true
note "$execs executions, corpus $(ls "$corpus" | wc -l) inputs, exit $status"
if [ -n "$tap" ]; then
    if [ $status -eq 0 ]; then
        printf '1..1\nok 1 - libFuzzer %s s, %s executions\n' "$seconds" "$execs" > "$tap"
    else
        printf '1..1\nnot ok 1 - libFuzzer found a failure, see %s\n' "$log" > "$tap"
    fi
fi
exit $status
