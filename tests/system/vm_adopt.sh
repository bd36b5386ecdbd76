#!/bin/bash
# vm adopt: a QEMU started by someone else (here by hand, with a -drive disk,
# inside a namespace) is registered from its QMP socket alone: argv from
# /proc/PID/cmdline (SO_PEERCRED), the namespace found; it is then saved and
# restored like any other, its disk path rewritten onto a fresh overlay.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/net.sh"
. "$(dirname "$0")/../lib/vm.sh"
vm_test_init
tap_create "$NS" tapx
LOG=$T_WORK/x.log
ticks_from() { tail -n +"$1" "$LOG" | tr -d '\r' | sed -n 's/^tick \([0-9]*\)$/\1/p'; }

echo "ticker --interval-ms 100" > "$T_WORK/x.run"
qemu-img create -q -f qcow2 "$T_WORK/x.qcow2" 16M
ip netns exec "$NS" qemu-system-x86_64 -name x -accel "${STASIS_ACCEL:-tcg}" -m 128 -smp 1 \
	-nodefaults -no-user-config -display none -kernel "$K" -initrd "$I" \
	-append "console=ttyS0 loglevel=3 panic=-1 stasis.name=x" \
	-chardev "socket,id=con0,path=$T_WORK/x.con,server=on,wait=off,logfile=$LOG" \
	-serial chardev:con0 -qmp "unix:$T_WORK/x.qmp,server=on,wait=off" \
	-fw_cfg "name=opt/stasis/run,file=$T_WORK/x.run" \
	-netdev tap,id=n0,ifname=tapx,script=no,downscript=no -device virtio-net-pci,netdev=n0 \
	-drive "file=$T_WORK/x.qcow2,format=qcow2,if=virtio" -no-reboot \
	> "$T_WORK/x.qemu.log" 2>&1 &
XPID=$!
t_defer "kill -9 $XPID"
t_require "the hand-made guest ticks" wait_line "$LOG" '^tick 5' 90

t_run "$T_WORK/out" "$T_WORK/err" "$STASIS" -j vm adopt x --qmp "$T_WORK/x.qmp"
t_require "vm adopt exits 0" test "$T_RC" = 0
t_eq "the pid behind the socket" "$XPID" "$(jq -r .pid "$T_WORK/out")"
t_eq "argv is /proc/PID/cmdline" "$(tr '\0' '\n' < /proc/$XPID/cmdline | md5sum)" \
	"$(jq -r '.argv[]' "$STASIS_VM_ROOT/x/vm.json" | md5sum)"
t_eq "the namespace is found" "$NS" "$(jq -r .netns "$STASIS_VM_ROOT/x/vm.json")"
t_eq "vm list shows x running, adopted" "running true" \
	"$("$STASIS" -j vm list | jq -r '.[0] | "\(.state) \(.adopted)"')"

# --argv-file: one argument a line.
printf '%s\n' qemu-system-x86_64 -m 128 "-name" "y z" > "$T_WORK/argv"
t_run "$T_WORK/out" "$T_WORK/err" "$STASIS" vm adopt y --qmp "$T_WORK/x.qmp" --argv-file "$T_WORK/argv"
t_eq "adopt --argv-file exits 0" 0 "$T_RC"
t_eq "argv comes from the file" '["qemu-system-x86_64","-m","128","-name","y z"]' \
	"$(jq -c .argv "$STASIS_VM_ROOT/y/vm.json")"
rm -rf "$STASIS_VM_ROOT/y"

t_run "$T_WORK/out" "$T_WORK/err" "$STASIS" vm save "$T_WORK/snap" x
t_require "vm save of the adopted VM" test "$T_RC" = 0
sleep 0.5
T=$(ticks_from 1 | tail -1)
SUM=$(md5sum < "$T_WORK/x.qcow2")
t_eq "the frozen disk is the one in the command line" "$T_WORK/x.qcow2" \
	"$(jq -r '.snapshot.disks[0].argv_path' "$T_WORK/snap/x/vm.json")"
kill -9 "$XPID"
wait "$XPID" 2>/dev/null

t_run "$T_WORK/out" "$T_WORK/err" "$STASIS" vm restore "$T_WORK/snap"
t_require "vm restore of the adopted VM" test "$T_RC" = 0
for _ in $(seq 1 100); do
	[ "$(ticks_from 1 | wc -l)" -ge 2 ] && break
	sleep 0.1
done
echo "# saved at tick $T; restored log starts at tick $(ticks_from 1 | head -1)"
t_eq "the restored guest continues from the save" "$((T + 1))" "$(ticks_from 1 | head -1)"
t_check "its -drive now points at a fresh overlay" sh -c \
	"jq -r '.argv[]' '$STASIS_VM_ROOT/x/vm.json' | grep -q '^file=$STASIS_VM_ROOT/x/disk-r.*qcow2,format=qcow2,if=virtio$'"
t_check "and QMP is the instance's own socket" test -S "$STASIS_VM_ROOT/x/qmp.sock"
# (input just after a resume can be lost on the serial line: up to 3 tries)
for _ in 1 2 3; do
	{ printf 'printf AFTER | dd of=/dev/vda bs=512 count=1 conv=sync 2>/dev/null; sync; echo wrote-after\n'; sleep 1; } |
		timeout 15 socat -u - "UNIX-CONNECT:$T_WORK/x.con"
	wait_line "$LOG" '^wrote-after' 10 2>/dev/null && break
done
t_require "the restored guest wrote to its disk" grep -q '^wrote-after' "$LOG"
t_eq "the original disk file stays as frozen" "$SUM" "$(md5sum < "$T_WORK/x.qcow2")"
t_done
