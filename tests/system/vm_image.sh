#!/bin/bash
# T_TIMEOUT=1200
# Restore from a memory image (issue 13): a guest that wrote most of its RAM
# with a known pattern (mem-pattern) is saved and restored, 128 MiB and
# 1 GiB; the restored guest verifies every word it wrote and goes on from the
# pass where it was saved. The stream holds only the device state, the
# restored QEMU maps the image privately and never writes it. A save of the
# restored VM streams its RAM (the image path does not apply to a private
# mapping) and restores to a VM with a RAM file of its own again. A VM
# started with --anon-ram saves and restores as before. --quit moves the
# file. A damaged image is refused with one line, nothing started.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/net.sh"
. "$(dirname "$0")/../lib/vm.sh"
vm_test_init

log() { echo "$STASIS_VM_ROOT/$1/console.log"; }
passes() {	# LOG FROM: the pass numbers reported ok from line FROM on
	tail -n +"$2" "$1" | tr -d '\r' | sed -n 's/^mem pass \([0-9]*\) ok$/\1/p'
}
bad_lines() { tail -n +"$2" "$1" | tr -d '\r' | grep -c 'BAD' ; }
# restore_verified SNAP NAME WHAT: restore, then NAME verifies its memory
# once more with no word differing.
restore_verified() {
	local L=$(($(wc -l < "$(log "$2")") + 1))
	t_run "$T_WORK/out" "$T_WORK/err" "$STASIS" vm restore "$1"
	t_require "restore of $3" test "$T_RC" = 0
	t_require "$2 verifies its memory after it" \
		wait_until 120 at_least 1 sh -c "tail -n +$L '$(log "$2")' | grep -c '^mem pass [0-9]* ok'"
	t_eq "$2: no word differs" 0 "$(bad_lines "$(log "$2")" "$L")"
}
qemu_args() { tr '\0' '\n' < "/proc/$(jq .pid "$STASIS_VM_ROOT/$1/vm.json")/cmdline"; }
start() {	# NAME MEM_MIB FILL_MIB [OPTS...]
	local n=$1 m=$2 f=$3
	shift 3
	echo "mem-pattern $f --interval-ms 100" > "$T_WORK/$n.run"
	t_run "$T_WORK/out" "$T_WORK/err" "$STASIS" vm start "$n" --mem "$m" --kernel "$K" \
		--initrd "$I" --append "console=ttyS0 loglevel=3 panic=-1 stasis.name=$n" \
		--run "$T_WORK/$n.run" "$@"
	t_require "vm start $n ($m MiB)" test "$T_RC" = 0
	t_require "$n filled $f MiB and verified it" wait_line "$(log "$n")" '^mem pass 2 ok' 300
}

# image_round NAME MEM FILL: save, restore, check memory and continuity.
image_round() {
	local n=$1 m=$2 f=$3 snap=$T_WORK/snap-$1 L P first
	start "$n" "$m" "$f"
	t_check "$n's RAM is a shared file in the memory folder" test \
		"$(jq -r '.ram.shared' "$STASIS_VM_ROOT/$n/vm.json")" = true
	t_run "$T_WORK/out" "$T_WORK/err" "$STASIS" -j vm save "$snap" "$n"
	t_require "vm save $n" test "$T_RC" = 0
	P=$(passes "$(log "$n")" 1 | tail -1)
	t_eq "$n: the RAM is saved as an image" true "$(jq '.vms[0].mem_image' "$T_WORK/out")"
	t_check "$n: the stream is the device state only (under 5% of the RAM)" \
		test "$(stat -c %s "$snap/$n/state")" -lt $((m * 1048576 / 20))
	t_check "$n: the image is the guest's size" \
		test "$(stat -c %s "$snap/$n/mem")" = $((m * 1048576))
	t_check "$n: the image holds most of the RAM as data" \
		test "$(jq '.vms[0].mem_bytes' "$T_WORK/out")" -gt $((m * 1048576 / 2))
	SUM=$(md5sum < "$snap/$n/mem")
	L=$(($(wc -l < "$(log "$n")") + 1))
	t_run "$T_WORK/out" "$T_WORK/err" "$STASIS" vm restore "$snap"
	t_require "vm restore $n" test "$T_RC" = 0
	t_require "$n verified its memory twice after the restore" \
		wait_until 240 at_least 2 sh -c "tail -n +$L '$(log "$n")' | grep -c '^mem pass [0-9]* ok'"
	first=$(passes "$(log "$n")" "$L" | head -1)
	t_eq "$n: no word differs after the restore" 0 "$(bad_lines "$(log "$n")" "$L")"
	t_eq "$n: the first pass after the restore is the one after the save's" \
		$((P + 1)) "$first"
	t_eq "$n: the restored VM maps the image privately" \
		"$(realpath "$snap/$n/mem") false" \
		"$(jq -r '"\(.ram.file) \(.ram.shared)"' "$STASIS_VM_ROOT/$n/vm.json")"
	t_check "$n: QEMU runs on the image with share=off" \
		grep -q "mem-path=$(realpath "$snap/$n/mem"),share=off" <(qemu_args "$n")
	t_eq "$n: the image is unchanged by the running restore" "$SUM" "$(md5sum < "$snap/$n/mem")"
}

image_round s 128 48
image_round g 1024 800
"$STASIS" vm quit g > /dev/null

