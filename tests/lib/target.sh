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

# ---- the same target split over two hosts (tests/system/fuzz_hosts.sh,
# tests/bench/bench_fuzz_hosts.sh) ----------------------------------------
# Two namespaces $H1 (cli, tap1 on br1) and $H2 (srv, tap2 on br2), a veth
# wire w1-w2 between the bridges held by each host as an uplink, a control
# link c1-c2 (10.8.0.1-2) with mosquitto on h1's end ($URL), an agent per
# host (experiment $EXP, default fz) sharing one snapshots folder, as over
# NFS. The guests keep the one-host addresses and MACs: the held request
# has the same bytes. Needs lib/net.sh, lib/hold.sh and lib/broker.sh, $K,
# $I and $T_WORK; VM instances in $T_WORK/vms-cli and vms-srv.

# target_hosts_net: namespaces, bridges, taps, the wire, the broker, the
# hold attached on each host (detached at exit).
target_hosts_net() {
	local i h
	EXP=${EXP:-fz}
	ns_create H1 && ns_create H2 || { echo "target: namespaces" >&2; return 1; }
	for i in 1 2; do
		eval "h=\$H$i"
		bridge_create "$h" br$i && tap_create "$h" tap$i br$i && addr_add "$h" br$i 10.0.0.25$i/24 ||
			{ echo "target: bridge and tap of h$i" >&2; return 1; }
	done
	veth_create w1 "$H1" w2 "$H2" && ip -n "$H1" link set w1 master br1 && ip -n "$H2" link set w2 master br2 &&
		veth_create c1 "$H1" c2 "$H2" && addr_add "$H1" c1 10.8.0.1/24 && addr_add "$H2" c2 10.8.0.2/24 ||
		{ echo "target: the wire and the control link" >&2; return 1; }
	broker_start mosquitto "$H1" 10.8.0.1 1883 || { echo "target: mosquitto" >&2; return 1; }
	URL=$BROKER_URL
	for i in 1 2; do
		eval "h=\$H$i"
		ip netns exec "$h" "$STASIS" net attach tap$i --uplink w$i > /dev/null ||
			{ echo "target: net attach on h$i" >&2; return 1; }
		t_defer "ip netns exec $h '$STASIS' net detach --force"
	done
	t_defer "STASIS_VM_ROOT=$T_WORK/vms-cli '$STASIS' vm quit --all; STASIS_VM_ROOT=$T_WORK/vms-srv '$STASIS' vm quit --all"
	echo "req-srv 7000 --crash-op 128 --hang-op 127" > "$T_WORK/srv.run"
	printf '%s\n' 'until ping -c 1 -W 1 10.0.0.2 > /dev/null; do :; done' \
		'req-cli 10.0.0.2 7000 --interval-ms 500' > "$T_WORK/cli.run"
}

# target_hosts_vm srv|cli: boot that guest on its host.
target_hosts_vm() {
	local ns=$H2 tap=tap2 ip=10.0.0.2 mac=52:54:00:00:00:02
	[ "$1" = cli ] && ns=$H1 tap=tap1 ip=10.0.0.1 mac=52:54:00:00:00:01
	STASIS_VM_ROOT=$T_WORK/vms-$1 "$STASIS" vm start "$1" --kernel "$K" --initrd "$I" --run "$T_WORK/$1.run" \
		--append "console=ttyS0 loglevel=3 panic=-1 stasis.name=$1 stasis.ip=$ip/24" \
		--netns "$ns" --tap $tap --mac $mac > /dev/null || { echo "target: vm start $1" >&2; return 1; }
}

# target_hosts_snapshot SNAPS: the agents (kept running), srv booted and
# serving, a packet trigger on cli's request seq=3 armed on both hosts,
# cli booted; both hosts' parts are SNAPS/snap-1/h1 and h2.
target_hosts_snapshot() {
	local snaps=$1 i h x tp rc
	for i in 1 2; do
		eval "h=\$H$i"
		x=cli; [ $i = 2 ] && x=srv
		ip netns exec "$h" "$STASIS" agent --broker "$URL" --experiment "$EXP" --host h$i --snapshots "$snaps" \
			--instances "$T_WORK/vms-$x" > "$T_WORK/agent$i.log" 2>&1 &
		eval "TARGET_AP$i=\$!"
		t_defer "kill \$TARGET_AP$i 2> /dev/null; wait \$TARGET_AP$i 2> /dev/null"
	done
	_target_online() {
		ip netns exec "$H1" "$STASIS" coord status --broker "$URL" --experiment "$EXP" > "$T_WORK/online" 2>&1 &&
			[ "$(grep -c ' online  *ok' "$T_WORK/online")" = 2 ]
	}
	wait_until 30 _target_online || { echo "target: the agents do not answer" >&2; return 1; }
	target_hosts_vm srv || return 1
	wait_line "$T_WORK/vms-srv/srv/console.log" 'req-srv: ready' 90 ||
		{ echo "target: srv does not serve" >&2; return 1; }
	ip netns exec "$H1" "$STASIS" coord trigger --packet --offset 42 --hex $TARGET_TRIG --epoch 1 --timeout 180 \
		--broker "$URL" --experiment "$EXP" > "$T_WORK/trigger.out" 2>&1 &
	tp=$!
	wait_until 30 at_least 1 triggers "$H1" || { echo "target: the trigger was not armed" >&2; return 1; }
	target_hosts_vm cli || return 1
	wait $tp
	rc=$?
	[ $rc = 0 ] || { echo "target: coord trigger: $(cat "$T_WORK/trigger.out")" >&2; return 1; }
}

# target_fuzz_resumed NS: `fuzz run "${RUN_ARGS[@]}"` (results in $R, $CASES
# cases) in NS, stopped by SIGINT after 3 cases, then run again to the end:
# the stop says how to go on, and every case runs once. (exec'd directly:
# $! is the fuzz command's own PID, for the SIGINT.)
target_fuzz_resumed() {
	local fp rc done1
	_target_results() { wc -l < "$R/results.jsonl"; }
	ip netns exec "$1" "$STASIS" fuzz run "${RUN_ARGS[@]}" > "$T_WORK/run1.out" 2> "$T_WORK/run1.err" &
	fp=$!
	wait_until 90 at_least 3 _target_results
	kill -INT $fp
	wait $fp
	rc=$?
	echo "# $(tail -1 "$T_WORK/run1.err")"
	t_eq "an interrupted run exits 1" 1 $rc
	t_check "and says how to go on" grep -q 'run the same command again' "$T_WORK/run1.err"
	done1=$(wc -l < "$R/results.jsonl")
	t_check "some cases were recorded before the stop ($done1)" test "$done1" -ge 3 -a "$done1" -lt "$CASES"
	t_require "the run resumes and finishes" into "$T_WORK/run2.json" \
		ip netns exec "$1" "$STASIS" -j fuzz run "${RUN_ARGS[@]}" 2> "$T_WORK/run2.err"
	grep 'fuzz: \[' "$T_WORK/run2.err" | tail -3 | sed 's/^/# /'
	t_eq "every case ran once" "$(seq 0 $((CASES - 1)))" "$(jq .case "$R/results.jsonl" | sort -n)"
}
