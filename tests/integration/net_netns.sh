#!/bin/bash
# Each network namespace has its own state, found again by every later
# `ip netns exec` invocation and by no other namespace: two namespaces
# attached at once keep their states and counters apart. Pins are named by
# the namespace's inode and cookie; folders a dead namespace left under
# the same inode number (another cookie) are nobody's and are removed at
# attach; others, and a cookie-less one of an earlier build, are left alone.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/net.sh"
. "$(dirname "$0")/../lib/hold.sh"
t_need_root
W=$T_WORK

t_require "three namespaces joined by a bridge" hold_topology
ino=$(stat -L -c %i "/run/netns/$M")
B=${STASIS_BPFFS:-/sys/fs/bpf}/stasis
# What a dead namespace with M's inode number would have left.
mkdir -p "$B"
for d in "net-$ino-1" "net-$ino" "net-${ino}9-1"; do
	mkdir "$B/$d"
	t_defer "rmdir $B/$d 2> /dev/null"
done
t_require "attach m2 in M" quiet net "$M" attach m2
t_defer "ip netns exec $M $STASIS net detach --force"
t_require "attach s1 in S (as an uplink)" quiet net "$S" attach --uplink s1
t_defer "ip netns exec $S $STASIS net detach --force"
t_eq "M's pins are under its inode and cookie" 1 "$(ls -d "$B/net-$ino-"* | wc -l)"
t_check "a dead namespace's folder with M's inode is gone" test ! -e "$B/net-$ino-1"
t_check "one without a cookie is left alone" test -d "$B/net-$ino"
t_check "a folder of another inode is left alone" test -d "$B/net-${ino}9-1"

t_require "hold in M" quiet net "$M" hold --epoch 9
t_eq "M holds, epoch 9" "hold 9" "$(net "$M" -j status | jq -r '"\(.state) \(.epoch)"')"
t_eq "S is still in pass, epoch 0" "pass 0" "$(net "$S" -j status | jq -r '"\(.state) \(.epoch)"')"
in_ns "$S" "$SG" udp-send 10.7.0.2 5000 50 --rate 1000 > /dev/null
net "$M" -j status > "$W/m.json"
net "$S" -j status > "$W/s.json"
t_check "M held the datagrams" test "$(jq .counters.held "$W/m.json")" -ge 50
t_eq "S held nothing" 0 "$(jq .counters.held "$W/s.json")"
t_check "S saw them leave s1" test "$(jq .counters.seen_egress "$W/s.json")" -ge 50
t_eq "each lists only its own device" "m2 s1" "$(jq -r '.devices[].name' "$W/m.json") $(jq -r '.devices[].name' "$W/s.json")"
t_run "$W/o" "$W/e" net "$R" status
t_eq "R, never attached, sees nothing" 1 "$T_RC"
t_require "release --force in M" quiet net "$M" release --force
t_require "detach in S" quiet net "$S" detach
t_eq "M is still attached after S detached" pass "$(net "$M" -j status | jq -r .state)"
t_done
