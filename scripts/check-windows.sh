#!/bin/bash
# Show that the C files of the series that QEMU's Windows build compiles
# (chardev/rotating-file.c, for every chardev's logfile, chardev/char.c
# and chardev/char-file.c) use nothing POSIX-only outside #ifndef _WIN32:
# compile them with MinGW (-fsyntax-only) against the Windows headers,
# QEMU's own headers as a Windows build sees them and GLib's headers.
# Debian packages no MinGW GLib, so QEMU itself cannot be built for
# Windows here; the shim in scripts/windows-shim gives what a Windows
# build would generate: config-host.h (no CONFIG_POSIX: qemu/osdep.h
# includes system/os-win32.h) and GLib's glibconfig.h (G_OS_WIN32, LLP64
# types), made from the host's.  The QAPI headers come from the Linux
# build directory: they are the same for every host (#if CONFIG_...).
#   check-windows.sh [--tap FILE]
# TREE=DIR checks another tree with its build directory (default: the
# assembled tree).
set -euo pipefail
. "$(dirname "$0")/common.sh"

tap=
[ "${1:-}" = --tap ] && tap=$2
src=${TREE:-$SRC}
obj=$src/build
files="chardev/rotating-file.c chardev/char.c chardev/char-file.c"
cc=x86_64-w64-mingw32-gcc
shim=$TOP/scripts/windows-shim
log=$BUILD/check-windows.log
gen=$BUILD/windows-shim-generated
mkdir -p "$BUILD" "$gen"

tap_line() {
    [ -z "$tap" ] || printf '%s\n' "$@" > "$tap"
}
command -v $cc >/dev/null || {
    tap_line 1..1 "not ok 1 - $cc missing"
    die "$cc missing (scripts/install-deps.sh)"
}
glibconfig=$(pkg-config --variable=libdir glib-2.0)/glib-2.0/include/glibconfig.h
if ! python3 "$shim/make-glibconfig.py" "$glibconfig" "$gen/glibconfig.h" ||
   ! "$TOP/scripts/build.sh" --tree "$src" config-poison.h \
        qapi/qapi-types-char.h >/dev/null; then
    tap_line 1..1 "not ok 1 - the shim or QEMU's generated headers could not be made"
    exit 1
fi

n=0
status=0
: > "$log"
results=()
for file in $files; do
    n=$((n + 1))
    # Quoted includes: the shim's config-host.h before the build's
    if (cd "$src" && $cc -std=gnu11 -fsyntax-only -Wall -Werror \
            -Werror=implicit-function-declaration \
            -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -D_LARGEFILE_SOURCE \
            -iquote "$shim" -iquote include -iquote "$obj" -iquote . \
            -I "$gen" $(pkg-config --cflags-only-I glib-2.0 | sed 's/-I[^ ]*glib-2.0\/include//') \
            "$file") >> "$log" 2>&1; then
        results+=("ok $n - $file compiles for Windows (MinGW)")
    else
        status=1
        results+=("not ok $n - $file does not compile for Windows, see $log")
    fi
done
cat "$log"
tap_line "1..$n" "${results[@]}"
printf '%s\n' "${results[@]}"
exit $status
