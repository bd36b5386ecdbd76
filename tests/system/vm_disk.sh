#!/bin/bash
# Memory and disk stay consistent: a guest writes a marker to memory (tmpfs)
# and to its virtio-blk disk, the VM is saved, the guest overwrites both; a
# restore sees both markers of the save. Forked copies see them too and are
# independent of each other (own overlays).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/net.sh"
. "$(dirname "$0")/../lib/vm.sh"
vm_test_init
tap_create "$NS" tapa

log() { echo "$STASIS_VM_ROOT/$1/console.log"; }
# run_wait NAME CMD REGEX: CMD on NAME's console until its answer shows;
# prints the answer.
run_wait() { console_ask "$STASIS_VM_ROOT/$1/console.sock" "$(log "$1")" "$2" "$3"; }
# mark NAME WORD: both markers := WORD
mark() {
	run_wait "$1" "echo MEM-$2 > /tmp/mem; printf DISK-$2 | dd of=/dev/vda bs=512 count=1 conv=sync 2>/dev/null; sync; echo mark=$2" "^mark=$2\$" > /dev/null
}
# markers NAME: "mem=... disk=..." as the guest reads them (page cache dropped,
# so the disk is read from the disk)
markers() {
	run_wait "$1" 'echo 3 > /proc/sys/vm/drop_caches; echo "got mem=$(cat /tmp/mem) disk=$(dd if=/dev/vda bs=16 count=1 2>/dev/null | tr -d "\\000")"' '^got ' | cut -c5-
}

t_run "$T_WORK/out" "$T_WORK/err" "$STASIS" vm start a --kernel "$K" --initrd "$I" \
	--append "console=ttyS0 loglevel=3 panic=-1 stasis.name=a" \
	--netns "$NS" --tap tapa --disk-size 16
t_require "vm start a with a 16 MiB disk" test "$T_RC" = 0
t_require "the guest boots" wait_line "$(log a)" 'console ready' 90
t_check "the guest has its disk" test "$(jq -r '.disks | length' "$STASIS_VM_ROOT/a/vm.json")" = 1

t_require "markers ONE written" mark a ONE
t_run "$T_WORK/out" "$T_WORK/err" "$STASIS" vm save "$T_WORK/snap" a --cont
t_require "vm save --cont exits 0" test "$T_RC" = 0
t_check "the snapshot holds the frozen disk layer" test -s "$T_WORK/snap/a/disk0.qcow2"
t_require "markers TWO written after the save" mark a TWO
t_eq "the running guest reads TWO back" "mem=MEM-TWO disk=DISK-TWO" "$(markers a)"

t_run "$T_WORK/out" "$T_WORK/err" "$STASIS" vm restore "$T_WORK/snap"
t_require "vm restore exits 0" test "$T_RC" = 0
t_eq "restored: both markers are those of the save" "mem=MEM-ONE disk=DISK-ONE" "$(markers a)"

t_run "$T_WORK/out" "$T_WORK/err" "$STASIS" -j vm fork "$T_WORK/snap" --copies 2
t_require "vm fork --copies 2 exits 0" test "$T_RC" = 0
t_eq "fork reports two copies" "a-c1 a-c2" "$(jq -r '[.restored[].name] | join(" ")' "$T_WORK/out")"
t_check "each copy has its own tap" quiet sh -c "ip -n $NS link show tapac1 && ip -n $NS link show tapac2"
t_eq "copy 1 sees the saved markers" "mem=MEM-ONE disk=DISK-ONE" "$(markers a-c1)"
t_eq "copy 2 sees the saved markers" "mem=MEM-ONE disk=DISK-ONE" "$(markers a-c2)"
t_require "copy 1 writes THREE" mark a-c1 THREE
t_eq "copy 2 is not affected by copy 1" "mem=MEM-ONE disk=DISK-ONE" "$(markers a-c2)"
t_eq "copy 1 reads its own THREE" "mem=MEM-THREE disk=DISK-THREE" "$(markers a-c1)"
t_eq "vm list shows three running" "running running running" \
	"$("$STASIS" -j vm list | jq -r '[.[].state] | join(" ")')"

# The memory view: an ELF core of the saved guest holding the memory marker.
t_run "$T_WORK/out" "$T_WORK/err" "$STASIS" vm dump-mem "$T_WORK/snap" a -o "$T_WORK/core"
t_require "vm dump-mem exits 0" test "$T_RC" = 0
t_check "the dump is an ELF core" sh -c "head -c 4 '$T_WORK/core' | grep -q ELF"
# readelf (binutils) reads it independently: an ELF core whose PT_LOAD
# segments hold at least the guest's RAM (memory_mib of the saved vm.json),
# all of it inside the file.
t_check "readelf: Type CORE" sh -c "readelf -h '$T_WORK/core' | grep -Eq '^ *Type: *CORE'"
NLOAD=0 LOADSZ=0 LOADEND=0
while read -r _type _off _va _pa _fsz _msz _; do
	[ "$_type" = LOAD ] || continue
	NLOAD=$((NLOAD + 1)) LOADSZ=$((LOADSZ + _fsz))
	[ $((_off + _fsz)) -gt "$LOADEND" ] && LOADEND=$((_off + _fsz))
done < <(readelf -lW "$T_WORK/core")
RAM=$(( $(jq -r .memory_mib "$T_WORK/snap/a/vm.json") * 1048576 ))
echo "# $NLOAD PT_LOAD segments, $LOADSZ bytes in all, ending at $LOADEND; guest RAM $RAM bytes, core $(stat -c %s "$T_WORK/core") bytes"
t_check "readelf: PT_LOAD segments" test "$NLOAD" -ge 1
t_check "readelf: the PT_LOAD segments cover the guest's RAM" test "$LOADSZ" -ge "$RAM"
t_check "readelf: ... and lie within the file" test "$LOADEND" -le "$(stat -c %s "$T_WORK/core")"
t_check "the dump holds the saved memory marker" grep -qa "MEM-ONE" "$T_WORK/core"
t_eq "the scratch restore of dump-mem is gone" 3 "$("$STASIS" -j vm list | jq length)"
t_done
