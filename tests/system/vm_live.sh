#!/bin/bash
# Live snapshot (background-snapshot): the guest keeps ticking through it,
# the downtime is reported, and a restore continues from the tick of the
# snapshot moment. With a disk, the restore has memory and disk of the
# snapshot moment while the guest went on writing both.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/net.sh"
. "$(dirname "$0")/../lib/vm.sh"
vm_test_init
tap_create "$NS" tapa
LOG=$STASIS_VM_ROOT/a/console.log
ticks_from() { tail -n +"$1" "$LOG" | tr -d '\r' | sed -n 's/^tick \([0-9]*\)$/\1/p'; }

echo "ticker --interval-ms 100" > "$T_WORK/run.sh"
t_run "$T_WORK/out" "$T_WORK/err" "$STASIS" vm start a --kernel "$K" --initrd "$I" \
	--append "console=ttyS0 loglevel=3 panic=-1 stasis.name=a" --run "$T_WORK/run.sh" \
	--netns "$NS" --tap tapa
t_require "vm start a" test "$T_RC" = 0
t_require "the guest ticks" wait_line "$LOG" '^tick 10' 90

# Started just after a tick, so the 100 ms ticker shows whether the guest ran
# through the snapshot (~0.5 s here for ~94 MB, fsync included).
N=$(ticks_from 1 | wc -l)
wait_until 5 at_least $((N + 1)) tick_lines "$LOG" 1
B=$(ticks_from 1 | tail -1)
t_run "$T_WORK/out" "$T_WORK/err" "$STASIS" -j vm snapshot --live "$T_WORK/snap" a
t_require "vm snapshot --live exits 0" test "$T_RC" = 0
A=$(ticks_from 1 | tail -1)
echo "# ticks: $B before the snapshot, $A after; $(jq -c '.vms[0]' "$T_WORK/out")"
t_check "the snapshot is marked complete and live" sh -c "jq -e '.live' '$T_WORK/snap/complete' > /dev/null"
t_check "downtime is reported" sh -c "jq -e '.vms[0].downtime_ms >= 0' '$T_WORK/out' > /dev/null"
# Two ticks at least: a guest paused throughout and resumed at the end may
# still show one by the time A is read.
t_check "the guest ticked during the snapshot (tick $A after, $B before)" test "${A:-0}" -ge $((${B:-0} + 2))
# A save that paused the guest all along would report a pause as long as the
# snapshot itself: the pause (STOP to RESUME events) and QEMU's downtime
# must be small beside the snapshot's own duration, all as reported.
t_check "the pause was measured (STOP and RESUME seen)" \
	sh -c "jq -e '.vms[0].paused_ms > 0' '$T_WORK/out' > /dev/null"
t_check "pause and downtime are under a tenth of the snapshot's duration" \
	sh -c "jq -e '.vms[0] | .paused_ms * 10 < .save_s * 1000 and .downtime_ms * 10 < .save_s * 1000' '$T_WORK/out' > /dev/null"
t_eq "the guest was not left paused" running "$("$STASIS" -j vm list | jq -r '.[0].state')"
L=$(($(wc -l < "$LOG") + 1))
t_require "the guest keeps ticking after the snapshot" wait_line "$LOG" "^tick $((A + 10))" 30

"$STASIS" vm quit a > /dev/null
L=$(($(wc -l < "$LOG") + 1))
t_run "$T_WORK/out" "$T_WORK/err" "$STASIS" vm restore "$T_WORK/snap"
t_require "vm restore of the live snapshot" test "$T_RC" = 0
t_check "the restored guest ticks" wait_until 30 at_least 2 tick_lines "$LOG" "$L"
R=$(ticks_from "$L" | head -1)
echo "# first tick after restore: $R"
t_check "the restore continues from the snapshot moment ($((B + 1))..$((A + 1)))" \
	test -n "$R" -a "${R:-0}" -ge $((B + 1)) -a "${R:-0}" -le $((A + 1))
"$STASIS" vm quit a > /dev/null

# With a disk: memory and disk of the same moment, the guest running on.
DLOG=$STASIS_VM_ROOT/d/console.log
# ask CMD REGEX: a command on d's console until its answer shows.
ask() { console_ask "$STASIS_VM_ROOT/d/console.sock" "$DLOG" "$1" "$2"; }
mark() { ask "echo MEM-$1 > /tmp/mem; printf DISK-$1 | dd of=/dev/vda bs=512 count=1 conv=sync 2>/dev/null; sync; echo mark=$1" "^mark=$1\$" > /dev/null; }
markers() { ask 'echo 3 > /proc/sys/vm/drop_caches; echo "got mem=$(cat /tmp/mem) disk=$(dd if=/dev/vda bs=16 count=1 2>/dev/null | tr -d "\\000")"' '^got ' | tail -1 | cut -c5-; }
t_run "$T_WORK/out" "$T_WORK/err" "$STASIS" vm start d --kernel "$K" --initrd "$I" \
	--append "console=ttyS0 loglevel=3 panic=-1 stasis.name=d" --disk-size 16
t_require "vm start d with a disk" test "$T_RC" = 0
t_require "d boots" wait_line "$DLOG" 'console ready' 90
t_require "d: markers ONE written" mark ONE
t_run "$T_WORK/out" "$T_WORK/err" "$STASIS" -j vm snapshot --live "$T_WORK/snapd" d
t_require "live snapshot of d exits 0" test "$T_RC" = 0
echo "# d: $(jq -c '.vms[0]' "$T_WORK/out")"
t_eq "d runs on after its live snapshot" running "$("$STASIS" -j vm list | jq -r '.[] | select(.name=="d") | .state')"
t_require "d: markers TWO written after the snapshot" mark TWO
t_eq "d reads TWO back" "mem=MEM-TWO disk=DISK-TWO" "$(markers)"
t_run "$T_WORK/out" "$T_WORK/err" "$STASIS" vm restore "$T_WORK/snapd"
t_require "vm restore of d's live snapshot" test "$T_RC" = 0
t_eq "restored d: memory and disk of the snapshot moment" "mem=MEM-ONE disk=DISK-ONE" "$(markers)"
t_done
