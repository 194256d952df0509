#!/bin/bash
# Configure (once) and build the parts of the patched libvirt the project
# uses: virtlogd and the unit tests of what the series changes.
#   build-libvirt.sh [ninja targets...]
# libvirt is configured with every optional feature and driver off,
# except what virtlogd needs: the libvirtd and remote drivers, and yajl,
# without which it cannot re-execute itself on SIGUSR1 (a reload).
set -euo pipefail
. "$(dirname "$0")/libvirt-common.sh"

LV_TARGETS="src/virtlogd tests/virrotatingfiletest tests/virconftest
            src/test_virtlogd.aug"

export CCACHE_BASEDIR=$BUILD CCACHE_NOHASHDIR=true
export CCACHE_DIR=${CCACHE_DIR:-$CACHE/ccache}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
# meson finds python3 on PATH: take the system's
export PATH=/usr/bin:$PATH CC="ccache gcc"

configure_args=(
    --prefix=/usr --sysconfdir=/etc --localstatedir=/var
    -Drunstatedir=/run
    --auto-features=disabled
    -Ddriver_libvirtd=enabled -Ddriver_remote=enabled -Dyajl=enabled
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
