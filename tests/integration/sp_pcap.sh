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
tshark_hex "$W/g.pcapng" > "$W/g.tshark.hex"
t_eq "tshark gives the bytes of every frame" 40 "$(grep -cE '^[0-9a-f]+$' "$W/g.tshark.hex")"
t_check "tshark's frames are byte-identical to the .sp's" cmp -s "$W/g.sp.hex" "$W/g.tshark.hex"
tshark -r "$W/g.pcapng" -T fields -e frame.interface_name -e frame.packet_flags_direction \
	-e frame.comment -e frame.len 2>/dev/null > "$W/g.fields"
"$STASIS" -j sp cat "$W/g.sp" | jq -r '.[] | "\(.iface) \(if .dir == "in" then 1 else 2 end) seq=\(.seq)\(if .flags == 1 then " gso" else "" end) \(.orig_len)"' > "$W/g.want"
awk -F'\t' '{ sub(/^0x0*/, "", $2); print $1, $2, $3, $4 }' "$W/g.fields" > "$W/g.got"
t_check "tshark sees each frame's interface, direction, seq and length" cmp -s "$W/g.want" "$W/g.got"
t_eq "tshark sees the GSO super-frame whole" 60000 "$(grep ' gso ' "$W/g.got" | awk '{print $NF}')"
t_eq "interface roles, VMs and ifindexes are in the descriptions" "role=tap vm=a host= ifindex=5" \
	"$(tshark -r "$W/g.pcapng" -T fields -e frame.interface_description -c 1 2>/dev/null)"
t_eq "tshark finds valid UDP checksums" "$(seq 40 | sed 's/.*/1/' | tr -d '\n')" \
	"$(tshark -r "$W/g.pcapng" -o udp.check_checksum:TRUE -T fields -e udp.checksum.status 2>/dev/null | tr -d '\n')"

# 2. And back: from-pcapng gives the same .sp content.
t_require "from-pcapng of our own pcapng" quiet "$STASIS" sp from-pcapng "$W/g.pcapng" -o "$W/g2.sp"
t_eq "sp diff finds no difference after the round trip" true "$("$STASIS" -j sp diff "$W/g.sp" "$W/g2.sp" | jq .identical)"
t_eq "epoch and host come back" "7 host1" "$("$STASIS" -j sp info "$W/g2.sp" | jq -r '"\(.epoch) \(.host)"')"
# (jq reads integers as doubles: times are compared in the text output.)
t_eq "the creation time comes back" "created:    2023-11-14T22:13:20.000000000Z" \
	"$("$STASIS" sp info "$W/g2.sp" | grep '^created:')"
t_eq "interfaces come back (ifindex, MAC, role, VM)" \
	"$("$STASIS" -j sp info "$W/g.sp" | jq -c '[.interfaces[] | del(.in, .out)]')" \
	"$("$STASIS" -j sp info "$W/g2.sp" | jq -c '[.interfaces[] | del(.in, .out)]')"
t_check "and every frame's seq, time (ns), interface, direction, length, flags and bytes" \
	cmp -s <("$STASIS" sp cat --hex "$W/g.sp") <("$STASIS" sp cat --hex "$W/g2.sp")

# 3. A real capture by tcpdump (classic pcap) through every conversion.
ns_create N
# ip netns exec execs tcpdump in place: $! is tcpdump's own PID.
ip netns exec "$N" tcpdump -i lo -w "$W/cap.pcap" -U -s 0 2> "$W/tcpdump.err" &
tp=$!
t_defer "kill $tp"
wait_line "$W/tcpdump.err" "listening on" 10
in_ns "$N" "$SG" udp-recv 5000 --count 300 --timeout-ms 5000 > "$W/urecv" &
wait_line "$W/urecv" ready 5
in_ns "$N" "$SG" udp-send 127.0.0.1 5000 300 --size 1200 > /dev/null
in_ns "$N" "$SG" tcp-sink 6000 > "$W/tsink" &
wait_line "$W/tsink" ready 5
in_ns "$N" "$SG" tcp-send 127.0.0.1 6000 2000000 > /dev/null
# A last datagram marks the end: once tcpdump has written it (-U: packet by
# packet), every frame before it is in the file.
in_ns "$N" "$SG" udp-send 127.0.0.1 5999 1 > /dev/null
t_check "the capture has everything up to the marker" wait_until 10 sh -c "tcpdump -r '$W/cap.pcap' -n udp port 5999 2>/dev/null | grep -q ."
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
tshark_hex "$W/c2.pcapng" > "$W/c2.tshark.hex"
t_eq "tshark gives the bytes of every frame" "$n" "$(grep -cE '^[0-9a-f]+$' "$W/c2.tshark.hex")"
t_check "tshark's frames are byte-identical to tcpdump's original" cmp -s "$W/cap.hex" "$W/c2.tshark.hex"
t_check "and to the .sp's" cmp -s "$W/cap.hex" <(stasis_hex "$W/c2.sp")
t_eq "timestamps kept (µs)" "$(tcpdump -r "$W/cap.pcap" -tt -n 2>/dev/null | awk '{print $1}' | md5sum)" \
	"$(tcpdump -r "$W/c2.pcapng" -tt -n 2>/dev/null | awk '{print $1}' | md5sum)"
