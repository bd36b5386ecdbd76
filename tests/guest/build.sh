#!/bin/sh
# Build the test guest: Debian's cloud kernel (taken with apt-get download and
# dpkg-deb -x, never installed on the host) and a busybox initramfs holding the
# virtio modules, the sg workload programs and tests/guest/init.
#   BUILD=build sh tests/guest/build.sh  ->  $BUILD/guest/{vmlinuz,initrd.img}
set -eu
BUILD=${BUILD:-build}
SRC=$(cd "$(dirname "$0")" && pwd)
OUT=$BUILD/guest
mkdir -p "$OUT/deb"
OUT=$(cd "$OUT" && pwd)

kpkg() { apt-cache depends linux-image-cloud-amd64 2>/dev/null |
	 awk '/Depends: linux-image-[0-9]/ { print $2; exit }'; }
PKG=$(kpkg)
if [ -z "$PKG" ]; then
	apt-get update -qq
	PKG=$(kpkg)
fi
[ -n "$PKG" ] || { echo "guest: no linux-image-cloud-amd64 in the package lists" >&2; exit 1; }

DEB=$(ls "$OUT/deb/${PKG}_"*.deb 2>/dev/null | head -1 || true)
if [ -z "$DEB" ]; then
	echo "guest: downloading $PKG"
	# apt-get download writes to the current directory; _apt cannot write
	# into a root-only folder, so it warns and downloads as root: harmless.
	(cd "$OUT/deb" && apt-get download -q "$PKG" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
	DEB=$(ls "$OUT/deb/${PKG}_"*.deb 2>/dev/null | head -1 || true)
	[ -n "$DEB" ] || { echo "guest: apt-get download $PKG failed" >&2; exit 1; }
fi

rm -rf "$OUT/kernel" "$OUT/root"
dpkg-deb -x "$DEB" "$OUT/kernel"
cp "$OUT"/kernel/boot/vmlinuz-* "$OUT/vmlinuz"
KVER=$(ls "$OUT/kernel/lib/modules" | head -1)

R=$OUT/root
mkdir -p "$R/bin" "$R/sbin" "$R/lib/modules" "$R/proc" "$R/sys" "$R/dev" "$R/tmp" "$R/run" "$R/mnt"
cp /bin/busybox "$R/bin/busybox"
for a in $(/bin/busybox --list); do
	[ -e "$R/bin/$a" ] || ln -s busybox "$R/bin/$a"
done
# Load order matters: busybox insmod does not resolve dependencies.
MODS="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci
failover net_failover virtio_net virtio_blk qemu_fw_cfg"
for m in $MODS; do
	f=$(find "$OUT/kernel/lib/modules/$KVER" -name "$m.ko" | head -1)
	[ -n "$f" ] || { echo "guest: module $m not in $PKG" >&2; exit 1; }
	cp "$f" "$R/lib/modules/"
done
echo "$MODS" | tr '\n' ' ' > "$R/lib/modules/order"
# IDE disks (-hda, as VMs other tools start often have): in the image, not
# loaded at boot (probing the PC's IDE controller costs every guest time);
# a boot script that needs them loads lib/modules/ide/*.ko in this order.
IDE="scsi_common scsi_mod libata ata_piix sd_mod"
mkdir -p "$R/lib/modules/ide"
for m in $IDE; do
	f=$(find "$OUT/kernel/lib/modules/$KVER" -name "$m.ko" | head -1)
	[ -n "$f" ] || { echo "guest: module $m not in $PKG" >&2; exit 1; }
	cp "$f" "$R/lib/modules/ide/"
done
echo "$IDE" > "$R/lib/modules/ide/order"

# The workload programs: one static multi-call binary plus its applet names.
cc -O2 -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -static -s -o "$R/bin/sg" "$SRC"/sg/*.c
for a in udp-send udp-recv tcp-send tcp-sink ticker clock-peer req-srv req-cli mem-pattern work-timer; do ln -s sg "$R/bin/$a"; done

cp "$SRC/init" "$R/init"
chmod 0755 "$R/init"
(cd "$R" && find . | sort | cpio -o -H newc --quiet) | gzip -1 > "$OUT/initrd.img.tmp"
mv "$OUT/initrd.img.tmp" "$OUT/initrd.img"
rm -rf "$OUT/kernel" "$R"
echo "guest: $PKG ($KVER) -> $OUT/vmlinuz, $OUT/initrd.img"
