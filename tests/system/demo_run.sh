#!/bin/bash
# make demo, as a user runs it: it must end well, say what it showed, and
# leave nothing behind (no namespace, no QEMU).
. "$(dirname "$0")/../lib/common.sh"
t_need_root
W=$T_WORK
BUILD=$BUILD bash "$ROOT/tests/demo.sh" > "$W/out" 2> "$W/err" &
dp=$!
t_defer "kill $dp"
wait $dp
rc=$?
sed 's/^/# /' "$W/out"
[ -s "$W/err" ] && sed 's/^/# stderr: /' "$W/err"
t_eq "the demo exits 0" 0 $rc
t_check "it showed the trigger frame held first for b" grep -qE "^  [0-9]+ .*tapb out .*> 10.0.0.2:5000" "$W/out"
t_check "b received every datagram, none twice, none out of order" \
	grep -q "^demo: b received 4000 of 4000: gaps=0 duplicates=0 reordered=0" "$W/out"
t_check "it says nothing was lost" grep -q "^demo: nothing lost, nothing out of order" "$W/out"
t_check "and that it cleaned up" grep -q "^demo: cleaned up" "$W/out"
t_eq "its namespace is gone" "" "$(ip netns list | grep "^st$dp-")"
t_eq "no QEMU of it is left" "" "$(pgrep -f "stasis-demo\." || true)"
t_done
