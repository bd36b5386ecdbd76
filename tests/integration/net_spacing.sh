#!/bin/bash
# replay --spacing keeps the gaps the frames had when they were held: 20
# datagrams sent 100 ms apart while holding (1.9 s from first to last) take
# at least that long to replay with --spacing and reach the receiver that far
# apart, every one of them, in order.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/net.sh"
. "$(dirname "$0")/../lib/hold.sh"
t_need_root
W=$T_WORK COUNT=20 RATE=10

t_require "three namespaces joined by a bridge" hold_topology
t_require "attach on m2" quiet net "$M" attach m2
t_defer "ip netns exec $M $STASIS net detach --force"
in_ns "$R" "$SG" udp-recv 5000 --count $COUNT --idle-ms 20000 > "$W/recv" &
rp=$!
wait_line "$W/recv" ready 5
t_require "hold" quiet net "$M" hold --epoch 1
t_require "send $COUNT datagrams, $((1000 / RATE)) ms apart" quiet in_ns "$S" "$SG" udp-send 10.7.0.2 5000 $COUNT --rate $RATE
t_require "drain" quiet net "$M" drain -o "$W/held.sp"
# (Only the datagrams count: IGMP or ARP of the new links may be held too.)
"$STASIS" -j sp cat "$W/held.sp" | jq '[.[] | select(.summary | test("> 10.7.0.2:5000"))]' > "$W/dg.json"
span_ns=$(jq '.[-1].ts_ns - .[0].ts_ns' "$W/dg.json")
t_eq "all held" $COUNT "$(jq length "$W/dg.json")"
echo "# held over $((span_ns / 1000000)) ms"
# Arrival times at the receiver, by an independent tool.
# -c: it ends by itself once it has every datagram.
ip netns exec "$R" tcpdump -i r1 -n -c $COUNT -w "$W/rx.pcap" -U udp dst port 5000 2> "$W/tcpdump.err" &
tp=$!
t_defer "kill $tp 2>/dev/null"
t_require "a capture at R" wait_line "$W/tcpdump.err" "listening on" 10
t0=$(date +%s%N)
t_require "replay --spacing" quiet net "$M" replay "$W/held.sp" --spacing
t1=$(date +%s%N)
wait $rp
wait $tp
t_eq "the capture has them all" 0 $?
echo "# replay took $(( (t1 - t0) / 1000000 )) ms"
t_check "the replay took at least the held span" test $((t1 - t0)) -ge $((span_ns * 9 / 10))
rx_span=$(tshark -r "$W/rx.pcap" -T fields -e frame.time_epoch 2>/dev/null |
	awk 'NR == 1 { f = $1 } { l = $1 } END { printf "%d", (l - f) * 1e9 }')
echo "# the receiver saw them over $((rx_span / 1000000)) ms"
t_check "the receiver saw them as far apart as they were held" test "$rx_span" -ge $((span_ns * 9 / 10))
r=$(grep done "$W/recv")
t_eq "every datagram, once, in order" "$COUNT 0 0 0" "$(kv unique "$r") $(kv gaps "$r") $(kv dup "$r") $(kv reordered "$r")"
t_done
