#!/bin/bash
# The fuzz loop across two hosts: the target of fuzz_loop.sh split over two
# namespaces (cli on h1, srv on h2, a veth wire between their bridges held
# by each host as an uplink, one mosquitto, an agent per host sharing one
# snapshots folder as over NFS). A packet trigger on cli's request seq=3
# freezes both hosts; `fuzz run` on that snapshot drives every case through
# the agents: the crashing and the hanging op are found with the same seed
# as on one host, every case starts from the same state, an interrupted run
# resumes, and the reproducer reproduces. Watchdogs run where their VM is
# (srv's console and QEMU events on h2), probes from h1 (beside the fuzz
# command) and from h2 (@h2:), a command on h2.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/net.sh"
. "$(dirname "$0")/../lib/hold.sh"
. "$(dirname "$0")/../lib/vm.sh"
. "$(dirname "$0")/../lib/broker.sh"
. "$(dirname "$0")/../lib/target.sh"
t_need_root
K=$BUILD/guest/vmlinuz I=$BUILD/guest/initrd.img
[ -r "$K" ] && [ -r "$I" ] || t_skip "guest image missing: make guest"
export STASIS_MEM_DIR=/dev/shm/stasis-test.$$
t_defer "rm -rf '$STASIS_MEM_DIR'"
W=$T_WORK SNAPS=$T_WORK/snapshots R=$T_WORK/results CASES=12 SEED=7
TRIG=$TARGET_TRIG PROBE=$TARGET_PROBE

t_require "two hosts, a wire between their bridges, mosquitto on a control link, the holds attached" target_hosts_net
t_require "the agents, srv serving, the trigger on cli's request seq=3, cli: both hosts frozen" \
	target_hosts_snapshot "$SNAPS"
sed 's/^/# /' "$W/trigger.out"
for i in 1 2; do
	t_eq "h$i's part is complete" complete "$(jq -r .state "$SNAPS/snap-1/h$i/manifest.json")"
done
t_check "h1 holds the request" grep -q '> 10.0.0.2:7000' <("$STASIS" sp cat "$SNAPS/snap-1/h1/net.sp")

fuzz() { ip netns exec "$H1" "$STASIS" fuzz "$@"; }
RUN_ARGS=(--snapshot "$SNAPS/snap-1" --range 58:58 --cases $CASES --seed $SEED --timeout 8
	--watch 'console:srv:req-srv: op [0-9]+: abort|run exited'
	--watch "probe:udp:10.0.0.2:7000:$PROBE" --watch event:srv --broker $URL --experiment $EXP -o "$R")
# Stopped (SIGINT) after 3 cases, then resumed.
target_fuzz_resumed "$H1"
t_eq "run.json names the snapshot and the fuzzed frame's host" "$(realpath "$SNAPS/snap-1") h1" \
	"$(jq -r '"\(.snapshot) \(.host)"' "$R/run.json")"
jq -r '"# case \(.case): \(.verdict) op=\(.mutation.changes[0].new // "len") \(.reason) restore=\(.restore_s) verdict=\(.time_to_verdict_s)"' "$R/results.jsonl"

crash=$(jq -r 'select(.mutation.changes[0].new == "80") | .case' "$R/results.jsonl" | head -1)
hang=$(jq -r 'select(.mutation.changes[0].new == "7f") | .case' "$R/results.jsonl" | head -1)
t_check "seed $SEED makes op 0x80 (case $crash) and 0x7f (case $hang), as on one host" test -n "$crash" -a -n "$hang"
t_eq "op 0x80 fails on h2: the service aborted" "fail h2" \
	"$(jq -r "select(.case == $crash) | \"\(.verdict) \(.reason | split(\":\")[0])\"" "$R/results.jsonl")"
t_check "seen on srv's console, brought back from h2" grep -q 'req-srv: op 128: abort' \
	"$R/console/case-$(printf %06d "$crash")-srv.log"
t_eq "op 0x7f hangs the guest: the probe from h1 is never answered" "hang" \
	"$(jq -r "select(.case == $hang) | .verdict" "$R/results.jsonl")"
t_eq "every other case passed" "$((CASES - 2))" "$(jq -s '[.[] | select(.verdict == "ok")] | length' "$R/results.jsonl")"
t_check "reproducers for both" test -s "$R/repro/case-$(printf %06d "$crash").sp" -a -s "$R/repro/case-$(printf %06d "$hang").sp"
t_eq "what each step took on each host" "h1 h2" \
	"$(jq -r 'select(.case == 0) | .hosts | to_entries | map(select(.value.restore_s > 0 and .value.watch_s > 0)) | map(.key) | sort | join(" ")' "$R/results.jsonl")"
