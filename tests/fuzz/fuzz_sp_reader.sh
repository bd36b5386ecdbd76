#!/bin/bash
# Runs the .sp reader fuzz target for a bounded time (FUZZ_SECONDS, default
# 60) from a seed corpus of valid, truncated and edited files.
. "$(dirname "$0")/../lib/common.sh"
F=$BUILD/fuzz/fuzz_sp_reader
[ -x "$F" ] || { t_fail "fuzz target $F not built (make fuzz)"; t_done; }
C=$T_WORK/corpus
mkdir -p "$C"
"$BUILD/tools/spgen" "$C/a.sp" 3 --size 60
"$BUILD/tools/spgen" "$C/b.sp" 2 --size 200
head -c 300 "$C/b.sp" > "$C/trunc.sp"
"$STASIS" sp edit "$C/a.sp" -o "$C/e.sp" --insert 1:0011 --delete 2 > /dev/null
t_check "seed corpus made" test "$(ls "$C" | wc -l)" = 4
"$F" -max_total_time="${FUZZ_SECONDS:-60}" -max_len=4096 -rss_limit_mb=1024 \
	-print_final_stats=1 "$C" > "$T_WORK/fuzz.log" 2>&1
rc=$?
grep -E 'stat::number_of_executed_units|SUMMARY|ERROR' "$T_WORK/fuzz.log" | sed 's/^/# /'
t_eq "fuzzing the .sp reader found nothing" 0 "$rc"
[ $rc = 0 ] || tail -30 "$T_WORK/fuzz.log" | sed 's/^/# /'
t_done
