#!/bin/bash
# Restore the same snapshot 20 times in a row: each restore continues from
# the same tick, each on a fresh overlay of the frozen disk and a private
# mapping of the memory image, the image unchanged, and no QEMU (nor RAM
# file) is left behind by the ones it replaced.
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
	--netns "$NS" --tap tapa --disk-size 16
t_require "vm start a" test "$T_RC" = 0
t_require "the guest ticks" wait_line "$LOG" '^tick 5' 90
t_run "$T_WORK/out" "$T_WORK/err" "$STASIS" vm save "$T_WORK/snap" a
t_require "vm save" test "$T_RC" = 0
# No wait: QEMU writes the serial port's output when the guest writes it,
# so every tick before the stop is in the log when the save returns.
T=$(ticks_from 1 | tail -1)
echo "# saved at tick $T"

FROZEN=$(md5sum < "$T_WORK/snap/a/disk0.qcow2")
t_require "the snapshot has a memory image" test -s "$T_WORK/snap/a/mem"
IMAGE=$(md5sum < "$T_WORK/snap/a/mem")
good=0 bad="" overlays=""
for n in $(seq 1 20); do
	# quit first: the ticks of the instance being replaced are not this
	# restore's (restore replaces a running instance too: vm_tick.sh)
	[ "$n" = 1 ] || "$STASIS" vm quit a > /dev/null
	L=$(($(wc -l < "$LOG") + 1))
	if ! "$STASIS" vm restore "$T_WORK/snap" > "$T_WORK/out" 2> "$T_WORK/err"; then
		bad="$bad $n:exit($(cat "$T_WORK/err"))"
		continue
	fi
	wait_until 30 at_least 2 tick_lines "$LOG" "$L"
	first=$(ticks_from "$L" | head -1)
	overlays="$overlays $(jq -r '.disks[0].file' "$STASIS_VM_ROOT/a/vm.json")"
	if [ "$first" = $((T + 1)) ]; then
		good=$((good + 1))
	else
		bad="$bad $n:first=$first"
	fi
done
[ -z "$bad" ] || echo "# failed restores:$bad"
t_eq "20 restores, each continues at tick $((T + 1))" 20 "$good"
t_eq "one QEMU runs for a (the replaced ones are gone)" 1 \
	"$(pgrep -f -- "-name a .*$STASIS_VM_ROOT/a/qmp.sock" | wc -l)"
t_eq "each restore ran on its own fresh overlay" 20 \
	"$(printf '%s\n' $overlays | sort -u | grep -c 'disk-r.*qcow2')"
t_eq "the replaced overlays were removed" 1 "$(ls "$STASIS_VM_ROOT"/a/disk-r*.qcow2 | wc -l)"
t_eq "the snapshot's frozen disk is untouched" "$FROZEN" "$(md5sum < "$T_WORK/snap/a/disk0.qcow2")"
t_eq "the memory image is untouched" "$IMAGE" "$(md5sum < "$T_WORK/snap/a/mem")"
t_eq "the restored VM maps the image" "$(realpath "$T_WORK/snap/a/mem")" \
	"$(jq -r 'select(.ram.shared == false) | .ram.file' "$STASIS_VM_ROOT/a/vm.json")"
t_eq "no RAM file is left in the memory folder (restores map the image)" 0 \
	"$(find "$STASIS_MEM_DIR" -type f 2>/dev/null | wc -l)"
t_check "the layer the saved VM ran on is kept (the snapshot links it)" \
	test "$(ls "$STASIS_VM_ROOT"/a/disk-*-base.qcow2 | wc -l)" = 1
t_eq "the instance is running" running "$("$STASIS" -j vm list | jq -r '.[0].state')"
t_done
