#!/bin/bash
# The network hold between two TCG guests on taps: a packet trigger on guest
# A's numbered datagram (XDP on tap-a) holds the host before that frame
# reaches guest B; it is the first frame held for B; after drain and replay
# B reports every datagram exactly once, in order.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/net.sh"
. "$(dirname "$0")/../lib/pcap.sh"
. "$(dirname "$0")/../lib/guest.sh"
. "$(dirname "$0")/../lib/hold.sh"
t_need_root
W=$T_WORK COUNT=6000 RATE=1500 MARK=3000

ns_create NS || { t_fail "namespace"; t_done; }
bridge_create "$NS" br0 && tap_create "$NS" tapa br0 && tap_create "$NS" tapb br0 &&
	addr_add "$NS" br0 10.0.0.254/24
t_require "bridge and two taps" test $? = 0
t_require "attach tapa and tapb" quiet net "$NS" attach tapa tapb
t_defer "ip netns exec $NS $STASIS net detach --force"
guest_start b "$NS" tapb 10.0.0.2/24 52:54:00:00:00:02 \
	"udp-recv 5000 --count $COUNT --idle-ms 20000 --progress-ms 500"
guest_start a "$NS" tapa 10.0.0.1/24 52:54:00:00:00:01 \
	"$GUEST_WAIT_GO; timeout 10 ping -c 1 -W 5 10.0.0.2 >/dev/null; udp-send 10.0.0.2 5000 $COUNT --rate $RATE"
t_require "guest b ready" guest_wait b 'udp-recv: ready' 90
t_require "guest a boots and waits for the start" guest_wait a 'udp-recv: ready' 90
hex=$(printf '%016x' $MARK)
t_require "trigger on datagram $MARK from guest a" quiet net "$NS" trigger add --offset 50 --hex "$hex" --dir from-guest --dev tapa --once
ip netns exec "$NS" "$STASIS" -j net wait-trigger --timeout 120 > "$W/event" &
wp=$!
t_require "guest a starts on a signal" guest_go a "$NS" 10.0.0.1
wait $wp
t_eq "wait-trigger reports it: tapa, from the guest, hold" "tapa from-guest true" "$(jq -r '"\(.dev) \(.dir) \(.held)"' "$W/event")"
t_eq "host in hold" hold "$(net "$NS" -j status | jq -r .state)"
t_require "guest a finished sending" guest_wait a 'udp-send: done' 60
# b has every datagram before the trigger, and a progress line printed
# after that (500 ms later) shows no more.
progress_n() { grep -c 'udp-recv: progress' "$T_WORK/b.log"; }
t_check "b got the datagrams before the trigger" wait_until 60 sh -c "grep 'udp-recv: progress' '$T_WORK/b.log' | tail -1 | grep -q 'unique=$MARK '"
t_check "  and a progress line after that" wait_until 30 at_least $(( $(progress_n) + 1 )) progress_n
p=$(guest_line b 'udp-recv: progress')
echo "# b while held: $p"
t_eq "b has exactly the datagrams before the trigger frame" "$MARK $((MARK - 1))" "$(kv unique "$p") $(kv max "$p")"
t_require "drain" quiet net "$NS" drain -o "$W/held.sp"
sg_numbers "$W/held.sp" 'tapb out.*> 10.0.0.2:5000 ' > "$W/seqs"
t_eq "the trigger frame is the first one held for b" $MARK "$(head -1 "$W/seqs")"
t_eq "every later datagram is held, in order" "$(seq $MARK $((COUNT - 1)) | md5sum)" \
	"$(md5sum < "$W/seqs")"
# No --rate: the replay goes as fast as b's tap takes the frames; a send
# its full queue refused is sent again (and counted in the tap's
# tx_dropped, and in the replay's "resent").
t_require "replay, paced by the guest's tap alone" into "$W/replay.json" net "$NS" -j replay "$W/held.sp"
echo "# replay: $(cat "$W/replay.json")"
t_require "b reports" guest_wait b 'udp-recv: done' 60
r=$(guest_line b 'udp-recv: done')
echo "# b: $r"
t_eq "b received all $COUNT" $COUNT "$(kv unique "$r")"
t_eq "no gaps" 0 "$(kv gaps "$r")"
t_eq "no duplicates" 0 "$(kv dup "$r")"
t_eq "in order" 0 "$(kv reordered "$r")"
net "$NS" -j status > "$W/status.json"
t_eq "no drops" "0 0 0" "$(jq -r '.counters | "\(.drop_ring_full) \(.drop_too_big) \(.drop_load)"' "$W/status.json")"
t_eq "the replay reports no frame dropped" 0 "$(jq -r .tx_dropped "$W/replay.json")"
t_eq "the taps dropped only sends the replay made again" "$(jq -r .resent "$W/replay.json")" \
	"$(jq -r '[.devices[].tx_dropped] | add' "$W/status.json")"
t_done