# A save of the restored s (a private mapping): the RAM goes in the stream,
# and its restore has a RAM file of its own, shared again.
t_run "$T_WORK/out" "$T_WORK/err" "$STASIS" -j vm save "$T_WORK/snap-s2" s
t_require "vm save of the restored s" test "$T_RC" = 0
t_eq "the save of a privately mapped VM streams its RAM" false "$(jq '.vms[0].mem_image' "$T_WORK/out")"
t_check "its stream holds the RAM (over 40 MB)" test "$(stat -c %s "$T_WORK/snap-s2/s/state")" -gt 40000000
P=$(passes "$(log s)" 1 | tail -1)
L=$(($(wc -l < "$(log s)") + 1))
t_run "$T_WORK/out" "$T_WORK/err" "$STASIS" vm restore "$T_WORK/snap-s2"
t_require "vm restore of the stream" test "$T_RC" = 0
t_require "s verifies its memory after the stream restore" \
	wait_until 120 at_least 2 sh -c "tail -n +$L '$(log s)' | grep -c '^mem pass [0-9]* ok'"
t_eq "s: no word differs, and it goes on from pass $((P + 1))" "0 $((P + 1))" \
	"$(bad_lines "$(log s)" "$L") $(passes "$(log s)" "$L" | head -1)"
RAM=$(jq -r '.ram.file' "$STASIS_VM_ROOT/s/vm.json")
t_check "s runs on a RAM file of its own again, in the memory folder" \
	sh -c "test '$(jq -r .ram.shared "$STASIS_VM_ROOT/s/vm.json")' = true && test -f '$RAM' && case '$RAM' in '$STASIS_MEM_DIR'/*) true;; *) false;; esac"
"$STASIS" vm quit s > /dev/null
t_check "quitting s removed its RAM file" test ! -e "$RAM"

# --anon-ram: QEMU's own RAM, streamed as before.
start n 128 40 --anon-ram
t_check "an --anon-ram VM has no RAM file" test "$(jq -r '.ram' "$STASIS_VM_ROOT/n/vm.json")" = null
t_run "$T_WORK/out" "$T_WORK/err" "$STASIS" -j vm save "$T_WORK/snap-n" n
t_require "vm save of an --anon-ram VM" test "$T_RC" = 0
t_check "its RAM is in the stream, no image" \
	sh -c "test ! -e '$T_WORK/snap-n/n/mem' && test \$(stat -c %s '$T_WORK/snap-n/n/state') -gt 30000000"
restore_verified "$T_WORK/snap-n" n "the --anon-ram VM's stream"
"$STASIS" vm quit n > /dev/null

# --quit: the VM goes and its RAM file is moved into the snapshot.
start q 128 40
RAM=$(jq -r '.ram.file' "$STASIS_VM_ROOT/q/vm.json")
# A full disk first: the device state fits in 16 MiB, the image does not.
mkdir -p "$T_WORK/small"
mount -t tmpfs -o size=16m tmpfs "$T_WORK/small" && t_defer "umount '$T_WORK/small'"
t_run "$T_WORK/out" "$T_WORK/err" "$STASIS" vm save "$T_WORK/small/snap" q --quit
t_eq "a save whose image does not fit: exit 1" 1 "$T_RC"
t_check "... one line names the image and the cause" \
	sh -c "tail -1 '$T_WORK/err' | grep -q 'memory image .*No space left'"
t_check "... nothing marked complete, no half image" \
	sh -c "test ! -e '$T_WORK/small/snap/complete' && test ! -e '$T_WORK/small/snap/q/mem'"
t_check "... the VM was not quit and its RAM file is kept" \
	sh -c "test -s '$RAM' && '$STASIS' -j vm list | jq -e '.[] | select(.name == \"q\") | .state != \"dead\"' > /dev/null"
"$STASIS" vm cont q > /dev/null
t_run "$T_WORK/out" "$T_WORK/err" "$STASIS" vm save "$T_WORK/snap-q" q --quit
t_require "vm save --quit" test "$T_RC" = 0
t_check "q is no longer running" sh -c "'$STASIS' -j vm list | jq -e '.[] | select(.name == \"q\") | .state == \"dead\"' > /dev/null"
t_check "its RAM file left the memory folder for the snapshot" \
	sh -c "test ! -e '$RAM' && test -s '$T_WORK/snap-q/q/mem'"
restore_verified "$T_WORK/snap-q" q "the moved image"
"$STASIS" vm quit q > /dev/null
t_run "$T_WORK/out" "$T_WORK/err" "$STASIS" vm save "$T_WORK/snap-x" q --quit --cont
t_check "--quit with --cont is refused" test "$T_RC" = 2

# A damaged image: a clear line, a non-zero exit, no QEMU left.
cp -r "$T_WORK/snap-q" "$T_WORK/snap-bad"
truncate -s 1M "$T_WORK/snap-bad/q/mem"
t_run "$T_WORK/out" "$T_WORK/err" "$STASIS" vm restore "$T_WORK/snap-bad"
t_check "a truncated image is refused" test "$T_RC" = 1
t_check "the error says why" grep -q 'memory image .* bytes where the snapshot says' "$T_WORK/err"
t_eq "one line" 1 "$(wc -l < "$T_WORK/err")"
rm "$T_WORK/snap-bad/q/mem"
t_run "$T_WORK/out" "$T_WORK/err" "$STASIS" vm restore "$T_WORK/snap-bad"
t_check "a missing image is refused" sh -c "test $T_RC = 1 && grep -q 'memory image .*No such file' '$T_WORK/err'"
jq '.snapshot.memory.image = 5' "$T_WORK/snap-q/q/vm.json" > "$T_WORK/snap-bad/q/vm.json"
t_run "$T_WORK/out" "$T_WORK/err" "$STASIS" vm restore "$T_WORK/snap-bad"
t_check "an image that is not a file name is refused, not taken for a stream" \
	sh -c "test $T_RC = 1 && grep -q 'memory.image is not a file name' '$T_WORK/err'"
t_check "no QEMU of q runs" test "$(pgrep -f -- "-name q .*$STASIS_VM_ROOT/q/qmp.sock" | wc -l)" = 0
t_done
