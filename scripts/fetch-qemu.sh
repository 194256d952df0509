#!/bin/bash
# Download trixie's qemu source package (cached outside the clone), unpack it
# with Debian's patches applied, and record the version used in
# $BUILD/qemu-version.  Refuses a version outside $WANT_SERIES.
set -euo pipefail
. "$(dirname "$0")/common.sh"

version=$(apt-cache showsrc qemu 2>/dev/null |
          awk '/^Version:/ { print $2 }' | sort -V | tail -1)
[ -n "$version" ] || die "no qemu source package visible to apt (deb-src" \
                         "entries missing? run scripts/install-deps.sh)"
upstream_full=${version#*:}    # no epoch: colons upset make
upstream=$upstream_full
upstream=${upstream%%+*}
series=$(echo "$upstream" | cut -d. -f1,2)
[ "$series" = "$WANT_SERIES" ] ||
    die "qemu source package is $version; our patches target" \
        "QEMU $WANT_SERIES.x only"

dl=$CACHE/source/$upstream_full
if [ ! -f "$dl/.complete" ]; then
    note "downloading qemu $version source into $dl"
    mkdir -p "$dl"
    (cd "$dl" && apt-get source --download-only -qq "qemu=$version" 2>&1 |
        grep -v "unsandboxed as root" >&2 || true)
    ls "$dl"/qemu_*.dsc >/dev/null 2>&1 || die "download of qemu $version failed"
    touch "$dl/.complete"
fi

pristine=$CACHE/pristine/$upstream_full
if [ ! -f "$pristine/.complete" ]; then
    note "unpacking qemu $version with Debian's patches"
    rm -rf "$pristine"
    mkdir -p "$(dirname "$pristine")"
    dsc=$(ls "$dl"/qemu_*.dsc)
    dpkg-source --no-check -x "$dsc" "$pristine" >/dev/null
    touch "$pristine/.complete"
fi

mkdir -p "$BUILD"
echo "$version" > "$BUILD/qemu-version"
echo "$pristine"
