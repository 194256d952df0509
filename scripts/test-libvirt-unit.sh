#!/bin/bash
# libvirt's own tests of what the libvirt series changes, run through
# meson in the libvirt build, printed as TAP:
#   virrotatingfiletest    the rotating file writer: rollovers checked at
#                          every step, symlinks, flags (one case each)
#   qemuxmlconftest        domain XML parsed, formatted and turned into
#                          QEMU's command line (a case for each of the
#                          series' data files, one for all the others)
#   virschematest          the test data against the schemas (the same)
#   check-augeas-virtlogd  the augeas lens against the sample virtlogd.conf
set -euo pipefail
. "$(dirname "$0")/libvirt-common.sh"

TESTS="virrotatingfiletest qemuxmlconftest virschematest check-augeas-virtlogd"
# In these, only the sub-tests of the series' own data count one by one
SUMMED="qemuxmlconftest virschematest"
OURS=rollover
log=$LV_OBJ/meson-logs/testlog.json
rm -f "$log"
# shellcheck disable=SC2086
VIR_TEST_VERBOSE=1 PATH=/usr/bin:$PATH \
    meson test -C "$LV_OBJ" --no-rebuild $TESTS > /dev/null 2>&1 || true
# shellcheck disable=SC2086
SUMMED=$SUMMED OURS=$OURS /usr/bin/python3 - "$log" $TESTS <<'PY'
import json
import os
import re
import sys

log, names = sys.argv[1], sys.argv[2:]
summed = os.environ['SUMMED'].split()
ours = os.environ['OURS']
try:
    entries = {json.loads(l)['name'].split(' / ')[-1]: json.loads(l)
               for l in open(log)}
except OSError:
    entries = {}
# testutils.c: " 1) Rotating file write new   ... OK", a failing sub-test's
# messages may come between the dots and FAILED
CASE = re.compile(r'^\s*(\d+)\) (.*?)\s+\.\.\. ?(.*)$')
results = []
for name in names:
    e = entries.get(name)
    if e is None:
        results.append((False, '%s: did not run' % name, []))
        continue
    subs = []
    for line in (e.get('stderr', '') + e.get('stdout', '')).splitlines():
        m = CASE.match(line)
        if m:
            rest = m.group(3).strip()
            if rest in ('OK', 'FAILED', 'SKIP'):
                subs.append([m.group(2), rest, []])
            else:
                subs.append([m.group(2), '', [rest] if rest else []])
        elif subs and subs[-1][1] not in ('OK', 'SKIP'):
            if line.strip() in ('OK', 'FAILED', 'SKIP'):
                subs[-1][1] = line.strip()
            else:
                subs[-1][2].append(line)
    if not subs:
        results.append((e['result'] == 'OK', name, []))
        continue
    if name in summed:
        # (a sub-test skipped after an expected parse error is no case)
        mine = [s for s in subs if ours in s[0] and s[1] != 'SKIP']
        others = [s for s in subs if s not in mine]
        bad = [s for s in others if s[1] not in ('OK', 'SKIP')]
        results.append((not bad, '%s: %d other sub-tests' % (name, len(others)),
                        ['%s: %s' % (s[0], s[1] or 'no result') for s in bad]))
        subs = [[re.sub(r'/\S*/libvirt/', '', s[0])] + s[1:] for s in mine]
    for title, result, notes in subs:
        results.append((result in ('OK', 'SKIP'),
                        '%s: %s%s' % (name, title,
                                      ' # SKIP' if result == 'SKIP' else ''),
                        notes + ([result or 'no result'] if result not in
                                 ('OK', 'SKIP') else [])))
    # a crash after the last sub-test, or a failure outside them
    if e['result'] != 'OK' and all(s[1] in ('OK', 'SKIP') for s in subs):
        results.append((False, '%s: %s' % (name, e['result']), []))
print('1..%d' % len(results))
for n, (ok, title, notes) in enumerate(results, 1):
    print('%s %d - %s' % ('ok' if ok else 'not ok', n, title))
    for note in notes if not ok else []:
        print('# %s' % note)
sys.exit(0 if all(r[0] for r in results) else 1)
PY
