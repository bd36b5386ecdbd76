#!/bin/bash
# The whole experiment across two hosts (two namespaces, one TCG guest and
# one agent each, a veth "wire" between their bridges held by each host as
# an uplink, one mosquitto): numbered UDP both ways and a TCP stream across
# the wire. A time trigger snapshots both hosts mid-flow; the same snapshot
# is restored three times, and each time every flow completes with nothing
# lost, duplicated or reordered. Then a packet trigger on a later datagram
# freezes the restored experiment, and `coord resume` lets every flow
# complete without a restore. Last, snapshot 11 is restored with h1's held
# frames edited (the trigger datagram given another sender): b receives the
# edited datagram, and the next plain restore of 11 the original.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/net.sh"
. "$(dirname "$0")/../lib/hold.sh"
. "$(dirname "$0")/../lib/vm.sh"
. "$(dirname "$0")/../lib/broker.sh"
# coord_hosts_rabbitmq.sh runs the same against RabbitMQ's MQTT plugin.
BROKER=${T_BROKER:-mosquitto}
D=${T_HOST_DOMAIN:-}	# host names h1$D, h2$D
t_need_root
K=$BUILD/guest/vmlinuz I=$BUILD/guest/initrd.img
[ -r "$K" ] && [ -r "$I" ] || t_skip "guest image missing: make guest"
W=$T_WORK O=$T_WORK/out E=$T_WORK/err
# The TCP stream is paced to last as long as the datagram flows (10 s).
COUNT=16000 RATE=1600 BYTES=20000000 BRATE=2000000 MARK=12000 EXP=hosts

ns_create H1 && ns_create H2 || { t_fail "namespaces"; t_done; }
for i in 1 2; do
	eval "h=\$H$i"
	bridge_create "$h" br$i && tap_create "$h" tap$i br$i && addr_add "$h" br$i 10.0.0.25$i/24 || break
done
veth_create w1 "$H1" w2 "$H2" && ip -n "$H1" link set w1 master br1 && ip -n "$H2" link set w2 master br2 &&
	veth_create c1 "$H1" c2 "$H2" && addr_add "$H1" c1 10.8.0.1/24 && addr_add "$H2" c2 10.8.0.2/24
t_require "two hosts, a wire between their bridges, a control link" test $? = 0
t_require "$BROKER on the control link" broker_start "$BROKER" "$H1" 10.8.0.1 1883
t_require "h2 reaches it" broker_listening "$H2" 10.8.0.1 1883
URL=$BROKER_URL
for i in 1 2; do
	eval "h=\$H$i"
	t_require "h$i attaches its tap and its end of the wire" quiet ip netns exec "$h" "$STASIS" net attach tap$i --uplink w$i
	t_defer "ip netns exec $h $STASIS net detach --force"
done

# The guests: a (h1, 10.0.0.1) and b (h2, 10.0.0.2) start their flows on a
# datagram to port 6000; each receives the other's numbered datagrams, and
# b takes a TCP stream from a.
# (The receivers are up before the start: the other guest may start first;
# a ping first resolves the peer's address: while ARP is pending the kernel
# queues a few datagrams only and drops the rest.)
cat > "$W/a.run" <<RUN
udp-recv 5001 --count $COUNT --idle-ms 60000 --sender 2 &
udp-recv 6000 --count 1 --timeout-ms 600000 > /dev/null; echo flows-start
until ping -c 1 -W 1 10.0.0.2 > /dev/null; do :; done
udp-send 10.0.0.2 5000 $COUNT --rate $RATE --sender 1 > /dev/null &
tcp-send 10.0.0.2 6001 $BYTES --rate $BRATE > /dev/null
wait
RUN
cat > "$W/b.run" <<RUN
udp-recv 5000 --count $COUNT --idle-ms 60000 --sender 1 &
tcp-sink 6001 &
udp-recv 6000 --count 1 --timeout-ms 600000 > /dev/null; echo flows-start
until ping -c 1 -W 1 10.0.0.1 > /dev/null; do :; done
udp-send 10.0.0.1 5001 $COUNT --rate $RATE --sender 2 > /dev/null
wait
RUN
vmstart() {	# NAME HOSTNS TAP IP MAC
	STASIS_VM_ROOT=$W/vms-$1 "$STASIS" vm start "$1" --kernel "$K" --initrd "$I" --run "$W/$1.run" \
		--append "console=ttyS0 loglevel=3 panic=-1 stasis.name=$1 stasis.ip=$4/24" \
		--netns "$2" --tap "$3" --mac "$5" > /dev/null
}
t_defer "STASIS_VM_ROOT=$W/vms-a '$STASIS' vm quit --all; STASIS_VM_ROOT=$W/vms-b '$STASIS' vm quit --all"
t_require "guest a on h1" vmstart a "$H1" tap1 10.0.0.1 52:54:00:00:01:01
t_require "guest b on h2" vmstart b "$H2" tap2 10.0.0.2 52:54:00:00:01:02
LA=$W/vms-a/a/console.log LB=$W/vms-b/b/console.log
t_require "both guests boot" wait_until 120 sh -c "grep -q 'console ready' '$LA' && grep -q 'console ready' '$LB'"
for i in 1 2; do
	eval "h=\$H$i"
	x=a; [ $i = 2 ] && x=b
	ip netns exec "$h" "$STASIS" agent --broker $URL --experiment $EXP --host h$i$D --snapshots "$W/snaps$i" \
		--instances "$W/vms-$x" > "$W/agent$i.log" 2>&1 &
	eval "AP$i=\$!"
	t_defer "kill \$AP$i"
