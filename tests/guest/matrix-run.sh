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

# Two settings for the whole guest, because it runs under TCG, ten or more
# times slower than the host the tests were written on:
# - a receiver's socket buffer (net.core.rmem_default: one for all
#   namespaces, only the first has the file) big enough for a replay at the tests' rates: a receiving
#   process that slow loses datagrams in its own socket otherwise (counted
#   in RcvbufErrors), after stasis delivered every one of them;
# - IPv6 off in every new namespace (devconf_inherit_init_net): a link's
#   MLD report at a random moment after it comes up is a frame held where
#   a test wants none, and the slower the machine, the later it comes.
#   (The tests turn it off in their own namespaces too; issue 11.)
if sysctl -q -w net.core.rmem_max=$((256 << 20)) net.core.rmem_default=$((256 << 20)) \
	net.core.devconf_inherit_init_net=1 \
	net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1; then
	echo "ok - guest settings for a slow machine (socket buffers, no IPv6)"
else
	echo "not ok - guest settings for a slow machine (socket buffers, no IPv6)"
fi

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
echo "kmatrix: done"
