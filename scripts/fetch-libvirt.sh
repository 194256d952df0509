#!/bin/bash
# Download Debian 12's libvirt source package (cached outside the clone),
# unpack it with Debian's patches applied, and assemble $LV_SRC, a git
# repository:
#   commit "base" = libvirt $LIBVIRT_VERSION with Debian's patches (tag: base)
#   one commit per entry of libvirt/patches/series (a DEP-3 quilt patch).
# An unchanged series is a no-op; the tree's own commits, not yet written
# back with scripts/libvirt-writeback.sh, are never thrown away silently.
set -euo pipefail
. "$(dirname "$0")/libvirt-common.sh"

dl=$LV_CACHE/source/$LIBVIRT_VERSION
if [ ! -f "$dl/.complete" ]; then
    versions=$(apt-cache showsrc libvirt 2>/dev/null | grep '^Version:' || true)
    echo "$versions" | grep -qxF "Version: $LIBVIRT_VERSION" ||
        die "libvirt $LIBVIRT_VERSION source is not visible to apt" \
            "(deb-src for bookworm missing? run scripts/install-deps.sh)"
    note "downloading libvirt $LIBVIRT_VERSION source into $dl"
    mkdir -p "$dl"
    (cd "$dl" && apt-get source --download-only -qq "libvirt=$LIBVIRT_VERSION" 2>&1 |
        grep -v "unsandboxed as root" >&2 || true)
    ls "$dl"/libvirt_*.dsc >/dev/null 2>&1 ||
        die "download of libvirt $LIBVIRT_VERSION failed"
    touch "$dl/.complete"
fi

pristine=$LV_CACHE/pristine/$LIBVIRT_VERSION
if [ ! -f "$pristine/.complete" ]; then
    note "unpacking libvirt $LIBVIRT_VERSION with Debian's patches"
    rm -rf "$pristine"
    mkdir -p "$(dirname "$pristine")"
    dpkg-source --no-check -x "$dl"/libvirt_*.dsc "$pristine" >/dev/null
    touch "$pristine/.complete"
fi

git_lv() {
    git -C "$LV_SRC" -c user.name="qemu-console-log" \
        -c user.email="qemu-console-log@localhost" "$@"
}

if [ "$(cat "$LV_SRC/.git/assembled-base" 2>/dev/null)" != "$LIBVIRT_VERSION" ]; then
    note "creating $LV_SRC from libvirt $LIBVIRT_VERSION"
    rm -rf "$LV_SRC"
    mkdir -p "$LV_SRC"
    cp -a "$pristine/." "$LV_SRC/"
    rm -rf "$LV_SRC/.complete" "$LV_SRC/.pc"
    git_lv init -q -b work
    echo /build/ >> "$LV_SRC/.git/info/exclude"
    git_lv add -A
    git_lv commit -q -m "Debian libvirt $LIBVIRT_VERSION (base)"
    git_lv tag base
    echo "$LIBVIRT_VERSION" > "$LV_SRC/.git/assembled-base"
fi

inputs_hash() {
    (echo "$LIBVIRT_VERSION"; cd "$LV_PATCHES" && cat series &&
     grep -v '^#' series | xargs -r sha1sum) | sha1sum | cut -d' ' -f1
}
stamp=$LV_SRC/.git/assembled-inputs
read -r old_hash old_head 2>/dev/null < "$stamp" || old_hash='' old_head=''
head=$(git_lv rev-parse HEAD)
dirty=$(git_lv status --porcelain)
[ "$old_hash" = "$(inputs_hash)" ] && [ -z "$dirty" ] && [ "$old_head" = "$head" ] &&
    exit 0
if [ "${FORCE:-}" != 1 ]; then
    [ -z "$dirty" ] ||
        die "$LV_SRC has uncommitted changes; commit them there and run" \
            "scripts/libvirt-writeback.sh, or rerun with FORCE=1 to discard them"
    [ -z "$old_head" ] || [ "$old_head" = "$head" ] ||
        die "$LV_SRC has commits that are not written back; run" \
            "scripts/libvirt-writeback.sh, or rerun with FORCE=1 to discard them"
fi
git_lv reset -q --hard
git_lv checkout -q -B work base

# DEP-3 header field of a patch, continuation lines included.
dep3_field() {
    awk -v field="$2" '
        /^---/ || /^diff / || /^Index:/ { exit }
        $0 ~ "^" field ":" { sub("^" field ": ?", ""); print; on = 1; next }
        on && /^ / { sub(/^ /, ""); if ($0 == ".") $0 = ""; print; next }
        { on = 0 }' "$1"
}

n=0
while read -r name; do
    case "$name" in ''|'#'*) continue ;; esac
    p=$LV_PATCHES/$name
    [ -f "$p" ] || die "libvirt/patches/series names $name, which does not exist"
    git_lv apply --index "$p" ||
        die "$name does not apply to libvirt $LIBVIRT_VERSION"
    author=$(dep3_field "$p" Author | head -1)
    subject=$(dep3_field "$p" Description | head -1)
    body=$(dep3_field "$p" Description | tail -n +2)
    git_lv commit -q --author="$author" \
        -m "$subject" ${body:+-m "$body"} -m "Signed-off-by: $author"
    n=$((n + 1))
done < "$LV_PATCHES/series"
echo "$(inputs_hash) $(git_lv rev-parse HEAD)" > "$stamp"
note "assembled $LV_SRC: libvirt $LIBVIRT_VERSION + $n patches"