done
coord() { ip netns exec "$H2" "$STASIS" coord "$@" --broker $URL --experiment $EXP; }
online() { coord status > "$W/online" 2>&1 && [ "$(grep -c ' online  *ok' "$W/online")" = 2 ]; }
t_require "both agents answer" wait_until 30 online

# go GUEST HOSTNS IP LOG: the start datagram, again until the guest says so.
go() { in_ns "$2" "$SG" udp-send "$3" 6000 1 > /dev/null 2>&1; grep -q flows-start "$4"; }
# flows_done FROM: both guests' receivers and the stream finished after
# their console lines FROMA and FROMB.
flows_done() {
	[ "$(tail -n +"$1" "$LA" | grep -c 'udp-recv: done')" -ge 1 ] &&
	[ "$(tail -n +"$2" "$LB" | grep -c 'udp-recv: done')" -ge 1 ] &&
	[ "$(tail -n +"$2" "$LB" | grep -c 'tcp-sink: done')" -ge 1 ]
}
# check_flows WHAT FROMA FROMB [OTHER]: each flow complete, nothing lost,
# doubled or reordered; OTHER: the datagrams b told from another sender
# ("SENDER:SEQ ..."; none unless given).
check_flows() {
	ra=$(tail -n +"$2" "$LA" | tr -d '\r' | grep 'udp-recv: done' | tail -1)
	rb=$(tail -n +"$3" "$LB" | tr -d '\r' | grep 'udp-recv: done' | tail -1)
	tb=$(tail -n +"$3" "$LB" | tr -d '\r' | grep 'tcp-sink: done' | tail -1)
	echo "# $1: a $ra"
	echo "# $1: b $rb"
	t_eq "$1: b -> a, every datagram once, in order" "$COUNT 0 0 0" "$(kv unique "$ra") $(kv gaps "$ra") $(kv dup "$ra") $(kv reordered "$ra")"
	t_eq "$1: a -> b, every datagram once, in order" "$COUNT 0 0 0" "$(kv unique "$rb") $(kv gaps "$rb") $(kv dup "$rb") $(kv reordered "$rb")"
	t_eq "$1: the TCP stream a -> b, every byte intact" "bytes=$BYTES errors=0" "$(echo "$tb" | grep -o 'bytes=[0-9]* errors=[0-9]*')"
	t_eq "$1: datagrams from another sender at b" "${4:-}" "$(tail -n +"$3" "$LB" | tr -d '\r' |
		sed -n 's/^udp-recv: other sender=\([0-9]*\) seq=\([0-9]*\)$/\1:\2/p' | tr '\n' ' ' | sed 's/ $//')"
}

both_go() { go a "$H1" 10.0.0.1 "$LA" && go b "$H2" 10.0.0.2 "$LB"; }
t_require "the flows start" wait_until 60 both_go
# A time trigger 2 s ahead, mid-flow.
t_run "$W/ttrig" "$E" coord trigger --in 2s --epoch 10 --timeout 120
t_eq "time trigger: both hosts snapshotted epoch 10" 0 "$T_RC"
sed 's/^/# /' "$W/ttrig"
for i in 1 2; do
	t_eq "h$i's part of 10 is complete" complete "$(jq -r .state "$W/snaps$i/snap-10/h$i$D/manifest.json")"
