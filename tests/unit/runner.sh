#!/bin/bash
# The runner's counting: results, skips beside results, a whole-test skip,
# a test that dies without a result; under CI=true every skip is a failure;
# the last line is always the count.
. "$(dirname "$0")/../lib/common.sh"
W=$T_WORK
printf '%s\n' 'echo "ok - a"' 'echo "skip - b"' 'echo "ok - c"' > "$W/mixed.sh"
printf '%s\n' 'echo "skip - all of it"' 'exit 77' > "$W/skipped.sh"
printf '%s\n' 'echo "ok - d"' 'exit 3' > "$W/died.sh"
printf '%s\n' 'echo "not ok - e"' 'exit 1' > "$W/failed.sh"
run() { env -u CI "$@" bash "$ROOT/tests/run.sh" "$W/mixed.sh" "$W/skipped.sh" "$W/died.sh" "$W/failed.sh" 2>&1 | tail -1; }
t_eq "counts outside CI" "3 passed, 2 failed, 2 skipped" "$(run)"
t_eq "under CI=true every skip fails" "3 passed, 4 failed, 0 skipped" "$(run CI=true)"
# A test's own "# T_TIMEOUT=N" line replaces the default limit.
printf '%s\n' '#!/bin/bash' '# T_TIMEOUT=1' 'sleep 5; echo "ok - late"' > "$W/short.sh"
printf '%s\n' '#!/bin/bash' '# T_TIMEOUT=30' 'sleep 2; echo "ok - in time"' > "$W/long.sh"
t_eq "a test's T_TIMEOUT line shortens its limit" "0 passed, 1 failed, 0 skipped" \
	"$(bash "$ROOT/tests/run.sh" "$W/short.sh" 2>&1 | tail -1)"
t_check "  and says it timed out" grep -q "exited with status 124 (timeout)" "$BUILD/test-logs/${W##*/}_short.log"
t_eq "and lengthens it past T_TIMEOUT" "1 passed, 0 failed, 0 skipped" \
	"$(T_TIMEOUT=1 bash "$ROOT/tests/run.sh" "$W/long.sh" 2>&1 | tail -1)"
t_run "$W/o" "$W/e" bash "$ROOT/tests/run.sh" nosuchkind
t_eq "an unknown kind is a usage error" 2 "$T_RC"
t_done
