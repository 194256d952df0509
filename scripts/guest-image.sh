#!/bin/bash
# Build the test guest into $BUILD/guest: the kernel of Debian's current
# linux-image-amd64 (extracted, not installed) and a busybox-static
# initramfs running tests/guest/init, with tests/guest/flood.c built
# static as /bin/flood.
set -euo pipefail
. "$(dirname "$0")/common.sh"

out=$BUILD/guest
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
       awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
[ -n "$kpkg" ] || die "cannot resolve linux-image-amd64 to a kernel package"
stamp="$kpkg $(sha1sum "$TOP/tests/guest/init" "$TOP/tests/guest/flood.c" \
                        /bin/busybox | sha1sum | cut -c1-12)"
if [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$stamp" ]; then
    exit 0
fi

kdir=$CACHE/guest/$kpkg
if [ ! -f "$kdir/.complete" ]; then
    note "downloading $kpkg"
    rm -rf "$kdir"
    mkdir -p "$kdir"
    (cd "$kdir" && apt-get download -qq "$kpkg" 2>&1 |
        grep -v "unsandboxed as root" >&2 || true)
    deb=$(ls "$kdir"/*.deb 2>/dev/null | head -1)
    [ -n "$deb" ] || die "download of $kpkg failed"
    dpkg-deb -x "$deb" "$kdir/root"
    rm -f "$deb"
    touch "$kdir/.complete"
fi

note "building the test guest ($kpkg)"
rm -rf "$out"
mkdir -p "$out"
cp "$kdir"/root/boot/vmlinuz-* "$out/vmlinuz"
initrd=$(mktemp -d)
trap 'rm -rf "$initrd"' EXIT
mkdir -p "$initrd"/{bin,dev,proc,sys,lib/modules}
cp /bin/busybox "$initrd/bin/busybox"
gcc -static -O2 -Wall -Werror -o "$initrd/bin/flood" \
    "$TOP/tests/guest/flood.c" ||
    die "cannot build tests/guest/flood.c (gcc, libc6-dev)"
cp "$TOP/tests/guest/init" "$initrd/init"
chmod 755 "$initrd/init"
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev \
         virtio_pci virtio_console; do
    ko=$(find "$kdir/root/lib/modules" -name "$m.ko*" | head -1)
    [ -n "$ko" ] || die "module $m not found in $kpkg"
    case "$ko" in
    *.xz) xz -dc "$ko" > "$initrd/lib/modules/$m.ko" ;;
    *) cp "$ko" "$initrd/lib/modules/$m.ko" ;;
    esac
done
(cd "$initrd" && find . | cpio -o -H newc --quiet | gzip -1) > "$out/initramfs.gz"
echo "$kpkg" > "$out/kernel-package"
echo "$stamp" > "$out/stamp"
note "guest in $out: vmlinuz, initramfs.gz"
