#!/bin/bash
# stop + save + restore: a guest's tick counter continues from where it was
# stopped, on a VM launched by `stasis vm start` on a tap in a namespace.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/net.sh"
. "$(dirname "$0")/../lib/vm.sh"
vm_test_init
tap_create "$NS" tapa
# last tick N printed on NAME's console, from line FROM on
last_tick() { tail -n +"${2:-1}" "$STASIS_VM_ROOT/$1/console.log" | tr -d '\r' | sed -n 's/^tick \([0-9]*\)$/\1/p' | tail -1; }
# wait_from NAME FROM REGEX SECONDS: a console line from line FROM on matches
wait_from() { wait_until "$4" log_has "$STASIS_VM_ROOT/$1/console.log" "$2" "$3"; }
first_tick() { tail -n +"$2" "$STASIS_VM_ROOT/$1/console.log" | tr -d '\r' | sed -n 's/^tick \([0-9]*\)$/\1/p' | head -1; }

echo "ticker --interval-ms 100" > "$T_WORK/run.sh"
t_run "$T_WORK/out" "$T_WORK/err" "$STASIS" vm start a --kernel "$K" --initrd "$I" \
	--append "console=ttyS0 loglevel=3 panic=-1 stasis.name=a" --run "$T_WORK/run.sh" \
	--netns "$NS" --tap tapa --mac 52:54:00:00:00:0a
t_require "vm start a exits 0" test "$T_RC" = 0
t_require "the guest ticks" wait_line "$STASIS_VM_ROOT/a/console.log" '^tick 10' 90

t_run "$T_WORK/out" "$T_WORK/err" "$STASIS" -j vm list
t_eq "vm list: a is running" running "$(jq -r '.[] | select(.name=="a") | .state' "$T_WORK/out")"

"$STASIS" vm stop a > "$T_WORK/stop.out"
t_eq "vm stop exits 0" 0 $?
t_check "vm stop reports the acknowledgement" grep -q "^a: stopped sent=+0us ack=+[0-9]*us" "$T_WORK/stop.out"
# QEMU writes the serial port's output when the guest writes it: every tick
# before the stop is in the log now. Ten ticks' time (100 ms each) without
# one shows the guest stopped.
T=$(last_tick a)
observe 1
t_eq "no tick while stopped" "$T" "$(last_tick a)"

t_run "$T_WORK/out" "$T_WORK/err" "$STASIS" vm save "$T_WORK/snap" a
t_require "vm save exits 0" test "$T_RC" = 0
t_eq "the snapshot is marked complete" a "$(jq -r '.vms[0].name' "$T_WORK/snap/complete")"
t_check "progress went to stderr" grep -q "save: a" "$T_WORK/err"
t_check "the state file is there" test -s "$T_WORK/snap/a/state"

# The original goes on ticking well past the saved moment, then goes away.
"$STASIS" vm cont a > /dev/null
t_require "the original continues after the save" wait_line "$STASIS_VM_ROOT/a/console.log" "^tick $((T + 30))" 60
"$STASIS" vm quit a > /dev/null
t_eq "vm list: a is dead after quit" dead "$("$STASIS" -j vm list | jq -r '.[0].state')"

L=$(($(wc -l < "$STASIS_VM_ROOT/a/console.log") + 1))
t_run "$T_WORK/out" "$T_WORK/err" "$STASIS" vm restore "$T_WORK/snap"
t_require "vm restore exits 0" test "$T_RC" = 0
t_require "the restored guest ticks" wait_from a "$L" "^tick $((T + 5))$" 60
echo "# stopped at tick $T; first tick after restore: $(first_tick a "$L")"
t_eq "the tick counter continues from the stop" "$((T + 1))" "$(first_tick a "$L")"
t_eq "vm list: the restored a runs" running "$("$STASIS" -j vm list | jq -r '.[0].state')"

# restore --paused: loaded but not running until cont.
t_run "$T_WORK/out" "$T_WORK/err" "$STASIS" -j vm restore "$T_WORK/snap" a --paused
t_eq "restore --paused exits 0" 0 "$T_RC"
t_eq "restore -j says paused" paused "$(jq -r '.restored[0].state' "$T_WORK/out")"
L=$(($(wc -l < "$STASIS_VM_ROOT/a/console.log") + 1))
t_eq "restore --paused leaves it paused" paused "$("$STASIS" -j vm list | jq -r '.[0].state')"
observe 1
t_eq "no tick while paused" "" "$(first_tick a "$L")"
"$STASIS" vm cont a > /dev/null
t_require "ticks after cont" wait_from a "$L" "^tick $((T + 3))$" 60
t_eq "and from the saved moment again" "$((T + 1))" "$(first_tick a "$L")"
t_done
