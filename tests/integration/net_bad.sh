#!/bin/bash
# Bad input to stasis net: unknown device, oversize or bad trigger bytes,
# replay of a corrupt .sp, attach twice, detach when not attached. Each a
# clear one-line error and a non-zero exit; nothing half-attached.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/net.sh"
. "$(dirname "$0")/../lib/hold.sh"
t_need_root
W=$T_WORK O=$T_WORK/out E=$T_WORK/err
one_line() { test "$(wc -l < "$E")" = 1; }
clsacts() { tc -n "$M" -j qdisc show dev "$1" | jq '[.[] | select(.kind == "clsact")] | length'; }

t_require "three namespaces joined by a bridge" hold_topology
t_run "$O" "$E" net "$M" detach
t_eq "detach when nothing is attached: exit 1" 1 "$T_RC"
t_check "  says nothing is attached" grep -q "nothing is attached in this network namespace" "$E"
t_run "$O" "$E" net "$M" status
t_eq "status when nothing is attached: exit 1" 1 "$T_RC"

t_run "$O" "$E" net "$M" attach m1 nosuchdev
t_eq "attach with an unknown device: exit 1" 1 "$T_RC"
t_check "  one line naming the device" sh -c "grep -q \"no device 'nosuchdev'\" '$E' && test \$(wc -l < '$E') = 1"
t_eq "  nothing half-attached: no TC filter on m1" "" "$(tc -n "$M" filter show dev m1 egress)"
t_eq "  and no XDP program on m1" 0 "$(ip -n "$M" -o link show m1 | grep -c xdp)"
t_run "$O" "$E" net "$M" status
t_eq "  and no state pinned" 1 "$T_RC"

# The second device's hook cannot be made (a foreign filter holds stasis's
# TC handle): the first one's hooks are undone and nothing stays pinned.
clang -target bpf -O2 -I/usr/include/"$(gcc -dumpmachine)" -c "$(dirname "$0")/../bench/tc_drop.bpf.c" -o "$W/drop.o"
tc -n "$M" qdisc add dev m2 clsact
tc -n "$M" filter add dev m2 egress pref 1 handle 0x57a5 bpf da obj "$W/drop.o" sec tc
t_run "$O" "$E" net "$M" attach m1 m2
t_eq "attach failing on the second device: exit 1" 1 "$T_RC"
t_check "  names the device ($(cat "$E"))" grep -q "m2: TC egress attach failed" "$E"
t_eq "  nothing half-attached: no TC filter of ours on m1" "" "$(tc -n "$M" filter show dev m1 egress)"
t_eq "  and no XDP program on m1" 0 "$(ip -n "$M" -o link show m1 | grep -c xdp)"
t_eq "  the foreign filter on m2 is left alone" 1 "$(tc -n "$M" filter show dev m2 egress | grep -c drop_all)"
t_eq "  no clsact qdisc left on m1 (stasis made it)" 0 "$(clsacts m1)"
t_run "$O" "$E" net "$M" status
t_eq "  and no state pinned" 1 "$T_RC"
tc -n "$M" qdisc del dev m2 clsact

t_require "attach m1 m2" quiet net "$M" attach m1 m2
t_defer "ip netns exec $M $STASIS net detach --force"
t_run "$O" "$E" net "$M" attach m2
t_eq "attach twice: exit 1" 1 "$T_RC"
t_check "  says it is already attached" grep -q "'m2' is already attached" "$E"
t_check "  one line" one_line
t_eq "  the first attach is intact" "m1 m2" "$(net "$M" -j status | jq -r '[.devices[].name] | sort | join(" ")')"
t_eq "  m2 keeps its TC filter" 1 "$(tc -n "$M" filter show dev m2 egress | grep -c 'stasis_tc_egres')"

