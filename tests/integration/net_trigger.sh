#!/bin/bash
# A packet trigger: bytes at a fixed offset of a UDP payload sent from the
# "guest" side (XDP on m1) flip the host to HOLD in the kernel before that
# frame is delivered: it is the first frame held toward R, wait-trigger
# reports it, and R has received exactly the datagrams before it.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/net.sh"
. "$(dirname "$0")/../lib/pcap.sh"
. "$(dirname "$0")/../lib/hold.sh"
t_need_root
W=$T_WORK COUNT=2000 MARK=700

t_require "three namespaces joined by a bridge" hold_topology
t_require "attach m1 and m2 as taps" quiet net "$M" attach m1 m2
t_defer "ip netns exec $M $STASIS net detach --force"
# The sg datagram number is at frame offset 50 (14 + 20 + 8 + 8), 8 bytes.
hex=$(printf '%016x' $MARK)
t_eq "trigger added" 0 "$(net "$M" -j trigger add --offset 50 --hex "$hex" --dir from-guest --once | jq .id)"
t_eq "trigger listed" "50 $hex from-guest true" "$(net "$M" -j trigger list | jq -r '.[0] | "\(.offset) \(.hex) \(.dir) \(.once)"')"
ip netns exec "$M" "$STASIS" -j net wait-trigger --timeout 30 > "$W/event" 2> "$W/event.err" &
wp=$!
# No wait for it to be ready: wait-trigger takes an event queued before it
# started as well (the BPF queue map keeps it).
in_ns "$R" "$SG" udp-recv 5000 --count $COUNT --idle-ms 3000 > "$W/recv" &
rp=$!
wait_line "$W/recv" ready 5
in_ns "$S" "$SG" udp-send 10.7.0.2 5000 $COUNT --rate 2000 > /dev/null
wait $wp
t_eq "wait-trigger returned" 0 $?
t_eq "the event names trigger 0 on m1, from the guest, and the hold" "0 m1 from-guest true" \
	"$(jq -r '"\(.trigger) \(.dev) \(.dir) \(.held)"' "$W/event")"
t_eq "host in hold" hold "$(net "$M" -j status | jq -r .state)"
wait $rp
r=$(grep done "$W/recv")
echo "# $r"
t_eq "R got exactly the datagrams before the trigger frame" "$MARK 0 $((MARK - 1))" \
	"$(echo "$(kv unique "$r") $(kv first "$r") $(kv max "$r")")"
t_require "drain" quiet net "$M" drain -o "$W/held.sp"
t_eq "the trigger frame is the first one held for R" $MARK "$(sg_numbers "$W/held.sp" '> 10.7.0.2:5000 ' | head -1)"
t_eq "the once-trigger is spent" "false 1" "$(net "$M" -j trigger list | jq -r '.[0] | "\(.active) \(.hits)"')"
in_ns "$R" "$SG" udp-recv 5000 --count $((COUNT - MARK)) --idle-ms 3000 > "$W/recv2" &
rp=$!
wait_line "$W/recv2" ready 5
t_require "replay" quiet net "$M" replay "$W/held.sp"
wait $rp
r=$(grep done "$W/recv2")
echo "# after replay: $r"
t_eq "after replay R has the rest, in order" "$((COUNT - MARK)) $MARK 0 0" \
	"$(echo "$(kv unique "$r") $(kv first "$r") $(kv reordered "$r") $(kv dup "$r")")"
t_eq "trigger del" 0 "$(net "$M" trigger del 0 > /dev/null; echo $?)"
t_eq "no trigger left" 0 "$(net "$M" -j trigger list | jq length)"

# Toward the receiver (TC egress on m2), with a mask, repeating: the low
# byte of the datagram number is 5 (5, 261, ...). Each match holds the
# host before that frame leaves, once per round.
t_require "a masked to-guest trigger on m2" quiet net "$M" trigger add --offset 50 \
	--hex 0000000000000005 --mask 00000000000000ff --dir to-guest --dev m2
for start in 0 256; do
	in_ns "$R" "$SG" udp-recv 5000 --count 10 --idle-ms 2000 > "$W/recv-$start" &
	rp=$!
	wait_line "$W/recv-$start" ready 5
	in_ns "$S" "$SG" udp-send 10.7.0.2 5000 10 --start $start --rate 100 > /dev/null
	t_eq "round $start: the host holds" hold "$(net "$M" -j status | jq -r .state)"
	wait $rp
	r=$(grep done "$W/recv-$start")
	t_eq "round $start: R got the 5 datagrams before the match" "5 $start $((start + 4))" \
		"$(echo "$(kv unique "$r") $(kv first "$r") $(kv max "$r")")"
	t_require "round $start: drain" quiet net "$M" drain -o "$W/to-$start.sp"
	t_eq "round $start: the matching frame is the first one held" $((start + 5)) \
		"$(sg_numbers "$W/to-$start.sp" '> 10.7.0.2:5000 ' | head -1)"
	t_require "round $start: replay" quiet net "$M" replay "$W/to-$start.sp"
done
t_eq "the trigger fired twice and stays armed" "to-guest m2 2 true" \
	"$(net "$M" -j trigger list | jq -r '.[0] | "\(.dir) \(.dev) \(.hits) \(.active)"')"
t_done
