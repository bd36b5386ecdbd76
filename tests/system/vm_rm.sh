#!/bin/bash
# vm rm: refused for a running instance; an instance whose QEMU died
# (killed) is forgotten, its folder and its RAM file gone.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/net.sh"
. "$(dirname "$0")/../lib/vm.sh"
vm_test_init
O=$T_WORK/out E=$T_WORK/err
# A QEMU that only needs to exist: paused before its firmware runs.
t_require "vm start x --paused" quiet "$STASIS" vm start x --paused
DIR=$STASIS_VM_ROOT/x
RAM=$(jq -r .ram.file "$DIR/vm.json")
PID=$(jq -r .pid "$DIR/vm.json")
t_check "its RAM file is there" test -f "$RAM"
t_run "$O" "$E" "$STASIS" vm rm x
t_check "vm rm of a running instance: refused, says so" sh -c "[ $T_RC = 1 ] && grep -q 'VM x runs; quit it first' '$E'"
t_check "  the instance is kept" test -f "$DIR/vm.json"
kill -9 "$PID"
t_check "its QEMU is gone" wait_until 10 sh -c "! kill -0 $PID 2> /dev/null"
t_run "$O" "$E" "$STASIS" -j vm list
t_eq "vm list shows it dead" dead "$(jq -r '.[] | select(.name == "x") | .state' "$O")"
t_run "$O" "$E" "$STASIS" -j vm rm x
t_eq "vm rm of the dead instance" 0 "$T_RC"
t_eq "  says so (JSON)" removed "$(jq -r '.removed[0].state' "$O")"
t_check "  its folder is gone" test ! -e "$DIR"
t_check "  its RAM file is gone" test ! -e "$RAM"
t_run "$O" "$E" "$STASIS" vm rm x
t_check "a second vm rm: no such instance" sh -c "[ $T_RC = 1 ] && grep -q 'no VM instance x' '$E'"
t_done
