#!/bin/bash
# vm adopt: a QEMU started by someone else (here by hand, with a -drive disk,
# inside a namespace) is registered from its QMP socket alone: argv from
# /proc/PID/cmdline (SO_PEERCRED), the namespace found; it is then saved and
# restored like any other, its disk path rewritten onto a fresh overlay.
# A second one names its disk as a lone argument (-hda PATH): its restore must
# not run on the frozen layer either; and a fork of it gives each copy its own
# tap, MAC, console and log.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/net.sh"
. "$(dirname "$0")/../lib/vm.sh"
vm_test_init
tap_create "$NS" tapx
LOG=$T_WORK/x.log
ticks_from() { tail -n +"$1" "$LOG" | tr -d '\r' | sed -n 's/^tick \([0-9]*\)$/\1/p'; }

# hand_qemu NAME LOG ARGS...: QEMU started the way another tool would (not
# by stasis), in $NS, its console logged to LOG (with chardev options, such
# as ",logappend=on", after it), QMP at NAME.qmp, NAME.run at boot, and ARGS
# (network, disks). Sets QPID.
hand_qemu() {
	_n=$1 _l=$2
	shift 2
	ip netns exec "$NS" qemu-system-x86_64 -name "$_n" -accel "${STASIS_ACCEL:-tcg}" -m 128 -smp 1 \
		-nodefaults -no-user-config -display none -kernel "$K" -initrd "$I" \
		-append "console=ttyS0 loglevel=3 panic=-1 stasis.name=$_n" \
		-chardev "socket,id=con0,path=$T_WORK/$_n.con,server=on,wait=off,logfile=$_l" \
		-serial chardev:con0 -qmp "unix:$T_WORK/$_n.qmp,server=on,wait=off" \
		-fw_cfg "name=opt/stasis/run,file=$T_WORK/$_n.run" "$@" -no-reboot \
		> "$T_WORK/$_n.qemu.log" 2>&1 &
	QPID=$!
	t_defer "kill -9 $QPID"
}

echo "ticker --interval-ms 100" > "$T_WORK/x.run"
qemu-img create -q -f qcow2 "$T_WORK/x.qcow2" 16M
hand_qemu x "$LOG" -netdev tap,id=n0,ifname=tapx,script=no,downscript=no -device virtio-net-pci,netdev=n0 \
	-drive "file=$T_WORK/x.qcow2,format=qcow2,if=virtio"
XPID=$QPID
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
# No wait: QEMU writes the serial port's output when the guest writes it,
# so every tick before the stop is in the log when the save returns.
T=$(ticks_from 1 | tail -1)
SUM=$(md5sum < "$T_WORK/x.qcow2")
t_eq "the frozen disk is the one in the command line" "$T_WORK/x.qcow2" \
	"$(jq -r '.snapshot.disks[0].argv_path' "$T_WORK/snap/x/vm.json")"
kill -9 "$XPID"
wait "$XPID" 2>/dev/null

t_run "$T_WORK/out" "$T_WORK/err" "$STASIS" vm restore "$T_WORK/snap"
t_require "vm restore of the adopted VM" test "$T_RC" = 0
t_check "the restored guest ticks" wait_until 30 at_least 2 tick_lines "$LOG" 1
echo "# saved at tick $T; restored log starts at tick $(ticks_from 1 | head -1)"
t_eq "the restored guest continues from the save" "$((T + 1))" "$(ticks_from 1 | head -1)"
t_check "its -drive now points at a fresh overlay" sh -c \
	"jq -r '.argv[]' '$STASIS_VM_ROOT/x/vm.json' | grep -q '^file=$STASIS_VM_ROOT/x/disk-r.*qcow2,format=qcow2,if=virtio$'"
t_check "and QMP is the instance's own socket" test -S "$STASIS_VM_ROOT/x/qmp.sock"
t_require "the restored guest wrote to its disk" quiet console_ask "$T_WORK/x.con" "$LOG" \
	'printf AFTER | dd of=/dev/vda bs=512 count=1 conv=sync 2>/dev/null; sync; echo wrote-after' '^wrote-after'

t_eq "the original disk file stays as frozen" "$SUM" "$(md5sum < "$T_WORK/x.qcow2")"
"$STASIS" vm quit x > /dev/null

# ---- -hda PATH, a tap with a MAC; then a fork of it ---------------------
# The test image carries the IDE drivers without loading them at boot.
HLOG=$T_WORK/h.log
cat > "$T_WORK/h.run" <<EOT
for m in \$(cat /lib/modules/ide/order); do insmod /lib/modules/ide/\$m.ko; done
for i in \$(seq 1 200); do [ -b /dev/sda ] && break; sleep 0.1; done
printf DISK-ONE | dd of=/dev/sda bs=512 count=1 conv=sync 2>/dev/null; sync
echo "h: disk \$(ls /dev/sda)"
ticker --interval-ms 200
EOT
tap_create "$NS" taph
qemu-img create -q -f qcow2 "$T_WORK/h.qcow2" 16M
hand_qemu h "$HLOG,logappend=on" -netdev tap,id=n0,ifname=taph,script=no,downscript=no \
	-device virtio-net-pci,netdev=n0,mac=52:54:00:0b:00:01 -hda "$T_WORK/h.qcow2"
HPID=$QPID
t_require "h sees its IDE disk" wait_line "$HLOG" '^h: disk /dev/sda' 120

ask() { console_ask "$@"; }
READ='echo 3 > /proc/sys/vm/drop_caches; echo "got disk=$(dd if=/dev/sda bs=16 count=1 2>/dev/null | tr -d "\\000")"'

