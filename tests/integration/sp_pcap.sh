#!/bin/bash
# .sp <-> pcapng with real tools on both sides: tshark and tcpdump read what
# to-pcapng writes (every frame byte-identical, interfaces, directions and
# sequence numbers kept), and a tcpdump capture survives pcap -> .sp ->
# pcapng -> .sp -> pcapng byte for byte.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/net.sh"
. "$(dirname "$0")/../lib/pcap.sh"
t_need_root
W=$T_WORK

# 1. A .sp with a tap and an uplink, both directions, and a 60000-byte frame.
"$BUILD/tools/spgen" "$W/g.sp" 40 --gso --size 300
t_require "to-pcapng" quiet "$STASIS" sp to-pcapng "$W/g.sp" -o "$W/g.pcapng"
t_eq "tshark reads every frame" 40 "$(tshark -r "$W/g.pcapng" 2>/dev/null | wc -l)"
t_eq "tcpdump reads every frame" 40 "$(tcpdump -r "$W/g.pcapng" -n 2>/dev/null | wc -l)"
stasis_hex "$W/g.sp" > "$W/g.sp.hex"
tcpdump_hex "$W/g.pcapng" > "$W/g.tcpdump.hex"
t_check "tcpdump's frames are byte-identical to the .sp's" cmp -s "$W/g.sp.hex" "$W/g.tcpdump.hex"
tshark -r "$W/g.pcapng" -T fields -e frame.interface_name -e frame.packet_flags_direction \
	-e frame.comment -e frame.len 2>/dev/null > "$W/g.fields"
"$STASIS" -j sp cat "$W/g.sp" | jq -r '.[] | "\(.iface) \(if .dir == "in" then 1 else 2 end) seq=\(.seq)\(if .flags == 1 then " gso" else "" end) \(.orig_len)"' > "$W/g.want"
awk -F'\t' '{ sub(/^0x0*/, "", $2); print $1, $2, $3, $4 }' "$W/g.fields" > "$W/g.got"
t_check "tshark sees each frame's interface, direction, seq and length" cmp -s "$W/g.want" "$W/g.got"
t_eq "tshark sees the GSO super-frame whole" 60000 "$(grep ' gso ' "$W/g.got" | awk '{print $NF}')"
t_eq "interface roles and VMs are in the descriptions" "role=tap vm=a host=" \
	"$(tshark -r "$W/g.pcapng" -T fields -e frame.interface_description -c 1 2>/dev/null)"
t_eq "tshark finds valid UDP checksums" "$(seq 40 | sed 's/.*/1/' | tr -d '\n')" \
	"$(tshark -r "$W/g.pcapng" -o udp.check_checksum:TRUE -T fields -e udp.checksum.status 2>/dev/null | tr -d '\n')"

# 2. And back: from-pcapng gives the same .sp content.
t_require "from-pcapng of our own pcapng" quiet "$STASIS" sp from-pcapng "$W/g.pcapng" -o "$W/g2.sp"
t_eq "sp diff finds no difference after the round trip" true "$("$STASIS" -j sp diff "$W/g.sp" "$W/g2.sp" | jq .identical)"
t_eq "epoch and host come back" "7 host1" "$("$STASIS" -j sp info "$W/g2.sp" | jq -r '"\(.epoch) \(.host)"')"

# 3. A real capture by tcpdump (classic pcap) through every conversion.
ns_create N
# ip netns exec execs tcpdump in place: $! is tcpdump's own PID.
ip netns exec "$N" tcpdump -i lo -w "$W/cap.pcap" -U -s 0 2> "$W/tcpdump.err" &
tp=$!
t_defer "kill $tp"
wait_line "$W/tcpdump.err" "listening on" 10
in_ns "$N" "$SG" udp-recv 5000 --count 300 --timeout-ms 5000 > /dev/null &
sleep 0.2
in_ns "$N" "$SG" udp-send 127.0.0.1 5000 300 --size 1200 > /dev/null
in_ns "$N" "$SG" tcp-sink 6000 > /dev/null &
sleep 0.2
in_ns "$N" "$SG" tcp-send 127.0.0.1 6000 2000000 > /dev/null
sleep 1
kill -INT $tp
wait $tp 2>/dev/null
n=$(tcpdump -r "$W/cap.pcap" -n 2>/dev/null | wc -l)
t_check "tcpdump captured a flood ($n frames)" test "$n" -ge 300
"$STASIS" sp from-pcapng "$W/cap.pcap" -o "$W/c1.sp" > /dev/null &&
"$STASIS" sp to-pcapng "$W/c1.sp" -o "$W/c1.pcapng" > /dev/null &&
"$STASIS" sp from-pcapng "$W/c1.pcapng" -o "$W/c2.sp" > /dev/null &&
"$STASIS" sp to-pcapng "$W/c2.sp" -o "$W/c2.pcapng" > /dev/null
t_require "pcap -> .sp -> pcapng -> .sp -> pcapng" test $? = 0
tcpdump_hex "$W/cap.pcap" > "$W/cap.hex"
tcpdump_hex "$W/c2.pcapng" > "$W/c2.hex"
t_eq "every frame came back" "$n" "$(wc -l < "$W/c2.hex")"
t_check "every frame is byte-identical to tcpdump's original" cmp -s "$W/cap.hex" "$W/c2.hex"
t_eq "timestamps kept (µs)" "$(tcpdump -r "$W/cap.pcap" -tt -n 2>/dev/null | awk '{print $1}' | md5sum)" \
	"$(tcpdump -r "$W/c2.pcapng" -tt -n 2>/dev/null | awk '{print $1}' | md5sum)"
t_done