t_run "$O" "$E" net "$M" trigger add --offset 0 --hex "$(printf 'ab%.0s' $(seq 65))"
t_eq "trigger of 65 bytes: usage error" 2 "$T_RC"
t_check "  says the limit" grep -q "more than 64 bytes" "$E"
t_run "$O" "$E" net "$M" trigger add --offset 0 --hex 0g12
t_eq "bad hex: usage error" 2 "$T_RC"
t_run "$O" "$E" net "$M" trigger add --offset 0 --hex 0a0b0
t_eq "odd hex digits: usage error" 2 "$T_RC"
t_run "$O" "$E" net "$M" trigger add --offset 0 --hex 0a0b --mask ff
t_eq "mask of another length: usage error" 2 "$T_RC"
t_run "$O" "$E" net "$M" trigger add --offset 70000 --hex 0a
t_eq "offset past 65535: usage error" 2 "$T_RC"
t_run "$O" "$E" net "$M" trigger add --offset 1 --hex 0a --dev nosuchdev
t_eq "trigger on an unknown device: exit 1" 1 "$T_RC"
t_run "$O" "$E" net "$M" trigger add --offset 1 --hex 0a --dev br0
t_eq "trigger on a device that is not attached: exit 1" 1 "$T_RC"
t_check "  says so" grep -q "'br0' is not attached" "$E"
t_run "$O" "$E" net "$M" trigger del 9
t_eq "delete a trigger that is not there: exit 1" 1 "$T_RC"
t_run "$O" "$E" net "$M" wait-trigger --timeout 1
t_eq "wait-trigger times out: exit 1" 1 "$T_RC"
t_check "  says so" grep -q "no trigger fired within 1 s" "$E"

"$BUILD/tools/spgen" "$W/g.sp" 10 --size 100
cp "$W/g.sp" "$W/bad.sp"
printf '\xff' | dd of="$W/bad.sp" bs=1 seek=700 conv=notrunc 2>/dev/null
t_run "$O" "$E" net "$M" replay "$W/bad.sp"
t_eq "replay of a corrupt .sp: exit 1" 1 "$T_RC"
t_check "  names the file, frame and byte" grep -qE "bad.sp: frame [0-9]+, byte [0-9]+" "$E"
t_eq "  and the host state is untouched" pass "$(net "$M" -j status | jq -r .state)"
t_run "$O" "$E" net "$M" replay "$W/g.sp"
t_eq "replay of a file whose devices are not here: exit 1" 1 "$T_RC"
t_check "  names the device" grep -q "device 'tap-a'" "$E"
t_run "$O" "$E" net "$M" hold --epoch x
t_eq "hold --epoch x: usage error" 2 "$T_RC"
t_run "$O" "$E" net "$M" drain
t_eq "drain without -o: usage error" 2 "$T_RC"

t_require "hold" quiet net "$M" hold
t_run "$O" "$E" net "$M" detach
t_eq "detach while holding: exit 1" 1 "$T_RC"
t_check "  says why" grep -qE "not in pass: release it first|bytes of held frames are in the ring" "$E"
in_ns "$S" ping -c 2 -i 0.2 -W 1 10.7.0.2 > /dev/null 2>&1
t_run "$O" "$E" net "$M" release
t_eq "release with frames still held: exit 1" 1 "$T_RC"
t_check "  says to drain or replay" grep -q "drain or replay" "$E"
t_run "$O" "$E" net "$M" detach m1
t_eq "detach with frames in the ring: exit 1" 1 "$T_RC"
t_check "  says how many bytes would be lost" grep -qE "[1-9][0-9]* bytes of held frames are in the ring" "$E"
t_eq "  both still attached" "m1 m2" "$(net "$M" -j status | jq -r '[.devices[].name] | sort | join(" ")')"
n=$(net "$M" -j status | jq .counters.held)
t_eq "release --force" 0 "$(net "$M" release --force > /dev/null; echo $?)"
net "$M" -j status > "$W/st.json"
t_eq "  the ring is empty after it" 0 "$(jq .ring.used "$W/st.json")"
t_eq "  and what it let go is counted" "$n" "$(jq .counters.discarded "$W/st.json")"

# A drain onto a full disk: a clear error, nothing under the file's name,
# and every frame it took from the ring counted.
mkdir "$W/small"
mount -t tmpfs -o size=256k tmpfs "$W/small" && t_defer "umount $W/small"
t_require "hold again" quiet net "$M" hold
in_ns "$S" "$SG" udp-send 10.7.0.2 5000 1000 --size 1400 --rate 20000 > /dev/null
t_run "$O" "$E" net "$M" drain -o "$W/small/held.sp"
t_eq "drain onto a full disk: exit 1" 1 "$T_RC"
t_check "  says the disk is full and how many frames are lost ($(cat "$E"))" \
	grep -qE "No space left on device \([1-9][0-9]* frames taken from the ring are lost: counted as drop_drain\)" "$E"
