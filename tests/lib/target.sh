# The fuzz target (tests/system/fuzz_loop.sh, tests/bench/bench_fuzz.sh):
# two TCG guests on taps in $NS, joined by bridge br0 (10.0.0.254 on it, for
# probes from the host). srv (10.0.0.2, tapb) runs req-srv on port 7000: it
# aborts on op 128 and hangs its whole guest on op 127; cli (10.0.0.1, tapa)
# sends it a request every 500 ms. Needs $NS, $K, $I, $STASIS_VM_ROOT and
# $T_WORK (vm_test_init, or the same by hand). Failures say what on stderr.

# cli's request seq=3: magic SGR1, client 1, seq 3 (UDP payload at 42).
TARGET_TRIG=53475231000000010000000000000003
# A well-formed request of client 9 (op 1, at frame offset 58): a probe.
TARGET_PROBE=5347523100000009000000000000000001000000

# target_net: bridge, taps and the hold attached (detached at exit).
target_net() {
	bridge_create "$NS" br0 && tap_create "$NS" tapa br0 && tap_create "$NS" tapb br0 &&
		ip -n "$NS" addr add 10.0.0.254/24 dev br0 ||
		{ echo "target: bridge and taps" >&2; return 1; }
	net "$NS" attach tapa tapb > /dev/null || { echo "target: net attach" >&2; return 1; }
	t_defer "ip netns exec $NS '$STASIS' net detach --force"
	echo "req-srv 7000 --crash-op 128 --hang-op 127" > "$T_WORK/srv.run"
	printf '%s\n' 'until ping -c 1 -W 1 10.0.0.2 > /dev/null; do :; done' \
		'req-cli 10.0.0.2 7000 --interval-ms 500' > "$T_WORK/cli.run"
}

# target_vm srv|cli: boot that guest.
target_vm() {
	local tap=tapb ip=10.0.0.2 mac=52:54:00:00:00:02
	[ "$1" = cli ] && tap=tapa ip=10.0.0.1 mac=52:54:00:00:00:01
	"$STASIS" vm start "$1" --kernel "$K" --initrd "$I" --run "$T_WORK/$1.run" \
		--append "console=ttyS0 loglevel=3 panic=-1 stasis.name=$1 stasis.ip=$ip/24" \
		--netns "$NS" --tap $tap --mac $mac > /dev/null || { echo "target: vm start $1" >&2; return 1; }
}

# target_snapshot SNAPS: an agent, srv booted and serving, a packet trigger
# on cli's request seq=3, cli booted; the snapshot is SNAPS/snap-1/h1 and
# the agent is stopped again. srv boots first, so that every run starts
# from the same state (seq=3 finds served=3).
target_snapshot() {
	local snaps=$1 ap tp rc
	ip netns exec "$NS" "$STASIS" agent --host h1 --snapshots "$snaps" --instances "$STASIS_VM_ROOT" \
		> "$T_WORK/agent.log" 2>&1 &
	ap=$!
	t_defer "kill $ap 2>/dev/null; wait $ap 2>/dev/null"
	wait_line "$T_WORK/agent.log" 'agent: host h1' 10 || { echo "target: no agent" >&2; return 1; }
	target_vm srv || return 1
	wait_line "$STASIS_VM_ROOT/srv/console.log" 'req-srv: ready' 90 ||
		{ echo "target: srv does not serve" >&2; return 1; }
	ip netns exec "$NS" "$STASIS" -j coord trigger --packet --offset 42 --hex $TARGET_TRIG --epoch 1 \
		--timeout 180 > "$T_WORK/trigger.json" 2> "$T_WORK/trigger.err" &
	tp=$!
	wait_until 30 at_least 1 triggers "$NS" || { echo "target: the trigger was not armed" >&2; return 1; }
	target_vm cli || return 1
	wait $tp
	rc=$?
	kill $ap
	wait $ap 2> /dev/null
	[ $rc = 0 ] || { echo "target: coord trigger: $(cat "$T_WORK/trigger.err")" >&2; return 1; }
}
