#!/bin/bash
# Export the patch set as an upstream-style series (cover letter + one
# patch per commit, git format-patch form, Signed-off-by) into
# $BUILD/series, prove that it applies with git am onto the pristine base,
# and run QEMU's checkpatch.pl on it.
set -euo pipefail
. "$(dirname "$0")/common.sh"

out=$BUILD/series
version=$(cat "$BUILD/qemu-version")
n=$(git -C "$SRC" rev-list --count base..HEAD)
rm -rf "$out"
git -C "$SRC" format-patch -q --cover-letter --thread=shallow \
    --subject-prefix=PATCH -o "$out" base..HEAD

# Fill in the cover letter from scripts/cover-letter.txt: subject, blank
# line, body.
cover=$(ls "$out"/0000-*.patch)
/usr/bin/python3 - "$cover" "$TOP/scripts/cover-letter.txt" <<'PY'
import sys
cover, text = sys.argv[1], open(sys.argv[2]).read()
subject, _, body = text.partition('\n\n')
s = open(cover).read()
s = s.replace('*** SUBJECT HERE ***', subject.strip())
s = s.replace('*** BLURB HERE ***', body.rstrip())
open(cover, 'w').write(s)
PY

# git am onto a pristine base, and the result must equal the tree.
check=$BUILD/series-check
git -C "$SRC" worktree remove --force "$check" 2>/dev/null || rm -rf "$check"
git -C "$SRC" worktree prune
git -C "$SRC" worktree add -q --detach "$check" base
# shellcheck disable=SC2046
git -C "$check" -c user.name=series-check -c user.email=series-check@localhost \
    am -q $(ls "$out"/*.patch | grep -v '/0000-') ||
    die "the series does not apply with git am onto qemu $version"
git -C "$check" diff --quiet HEAD "$(git -C "$SRC" rev-parse HEAD)" -- ||
    die "git am of the series gives a tree that differs from $SRC"
git -C "$SRC" worktree remove --force "$check"
note "series of $n patches applies with git am onto qemu $version"

# checkpatch: errors fail, warnings are shown.
status=0
(cd "$SRC" && ./scripts/checkpatch.pl -q \
    $(ls "$out"/*.patch | grep -v '/0000-')) > "$out/checkpatch.log" 2>&1 ||
    status=$?
cat "$out/checkpatch.log"
[ $status -eq 0 ] || die "checkpatch.pl found errors (log: $out/checkpatch.log)"
note "checkpatch.pl: clean; series in $out"
