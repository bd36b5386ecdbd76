# fuzz_run NAME WHAT CORPUS [LIBFUZZER ARGS...]: run libFuzzer target
# $BUILD/fuzz/fuzz_NAME on the seed corpus for FUZZ_SECONDS (default 60) and
# report one result line.
fuzz_run() {
	local f=$BUILD/fuzz/fuzz_$1 what=$2 corpus=$3 rc
	shift 3
	[ -x "$f" ] || { t_fail "fuzz target $f not built (make fuzz)"; return 1; }
	"$f" -max_total_time="${FUZZ_SECONDS:-60}" -max_len=4096 -rss_limit_mb=1024 -artifact_prefix="$T_WORK/" \
		-print_final_stats=1 "$@" "$corpus" > "$T_WORK/fuzz.log" 2>&1
	rc=$?
	grep -E 'stat::number_of_executed_units|SUMMARY|ERROR' "$T_WORK/fuzz.log" | sed 's/^/# /'
	t_eq "fuzzing $what found nothing" 0 "$rc"
	[ $rc = 0 ] || tail -30 "$T_WORK/fuzz.log" | sed 's/^/# /'
}
