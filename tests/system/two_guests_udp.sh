#!/bin/bash
# Two TCG guests on taps joined by a bridge inside a namespace: guest A sends
# 10,000 numbered UDP datagrams at a rate a TCG guest takes; guest B reports
# every one received, no gap, no duplicate, none reordered.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/net.sh"
. "$(dirname "$0")/../lib/guest.sh"
t_need_root

COUNT=10000 RATE=2000
ns_create NS || { t_fail "namespace"; t_done; }
bridge_create "$NS" br0 && tap_create "$NS" tapa br0 && tap_create "$NS" tapb br0 &&
	addr_add "$NS" br0 10.0.0.254/24
t_require "bridge and two taps in $NS" test $? = 0

guest_start b "$NS" tapb 10.0.0.2/24 52:54:00:00:00:02 \
	"udp-recv 5000 --count $COUNT --idle-ms 5000"
guest_start a "$NS" tapa 10.0.0.1/24 52:54:00:00:00:01 \
	"$GUEST_WAIT_GO; timeout 10 ping -c 1 -W 5 10.0.0.2 >/dev/null; udp-send 10.0.0.2 5000 $COUNT --rate $RATE"

t_require "guest b boots and its receiver is ready" guest_wait b 'udp-recv: ready' 90
t_require "guest a boots and waits for the start" guest_wait a 'udp-recv: ready' 90
# Start only once B listens, and with B's address resolved.
t_require "guest a starts on a signal" guest_go a "$NS" 10.0.0.1
t_require "guest a starts sending" guest_wait a 'udp-send: start' 90
t_require "guest a sent all datagrams" guest_wait a 'udp-send: done' 120
t_require "guest b reports" guest_wait b 'udp-recv: done' 60

rep=$(guest_line b 'udp-recv: done')
echo "# b: $rep"
echo "# a: $(guest_line a 'udp-send: done')"
t_eq "sent $COUNT" "$COUNT" "$(kv sent "$(guest_line a 'udp-send: done')")"
t_eq "received all $COUNT" "$COUNT" "$(kv unique "$rep")"
t_eq "no gaps" 0 "$(kv gaps "$rep")"
t_eq "no duplicates" 0 "$(kv dup "$rep")"
t_eq "no reordering" 0 "$(kv reordered "$rep")"
t_done
