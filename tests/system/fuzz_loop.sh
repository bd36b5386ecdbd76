#!/bin/bash
# The fuzz loop on two TCG guests: srv runs req-srv (aborts on op 0x80, the
# whole guest hangs on op 0x7f), cli sends it a request every 500 ms. A packet
# trigger on cli's request seq=3 snapshots both VMs and the held request;
# `fuzz run` mutates the op byte of that request (seed 7: the cases include
# 0x80 and 0x7f) and runs every case from the snapshot; `fuzz repro` replays
# the crashing case. An interrupted run resumes where it stopped.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/net.sh"
. "$(dirname "$0")/../lib/hold.sh"
. "$(dirname "$0")/../lib/vm.sh"
. "$(dirname "$0")/../lib/target.sh"
vm_test_init
W=$T_WORK SNAPS=$T_WORK/snapshots R=$T_WORK/results CASES=12 SEED=7
TRIG=$TARGET_TRIG PROBE=$TARGET_PROBE

t_require "bridge, two taps, a host address for probes, the hold attached" target_net
t_require "snapshot on cli's request seq=3" target_snapshot "$SNAPS"
S=$SNAPS/snap-1/h1
t_eq "the snapshot is complete" complete "$(jq -r .state "$S/manifest.json")"
t_eq "both VMs are in it (cli started after the trigger was armed)" "cli srv" \
	"$(jq -r '[.vms[].name] | sort | join(" ")' "$S/manifest.json")"
t_eq "the manifest names the trigger bytes" "42 $TRIG" "$(jq -r '.trigger | "\(.offset) \(.hex)"' "$S/manifest.json")"
t_check "the request is held" grep -q 'tapb out.*> 10.0.0.2:7000' <("$STASIS" sp cat "$S/net.sp")

fuzz() { ip netns exec "$NS" "$STASIS" fuzz "$@"; }
RUN_ARGS=(--snapshot "$SNAPS/snap-1" --range 58:58 --cases $CASES --seed $SEED --timeout 8
	--watch 'console:srv:req-srv: op [0-9]+: abort|run exited'
	--watch "probe:udp:10.0.0.2:7000:$PROBE" --watch event:srv -o "$R")
# Stopped (SIGINT) after 3 cases, then resumed.
target_fuzz_resumed "$NS"
t_eq "the summary counts them all" $CASES "$(jq .ran "$W/run2.json")"
jq -r '"# case \(.case): \(.verdict) op=\(.mutation.changes[0].new // "len") \(.reason) restore=\(.restore_s) verdict=\(.time_to_verdict_s)"' "$R/results.jsonl"

crash=$(jq -r 'select(.mutation.changes[0].new == "80") | .case' "$R/results.jsonl" | head -1)
hang=$(jq -r 'select(.mutation.changes[0].new == "7f") | .case' "$R/results.jsonl" | head -1)
t_check "seed $SEED makes op 0x80 (case $crash) and 0x7f (case $hang)" test -n "$crash" -a -n "$hang"
t_eq "op 0x80 fails: the service aborted" "fail" "$(jq -r "select(.case == $crash) | .verdict" "$R/results.jsonl")"
t_check "seen on srv's console" grep -q 'req-srv: op 128: abort' "$R/console/case-$(printf %06d "$crash")-srv.log"
t_eq "op 0x7f hangs the guest: cut off by the timeout" "hang" "$(jq -r "select(.case == $hang) | .verdict" "$R/results.jsonl")"
t_eq "the loop went on after the hang" "$CASES" "$(jq -s 'length' "$R/results.jsonl")"
t_eq "every other case passed" "$((CASES - 2))" "$(jq -s '[.[] | select(.verdict == "ok")] | length' "$R/results.jsonl")"
t_check "a reproducer for the crash" test -s "$R/repro/case-$(printf %06d "$crash").sp"
t_check "and for the hang" test -s "$R/repro/case-$(printf %06d "$hang").sp"
t_check "no reproducer for passing cases" test "$(ls "$R/repro" | wc -l)" = 2
# Every case began from the same state: the first request srv sees after
# the resume finds the same served counter.
for f in "$R"/console/case-*-srv.log; do
	grep -o 'req-srv: got seq=[0-9]* op=[0-9]* served=[0-9]*' "$f" | head -1 | grep -o 'served=[0-9]*'
