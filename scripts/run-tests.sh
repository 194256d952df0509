#!/bin/bash
# The project's test command: set up, build, run every test of ours and
# upstream's chardev unit test through meson, on each base, and print a
# last line
#   N passed, N failed[, N skipped]
# counting the test cases (TAP results) of all of them.
#   base 10.0: everything below;
#   base 10.2: the build, the unit tests, the SeaBIOS qtest and the Linux
#   guest's end-to-end cases that need no upstream QEMU beside ours.
# A base whose Debian source cannot be downloaded is said so in one line,
# and its test programs count as skipped.
set -euo pipefail
export BASE=10.0                 # first; whatever BASE says, both run
. "$(dirname "$0")/common.sh"

"$TOP/scripts/install-deps.sh"
results=$BUILD/results.list      # what count-tap.py counts, one file a line
mkdir -p "$BUILD"
: > "$results"

# Fetch base $BASE; on a download failure write one skipped case per test
# program named after the first argument and return 1.
fetch_or_skip() {
    local rc=0 err=$BDIR/fetch.err n=0 t skipped=$BDIR/skipped.tap
    mkdir -p "$BDIR"
    "$TOP/scripts/fetch-qemu.sh" > /dev/null 2> "$err" || rc=$?
    [ "$rc" = 0 ] && return 0
    if [ "$rc" != 3 ]; then
        cat "$err" >&2
        die "fetching base $BASE failed"
    fi
    # fetch-qemu.sh: base 10.2: qemu VERSION cannot be downloaded (WHY)
    echo "== SKIPPED base $BASE:" \
         "$(tail -1 "$err" | sed 's/^[^:]*: base [^:]*: //')"
    for t in "$@"; do
        n=$((n + 1))
        echo "ok $n base $BASE $t # SKIP source package not available"
    done > "$skipped"
    echo "$skipped" >> "$results"
    return 1
}

# Base 10.2: what differs from 10.0 (the port of the series and the
# project's tests to the 10.2 API) is built and run; the fuzzer, libvirt and
# the Windows check run on 10.0 only.  No upstream 10.2 is built, so the two
# e2e cases that compare with upstream QEMU run on 10.0 only (-s: GLib
# reports them as skipped by request, so the last line says 2 skipped).
E2E_NOT_10_2="nova-reboot/baseline logrotate/copytruncate-report"
test_base_10_2() (
    export BASE=10.2
    . "$TOP/scripts/common.sh"
    local unit="test-char test-rotating-file fuzz-rotating-file" t args=
    fetch_or_skip $unit chardev-rotate-test console-log-e2e-test || exit 0
    note "base $BASE"
    # Named first: if the build fails, the missing logs count as failures.
    rm -f "$OBJ"/meson-logs/testlog-*.json
    for t in unit e2e; do
        echo "$OBJ/meson-logs/testlog-$t-slow.json" >> "$results"
    done
    # Called as "test_base_10_2 || ...", so set -e is off here: each step
    # says what stops it.
    "$TOP/scripts/assemble.sh" || exit 1
    # shellcheck disable=SC2086
    "$TOP/scripts/build.sh" qemu-system-x86_64 \
        $(for t in $unit; do echo "tests/unit/$t"; done) \
        tests/qtest/chardev-rotate-test tests/qtest/console-log-e2e-test ||
        exit 1
    "$TOP/scripts/guest-image.sh" || exit 1
    export CONSOLE_LOG_GUEST_DIR=$BUILD/guest
    unset QTEST_BASELINE_BINARY
    note "running on base $BASE: $unit qtest-x86_64/chardev-rotate-test"
    # shellcheck disable=SC2086
    "$OBJ/pyvenv/bin/meson" test -C "$OBJ" --no-rebuild --print-errorlogs \
        --setup slow --logbase testlog-unit $unit \
        qtest-x86_64/chardev-rotate-test || status=1
    for t in $E2E_NOT_10_2; do args="$args -s /x86_64/console-log/$t"; done
    note "running on base $BASE: qtest-x86_64/console-log-e2e-test$args"
    "$OBJ/pyvenv/bin/meson" test -C "$OBJ" --no-rebuild --print-errorlogs \
        --setup slow --logbase testlog-e2e --test-args="$args" \
        qtest-x86_64/console-log-e2e-test || status=1
    exit "${status:-0}"
)

# Base 10.2 (after 10.0), then the count over every base's results.
finish() {
    test_base_10_2 || status=1
    # shellcheck disable=SC2046
    /usr/bin/python3 "$TOP/scripts/count-tap.py" $(cat "$results") ||
        status=1
    exit $status
}

# Base 10.0 (BASE unset): everything.
status=0
fetch_or_skip test-char test-rotating-file fuzz-rotating-file \
    chardev-rotate-test console-log-e2e-test console-log-faults-test \
    console-log-deploy-test console-log-flood-test libfuzzer libvirt-test \
    libvirt-unit virtlogd-test check-windows || finish
note "base $BASE"
"$TOP/scripts/assemble.sh"
"$TOP/scripts/assemble.sh" --baseline

# upstream's chardev test and the series' own (unit and SeaBIOS qtest),
# then the project's: the fuzz replay and the tests with a Linux guest
UNIT_TESTS="test-char test-rotating-file fuzz-rotating-file"
QTESTS="chardev-rotate-test console-log-e2e-test console-log-faults-test
        console-log-deploy-test console-log-flood-test"
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

# The libvirt series (libvirt/patches) on libvirt 11.3: libvirt's own
# unit tests, then libvirtd and virtlogd of that build with a nova-style
# guest and stock QEMU (Debian's if installed, else the baseline build):
# libvirt gives QEMU only a pipe to virtlogd.
lv_unit_tap=$BUILD/libvirt-unit.tap
virtlogd_tap=$BUILD/virtlogd.tap
rm -f "$lv_unit_tap" "$virtlogd_tap"
if "$TOP/scripts/fetch-libvirt.sh" && "$TOP/scripts/build-libvirt.sh"; then
    note "running libvirt's unit tests and the virtlogd test"
    "$TOP/scripts/test-libvirt-unit.sh" > "$lv_unit_tap" || status=1
    stock_qemu=/usr/bin/qemu-system-x86_64
    [ -x "$stock_qemu" ] || stock_qemu=$BASE_OBJ/qemu-system-x86_64
    /usr/bin/python3 "$TOP/tests/libvirt/virtlogd-test.py" \
        "$BUILD/libvirt/build" "$BUILD/guest" "$stock_qemu" \
        > "$virtlogd_tap" || status=1
    cat "$lv_unit_tap" "$virtlogd_tap"
else
    status=1
fi

# The writer compiled for Windows, as far as this machine can show it.
windows_tap=$BUILD/check-windows.tap
rm -f "$windows_tap"
"$TOP/scripts/check-windows.sh" --tap "$windows_tap" || status=1

printf '%s\n' "$testlog" "$fuzz_tap" "$windows_tap" "$libvirt_tap" \
    "$lv_unit_tap" "$virtlogd_tap" >> "$results"
finish
