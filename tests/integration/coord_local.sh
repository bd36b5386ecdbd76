#!/bin/bash
# Agents without --broker start a private mosquitto on their namespace's
# loopback and leave its URL for coord commands run there: one file per
# namespace and experiment, so two namespaces' agents neither overwrite nor
# delete each other's.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/net.sh"
t_need_root
W=$T_WORK O=$T_WORK/out E=$T_WORK/err
ns_create A && ns_create B
t_require "two namespaces" test $? = 0
# A has a network hold; its agent is started by a shell that exits once the
# agent runs (as a login that ends): the agent must still find its pins.
ip -n "$A" link add name va type veth peer name vb && ip -n "$A" link set va up && ip -n "$A" link set vb up
t_require "a hold attached in A" quiet ip netns exec "$A" "$STASIS" net attach --uplink va
t_defer "ip netns exec $A $STASIS net detach --force"
bash -c "ip netns exec '$A' '$STASIS' agent --host hA --snapshots '$W/sA' > '$W/agentA.log' 2>&1 & echo \$! > '$W/agentA.pid'; wait" &
SHA=$!
t_require "A's agent started" wait_until 10 test -s "$W/agentA.pid"
APA=$(cat "$W/agentA.pid")
t_defer "kill \$APA 2>/dev/null"
t_require "  and running" wait_until 10 grep -q 'agent: host hA' "$W/agentA.log"
kill -9 $SHA
wait $SHA 2>/dev/null
t_check "  its shell is gone" sh -c "! kill -0 $SHA 2>/dev/null"
ip netns exec "$B" "$STASIS" agent --host hB --snapshots "$W/sB" > "$W/agentB.log" 2>&1 &
APB=$!
t_defer "kill \$APB 2>/dev/null"
answers() {	# NS HOST: coord status there, with no --broker, names HOST online
	ip netns exec "$1" "$STASIS" coord status > "$W/st" 2>&1 && grep -q "$2  *online  *ok" "$W/st"
}
t_check "in A, coord status finds A's agent through its private broker" wait_until 30 answers "$A" hA
t_check "  and A's agent sees its hold (net=pass): $(grep hA "$W/st")" grep -q 'hA .*net=pass' "$W/st"
t_check "in B, B's agent" wait_until 30 answers "$B" hB
t_check "  and not A's" sh -c "! grep -q hA '$W/st'"
kill $APA
t_check "A's agent stopped" wait_until 10 sh -c "! kill -0 $APA 2>/dev/null"
t_check "A's agent gone: B's still answers in B" answers "$B" hB
t_run "$O" "$E" ip netns exec "$A" "$STASIS" coord status
t_eq "in A, no broker is left to find: a usage error" 2 "$T_RC"
t_check "  that says so in one line" sh -c "test \$(wc -l < '$E') = 1 && grep -q 'no private broker' '$E'"
t_done
