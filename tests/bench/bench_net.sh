#!/bin/bash
# The network hold on a veth path (S -> bridge in M -> m2 -> R), in one run:
#  - hold: frames/s through stasis's TC egress hold (copy into the ring,
#    drained to a .sp concurrently) beside a TC egress program that only
#    drops, and beside tcpdump capturing m2 to a file;
#  - replay: frames/s of stasis net replay beside tcpreplay on the same link;
# with the drop counters of each. The sender is one unpaced UDP socket.
set -u
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/lib/common.sh"
. "$ROOT/tests/lib/net.sh"
. "$ROOT/tests/lib/hold.sh"
N=${NET_BENCH_FRAMES:-400000}
W=$T_WORK

hold_topology || { echo "bench net: topology failed" >&2; exit 1; }
clang -target bpf -O2 -g -I/usr/include/$(gcc -dumpmachine) -c "$ROOT/tests/bench/tc_drop.bpf.c" -o "$W/drop.o"

flood() {	# runs the sender; prints "frames seconds"
	local t0 t1
	t0=$(now_ns)
	in_ns "$S" "$SG" udp-send 10.7.0.2 5000 "$N" > /dev/null
	t1=$(now_ns)
	echo "$N $(( (t1 - t0) / 1000 ))"
}
pps() { awk -v n="$1" -v us="$2" 'BEGIN { printf "%.0f", n / (us / 1e6) }'; }

# 1. Only drop: a TC egress program that drops everything on m2.
tc -n "$M" qdisc add dev m2 clsact
tc -n "$M" filter add dev m2 egress bpf da obj "$W/drop.o" sec tc
read -r n us < <(flood)
drop_pps=$(pps "$n" "$us")
tc -n "$M" qdisc del dev m2 clsact

# 2. tcpdump on m2 writing every frame to a file (frames still forwarded).
ip netns exec "$M" tcpdump -i m2 -w "$W/td.pcap" -s 0 -B 65536 2> "$W/td.err" &
tp=$!
wait_line "$W/td.err" "listening on" 10 > /dev/null
read -r n us < <(flood)
td_pps=$(pps "$n" "$us")
sleep 1
kill -INT $tp; wait $tp
td_got=$(awk '/packets captured/ {print $1}' "$W/td.err")
td_drop=$(awk '/dropped by kernel/ {print $1}' "$W/td.err")

# 3. stasis: hold on m2, drained to a .sp while the flood runs.
ip netns exec "$M" "$STASIS" net attach --uplink m2 > /dev/null
t_defer "ip netns exec $M $STASIS net detach --force"
ip netns exec "$M" "$STASIS" net hold > /dev/null
ip netns exec "$M" "$STASIS" net drain -o "$W/held.sp" --follow > /dev/null 2>&1 &
dp=$!
read -r n us < <(flood)
hold_pps=$(pps "$n" "$us")
sleep 1
kill -TERM $dp; wait $dp
held=$("$STASIS" -j sp info "$W/held.sp" | jq .frames)
ip netns exec "$M" "$STASIS" -j net status > "$W/status.json"
ring_drop=$(jq .counters.drop_ring_full "$W/status.json")
other_drop=$(jq '.counters.drop_too_big + .counters.drop_load' "$W/status.json")

# 4. Replay the held frames, unpaced, into R; then tcpreplay of the same frames.
ip netns exec "$R" "$SG" udp-recv 5000 --idle-ms 2000 > "$W/recv1" &
rp=$!
wait_line "$W/recv1" ready 5 > /dev/null
t0=$(now_ns)
ip netns exec "$M" "$STASIS" -j net replay "$W/held.sp" --rate 0 > "$W/replay.json"
t1=$(now_ns)
wait $rp
rep_frames=$(jq '.file_frames + .ring_frames' "$W/replay.json")
rep_pps=$(pps "$rep_frames" $(( (t1 - t0) / 1000 )))
rep_txdrop=$(jq .tx_dropped "$W/replay.json")
rep_got=$(kv unique "$(grep done "$W/recv1")")
"$STASIS" sp to-pcapng "$W/held.sp" -o "$W/held.pcapng" > /dev/null
ip netns exec "$M" "$STASIS" net detach > /dev/null
ip netns exec "$R" "$SG" udp-recv 5000 --idle-ms 2000 > "$W/recv2" &
rp=$!
wait_line "$W/recv2" ready 5 > /dev/null
ip netns exec "$M" tcpreplay -i m2 --topspeed "$W/held.pcapng" > "$W/tcpreplay.out" 2>&1
wait $rp
tr_pps=$(awk '/Rated:/ { for (i = 1; i <= NF; i++) if ($i ~ /pps/) { print int($(i-1)); exit } }' "$W/tcpreplay.out")
tr_fail=$(awk '/Failed packets:/ {print $3}' "$W/tcpreplay.out")
tr_got=$(kv unique "$(grep done "$W/recv2")")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

out=$W/section.md
cat > "$out" <<MD
<!-- bench:net -->
## Network hold and replay on a veth path (issue 4)

\`make bench\` → \`tests/bench/bench_net.sh\` ($N UDP datagrams, 58-byte
frames, from one unpaced UDP socket in namespace S through a bridge in M to
R; $(machine)).

| hook on m2 egress | sender frames/s | frames kept | drops | ÷ drop-only |
| --- | --- | --- | --- | --- |
| TC program that only drops | $drop_pps | 0 | all, by design | 1.00 |
| tcpdump -w (frames forwarded) | $td_pps | $td_got | $td_drop dropped by kernel | $(ratio "$td_pps" "$drop_pps") |
| stasis hold, drain --follow to .sp | $hold_pps | $held | ring full $ring_drop, other $other_drop | $(ratio "$hold_pps" "$drop_pps") |

| replay of the $held held frames on m2 | frames/s | received by R | device drops |
| --- | --- | --- | --- |
| stasis net replay --rate 0 (AF_XDP, copy mode) | $rep_pps | $rep_got | tx_dropped +$rep_txdrop |
| tcpreplay --topspeed (pcapng of the same frames) | $tr_pps | $tr_got | failed $tr_fail |

stasis replay ÷ tcpreplay: $(ratio "$rep_pps" "$tr_pps"). The sender is a
single UDP socket, so the hold rows measure how much each hook slows it,
not the hook's ceiling. R's receiver is one UDP socket: frames it could
not take are lost in R, not on the link.
<!-- /bench:net -->
MD
cat "$out"
bench_section net "$out"
