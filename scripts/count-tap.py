#!/usr/bin/python3
"""Count the TAP test cases in meson testlog files (*.json) and in plain TAP
files (any other name), and print 'N passed, N failed[, N skipped]'.  A test
program that failed without reporting a failing case (a crash, a timeout)
counts as one failure more."""
import json
import re
import sys

RESULT = re.compile(r'^\s*(not ok|ok)\b(.*)$')

passed = failed = skipped = 0


def count(output):
    """Count the results in TAP @output; return the number of failures."""
    global passed, skipped
    failures = 0
    for out in output.splitlines():
        m = RESULT.match(out)
        if not m:
            continue
        directive = m.group(2)
        if re.search(r'#\s*SKIP', directive, re.I):
            skipped += 1
        elif m.group(1) == 'ok' or re.search(r'#\s*TODO', directive, re.I):
            passed += 1
        else:
            failures += 1
    return failures


def count_meson(path):
    """Count a meson testlog.json."""
    global failed
    try:
        meson_log = open(path).readlines()
    except OSError as e:
        # meson did not run, or wrote elsewhere: a failure, not a crash
        print('count-tap: %s' % e, file=sys.stderr)
        failed += 1
        return
    for line in meson_log:
        entry = json.loads(line)
        failures = count(entry.get('stdout', ''))
        failed += failures
        # A program that failed without reporting a failing case (a
        # crash, a timeout, a bail out) is one failure more.
        if entry.get('result') not in ('OK', 'SKIP', 'EXPECTEDFAIL') and \
           not failures:
            failed += 1


def count_tap(path):
    """Count a plain TAP file."""
    global failed
    try:
        with open(path) as tap:
            text = tap.read()
    except OSError:
        text = ''
    failures = count(text)
    failed += failures
    if not failures and not re.search(r'^\s*(not ok|ok)\b', text, re.M):
        failed += 1         # no result at all: the run did not happen


for path in sys.argv[1:]:
    if path.endswith('.json'):
        count_meson(path)
    else:
        count_tap(path)

summary = '%d passed, %d failed' % (passed, failed)
if skipped:
    summary += ', %d skipped' % skipped
print(summary)
sys.exit(1 if failed or passed == 0 else 0)
