#!/bin/bash
# make demo: the main job, end to end on one host. Two TCG guests on taps
# joined by a bridge in a private namespace; guest a sends numbered
# datagrams to guest b; a packet trigger on one datagram holds the network in
# the kernel at that frame, and the agent snapshots everything (both VMs and
# the frames in flight); the snapshot is restored, the held frames replayed,
# and b reports what it received over the whole run.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/net.sh"
. "$(dirname "$0")/lib/hold.sh"
[ "$(id -u)" = 0 ] || { echo "demo: needs root (namespaces, taps, BPF)" >&2; exit 1; }
set -o pipefail
say() { echo "demo: $*"; }
die() { echo "demo: $*" >&2; T_FAILED=1; exit 1; }
export STASIS_VM_ROOT=$T_WORK/vms
K=$BUILD/guest/vmlinuz I=$BUILD/guest/initrd.img
COUNT=4000 RATE=1000 MARK=2000 SNAPS=$T_WORK/snapshots

say "checking the kernel and loading the BPF object"
"$STASIS" net probe | head -2 | sed 's/^/  /' || die "stasis net probe failed"
ns_create NS || die "cannot create a namespace"
bridge_create "$NS" br0 && tap_create "$NS" tapa br0 && tap_create "$NS" tapb br0 &&
	addr_add "$NS" br0 10.0.0.254/24 ||
	die "cannot create the bridge and taps"
net "$NS" attach tapa tapb | sed 's/^/  /' || die "attach failed"
t_defer "ip netns exec $NS $STASIS net detach --force"
t_defer "'$STASIS' vm quit --all"

say "booting guests a (10.0.0.1) and b (10.0.0.2) under ${STASIS_ACCEL:-tcg} in namespace $NS"
echo "udp-recv 5000 --count $COUNT --idle-ms 60000 --progress-ms 500" > "$T_WORK/b.run"
# a waits for a start datagram from the host, sent once the trigger is armed.
cat > "$T_WORK/a.run" <<RUN
until ping -c 1 -W 1 10.0.0.2 > /dev/null; do :; done
udp-recv 6000 --count 1 --timeout-ms 600000
udp-send 10.0.0.2 5000 $COUNT --rate $RATE
RUN
for g in b a; do
	ip=10.0.0.1 mac=52:54:00:00:00:0a
	[ $g = b ] && ip=10.0.0.2 mac=52:54:00:00:00:0b
	"$STASIS" vm start $g --kernel "$K" --initrd "$I" --run "$T_WORK/$g.run" \
		--append "console=ttyS0 loglevel=3 panic=-1 stasis.name=$g stasis.ip=$ip/24" \
		--netns "$NS" --tap tap$g --mac $mac > /dev/null || die "vm start $g failed"
done
wait_line "$STASIS_VM_ROOT/b/console.log" 'udp-recv: ready' 90 || die "guest b did not boot"

say "starting the agent (with a private MQTT broker) for this host"
ip netns exec "$NS" "$STASIS" agent --host host1 --snapshots "$SNAPS" --instances "$STASIS_VM_ROOT" \
	> "$T_WORK/agent.log" 2>&1 &
ap=$!
t_defer "kill $ap; wait $ap"
agent_up() { ip netns exec "$NS" "$STASIS" coord status 2>/dev/null | grep -q 'host1 *online *ok'; }
wait_until 30 agent_up || die "the agent did not start: $(tail -1 "$T_WORK/agent.log")"
hex=$(printf '%016x' $MARK)
say "arming a packet trigger: bytes $hex at offset 50 (datagram number $MARK); guest a starts sending"
ip netns exec "$NS" "$STASIS" coord trigger --packet --offset 50 --hex "$hex" --epoch 1 --timeout 180 \
	> "$T_WORK/trigger.out" 2> "$T_WORK/trigger.err" &
tp=$!
wait_until 30 at_least 1 triggers "$NS" || die "the trigger was not armed: $(tail -1 "$T_WORK/trigger.err")"
# The start datagram, again until a says it has it (it may still be booting).
a_started() {
	in_ns "$NS" "$SG" udp-send 10.0.0.1 6000 1 > /dev/null 2>&1
	grep -q 'udp-recv: done' "$STASIS_VM_ROOT/a/console.log"
}
wait_until 120 a_started || die "guest a never got the start datagram"
wait $tp || die "the snapshot failed: $(tail -1 "$T_WORK/trigger.err")"
sed 's/^/  /' "$T_WORK/trigger.out"
M=$SNAPS/snap-1/host1/manifest.json
say "snapshot 1: $(jq -r '"state \(.state), \(.frames_held) frames held, trigger \(.trigger.kind) on \(.trigger.host)"' "$M")"
jq -r '.vms[] | "  vm \(.name): stop acknowledged \((.stop_ack_ns - .stop_sent_ns) / 1000) µs after it was sent, \(.bytes) bytes of state"' "$M"
say "spread between the first and the last VM stopped: $(jq '[.vms[].stop_ack_ns] | (max - min) / 1000' "$M") µs"
say "the first frames held for b (the trigger frame first):"
"$STASIS" sp cat "$SNAPS/snap-1/host1/net.sp" | grep 'tapb out.*> 10.0.0.2:5000' | head -3 | sed 's/^/  /'

say "restoring snapshot 1: both VMs from their saved state, then the held frames replayed"
ip netns exec "$NS" "$STASIS" coord restore 1 --timeout 180 2> "$T_WORK/restore.err" | sed 's/^/  /' ||
	die "restore failed: $(tail -1 "$T_WORK/restore.err")"
wait_line "$STASIS_VM_ROOT/b/console.log" 'udp-recv: done' 120 || die "b never reported"
r=$(tr -d '\r' < "$STASIS_VM_ROOT/b/console.log" | grep 'udp-recv: done' | tail -1)
say "b received $(kv unique "$r") of $COUNT: gaps=$(kv gaps "$r") duplicates=$(kv dup "$r") reordered=$(kv reordered "$r")"
net "$NS" -j status > "$T_WORK/status.json"
jq -c '{state, counters: (.counters | {held, replayed, drop_ring_full, drop_too_big, drop_load, drop_drain, discarded})}' \
	"$T_WORK/status.json" | sed 's/^/  /'
[ "$(kv unique "$r")" = $COUNT ] && [ "$(kv gaps "$r")" = 0 ] && [ "$(kv dup "$r")" = 0 ] ||
	die "something was lost"
[ "$(kv reordered "$r")" = 0 ] || die "frames came out of order"
[ "$(jq '.counters | .drop_ring_full + .drop_too_big + .drop_load + .drop_drain + .discarded' "$T_WORK/status.json")" = 0 ] ||
	die "the hold dropped frames"
say "nothing lost, nothing out of order. Cleaning up"
t_cleanup
say "cleaned up: guests stopped, agent and broker stopped, programs detached, namespace removed"
