#!/bin/bash
# User actions (shared objects, the C ABI of coordinator/stasis_action.h)
# staged with the built-in ones: all initialised before the moment,
# critical ones run first on a snapshot and last on a restore, all
# destroyed; a failing action fails the snapshot; a bad plugin is refused.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/broker.sh"
W=$T_WORK O=$T_WORK/out E=$T_WORK/err
mkdir -p "$W/actions" "$W/bad"
cp "$BUILD/tools/action_log.so" "$W/actions/"
t_require "mosquitto listens" broker_local
URL=$BROKER_URL port=$BROKER_PORT
agent() {	# EXPERIMENT HOST [ENV...]; $AP is its PID
	local exp=$1 host=$2
	shift 2
	env "$@" "$STASIS" agent --broker $URL --experiment "$exp" --host "$host" --snapshots "$W/s-$exp-$host" \
		--actions "$W/actions" > "$W/agent-$exp-$host.log" 2>&1 &
	AP=$!
	t_defer "kill $AP 2>/dev/null"
	wait_until 30 sh -c "'$STASIS' coord status --broker $URL --experiment '$exp' 2>&1 | grep -q '^ *$host  *online  *ok'" ||
		t_fail "agent $host of $exp online"
}
agent ok h1
t_run "$O" "$E" "$STASIS" coord snapshot --epoch 5 --broker $URL --experiment ok
t_eq "snapshot with user actions" 0 "$T_RC"
L=$W/s-ok-h1/snap-5/actions.log
phases=$(awk '{print $1 ":" $2}' "$L" | tr '\n' ' ')
echo "# $phases"
t_eq "both initialised first, critical ran before non-critical, both destroyed" \
	"log-critical:init-snapshot log-late:init-snapshot log-critical:run log-late:run log-critical:destroy log-late:destroy " "$phases"
t_eq "the manifest is complete" complete "$(jq -r .state "$W/s-ok-h1/snap-5/h1/manifest.json")"
t_run "$O" "$E" "$STASIS" -j coord restore 5 --broker $URL --experiment ok
t_eq "restore with user actions" 0 "$T_RC"
t_eq "on a restore the critical action runs last" "log-late log-critical" \
	"$(awk '$2 == "run" {print $1}' "$L" | tail -2 | tr '\n' ' ' | sed 's/ $//')"

agent failing h1 STASIS_TEST_ACTION_FAIL=1
t_run "$O" "$E" "$STASIS" coord snapshot --epoch 6 --broker $URL --experiment failing
t_eq "a failing user action fails the snapshot" 1 "$T_RC"
t_check "  the report says it failed" grep -q "FAILED" "$O"
t_eq "  and the manifest says failed" failed "$(jq -r .state "$W/s-failing-h1/snap-6/h1/manifest.json")"
t_eq "  still every initialised action was destroyed" 2 "$(grep -c destroy "$W/s-failing-h1/snap-6/actions.log")"

# An agent killed in the middle of its snapshot (its non-critical action
# takes 3 s): the round fails, the other host's part is not complete, and
# that host goes on answering.
agent mid h1
agent mid h2 STASIS_TEST_ACTION_SLEEP_MS=3000
victim=$AP
"$STASIS" coord snapshot --epoch 7 --broker $URL --experiment mid --timeout 8 > "$O" 2> "$E" &
sp=$!
t_check "h2 is inside its snapshot" wait_until 5 grep -q 'log-late run' "$W/s-mid-h2/snap-7/actions.log"
kill -9 $victim
wait $victim 2>/dev/null
wait $sp
t_eq "the snapshot fails" 1 $?
sed 's/^/# /' "$O"
t_check "  the report names h2" grep -q "^ *h2 " "$O"
t_eq "  h1's part is not complete" failed "$(jq -r .state "$W/s-mid-h1/snap-7/h1/manifest.json")"
t_check "  h2 left no complete part" test "$(jq -r .state "$W/s-mid-h2/snap-7/h2/manifest.json" 2>/dev/null)" != complete
t_run "$O" "$E" "$STASIS" coord status --broker $URL --experiment mid
t_check "  h1 still answers, h2 shows offline" sh -c "grep -q 'h1 *online' '$O' && grep -q 'h2 *offline' '$O'"

# A snapshot that takes longer than 30 s (its non-critical action sleeps
# 32 s): the agent's broker connection stays alive meanwhile (the work runs
# off its event loop), it answers a status request mid-snapshot, and its
# last will is never published.
agent long h1 STASIS_TEST_ACTION_SLEEP_MS=32000
mosquitto_sub -h 127.0.0.1 -p $port -v -t 'stasis/long/agents/+' > "$W/long-status" 2>&1 &
msp=$!
t_defer "kill $msp 2>/dev/null"
"$STASIS" coord snapshot --epoch 8 --broker $URL --experiment long --timeout 120 > "$W/long.out" 2> "$W/long.err" &
lsp=$!
t_check "the long snapshot is under way" wait_until 10 grep -q 'log-late run' "$W/s-long-h1/snap-8/actions.log"
observe 20
t_run "$O" "$E" "$STASIS" coord status --broker $URL --experiment long --timeout 2
t_check "  20 s into it the agent answers a status request" grep -q 'h1 *online *ok' "$O"
wait $lsp
t_eq "  the snapshot of over 30 s succeeds" 0 $?
t_eq "  its part is complete" complete "$(jq -r .state "$W/s-long-h1/snap-8/h1/manifest.json")"
kill $msp
t_eq "  and the agent never went offline meanwhile" 0 "$(grep -c '"op":"offline"' "$W/long-status")"

printf 'int not_a_plugin;\n' > "$W/bad/x.c"
cc -shared -fPIC -o "$W/bad/x.so" "$W/bad/x.c"
t_run "$O" "$E" "$STASIS" agent --broker $URL --host h9 --snapshots "$W/s9" --actions "$W/bad"
t_eq "a .so that is no plugin: the agent refuses to start" 1 "$T_RC"
t_check "  and says why" grep -q "not a stasis action plugin" "$E"
t_done
