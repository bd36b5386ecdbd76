#!/bin/bash
# From a packet trigger (the BPF event) to the last VM stopped: on one host
# with two TCG guests (the agent's whole path: event -> MQTT -> staged
# snapshot -> QMP stop of both VMs), and across three hosts (network
# namespaces, one broker reached over a bridge; the trigger fires on h1,
# whose two guests stop at once, and h2 and h3 stop their guest when the
# event reaches them over MQTT). Median of RUNS runs.
set -u
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/lib/common.sh"
. "$ROOT/tests/lib/net.sh"
. "$ROOT/tests/lib/hold.sh"
RUNS=${TRIGGER_BENCH_RUNS:-3}
K=$BUILD/guest/vmlinuz I=$BUILD/guest/initrd.img
W=$T_WORK
for run in $(seq "$RUNS"); do
	export STASIS_VM_ROOT=$W/vms$run
	ns_create N$run || exit 1
	eval "NS=\$N$run"
	bridge_create "$NS" br0 && tap_create "$NS" tapa br0 && tap_create "$NS" tapb br0
	net "$NS" attach tapa tapb > /dev/null
	echo "udp-recv 5000 --idle-ms 60000" > "$W/b.run"
	printf 'until ping -c 1 -W 1 10.0.0.2 > /dev/null; do :; done\nsleep 3\nudp-send 10.0.0.2 5000 3000 --rate 1000\n' > "$W/a.run"
	for g in b a; do
		ip=10.0.0.1 mac=52:54:00:00:00:0a
		[ $g = b ] && ip=10.0.0.2 mac=52:54:00:00:00:0b
		"$STASIS" vm start $g --kernel "$K" --initrd "$I" --run "$W/$g.run" --netns "$NS" --tap tap$g --mac $mac \
			--append "console=ttyS0 loglevel=3 panic=-1 stasis.ip=$ip/24" > /dev/null
	done
	ip netns exec "$NS" "$STASIS" agent --host h1 --snapshots "$W/snaps$run" --instances "$STASIS_VM_ROOT" \
		> "$W/agent$run.log" 2>&1 &
	ap=$!
	sleep 1.5
	ip netns exec "$NS" "$STASIS" coord trigger --packet --offset 50 --hex "$(printf '%016x' 1000)" \
		--epoch 1 --timeout 120 > "$W/trigger$run.out" 2>&1 || { cat "$W/trigger$run.out" >&2; exit 1; }
	jq '(.last_stop_real_ns - .trigger.event_real_ns) / 1000' "$W/snaps$run/snap-1/h1/manifest.json" >> "$W/lat"
	jq '[.vms[].stop_ack_ns] | (max - min) / 1000' "$W/snaps$run/snap-1/h1/manifest.json" >> "$W/spread"
	kill $ap; wait $ap
	"$STASIS" vm quit --all > /dev/null 2>&1
	ip netns exec "$NS" "$STASIS" net detach --force > /dev/null
