#!/bin/bash
# Faults at each step of a round across two hosts (namespaces, an agent
# each, one mosquitto; h1 holds an uplink toward h2 that carries a numbered
# flow). Whatever fails, no part of a snapshot is complete while another is
# missing, and a restore takes only complete parts:
# - an agent killed after its snapshot reply, before the commit;
# - an agent killed in the middle of a restore;
# - the broker restarted in the middle of a snapshot;
# - the disk of one host's snapshots full;
# - a host whose network hold is gone since its agent started.
# (An agent killed in the middle of its snapshot: coord_actions.sh.)
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/net.sh"
t_need_root
W=$T_WORK O=$T_WORK/out E=$T_WORK/err
mkdir -p "$W/actions"
cp "$BUILD/tools/action_log.so" "$W/actions/"

ns_create H1 && ns_create H2 &&
	veth_create c1 "$H1" c2 "$H2" && addr_add "$H1" c1 10.8.0.1/24 && addr_add "$H2" c2 10.8.0.2/24 &&
	veth_create u1 "$H1" u2 "$H2" && addr_add "$H1" u1 10.9.0.1/24 && addr_add "$H2" u2 10.9.0.2/24
t_require "two hosts, a control link, an uplink" test $? = 0
# Static neighbours on the uplink: the flow's frames must reach the held
# device whenever a hold starts, not wait behind an ARP request that a
# hold (or a forced release) took (CI saw a second of the flow become one
# held ARP request).
ip -n "$H1" neigh replace 10.9.0.2 lladdr "$(ip -n "$H2" -j link show u2 | jq -r '.[0].address')" dev u1 nud permanent &&
	ip -n "$H2" neigh replace 10.9.0.1 lladdr "$(ip -n "$H1" -j link show u1 | jq -r '.[0].address')" dev u2 nud permanent
t_require "static neighbours on the uplink" test $? = 0
printf 'listener 1883 10.8.0.1\nallow_anonymous true\npersistence false\n' > "$W/m.conf"
start_broker() {
	in_ns "$H1" mosquitto -c "$W/m.conf" >> "$W/mosq.log" 2>&1 &
	BP=$!
	t_defer "kill \$BP 2>/dev/null"
	wait_until 10 in_ns "$H2" bash -c 'exec 3<>/dev/tcp/10.8.0.1/1883'
}
t_require "mosquitto" start_broker
URL=mqtt://10.8.0.1:1883
t_require "h1 attaches its uplink" quiet in_ns "$H1" "$STASIS" net attach --uplink u1
t_defer "ip netns exec $H1 $STASIS net detach --force"

# agent NS EXPERIMENT HOST SNAPDIR [ENV...]: $AP is its PID; returns once
# it answers. STASIS_TEST_ACTION_SLEEP_MS=N makes each of its snapshots
# and restores take N ms more (a user action, tests/tools/action_log.c).
agent() {
	local ns=$1 exp=$2 host=$3 dir=$4
	shift 4
	ip netns exec "$ns" env "$@" "$STASIS" agent --broker $URL --experiment "$exp" --host "$host" \
		--snapshots "$dir" --actions "$W/actions" >> "$W/agent-$exp-$host.log" 2>&1 &
	AP=$!
	t_defer "kill $AP 2>/dev/null"
	wait_until 30 sh -c "ip netns exec $H2 '$STASIS' coord status --broker $URL --experiment '$exp' 2>&1 |
		grep -q '^ *$host  *online  *ok'"
}
coord() { _x=$1; shift; in_ns "$H2" "$STASIS" coord "$@" --broker $URL --experiment "$_x"; }
state() { jq -r .state "$1/manifest.json" 2>/dev/null || echo none; }
# the numbered flow h1 -> h2, for frames in flight to hold
in_ns "$H2" "$SG" udp-recv 5000 --count 100000000 --idle-ms 600000 > /dev/null &
t_defer "kill $!"
in_ns "$H1" "$SG" udp-send 10.9.0.2 5000 100000000 --rate 2000 --size 1000 > /dev/null &
t_defer "kill $!"

# 1. h2 killed after it replied to the snapshot, while h1 is still saving
#    (2 s more): the commit reaches h1 only, and is taken back.
t_require "agent h1 of exp c (slow)" agent "$H1" c h1 "$W/c1" STASIS_TEST_ACTION_SLEEP_MS=2000
A1=$AP
t_require "agent h2 of exp c" agent "$H2" c h2 "$W/c2"
A2=$AP
coord c snapshot --epoch 5 --timeout 10 > "$O" 2> "$E" &
sp=$!
t_check "h2 saved its part" wait_until 10 sh -c "[ \"\$(jq -r .state '$W/c2/snap-5/h2/manifest.json' 2>/dev/null)\" = saved ]"
t_eq "h1 is still saving" none "$(state "$W/c1/snap-5/h1")"
kill -9 $A2
wait $sp
t_eq "the snapshot fails" 1 $?
sed 's/^/# /' "$O" "$E"
t_check "  it says a host did not mark its part complete" grep -q "did not mark their part complete" "$O" "$E"
t_eq "  h1's part, committed, is taken back" failed "$(state "$W/c1/snap-5/h1")"
t_eq "  h2's part stays saved, never complete" saved "$(state "$W/c2/snap-5/h2")"
t_require "agent h2 of exp c again" agent "$H2" c h2 "$W/c2"
A2=$AP
t_run "$O" "$E" coord c restore 5 --timeout 10
t_eq "a restore of that snapshot fails" 1 "$T_RC"
sed 's/^/# /' "$O" "$E"
t_check "  h1 refuses its failed part" grep -q "h1 .*part of snapshot 5 is failed, not complete" "$O"
t_check "  h2 refuses its saved part" grep -q "h2 .*part of snapshot 5 is saved, not complete" "$O"
in_ns "$H1" "$STASIS" net release --force > /dev/null 2>&1

