#!/bin/bash
# Export the libvirt series as git format-patch output (cover letter + one
# patch per commit, Signed-off-by) into $BUILD/libvirt-series, and check
# it as a maintainer and a packager would:
#  - it applies with git am onto the base, giving the same tree;
#  - libvirt/patches drops into Debian's debian/patches: appended to
#    Debian's own series, quilt applies all of it onto the pristine
#    upstream source and gives the same tree;
#  - every commit builds what build-libvirt.sh builds and passes the unit
#    tests of scripts/test-libvirt-unit.sh.
# The report, with the lines each patch adds, is
# $BUILD/libvirt-series/report.txt.
set -euo pipefail
. "$(dirname "$0")/libvirt-common.sh"

"$TOP/scripts/fetch-libvirt.sh"
out=$BUILD/libvirt-series
format_series "$LV_SRC" base..work "$out" "$TOP/libvirt/cover-letter.txt"
report=$out/report.txt
: > "$report"
say() { echo "$*" | tee -a "$report"; }
patches=$(ls "$out"/*.patch | grep -v '/0000-')

i=0
for c in $(git -C "$LV_SRC" rev-list --reverse base..work); do
    i=$((i + 1))
    say "patch $i: $(git -C "$LV_SRC" diff --numstat "$c~1" "$c" |
        awk '{ a += $1; if ($3 !~ /^tests\// && $3 !~ /^docs\// &&
                            $3 != "NEWS.rst") c += $1 }
             END { printf "+%d lines, +%d outside tests and docs", a, c }'):" \
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
say "git am: the series applies onto libvirt $LIBVIRT_VERSION and gives" \
    "the same tree"

# Debian's source package with the series in debian/patches, applied by
# quilt from the pristine upstream tarball
qtree=$(mktemp -d)
trap 'rm -rf "$qtree"' EXIT
tar -xf "$LV_DL/libvirt_$LIBVIRT_UPSTREAM.orig.tar.xz" -C "$qtree" \
    --strip-components=1
tar -xf "$LV_DL/libvirt_$LIBVIRT_VERSION.debian.tar.xz" -C "$qtree"
mkdir -p "$qtree/debian/patches/qemu-console-log"
while read -r name; do
    case "$name" in ''|'#'*) continue ;; esac
    cp "$LV_PATCHES/$name" "$qtree/debian/patches/qemu-console-log/"
    echo "qemu-console-log/$name" >> "$qtree/debian/patches/series"
done < "$LV_PATCHES/series"
(cd "$qtree" && QUILT_PATCHES=debian/patches quilt push -a -q --fuzz=0 \
    > "$out/quilt.log" 2>&1) ||
    die "the series does not apply with quilt after Debian's ($out/quilt.log)"
diff -r -q --no-dereference -x .pc -x .git -x build -x debian \
    "$qtree" "$LV_SRC" ||
    die "quilt gives a tree that differs from $LV_SRC"
say "quilt: libvirt/patches, appended to debian/patches/series of" \
    "$LIBVIRT_VERSION, applies with Debian's patches and gives the same tree"

# Every commit builds and passes the unit tests (bisectable); ninja
# rebuilds only what a commit changes.
status=0
i=0
for c in $(git -C "$LV_SRC" rev-list --reverse base..work); do
    i=$((i + 1))
    git -C "$LV_SRC" checkout -q --detach "$c"
    if "$TOP/scripts/build-libvirt.sh" > "$out/build-$i.log" 2>&1 &&
       "$TOP/scripts/test-libvirt-unit.sh" > "$out/test-$i.tap" 2>&1; then
        say "commit $i: builds; $(grep -c '^ok' "$out/test-$i.tap") unit" \
            "test cases pass"
    else
        say "commit $i: FAILED, see $out/build-$i.log and $out/test-$i.tap"
        status=1
    fi
done
git -C "$LV_SRC" checkout -q work
"$TOP/scripts/build-libvirt.sh" > /dev/null
say "series in $out"
exit $status
