#!/bin/bash
# Run QEMU's scripts/checkpatch.pl on each patch of the upstream series as
# the assembled tree holds it (base..the last commit before "project:").
# Exits non-zero on any error or warning.  BASE=10.2 checks base 10.2.
set -euo pipefail
. "$(dirname "$0")/common.sh"

[ -d "$SRC/.git" ] || die "no assembled tree in $SRC (make assemble)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git -C "$SRC" format-patch -q -o "$tmp" "base..$(series_tip "$SRC")"
status=0
for p in "$tmp"/*.patch; do
    # -q prints nothing for a clean patch; warnings alone exit 0
    log=$(cd "$SRC" && ./scripts/checkpatch.pl -q "$p" 2>&1) || true
    if [ -z "$log" ]; then
        echo "ok: $(basename "$p")"
    else
        echo "$log"
        echo "FAILED: $(basename "$p")"
        status=1
    fi
done
exit $status
