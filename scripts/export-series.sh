#!/bin/bash
# Export the patch set as an upstream-style series (cover letter + one
# patch per commit, git format-patch form, Signed-off-by) into
# $BDIR/series ($BUILD/series on 10.0, $BUILD/10.2/series with BASE=10.2),
# and check it as a maintainer would:
#  - it applies with git am onto the pristine base, giving the same tree;
#  - every commit builds (qemu-system-x86_64, test-char and our unit test)
#    and passes those two tests: the series is bisectable;
#  - QEMU's documentation, QMP reference included, builds with Sphinx with
#    warnings as errors at the last commit;
#  - checkpatch.pl is clean on each patch and on the series as one mbox.
# The report is series/report.txt there.  SERIES_QUICK=1 skips building
# every commit (the last one is still built and tested).
set -euo pipefail
. "$(dirname "$0")/common.sh"

out=$BDIR/series
version=$(cat "$BDIR/qemu-version")
tip=$(series_tip "$SRC")
n=$(git -C "$SRC" rev-list --count "base..$tip")
start=$(date +%s)
# From and Signed-off-by: whoever exports the series; the cover letter
# from scripts/cover-letter.txt
format_series "$SRC" "base..$tip" "$out" "$TOP/scripts/cover-letter.txt"
report=$out/report.txt
: > "$report"
say() { echo "$*" | tee -a "$report"; }

# What a reviewer reads: lines added outside tests/ and docs/, per patch
i=0 total=0
for c in $(git -C "$SRC" rev-list --reverse "base..$tip"); do
    i=$((i + 1))
    added=$(git -C "$SRC" diff --numstat "$c~1" "$c" |
            awk '$3 !~ /^tests\// && $3 !~ /^docs\// { a += $1 } END { print a + 0 }')
    total=$((total + added))
    say "patch $i: +$added lines of code, QAPI and option text:" \
        "$(git -C "$SRC" log -1 --format=%s "$c")"
done
say "the series adds $(git -C "$SRC" diff --numstat base "$tip" |
    awk '$3 !~ /^tests\// && $3 !~ /^docs\// { a += $1 } END { print a + 0 }') lines outside tests/ and docs/ (the patches: $total, counting lines a later patch changes again)"
say "largest new files: $(git -C "$SRC" diff --numstat --diff-filter=A base "$tip" |
    awk '$3 !~ /^tests\// { print $3 " " $1 }' | sort -k2 -rn | head -3 | paste -sd, -)"

patches=$(ls "$out"/*.patch | grep -v '/0000-')

# git am onto a pristine base, and the result must equal the tree.
check=$BDIR/series-check
git -C "$SRC" worktree remove --force "$check" 2>/dev/null || rm -rf "$check"
git -C "$SRC" worktree prune
git -C "$SRC" worktree add -q --detach "$check" base
# shellcheck disable=SC2086
git -C "$check" -c user.name=series-check -c user.email=series-check@localhost \
    am -q $patches ||
    die "the series does not apply with git am onto qemu $version"
git -C "$check" diff --quiet HEAD "$tip" -- ||
    die "git am of the series gives a tree that differs from $SRC"
git -C "$SRC" worktree remove --force "$check"
say "series of $n patches applies with git am onto qemu $version"

# Build and test every commit in a worktree of its own; ccache keeps the
# builds after the first cheap.
status=0
tree=$BDIR/series-build
if [ ! -d "$tree/.git" ] && [ ! -f "$tree/.git" ]; then
    rm -rf "$tree"
    git -C "$SRC" worktree prune
    git -C "$SRC" worktree add -q --detach "$tree" base
    # The +ds source has subprojects outside git: share them.
    for d in "$SRC"/subprojects/*/; do
        [ -e "$tree/subprojects/$(basename "$d")" ] ||
            cp -a "$d" "$tree/subprojects/"
    done
fi
commits=$(git -C "$SRC" rev-list --reverse "base..$tip")
[ -n "${SERIES_QUICK:-}" ] && commits=$tip
i=0
for c in $commits; do
    i=$((i + 1))
    title=$(git -C "$SRC" log -1 --format=%s "$c")
    git -C "$tree" checkout -q --detach "$c"
    t0=$(date +%s)
    targets="qemu-system-x86_64 tests/unit/test-char"
    [ -f "$tree/tests/unit/test-rotating-file.c" ] &&
        targets="$targets tests/unit/test-rotating-file"
    [ -f "$tree/tests/qtest/chardev-rotate-test.c" ] &&
        targets="$targets tests/qtest/chardev-rotate-test"
    # shellcheck disable=SC2086
    if ! "$TOP/scripts/build.sh" --tree "$tree" $targets > "$out/build-$i.log" 2>&1
    then
        say "commit $i ($title): BUILD FAILED, see $out/build-$i.log"
        status=1
        continue
    fi
    result=
    for t in $targets; do
        case $t in tests/unit/* | tests/qtest/*) ;; *) continue ;; esac
        if QTEST_QEMU_BINARY=$tree/build/qemu-system-x86_64 \
           "$tree/build/$t" > "$out/test-$i-$(basename "$t").log" 2>&1; then
            result="$result $(basename "$t"): $(grep -c '^ok' \
                "$out/test-$i-$(basename "$t").log") ok;"
        else
            result="$result $(basename "$t"): FAILED;"
            status=1
        fi
    done
    say "commit $i ($title): built in $(( $(date +%s) - t0 )) s;$result"
done

# The documentation, with warnings as errors, at the last commit.
docs=$tree/build-docs
if [ ! -f "$docs/build.ninja" ]; then
    mkdir -p "$docs"
    (cd "$docs" && ../configure --python=/usr/bin/python3 --enable-docs \
        --enable-werror --target-list=x86_64-softmmu \
        --without-default-features --disable-download \
        --disable-install-blobs --cc="ccache gcc" > configure.log 2>&1) ||
        die "configuring the documentation build failed ($docs/configure.log)"
fi
if ninja -C "$docs" docs/docs.stamp > "$out/docs.log" 2>&1; then
    say "documentation: built with Sphinx, warnings as errors ($docs/docs/manual)"
else
    say "documentation: FAILED, see $out/docs.log"
    status=1
fi

# checkpatch: each patch, then the series as one mbox.
checkpatch() {
    (cd "$SRC" && ./scripts/checkpatch.pl -q "$@") 2>&1 || true
}
for p in $patches; do
    log=$(checkpatch "$p")
    if [ -n "$log" ]; then
        say "checkpatch $(basename "$p"):"
        echo "$log" | tee -a "$report"
    fi
done
# shellcheck disable=SC2086
cat $patches > "$out/series.mbox"
whole=$(checkpatch "$out/series.mbox")
errors=$(echo "$patches" | while read -r p; do checkpatch "$p"; done |
         grep -c '^ERROR' || true)
warnings=$(echo "$patches" | while read -r p; do checkpatch "$p"; done |
           grep -c '^WARNING' || true)
say "checkpatch per patch: $errors errors, $warnings warnings;" \
    "as one mbox: $(echo "$whole" | grep -c '^ERROR' || true) errors," \
    "$(echo "$whole" | grep -c '^WARNING' || true) warnings"
[ -n "$whole" ] && echo "$whole" | tee -a "$report"
[ "$errors" = 0 ] && [ "$warnings" = 0 ] && [ -z "$whole" ] || status=1
say "make series took $(( $(date +%s) - start )) s; series in $out"
exit $status
