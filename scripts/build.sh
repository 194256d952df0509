#!/bin/bash
# Configure (once) and build QEMU in the assembled tree.
#   build.sh [--baseline | --tree DIR] [ninja targets...]
# Without targets it builds qemu-system-x86_64.  ccache is shared between the
# patched and the baseline tree (same relative layout under $BUILD).
set -euo pipefail
. "$(dirname "$0")/common.sh"

src=$SRC
if [ "${1:-}" = --baseline ]; then
    src=$BASE_SRC
    shift
elif [ "${1:-}" = --tree ]; then
    src=$2
    shift 2
fi
obj=$src/build

export CCACHE_BASEDIR=$BUILD CCACHE_NOHASHDIR=true
export CCACHE_DIR=${CCACHE_DIR:-$CACHE/ccache}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}

configure_args=(
    --python=/usr/bin/python3
    --cc="ccache gcc" --host-cc="ccache gcc" --cxx="ccache g++"
    --target-list=x86_64-softmmu
    --without-default-features
    --enable-tcg --enable-slirp --enable-fdt=system
    --disable-install-blobs --disable-docs --disable-werror
    --disable-download
    # The +ds source has no firmware: use Debian's seabios and
    # qemu-system-data, as Debian's own build does.
    --firmwarepath=/usr/share/qemu:/usr/share/seabios:/usr/lib/ipxe/qemu
)
want=$(printf '%s\n' "${configure_args[@]}" | sha1sum | cut -c1-12)
if [ ! -f "$obj/build.ninja" ] || [ "$(cat "$obj/.configured" 2>/dev/null)" != "$want" ]; then
    note "configuring $src"
    rm -rf "$obj"
    mkdir -p "$obj"
    (cd "$obj" && ../configure "${configure_args[@]}" >configure.log 2>&1) || {
        tail -30 "$obj/configure.log" >&2
        die "configure failed (full log: $obj/configure.log)"
    }
    echo "$want" > "$obj/.configured"
fi
[ $# -gt 0 ] || set -- qemu-system-x86_64
note "building in $obj: $*"
# Progress lines are noise in logs; errors and warnings are kept.
ninja -C "$obj" "$@" > "$obj/ninja.log" 2>&1 || {
    grep -v '^\[' "$obj/ninja.log" | tail -40 >&2
    die "build failed (full log: $obj/ninja.log)"
}
grep -iE '(^|[^a-z])(warning|error):' "$obj/ninja.log" || true

# A binary run from the build tree looks for its firmware path inside
# qemu-bundle/: point that at Debian's firmware packages.
for dir in /usr/share/qemu /usr/share/seabios /usr/lib/ipxe/qemu; do
    mkdir -p "$obj/qemu-bundle$(dirname "$dir")"
    ln -sfn "$dir" "$obj/qemu-bundle$dir"
done
