#!/bin/bash
# Two guests on one host tell each other their clocks every 5 ms
# (clock-peer). A snapshot and a restore through the agent move their clocks
# apart by no more than how far apart their stops and their continues were
# (the manifest's stop acknowledgements, the resume's cont spread), beside
# the measurement's own scatter, taken from the windows before the snapshot.
# Each guest's clock stands still while it is stopped: a VM stopped or
# continued later than the other loses that much against it, and nothing
# else should move them.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/net.sh"
. "$(dirname "$0")/../lib/vm.sh"
. "$(dirname "$0")/../lib/broker.sh"
vm_test_init
W=$T_WORK O=$T_WORK/out E=$T_WORK/err
bridge_create "$NS" br0 && tap_create "$NS" tapa br0 && tap_create "$NS" tapb br0
t_require "a bridge and two taps" test $? = 0
t_require "the taps are attached" quiet in_ns "$NS" "$STASIS" net attach tapa tapb
t_defer "ip netns exec $NS $STASIS net detach --force"
echo "clock-peer 7000 10.0.0.2 7000 --interval-ms 5 --window-ms 1000" > "$W/a.run"
echo "clock-peer 7000 10.0.0.1 7000 --interval-ms 5 --window-ms 1000" > "$W/b.run"
for x in a b; do
	ip=10.0.0.1 mac=52:54:00:00:02:01
	[ $x = b ] && ip=10.0.0.2 mac=52:54:00:00:02:02
	t_run "$O" "$E" "$STASIS" vm start $x --kernel "$K" --initrd "$I" --run "$W/$x.run" \
		--append "console=ttyS0 loglevel=3 panic=-1 stasis.name=$x stasis.ip=$ip/24" \
		--netns "$NS" --tap tap$x --mac $mac
	t_require "guest $x" test "$T_RC" = 0
done
LA=$STASIS_VM_ROOT/a/console.log LB=$STASIS_VM_ROOT/b/console.log
# windows LOG FROM: the min_ns of each full window (most samples in) from
# line FROM on
windows() { tail -n +"$2" "$1" | tr -d '\r' | sed -n 's/^clock-peer: window [0-9]* min_ns=\(-*[0-9]*\) samples=\([0-9]*\)$/\1 \2/p' |
	awk '$2 >= 100 { print $1 }'; }
enough() { [ "$(windows "$LA" "$1" | wc -l)" -ge "$3" ] && [ "$(windows "$LB" "$2" | wc -l)" -ge "$3" ]; }
t_require "both guests hear each other's clock" wait_until 180 enough 1 1 8

t_require "mosquitto listens in the namespace" broker_start mosquitto "$NS" 127.0.0.1 1883
URL=$BROKER_URL
ip netns exec "$NS" "$STASIS" agent --broker $URL --experiment clk --host h1 --snapshots "$W/snaps" \
	--instances "$STASIS_VM_ROOT" > "$W/agent.log" 2>&1 &
t_defer "kill $!"
coord() { ip netns exec "$NS" "$STASIS" "$@" --broker $URL --experiment clk; }
t_require "the agent answers" wait_until 30 sh -c "ip netns exec $NS '$STASIS' coord status --broker $URL --experiment clk 2>&1 | grep -q 'h1 *online *ok'"

# skew FILE_A FILE_B: half the difference of the guests' medians (ns).
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
skew() { echo $(( ($(median < "$2") - $(median < "$1")) / 2 )); }
range() { sort -n "$1" | sed -n '1p;$p' | tr '\n' ' ' | awk '{ print $2 - $1 }'; }

for round in 1 2 3; do
	windows "$LA" 1 | tail -5 > "$W/a.before"
	windows "$LB" 1 | tail -5 > "$W/b.before"
	t_run "$O" "$E" coord coord snapshot --epoch $round
	t_eq "round $round: snapshot" 0 "$T_RC"
	fa=$(($(wc -l < "$LA") + 1)) fb=$(($(wc -l < "$LB") + 1))
	t_run "$O" "$E" coord -j coord restore $round
	t_eq "round $round: restore" 0 "$T_RC"
	# (the first windows after the restore are left out: a new QEMU's
	# translation cache is cold, the guests slower, their delays longer)
	t_require "round $round: both guests hear each other again" wait_until 60 enough "$fa" "$fb" 8
	windows "$LA" "$fa" | sed -n '4,8p' > "$W/a.after"
	windows "$LB" "$fb" | sed -n '4,8p' > "$W/b.after"
	m=$W/snaps/snap-$round/h1/manifest.json
	# Each VM stopped between its stop's write and its acknowledgement,
	# and went on between its cont's: the windows from the first write to
	# the last acknowledgement bound how far apart the clocks can move.
	stop=$(jq '([.vms[].stop_ack_ns] | max) - ([.vms[].stop_sent_ns] | min)' "$m")
	cont=$(( $(jq '.rounds[] | select(.op == "resume") | .replies.h1.cont_window_us' "$O") * 1000 ))
	before=$(skew "$W/a.before" "$W/b.before") after=$(skew "$W/a.after" "$W/b.after")
	moved=$(( after - before )); moved=${moved#-}
	# the scatter of the measurement itself: how far each guest's windows
	# spread, before the snapshot and after the restore (each estimate's
	# error is within its own)
	scatter=$(( ($(range "$W/a.before") + $(range "$W/b.before") + $(range "$W/a.after") + $(range "$W/b.after")) / 2 ))
	echo "# round $round: clocks moved apart by $moved ns; the stops within $stop ns, the continues within $cont ns; scatter $scatter ns"
	t_check "round $round: the clocks moved apart by no more than the stops' and continues' windows (+ scatter)" \
		test "$moved" -le $(( stop + cont + scatter ))
done

# --prefault reaches each VM's restore through the agent: with "all" each
# new QEMU's memory backend touches every page before the guest runs
# (prealloc=on); without it, none does. A word it does not know is refused.
qemu_args() { tr '\0' ' ' < "/proc/$(jq .pid "$STASIS_VM_ROOT/$1/vm.json")/cmdline"; }
t_run "$O" "$E" coord coord restore 3 --prefault all
t_eq "restore --prefault all" 0 "$T_RC"
for x in a b; do
	t_check "  $x's memory image mapped with every page touched first" sh -c "echo '$(qemu_args $x)' | grep -q 'prealloc=on'"
done
t_require "  both guests hear each other again" wait_until 60 enough "$(($(wc -l < "$LA") + 1))" "$(($(wc -l < "$LB") + 1))" 2
t_run "$O" "$E" coord coord restore 3
t_eq "restore without --prefault" 0 "$T_RC"
t_check "  maps it lazily again" sh -c "! echo '$(qemu_args a) $(qemu_args b)' | grep -q 'prealloc=on'"
t_run "$O" "$E" coord coord restore 3 --prefault most
t_eq "restore --prefault most: usage error" 2 "$T_RC"
t_check "  says which words it takes" grep -q "none.*cache.*all" "$E"
t_done
