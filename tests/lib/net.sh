# Network namespaces, veth pairs, bridges and taps for tests, each removed at
# exit by a t_defer cleanup (deleting a namespace removes what lives in it).
# Names carry the test's PID so parallel or leftover runs never collide.

# ns_create VAR: make a namespace, store its name in VAR.
ns_create() {
	_ns="st$T_ID-$1"
	ip netns add "$_ns" || return 1
	t_defer "ip netns pids $_ns | xargs -r kill -9; ip netns del $_ns"
	ip -n "$_ns" link set lo up
	# IPv6 off: a new interface sends MLDv2 reports (ff02::16) and router
	# solicitations at random moments after it comes up, and a test that
	# counts frames must count only what it sent. "default" covers the
	# interfaces made later, "all" those already there.
	ip netns exec "$_ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 || return 1
	eval "$1=\$_ns"
}

# veth_create A NS_A B NS_B: a veth pair, A in NS_A and B in NS_B, both up.
veth_create() {
	ip link add "$1" netns "$2" type veth peer name "$3" netns "$4" || return 1
	ip -n "$2" link set "$1" up && ip -n "$4" link set "$3" up
}

# bridge_create NS BR: a Linux bridge, up (no STP: forwards at once).
bridge_create() {
	ip -n "$1" link add "$2" type bridge stp_state 0 forward_delay 0 || return 1
	ip -n "$1" link set "$2" up
}

# tap_create NS TAP [BR]: a persistent tap for QEMU, up, enslaved to BR.
tap_create() {
	ip -n "$1" tuntap add dev "$2" mode tap || return 1
	ip -n "$1" link set "$2" up
	[ -z "${3:-}" ] || ip -n "$1" link set "$2" master "$3"
}

# addr_add NS DEV ADDR/PREFIX
addr_add() { ip -n "$1" addr add "$3" dev "$2"; }

# dev_stat NS DEV COUNTER: a counter of DEV in NS (rx_packets, tx_bytes, ...).
dev_stat() { ip netns exec "$1" cat "/sys/class/net/$2/statistics/$3"; }

# in_ns NS CMD...: run CMD inside NS.
in_ns() { _n=$1; shift; ip netns exec "$_n" "$@"; }

# snmp NS PROTO FIELD: a counter of /proc/net/snmp in NS (RFC 4293 names:
# snmp NS Tcp RetransSegs, snmp NS Udp RcvbufErrors, ...).
snmp() {
	ip netns exec "$1" awk -v p="$2:" -v f="$3" \
		'$1 == p { if (!h) { for (i = 1; i <= NF; i++) c[$i] = i; h = 1 } else print $c[f] }' /proc/net/snmp
}

# udp_overflows NS: datagrams the sockets of NS dropped for want of room
# (RcvbufErrors): where a receiver's count falls short of the sender's,
# this says whether the receiving program, not the network, lost them.
udp_overflows() { snmp "$1" Udp RcvbufErrors; }
