#!/bin/bash
# Three hosts, each its own network namespace with its own agent, one
# mosquitto broker reached over a bridge; H1 -> H2 carry a numbered flow over
# an uplink that H1 holds. Snapshot, restore, a time trigger, a malformed
# payload, a duplicate, an agent that does not answer, the broker restarted.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/net.sh"
. "$(dirname "$0")/../lib/pcap.sh"
t_need_root
W=$T_WORK O=$T_WORK/out E=$T_WORK/err
EXP=exp1

ns_create BR && bridge_create "$BR" cbr && addr_add "$BR" cbr 10.8.0.254/24
t_require "broker namespace" test $? = 0
for i in 1 2 3; do
	ns_create H$i || break
	eval "h=\$H$i"
	veth_create c$i "$h" p$i "$BR" && ip -n "$BR" link set p$i master cbr && addr_add "$h" c$i 10.8.0.$i/24 || break
done
t_require "three hosts on the control bridge" quiet in_ns "$H3" ping -q -c 1 -W 2 10.8.0.254
veth_create u1 "$H1" u2 "$H2" && addr_add "$H1" u1 10.9.0.1/24 && addr_add "$H2" u2 10.9.0.2/24
t_require "an uplink H1 -> H2" quiet in_ns "$H1" ping -q -c 1 -W 2 10.9.0.2

# log_type all: the log says when a subscription is in place (SUBACK).
printf 'listener 1883 10.8.0.254\nallow_anonymous true\npersistence false\nlog_type all\n' > "$W/mosq.conf"
start_broker() {
	ip netns exec "$BR" mosquitto -c "$W/mosq.conf" >> "$W/mosq.log" 2>&1 &
	BP=$!
	t_defer "kill \$BP"
	wait_until 10 in_ns "$H1" bash -c 'exec 3<>/dev/tcp/10.8.0.254/1883'
}
t_require "mosquitto in the broker namespace" start_broker
URL=mqtt://10.8.0.254:1883
t_require "attach H1's uplink" quiet ip netns exec "$H1" "$STASIS" net attach --uplink u1
t_defer "ip netns exec $H1 $STASIS net detach --force"
for i in 1 2 3; do
	eval "h=\$H$i"
	ip netns exec "$h" "$STASIS" agent --broker $URL --experiment $EXP --host h$i \
		--snapshots "$W/snaps$i" --instances "$W/vms$i" > "$W/agent$i.log" 2>&1 &
	eval "AP$i=\$!"
	t_defer "kill -CONT \$AP$i; kill \$AP$i"
done
coord() { ip netns exec "$H3" "$STASIS" coord "$@" --broker $URL --experiment $EXP; }
# online N: N agents (or more) online and answering.
online() { coord status > "$W/online" 2>&1; [ "$(grep -c ' online  *ok' "$W/online")" -ge "$1" ]; }
t_check "status: three agents online and answering" wait_until 30 online 3

# A numbered flow H1 -> H2 across the held uplink, over snapshot and restore.
in_ns "$H2" "$SG" udp-recv 5000 --count 20000 --idle-ms 15000 > "$W/recv" &
rp=$!
wait_line "$W/recv" ready 5
in_ns "$H1" "$SG" udp-send 10.9.0.2 5000 20000 --rate 4000 > /dev/null &
sp=$!
t_require "the flow reaches h2" wait_until 30 at_least 2000 dev_stat "$H2" u2 rx_packets
t_run "$O" "$E" coord snapshot --epoch 100
cat "$O" | sed 's/^/# /'
t_eq "snapshot 100 reported by all three" 0 "$T_RC"
held=$("$STASIS" -j sp info "$W/snaps1/snap-100/h1/net.sp" | jq .frames)
t_check "h1 held frames in flight toward h2 ($held)" test "$held" -gt 0
for i in 1 2 3; do
	t_eq "h$i's part is complete" complete "$(jq -r .state "$W/snaps$i/snap-100/h$i/manifest.json")"
done
# No wait for the frames: TC egress runs in the sender's own send, so once
# it has exited every datagram is on the wire or held.
wait $sp
t_run "$O" "$E" coord restore snap-100
cat "$O" | sed 's/^/# /'
t_eq "restore reported by all three" 0 "$T_RC"
wait $rp
r=$(grep done "$W/recv")
echo "# $r"
t_eq "the flow lost nothing across snapshot and restore" "20000 0 0 0" \
	"$(kv unique "$r") $(kv gaps "$r") $(kv dup "$r") $(kv reordered "$r")"
t_eq "h1's network is back to pass" pass "$(ip netns exec "$H1" "$STASIS" -j net status | jq -r .state)"

# A second snapshot of the same epoch is refused, and the first stays.
t_run "$O" "$E" coord snapshot --epoch 100
t_eq "a second snapshot of epoch 100 fails" 1 "$T_RC"
t_eq "  every host says it has a part of that epoch" 3 "$(grep -c 'part of that epoch already' "$O")"
for i in 1 2 3; do
	t_eq "  h$i's part of 100 is still complete" complete "$(jq -r .state "$W/snaps$i/snap-100/h$i/manifest.json")"
