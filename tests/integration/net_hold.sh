#!/bin/bash
# The network hold on veth pairs: a numbered UDP flood; hold for 2 s; drain;
# the .sp holds exactly the frames sent while holding; replay; the receiver
# gets every frame exactly once, in order; the drop counters are zero.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/net.sh"
. "$(dirname "$0")/../lib/pcap.sh"
. "$(dirname "$0")/../lib/hold.sh"
t_need_root
W=$T_WORK COUNT=60000 RATE=10000

t_require "three namespaces joined by a bridge" hold_topology
t_require "attach on m2 (egress toward R)" quiet net "$M" attach m2
t_defer "ip netns exec $M $STASIS net detach --force"
t_eq "status: pass, in a fresh invocation" pass "$(net "$M" -j status | jq -r .state)"
t_eq "another namespace sees nothing attached" 1 "$(net "$S" status > /dev/null 2>&1; echo $?)"

in_ns "$R" "$SG" udp-recv 5000 --count $COUNT --idle-ms 8000 > "$W/recv" &
rp=$!
wait_line "$W/recv" ready 5
in_ns "$S" "$SG" udp-send 10.7.0.2 5000 $COUNT --rate $RATE > "$W/send" &
sp=$!
t_require "the flood reaches R" wait_until 30 at_least 5000 dev_stat "$R" r1 rx_packets
t_require "hold" quiet net "$M" hold --epoch 5
# ip netns exec execs stasis: $! is its PID (a function would put a
# subshell in between, and background shells ignore SIGINT).
ip netns exec "$M" "$STASIS" net drain -o "$W/held.sp" --follow > "$W/drain.out" 2> "$W/drain.err" &
dp=$!
t_require "frames are held" wait_until 60 at_least 15000 held "$M"
t_eq "status: hold, epoch 5" "hold 5" "$(net "$M" -j status | jq -r '"\(.state) \(.epoch)"')"
kill -TERM $dp
wait $dp
t_eq "drain --follow stopped cleanly" 0 $?
held=$(jq -r .frames < <("$STASIS" -j sp info "$W/held.sp"))
echo "# held $held frames; $(cat "$W/drain.out")"
t_check "frames were held ($held)" test "$held" -gt 1000
t_require "replay" into "$W/replay.out" net "$M" replay "$W/held.sp" --rate 50000
echo "# $(cat "$W/replay.out")"
wait $sp
wait $rp
r=$(grep done "$W/recv")
echo "# $r; R's sockets overflowed $(udp_overflows "$R") times"
t_eq "every datagram arrived" $COUNT "$(kv unique "$r")"
t_eq "no gaps" 0 "$(kv gaps "$r")"
t_eq "no duplicates" 0 "$(kv dup "$r")"
t_eq "in order" 0 "$(kv reordered "$r")"
t_eq "state back to pass" pass "$(net "$M" -j status | jq -r .state)"

# The .sp holds a contiguous run of datagram numbers, sent while holding.
sg_numbers "$W/held.sp" '> 10.7.0.2:5000 ' > "$W/seqs"
first=$(head -1 "$W/seqs") last=$(tail -1 "$W/seqs")
t_eq "the held datagrams are one contiguous run" "$((last - first + 1))" "$(sort -un "$W/seqs" | wc -l)"
t_eq "and in order in the file" "$(sort -n "$W/seqs" | md5sum)" "$(md5sum < "$W/seqs")"
t_eq "sequence numbers are unique and increasing" true "$("$STASIS" -j sp cat "$W/held.sp" | jq '[.[].seq] as $s | $s == ($s | unique)')"
# The host numbers every frame it holds: a gap would be a frame taken and
# not stored.
t_eq "and without a gap: every frame held is in the file" true \
	"$("$STASIS" -j sp cat "$W/held.sp" | jq '[.[].seq] as $s | ($s | max) - ($s | min) + 1 == ($s | length)')"
t_eq "the .sp knows its epoch" 5 "$("$STASIS" -j sp info "$W/held.sp" | jq .epoch)"
net "$M" -j status > "$W/status.json"
t_eq "no frame dropped by the hold" "0 0 0 0 0" "$(jq -r '.counters | "\(.drop_ring_full) \(.drop_too_big) \(.drop_load) \(.drop_drain) \(.discarded)"' "$W/status.json")"
t_eq "replayed counter = held + meanwhile" "$(jq .counters.held "$W/status.json")" "$(jq .counters.replayed "$W/status.json")"
t_eq "m2 tx_dropped stays 0" 0 "$(jq '.devices[0].tx_dropped' "$W/status.json")"
t_done
