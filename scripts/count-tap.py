#!/usr/bin/python3
"""Count the TAP test cases in a meson testlog.json and print
'N passed, N failed[, N skipped]'.  A test program that crashed or timed
out before reporting all its cases counts as one failure more."""
import json
import re
import sys

RESULT = re.compile(r'^\s*(not ok|ok)\b(.*)$')

passed = failed = skipped = 0
with open(sys.argv[1]) as log:
    for line in log:
        entry = json.loads(line)
        cases = failures = 0
        for out in entry.get('stdout', '').splitlines():
            m = RESULT.match(out)
            if not m:
                continue
            cases += 1
            directive = m.group(2)
            if re.search(r'#\s*SKIP', directive, re.I):
                skipped += 1
            elif m.group(1) == 'ok' or re.search(r'#\s*TODO', directive, re.I):
                passed += 1
            else:
                failures += 1
        failed += failures
        # A program that failed without reporting a failing case (a crash,
        # a timeout, a bail out) is one failure more.
        if entry.get('result') not in ('OK', 'SKIP', 'EXPECTEDFAIL') and \
           not failures:
            failed += 1

summary = '%d passed, %d failed' % (passed, failed)
if skipped:
    summary += ', %d skipped' % skipped
print(summary)
sys.exit(1 if failed or passed == 0 else 0)
