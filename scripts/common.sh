# Shared settings for the scripts; sourced, not run.
# shellcheck shell=bash
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
CACHE=${QEMU_CONSOLE_LOG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/qemu-console-log}
# The QEMU base the series is applied to: Debian's source package, pinned.
# 10.0 is the default and keeps its paths directly in $BUILD; another base
# builds in $BUILD/$BASE and takes patches/$BASE/NAME in place of
# patches/NAME where the text of a patch differs on it.
BASE=${BASE:-10.0}
case $BASE in
10.0) QEMU_PIN=1:10.0.13+ds-0+deb13u1 QEMU_SUITE=trixie BDIR=$BUILD ;;
10.2) QEMU_PIN=1:10.2.2+ds-1 QEMU_SUITE=sid BDIR=$BUILD/10.2 ;;
*) echo "$(basename "$0"): unknown BASE=$BASE (10.0 or 10.2)" >&2; exit 1 ;;
esac
BASES="10.0 10.2"                # every base make test runs
SRC=$BDIR/qemu                   # assembled tree: base + overlay + patches
BASE_SRC=$BDIR/qemu-baseline     # the same base without our changes
OBJ=$SRC/build                   # QEMU's own build directory
BASE_OBJ=$BASE_SRC/build
WANT_SERIES=$BASE                # the QEMU major.minor our patches target
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

# The URI the machine already uses for the main bookworm suite (empty if
# none): the mirror of every apt entry and download the scripts add.
bookworm_mirror() {
    local uri
    uri=$(awk '
        /^URIs:/ { uri = $2 }
        /^Suites:/ {
            for (i = 2; i <= NF; i++) if ($i == "bookworm") found = uri }
        /^$/ { uri = "" }
        END { print found }' /etc/apt/sources.list.d/*.sources 2>/dev/null)
    if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
        uri=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' \
              /etc/apt/sources.list)
    fi
    echo "$uri"
}

die() { echo "$(basename "$0"): $*" >&2; exit 1; }
note() { echo "== $*"; }

# The file of patch $1 (a name in patches/series) for $BASE
patch_file() {
    if [ -f "$TOP/patches/$BASE/$1" ]; then
        echo "$TOP/patches/$BASE/$1"
    else
        echo "$TOP/patches/$1"
    fi
}

# The file name of patch number $2 whose subject is $1 (writeback)
patch_file_name() {
    local slug
    slug=$(echo "$1" | tr 'A-Z' 'a-z' |
           sed -E 's/[^a-z0-9]+/-/g; s/^-//; s/-$//' | cut -c1-52)
    printf '%04d-%s.patch' "$2" "$slug"
}

# The first DEP-3 fields of commit $2 of repository $1: Description (the
# subject, then the body without Signed-off-by), Author, Forwarded.
dep3_header() {
    echo "Description: $(git -C "$1" log -1 --format=%s "$2")"
    git -C "$1" log -1 --format=%b "$2" |
        grep -v '^Signed-off-by:' | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' |
        sed -e 's/^$/./' -e 's/^/ /'
    echo "Author: $(git -C "$1" log -1 --format='%an <%ae>' "$2")"
    echo "Forwarded: no"
}

# git format-patch of the commits $2 (base..TIP) of repository $1 into
# directory $3, made anew: a cover letter filled in from file $4 (subject,
# blank line, body), one patch per commit; From and Signed-off-by name
# whoever runs it (git's user.name and user.email).
format_series() {
    local name email p
    name=$(git -C "$TOP" config user.name) &&
        email=$(git -C "$TOP" config user.email) ||
        die "set git's user.name and user.email: the series is signed with them"
    rm -rf "$3"
    git -C "$1" format-patch -q --cover-letter --thread=shallow \
        --base=base --subject-prefix=PATCH -o "$3" "$2"
    for p in "$3"/*.patch; do
        # format-patch may fold a long From: onto a second line: drop it too
        sed -i -e "/^From: /{s/^From: .*/From: $name <$email>/;n;/^ /d}" \
            -e "s/^Signed-off-by: .*/Signed-off-by: $name <$email>/" "$p"
    done
    /usr/bin/python3 - "$(ls "$3"/0000-*.patch)" "$4" <<'PY'
import sys
cover, text = sys.argv[1], open(sys.argv[2]).read()
subject, _, body = text.partition('\n\n')
s = open(cover).read()
s = s.replace('*** SUBJECT HERE ***', subject.strip())
s = s.replace('*** BLURB HERE ***', body.rstrip())
open(cover, 'w').write(s)
PY
}

# DEP-3 header field of a patch, continuation lines included.
dep3_field() {
    awk -v field="$2" '
        /^---/ || /^diff / || /^Index:/ { exit }
        $0 ~ "^" field ":" { sub("^" field ": ?", ""); print; on = 1; next }
        on && /^ / { sub(/^ /, ""); if ($0 == ".") $0 = ""; print; next }
        { on = 0 }' "$1"
}