done
for i in 1 2; do
	t_eq "h$i: no frame was left in a tap's queue at the stop" "" \
		"$(jq -r '.rx_queue_left // ""' "$W/snaps$i/snap-10/h$i$D/manifest.json")"
done
t_check "frames in flight on the wire were held" test "$(( $(jq .frames_held "$W/snaps1/snap-10/h1$D/manifest.json") + $(jq .frames_held "$W/snaps2/snap-10/h2$D/manifest.json") ))" -gt 0

for n in 1 2 3; do
	fa=$(($(wc -l < "$LA") + 1)) fb=$(($(wc -l < "$LB") + 1))
	t_run "$O" "$E" coord restore 10
	sed 's/^/# /' "$O"
	t_eq "restore $n of snapshot 10" 0 "$T_RC"
	t_check "restore $n: the flows end" wait_until 120 flows_done "$fa" "$fb"
	check_flows "restore $n" "$fa" "$fb"
done

# A packet trigger on a -> b datagram $MARK, armed before a restore of 10:
# the restored flows reach it, both hosts freeze (snapshot 11), and resume
# lets every flow complete, nothing restored.
# (sender and number: b's datagram $MARK, on its way to a, matches too
# without the sender, and fires first when b's flow is ahead)
hex=$(printf '%08x%016x' 1 $MARK)
ip netns exec "$H2" "$STASIS" coord trigger --packet --offset 46 --hex "$hex" --epoch 11 --broker $URL \
	--experiment $EXP --timeout 120 > "$W/ptrig" 2>&1 &
tp=$!
t_require "h1 is armed" wait_until 30 at_least 1 triggers "$H1"
fa=$(($(wc -l < "$LA") + 1)) fb=$(($(wc -l < "$LB") + 1))
t_run "$O" "$E" coord restore 10
t_eq "restore of 10 with the packet trigger armed" 0 "$T_RC"
wait $tp
t_eq "packet trigger: both hosts snapshotted epoch 11" 0 $?
sed 's/^/# /' "$W/ptrig"
t_eq "h1 froze on the trigger datagram, h2 followed" "packet h1$D packet h1$D" \
	"$(jq -r '"\(.trigger.kind) \(.trigger.host)"' "$W/snaps1/snap-11/h1$D/manifest.json" "$W/snaps2/snap-11/h2$D/manifest.json" | tr '\n' ' ' | sed 's/ $//')"
t_eq "nothing finished while frozen" 0 "$(tail -n +"$fb" "$LB" | grep -c 'udp-recv: done')"
t_run "$O" "$E" coord resume
sed 's/^/# /' "$O"
t_eq "coord resume" 0 "$T_RC"
t_check "after the resume the flows end" wait_until 120 flows_done "$fa" "$fb"
check_flows "resume" "$fa" "$fb"

# Edit, then go on: h1's held frames of 11 begin with the trigger datagram
# (a -> b number $MARK); a copy with its sender field (frame offset 46)
# changed to 9 is given for one restore. The snapshot itself is untouched.
SP11=$W/snaps1/snap-11/h1$D/net.sp
idx=$("$STASIS" -j sp cat "$SP11" | jq '[.[].summary | test("> 10.0.0.2:5000$")] | index(true)')
t_eq "the trigger datagram is among h1's held frames" 1 "$(echo "$idx" | grep -c '^[0-9][0-9]*$')"
t_require "an edited copy of h1's held frames" quiet "$STASIS" sp edit "$SP11" -o "$W/edited.sp" \
	--set "$idx:46:00000009" --fix-checksums
sum11=$(md5sum < "$SP11")
fa=$(($(wc -l < "$LA") + 1)) fb=$(($(wc -l < "$LB") + 1))
t_run "$O" "$E" coord restore 11 --frames "h1$D=$W/edited.sp"
sed 's/^/# /' "$O"
t_eq "restore of 11 with h1's frames edited" 0 "$T_RC"
t_check "edited: the flows end" wait_until 120 flows_done "$fa" "$fb"
check_flows "edited" "$fa" "$fb" "9:$MARK"
t_eq "the snapshot's own frames are unchanged" "$sum11" "$(md5sum < "$SP11")"
fa=$(($(wc -l < "$LA") + 1)) fb=$(($(wc -l < "$LB") + 1))
t_run "$O" "$E" coord restore 11
t_eq "the next plain restore of 11" 0 "$T_RC"
t_check "plain: the flows end" wait_until 120 flows_done "$fa" "$fb"
check_flows "plain, after the edited" "$fa" "$fb"
t_done
