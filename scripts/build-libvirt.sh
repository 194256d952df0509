#!/bin/bash
# Configure (once) and build the parts of the patched libvirt the project
# uses:
#   virtlogd, libvirtd, its QEMU driver module and the helper that saves
#   a domain (the real-stack test runs them from the build tree), and the
#   unit tests of what the series changes (scripts/test-libvirt-unit.sh).
#   build-libvirt.sh [ninja targets...]
# libvirt is configured with every optional feature and driver off, except
# the QEMU driver, the libvirtd and remote drivers, json-c (QEMU's
# monitor, and virtlogd's re-execution on SIGUSR1) and libnl (11.3 does not
# build without it), with Debian's paths and QEMU user, so that the build
# runs on the host as Debian's package would.
set -euo pipefail
. "$(dirname "$0")/libvirt-common.sh"

LV_TARGETS="src/virtlogd src/libvirtd src/libvirt_driver_qemu.so
            src/libvirt_iohelper
            tests/virrotatingfiletest tests/qemuxmlconftest tests/virschematest
            src/test_virtlogd.aug"
# the libraries qemuxmlconftest preloads
LV_TARGETS="$LV_TARGETS $(for m in qemuxml2argv domaincaps virrandom qemucpu \
                                   virpci virnuma virtest; do
                             echo "tests/lib${m}mock.so"; done)"

export CCACHE_BASEDIR=$BUILD CCACHE_NOHASHDIR=true
export CCACHE_DIR=${CCACHE_DIR:-$CACHE/ccache}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
# meson finds python3 on PATH: take the system's
export PATH=/usr/bin:$PATH CC="ccache gcc"

configure_args=(
    --prefix=/usr --sysconfdir=/etc --localstatedir=/var
    -Drunstatedir=/run
    --auto-features=disabled
    -Ddriver_qemu=enabled -Ddriver_libvirtd=enabled -Ddriver_remote=enabled
    -Djson_c=enabled -Dlibnl=enabled
    -Dqemu_user=libvirt-qemu -Dqemu_group=libvirt-qemu
    -Dtests=enabled -Ddocs=disabled -Dinit_script=none
    -Dwerror=false -Db_lto=false
)
want=$(printf '%s\n' "${configure_args[@]}" | sha1sum | cut -c1-12)
if [ ! -f "$LV_OBJ/build.ninja" ] ||
   [ "$(cat "$LV_OBJ/.configured" 2>/dev/null)" != "$want" ]; then
    note "configuring libvirt in $LV_OBJ"
    rm -rf "$LV_OBJ"
    meson setup "${configure_args[@]}" "$LV_OBJ" "$LV_SRC" \
        > "$LV_SRC/configure.log" 2>&1 || {
        tail -30 "$LV_SRC/configure.log" >&2
        die "meson setup failed (full log: $LV_SRC/configure.log)"
    }
    mv "$LV_SRC/configure.log" "$LV_OBJ/"
    echo "$want" > "$LV_OBJ/.configured"
fi
# shellcheck disable=SC2086
[ $# -gt 0 ] || set -- $LV_TARGETS
note "building in $LV_OBJ: $*"
nice ninja -C "$LV_OBJ" "$@" > "$LV_OBJ/ninja.log" 2>&1 || {
    grep -v '^\[' "$LV_OBJ/ninja.log" | tail -40 >&2
    die "build failed (full log: $LV_OBJ/ninja.log)"
}