done
# Three hosts: H1 (guests a and b, the trigger), H2 and H3 (one idle guest
# each), agents on a shared broker in namespace BR.
guest() {	# ROOT NAME NS TAP IP MAC RUNFILE
	STASIS_VM_ROOT=$1 "$STASIS" vm start "$2" --kernel "$K" --initrd "$I" --run "$7" --netns "$3" \
		--tap "$4" --mac "$6" --append "console=ttyS0 loglevel=3 panic=-1 stasis.ip=$5/24" > /dev/null
}
echo "ticker --interval-ms 100" > "$W/idle.run"
for run in $(seq "$RUNS"); do
	ns_create B$run || exit 1
	eval "BRN=\$B$run"
	bridge_create "$BRN" cbr && addr_add "$BRN" cbr 10.8.0.254/24 || exit 1
	for i in 1 2 3; do
		ns_create X$run$i || exit 1
		eval "h=\$X$run$i"
		eval "HN$i=\$h"
		veth_create c$i "$h" p$i "$BRN" && ip -n "$BRN" link set p$i master cbr && addr_add "$h" c$i 10.8.0.$i/24 || exit 1
		bridge_create "$h" br0 || exit 1
	done
	printf 'listener 1883 10.8.0.254\nallow_anonymous true\npersistence false\n' > "$W/mosq.conf"
	ip netns exec "$BRN" mosquitto -c "$W/mosq.conf" > /dev/null 2>&1 &
	bp=$!
	tap_create "$HN1" tapa br0 && tap_create "$HN1" tapb br0 && tap_create "$HN2" tapc br0 && tap_create "$HN3" tapd br0 || exit 1
	net "$HN1" attach tapa tapb > /dev/null && net "$HN2" attach tapc > /dev/null && net "$HN3" attach tapd > /dev/null || exit 1
	guest "$W/m$run-1" b "$HN1" tapb 10.0.0.2 52:54:00:00:00:0b "$W/b.run"
	guest "$W/m$run-1" a "$HN1" tapa 10.0.0.1 52:54:00:00:00:0a "$W/a.run"
	guest "$W/m$run-2" c "$HN2" tapc 10.0.0.3 52:54:00:00:00:0c "$W/idle.run"
	guest "$W/m$run-3" d "$HN3" tapd 10.0.0.4 52:54:00:00:00:0d "$W/idle.run"
	aps=
	for i in 1 2 3; do
		eval "h=\$HN$i"
		ip netns exec "$h" "$STASIS" agent --broker mqtt://10.8.0.254:1883 --experiment bench --host h$i \
			--snapshots "$W/s$run" --instances "$W/m$run-$i" > "$W/agent$run-$i.log" 2>&1 &
		aps="$aps $!"
	done
	sleep 2
	ip netns exec "$HN1" "$STASIS" coord trigger --packet --offset 50 --hex "$(printf '%016x' 1000)" \
		--epoch 1 --timeout 120 --broker mqtt://10.8.0.254:1883 --experiment bench > "$W/t3-$run.out" 2>&1 ||
		{ cat "$W/t3-$run.out" >&2; exit 1; }
	ev=$(jq .trigger.event_real_ns "$W/s$run/snap-1/h1/manifest.json")
	for i in 1 2 3; do
		echo $(( ($(jq .last_stop_real_ns "$W/s$run/snap-1/h$i/manifest.json") - ev) / 1000 )) >> "$W/h$i"
	done
	echo "$(tail -1 "$W/h1") $(tail -1 "$W/h2") $(tail -1 "$W/h3")" | tr ' ' '\n' | sort -n | tail -1 >> "$W/lat3"
	kill $aps; wait $aps 2> /dev/null
	for i in 1 2 3; do STASIS_VM_ROOT=$W/m$run-$i "$STASIS" vm quit --all > /dev/null 2>&1; done
	for i in 1 2 3; do eval "h=\$HN$i"; ip netns exec "$h" "$STASIS" net detach --force > /dev/null; done
	kill $bp; wait $bp 2> /dev/null
done
med() { sort -n "$1" | awk '{ a[NR] = $1 } END { printf "%.0f", a[int((NR + 1) / 2)] }'; }
out=$W/section.md
cat > "$out" <<MD
<!-- bench:trigger -->
## Packet trigger to the last VM stopped (issue 6)

\`make bench\` → \`tests/bench/bench_trigger.sh\` (one host, two TCG guests,
the agent with its private broker; median of $RUNS runs; $(machine)).

| from the BPF trigger event to the last VM's stop acknowledged | spread between the two VMs' acknowledgements |
| --- | --- |
| $(med "$W/lat") µs (runs: $(tr '\n' ' ' < "$W/lat")) | $(med "$W/spread") µs |

Three hosts (network namespaces on this machine, one mosquitto reached over
a bridge; h1 has the two guests and the trigger, h2 and h3 one idle guest
each; four TCG guests on the 2 cores), from the trigger event on h1 to each
host's last VM stop acknowledged (wall clock, one machine):

| h1 (fires) | h2 (follows over MQTT) | h3 (follows over MQTT) | the last VM of all three hosts |
| --- | --- | --- | --- |
| $(med "$W/h1") µs | $(med "$W/h2") µs | $(med "$W/h3") µs | $(med "$W/lat3") µs (runs: $(tr '\n' ' ' < "$W/lat3")) |

The path: the BPF program holds the network at the frame itself (so the
frames are safe from that instant); the agent, asleep on the event ring's
fd, wakes, publishes the event for the other hosts, then stops every VM
with one pre-encoded QMP write each over connections opened when the
trigger was armed. The other hosts' agents do the same when the event
reaches them through the broker.
<!-- /bench:trigger -->
MD
cat "$out"
bench_section trigger "$out"
