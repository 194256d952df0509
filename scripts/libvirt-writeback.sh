#!/bin/bash
# Write the commits base..HEAD of $LV_SRC (build/libvirt) back into
# libvirt/patches as a quilt series: one DEP-3 patch per commit.  Develop
# with plain git in build/libvirt (commit, rebase -i), then run this.
# Last-Update changes only for a patch whose content changed.
set -euo pipefail
. "$(dirname "$0")/libvirt-common.sh"

[ -d "$LV_SRC/.git" ] || die "no libvirt tree in $LV_SRC (run scripts/fetch-libvirt.sh)"
[ -z "$(git -C "$LV_SRC" status --porcelain --untracked-files=no)" ] ||
    die "$LV_SRC has uncommitted changes: commit them first"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
n=0
for c in $(git -C "$LV_SRC" rev-list --reverse base..HEAD); do
    n=$((n + 1))
    name=$(patch_file_name "$(git -C "$LV_SRC" log -1 --format=%s "$c")" "$n")
    echo "$name" >> "$out/series"
    {
        dep3_header "$LV_SRC" "$c"
        echo "Last-Update: LAST_UPDATE"
        echo "---"
        git -C "$LV_SRC" diff-tree --no-commit-id --stat=78 "$c"
        echo
        git -C "$LV_SRC" diff-tree -p --no-commit-id "$c"
    } > "$out/$name"
    old=$LV_PATCHES/$name
    date=$(date +%F)
    if [ -f "$old" ] &&
       diff -q <(grep -v '^Last-Update:' "$old") \
               <(grep -v '^Last-Update:' "$out/$name") >/dev/null; then
        date=$(sed -n 's/^Last-Update: //p' "$old")
    fi
    sed -i "s/^Last-Update: LAST_UPDATE$/Last-Update: $date/" "$out/$name"
done
touch "$out/series"
rm -rf "$LV_PATCHES"
mkdir -p "$LV_PATCHES"
cp "$out"/* "$LV_PATCHES/"
# Assemble again from what was written: the commits get their canonical
# form, the files stay as they are.
rm -f "$LV_SRC/.git/assembled-inputs"
FORCE=1 "$TOP/scripts/fetch-libvirt.sh"
note "wrote back $n commits to libvirt/patches"
