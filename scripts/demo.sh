#!/bin/bash
# The seed scenario, side by side: a Linux guest restarted three times the
# way "nova reboot" does it (a new QEMU process each time) on one console
# log, with upstream QEMU and with ours; then a guest flooding its console
# with a size bound.  Sets up everything first.
set -euo pipefail
. "$(dirname "$0")/common.sh"

"$TOP/scripts/install-deps.sh"
"$TOP/scripts/assemble.sh"
"$TOP/scripts/assemble.sh" --baseline
"$TOP/scripts/build.sh" qemu-system-x86_64
"$TOP/scripts/build.sh" --baseline qemu-system-x86_64
"$TOP/scripts/guest-image.sh"

start=$(date +%s)
guest=$BUILD/guest
demo=$BUILD/demo
rm -rf "$demo"
mkdir -p "$demo"

# boot QEMU_BINARY BOOT_ID CHARDEV [extra args]: one boot, a new process.
boot() {
    local qemu=$1 id=$2 chardev=$3
    shift 3
    timeout 300 "$qemu" -M pc -m 256 -nodefaults -display none -accel tcg \
        -kernel "$guest/vmlinuz" -initrd "$guest/initramfs.gz" \
        -append "console=ttyS0 panic=-1 bootid=$id $*" \
        -chardev "$chardev,id=serial0" -serial chardev:serial0 \
        ${EXTRA_ARGS:-} >/dev/null
}

# What an operator looks at: the files, their sizes, the boots they hold,
# and the kernel's first and last lines in each.
show() {
    local dir=$1 f
    (cd "$dir" && ls -l --time-style=+ | awk 'NR > 1 { printf "    %-16s %9d bytes\n", $NF, $5 }')
    for f in $(cd "$dir" && ls | sort -V); do
        local boots
        boots=$(grep -a -o 'console-log-guest: boot [a-z0-9]*' "$dir/$f" |
                awk '{ printf "%s%s", sep, $3; sep = " " }')
        echo "    $f: boots ${boots:-none}"
        grep -a -m1 'Linux version' "$dir/$f" | cut -c1-72 | sed 's/^/        first: /'
        tail -n1 "$dir/$f" | tr -d '\r' | cut -c1-72 | sed 's/^/        last:  /'
    done
}

scenario() {
    local title=$1 qemu=$2 opts=$3 dir=$demo/$4 i
    mkdir -p "$dir"
    echo
    echo "== $title"
    echo "   -chardev file,path=console.log$opts, three boots, each a new QEMU process"
    for i in 1 2 3; do
        boot "$qemu" "boot$i" "file,path=$dir/console.log$opts" mode=poweroff
    done
    show "$dir"
}

version=$(cat "$BUILD/qemu-version")
scenario "upstream QEMU $version, default options" \
    "$BASE_OBJ/qemu-system-x86_64" "" upstream
scenario "patched QEMU, rotate=2" "$OBJ/qemu-system-x86_64" ",rotate=2" rotate
scenario "patched QEMU, append=on" "$OBJ/qemu-system-x86_64" ",append=on" append

echo
echo "== patched QEMU, a guest writing 5.2 MB of numbered lines through a"
echo "   virtio-serial port, rotate=3,size=1M"
mkdir -p "$demo/flood"
EXTRA_ARGS="-device virtio-serial-pci -chardev file,id=flood,path=$demo/flood/flood.log,rotate=3,size=1M -device virtserialport,chardev=flood,name=flood" \
    boot "$OBJ/qemu-system-x86_64" flood1 "file,path=$demo/flood-console.log" \
    mode=flood port=vport lines=80000
(cd "$demo/flood" && for f in $(ls | sort -rV); do
    printf '    %-14s %8d bytes  lines %s .. %s\n' "$f" "$(stat -c %s "$f")" \
        "$(head -c 8 "$f")" "$(tail -n1 "$f" | head -c 8)"
done)
echo "    total $(du -cb "$demo"/flood/* | tail -1 | cut -f1) bytes (bound: 4 MiB = 4194304)"
echo
echo "demo took $(( $(date +%s) - start )) s after the build; files in $demo"
