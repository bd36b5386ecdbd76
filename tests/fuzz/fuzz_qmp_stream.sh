#!/bin/bash
# Runs the QMP conversation fuzz target (a fake QEMU's whole byte stream) for
# a bounded time (FUZZ_SECONDS, default 60) from real conversations.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/fuzz.sh"
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
fuzz_run qmp_stream "the QMP client's conversation" "$C" -timeout=10
t_done