t_eq "h1 replayed the case's frames" true "$(jq -s 'map(.hosts.h1.replayed >= 1) | all' "$R/results.jsonl")"
# Every case began from the same state: the first request srv sees after
# the resume finds the same served counter.
for f in "$R"/console/case-*-srv.log; do
	grep -o 'req-srv: got seq=[0-9]* op=[0-9]* served=[0-9]*' "$f" | head -1 | grep -o 'served=[0-9]*'
done > "$W/served"
echo "# first request of each case: $(sort "$W/served" | uniq -c | tr -s ' ' | tr '\n' ';')"
t_eq "one served counter in all $CASES cases" 1 "$(sort -u "$W/served" | wc -l)"
t_eq "and srv saw the request in each" "$CASES" "$(wc -l < "$W/served")"

t_require "fuzz repro of the crash" into "$W/repro.json" fuzz -j repro "$R" "$crash" --broker $URL --experiment $EXP
t_eq "repro reproduces it" fail "$(jq -r .verdict "$W/repro.json")"
t_check "with the abort on the console" grep -q 'op 128: abort' "$R/console/repro-$(printf %06d "$crash")-srv.log"

# The other watchdogs over the two cases that did not pass: a command on
# h2 (it gets the case and its host), a probe from h2's namespace, and a
# line that must come on cli's console (h1).
R2=$T_WORK/results2
t_require "a run over given cases" into "$W/run3.json" fuzz -j run --snapshot "$SNAPS/snap-1" --cases-dir "$R/repro" \
	--timeout 4 --watch "@h2:cmd:test \$STASIS_FUZZ_HOST = h2 -a \$STASIS_FUZZ_CASE != $crash" \
	--watch "@h2:probe:udp:10.0.0.2:7000:$PROBE" --watch 'ok:cli:req-cli: reply seq=' \
	--broker $URL --experiment $EXP -o "$R2"
t_eq "both cases ran" 2 "$(jq .ran "$W/run3.json")"
t_eq "the crash case: h2's command exits 1" "fail h2" \
	"$(jq -r "select(.case == $crash) | \"\(.verdict) \(.reason | split(\":\")[0])\"" "$R2/results.jsonl")"
t_eq "the hang case: cli is never answered: hang" hang "$(jq -r "select(.case == $hang) | .verdict" "$R2/results.jsonl")"

# --prefault reaches the restore of every host's part: h2 restores srv with
# every page of its memory image touched first (prealloc=on).
t_require "a run with --prefault all" into "$W/run8.json" fuzz -j run --snapshot "$SNAPS/snap-1" --cases-dir "$R/repro" \
	--timeout 4 --prefault all --watch "@h2:cmd:grep -qa prealloc=on /proc/\$(jq .pid $T_WORK/vms-srv/srv/vm.json)/cmdline" \
	--broker $URL --experiment $EXP -o "$T_WORK/r8"
t_eq "  h2's srv was restored with prealloc=on in every case" ok "$(jq -r .verdict "$T_WORK/r8/results.jsonl" | sort -u)"

t_eq "a watchdog of a VM no host has: error" 1 "$(fuzz run --snapshot "$SNAPS/snap-1" --cases-dir "$R/repro" \
	--watch event:nosuch --broker $URL --experiment $EXP -o "$T_WORK/r4" > /dev/null 2> "$W/r4.err"; echo $?)"
t_check "saying so" grep -q "no host of the snapshot has a VM 'nosuch'" "$W/r4.err"
t_eq "@HOST: of a host without a part: error" 1 "$(fuzz run --snapshot "$SNAPS/snap-1" --cases-dir "$R/repro" \
	--watch '@h9:cmd:true' --broker $URL --experiment $EXP -o "$T_WORK/r5" > /dev/null 2>&1; echo $?)"
t_eq "--frame N without --host: usage error" 1 "$(fuzz run --snapshot "$SNAPS/snap-1" --frame 0 --range 58:58 \
	--cases 2 --watch event:srv --broker $URL --experiment $EXP -o "$T_WORK/r6" > /dev/null 2>&1; echo $?)"
t_eq "--rate across hosts (the agents' own pace): error" 1 "$(fuzz run --snapshot "$SNAPS/snap-1" --cases-dir "$R/repro" \
	--watch event:srv --rate 100 --broker $URL --experiment $EXP -o "$T_WORK/r7" > /dev/null 2>&1; echo $?)"
t_done
