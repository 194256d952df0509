#!/bin/bash
# Assemble the patched QEMU tree in $SRC (a git repository):
#   commit "base"  = Debian's qemu of $BASE with Debian's patches (tag: base)
#   one commit per entry of patches/series = that patch applied to upstream
#   files plus the new files it names in its X-Overlay-Files header.  The
#   patch is patches/$BASE/NAME where that exists, patches/NAME otherwise.
# With "baseline" as argument, assemble $BASE_SRC: the base only.
#
# Re-assembling an unchanged input is a no-op, and a changed one rewrites only
# the files that differ, so ninja and ccache keep their work.
set -euo pipefail
. "$(dirname "$0")/common.sh"

pristine=$("$TOP/scripts/fetch-qemu.sh" | tail -1) || exit $?
version=$(cat "$BDIR/qemu-version")
target=$SRC
[ "${1:-}" = --baseline ] && target=$BASE_SRC

git_src() {
    git -C "$target" -c user.name="qemu-console-log" \
        -c user.email="qemu-console-log@localhost" "$@"
}

if [ ! -f "$target/.git/assembled-base" ] ||
   [ "$(cat "$target/.git/assembled-base")" != "$version" ]; then
    note "creating $target from qemu $version"
    rm -rf "$target"
    mkdir -p "$target"
    cp -a "$pristine/." "$target/"
    rm -rf "$target/.complete" "$target/.pc"
    git_src init -q -b work
    git_src add -A
    git_src commit -q -m "Debian qemu $version (base)"
    git_src tag base
    echo "$version" > "$target/.git/assembled-base"
fi
[ "$target" = "$BASE_SRC" ] && exit 0

inputs_hash() {
    (cd "$TOP" && {
        echo "$version"
        git ls-files -co --exclude-standard -- patches $(cat scripts/overlay-dirs) |
            grep -E -v '^patches/[0-9]+\.[0-9]+/' |
            sort | while read -r f; do [ -f "$f" ] && sha1sum "$f"; done
        if [ -d "patches/$BASE" ]; then
            find "patches/$BASE" -type f | sort | xargs -r sha1sum
        fi
    } | sha1sum | cut -d' ' -f1)
}
# The stamp records the inputs last assembled or written back and the
# tree's HEAD then: a different HEAD means work not yet written back.
stamp=$target/.git/assembled-inputs
read -r old_hash old_head 2>/dev/null < "$stamp" || old_hash= old_head=
dirty=$(git_src status --porcelain)
if [ "$old_hash" = "$(inputs_hash)" ] && [ -z "$dirty" ] &&
   [ "$old_head" = "$(git_src rev-parse HEAD)" ]; then
    exit 0
fi
if [ "${FORCE:-}" != 1 ]; then
    if [ -n "$dirty" ]; then
        git_src status --short | head -20 >&2
        die "$target has uncommitted changes; commit them there and run" \
            "'make writeback', or rerun with FORCE=1 to discard them"
    fi
    if [ -n "$old_head" ] && [ "$old_head" != "$(git_src rev-parse HEAD)" ]; then
        die "$target has commits that are not written back; run" \
            "'make writeback', or rerun with FORCE=1 to discard them"
    fi
fi
git_src reset -q --hard
git_src clean -q -fd -e /build/

# Build the commits in a scratch worktree, then move $SRC to the result:
# checkout then rewrites only the files that really changed.
scratch=$BDIR/assemble-scratch
git_src worktree remove --force "$scratch" 2>/dev/null || rm -rf "$scratch"
git_src worktree prune
git_src worktree add -q --detach "$scratch" base
git_scratch() {
    git -C "$scratch" -c user.name="qemu-console-log" \
        -c user.email="qemu-console-log@localhost" "$@"
}

n=0
while read -r name; do
    case "$name" in ''|'#'*) continue ;; esac
    p=$(patch_file "$name")
    [ -f "$p" ] || die "patches/series names $name, which does not exist"
    if grep -q '^--- ' "$p" && ! git_scratch apply --index "$p"; then
        die "patch $name does not apply to qemu $version"
    fi
    for f in $(dep3_field "$p" X-Overlay-Files); do
        [ -f "$TOP/$f" ] || die "$name names overlay file $f, which is missing"
        mkdir -p "$scratch/$(dirname "$f")"
        cp "$TOP/$f" "$scratch/$f"
        git_scratch add -f "$f"
    done
    author=$(dep3_field "$p" Author | head -1)
    subject=$(dep3_field "$p" Description | head -1)
    body=$(dep3_field "$p" Description | tail -n +2)
    git_scratch commit -q --allow-empty --author="$author" \
        -m "$subject" ${body:+-m "$body"} -m "Signed-off-by: $author"
    n=$((n + 1))
done < "$TOP/patches/series"

tip=$(git_scratch rev-parse HEAD)
git_src worktree remove --force "$scratch"
git_src checkout -q -B work "$tip"

# Every overlay file must belong to some patch, or it would be silently unused.
(cd "$TOP" && git ls-files -co --exclude-standard -- $(cat scripts/overlay-dirs)) |
while read -r f; do
    [ -n "$(git_src log --format=%h base..HEAD -- "$f")" ] ||
        die "overlay file $f is named in no X-Overlay-Files header"
done
echo "$(inputs_hash) $(git_src rev-parse HEAD)" > "$stamp"
note "assembled $target: qemu $version + $n patches"
