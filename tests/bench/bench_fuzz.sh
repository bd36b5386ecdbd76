#!/bin/bash
# The fuzz loop on the two-guest target of tests/system/fuzz_loop.sh (issue 7):
#  (a) `stasis fuzz run` of CASES cases (default 20) from a packet-trigger
#      snapshot: cases per second (with and without the hang case, which
#      costs the whole timeout by design) and where one case's time goes
#      (restore, resume, replay, verdict);
#  (b) the same cases without stasis's snapshot, for REBOOT_CASES (default 5)
#      of them that do not hang: quit both guests, boot them again, run the
#      client up to the same request (seq=3, held by the same packet
#      trigger), drop the held frames, replay the case's file, and wait for
#      the verdict by the same rule (srv's console or a UDP probe).
# Writes the section bench:fuzz of docs/BENCHMARKS.md. Needs root, QEMU and
# the guest image (make guest).
set -u
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/lib/common.sh"
. "$ROOT/tests/lib/net.sh"
. "$ROOT/tests/lib/hold.sh"
. "$ROOT/tests/lib/target.sh"
CASES=${CASES:-20} REBOOT_CASES=${REBOOT_CASES:-5} SEED=7 TIMEOUT=8
K=$BUILD/guest/vmlinuz I=$BUILD/guest/initrd.img
W=$T_WORK
export STASIS_VM_ROOT=$W/vms
[ "$(id -u)" = 0 ] || { echo "bench_fuzz: needs root" >&2; exit 1; }
[ -r "$K" ] && [ -r "$I" ] || { echo "bench_fuzz: guest image missing: make guest" >&2; exit 1; }
die() { echo "bench_fuzz: $*" >&2; T_FAILED=1; exit 1; }
TRIG=$TARGET_TRIG PROBE=$TARGET_PROBE
SNAPS=$W/snapshots R=$W/results

ns_create NS || die "namespace"
t_defer "'$STASIS' vm quit --all"
target_net || die "bridge, taps, attach"
# QEMUs of others on the machine (they share the cores): the most seen.
# Zombies are left out (a quit QEMU waits a while for PID 1 to reap it).
OTHERS=0
others() {
	local n
	ps -eo stat=,args= | awk '$1 !~ /^Z/ && $2 ~ /qemu-system/' | grep -v -- "$W/" > "$W/others"
	n=$(wc -l < "$W/others")
	[ "$n" = 0 ] || { echo "bench_fuzz: $n other QEMU(s) running:" >&2; cut -c1-300 "$W/others" >&2; }
	[ "$n" -le "$OTHERS" ] || OTHERS=$n
}

# The snapshot, as the system test makes it.
echo "bench_fuzz: snapshot on cli's request seq=3" >&2
target_snapshot "$SNAPS" || die "snapshot"
[ "$(jq -r .state "$SNAPS/snap-1/h1/manifest.json")" = complete ] || die "snapshot incomplete"

# (a) stasis fuzz run.
others
echo "bench_fuzz: fuzz run, $CASES cases" >&2
WATCH_CONSOLE='req-srv: op [0-9]+: abort|run exited'
t0=$(now_ns)
ip netns exec "$NS" "$STASIS" -j fuzz run --snapshot "$SNAPS/snap-1" --range 58:58 --cases "$CASES" \
	--seed $SEED --timeout $TIMEOUT --watch "console:srv:$WATCH_CONSOLE" \
	--watch "probe:udp:10.0.0.2:7000:$PROBE" -o "$R" > "$W/fuzz.json" 2> "$W/fuzz.err" ||
	die "fuzz run: $(tail -3 "$W/fuzz.err")"
t1=$(now_ns)
others
FUZZ_WALL=$(awk -v d=$((t1 - t0)) 'BEGIN { printf "%.1f", d / 1e9 }')
jq -r '"# case \(.case): \(.verdict) op=\(.mutation.changes[0].new // "len") seconds=\(.seconds)"' \
	"$R/results.jsonl" >&2
[ "$(jq .ran "$W/fuzz.json")" = "$CASES" ] || die "fuzz run ran $(jq .ran "$W/fuzz.json") of $CASES"

# (b) the reboot baseline: the crashing case(s) first, then passing ones.
jq -s -r '(map(select(.verdict == "fail")) + map(select(.verdict == "ok"))) | .[].case' \
	"$R/results.jsonl" | head -n "$REBOOT_CASES" > "$W/reboot_cases"
