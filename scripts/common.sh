# Shared settings for the scripts; sourced, not run.
# shellcheck shell=bash
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
CACHE=${QEMU_CONSOLE_LOG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/qemu-console-log}
SRC=$BUILD/qemu                  # assembled tree: base + overlay + patches
BASE_SRC=$BUILD/qemu-baseline    # the same base without our changes
OBJ=$SRC/build                   # QEMU's own build directory
BASE_OBJ=$BASE_SRC/build
WANT_SERIES=10.0                 # the QEMU major.minor our patches target
# In patches/series, what follows this line stays in the project
PROJECT_MARKER="# project: not part of the upstream series"

# The last commit of the upstream series in the assembled tree $1
series_tip() {
    local c tip
    tip=$(git -C "$1" rev-parse base)
    for c in $(git -C "$1" rev-list --reverse base..HEAD); do
        case "$(git -C "$1" log -1 --format=%s "$c")" in
        project:*) break ;;
        esac
        tip=$c
    done
    echo "$tip"
}

die() { echo "$(basename "$0"): $*" >&2; exit 1; }
note() { echo "== $*"; }
