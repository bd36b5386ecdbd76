#!/bin/bash
# A TCP stream with offloads on: frames at egress are GSO super-frames. The
# stream is held mid-transfer, drained, replayed (super-frames cut into
# segments), and completes with every byte intact; every byte of every held
# frame reaches the receiver as it was held, with valid checksums.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/net.sh"
. "$(dirname "$0")/../lib/pcap.sh"
. "$(dirname "$0")/../lib/hold.sh"
t_need_root
# T_GSO_BYTES: a smaller transfer where the machine is slow (a TCG guest).
W=$T_WORK BYTES=${T_GSO_BYTES:-1000000000}

t_require "three namespaces joined by a bridge" hold_topology
t_eq "TSO is on for the sender" on "$(in_ns "$S" ethtool -k s1 | awk '/^tcp-segmentation-offload/ {print $2}')"
t_require "attach m2 (uplink: TC egress)" quiet net "$M" attach --uplink m2
t_defer "ip netns exec $M $STASIS net detach --force"
in_ns "$R" "$SG" tcp-sink 6000 > "$W/sink" &
kp=$!
wait_line "$W/sink" ready 5
tcp_mib() { snmp "$1" Tcp "$2"; }	# NS NAME
in_ns "$S" "$SG" tcp-send 10.7.0.2 6000 $BYTES > "$W/send" &
sp=$!
t_require "the transfer is under way" wait_until 60 at_least $((BYTES / 20)) dev_stat "$R" r1 rx_bytes
r0=$(tcp_mib "$S" RetransSegs)
t_require "hold mid-transfer" quiet net "$M" hold
# S's retransmission timer fires only when nothing it sent is acknowledged:
# by then its whole window is held.
t_require "S's window is held (its retransmission timer fired)" \
	wait_until 60 at_least $((r0 + 1)) tcp_mib "$S" RetransSegs
t_require "drain" quiet net "$M" drain -o "$W/held.sp"
gso=$("$STASIS" -j sp cat "$W/held.sp" | jq '[.[] | select(.flags == 1)] | length')
big=$("$STASIS" -j sp cat "$W/held.sp" | jq '[.[] | .orig_len] | max')
echo "# held $("$STASIS" -j sp info "$W/held.sp" | jq .frames) frames, $gso GSO super-frames, largest $big bytes"
t_check "GSO super-frames were held whole ($gso, up to $big bytes)" test "$gso" -gt 0 -a "$big" -gt 1514

# The held segments, and a capture at R of every frame in their sequence
# range (a kernel filter: the rest of the stream is not copied), plus a
# marker datagram sent once the stream is done.
t_require "held frames as pcapng" quiet "$STASIS" sp to-pcapng "$W/held.sp" -o "$W/held.pcapng"
tcp_segments "$W/held.pcapng" 'tcp dst port 6000' > "$W/held.segs"
range=$(awk 'function d(x, y) { return (x - y + 4294967296) % 4294967296 }
	NR == 1 { lo = $2; span = 0 }
	{ if (d($2, lo) > 2147483648) { span += d(lo, $2); lo = $2 }
	  if (d($3, lo) > span && d($3, lo) < 2147483648) span = d($3, lo) }
	END { print lo, span }' "$W/held.segs")
set -- $range
t_check "the held frames carry data ($(wc -l < "$W/held.segs") segments, ${2:-0} bytes of sequence space)" test "${2:-0}" -gt 0
in_ns "$R" tcpdump -i r1 -nn -U -s 200 -w "$W/rx.pcap" \
	"(tcp dst port 6000 and tcp[4:4] - $1 < $2) or udp dst port 6999" 2> "$W/tcpdump.err" &
tp=$!
t_defer "kill $tp 2>/dev/null"
t_require "a capture at R" wait_line "$W/tcpdump.err" "listening on" 10
csum0=$(tcp_mib "$R" InCsumErrors) err0=$(tcp_mib "$R" InErrs)
t_require "replay (super-frames cut to the MTU)" into "$W/replay.out" net "$M" replay "$W/held.sp" --rate 0
echo "# $(cat "$W/replay.out")"
wait $sp
wait $kp
t_eq "the stream completed, every byte intact" "bytes=$BYTES errors=0" \
	"$(grep -o 'bytes=[0-9]* errors=[0-9]*' "$W/sink")"
in_ns "$S" "$SG" udp-send 10.7.0.2 6999 1 > /dev/null
t_require "the capture has everything up to the marker" \
	wait_until 10 sh -c "tcpdump -r '$W/rx.pcap' -nn udp 2>/dev/null | grep -q ."
kill $tp; wait $tp 2>/dev/null
# Retransmission would complete the stream too: the held frames themselves,
# with the timestamps they were held with, must be what R got.
tcp_segments "$W/rx.pcap" > "$W/rx.segs"
tcp_uncovered "$W/held.segs" "$W/rx.segs" > "$W/missing"
echo "# R took $(wc -l < "$W/rx.segs") frames in the held range; $(wc -l < "$W/missing") held segments not seen there as held"
t_eq "every held byte reached R in a replayed segment (same timestamp)" 0 "$(wc -l < "$W/missing")"
t_eq "R's TCP found no checksum error and no bad segment" "0 0" \
	"$(( $(tcp_mib "$R" InCsumErrors) - csum0 )) $(( $(tcp_mib "$R" InErrs) - err0 ))"
t_eq "no frame dropped by the hold" "0 0 0 0" "$(net "$M" -j status | jq -r '.counters | "\(.drop_ring_full) \(.drop_too_big) \(.drop_load) \(.drop_drain)"')"
t_done
