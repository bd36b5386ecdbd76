#!/bin/bash
# Faults give one clear line and exit 1, and a snapshot that is not whole is
# never marked complete: a missing instance, a full disk (a small tmpfs),
# QEMU killed during a save, a dead QMP socket, a socket that is not QMP;
# bad command lines exit 2.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/net.sh"
. "$(dirname "$0")/../lib/vm.sh"
t_need_root
export STASIS_VM_ROOT=$T_WORK/vms
K=$BUILD/guest/vmlinuz I=$BUILD/guest/initrd.img
[ -r "$K" ] && [ -r "$I" ] || t_skip "guest image missing: make guest"
O=$T_WORK/out E=$T_WORK/err
LOG=$STASIS_VM_ROOT/a/console.log
one_line() { test "$(wc -l < "$E")" = 1; }

# ---- no VM needed ------------------------------------------------------
t_run "$O" "$E" "$STASIS" vm stop nosuch
t_eq "stop of a missing instance: exit 1" 1 "$T_RC"
t_check "... one line naming it" sh -c "test \$(wc -l < $E) = 1 && grep -q \"no VM instance 'nosuch'\" $E"
t_run "$O" "$E" "$STASIS" vm save "$T_WORK/snap0" nosuch
t_eq "save of a missing instance: exit 1" 1 "$T_RC"
t_check "... and no complete marker" test ! -e "$T_WORK/snap0/complete"
t_run "$O" "$E" "$STASIS" -j vm restore "$T_WORK/nothing"
t_eq "restore of a missing snapshot: exit 1" 1 "$T_RC"
t_eq "... the error as JSON with -j" 1 "$(jq -r .status "$O")"
t_run "$O" "$E" "$STASIS" vm save
t_eq "save without SNAPDIR: exit 2" 2 "$T_RC"
t_run "$O" "$E" "$STASIS" vm fork "$T_WORK/snap0"
t_eq "fork without --copies: exit 2" 2 "$T_RC"
t_run "$O" "$E" "$STASIS" vm snapshot "$T_WORK/snap0"
t_eq "snapshot without --live: exit 2" 2 "$T_RC"
t_run "$O" "$E" "$STASIS" vm start ../evil
t_eq "start with a bad name: exit 2" 2 "$T_RC"
t_run "$O" "$E" "$STASIS" vm stop
t_eq "stop of nothing: exit 2" 2 "$T_RC"

# A unix socket that accepts but never greets: not QMP.
socat "UNIX-LISTEN:$T_WORK/mute.sock,fork" EXEC:cat 2>/dev/null &
MUTE=$!
t_defer "kill $MUTE"
wait_until 5 test -S "$T_WORK/mute.sock"
t_run "$O" "$E" "$STASIS" vm adopt x --qmp "$T_WORK/mute.sock"
t_eq "adopt of a socket that is not QMP: exit 1" 1 "$T_RC"
t_check "... one line about the missing greeting" sh -c "test \$(wc -l < $E) = 1 && grep -q 'no QMP greeting' $E"

# ---- a running guest ---------------------------------------------------
ns_create NS || { t_fail "namespace"; t_done; }
tap_create "$NS" tapa
t_defer "'$STASIS' vm quit --all"
echo "ticker --interval-ms 100" > "$T_WORK/run.sh"
t_run "$O" "$E" "$STASIS" vm start a --kernel "$K" --initrd "$I" \
	--append "console=ttyS0 loglevel=3 panic=-1 stasis.name=a" --run "$T_WORK/run.sh" \
	--netns "$NS" --tap tapa --disk-size 16 --anon-ram
t_require "vm start a (its RAM streamed by a save: QEMU dies mid-stream below)" test "$T_RC" = 0
t_require "the guest ticks" wait_line "$LOG" '^tick 5' 90
t_run "$O" "$E" "$STASIS" vm start a --kernel "$K" --initrd "$I"
t_eq "starting a running instance again: exit 1" 1 "$T_RC"

# Full disk: a 16 MiB tmpfs cannot hold a 128 MiB guest's state.
mkdir -p "$T_WORK/small"
mount -t tmpfs -o size=16m tmpfs "$T_WORK/small" && t_defer "umount '$T_WORK/small'"
t_run "$O" "$E" "$STASIS" vm save "$T_WORK/small/snap" a
echo "# full disk: $(tail -1 "$E")"
t_eq "save onto a full disk: exit 1" 1 "$T_RC"
t_check "... one line on stderr names the cause" sh -c "tail -1 $E | grep -qi 'space\|migration failed'"
t_check "... and the snapshot is not marked complete" test ! -e "$T_WORK/small/snap/complete"
t_run "$O" "$E" "$STASIS" vm restore "$T_WORK/small/snap"
t_eq "restore of the incomplete snapshot: exit 1" 1 "$T_RC"
t_check "... says it is not complete" grep -q "not a complete snapshot" "$E"
"$STASIS" vm cont a > /dev/null
L=$(($(wc -l < "$LOG") + 1))
t_check "the guest runs on after the failed save" wait_until 30 at_least 1 tick_lines "$LOG" "$L"

# QEMU killed in the middle of a (slowed down) save.
PID=$(jq -r .pid "$STASIS_VM_ROOT/a/vm.json")
"$STASIS" -j vm save "$T_WORK/snapk" a --max-bandwidth 4M > "$O" 2> "$E" &
SAVE=$!
wait_until 30 at_least 1000001 stat -c %s "$T_WORK/snapk/a/state.tmp"
t_check "the save is under way when QEMU is killed" test -e "$T_WORK/snapk/a/state.tmp"
# 4 MB/s for ~94 MB: progress lines every half second meanwhile, on stderr
# (stdout is for the JSON of -j).
progress() { grep -E '^save: a active [0-9]+ MB of [0-9]+ MB RAM$' "$E" | awk '{ print $4 }'; }
progress_lines() { progress | wc -l; }
wait_until 30 at_least 3 progress_lines
echo "# progress: $(progress | tr '\n' ' ')MB"
t_check "the slowed save reports progress on stderr (-j)" test "$(progress | wc -l)" -ge 3
t_check "... the MB sent grow" test "$(progress | head -1)" -lt "$(progress | tail -1)"
kill -9 "$PID"
wait "$SAVE"
T_RC=$?
echo "# killed: $(tail -1 "$E")"
t_eq "save with QEMU killed: exit 1" 1 "$T_RC"
t_check "... the last line says QEMU went away" sh -c "tail -1 $E | grep -q 'closed the QMP connection'"
t_check "... and so does the JSON on stdout" sh -c "jq -e '.status == 1 and (.error | test(\"closed the QMP connection\"))' $O > /dev/null"
t_check "... and the snapshot is not marked complete" test ! -e "$T_WORK/snapk/complete"

# The socket file is still there, nothing listens on it.
t_run "$O" "$E" "$STASIS" vm stop a
t_eq "stop with a dead QMP socket: exit 1" 1 "$T_RC"
t_check "... one line: nothing behind the socket" sh -c "test \$(wc -l < $E) = 1 && grep -q 'no QEMU behind it' $E"
t_eq "vm list shows a dead" dead "$("$STASIS" -j vm list | jq -r '.[0].state')"
t_run "$O" "$E" "$STASIS" vm save "$T_WORK/snapd" a
t_eq "save with a dead QMP socket: exit 1" 1 "$T_RC"
t_check "... and nothing marked complete" test ! -e "$T_WORK/snapd/complete"
t_done