"$STASIS" vm quit --all > /dev/null 2>&1
state() { ip netns exec "$NS" "$STASIS" -j net status | jq -r .state; }
[ "$(state)" = pass ] || die "the host is not in pass after the fuzz run: $(state)"
# Triggers left from the snapshot, if any, would fire first: removed.
for id in $(ip netns exec "$NS" "$STASIS" -j net trigger list | jq '.[].id'); do
	ip netns exec "$NS" "$STASIS" net trigger del "$id" > /dev/null
done
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }
: > "$W/reboot.jsonl"
while read -r c; do
	cf=$R/cases/$(jq -r "select(.case == $c) | .file" "$R/results.jsonl")
	[ -s "$cf" ] || die "no case file $cf"
	echo "bench_fuzz: reboot baseline, case $c" >&2
	others
	r0=$(now_ns)
	"$STASIS" vm quit --all > /dev/null 2>&1
	r_quit=$(now_ns)
	id=$(ip netns exec "$NS" "$STASIS" -j net trigger add --offset 42 --hex $TRIG --dir from-guest \
		--dev tapa --once | jq .id) || die "trigger add"
	ip netns exec "$NS" "$STASIS" -j net wait-trigger --timeout 120 > "$W/wait$c.json" 2> "$W/wait$c.err" &
	wp=$!
	# As the test does: cli once req-srv listens (booted at once, cli's
	# first requests can reach srv before it listens: another state).
	target_vm srv || die "start srv"
	until grep -q 'req-srv: ready' "$STASIS_VM_ROOT/srv/console.log" 2> /dev/null; do
		[ $(( $(now_ns) - r_quit )) -lt 120000000000 ] || die "case $c: srv does not serve"
		sleep 0.01
	done
	r_srv=$(now_ns)
	target_vm cli || die "start cli"
	wait $wp || die "case $c: no trigger: $(cat "$W/wait$c.err")"
	r_trig=$(now_ns)
	[ "$(jq .trigger "$W/wait$c.json")" = "$id" ] || die "case $c: another trigger fired: $(cat "$W/wait$c.json")"
	ip netns exec "$NS" "$STASIS" net drain -o "$W/drained$c.sp" > /dev/null 2> "$W/drain$c.err" ||
		die "case $c: drain: $(cat "$W/drain$c.err")"
	lines=$(wc -l < "$STASIS_VM_ROOT/srv/console.log")
	ip netns exec "$NS" "$STASIS" net replay "$cf" > "$W/replay$c.out" 2>&1 ||
		die "case $c: replay: $(cat "$W/replay$c.out")"
	r_rep=$(now_ns)
	# The verdict: srv's console (fail) or an answered probe (ok); a new
	# probe every 200 ms as the fuzz loop's, a look every 10 ms.
	ip netns exec "$NS" "$SG" req-cli 10.0.0.2 7000 --client 9 --interval-ms 200 \
		--count $((TIMEOUT * 5)) > "$W/probe$c.out" 2>&1 &
	pp=$!
	v=hang
	end=$(( r_rep + TIMEOUT * 1000000000 ))
	while [ "$(now_ns)" -lt $end ]; do
		if grep -qE "$WATCH_CONSOLE" "$STASIS_VM_ROOT/srv/console.log"; then v=fail; break; fi
		if grep -q 'req-cli: reply' "$W/probe$c.out"; then v=ok; break; fi
		sleep 0.01
	done
	r_end=$(now_ns)
	kill $pp 2> /dev/null; wait $pp 2> /dev/null
	others
	# The counter as the first request after the replay found it.
	served=$(tail -n +$((lines + 1)) "$STASIS_VM_ROOT/srv/console.log" |
		grep -o 'req-srv: got seq=[0-9]* op=[0-9]* served=[0-9]*' | head -1)
	st=$(state)
	jq -n -c --argjson c "$c" --arg v "$v" --arg stasis "$(jq -r "select(.case == $c) | .verdict" "$R/results.jsonl")" \
		--arg served "$served" --arg state "$st" \
		--argjson quit "$(secs "$r0" "$r_quit")" --argjson srv "$(secs "$r_quit" "$r_srv")" --argjson boot "$(secs "$r_srv" "$r_trig")" \
		--argjson replay "$(secs "$r_trig" "$r_rep")" --argjson verdict "$(secs "$r_rep" "$r_end")" \
		--argjson seconds "$(secs "$r0" "$r_end")" --argjson drained "$("$STASIS" -j sp info "$W/drained$c.sp" | jq '.frames // 0')" \
		'{case: $c, verdict: $v, stasis_verdict: $stasis, served: $served, state_after: $state, quit_s: $quit,
		  srv_ready_s: $srv, cli_to_trigger_s: $boot, drain_replay_s: $replay, verdict_s: $verdict, seconds: $seconds,
		  drained_frames: $drained}' | tee -a "$W/reboot.jsonl" >&2
