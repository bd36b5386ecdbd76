#!/bin/bash
# T_TIMEOUT=2400 (read by tests/run.sh: the guest runs a whole suite under TCG)
#
# The kernel matrix: the network-hold integration tests
# (tests/integration/net_*.sh) on Debian 12's stock kernel, the oldest one
# stasis supports, as well as on the host's. A TCG guest boots that kernel
# with the test initramfs, mounts the ext4 image of tests/guest/matrix-root.sh
# (the host's tools, the kernel's own modules, this tree's tests and build)
# and runs tests/guest/matrix-run.sh in a chroot there; its result lines
# come back on the guest's second serial port and are reported here with
# the kernel's version in front ("ok - 6.1: net_hold: ..."). A guest that
# panics, hangs or stops before the end fails the test.
#
# Settings: KM_TESTS (names of tests/integration tests, default all net_*),
# KM_TIMEOUT (seconds for the whole guest run), KM_MEM (MiB), KM_SMP.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/refusal.sh"
t_need_root
W=$T_WORK KM=$BUILD/kmatrix
KM_TIMEOUT=${KM_TIMEOUT:-2100} KM_MEM=${KM_MEM:-1536} KM_SMP=${KM_SMP:-2}
STASIS_ACCEL=${STASIS_ACCEL:-tcg}
for f in root.ext4 vmlinuz kver; do
	[ -r "$KM/$f" ] || t_skip "kernel-matrix image missing ($KM/$f): make kmatrix"
done
[ -r "$BUILD/guest/initrd.img" ] || t_skip "guest image missing: make guest"
KVER=$(cat "$KM/kver")
K=$(echo "$KVER" | cut -d. -f1,2)	# "6.1" of 6.1.0-57-cloud-amd64

# What a refusal looks like on the host's kernel (the guest checks its own).
out=$(refusal_check "host $(uname -r | cut -d. -f1,2)")
echo "$out"
T_FAILED=$((T_FAILED + $(grep -c '^not ok' <<< "$out")))

# Sizes the host's tests use that a TCG guest cannot reach in time. Each
# test reads its variable and keeps its own default when it is unset.
# SG_RCVBUF: udp-recv's socket buffer (its own default is 4 MiB), for
# receivers far slower than their senders.
GUEST_ENV="CI=${CI:-} T_TIMEOUT=${KM_TEST_TIMEOUT:-900} T_GSO_BYTES=${KM_GSO_BYTES:-100000000} T_SWITCHOVER_RATE=${KM_SWITCHOVER_RATE:-10000}"
GUEST_ENV="$GUEST_ENV SG_RCVBUF=$((128 << 20))"

# The boot script (busybox sh in the initramfs): the image's root with the
# file systems the tests need (/dev/fd for bash's <(...), which udev
# would make on a full system), and bpffs once for both views of /sys (the
# loader pins under PID 1's /sys/fs/bpf, the tests look at the chroot's).
cat > "$W/boot.sh" << EOF
mkdir -p /sys/fs/bpf && mount -t bpf bpf /sys/fs/bpf &&
mount -t ext4 /dev/vda /mnt &&
mount -t proc proc /mnt/proc &&
mount --rbind /sys /mnt/sys &&
mount -t devtmpfs devtmpfs /mnt/dev &&
ln -s /proc/self/fd /mnt/dev/fd &&
mount -t tmpfs tmpfs /mnt/run &&
chroot /mnt /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb \
	$GUEST_ENV KM_TESTS="${KM_TESTS:-}" /bin/bash /stasis/tests/guest/matrix-run.sh > /dev/ttyS1 2>&1
echo "stasis-kmatrix: exited \$?"
sync
poweroff -f
EOF
: > "$W/results"
# ipv6.disable_ipv6=1: every interface of every namespace starts with IPv6
# off. A link's MLD report or router solicitation at a random moment after
# it comes up is a frame held where a test wants none, and the slower the
# machine, the later it comes. (Setting net.ipv6.conf.default.disable_ipv6
# with net.core.devconf_inherit_init_net=1 does not do it on 6.1: new
# namespaces inherit "all" but not "default".) The sysctls stay, so tests
# that turn IPv6 off themselves still can.
# snapshot=on: the image stays as built; what the tests write goes to a
# temporary overlay that QEMU deletes.
qemu-system-x86_64 -name kmatrix -accel "$STASIS_ACCEL" -m "$KM_MEM" -smp "$KM_SMP" \
	-nodefaults -no-user-config -display none \
	-kernel "$KM/vmlinuz" -initrd "$BUILD/guest/initrd.img" \
	-append "console=ttyS0 loglevel=3 panic=-1 stasis.name=kmatrix ipv6.disable_ipv6=1" \
	-serial "file:$W/console.log" -serial "file:$W/results" \
	-fw_cfg "name=opt/stasis/run,file=$W/boot.sh" \
	-drive "file=$KM/root.ext4,format=raw,if=virtio,snapshot=on" \
	-no-reboot > "$W/qemu.log" 2>&1 &
qp=$!
t_defer "kill -9 $qp"
start=$(date +%s)
end=$((start + KM_TIMEOUT))
while kill -0 $qp 2> /dev/null && [ "$(date +%s)" -lt $end ]; do
	grep -q '^kmatrix: done' "$W/results" 2> /dev/null && break
	sleep 1
done
# After "done" the guest syncs and powers off: a few seconds at most.
for _ in $(seq 30); do kill -0 $qp 2> /dev/null || break; sleep 1; done
alive=0
kill -0 $qp 2> /dev/null && alive=1
echo "# guest ran $(( $(date +%s) - start )) s ($KM_SMP vCPUs, $KM_MEM MiB, $STASIS_ACCEL)"

# The guest's lines, with the kernel's version after the dash.
tr -d '\r' < "$W/results" | sed -E \
	-e "s/^(ok|not ok|skip) - /\1 - $K: /" \
	-e t -e "s/^/# $K: /" -e 's/^# [0-9.]*: # /# /'
# The guest's failures are this test's (its work files are kept).
T_FAILED=$((T_FAILED + $(grep -c '^not ok ' "$W/results")))
t_check "$K: the guest ran kernel $KVER" grep -q "^kmatrix: kernel $KVER," "$W/results"
if ! t_check "$K: the guest finished within $KM_TIMEOUT s (no hang, no crash)" \
	grep -q '^kmatrix: done' "$W/results"; then
	echo "# last console lines:"
	tail -20 "$W/console.log" | tr -d '\r' | sed 's/^/#   /'
	[ $alive = 0 ] || echo "# the guest was still running: killed"
fi
t_check "$K: the kernel log has no panic, oops or BUG" \
	sh -c "! grep -qE 'Kernel panic|Oops|BUG:|WARNING: CPU' '$W/console.log'"
t_done