# 2. h1 killed in the middle of a restore of a complete snapshot: the
#    round fails and names it; once it is back, the restore succeeds.
t_run "$O" "$E" coord c snapshot --epoch 6 --timeout 20
t_eq "snapshot 6" 0 "$T_RC"
coord c restore 6 --timeout 10 > "$O" 2> "$E" &
rp=$!
t_check "h1 is restoring" wait_until 10 sh -c "[ \$(grep -c 'log-late run 6' '$W/c1/snap-6/actions.log' 2>/dev/null) -ge 2 ]"
kill -9 $A1
wait $rp
t_eq "the restore fails" 1 $?
sed 's/^/# /' "$O"
t_check "  and names h1" grep -q "h1 .*NO REPLY" "$O"
in_ns "$H1" "$STASIS" net release --force > /dev/null 2>&1
t_require "agent h1 of exp c again" agent "$H1" c h1 "$W/c1"
A1=$AP
t_run "$O" "$E" coord c restore 6 --timeout 20
t_eq "  the restore, once h1 is back, succeeds" 0 "$T_RC"
t_eq "  h1's network is back to pass" pass "$(in_ns "$H1" "$STASIS" -j net status | jq -r .state)"
kill $A1 $A2

# 3. The broker restarted while h1 saves: whatever the round says, it
#    says of every part (complete everywhere, or complete nowhere).
t_require "agent h1 of exp b (slow)" agent "$H1" b h1 "$W/b1" STASIS_TEST_ACTION_SLEEP_MS=2000
t_require "agent h2 of exp b" agent "$H2" b h2 "$W/b2"
coord b snapshot --epoch 7 --timeout 15 > "$O" 2> "$E" &
sp=$!
t_check "h1 is saving" wait_until 10 grep -q 'log-late run 7' "$W/b1/snap-7/actions.log"
kill $BP
wait $BP 2>/dev/null
t_require "the broker restarted" start_broker
wait $sp
rc=$?
sed 's/^/# /' "$O" "$E"
s1=$(state "$W/b1/snap-7/h1") s2=$(state "$W/b2/snap-7/h2")
echo "# round rc=$rc, h1 $s1, h2 $s2"
if [ $rc = 0 ]; then
	t_eq "the round succeeded: every part is complete" "complete complete" "$s1 $s2"
else
	t_check "the round failed: no part is complete" sh -c "[ '$s1' != complete ] && [ '$s2' != complete ]"
fi
t_check "both agents are online again" wait_until 30 sh -c "ip netns exec $H2 '$STASIS' coord status --broker $URL --experiment b 2>&1 | grep -c ' online  *ok' | grep -qx 2"
in_ns "$H1" "$STASIS" net release --force > /dev/null 2>&1

# 4. h1's snapshots on a full disk (64 KiB, a second of held frames will
#    not fit): its part fails, and so the round; the frames the drain took
#    and could not store are counted.
mkdir -p "$W/full"
mount -t tmpfs -o size=64k tmpfs "$W/full" || t_fail "a 64 KiB tmpfs"
t_defer "umount $W/full"
t_require "agent h1 of exp d (on the full disk)" agent "$H1" d h1 "$W/full"
t_require "agent h2 of exp d" agent "$H2" d h2 "$W/d2"
before=$(in_ns "$H1" "$STASIS" -j net status | jq '.counters.drop_drain // 0')
t_require "h1 holds a second of the flow" quiet in_ns "$H1" "$STASIS" net hold
observe 1
t_run "$O" "$E" coord d snapshot --epoch 8 --timeout 20
t_eq "the snapshot fails" 1 "$T_RC"
sed 's/^/# /' "$O" "$E"
t_check "  h1 says its disk is full" grep -q "h1 .*No space left" "$O"
t_check "  h1's part is not complete" test "$(state "$W/full/snap-8/h1")" != complete
t_eq "  h2's part is marked failed" failed "$(state "$W/d2/snap-8/h2")"
after=$(in_ns "$H1" "$STASIS" -j net status | jq '.counters.drop_drain // 0')
t_check "  the frames it could not store are counted (drop_drain $before -> $after)" test "$after" -gt "$before"
in_ns "$H1" "$STASIS" net release --force > /dev/null 2>&1

# 5. h1's hold detached after its agent started: a snapshot fails on h1
#    ("gone"), not "no network here, ok".
t_require "h1 detaches" quiet in_ns "$H1" "$STASIS" net detach --force
t_run "$O" "$E" coord d snapshot --epoch 9 --timeout 20
t_eq "a snapshot with h1's hold gone fails" 1 "$T_RC"
sed 's/^/# /' "$O"
t_check "  h1 says its hold is gone" grep -q "h1 .*network hold is gone" "$O"
t_eq "  h2's part is marked failed" failed "$(state "$W/d2/snap-9/h2")"
t_done
