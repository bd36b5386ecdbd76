#!/bin/bash
# A TCP stream with offloads on: frames at egress are GSO super-frames. The
# stream is held mid-transfer, drained, replayed (super-frames cut into
# segments), and completes with every byte intact.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/net.sh"
. "$(dirname "$0")/../lib/hold.sh"
t_need_root
W=$T_WORK BYTES=1000000000

t_require "three namespaces joined by a bridge" hold_topology
t_eq "TSO is on for the sender" on "$(in_ns "$S" ethtool -k s1 | awk '/^tcp-segmentation-offload/ {print $2}')"
t_require "attach m2 (uplink: TC egress)" quiet net "$M" attach --uplink m2
t_defer "ip netns exec $M $STASIS net detach --force"
in_ns "$R" "$SG" tcp-sink 6000 > "$W/sink" &
kp=$!
wait_line "$W/sink" ready 5
# TCP segments S sent again (RFC 4293 tcpRetransSegs, from /proc/net/snmp).
retrans() { in_ns "$S" awk '/^Tcp:/ { if (h) print $13; else h = 1 }' /proc/net/snmp; }
in_ns "$S" "$SG" tcp-send 10.7.0.2 6000 $BYTES > "$W/send" &
sp=$!
sleep 0.3
r0=$(retrans)
t_require "hold mid-transfer" quiet net "$M" hold
sleep 1.5
t_require "drain" quiet net "$M" drain -o "$W/held.sp"
gso=$("$STASIS" -j sp cat "$W/held.sp" | jq '[.[] | select(.flags == 1)] | length')
big=$("$STASIS" -j sp cat "$W/held.sp" | jq '[.[] | .orig_len] | max')
echo "# held $("$STASIS" -j sp info "$W/held.sp" | jq .frames) frames, $gso GSO super-frames, largest $big bytes"
t_check "GSO super-frames were held whole ($gso, up to $big bytes)" test "$gso" -gt 0 -a "$big" -gt 1514
t_require "replay (super-frames cut to the MTU)" into "$W/replay.out" net "$M" replay "$W/held.sp" --rate 0
echo "# $(cat "$W/replay.out")"
wait $sp
wait $kp
t_eq "the stream completed, every byte intact" "bytes=$BYTES errors=0" \
	"$(grep -o 'bytes=[0-9]* errors=[0-9]*' "$W/sink")"
# Retransmission would also complete the stream: the replayed segments must
# be what R took. Had they been lost, S would have sent the whole held
# window again (at least segs); a few timer retransmissions during the hold
# are expected.
segs=$(( $("$STASIS" -j sp cat "$W/held.sp" | jq '[.[] | .orig_len] | add') / 1448 ))
re=$(( $(retrans) - r0 ))
echo "# S retransmitted $re segments; the held frames carried about $segs"
t_check "the replayed segments were taken, not sent again ($re retransmitted of ~$segs held)" \
	test $((re * 2)) -lt "$segs"
t_eq "no frame dropped by the hold" "0 0 0 0" "$(net "$M" -j status | jq -r '.counters | "\(.drop_ring_full) \(.drop_too_big) \(.drop_load) \(.drop_drain)"')"
t_done
