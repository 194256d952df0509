#!/bin/bash
# The project's test command: set up, build, run every test of ours and
# upstream's chardev unit test through meson, and print a last line
#   N passed, N failed[, N skipped]
# counting the test cases (TAP results) of all of them.
set -euo pipefail
. "$(dirname "$0")/common.sh"

"$TOP/scripts/install-deps.sh"
"$TOP/scripts/assemble.sh"
"$TOP/scripts/assemble.sh" --baseline

# upstream's chardev test and the series' own (unit and SeaBIOS qtest),
# then the project's: the fuzz replay and the tests with a Linux guest
UNIT_TESTS="test-char test-rotating-file fuzz-rotating-file"
QTESTS="chardev-rotate-test console-log-e2e-test console-log-faults-test
        console-log-deploy-test"
UNIT_TESTS=$(for t in $UNIT_TESTS; do
             [ -f "$SRC/tests/unit/$t.c" ] && echo "$t"; done)
QTESTS=$(for t in $QTESTS; do
         [ -f "$SRC/tests/qtest/$t.c" ] && echo "$t"; done)
targets="qemu-system-x86_64"
for t in $UNIT_TESTS; do targets="$targets tests/unit/$t"; done
for t in $QTESTS; do targets="$targets tests/qtest/$t"; done
# shellcheck disable=SC2086
"$TOP/scripts/build.sh" $targets
"$TOP/scripts/build.sh" --baseline qemu-system-x86_64
"$TOP/scripts/guest-image.sh"

names=$UNIT_TESTS
for t in $QTESTS; do names="$names qtest-x86_64/$t"; done
export QTEST_BASELINE_BINARY=$BASE_OBJ/qemu-system-x86_64
export CONSOLE_LOG_GUEST_DIR=$BUILD/guest
note "running: $names"
status=0
# The tests with the Linux guest are slow tests, which QEMU runs with
# SPEED=slow (meson's "slow" setup); make test asks for all of them.
# meson names the log after the setup: testlog-slow.json.
testlog=$OBJ/meson-logs/testlog-slow.json
rm -f "$testlog"
# shellcheck disable=SC2086
"$OBJ/pyvenv/bin/meson" test -C "$OBJ" --no-rebuild --print-errorlogs \
    --setup slow $names || status=$?

# A short libFuzzer run over the corpus kept in tests/fuzz, and beyond.
fuzz_tap=$BUILD/fuzz/short.tap
rm -f "$fuzz_tap"
"$TOP/scripts/fuzz.sh" "${FUZZ_SECONDS:-60}" --tap "$fuzz_tap" || status=1

# libvirt running the patched QEMU: the recipes of the documentation.
libvirt_tap=$BUILD/libvirt.tap
note "running the libvirt test"
/usr/bin/python3 "$TOP/tests/libvirt/libvirt-test.py" \
    "$OBJ/qemu-system-x86_64" "$BUILD/guest" \
    "$TOP/docs/console-logs.rst" > "$libvirt_tap" || status=1
# Results, and the diagnostics of any case that failed
cat "$libvirt_tap"

# virtlogd with the libvirt series (libvirt/patches): libvirt's own unit
# tests, then Debian's libvirtd with it, a nova-style guest, stock QEMU
# (Debian's if installed, else the baseline build) and ours.
lv_unit_tap=$BUILD/libvirt-unit.tap
virtlogd_tap=$BUILD/virtlogd.tap
rm -f "$lv_unit_tap" "$virtlogd_tap"
if "$TOP/scripts/fetch-libvirt.sh" && "$TOP/scripts/build-libvirt.sh"; then
    note "running libvirt's unit tests and the virtlogd test"
    "$TOP/scripts/test-libvirt-unit.sh" > "$lv_unit_tap" || status=1
    stock_qemu=/usr/bin/qemu-system-x86_64
    [ -x "$stock_qemu" ] || stock_qemu=$BASE_OBJ/qemu-system-x86_64
    /usr/bin/python3 "$TOP/tests/libvirt/virtlogd-test.py" \
        "$BUILD/libvirt/build/src/virtlogd" "$BUILD/guest" \
        "$stock_qemu" "$OBJ/qemu-system-x86_64" > "$virtlogd_tap" || status=1
    cat "$lv_unit_tap" "$virtlogd_tap"
else
    status=1
fi

# The writer compiled for Windows, as far as this machine can show it.
windows_tap=$BUILD/check-windows.tap
rm -f "$windows_tap"
"$TOP/scripts/check-windows.sh" --tap "$windows_tap" || status=1

/usr/bin/python3 "$TOP/scripts/count-tap.py" "$testlog" \
    "$fuzz_tap" "$windows_tap" "$libvirt_tap" "$lv_unit_tap" \
    "$virtlogd_tap" || status=1
exit $status
