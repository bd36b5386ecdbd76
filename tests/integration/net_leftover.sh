#!/bin/bash
# Frames left in the ring by a drain that ended (no --follow) are sent by
# replay after the file's, and no frame that arrives meanwhile may pass
# them: they are not counted as pending, so the switch back to pass must
# wait until they are out. A slow replay rate stretches the moment in which
# a new datagram comes.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/net.sh"
. "$(dirname "$0")/../lib/hold.sh"
t_need_root
W=$T_WORK LEFT=300

t_require "three namespaces joined by a bridge" hold_topology
t_require "attach on m2" quiet net "$M" attach m2
t_defer "ip netns exec $M $STASIS net detach --force"

in_ns "$R" "$SG" udp-recv 5000 --count $((LEFT + 1)) --idle-ms 10000 > "$W/recv" &
rp=$!
wait_line "$W/recv" ready 5
t_require "hold" quiet net "$M" hold --epoch 3
t_require "drain (nothing held yet)" quiet net "$M" drain -o "$W/empty.sp"
# (nothing of the flow: the kernel's own chatter, an IGMP report of an
# interface just up, may be held and drained; CI saw one)
t_eq "the drained file has no datagram of the flow" 0 "$("$STASIS" sp cat "$W/empty.sp" | grep -c ':5000')"
t_require "$LEFT datagrams sent while holding, after the drain" \
	quiet in_ns "$S" "$SG" udp-send 10.7.0.2 5000 $LEFT --rate 3000
t_check "they wait in the ring" test "$(net "$M" -j status | jq .ring.used)" -gt 0
# 100 frames/s: the ring's frames take 3 s to go out.
ip netns exec "$M" "$STASIS" -j net replay "$W/empty.sp" --rate 100 > "$W/replay.json" 2> "$W/replay.err" &
pp=$!
# The late datagram must come while the ring's frames are still going out.
t_require "the replay is sending the ring's frames" wait_until 30 at_least 30 dev_stat "$R" r1 rx_packets
t_check "  and has not finished ($(dev_stat "$R" r1 rx_packets) of $LEFT out)" test "$(dev_stat "$R" r1 rx_packets)" -lt $LEFT
t_require "one more datagram during the replay" \
	quiet in_ns "$S" "$SG" udp-send 10.7.0.2 5000 1 --start $LEFT
wait $pp
t_eq "replay succeeded" 0 $?
echo "# replay: $(cat "$W/replay.json" "$W/replay.err")"
t_check "replay sent the ring's frames and the late one" test "$(jq .ring_frames "$W/replay.json")" -ge $((LEFT + 1))
wait $rp
r=$(grep done "$W/recv")
echo "# $r"
t_eq "every datagram arrived" $((LEFT + 1)) "$(kv unique "$r")"
t_eq "none overtook a held one" 0 "$(kv reordered "$r")"
t_eq "no duplicates" 0 "$(kv dup "$r")"
t_eq "state back to pass" pass "$(net "$M" -j status | jq -r .state)"
t_done
