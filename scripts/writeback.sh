#!/bin/bash
# Write the commits base..work of the assembled tree back into the
# repository: each commit becomes one patches/ entry (DEP-3 header, diff of
# the upstream files it edits, X-Overlay-Files naming the files it adds)
# and its new files are copied to the overlay.  Develop with plain git in
# build/qemu (commit, rebase -i, commit --fixup), then run this.
# Commits whose subject starts with "project:" hold what stays in this
# project (tests with a Linux guest, as root, with libvirt; benchmarks):
# they come last, after a marker line in patches/series, and make series
# leaves them out.
set -euo pipefail
. "$(dirname "$0")/common.sh"

[ -d "$SRC/.git" ] || die "no assembled tree in $SRC"
if [ -n "$(git -C "$SRC" status --porcelain --untracked-files=no)" ]; then
    die "$SRC has uncommitted changes: commit them first"
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mkdir -p "$out/patches"
read -r -a overlay_dirs < "$TOP/scripts/overlay-dirs"

in_overlay() {
    local d
    for d in "${overlay_dirs[@]}"; do
        case "$1" in "$d"/*) return 0 ;; esac
    done
    return 1
}

n=0
for c in $(git -C "$SRC" rev-list --reverse base..HEAD); do
    n=$((n + 1))
    subject=$(git -C "$SRC" log -1 --format=%s "$c")
    slug=$(echo "$subject" | tr 'A-Z' 'a-z' | sed -E 's/[^a-z0-9]+/-/g; s/^-//; s/-$//' | cut -c1-52)
    name=$(printf '%04d-%s.patch' "$n" "$slug")
    case "$subject" in
    project:*)
        grep -qxF "$PROJECT_MARKER" "$out/patches/series" 2>/dev/null ||
            echo "$PROJECT_MARKER" >> "$out/patches/series" ;;
    *)
        ! grep -qxF "$PROJECT_MARKER" "$out/patches/series" 2>/dev/null ||
            die "commit '$subject' of the series comes after project commits" ;;
    esac
    echo "$name" >> "$out/patches/series"
    added=() edited=()
    while IFS=$'\t' read -r status path; do
        if [ "$status" = A ] && in_overlay "$path"; then
            added+=("$path")
            mkdir -p "$out/overlay/$(dirname "$path")"
            git -C "$SRC" show "$c:$path" > "$out/overlay/$path"
        else
            edited+=("$path")
        fi
    done < <(git -C "$SRC" diff-tree --no-commit-id -r --name-status "$c")
    {
        echo "Description: $subject"
        git -C "$SRC" log -1 --format=%b "$c" |
            grep -v '^Signed-off-by:' | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' |
            sed -e 's/^$/./' -e 's/^/ /'
        echo "Author: $(git -C "$SRC" log -1 --format='%an <%ae>' "$c")"
        echo "Forwarded: no"
        if [ ${#added[@]} -gt 0 ]; then
            echo "X-Overlay-Files: ${added[0]}"
            for f in "${added[@]:1}"; do echo " $f"; done
        fi
        echo "---"
        if [ ${#edited[@]} -gt 0 ]; then
            git -C "$SRC" diff-tree --no-commit-id --stat=78 "$c" -- "${edited[@]}"
            echo
            git -C "$SRC" diff-tree -p --no-commit-id "$c" -- "${edited[@]}"
        fi
    } > "$out/patches/$name"
done

# The repository's current overlay, to replace.
current_overlay=$(cd "$TOP" && git ls-files -co --exclude-standard -- "${overlay_dirs[@]}" | sort)
new_overlay=$( [ -d "$out/overlay" ] && (cd "$out/overlay" && find . -type f | sed 's#^\./##' | sort) || true)


for f in $current_overlay; do
    echo "$new_overlay" | grep -qxF "$f" || { rm -f "$TOP/$f"; echo "removed $f"; }
done
for f in $new_overlay; do
    if ! cmp -s "$out/overlay/$f" "$TOP/$f"; then
        mkdir -p "$TOP/$(dirname "$f")"
        cp "$out/overlay/$f" "$TOP/$f"
        echo "wrote $f"
    fi
done
rm -rf "$TOP/patches"
cp -r "$out/patches" "$TOP/patches"
touch "$TOP/patches/series"
# Assemble again from what was written: the files stay as they are (so
# nothing rebuilds), the commits get their canonical form.
rm -f "$SRC/.git/assembled-inputs"
FORCE=1 "$TOP/scripts/assemble.sh"
note "wrote back $n commits to patches/ and the overlay"
