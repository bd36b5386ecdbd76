#!/bin/bash
# Runs the QMP message parser fuzz target for a bounded time (FUZZ_SECONDS,
# default 60) from a seed corpus of real QEMU messages.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/fuzz.sh"
C=$T_WORK/corpus
mkdir -p "$C"
printf '%s\r\n' '{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "Debian"}, "capabilities": ["oob"]}}' > "$C/greeting"
printf '%s\r\n' '{"return": {"status": "running", "singlestep": false, "running": true}, "id": 3}' > "$C/status"
printf '%s\r\n' '{"id": 9, "error": {"class": "GenericError", "desc": "No space left on device"}}' > "$C/error"
printf '%s\r\n' '{"timestamp": {"seconds": 1795315155, "microseconds": 30871}, "event": "MIGRATION", "data": {"status": "completed"}}' \
	'{"return": {}, "id": 4}' > "$C/event_and_reply"
t_check "seed corpus made" test "$(ls "$C" | wc -l)" = 4
fuzz_run qmp "the QMP message parser" "$C"
t_done
