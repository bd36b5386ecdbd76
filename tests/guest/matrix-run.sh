#!/bin/bash
# Runs inside the kernel-matrix guest, in the chroot of its ext4 root
# (tests/guest/matrix-root.sh), started by tests/system/kernel_matrix.sh.
# Loads the modules the network tests need, checks that `stasis net probe`
# calls this kernel supported, then runs the tests named in KM_TESTS
# (default: every tests/integration/net_*.sh) through tests/run.sh, one at
# a time. Each test's result lines are printed as soon as it ends, with the
# test's name after the dash ("ok - net_hold: ..."), so the host keeps
# whatever finished if the guest hangs or dies later. The last line is
# "kmatrix: done".
set -u
cd /stasis
export BUILD=build
echo "kmatrix: kernel $(uname -r), $(nproc) CPUs"

# The kernel would load these on demand through /sbin/modprobe of the
# initramfs, which has no modules.dep: load them here, from the chroot.
MODS="veth bridge sch_ingress cls_bpf act_bpf tun"
if modprobe -a $MODS; then
	echo "ok - kernel modules loaded ($MODS)"
else
	echo "not ok - kernel modules loaded ($MODS)"
fi

# Receive queues for a slow machine: under TCG the guest runs ten or more
# times slower than the host the tests were written on, and a receiver
# that slow loses datagrams in its own socket (RcvbufErrors), in the
# per-CPU backlog (softnet_stat) or to the UDP memory limit, after stasis
# delivered every one of them. rmem_max caps what udp-recv asks for
# (SG_RCVBUF, set by kernel_matrix.sh); rmem_max, rmem_default and
# netdev_max_backlog are one setting for all namespaces in 6.1, udp_mem one
# limit for all UDP sockets.
# (IPv6 is off in every namespace through the kernel command line:
# ipv6.disable_ipv6=1, see kernel_matrix.sh.)
pages=$(( $(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) / 4 / 2 ))	# half the RAM, in 4 KiB pages
if sysctl -q -w net.core.rmem_max=$((256 << 20)) net.core.rmem_default=$((256 << 20)) \
	net.core.netdev_max_backlog=100000 net.ipv4.udp_mem="$pages $pages $pages"; then
	echo "ok - receive queues sized for a slow machine"
else
	echo "not ok - receive queues sized for a slow machine"
fi
# softnet_stat: the second column is the backlog's drops, per CPU, in hex.
backlog_drops() {
	local c s=0
	for c in $(cut -d' ' -f2 /proc/net/softnet_stat); do s=$((s + 16#$c)); done
	echo $s
}

. tests/lib/refusal.sh
refusal_check "verifier"

out=$(build/stasis net probe 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/^/# probe: /'
if [ $rc = 0 ] && printf '%s\n' "$out" | grep -q "^kernel $(uname -r): supported"; then
	echo "ok - net_probe: stasis net probe says kernel $(uname -r) is supported"
else
	echo "not ok - net_probe: stasis net probe says kernel $(uname -r) is supported (exit $rc)"
fi

for t in ${KM_TESTS:-$(cd tests/integration && ls net_*.sh | sed 's/\.sh$//')}; do
	start=$(date +%s)
	summary=$(bash tests/run.sh "tests/integration/$t.sh" | grep -E '^(PASS|FAIL|SKIP) ')
	log=$BUILD/test-logs/integration_$t.log
	echo "# $summary, $(( $(date +%s) - start )) s"
	# Result lines with the test's name; a failure's comment lines too.
	sed -nE "s/^(ok|not ok|skip) - /\1 - $t: /p" "$log"
	case $summary in
	PASS*) ;;
	*) grep '^# ' "$log" | head -40 ;;
	esac
done
echo "# backlog drops in the whole run: $(backlog_drops)"
echo "kmatrix: done"
