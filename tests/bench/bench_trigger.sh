#!/bin/bash
# From a packet trigger (the BPF event) to the last VM stopped, on one host
# with two TCG guests: the agent's whole path (event -> MQTT -> staged
# snapshot -> QMP stop of both VMs). Median of RUNS runs.
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
	ip netns exec "$NS" "$STASIS" net detach > /dev/null
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

The path: the BPF program holds the network at the frame itself (so the
frames are safe from that instant); the agent, asleep on the event ring's
fd, wakes, publishes the event for the other hosts, then stops every VM
with one pre-encoded QMP write each. Across three hosts is
not measured yet.
<!-- /bench:trigger -->
MD
cat "$out"
bench_section trigger "$out"
