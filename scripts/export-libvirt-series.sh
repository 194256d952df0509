#!/bin/bash
# Export the libvirt series as git format-patch output (cover letter + one
# patch per commit, Signed-off-by) into $BUILD/libvirt-series, and check
# it as a maintainer would:
#  - it applies with git am onto the base, giving the same tree;
#  - libvirt/patches applies with quilt onto Debian's unpacked source;
#  - every commit builds virtlogd and the unit tests and passes them.
# The report is $BUILD/libvirt-series/report.txt.
set -euo pipefail
. "$(dirname "$0")/libvirt-common.sh"

"$TOP/scripts/fetch-libvirt.sh"
out=$BUILD/libvirt-series
name=$(git -C "$TOP" config user.name) && email=$(git -C "$TOP" config user.email) ||
    die "set git's user.name and user.email: the series is signed with them"
rm -rf "$out"
git -C "$LV_SRC" format-patch -q --cover-letter --thread=shallow \
    --base=base --subject-prefix=PATCH -o "$out" base..work
# (a long From: is folded onto a second line: drop its continuation)
for p in "$out"/*.patch; do
    sed -i -e "/^From: /{s/^From: .*/From: $name <$email>/;n;/^ /d}" \
        -e "s/^Signed-off-by: .*/Signed-off-by: $name <$email>/" "$p"
done
/usr/bin/python3 - "$(ls "$out"/0000-*.patch)" "$TOP/libvirt/cover-letter.txt" <<'PY'
import sys
cover, text = sys.argv[1], open(sys.argv[2]).read()
subject, _, body = text.partition('\n\n')
s = open(cover).read()
s = s.replace('*** SUBJECT HERE ***', subject.strip())
s = s.replace('*** BLURB HERE ***', body.rstrip())
open(cover, 'w').write(s)
PY
report=$out/report.txt
: > "$report"
say() { echo "$*" | tee -a "$report"; }
patches=$(ls "$out"/*.patch | grep -v '/0000-')

i=0
for c in $(git -C "$LV_SRC" rev-list --reverse base..work); do
    i=$((i + 1))
    say "patch $i: $(git -C "$LV_SRC" diff --shortstat "$c~1" "$c" | sed 's/^ //'):" \
        "$(git -C "$LV_SRC" log -1 --format=%s "$c")"
done

# git am onto the base gives the same tree
check=$BUILD/libvirt-series-check
git -C "$LV_SRC" worktree remove --force "$check" 2>/dev/null || rm -rf "$check"
git -C "$LV_SRC" worktree prune
git -C "$LV_SRC" worktree add -q --detach "$check" base
# shellcheck disable=SC2086
git -C "$check" -c user.name=series-check -c user.email=series-check@localhost \
    am -q $patches || die "the series does not apply with git am"
git -C "$check" diff --quiet HEAD work -- ||
    die "git am of the series gives a tree that differs from $LV_SRC"
git -C "$LV_SRC" worktree remove --force "$check"
say "git am: the series applies onto libvirt $LIBVIRT_VERSION and gives the same tree"

# quilt onto Debian's unpacked source
qtree=$(mktemp -d)
cp -a "$LV_CACHE/pristine/$LIBVIRT_VERSION/." "$qtree/"
rm -rf "$qtree/.pc" "$qtree/.complete"
(cd "$qtree" && QUILT_PATCHES=$LV_PATCHES quilt push -a -q >/dev/null) ||
    die "libvirt/patches does not apply with quilt"
diff -r -q -x .pc -x .git -x build -x configure.log "$qtree" "$LV_SRC" ||
    die "quilt gives a tree that differs from $LV_SRC"
rm -rf "$qtree"
say "quilt: libvirt/patches applies onto Debian's source and gives the same tree"

# Every commit builds and passes the unit tests (bisectable); ninja
# rebuilds only what a commit changes.
status=0
i=0
for c in $(git -C "$LV_SRC" rev-list --reverse base..work); do
    i=$((i + 1))
    git -C "$LV_SRC" checkout -q --detach "$c"
    if "$TOP/scripts/build-libvirt.sh" src/virtlogd tests/virrotatingfiletest \
           src/test_virtlogd.aug > "$out/build-$i.log" 2>&1 &&
       PATH=/usr/bin:$PATH meson test -C "$LV_OBJ" --no-rebuild \
           virrotatingfiletest check-augeas-virtlogd > "$out/test-$i.log" 2>&1; then
        say "commit $i: builds; virrotatingfiletest and check-augeas-virtlogd pass"
    else
        say "commit $i: FAILED, see $out/build-$i.log and $out/test-$i.log"
        status=1
    fi
done
git -C "$LV_SRC" checkout -q work
"$TOP/scripts/build-libvirt.sh" > /dev/null
say "series in $out"
exit $status