done

# The same snapshot restored again: done again, not taken for a duplicate.
t_run "$O" "$E" coord restore snap-100
sed 's/^/# /' "$O"
t_eq "a second restore of 100 succeeds" 0 "$T_RC"
t_eq "  nobody calls it a duplicate" 0 "$(grep -c duplicate "$O")"
t_check "  h1 replayed its held frames again" grep -qE "^ *h1 .* replayed=[1-9]" "$O"
t_eq "  h1's network is back to pass" pass "$(ip netns exec "$H1" "$STASIS" -j net status | jq -r .state)"

# A time trigger 2 s ahead: every agent fires and says how late it was.
t_run "$O" "$E" coord trigger --in 2s --epoch 200
t_eq "time trigger: all three snapshotted" 0 "$T_RC"
for i in 1 2 3; do
	late=$(jq .trigger.late_ns "$W/snaps$i/snap-200/h$i/manifest.json")
	t_check "h$i fired, late by $late ns" test "$late" -ge 0
done

t_run "$O" "$E" coord restore 200
t_eq "restore 200 (the hold after a snapshot lasts until a restore)" 0 "$T_RC"

# A packet trigger on h1's uplink: h1 holds at that frame, tells the others,
# all three snapshot the same epoch; restore brings the rest of the flow.
in_ns "$H2" "$SG" udp-recv 5000 --count 6000 --idle-ms 20000 --progress-ms 200 > "$W/recv2" &
rp=$!
wait_line "$W/recv2" ready 5
ip netns exec "$H3" "$STASIS" coord trigger --packet --offset 50 --hex "$(printf '%016x' 2500)" \
	--epoch 400 --broker $URL --experiment $EXP --timeout 60 > "$W/ptrig" 2>&1 &
tp=$!
# Armed when h1's packet trigger is in its BPF map (the followers need
# nothing: they act on h1's event).
t_require "h1 is armed" wait_until 30 at_least 1 sh -c "ip netns exec $H1 $STASIS -j net trigger list | jq length"
in_ns "$H1" "$SG" udp-send 10.9.0.2 5000 6000 --rate 3000 > /dev/null
wait $tp
t_eq "packet trigger: all three snapshotted epoch 400" 0 $?
sed 's/^/# /' "$W/ptrig"
t_eq "h1's manifest names the packet trigger" "packet h1" \
	"$(jq -r '"\(.trigger.kind) \(.trigger.host)"' "$W/snaps1/snap-400/h1/manifest.json")"
t_eq "h2 and h3 followed h1's event" "packet h1 packet h1" \
	"$(jq -r '"\(.trigger.kind) \(.trigger.host)"' "$W/snaps2/snap-400/h2/manifest.json" "$W/snaps3/snap-400/h3/manifest.json" | tr '\n' ' ' | sed 's/ $//')"
# h2 has every datagram before the trigger, and a progress line printed
# after that one (200 ms later) shows no more.
progress_n() { grep -c progress "$W/recv2"; }
t_check "h2 got the datagrams before the trigger" wait_until 30 sh -c "grep progress '$W/recv2' | tail -1 | grep -q 'unique=2500 '"
t_check "  and a progress line after that" wait_until 30 at_least $(( $(progress_n) + 1 )) progress_n
p=$(grep progress "$W/recv2" | tail -1)
t_eq "h2 received exactly the datagrams before the trigger frame" "2500 2499" "$(kv unique "$p") $(kv max "$p")"
t_eq "h1's net.sp names its host and the snapshot's epoch, as the manifest does" "h1 400" \
	"$("$STASIS" -j sp info "$W/snaps1/snap-400/h1/net.sp" | jq -r '"\(.host) \(.epoch)"')"
t_eq "the trigger frame is the first held on h1" 2500 "$(sg_numbers "$W/snaps1/snap-400/h1/net.sp" '> 10.9.0.2:5000 ' | head -1)"
# The same trigger event again (a duplicate, or a second host that saw the
# frame too): nothing is snapshotted twice.
m2=$(md5sum < "$W/snaps2/snap-400/h2/manifest.json")
in_ns "$H3" mosquitto_pub -h 10.8.0.254 -q 1 -t "stasis/$EXP/event/h1" \
	-m '{"v":1,"experiment":"'$EXP'","epoch":400,"op":"event","from":"h1","sent_ns":1,"trigger":0}'
