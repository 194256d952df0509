#!/bin/bash
# Download libvirt $LIBVIRT_VERSION, Debian's source package of trixie
# (cached outside the clone), unpack it with Debian's patches applied, and
# assemble $LV_SRC, a git repository:
#   commit "base" = libvirt $LIBVIRT_VERSION with Debian's patches (tag: base)
#   one commit per entry of libvirt/patches/series (a DEP-3 quilt patch).
#
# The pool serves the version's two files (the upstream tarball and
# Debian's debian.tar.xz) but not its .dsc, so apt-get source cannot
# assemble it.  They are downloaded by apt's own downloader from the pool
# of the mirror the machine uses, each checked against the SHA256 that
# trixie's Sources index gives (apt checked the index's signature when it
# downloaded it: scripts/install-deps.sh adds the deb-src entry).
#
# An unchanged series is a no-op; the tree's own commits, not yet written
# back with scripts/libvirt-writeback.sh, are never thrown away silently.
set -euo pipefail
. "$(dirname "$0")/libvirt-common.sh"

orig=libvirt_$LIBVIRT_UPSTREAM.orig.tar.xz
debian=libvirt_$LIBVIRT_VERSION.debian.tar.xz

# "SHA256 SIZE NAME" lines of $LIBVIRT_VERSION in the signed Sources index
sources_sha256() {
    apt-cache showsrc libvirt 2>/dev/null | awk -v want="$LIBVIRT_VERSION" '
        /^Package:/ { version = "" }
        /^Version:/ { version = $2 }
        /^[^ ]/ { sums = ($1 == "Checksums-Sha256:") }
        sums && /^ / && version == want { print $1, $2, $3 }'
}

if [ ! -f "$LV_DL/.complete" ]; then
    sums=$(sources_sha256)
    [ -n "$sums" ] ||
        die "libvirt $LIBVIRT_VERSION is not in the $LIBVIRT_SUITE Sources" \
            "index apt has (deb-src for $LIBVIRT_SUITE missing? run" \
            "scripts/install-deps.sh)"
    mirror=$(bookworm_mirror)
    [ -n "$mirror" ] || die "no bookworm entry in the apt configuration"
    dir=$(apt-cache showsrc libvirt 2>/dev/null |
          awk -v want="$LIBVIRT_VERSION" '
        /^Version:/ { version = $2 }
        /^Directory:/ && version == want { print $2; exit }')
    note "downloading libvirt $LIBVIRT_VERSION source into $LV_DL"
    rm -rf "$LV_DL"
    mkdir -p "$LV_DL"
    for f in "$orig" "$debian"; do
        sha=$(echo "$sums" | awk -v f="$f" '$3 == f { print $1 }')
        [ -n "$sha" ] || die "the Sources index lists no $f"
        # apt-helper refuses a file whose SHA256 differs
        (cd "$LV_DL" && /usr/lib/apt/apt-helper -qq download-file \
            "$mirror/$dir/$f" "$f" "SHA256:$sha" 2>&1 |
            grep -v "unsandboxed as root" >&2 || true)
        [ -f "$LV_DL/$f" ] && echo "$sha  $LV_DL/$f" | sha256sum -c --quiet ||
            die "download of $f failed"
    done
    touch "$LV_DL/.complete"
fi

# Unpack $1 (the upstream tree with debian/) into $2, without applying
unpack_libvirt() {
    rm -rf "$1"
    mkdir -p "$1"
    tar -xf "$LV_DL/$orig" -C "$1" --strip-components=1
    tar -xf "$LV_DL/$debian" -C "$1"
}

if [ ! -f "$LV_PRISTINE/.complete" ]; then
    note "unpacking libvirt $LIBVIRT_VERSION with Debian's patches"
    unpack_libvirt "$LV_PRISTINE"
    (cd "$LV_PRISTINE" && QUILT_PATCHES=debian/patches quilt push -a -q \
        > /dev/null) || die "Debian's patches do not apply"
    rm -rf "$LV_PRISTINE/.pc"
    touch "$LV_PRISTINE/.complete"
fi

git_lv() {
    git -C "$LV_SRC" -c user.name="qemu-console-log" \
        -c user.email="qemu-console-log@localhost" "$@"
}

if [ "$(cat "$LV_SRC/.git/assembled-base" 2>/dev/null)" != \
     "$LIBVIRT_VERSION" ]; then
    note "creating $LV_SRC from libvirt $LIBVIRT_VERSION"
    rm -rf "$LV_SRC"
    mkdir -p "$LV_SRC"
    cp -a "$LV_PRISTINE/." "$LV_SRC/"
    rm -f "$LV_SRC/.complete"
    git_lv init -q -b work
    echo /build/ >> "$LV_SRC/.git/info/exclude"
    git_lv add -A -f
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
[ "$old_hash" = "$(inputs_hash)" ] && [ -z "$dirty" ] &&
    [ "$old_head" = "$head" ] && exit 0
if [ "${FORCE:-}" != 1 ]; then
    [ -z "$dirty" ] ||
        die "$LV_SRC has uncommitted changes; commit them there and run" \
            "scripts/libvirt-writeback.sh, or rerun with FORCE=1 to" \
            "discard them"
    [ -z "$old_head" ] || [ "$old_head" = "$head" ] ||
        die "$LV_SRC has commits that are not written back; run" \
            "scripts/libvirt-writeback.sh, or rerun with FORCE=1 to" \
            "discard them"
fi
git_lv reset -q --hard
git_lv checkout -q -B work base

n=0
while read -r name; do
    case "$name" in ''|'#'*) continue ;; esac
    p=$LV_PATCHES/$name
    [ -f "$p" ] ||
        die "libvirt/patches/series names $name, which does not exist"
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
