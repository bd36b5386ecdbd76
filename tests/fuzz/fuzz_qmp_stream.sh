#!/bin/bash
# Runs the QMP conversation fuzz target (a fake QEMU's whole byte stream) for
# a bounded time (FUZZ_SECONDS, default 60) from real conversations.
. "$(dirname "$0")/../lib/common.sh"
F=$BUILD/fuzz/fuzz_qmp_stream
[ -x "$F" ] || { t_fail "fuzz target $F not built (make fuzz)"; t_done; }
C=$T_WORK/corpus
mkdir -p "$C"
G='{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": ""}, "capabilities": ["oob"]}}'
printf '%s\r\n' "$G" '{"return": {}, "id": 1}' '{"return": {"status": "running", "running": true}, "id": 2}' \
	'{"return": {}, "id": 3}' > "$C/normal"
printf '%s\r\n' "$G" '{"return": {}, "id": 1}' \
	'{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "STOP"}' \
	'{"error": {"class": "GenericError", "desc": "no"}, "id": 2}' > "$C/event_error"
printf '%s\r\n' "$G" '{"return": {}, "id": 1}' '{"return": {}, "id": 77}' '{"return": {}}' > "$C/stale_noid"
t_check "seed corpus made" test "$(ls "$C" | wc -l)" = 3
"$F" -max_total_time="${FUZZ_SECONDS:-60}" -max_len=4096 -rss_limit_mb=1024 -timeout=10 \
	-print_final_stats=1 "$C" > "$T_WORK/fuzz.log" 2>&1
rc=$?
grep -E 'stat::number_of_executed_units|SUMMARY|ERROR' "$T_WORK/fuzz.log" | sed 's/^/# /'
t_eq "fuzzing the QMP client's conversation found nothing" 0 "$rc"
[ $rc = 0 ] || tail -30 "$T_WORK/fuzz.log" | sed 's/^/# /'
t_done