done < "$W/reboot_cases"
"$STASIS" vm quit --all > /dev/null 2>&1

# The numbers.
f2() { printf '%.2f' "$1"; }
f3() { printf '%.3f' "$1"; }
SUB=$(jq -s -c 'map(.case)' "$W/reboot.jsonl")
stats() {	# JQ-FILTER: n, cases/s, means over the result lines it selects
	jq -s -c "map(select($1)) | {n: length, s: (map(.seconds) | add),
		restore: (map(.restore_s) | add / length), resume: (map(.resume_s) | add / length),
		replay: (map(.replay_s) | add / length), verdict: (map(.time_to_verdict_s) | add / length),
		total: (map(.seconds) | add / length), frames: (map(.replayed) | add / length)} | .cps = .n / .s | .other = ([0, .total - .restore - .resume - .replay - .verdict] | max)" \
		"$R/results.jsonl"
}
ALL=$(stats true) NOHANG=$(stats '.verdict != "hang"') SAME=$(stats "(.case | IN($SUB[]))")
REB=$(jq -s -c '{n: length, s: (map(.seconds) | add), quit: (map(.quit_s) | add / length),
	srv: (map(.srv_ready_s) | add / length), boot: (map(.cli_to_trigger_s) | add / length), replay: (map(.drain_replay_s) | add / length),
	verdict: (map(.verdict_s) | add / length), total: (map(.seconds) | add / length)} | .cps = .n / .s' "$W/reboot.jsonl")
g() { echo "$1" | jq -r ".$2"; }
row() {	# LABEL STATS
	echo "| $1 | $(g "$2" n) | $(f2 "$(g "$2" cps)") | $(f3 "$(g "$2" total)") |"
}
ratio() { awk -v a="$(g "$1" cps)" -v b="$(g "$REB" cps)" 'BEGIN { printf "%.1f", a / b }'; }
MISMATCH=$(jq -r 'select(.verdict != .stasis_verdict) | "case \(.case): reboot \(.verdict), stasis \(.stasis_verdict)"' "$W/reboot.jsonl")
NOTPASS=$(jq -r 'select(.state_after != "pass") | "case \(.case): \(.state_after)"' "$W/reboot.jsonl")
SERVED=$(jq -r '.served | capture("served=(?<n>[0-9]+)").n // "?"' "$W/reboot.jsonl" | sort | uniq -c | awk '{ printf "%s%s× served=%s", s, $1, $2; s = ", " }')
VERD=$(jq -r '.verdicts | to_entries | map("\(.value) \(.key)") | join(", ")' "$W/fuzz.json")
HANG=$(jq -s -r 'map(select(.verdict == "hang")) | map("case \(.case) (\(.seconds | . * 100 | round / 100) s)") | join(", ")' "$R/results.jsonl")
RVERD=$(jq -s -r 'group_by(.verdict) | map("\(length) \(.[0].verdict)") | join(", ")' "$W/reboot.jsonl")
DRAINED=$(jq -s -r 'map(.drained_frames) | unique | map(tostring) | join("/")' "$W/reboot.jsonl")
SSERVED=$(for f in "$R"/console/case-*-srv.log; do
	grep -o 'req-srv: got seq=[0-9]* op=[0-9]* served=[0-9]*' "$f" | head -1 | grep -o 'served=[0-9]*'
done | sort | uniq -c | awk '{ printf "%s%s× %s", s, $1, $2; s = ", " }')
CASEFRAMES=$(for f in "$R"/cases/case-*.sp; do "$STASIS" -j sp info "$f" | jq '.frames // "?"'; done | sort -u | paste -sd/)

out=$W/section.md
cat > "$out" <<MD
<!-- bench:fuzz -->
## Fuzz loop (issue 7)

