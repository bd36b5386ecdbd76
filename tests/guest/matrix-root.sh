#!/bin/bash
# The root file system of the kernel-matrix guest: an ext4 image holding what
# the network-hold integration tests run with on the host (bash, iproute2,
# jq, tcpdump, tshark, clang, coreutils, ... and their shared libraries),
# the guest kernel's modules with a modules.dep, libxdp's BPF objects, and
# this tree's tests/ and built stasis. The guest boots the ordinary test
# kernel and initramfs (tests/guest/build.sh), mounts the image and runs
# tests/guest/matrix-run.sh in a chroot there (see tests/system/kernel_matrix.sh).
#
#   BUILD=build bash tests/guest/matrix-root.sh  ->  $BUILD/kmatrix/root.ext4
#
# Why an ext4 image: the cloud kernel has no 9p and no virtiofs module, but
# ext4 built in and virtio_blk in the initramfs; `mke2fs -d` fills an image
# from a folder without mounting anything. Why the host's own binaries: the
# tests are the host's tests, run with the same tools, on another kernel.
set -eu
[ -z "${KM_TRACE:-}" ] || { PS4='+ $(date +%s.%N) '; set -x; }
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
OUT=$BUILD/kmatrix
R=$OUT/root
DEB=$(ls "$BUILD"/guest/deb/linux-image-*.deb 2> /dev/null | head -1 || true)
[ -n "$DEB" ] || { echo "kmatrix: no kernel package in $BUILD/guest/deb: make guest" >&2; exit 1; }
for f in "$BUILD/stasis" "$BUILD/tools/sg"; do
	[ -x "$f" ] || { echo "kmatrix: $f missing: make all" >&2; exit 1; }
done
rm -rf "$R" "$OUT/root.ext4.tmp"
mkdir -p "$R"/usr/{bin,sbin,lib,lib64} "$R"/{etc,proc,sys,dev,tmp,run,root,var/tmp,stasis}
for d in bin sbin lib lib64; do ln -s usr/$d "$R/$d"; done
chmod 1777 "$R/tmp" "$R/var/tmp"