# 4. --fix-checksums. On lo the kernel leaves TCP and UDP checksums to
# offload, so tcpdump captured partial sums that tshark calls bad: alone, the
# flag fixes every frame.
tshark_checksums "$W/c1.pcapng" > "$W/c1.ck"
t_check "tshark finds the captured loopback checksums bad" grep -qE ' 0$| 0 $' "$W/c1.ck"
t_require "edit --fix-checksums alone" quiet "$STASIS" sp edit "$W/c1.sp" -o "$W/fx.sp" --fix-checksums
t_require "to-pcapng" quiet "$STASIS" sp to-pcapng "$W/fx.sp" -o "$W/fx.pcapng"
tshark_checksums "$W/fx.pcapng" > "$W/fx.ck"
t_eq "tshark: every UDP frame's IPv4 and UDP checksums good" "$(grep -c ' UDP ' <("$STASIS" sp cat "$W/c1.sp"))" \
	"$(grep -cx '1 1 ' "$W/fx.ck")"
t_eq "tshark: every TCP frame's IPv4 and TCP checksums good" "$(grep -c ' TCP ' <("$STASIS" sp cat "$W/c1.sp"))" \
	"$(grep -cx '1  1' "$W/fx.ck")"
# Each frame changed in its checksum bytes only (IPv4 at 24, UDP at 40, TCP
# at 50; by the protocol byte at 23): both files with those masked are equal.
ck_masked() {
	stasis_hex "$1" | awk '{
		p = substr($0, 47, 2); $0 = substr($0, 1, 48) "xxxx" substr($0, 53)
		if (p == "11") $0 = substr($0, 1, 80) "xxxx" substr($0, 85)
		if (p == "06") $0 = substr($0, 1, 100) "xxxx" substr($0, 105)
		print }'
}
t_check "only checksum bytes changed" cmp -s <(ck_masked "$W/c1.sp") <(ck_masked "$W/fx.sp")
stasis_hex "$W/c1.sp" > "$W/c1.hex"
stasis_hex "$W/fx.sp" > "$W/fx.hex"
t_check "  and some did change" sh -c "! cmp -s '$W/c1.hex' '$W/fx.hex'"
# An edited UDP frame and an edited TCP frame (payload bytes), with and
# without the flag: tshark says good with it and bad without.
u=$("$STASIS" -j sp cat "$W/fx.sp" | jq -r '[.[] | select(.summary | startswith("UDP")) | .index][0]')
t=$("$STASIS" -j sp cat "$W/fx.sp" | jq -r '[.[] | select(.summary | startswith("TCP")) | select(.cap_len > 1000) | .index][0]')
t_require "a UDP ($u) and a TCP ($t) frame with payload" test "$u" != null -a "$t" != null
for fix in "--fix-checksums" ""; do
	t_require "edit ${fix:-without --fix-checksums}" quiet "$STASIS" sp edit "$W/fx.sp" -o "$W/ed.sp" \
		--set "$u:60:deadbeef" --set "$t:90:cafe0102" $fix
	t_require "to-pcapng" quiet "$STASIS" sp to-pcapng "$W/ed.sp" -o "$W/ed.pcapng"
	tshark_checksums "$W/ed.pcapng" > "$W/ed.ck"
	want="1 1 ;1  1"
	[ -n "$fix" ] || want="1 0 ;1  0"
	t_eq "tshark on the edited UDP and TCP frames ${fix:-without the flag}" "$want" \
		"$(sed -n "$((u + 1))p" "$W/ed.ck");$(sed -n "$((t + 1))p" "$W/ed.ck")"
	t_eq "the edits are there" "deadbeef cafe0102" \
		"$(stasis_hex "$W/ed.sp" | sed -n "$((u + 1))p" | cut -c121-128) $(stasis_hex "$W/ed.sp" | sed -n "$((t + 1))p" | cut -c181-188)"
done
t_done