\`make bench\` → \`tests/bench/bench_fuzz.sh\` (CASES=$CASES, REBOOT_CASES=$REBOOT_CASES;
$(machine)). The target of \`tests/system/fuzz_loop.sh\`: two TCG guests, srv
(\`req-srv 7000 --crash-op 128 --hang-op 127\`) and cli (\`req-cli\` every
500 ms), one bridge, the snapshot taken by the packet trigger on cli's request
seq=3. \`stasis fuzz run --range 58:58 --cases $CASES --seed $SEED --timeout $TIMEOUT\`
mutates the op byte of the held request; a case fails on srv's console
(\`op N: abort\`), passes when a UDP probe from the host is answered, hangs
when neither comes within $TIMEOUT s. Verdicts: $VERD; the hang: $HANG.

The reboot baseline runs the same case files by the same rule without the
snapshot: \`vm quit --all\`, srv booted again, cli booted once req-srv
listens (as the test does; booted at once, cli's first requests could reach
srv before it listened, so seq=3 found another counter), a packet
trigger (\`net trigger add --offset 42 --dir from-guest --dev tapa --once\`)
holds cli's request seq=3, the held frames are drained and thrown away,
\`net replay\` of the case file, then srv's console or a probe (\`sg req-cli
--client 9\`, the same request as the fuzz loop's probe, every 200 ms) decides.
Each case thus pays two TCG boots one after the other and the client up to
seq=3 (a ping, then four requests 500 ms apart, ≈ 1.5 s). Timed from the quit to the verdict. Cases:
the crashing one first, then passing ones (never the hang, which would only
add the same $TIMEOUT s to both).

| method | cases | cases/s | mean s/case |
| --- | --- | --- | --- |
$(row "stasis fuzz run, every case (the hang's $TIMEOUT s included)" "$ALL")
$(row "stasis fuzz run, without the hang case" "$NOHANG")
$(row "stasis fuzz run, the cases of the reboot baseline" "$SAME")
$(row "reboot both guests, client up to the trigger" "$REB")

stasis ÷ reboot, cases/s: $(ratio "$NOHANG") (stasis without the hang case) and
$(ratio "$SAME") (the same cases). cases/s of the fuzz run is its own
\`cases_per_s\` ($(f2 "$(jq .cases_per_s "$W/fuzz.json")"): cases over the sum of the cases' seconds);
the whole command took $FUZZ_WALL s of wall time (making the cases, opening
the hold, quitting the VMs at the end included).

Where one stasis case's time goes, mean seconds (\`results.jsonl\`):

| step | without the hang case | every case |
| --- | --- | --- |
| restore (the old QEMUs quit, both VMs restored paused, in parallel) | $(f3 "$(g "$NOHANG" restore)") | $(f3 "$(g "$ALL" restore)") |
| resume (QMP connects, the hold set, \`cont\` to both at once) | $(f3 "$(g "$NOHANG" resume)") | $(f3 "$(g "$ALL" resume)") |
| replay: the case's frame, then what the VMs sent meanwhile ($(printf '%.1f' "$(g "$NOHANG" frames)") frames in all, mean) | $(f3 "$(g "$NOHANG" replay)") | $(f3 "$(g "$ALL" replay)") |
| verdict (watchdogs) | $(f3 "$(g "$NOHANG" verdict)") | $(f3 "$(g "$ALL" verdict)") |
| other (the case's consoles copied) | $(f3 "$(g "$NOHANG" other)") | $(f3 "$(g "$ALL" other)") |
| total | $(f3 "$(g "$NOHANG" total)") | $(f3 "$(g "$ALL" total)") |

Where one reboot case's time goes, mean seconds: quit $(f3 "$(g "$REB" quit)"),
srv's boot up to req-srv listening $(f3 "$(g "$REB" srv)"), cli's boot and
requests up to the trigger $(f3 "$(g "$REB" boot)"), drain and replay
$(f3 "$(g "$REB" replay)"), verdict $(f3 "$(g "$REB" verdict)"), total $(f3 "$(g "$REB" total)").
Reboot verdicts: $RVERD$([ -n "$MISMATCH" ] && echo "; differing from stasis's: $MISMATCH" || echo ", as stasis's"). The
first request srv counted after the replay (the mutated one, or the probe when
the mutation changed the length) found its counter at: $SERVED after a
reboot$(case "$SERVED" in *"?"*) echo " (? where srv counted none)" ;; esac), $SSERVED in stasis's cases. The case files hold $CASEFRAMES frame(s); the reboot path
drained $DRAINED frame(s) at the trigger. The replayed request keeps the
snapshot's UDP source port, which the rebooted cli does not use: srv's answer
to it is refused by cli (the verdict does not depend on it).$([ "$OTHERS" -gt 0 ] && echo " Other QEMUs shared the machine during the run (up to $OTHERS): the times are disturbed.") $([ -n "$NOTPASS" ] && echo "The hold did not return to pass after the replay: $NOTPASS." || echo "The hold was back in pass after every replay.")
<!-- /bench:fuzz -->
MD
cat "$out"
bench_section fuzz "$out"
