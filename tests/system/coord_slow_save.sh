#!/bin/bash
# A snapshot whose VM save takes longer than 30 s (its state written at
# 2 MiB/s, `coord snapshot --max-bandwidth`): it completes, the agent stays
# online throughout (the save runs off its event loop; its broker
# connection is served meanwhile: no last will), the sender shows the
# save's progress as the agent publishes it, and a status request is
# answered mid-save.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/broker.sh"
. "$(dirname "$0")/../lib/net.sh"
. "$(dirname "$0")/../lib/vm.sh"
vm_test_init
W=$T_WORK O=$T_WORK/out E=$T_WORK/err
tap_create "$NS" tapa
echo "ticker --interval-ms 100" > "$W/run.sh"
t_run "$O" "$E" "$STASIS" vm start a --kernel "$K" --initrd "$I" \
	--append "console=ttyS0 loglevel=3 panic=-1 stasis.name=a" --run "$W/run.sh" \
	--netns "$NS" --tap tapa --mac 52:54:00:00:00:0a
t_require "vm start a" test "$T_RC" = 0
t_require "the guest ticks" wait_line "$STASIS_VM_ROOT/a/console.log" '^tick 10' 90

t_require "mosquitto listens" broker_local
URL=$BROKER_URL port=$BROKER_PORT
"$STASIS" agent --broker $URL --experiment slow --host h1 --snapshots "$W/snaps" \
	--instances "$STASIS_VM_ROOT" > "$W/agent.log" 2>&1 &
t_defer "kill $!"
coord() { "$STASIS" coord "$@" --broker $URL --experiment slow; }
t_require "the agent answers" wait_until 30 sh -c "'$STASIS' coord status --broker $URL --experiment slow 2>&1 | grep -q 'h1 *online *ok'"
mosquitto_sub -h 127.0.0.1 -p $port -v -t 'stasis/slow/agents/+' > "$W/status" 2>&1 &
t_defer "kill $! 2>/dev/null"

"$STASIS" -j coord snapshot --epoch 3 --max-bandwidth 2M --timeout 300 --broker $URL --experiment slow > "$W/snap.json" 2> "$W/snap.err" &
sp=$!
t_check "the save's progress reaches the sender" wait_until 60 grep -q '"stage":"vm-stop-save"' "$W/snap.err"
observe 20
t_run "$O" "$E" coord status --timeout 3
t_check "  20 s into it the agent answers a status request" grep -q 'h1 *online *ok' "$O"
wait $sp
t_eq "the snapshot succeeds" 0 $?
t_eq "  its part is complete" complete "$(jq -r .state "$W/snaps/snap-3/h1/manifest.json")"
ms=$(jq '.replies.h1.actions["vm-stop-save"] | (.end_ns - .start_ns) / 1000000 | floor' "$W/snap.json")
echo "# the save took $ms ms"
t_check "  the save took longer than 30 s (the case under test)" test "${ms:-0}" -gt 30000
n=$(grep -c '"stage":"vm-stop-save"' "$W/snap.err")
t_check "  progress all along ($n lines, RAM sent growing)" sh -c "[ $n -ge 10 ] &&
	grep '\"stage\":\"vm-stop-save\"' '$W/snap.err' | jq -s '[.[].done] | . == sort and .[0] < .[-1]' | grep -qx true"
t_eq "  the agent never went offline meanwhile" 0 "$(grep -c '"op":"offline"' "$W/status")"
t_done
