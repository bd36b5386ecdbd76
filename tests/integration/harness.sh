#!/bin/bash
# The test harness itself: namespaces, veth, bridges and taps are made and
# carry traffic, and every one is removed when a test ends, also when it fails
# or is killed.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/net.sh"
t_need_root

ns_create A && ns_create B
t_require "two namespaces" test $? = 0
veth_create va "$A" vb "$B" && addr_add "$A" va 10.9.0.1/24 && addr_add "$B" vb 10.9.0.2/24
t_require "veth pair between them, addressed" test $? = 0
t_check "ping across the veth" in_ns "$A" ping -q -c 1 -W 2 10.9.0.2 >/dev/null

# The workload tools on the host: numbered UDP across the veth.
in_ns "$B" "$SG" udp-recv 7000 --count 5000 --timeout-ms 20000 > "$T_WORK/recv" &
rp=$!
wait_line "$T_WORK/recv" ready 5
in_ns "$A" "$SG" udp-send 10.9.0.2 7000 5000 --rate 50000 > "$T_WORK/send"
wait $rp
r=$(grep done "$T_WORK/recv")
echo "# $r"
t_eq "5000 datagrams across the veth" 5000 "$(kv unique "$r")"
t_eq "no gaps" 0 "$(kv gaps "$r")"
in_ns "$B" "$SG" udp-recv 7001 --count 10 --idle-ms 300 > "$T_WORK/recv2" &
rp=$!
wait_line "$T_WORK/recv2" ready 5
in_ns "$B" "$SG" udp-send 127.0.0.1 7001 5 --start 2 > /dev/null
wait $rp
t_eq "receiver tells the gap when some are missing" 5 "$(kv gaps "$(grep done "$T_WORK/recv2")")"

# TCP stream with its checker.
in_ns "$B" "$SG" tcp-sink 7002 > "$T_WORK/sink" &
sp=$!
wait_line "$T_WORK/sink" ready 5
in_ns "$A" "$SG" tcp-send 10.9.0.2 7002 20000000 > /dev/null
wait $sp
t_eq "20 MB over TCP, every byte checked" "bytes=20000000 errors=0" \
	"$(grep -o 'bytes=[0-9]* errors=[0-9]*' "$T_WORK/sink")"

bridge_create "$A" br0 && tap_create "$A" tap0 br0
t_check "bridge with a tap on it" test "$(ip -n "$A" -o link show master br0 | grep -c tap0)" = 1

# Cleanup on interruption: a child test makes a namespace, then is killed.
child=$T_WORK/child.sh
cat > "$child" <<CHILD
. "$ROOT/tests/lib/common.sh"
. "$ROOT/tests/lib/net.sh"
ns_create X
ip -n "\$X" tuntap add dev tapx mode tap
echo "\$X" > "$T_WORK/child.ns"
sleep 60
CHILD
BUILD=$BUILD bash "$child" > /dev/null 2>&1 &
cp=$!
wait_line "$T_WORK/child.ns" st 10
xns=$(cat "$T_WORK/child.ns")
t_check "the child made its namespace" ip netns pids "$xns"
kill -TERM $cp
wait $cp 2>/dev/null
t_check "killed child: its namespace is gone" sh -c "! ip netns list | grep -qw '$xns'"

# The runner stopped (Ctrl-C, or a signal): it passes the signal to the test
# that runs, whose cleanups then run, and says where it stopped. (A
# background job ignores SIGINT, so TERM stands in for it here; the runner
# handles both alike.)
rm -f "$T_WORK/child.ns"
BUILD=$BUILD T_TIMEOUT=120 bash "$ROOT/tests/run.sh" "$child" > "$T_WORK/runner.out" 2>&1 &
rp=$!
wait_line "$T_WORK/child.ns" st 10
xns=$(cat "$T_WORK/child.ns")
kill -TERM $rp
wait $rp
t_eq "the stopped runner exits 143" 143 $?
t_check "its test's namespace is gone" sh -c "! ip netns list | grep -qw '$xns'"
t_check "it says it was interrupted" grep -q "^interrupted by SIGTERM" "$T_WORK/runner.out"
t_eq "and its last line is the count" "0 passed, 0 failed, 0 skipped" "$(tail -1 "$T_WORK/runner.out")"
t_done
