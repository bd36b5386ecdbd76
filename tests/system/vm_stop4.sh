#!/bin/bash
# Four guests stopped at once (one pre-encoded stop written on each open QMP
# socket, replies collected afterwards): every one acknowledges, every one is
# paused, and the spread between first and last acknowledgement is reported.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/net.sh"
. "$(dirname "$0")/../lib/vm.sh"
vm_test_init
bridge_create "$NS" br0

echo "ticker --interval-ms 200" > "$T_WORK/run.sh"
for g in a b c d; do
	tap_create "$NS" "tap$g" br0
	"$STASIS" vm start "$g" --kernel "$K" --initrd "$I" \
		--append "console=ttyS0 loglevel=3 panic=-1 stasis.name=$g" --run "$T_WORK/run.sh" \
		--netns "$NS" --tap "tap$g" > /dev/null
	t_require "vm start $g" test $? = 0
done
for g in a b c d; do
	t_require "$g ticks" wait_line "$STASIS_VM_ROOT/$g/console.log" '^tick 2' 120
done

t_run "$T_WORK/out" "$T_WORK/err" "$STASIS" -j vm stop a b c d
t_require "vm stop a b c d exits 0" test "$T_RC" = 0
echo "# $(jq -c . "$T_WORK/out")"
t_eq "four acknowledgements" 4 "$(jq '[.vms[] | select(.ack_us > .sent_us)] | length' "$T_WORK/out")"
t_check "the ack spread is reported" sh -c "jq -e '.ack_spread_us >= 0 and .ack_spread_us <= .last_ack_us' '$T_WORK/out' > /dev/null"
# All four writes happen before any reply is read.
t_check "every stop was written before the first reply came" sh -c \
	"jq -e '([.vms[].sent_us] | max) <= ([.vms[].ack_us] | min)' '$T_WORK/out' > /dev/null"
t_eq "all four are paused" "paused paused paused paused" \
	"$("$STASIS" -j vm list | jq -r '[.[].state] | join(" ")')"

t_run "$T_WORK/out" "$T_WORK/err" "$STASIS" vm cont --all
t_eq "vm cont --all exits 0" 0 "$T_RC"
t_check "the human report names the spread" grep -q "^4 VMs continued; ack spread [0-9]* us" "$T_WORK/out"
t_eq "all four run again" "running running running running" \
	"$("$STASIS" -j vm list | jq -r '[.[].state] | join(" ")')"

# Saving all four at once: one snapshot, four states, marked complete.
t_run "$T_WORK/out" "$T_WORK/err" "$STASIS" -j vm save "$T_WORK/snap" --all --cont
t_require "vm save --all exits 0" test "$T_RC" = 0
t_eq "the snapshot holds four VMs" "a b c d" "$(jq -r '[.vms[].name] | join(" ")' "$T_WORK/snap/complete")"
t_eq "four state files" 4 "$(ls "$T_WORK"/snap/*/state | wc -l)"
t_check "save reports the spread of the four stop acknowledgements" sh -c \
	"jq -e '.stop_ack_spread_us >= 0 and ([.vms[].stop_ack_us] | length) == 4' '$T_WORK/out' > /dev/null"
t_done
