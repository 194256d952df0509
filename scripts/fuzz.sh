#!/bin/bash
# Fuzz the rotating chardev output files with libFuzzer (clang, with
# AddressSanitizer and UndefinedBehaviorSanitizer) for SECONDS (default
# 600), starting from and adding to the corpus in
# tests/fuzz/rotating-file-corpus.
#   fuzz.sh [SECONDS] [--tap FILE]   FILE gets a one-case TAP result
# With --tap (a short run in the tests) new inputs go to $BUILD/fuzz/new
# instead of the corpus in the repository.
#
# The fuzz target is tests/unit/fuzz-rotating-file.c, which meson builds
# with gcc as a replay test.  Here the series' chardev files and the
# target are compiled again with clang, with the flags meson gives gcc
# (compile_commands.json, less what clang does not know), and linked as
# meson links the replay test (its link command, with the same
# -Wl,--wrap options), the rest of QEMU (main loop, thread pool, QOM,
# the other chardevs) coming from the gcc build, uninstrumented.
# TREE=DIR fuzzes another tree with its build directory (default: the
# assembled tree).  FUZZ_KNOWN_BUGS=1 (see the target) tolerates what the
# series' known bugs do, to look for others.
set -euo pipefail
. "$(dirname "$0")/common.sh"

seconds=${1:-600}
tap=
[ "${2:-}" = --tap ] && tap=$3
src=${TREE:-$SRC}
obj=$src/build
out=$BUILD/fuzz
mkdir -p "$out/obj"
corpus=$TOP/tests/fuzz/rotating-file-corpus
target=tests/unit/fuzz-rotating-file
# Compiled with clang and instrumented: the target and what the series
# changed in the chardev layer
instrumented="tests/unit/fuzz-rotating-file.c chardev/rotating-file.c
              chardev/char.c chardev/char-file.c chardev/char-fe.c"

if [ -n "$tap" ]; then
    # A failed build is a failed test
    trap 'st=$?; [ $st -eq 0 ] || [ -s "$tap" ] || printf "1..1\nnot ok 1 - libFuzzer build failed\n" > "$tap"' EXIT
fi
command -v clang >/dev/null || die "clang missing (scripts/install-deps.sh)"
"$TOP/scripts/build.sh" --tree "$src" "$target" >/dev/null

# The compile command meson gives gcc for $1, as a list of arguments
gcc_command() {
    python3 - "$obj/compile_commands.json" "$1" <<'EOF'
import json, shlex, sys
db, name = sys.argv[1], sys.argv[2]
for e in json.load(open(db)):
    if e["file"].endswith("/" + name):
        print("\n".join(shlex.split(e["command"])))
        break
else:
    sys.exit("no compile command for " + name)
EOF
}

# Whether clang takes the option $1 (asked once per option)
declare -A clang_takes
takes() {
    if [ -z "${clang_takes[$1]:-}" ]; then
        if clang -Werror=unused-command-line-argument -Werror=unknown-warning-option \
            "$1" -c -x c /dev/null -o /dev/null 2>/dev/null; then
            clang_takes[$1]=yes
        else
            clang_takes[$1]=no
        fi
    fi
    [ "${clang_takes[$1]}" = yes ]
}

sanitize=(-fsanitize=address,undefined -fno-sanitize-recover=undefined)
objects=()
rebuild=
for file in $instrumented; do
    o=$out/obj/$(basename "$file" .c).o
    objects+=("$o")
    if [ -f "$o" ] && [ -z "$(find "$src/$file" "$obj/$target" -newer "$o")" ]; then
        continue
    fi
    rebuild=1
    args=()
    skip=
    first=1
    while IFS= read -r a; do
        if [ -n "$skip" ]; then skip=; continue; fi
        if [ -n "$first" ]; then
            # "ccache gcc" or "gcc": drop up to the compiler
            case "$a" in *gcc|*cc) first= ;; esac
            continue
        fi
        case "$a" in
        -MD) ;;
        -MQ|-MF|-o) skip=1 ;;
        -c) skip=1 ;;
        -O*) ;;
        -Werror) ;;
        -W*|-f*|-m*) if takes "$a"; then args+=("$a"); fi ;;
        *) args+=("$a") ;;
        esac
    done < <(gcc_command "$file")
    note "compiling $file with clang"
    (cd "$obj" && clang "${args[@]}" -g -O1 -DFUZZING "${sanitize[@]}" \
        -fsanitize=fuzzer-no-link -Wno-unknown-warning-option \
        -c "$src/$file" -o "$o")
done

bin=$out/fuzz-rotating-file
if [ -n "$rebuild" ] || [ ! -x "$bin" ] || [ -n "$(find "$obj/$target" -newer "$bin")" ]; then
    note "linking $bin"
    # meson's link command of the replay test, with the clang objects
    link=$(ninja -C "$obj" -t commands "$target" | tail -1)
    largs=()
    skip=
    for a in $link; do
        if [ -n "$skip" ]; then skip=; continue; fi
        case "$a" in
        gcc|*/gcc|ccache) ;;
        -o) skip=1 ;;
        *.o)
            replaced=
            for file in $instrumented; do
                case "$a" in
                *"$(echo "${file%.c}" | tr / _).c.o"|*"/$(basename "$file").o")
                    replaced=1 ;;
                esac
            done
            [ -n "$replaced" ] || largs+=("$a") ;;
        *) largs+=("$a") ;;
        esac
    done
    (cd "$obj" && clang "${sanitize[@]}" -fsanitize=fuzzer "${objects[@]}" \
        "${largs[@]}" -o "$bin")
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
# QEMU's objects (QOM types, main loop, thread pool) live for the whole
# process: leaks are not looked for
# A livelock would not end by itself: libFuzzer's -timeout needs the
# input to return; the outer timeout ends the run as a failure.
(cd "$out" && ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
    timeout --kill-after=10 $((seconds + 120)) \
    "$bin" -max_total_time="$seconds" -print_final_stats=1 \
    -detect_leaks=0 -timeout=60 -max_len=514 -rss_limit_mb=4096 \
    "${dirs[@]}") > "$log" 2>&1 || status=$?
execs=$(awk '/stat::number_of_executed_units/ { print $2 }' "$log")
grep -E '^(#[0-9]+.*DONE|==.*ERROR|SUMMARY|fuzz-rotating-file:)' "$log" | tail -3 || true
note "${execs:-no} executions, corpus $(ls "$corpus" | wc -l) inputs, exit $status"
if [ -n "$tap" ]; then
    if [ $status -eq 0 ]; then
        printf '1..1\nok 1 - libFuzzer %s s, %s executions\n' "$seconds" "$execs" > "$tap"
    else
        printf '1..1\nnot ok 1 - libFuzzer found a failure, see %s\n' "$log" > "$tap"
    fi
fi
exit $status
