#!/bin/bash
# `stasis fuzz` on bad input: usage errors (exit 2) for bad options and
# --watch specs, one-line errors (exit 1) for folders that are not a
# snapshot or not a results folder; report reads a results folder, skipping
# torn and foreign lines. (The loop itself: tests/system/fuzz_loop.sh.)
. "$(dirname "$0")/../lib/common.sh"
O=$T_WORK/out E=$T_WORK/err R=$T_WORK/results
W="--watch ok:srv:served"

usage() {	# DESC ARGS...: exit 2 and one line on stderr
	local d=$1
	shift
	t_run "$O" "$E" "$STASIS" fuzz "$@"
	t_eq "$d: usage error" "2 1" "$T_RC $(wc -l < "$E")"
}
usage "no arguments" run
usage "no --watch" run --snapshot "$T_WORK" --range 1:2 -o "$R"
usage "no -o" run --snapshot "$T_WORK" --range 1:2 $W
usage "no --range" run --snapshot "$T_WORK" $W -o "$R"
usage "range backwards" run --snapshot "$T_WORK" --range 9:3 $W -o "$R"
usage "range not numbers" run --snapshot "$T_WORK" --range a:b $W -o "$R"
usage "zero cases" run --snapshot "$T_WORK" --range 1:2 --cases 0 $W -o "$R"
usage "negative timeout" run --snapshot "$T_WORK" --range 1:2 --timeout -1 $W -o "$R"
usage "--prefault not one of its words" run --snapshot "$T_WORK" --range 1:2 --prefault most $W -o "$R"
usage "--cases-dir with --range" run --snapshot "$T_WORK" --cases-dir "$T_WORK" --range 1:2 $W -o "$R"
for spec in 'bogus:x' 'console:srv' 'console::x' 'console:bad/name:x' 'ok:srv:(' 'event:' \
	    'probe:udp:10.0.0.2:7000' 'probe:udp:10.0.0.2:99999:00' 'probe:tcp:host:80' \
	    'probe:tcp:10.0.0.2:80:00' 'cmd:' "console:srv:x$(printf '+%.0s' $(seq 20))" \
	    '@h2:console:srv:x' '@:cmd:x' '@bad/h:cmd:x' '@h2:' '@h2' '@h2:event:srv'; do
	usage "--watch '${spec:0:40}'" run --snapshot "$T_WORK" --range 1:2 --watch "$spec" -o "$R"
done
t_check "a bad spec is named in the message" grep -q "probe:udp:10.0.0.2:7000" \
	<("$STASIS" fuzz run --snapshot "$T_WORK" --range 1:2 --watch probe:udp:10.0.0.2:7000 -o "$R" 2>&1)

usage "--host not a name" run --snapshot "$T_WORK" --host 'a/b' --range 1:2 $W -o "$R"
usage "--broker with no value" run --snapshot "$T_WORK" --range 1:2 $W -o "$R" --broker

# A snapshot of several hosts is fuzzed through the agents: without a
# broker (and no local agent's of that experiment), a one-line error.
mkdir -p "$T_WORK/multi/h1" "$T_WORK/multi/h2"
: > "$T_WORK/multi/h1/net.sp"
: > "$T_WORK/multi/h2/net.sp"
t_run "$O" "$E" "$STASIS" fuzz run --snapshot "$T_WORK/multi" --range 1:2 $W --experiment none.$$ -o "$R"
t_eq "several hosts, no broker: exit 1, one line" "1 1" "$T_RC $(wc -l < "$E")"
t_check "saying how to reach the agents" grep -q "fuzzed through their agents: give --broker" "$E"

mkdir -p "$T_WORK/empty"
t_run "$O" "$E" "$STASIS" fuzz run --snapshot "$T_WORK/empty" --range 1:2 $W -o "$R"
t_eq "not a snapshot: exit 1, one line" "1 1" "$T_RC $(wc -l < "$E")"
t_check "and it says so" grep -q "not a snapshot" "$E"
t_run "$O" "$E" "$STASIS" fuzz run --snapshot "$T_WORK/nothing" --range 1:2 $W -o "$R"
t_eq "missing snapshot: exit 1" 1 "$T_RC"

usage "report without a folder" report
usage "repro without a case" repro "$R"
usage "repro with a bad case" repro "$R" twelve
t_run "$O" "$E" "$STASIS" fuzz report "$T_WORK/empty"
t_eq "report of a folder that is not a run: exit 1, one line" "1 1" "$T_RC $(wc -l < "$E")"
mkdir -p "$R"
echo '{"v":1,"snapshot":' > "$R/run.json"
t_run "$O" "$E" "$STASIS" fuzz report "$R"
t_eq "report of a broken run.json: exit 1" 1 "$T_RC"
t_run "$O" "$E" "$STASIS" fuzz repro "$R" 1
t_eq "repro in a broken folder: exit 1" 1 "$T_RC"

# A results folder as a run leaves it, with a foreign line and a torn one.
echo '{"v":1,"snapshot":"/nonexistent","watch":["ok:srv:x"],"timeout_s":5}' > "$R/run.json"
mkdir -p "$R/cases"
for i in 0 1 2; do echo "{\"case\":$i,\"strategy\":\"bit-flips\"}"; done > "$R/cases/cases.jsonl"
{
	echo '{"case":0,"verdict":"ok","seconds":1.5,"restore_s":0.5,"resume_s":0.01,"replay_s":0.1,"time_to_verdict_s":0.8}'
	echo '{"case":1,"verdict":"fail","reason":"console of srv: abort","seconds":0.5,"restore_s":0.5}'
	echo 'not json at all'
	echo '[1,2,3]'
	printf '{"case":2,"verdict":"ok"'
} > "$R/results.jsonl"
t_run "$O" "$E" "$STASIS" -j fuzz report "$R"
t_eq "report: exit 0" 0 "$T_RC"
t_eq "report: counts the whole lines only" '{"ok":1,"fail":1,"hang":0,"error":0}' "$(jq -c .verdicts "$O")"
t_eq "report: total cases from cases.jsonl" 3 "$(jq .cases "$O")"
t_eq "report: the failing case" "1 fail" "$(jq -r '.not_ok[] | "\(.case) \(.verdict)"' "$O")"
t_eq "report: 2 cases in 2.0 s" "1" "$(jq .cases_per_s "$O")"
t_run "$O" "$E" "$STASIS" fuzz report "$R"
t_check "report in words" grep -q "^case 1: fail: console of srv: abort" "$O"
t_run "$O" "$E" "$STASIS" fuzz repro "$R" 7
t_eq "repro of a case that is not there: exit 1" 1 "$T_RC"
t_check "names the case" grep -q "no case 7" "$E"
t_done