done > "$W/served"
echo "# first request of each case: $(sort "$W/served" | uniq -c | tr -s ' ' | tr '\n' ';')"
t_eq "one served counter in all $CASES cases" "$CASES served=3" "$(sort "$W/served" | uniq -c | awk '{print $1, $2}')"
"$STASIS" sp mutate "$S/net.sp" --frame "$(jq -r 'select(.case == 0) | .mutation.frame' "$R/results.jsonl")" \
	--range 58:58 --cases $CASES --seed $SEED -o "$W/again" > /dev/null
t_eq "the same seed gives the same cases" "$(md5sum < "$W/again/cases.jsonl")" "$(md5sum < "$R/cases/cases.jsonl")"

t_require "fuzz report" into "$W/report.json" "$STASIS" -j fuzz report "$R"
t_eq "report: verdict counts" '{"ok":10,"fail":1,"hang":1,"error":0}' "$(jq -c .verdicts "$W/report.json")"
t_eq "report: the two cases that did not pass" "$(printf '%s\n' "$crash" "$hang" | sort -n)" "$(jq '.not_ok[].case' "$W/report.json" | sort -n)"
t_require "fuzz repro of the crash" into "$W/repro.json" fuzz -j repro "$R" "$crash" --quit
t_eq "repro reproduces it" fail "$(jq -r .verdict "$W/repro.json")"
t_check "with the abort on the console" grep -q 'op 128: abort' "$R/console/repro-$(printf %06d "$crash")-srv.log"

# The other watchdogs, over the two cases that did not pass (--cases-dir):
# a command (its exit status decides; it gets STASIS_FUZZ_CASE) and a
# console line that must come (cli's answer to a request).
R2=$T_WORK/results2
t_require "a run over given cases" into "$W/run3.json" fuzz -j run --snapshot "$S" --cases-dir "$R/repro" \
	--timeout 4 --watch "cmd:test \$STASIS_FUZZ_CASE != $crash" --watch 'ok:cli:req-cli: reply seq=' -o "$R2"
t_eq "both cases ran" 2 "$(jq .ran "$W/run3.json")"
t_eq "the crash case: the command exits 1" "fail command exited 1" \
	"$(jq -r "select(.case == $crash) | \"\(.verdict) \(.reason)\"" "$R2/results.jsonl" | cut -d: -f1)"
t_eq "the hang case: the command passes, cli is never answered: hang" hang \
	"$(jq -r "select(.case == $hang) | .verdict" "$R2/results.jsonl")"
# A QEMU event: RESUME comes with every case's cont, so it fails each one.
t_require "a run watching a QEMU event" into "$W/run4.json" fuzz -j run --snapshot "$S" \
	--cases-dir "$R/repro" --timeout 4 --watch event:cli:RESUME -o "$T_WORK/results3"
t_eq "the event fails both cases" "fail QEMU event RESUME from cli" \
	"$(jq -r '"\(.verdict) \(.reason)"' "$T_WORK/results3/results.jsonl" | sort -u)"
# --prefault reaches each case's restore: with "all" srv's new QEMU maps its
# memory image with every page touched first (prealloc=on), without it not.
PF_CMD='cmd:grep -qa prealloc=on /proc/$(jq .pid "$STASIS_VM_ROOT/srv/vm.json")/cmdline'
t_require "a run with --prefault all" into "$W/run5.json" fuzz -j run --snapshot "$S" --cases-dir "$R/repro" \
	--timeout 4 --prefault all --watch "$PF_CMD" -o "$T_WORK/results5"
t_eq "  every case's srv was restored with prealloc=on" ok "$(jq -r .verdict "$T_WORK/results5/results.jsonl" | sort -u)"
t_eq "  run.json keeps it" all "$(jq -r .prefault "$T_WORK/results5/run.json")"
t_require "the same run without it" into "$W/run6.json" fuzz -j run --snapshot "$S" --cases-dir "$R/repro" \
	--timeout 4 --watch "$PF_CMD" -o "$T_WORK/results6"
t_eq "  no case's srv was" fail "$(jq -r .verdict "$T_WORK/results6/results.jsonl" | sort -u)"
t_eq "bad case number: usage error" 2 "$(fuzz repro "$R" x12 > /dev/null 2>&1; echo $?)"
t_eq "unknown case: error" 1 "$(fuzz repro "$R" 999 > /dev/null 2>&1; echo $?)"
t_eq "another seed into the same folder is refused" 1 \
	"$(fuzz run "${RUN_ARGS[@]}" --seed 8 > /dev/null 2>&1; echo $?)"
t_done
