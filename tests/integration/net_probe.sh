#!/bin/bash
# The embedded BPF object loads on this kernel (in a namespace of our own),
# and without privileges the failure is a clear one-line error.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/net.sh"
t_need_root
O=$T_WORK/out E=$T_WORK/err

ns_create N
t_run "$O" "$E" in_ns "$N" "$STASIS" -j net probe
t_eq "net probe exits 0 as root" 0 "$T_RC"
t_eq "both programs loaded" "stasis_tc_egress stasis_xdp" "$(jq -r '.programs | sort | join(" ")' "$O")"
t_eq "the maps of the hold are there" true "$(jq '.maps | index("host") != null and index("counters") != null' "$O")"

t_run "$O" "$E" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$STASIS" net probe
t_eq "unprivileged: exit 1" 1 "$T_RC"
t_eq "unprivileged: one line" 1 "$(wc -l < "$E")"
t_check "unprivileged: says to run as root" grep -q "run as root" "$E"

t_run "$O" "$E" "$STASIS" net probe extra
t_eq "extra argument: usage error" 2 "$T_RC"
t_done
