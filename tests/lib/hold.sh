# A three-namespace path for hold tests: S (sender, 10.7.0.1) -- M (bridge
# br0; the hold runs here) -- R (receiver, 10.7.0.2). Frames toward R leave
# M through m2's egress. Sets S, M, R.
hold_topology() {
	ns_create S && ns_create M && ns_create R || return 1
	veth_create s1 "$S" m1 "$M" && veth_create r1 "$R" m2 "$M" || return 1
	bridge_create "$M" br0 || return 1
	ip -n "$M" link set m1 master br0 && ip -n "$M" link set m2 master br0 || return 1
	addr_add "$S" s1 10.7.0.1/24 && addr_add "$R" r1 10.7.0.2/24 || return 1
	# Static neighbours: no ARP in flight to confuse the frame counts.
	ip -n "$S" neigh add 10.7.0.2 lladdr "$(ip -n "$R" -o link show r1 | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)" dev s1 &&
	ip -n "$R" neigh add 10.7.0.1 lladdr "$(ip -n "$S" -o link show s1 | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)" dev r1
}

# net NS ARGS...: stasis net in namespace NS (a fresh mount namespace and
# /sys each time, as users run it).
net() { _n=$1; shift; ip netns exec "$_n" "$STASIS" net "$@"; }

# held NS: how many frames the host in NS has held so far (all epochs).
held() { net "$1" -j status | jq .counters.held; }

# triggers NS: how many packet triggers are armed in NS (coord trigger
# --packet has armed its host once its trigger is there).
triggers() { ip netns exec "$1" "$STASIS" -j net trigger list | jq length; }
