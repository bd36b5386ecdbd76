#!/bin/bash
# Frames that wait in a tap's queue toward a VM which takes none (here: the
# VM is paused) are in neither the held frames nor the saved state. A
# snapshot looks at a paused VM's queue once instead of waiting for it,
# completes, and says so: the manifest's rx_queue_left, the sender's report
# line, the agent's log. The frames were really there: once the VM goes
# on (coord resume) the guest receives every one.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/broker.sh"
. "$(dirname "$0")/../lib/net.sh"
. "$(dirname "$0")/../lib/vm.sh"
vm_test_init
W=$T_WORK O=$T_WORK/out E=$T_WORK/err N=20
tap_create "$NS" tapa && addr_add "$NS" tapa 10.0.0.254/24
t_require "net attach tapa" quiet ip netns exec "$NS" "$STASIS" net attach tapa
t_defer "ip netns exec $NS $STASIS net detach --force"
echo "udp-recv 5000 --count $N --idle-ms 600000" > "$W/run.sh"
t_run "$O" "$E" "$STASIS" vm start a --kernel "$K" --initrd "$I" \
	--append "console=ttyS0 loglevel=3 panic=-1 stasis.name=a stasis.ip=10.0.0.1/24" --run "$W/run.sh" \
	--netns "$NS" --tap tapa --mac 52:54:00:00:00:0a
t_require "vm start a" test "$T_RC" = 0
LOG=$STASIS_VM_ROOT/a/console.log
t_require "the guest's receiver is up" wait_line "$LOG" 'udp-recv: ready' 90

t_require "vm stop a" quiet "$STASIS" vm stop a
# The paused VM answers no ARP: its address is given.
t_require "a static neighbour for the guest" ip -n "$NS" neigh replace 10.0.0.1 lladdr 52:54:00:00:00:0a dev tapa
# (They wait in the tap's ring: the tap counts a frame as sent only once
# QEMU reads it.)
t_require "$N datagrams toward the paused guest" quiet in_ns "$NS" "$SG" udp-send 10.0.0.1 5000 $N

t_require "mosquitto listens" broker_start mosquitto "$NS" 127.0.0.1 $((20000 + RANDOM % 20000))
URL=$BROKER_URL
ip netns exec "$NS" "$STASIS" agent --broker $URL --experiment rxq --host h1 --snapshots "$W/snaps" \
	--instances "$STASIS_VM_ROOT" > "$W/agent.log" 2>&1 &
t_defer "kill $!"
coord() { ip netns exec "$NS" "$STASIS" coord "$@" --broker $URL --experiment rxq; }
t_require "the agent answers" wait_until 30 sh -c "ip netns exec '$NS' '$STASIS' coord status --broker $URL --experiment rxq 2>&1 | grep -q 'h1 *online *ok'"

t_run "$O" "$E" coord snapshot --epoch 5 --timeout 60
sed 's/^/# /' "$O"
t_eq "the snapshot completes" 0 "$T_RC"
M=$W/snaps/snap-5/h1/manifest.json
t_eq "  its part is complete" complete "$(jq -r .state "$M")"
t_eq "  the manifest names the queue left" "tapa (VM a, paused)" "$(jq -r '.rx_queue_left // ""' "$M")"
t_check "  the report line says those frames are not in it" \
	grep -q "h1 .*NOT IN THE SNAPSHOT: frames left in the queue toward a VM (tapa (VM a, paused))" "$O"
t_check "  the agent logged it" grep -q "tapa (VM a, paused)" "$W/agent.log"
t_run "$O" "$E" coord resume
t_eq "coord resume" 0 "$T_RC"
t_check "the guest then receives every queued datagram" wait_line "$LOG" 'udp-recv: done' 60
r=$(tr -d '\r' < "$LOG" | grep 'udp-recv: done' | tail -1)
echo "# $r"
t_eq "  all $N, once, in order" "$N 0 0" "$(kv unique "$r") $(kv dup "$r") $(kv reordered "$r")"
t_done
