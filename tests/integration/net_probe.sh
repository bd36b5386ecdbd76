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

# A kernel too old, as uname reports it under the UNAME26 personality.
for verb in probe "attach lo"; do
	t_run "$O" "$E" in_ns "$N" setarch "$(uname -m)" --uname-2.6 "$STASIS" net $verb
	t_eq "net $verb on a 2.6 kernel: exit 1" 1 "$T_RC"
	t_check "  says the kernel is too old and what it needs ($(cat "$E"))" \
		grep -qE "^stasis: kernel 2\.6\.[0-9]+[^ ]* is too old: stasis needs Linux 6\.1 or newer$" "$E"
done
t_run "$O" "$E" in_ns "$N" "$STASIS" net status
t_eq "  and nothing was attached" 1 "$T_RC"

t_run "$O" "$E" "$STASIS" net probe extra
t_eq "extra argument: usage error" 2 "$T_RC"
t_done
