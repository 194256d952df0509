#!/bin/bash
# Install every Debian package the build, the tests, the demo and the
# benchmarks need.  Idempotent: when everything is present it returns in
# well under a second without touching apt.
#
# Extra apt entries (bookworm-backports for meson >= 1.5 and pycotap,
# deb-src for trixie's qemu and libvirt sources) are
# derived from the mirror the machine already uses for bookworm, so no
# registry host is written down here.
set -euo pipefail
. "$(dirname "$0")/common.sh"

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo

BUILD_PKGS="libglib2.0-dev libpixman-1-dev libslirp-dev libfdt-dev zlib1g-dev
 ninja-build python3-venv dpkg-dev ccache git quilt pkg-config gcc make
 bison flex"
BACKPORTS_PKGS="meson python3-pycotap"
RUN_PKGS="seabios qemu-system-data busybox-static cpio"
TEST_PKGS="socat logrotate clang libclang-rt-14-dev gcc-mingw-w64-x86-64-win32"
BENCH_PKGS="apache2-utils daemontools s6 gnuplot-nox"
LIBVIRT_PKGS="libvirt-daemon-system libvirt-clients"
# What libvirt's daemons and tests need to build (scripts/build-libvirt.sh)
LIBVIRT_BUILD_PKGS="libxml2-dev libgnutls28-dev libtirpc-dev libc-dev-bin
 libjson-c-dev libnl-3-dev libnl-route-3-dev libxml2-utils xsltproc
 augeas-tools"
DOCS_PKGS="python3-sphinx python3-sphinx-rtd-theme"
ALL_PKGS="$BUILD_PKGS $RUN_PKGS $TEST_PKGS $BENCH_PKGS $LIBVIRT_PKGS
 $LIBVIRT_BUILD_PKGS $DOCS_PKGS"
MIN_MESON=1.5.0
EXTRA_SOURCES=/etc/apt/sources.list.d/qemu-console-log.sources

missing_packages() {
    local p
    for p in $ALL_PKGS $BACKPORTS_PKGS; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
            grep -q '^install ok installed' || echo "$p"
    done
}

meson_recent_enough() {
    local v
    v=$(dpkg-query -W -f='${Version}' meson 2>/dev/null) || return 1
    dpkg --compare-versions "$v" ge "$MIN_MESON"
}

add_extra_sources() {
    local mirror
    [ -f "$EXTRA_SOURCES" ] && return 0
    mirror=$(bookworm_mirror)
    [ -n "$mirror" ] || die "no bookworm entry in the apt configuration"
    echo "install-deps: adding bookworm-backports and trixie deb-src" \
         "from the configured mirror"
    $SUDO tee "$EXTRA_SOURCES" >/dev/null <<SRC
Types: deb
URIs: $mirror
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: $mirror
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    $SUDO apt-get update -qq
}

if [ -f "$EXTRA_SOURCES" ] &&
   [ -z "$(missing_packages)" ] && meson_recent_enough; then
    exit 0
fi

add_extra_sources
export DEBIAN_FRONTEND=noninteractive
APT="$SUDO apt-get install -y -qq --no-install-recommends"
# shellcheck disable=SC2086
$APT $ALL_PKGS || { $SUDO apt-get update -qq && $APT $ALL_PKGS; }
# shellcheck disable=SC2086
$APT -t bookworm-backports $BACKPORTS_PKGS
meson_recent_enough || {
    echo "install-deps: meson >= $MIN_MESON is required" >&2
    exit 1
}
echo "install-deps: all packages present"
