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
for h in A B; do
	eval "ns=\$$h"
	ip netns exec "$ns" "$STASIS" agent --host "h$h" --snapshots "$W/s$h" > "$W/agent$h.log" 2>&1 &
	eval "AP$h=\$!"
	t_defer "kill \$AP$h 2>/dev/null"
done
answers() {	# NS HOST: coord status there, with no --broker, names HOST online
	ip netns exec "$1" "$STASIS" coord status > "$W/st" 2>&1 && grep -q "$2  *online  *ok" "$W/st"
}
t_check "in A, coord status finds A's agent through its private broker" wait_until 30 answers "$A" hA
t_check "in B, B's agent" wait_until 30 answers "$B" hB
t_check "  and not A's" sh -c "! grep -q hA '$W/st'"
kill $APA; wait $APA 2>/dev/null
t_check "A's agent gone: B's still answers in B" answers "$B" hB
t_run "$O" "$E" ip netns exec "$A" "$STASIS" coord status
t_eq "in A, no broker is left to find: a usage error" 2 "$T_RC"
t_check "  that says so in one line" sh -c "test \$(wc -l < '$E') = 1 && grep -q 'no private broker' '$E'"
t_done
