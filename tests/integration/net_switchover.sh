#!/bin/bash
# The switch from replay back to pass, many times under a fast flow: each
# round holds for a moment, drains, and replays while datagrams keep coming,
# so frames are held in the instant of the switch. None may be lost and none
# may overtake a held one.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/net.sh"
. "$(dirname "$0")/../lib/hold.sh"
t_need_root
# The flow lasts as long as the rounds take (stopped after the last), so
# every round holds frames on a fast machine and on a slow one alike.
W=$T_WORK RATE=30000 ROUNDS=12

t_require "three namespaces joined by a bridge" hold_topology
t_require "attach on m2" quiet net "$M" attach m2
t_defer "ip netns exec $M $STASIS net detach --force"

in_ns "$R" "$SG" udp-recv 5000 --idle-ms 5000 > "$W/recv" &
rp=$!
wait_line "$W/recv" ready 5
# ip netns exec execs sg: $! is the sender itself, for the SIGTERM below.
ip netns exec "$S" "$SG" udp-send 10.7.0.2 5000 100000000 --rate $RATE > "$W/send" &
sp=$!
t_require "the flow reaches R" wait_until 30 at_least 1000 dev_stat "$R" r1 rx_packets
ok=0 frames=0
for i in $(seq $ROUNDS); do
	h0=$(held "$M")
	net "$M" hold --epoch "$i" > /dev/null || break
	wait_until 30 at_least $((h0 + 200)) held "$M" || break
	net "$M" drain -o "$W/r$i.sp" > /dev/null || break
	out=$(net "$M" -j replay "$W/r$i.sp" --rate 0) || break
	frames=$((frames + $(jq '.file_frames + .ring_frames' <<< "$out")))
	ok=$((ok + 1))
done
t_eq "$ROUNDS rounds of hold, drain, replay" $ROUNDS $ok
echo "# $frames frames held and replayed in $ok rounds"
t_check "frames were held in every round" test "$frames" -gt $((ROUNDS * 100))
kill -TERM $sp
wait $sp
sent=$(kv sent "$(grep done "$W/send")")
wait $rp
r=$(grep done "$W/recv")
echo "# sent $sent; $r; R's sockets overflowed $(udp_overflows "$R") times"
t_eq "every datagram arrived" "$sent" "$(kv unique "$r")"
t_eq "no duplicates" 0 "$(kv dup "$r")"
t_eq "none overtook a held one" 0 "$(kv reordered "$r")"
t_eq "state back to pass" pass "$(net "$M" -j status | jq -r .state)"
t_eq "no frame dropped" "0 0 0" "$(net "$M" -j status | jq -r '.counters | "\(.drop_ring_full) \(.drop_too_big) \(.drop_load)"')"
t_done