t_run "$T_WORK/out" "$T_WORK/err" "$STASIS" vm adopt h --qmp "$T_WORK/h.qmp"
t_require "vm adopt h" test "$T_RC" = 0
t_eq "adopt finds the tap and the MAC on it" "taph 52:54:00:0b:00:01" \
	"$(jq -r '"\(.tap) \(.mac)"' "$STASIS_VM_ROOT/h/vm.json")"
t_eq "... the console and its log" "$T_WORK/h.con $HLOG" \
	"$(jq -r '"\(.console) \(.console_log)"' "$STASIS_VM_ROOT/h/vm.json")"
t_eq "... and the disk it writes to" "$T_WORK/h.qcow2" "$(jq -r '.disks[0].file' "$STASIS_VM_ROOT/h/vm.json")"
t_run "$T_WORK/out" "$T_WORK/err" "$STASIS" vm save "$T_WORK/snaph" h
t_require "vm save of h (-hda PATH)" test "$T_RC" = 0
t_eq "the frozen disk is the -hda argument" "$T_WORK/h.qcow2" \
	"$(jq -r '.snapshot.disks[0].argv_path' "$T_WORK/snaph/h/vm.json")"
SUMH=$(md5sum < "$T_WORK/snaph/h/disk0.qcow2")
kill -9 "$HPID"
wait "$HPID" 2>/dev/null

t_run "$T_WORK/out" "$T_WORK/err" "$STASIS" vm restore "$T_WORK/snaph"
t_require "vm restore of h" test "$T_RC" = 0
t_check "the restored -hda is a fresh overlay, not the frozen layer" sh -c \
	"jq -r '.argv[]' '$STASIS_VM_ROOT/h/vm.json' | grep -A1 -x -- -hda | tail -1 | grep -q '^$STASIS_VM_ROOT/h/disk-r.*qcow2$'"
t_eq "the restored guest reads the saved disk" "got disk=DISK-ONE" \
	"$(ask "$T_WORK/h.con" "$HLOG" "$READ" '^got disk=')"
t_eq "it writes its disk" "wrote=TWO" "$(ask "$T_WORK/h.con" "$HLOG" \
	'printf DISK-TWO | dd of=/dev/sda bs=512 count=1 conv=sync 2>/dev/null; sync; echo wrote=TWO' '^wrote=')"
t_eq "... and reads that back" "got disk=DISK-TWO" "$(ask "$T_WORK/h.con" "$HLOG" "$READ" '^got disk=')"
t_eq "the frozen layer is untouched (checksum)" "$SUMH" "$(md5sum < "$T_WORK/snaph/h/disk0.qcow2")"

# Fork beside the running h: taps, MACs, consoles and logs of their own
# (h's tap is busy, its console socket and log are h's).
t_run "$T_WORK/out" "$T_WORK/err" "$STASIS" -j vm fork "$T_WORK/snaph" --copies 2 h
echo "# fork: $(tail -1 "$T_WORK/err")"
t_require "vm fork of the adopted VM" test "$T_RC" = 0
t_eq "each copy has its own tap" "taphc1 taphc2" "$(jq -r '[.restored[].tap] | join(" ")' "$T_WORK/out")"
t_check "... which QEMU made" quiet ip -n "$NS" link show taphc2
M1=$(jq -r .mac "$STASIS_VM_ROOT/h-c1/vm.json") M2=$(jq -r .mac "$STASIS_VM_ROOT/h-c2/vm.json")
t_eq "copies have MACs of their own" "52:54:00:0b:00:02 52:54:00:0b:00:03" "$M1 $M2"
t_check "... on their QEMU command lines" sh -c \
	"jq -r '.argv[]' '$STASIS_VM_ROOT/h-c2/vm.json' | grep -qx 'virtio-net-pci,netdev=n0,mac=$M2'"
C1=$(jq -r .console "$STASIS_VM_ROOT/h-c1/vm.json") L1=$(jq -r .console_log "$STASIS_VM_ROOT/h-c1/vm.json")
t_eq "copy 1's console and log are in its folder" "$STASIS_VM_ROOT/h-c1/h.con $STASIS_VM_ROOT/h-c1/h.log" "$C1 $L1"
t_check "copy 1 ticks into its own log" wait_line "$L1" '^tick [0-9]+' 60
t_eq "copy 1 reads the saved disk" "got disk=DISK-ONE" "$(ask "$C1" "$L1" "$READ" '^got disk=')"
# The running guest keeps the MAC of the snapshot (it is in the saved NIC
# state and in the guest's memory); the copy's own is what the NIC has from
# its next reset on.
t_eq "copy 1 runs on with the saved MAC" "mac=52:54:00:0b:00:01" \
	"$(ask "$C1" "$L1" 'echo "mac=$(cat /sys/class/net/eth0/address)"' '^mac=')"
t_eq "... and has its own once its NIC is reset" "mac2=$M1" "$(ask "$C1" "$L1" \
	'rmmod virtio_net 2>/dev/null; insmod /lib/modules/virtio_net.ko 2>/dev/null; for i in $(seq 100); do [ -e /sys/class/net/eth0/address ] && break; sleep 0.05; done; echo "mac2=$(cat /sys/class/net/eth0/address)"' '^mac2=')"
t_eq "h still reads its own disk" "got disk=DISK-TWO" "$(ask "$T_WORK/h.con" "$HLOG" "$READ" '^got disk=')"
t_eq "the frozen layer is still untouched" "$SUMH" "$(md5sum < "$T_WORK/snaph/h/disk0.qcow2")"
t_done