# put PATH: PATH into the root at its real place, symbolic links on the
# way kept as links (clang finds its headers from where its binary really
# is), and every shared library an ELF file needs, with the loader.
# (Plain bash string operations and caches: a fork per step made this
# take minutes, with libc asked for by every binary.)
declare -A DONE REAL
put() {
	local p=$1 dir t
	[ -z "${DONE[$p]:-}" ] || return 0
	DONE[$p]=1
	dir=${p%/*}
	[ -n "${REAL[$dir]:-}" ] || REAL[$dir]=$(readlink -f "${dir:-/}")
	dir=${REAL[$dir]}
	p=$dir/${p##*/}
	[ -z "${DONE[real:$p]:-}" ] || return 0
	DONE[real:$p]=1
	[ -e "$p" ] || { echo "kmatrix: $p missing on the host" >&2; return 1; }
	mkdir -p "$R$dir"
	if [ -L "$p" ]; then
		cp -P "$p" "$R$p"
		t=$(readlink "$p")
		case "$t" in /*) put "$t" ;; *) put "$dir/$t" ;; esac
		return
	fi
	if [ -d "$p" ]; then
		mkdir -p "$R$p"
		return
	fi
	cp -p "$p" "$R$p"
	if [ -x "$p" ] || case "$p" in *.so|*.so.*) true ;; *) false ;; esac; then
		ELF+=("$p")
	fi
}
# put_libs FILE...: the shared libraries the files need, all in one ldd
# run (ldd prints the whole closure: "name => /path (addr)", and
# "/path (addr)" for the loader).
ELF=()
put_libs() {
	local t
	for t in $(printf '%s\0' "$@" | xargs -0 ldd 2> /dev/null |
		   awk '/=> \// { print $3 } /^\t\// { print $1 }' | sort -u); do
		put "$t"
	done
}
# put_tree DIR: DIR as it is (data files, headers, plugins), and the
# libraries of the shared objects in it. Copied whole: one put per file
# would cost minutes for tshark's and clang's thousands of files.
put_tree() {
	local d f
	d=$(readlink -f "$1")
	mkdir -p "$R$(dirname "$d")"
	cp -a "$d" "$R$(dirname "$d")/"
	while IFS= read -r f; do ELF+=("$f"); done < <(find "$d" -type f -name '*.so*')
}

# Whole packages' commands, so a test using one more coreutils command
# needs no change here.
for pkg in bash dash coreutils findutils grep sed mawk diffutils gzip procps psmisc \
	   iproute2 iputils-ping kmod ethtool jq tcpdump tshark; do
	for f in $(dpkg -L "$pkg" | grep -E '/s?bin/[^/]+$'); do
		[ -e "$f" ] && put "$f"
	done
done
# /usr/bin/awk is a link through /etc/alternatives, which no package lists.
for f in /usr/bin/awk /usr/bin/mount /usr/bin/umount /usr/bin/setpriv /usr/bin/setarch /usr/bin/unshare \
	 /usr/bin/nsenter /usr/bin/flock /usr/bin/sh /usr/bin/clang /usr/bin/gcc; do
	put "$f"
done
# clang -target bpf (net_bad builds a foreign TC program): its own headers
# and the UAPI and libbpf headers the program includes.
put_tree "$(dirname "$(readlink -f /usr/bin/clang)")/../lib/clang"
for d in linux asm-generic bpf "$(gcc -dumpmachine)/asm"; do put_tree "/usr/include/$d"; done
# tshark's dissectors, plugins and configuration.
put_tree /usr/share/wireshark
put_tree "/usr/lib/$(gcc -dumpmachine)/wireshark"
# libxdp's dispatcher and AF_XDP programs, at the path libxdp looks in.
put_tree "$(dirname "$(dpkg -L libxdp1 | grep -m1 'xdp-dispatcher\.o$')")"
# tcpdump changes to its own user; ip reads its tables.
cp /etc/passwd /etc/group /etc/protocols /etc/services "$R/etc/"
[ -e /etc/nsswitch.conf ] && cp /etc/nsswitch.conf "$R/etc/"
[ -d /etc/iproute2 ] && cp -r /etc/iproute2 "$R/etc/"
[ -d /usr/share/iproute2 ] && put_tree /usr/share/iproute2

# The guest kernel's modules (only what the package holds; modules.dep made
# here, since the package leaves it to its postinst).
K=$OUT/kernel
rm -rf "$K"
dpkg-deb -x "$DEB" "$K"
KVER=$(ls "$K/lib/modules" | head -1)
mkdir -p "$R/usr/lib/modules"
cp -r "$K/lib/modules/$KVER" "$R/usr/lib/modules/"
depmod -b "$R" "$KVER"
# The kernel these modules are for, next to the image, so the two always go
# together (the initramfs's few modules come from the same package: make
# rebuilds this image whenever the guest image is rebuilt).
cp "$K/boot/vmlinuz-$KVER" "$OUT/vmlinuz"
rm -rf "$K"

# The project: its tests and what `make all` built that they run.
cp -r tests "$R/stasis/"
mkdir -p "$R/stasis/build/tools"
cp -p "$BUILD/stasis" "$R/stasis/build/"
cp -p "$BUILD"/tools/* "$R/stasis/build/tools/"
ELF+=("$BUILD/stasis")
put_libs "${ELF[@]}"

# Size: what is there plus room for the tests' work files (captures,
# .sp files; net_gso holds hundreds of MB) and test logs.
used=$(du -sm "$R" | cut -f1)
mke2fs -q -t ext4 -L stasis-kmatrix -E root_owner=0:0 -d "$R" "$OUT/root.ext4.tmp" "$((used + 1024))M"
mv "$OUT/root.ext4.tmp" "$OUT/root.ext4"
echo "$KVER" > "$OUT/kver"
rm -rf "$R"
echo "kmatrix: $OUT/root.ext4 ($used MB of files, kernel $KVER)"
