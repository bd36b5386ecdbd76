#!/bin/bash
# The fuzz loop across two hosts against the same loop on one host (issue
# 14), in one run: the target of tests/system/fuzz_loop.sh on one host, then
# split over two (tests/system/fuzz_hosts.sh: cli on h1, srv on h2, a held
# veth wire between them, mosquitto, an agent per host). The same CASES
# cases (default 12, seed 7: the crash and the hang among them) by the same
# watchdogs; cases/s of each and their ratio, and where a case's time goes.
# Writes the section bench:fuzz-hosts of docs/BENCHMARKS.md. Needs root,
# QEMU, mosquitto and the guest image (make guest).
set -u
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/lib/common.sh"
. "$ROOT/tests/lib/net.sh"
. "$ROOT/tests/lib/hold.sh"
. "$ROOT/tests/lib/broker.sh"
. "$ROOT/tests/lib/target.sh"
CASES=${CASES:-12} SEED=7 TIMEOUT=8
K=$BUILD/guest/vmlinuz I=$BUILD/guest/initrd.img
W=$T_WORK
[ "$(id -u)" = 0 ] || { echo "bench_fuzz_hosts: needs root" >&2; exit 1; }
[ -r "$K" ] && [ -r "$I" ] || { echo "bench_fuzz_hosts: guest image missing: make guest" >&2; exit 1; }
die() { echo "bench_fuzz_hosts: $*" >&2; T_FAILED=1; exit 1; }
WATCH=(--watch 'console:srv:req-srv: op [0-9]+: abort|run exited' --watch "probe:udp:10.0.0.2:7000:$TARGET_PROBE")
ARGS=(--range 58:58 --cases "$CASES" --seed $SEED --timeout $TIMEOUT "${WATCH[@]}")

# One host.
export STASIS_VM_ROOT=$W/vms
ns_create NS || die "namespace"
t_defer "STASIS_VM_ROOT=$W/vms '$STASIS' vm quit --all"
target_net || die "one host: bridge, taps, attach"
echo "bench_fuzz_hosts: one host: snapshot, then $CASES cases" >&2
target_snapshot "$W/snaps1" || die "one host: snapshot"
ip netns exec "$NS" "$STASIS" -j fuzz run --snapshot "$W/snaps1/snap-1" "${ARGS[@]}" -o "$W/r1" \
	> "$W/one.json" 2> "$W/one.err" || die "one host: fuzz run: $(tail -3 "$W/one.err")"
STASIS_VM_ROOT=$W/vms "$STASIS" vm quit --all > /dev/null 2>&1

# Two hosts.
unset STASIS_VM_ROOT
target_hosts_net || die "two hosts: namespaces, wire, broker, attach"
echo "bench_fuzz_hosts: two hosts: snapshot, then $CASES cases" >&2
target_hosts_snapshot "$W/snaps2" || die "two hosts: snapshot"
ip netns exec "$H1" "$STASIS" -j fuzz run --snapshot "$W/snaps2/snap-1" "${ARGS[@]}" --broker "$URL" \
	--experiment "$EXP" -o "$W/r2" > "$W/two.json" 2> "$W/two.err" ||
	die "two hosts: fuzz run: $(tail -3 "$W/two.err")"

for r in r1 r2; do
	jq -r "\"# $r case \(.case): \(.verdict) seconds=\(.seconds)\"" "$W/$r/results.jsonl" >&2
