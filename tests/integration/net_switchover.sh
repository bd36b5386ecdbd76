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
# T_SWITCHOVER_RATE: a slower flow where the machine is slow (the kernel
# matrix's TCG guest relays ~25,000 frames/s from its ring: a flow of
# 30,000 never leaves it the gap that a switch to PASS needs).
W=$T_WORK RATE=${T_SWITCHOVER_RATE:-30000} ROUNDS=12

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
	timeout 120 ip netns exec "$M" "$STASIS" net drain -o "$W/r$i.sp" > /dev/null 2> "$W/drain.err" ||
		{ echo "# round $i: drain failed: $(tail -1 "$W/drain.err")"; break; }
	echo "# round $i: held $(($(held "$M") - h0)), drained $("$STASIS" -j sp info "$W/r$i.sp" | jq .frames)"
	# A replay that never gets back to PASS fails its round, not the
	# whole run by the test's time limit.
	t0=$(date +%s%N)
	out=$(timeout 120 ip netns exec "$M" "$STASIS" net -j replay "$W/r$i.sp" --rate 0 2> "$W/replay.err") ||
		{ echo "# round $i: replay failed: $(tail -1 "$W/replay.err")"; break; }
	echo "# round $i: $(( ($(date +%s%N) - t0) / 1000000 )) ms: $out"
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
