#!/bin/bash
# Show that the rotating output file, which QEMU's Windows build compiles
# for every chardev's logfile, uses nothing POSIX-only outside #ifndef
# _WIN32: compile chardev/rotating-file.c of the assembled tree with
# MinGW against the Windows headers, QEMU and GLib being declared by the
# small shim in scripts/windows-shim (Debian packages no MinGW GLib, so
# QEMU itself cannot be built for Windows here).
#   check-windows.sh [--tap FILE]
set -euo pipefail
. "$(dirname "$0")/common.sh"

tap=
[ "${1:-}" = --tap ] && tap=$2
cc=x86_64-w64-mingw32-gcc
command -v $cc >/dev/null || die "$cc missing (scripts/install-deps.sh)"
log=$BUILD/check-windows.log
mkdir -p "$BUILD"
status=0
$cc -std=gnu11 -fsyntax-only -Wall -Werror \
    -Werror=implicit-function-declaration \
    -iquote "$TOP/scripts/windows-shim" -iquote "$SRC/include" \
    "$SRC/chardev/rotating-file.c" > "$log" 2>&1 || status=$?
cat "$log"
if [ -n "$tap" ]; then
    if [ $status -eq 0 ]; then
        printf '1..1\nok 1 - chardev/rotating-file.c compiles for Windows (MinGW)\n' > "$tap"
    else
        printf '1..1\nnot ok 1 - chardev/rotating-file.c does not compile for Windows, see %s\n' "$log" > "$tap"
    fi
fi
[ $status -eq 0 ] && note "chardev/rotating-file.c compiles for Windows"
exit $status
