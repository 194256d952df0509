#!/bin/bash
# Download Debian's qemu source package of the base $BASE (the version
# pinned in common.sh; cached outside the clone), unpack it with Debian's
# patches applied, and record the version used in $BDIR/qemu-version.
#
# apt fetches it through an apt configuration of its own in
# $CACHE/apt/SUITE: one deb-src entry for the suite that lists the pinned
# version (trixie, sid), on the mirror the machine already uses for
# bookworm.  apt checks the files against the suite's signed index, and the
# machine's own apt sources stay as they are (a deb-src entry for sid there
# would make "apt-get source qemu" pick 11.x for everyone).
#
# Exits with status 3 and one line on stderr when the package cannot be
# downloaded, so that make test can skip this base.
set -euo pipefail
. "$(dirname "$0")/common.sh"

version=$QEMU_PIN
upstream_full=${version#*:}    # no epoch: colons upset make
series=$(echo "$upstream_full" | cut -d. -f1,2)
[ "$series" = "$WANT_SERIES" ] ||
    die "pinned qemu $version is not QEMU $WANT_SERIES.x"

unavailable() {
    echo "$(basename "$0"): base $BASE: qemu $version cannot be downloaded" \
         "($*)" >&2
    exit 3
}

dl=$CACHE/source/$upstream_full
if [ ! -f "$dl/.complete" ]; then
    note "downloading qemu $version source into $dl"
    apt_dir=$CACHE/apt/$QEMU_SUITE
    mirror=$(bookworm_mirror)
    [ -n "$mirror" ] || unavailable "no bookworm entry in the apt configuration"
    mkdir -p "$apt_dir/parts" "$apt_dir/lists/partial" \
             "$apt_dir/cache/archives/partial"
    cat > "$apt_dir/parts/$QEMU_SUITE.sources" <<SRC
Types: deb-src
URIs: $mirror
Suites: $QEMU_SUITE
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    apt_opts=(-o Dir::Etc::SourceList=/dev/null
              -o Dir::Etc::SourceParts="$apt_dir/parts"
              -o Dir::State::Lists="$apt_dir/lists"
              -o Dir::Cache="$apt_dir/cache")
    apt-get "${apt_opts[@]}" update -qq 2>&1 |
        grep -v "unsandboxed as root" >&2 || true
    # Read to the end (no grep -q): pipefail would see apt-cache's SIGPIPE
    listed=$(apt-cache "${apt_opts[@]}" showsrc qemu 2>/dev/null |
             awk '/^Version:/ { print $2 }')
    echo "$listed" | grep -qxF "$version" ||
        unavailable "$QEMU_SUITE's index does not list it"
    rm -rf "$dl"
    mkdir -p "$dl"
    (cd "$dl" && apt-get "${apt_opts[@]}" source --download-only -qq \
        "qemu=$version" 2>&1 | grep -v "unsandboxed as root" >&2 || true)
    ls "$dl"/qemu_*.dsc >/dev/null 2>&1 || {
        rm -rf "$dl"
        unavailable "apt-get source failed"
    }
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

mkdir -p "$BDIR"
echo "$version" > "$BDIR/qemu-version"
echo "$pristine"