done
stats() {	# RESULTS JQ-FILTER
	jq -s -c "map(select($2)) | {n: length, s: (map(.seconds) | add),
		restore: (map(.restore_s) | add / length), resume: (map(.resume_s) | add / length),
		replay: (map(.replay_s) | add / length), verdict: (map(.time_to_verdict_s) | add / length),
		total: (map(.seconds) | add / length)} | .cps = .n / .s" "$1/results.jsonl"
}
g() { echo "$1" | jq -r ".$2"; }
f2() { printf '%.2f' "$1"; }
f3() { printf '%.3f' "$1"; }
A1=$(stats "$W/r1" true) A2=$(stats "$W/r2" true)
N1=$(stats "$W/r1" '.verdict != "hang"') N2=$(stats "$W/r2" '.verdict != "hang"')
ratio() { awk -v a="$(g "$1" cps)" -v b="$(g "$2" cps)" 'BEGIN { printf "%.2f", a / b }'; }
# The same verdict for each case on both?
SAME=$(jq -n -r --slurpfile a "$W/r1/results.jsonl" --slurpfile b "$W/r2/results.jsonl" \
	'[range(0; $a | length) as $i | ($a[$i].case) as $c | select(($b | map(select(.case == $c)) | .[0].verdict) != $a[$i].verdict) | $c] | length')
VERD=$(jq -r '.verdicts | to_entries | map("\(.value) \(.key)") | join(", ")' "$W/two.json")
HOST=$(jq -s -c 'map(select(.verdict != "hang")) | {
	h1r: (map(.hosts.h1.restore_s) | add / length), h2r: (map(.hosts.h2.restore_s) | add / length),
	h1p: (map(.hosts.h1.replay_s) | add / length), h2p: (map(.hosts.h2.replay_s) | add / length)}' "$W/r2/results.jsonl")
step() {	# LABEL KEY
	echo "| $1 | $(f3 "$(g "$N1" "$2")") | $(f3 "$(g "$N2" "$2")") |"
}

out=$W/section.md
cat > "$out" <<MD
<!-- bench:fuzz-hosts -->
## Fuzz loop across hosts (issue 14)

\`make bench\` → \`tests/bench/bench_fuzz_hosts.sh\` (CASES=$CASES; $(machine)). The target
of \`tests/system/fuzz_loop.sh\` (srv \`req-srv --crash-op 128 --hang-op 127\`,
cli a request every 500 ms, the snapshot taken by the packet trigger on cli's
request seq=3), first on one host (one namespace, one bridge), then split over
two (\`tests/system/fuzz_hosts.sh\`: cli on h1, srv on h2, a veth wire between
their bridges held by each host as an uplink, mosquitto on a control link, an
agent per host). Both runs: \`stasis fuzz run --range 58:58 --cases $CASES --seed $SEED
--timeout $TIMEOUT\`, srv's console and a UDP probe from h1 as watchdogs (across
hosts srv's console is watched on h2 and brought back). Verdicts across
hosts: $VERD; $([ "$SAME" = 0 ] && echo "every case got the same verdict on one host and across two" || echo "$SAME case(s) got another verdict across hosts than on one").

| loop | cases/s, every case | cases/s, without the hang | mean s/case without the hang |
| --- | --- | --- | --- |
| one host (\`fuzz run\` restores the part itself) | $(f2 "$(g "$A1" cps)") | $(f2 "$(g "$N1" cps)") | $(f3 "$(g "$N1" total)") |
| two hosts (through the agents) | $(f2 "$(g "$A2" cps)") | $(f2 "$(g "$N2" cps)") | $(f3 "$(g "$N2" total)") |

Two hosts ÷ one host, cases/s: $(ratio "$N2" "$N1") without the hang case, $(ratio "$A2" "$A1")
with it (the goal: ≥ 0.80).

Where a case's time goes (mean seconds, cases without the hang):

| step | one host | two hosts |
| --- | --- | --- |
$(step "restore (one host: both VMs in parallel; two: the restore round, each host its VM, paused and held)" restore)
$(step "resume (one host: the hold, cont; two: the resume round, which includes each host's replay)" resume)
$(step "replay (two hosts: the slower host's)" replay)
$(step "verdict" verdict)
$(step "total" total)

Per host across two (the hosts' own times): restore h1 $(f3 "$(g "$HOST" h1r)"), h2 $(f3 "$(g "$HOST" h2r)");
replay h1 $(f3 "$(g "$HOST" h1p)"), h2 $(f3 "$(g "$HOST" h2p)").
<!-- /bench:fuzz-hosts -->
MD
cat "$out"
bench_section fuzz-hosts "$out"