# An agent handles its messages one after the other: once all three have
# answered a status request sent after the event, they have handled it.
t_check "the agents handled the event" wait_until 30 online 3
t_eq "a duplicate trigger event changes no part of the snapshot" "$m2" "$(md5sum < "$W/snaps2/snap-400/h2/manifest.json")"
# Resume: the frozen experiment goes on, nothing restored.
t_run "$O" "$E" coord resume
sed 's/^/# /' "$O"
t_eq "resume from the packet trigger's freeze" 0 "$T_RC"
wait $rp
r=$(grep done "$W/recv2")
t_eq "after the resume h2 has all 6000, in order" "6000 0 0" "$(kv unique "$r") $(kv dup "$r") $(kv reordered "$r")"
t_eq "h1's network is back to pass" pass "$(ip netns exec "$H1" "$STASIS" -j net status | jq -r .state)"
t_run "$O" "$E" coord resume
t_eq "a second resume is refused: nothing is frozen any more" "1 3" "$T_RC $(grep -c 'nothing is frozen here' "$O")"

# Edit, then go on: h1's held frames with the trigger datagram renumbered
# (payload bytes 8-15, frame offset 50) given for one restore; the next
# plain restore puts back the original.
SP400=$W/snaps1/snap-400/h1/net.sp
idx=$("$STASIS" -j sp cat "$SP400" | jq '[.[].summary | test("> 10.9.0.2:5000$")] | index(true)')
ndg=$(sg_numbers "$SP400" '> 10.9.0.2:5000 ' | wc -l)
t_require "an edited copy of h1's held frames" quiet "$STASIS" sp edit "$SP400" -o "$W/edited.sp" \
	--set "$idx:50:$(printf '%016x' 1000000)" --fix-checksums
restore_into() {	# FILE ARGS...: restore 400 with h2 counting what comes
	_f=$1; shift
	in_ns "$H2" "$SG" udp-recv 5000 --count "$ndg" --idle-ms 10000 --verbose > "$_f" &
	_rp=$!
	wait_line "$_f" ready 5
	t_run "$O" "$E" coord restore 400 "$@"
	wait $_rp
}
restore_into "$W/recv-edited" --frames "h1=$W/edited.sp"
t_eq "the restore with edited frames succeeds" 0 "$T_RC"
t_eq "h2 got the edited datagram in place of 2500" "1 0" \
	"$(grep -c '^udp-recv: seq=1000000$' "$W/recv-edited") $(grep -c '^udp-recv: seq=2500$' "$W/recv-edited")"
t_eq "the snapshot itself is unchanged" 2500 "$(sg_numbers "$SP400" '> 10.9.0.2:5000 ' | head -1)"
restore_into "$W/recv-plain"
t_eq "the next plain restore succeeds" 0 "$T_RC"
t_eq "and puts back the original" "0 1" \
	"$(grep -c '^udp-recv: seq=1000000$' "$W/recv-plain") $(grep -c '^udp-recv: seq=2500$' "$W/recv-plain")"

# A malformed payload: an error published back, the agents carry on.
in_ns "$H3" mosquitto_sub -h 10.8.0.254 -i errwatch -t "stasis/$EXP/error/+" -C 3 -W 10 > "$W/errors" &
mp=$!
t_require "the error watcher is subscribed" wait_line "$W/mosq.log" "Sending SUBACK to errwatch" 10
in_ns "$H3" mosquitto_pub -h 10.8.0.254 -t "stasis/$EXP/cmd" -m '{"v":1,"experiment":'
wait $mp
t_eq "each agent published an error for the malformed payload" 3 "$(grep -c 'not JSON' "$W/errors")"
t_run "$O" "$E" coord status
t_eq "and all three still answer" 3 "$(grep -c ' online  *ok' "$O")"

# An agent that does not answer: the round fails, no part is complete.
kill -STOP $AP3
t_run "$O" "$E" coord snapshot --epoch 300 --timeout 3
t_eq "snapshot with a silent agent fails" 1 "$T_RC"
t_check "  and names it" grep -q "h3 .*NO REPLY" "$O"
kill -CONT $AP3
# h3 goes on with the requests it missed; once it answers a newer one it
# has handled them all.
t_check "h3 answers again" wait_until 30 online 3
for i in 1 2 3; do
	st=$(jq -r .state "$W/snaps$i/snap-300/h$i/manifest.json" 2>/dev/null || echo none)
	t_check "h$i's part of 300 is not complete ($st)" test "$st" != complete
done
ip netns exec "$H1" "$STASIS" net release --force > /dev/null

t_run "$O" "$E" coord list
l1=$(grep '^h1:' "$O")
t_check "list: h1 has 100 and 200 complete, 300 failed ($l1)" sh -c "echo '$l1' | grep -q ' 100=complete' && echo '$l1' | grep -q ' 200=complete' && echo '$l1' | grep -q ' 300=failed'"

# The broker restarted: the agents come back by themselves.
kill $BP; wait $BP 2>/dev/null
t_require "broker restarted" start_broker
t_check "after the restart all three agents are online again" wait_until 60 online 3

# An agent killed: its last will says offline.
kill -9 $AP2
t_check "a killed agent shows offline (its will)" wait_until 30 sh -c "ip netns exec $H3 $STASIS coord status --broker $URL --experiment $EXP 2>&1 | grep -q 'h2 *offline'"
t_done