t_check "  one line" one_line
t_eq "  no file, not even a temporary" "" "$(ls -A "$W/small")"
t_require "  release --force lets the rest go" quiet net "$M" release --force
net "$M" -j status > "$W/st.json"
t_eq "  every frame held is stored or counted" "$(jq .counters.held "$W/st.json")" \
	"$(jq '.counters | .drop_drain + .discarded' "$W/st.json")"

# While frames are held the devices stay as they are; a device detached
# with --force let its held frames go: replay does not send them, it
# counts them.
t_require "hold, a third time" quiet net "$M" hold
t_run "$O" "$E" net "$M" attach br0
t_eq "attach while holding: exit 1" 1 "$T_RC"
t_check "  says why" grep -q "the host is not in pass" "$E"
t_require "drain (nothing held yet)" quiet net "$M" drain -o "$W/none.sp"
net "$M" -j status > "$W/st0.json"
in_ns "$S" "$SG" udp-send 10.7.0.2 5000 20 --rate 1000 > /dev/null
in_ns "$R" "$SG" udp-recv 5000 --count 20 --timeout-ms 4000 > "$W/recv" &
rp=$!
wait_line "$W/recv" ready 5
t_require "detach --force m2, its frames in the ring" quiet net "$M" detach --force m2
t_require "replay" into "$W/replay.json" net "$M" -j replay "$W/none.sp"
wait $rp
net "$M" -j status > "$W/st1.json"
t_eq "  R got none of them" 0 "$(kv unique "$(grep done "$W/recv")")"
t_eq "  each one counted as discarded" "$(jq '.counters.held' "$W/st1.json")" \
	"$(jq -s '.[0].counters.held + (.[1].counters.discarded - .[0].counters.discarded)' "$W/st0.json" "$W/st1.json")"
t_check "  and there were some" test "$(jq .counters.held "$W/st1.json")" -gt "$(jq .counters.held "$W/st0.json")"
t_eq "  the host is back in pass" pass "$(jq -r .state "$W/st1.json")"
t_require "attach m2 again" quiet net "$M" attach m2

t_eq "detach m1 only" 0 "$(net "$M" detach m1 > /dev/null; echo $?)"
t_eq "  m2 is still attached" m2 "$(net "$M" -j status | jq -r '[.devices[].name] | join(" ")')"
t_run "$O" "$E" net "$M" detach m1
t_eq "detach of a device not attached: exit 1" 1 "$T_RC"
t_eq "detach the rest" 0 "$(net "$M" detach > /dev/null; echo $?)"
t_eq "  no TC filter left on m2" "" "$(tc -n "$M" filter show dev m2 egress)"
t_eq "  no XDP left on m2" 0 "$(ip -n "$M" -o link show m2 | grep -c xdp)"
t_eq "  nor the clsact qdiscs stasis made (m1 m2)" "0 0" "$(clsacts m1) $(clsacts m2)"

# Detach leaves each device's qdiscs as it found them: a clsact the user
# made stays, and so does one stasis made that a user's filter joined.
tc -n "$M" qdisc add dev m1 clsact
t_require "attach m1 m2 (m1 with a clsact of its own)" quiet net "$M" attach m1 m2
tc -n "$M" filter add dev m2 ingress pref 7 bpf da obj "$W/drop.o" sec tc
t_eq "detach" 0 "$(net "$M" detach > /dev/null; echo $?)"
t_eq "  m1 keeps the user's clsact" 1 "$(clsacts m1)"
t_eq "  m2 keeps the clsact a user's filter joined" 1 "$(clsacts m2)"
t_eq "  and that filter" 1 "$(tc -n "$M" filter show dev m2 ingress | grep -c drop_all)"
t_eq "  no filter of stasis's on either" "" "$(tc -n "$M" filter show dev m1 egress; tc -n "$M" filter show dev m2 egress)"
tc -n "$M" qdisc del dev m1 clsact
tc -n "$M" qdisc del dev m2 clsact
t_done
