#!/bin/bash
# Write the commits base..work of the assembled tree back into the
# repository: each commit becomes one patches/ entry (DEP-3 header, diff of
# the upstream files it edits, X-Overlay-Files naming the files it adds)
# and its new files are copied to the overlay.  Develop with plain git in
# build/qemu (commit, rebase -i, commit --fixup), then run this.  With
# BASE=10.2 it takes the commits of build/10.2/qemu and writes to
# patches/10.2/ only the patches whose text differs there.
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

# For a base other than 10.0: the series (patches/series) and the overlay
# are shared by all bases, so they must come out the same; a patch is
# written to patches/$BASE/ only when patches/NAME, applied to the parent
# commit, does not give the commit's tree or its header differs.
write_base_variants() {
    local f c name shared variant check
    cmp -s "$out/patches/series" "$TOP/patches/series" ||
        die "the commits of $SRC do not match patches/series; the list of" \
            "patches is shared by all bases"
    if [ -d "$out/overlay" ]; then
        for f in $(cd "$out/overlay" && find . -type f | sed 's#^\./##'); do
            cmp -s "$out/overlay/$f" "$TOP/$f" ||
                die "$f differs on $BASE; new files are shared by all" \
                    "bases (edit $TOP/$f, or make the change a patch)"
        done
    fi
    check=$BDIR/writeback-check
    git -C "$SRC" worktree remove --force "$check" 2>/dev/null ||
        rm -rf "$check"
    git -C "$SRC" worktree prune
    git -C "$SRC" worktree add -q --detach "$check" base
    mkdir -p "$TOP/patches/$BASE"
    set -- $(git -C "$SRC" rev-list --reverse base..HEAD)
    while read -r name; do
        case "$name" in ''|'#'*) continue ;; esac
        c=$1
        shift
        shared=$TOP/patches/$name
        variant=$TOP/patches/$BASE/$name
        git -C "$check" checkout -q --detach "$c~1"
        if [ "$(sed '/^---$/q' "$shared")" = \
             "$(sed '/^---$/q' "$out/patches/$name")" ] &&
           { ! grep -q '^--- ' "$shared" ||
             git -C "$check" apply --index "$shared" 2>/dev/null; } &&
           (cd "$TOP" && for f in $(dep3_field "$shared" X-Overlay-Files); do
                cp "$f" "$check/$f" && git -C "$check" add -f "$f"; done) &&
           git -C "$check" diff --cached --quiet "$c"; then
            [ -f "$variant" ] && { rm "$variant"; echo "removed $variant"; }
        elif ! cmp -s "$out/patches/$name" "$variant"; then
            cp "$out/patches/$name" "$variant"
            echo "wrote patches/$BASE/$name"
        fi
        git -C "$check" reset -q --hard
    done < "$TOP/patches/series"
    git -C "$SRC" worktree remove --force "$check"
    rmdir "$TOP/patches/$BASE" 2>/dev/null || true
    rm -f "$SRC/.git/assembled-inputs"
    FORCE=1 "$TOP/scripts/assemble.sh"
    note "wrote back $n commits for base $BASE: $(ls "$TOP/patches/$BASE" \
        2>/dev/null | wc -l) of them differ from patches/"
}

n=0
for c in $(git -C "$SRC" rev-list --reverse base..HEAD); do
    n=$((n + 1))
    subject=$(git -C "$SRC" log -1 --format=%s "$c")
    name=$(patch_file_name "$subject" "$n")
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
        dep3_header "$SRC" "$c"
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

if [ "$BASE" != 10.0 ]; then
    write_base_variants
    exit 0
fi

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
# The patches of the other bases (patches/10.2/...) stay.
find "$TOP/patches" -maxdepth 1 -type f -delete
cp "$out/patches/"* "$TOP/patches/"
touch "$TOP/patches/series"
# Assemble again from what was written: the files stay as they are (so
# nothing rebuilds), the commits get their canonical form.
rm -f "$SRC/.git/assembled-inputs"
FORCE=1 "$TOP/scripts/assemble.sh"
note "wrote back $n commits to patches/ and the overlay"
