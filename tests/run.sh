#!/bin/bash
# The test runner behind `make test`.
#   tests/run.sh [unit|fuzz|integration|system|FILE.sh]...   (default: the four kinds)
# Unit tests: the C test binaries in $BUILD/tests and tests/unit/*.sh (no
# root). Fuzz: tests/fuzz/*.sh run each libFuzzer target for a bounded time.
# Integration tests: tests/integration/*.sh (root; namespaces, veth,
# taps, BPF). System tests: tests/system/*.sh (QEMU guests). With SANBUILD
# set, the unit tests run again on the ASan/UBSan build.
#
# Every test prints "ok - ...", "not ok - ..." or "skip - ..." lines; they
# are counted, and the last line printed is "N passed, N failed, N skipped".
# A test that exits non-zero without a "not ok" line counts one failure;
# one that prints no result at all fails. Under CI=true a skip is a failure.
# Each test has T_TIMEOUT seconds (900), or what a "# T_TIMEOUT=N" line in
# its first five lines asks for.
# Interrupted (Ctrl-C, SIGTERM, SIGHUP), it passes the signal to the test
# that runs, so that its cleanups run, and stops.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
SANBUILD=${SANBUILD:-}
KINDS=${*:-unit fuzz integration system}
LOGS=$BUILD/test-logs
TIMEOUT=${T_TIMEOUT:-900}
mkdir -p "$LOGS"
PASS=0 FAIL=0 SKIP=0 CHILD=

# Each test runs under timeout(1), which puts it in a process group of its
# own: a Ctrl-C at the terminal reaches this script only, so it is passed on.
on_signal() {	# SIGNAL STATUS
	trap - INT TERM HUP
	if [ -n "$CHILD" ]; then
		kill -"$1" "$CHILD" 2> /dev/null
		wait "$CHILD" 2> /dev/null
	fi
	echo "interrupted by SIG$1: the tests after it were not run"
	echo "$PASS passed, $FAIL failed, $SKIP skipped"
	exit "$2"
}
trap 'on_signal INT 130' INT
trap 'on_signal TERM 143' TERM
trap 'on_signal HUP 129' HUP

run_one() {	# LABEL BUILD CMD...
	local label=$1 build=$2 log rc ok nok sk limit=$TIMEOUT
	shift 2
	log=$LOGS/$(echo "$label" | tr '/' '_').log
	# A test that needs longer says so in a "# T_TIMEOUT=N" line near its
	# top (the kernel matrix runs a whole suite in a TCG guest).
	case "${*: -1}" in
	*.sh) limit=$(sed -n '1,5s/^# T_TIMEOUT=\([0-9][0-9]*\).*/\1/p' "${*: -1}" | head -1)
	      limit=${limit:-$TIMEOUT} ;;
	esac
	BUILD=$build STASIS=$ROOT/$build/stasis timeout -k 10 "$limit" "$@" < /dev/null > "$log" 2>&1 &
	CHILD=$!
	wait $CHILD
	rc=$?
	CHILD=
	ok=$(grep -c '^ok ' "$log")
	nok=$(grep -c '^not ok ' "$log")
	sk=$(grep -c '^skip ' "$log")
	if [ $rc = 77 ] || { [ $sk -gt 0 ] && [ $ok = 0 ] && [ $nok = 0 ]; }; then
		[ $sk -gt 0 ] || sk=1
		if [ "${CI:-}" = true ]; then
			echo "FAIL $label: skipped, and nothing may be skipped in CI"
			grep '^skip ' "$log" | sed 's/^/    /'
			FAIL=$((FAIL + sk))
		else
			echo "SKIP $label: $(grep -m1 '^skip ' "$log" | cut -c8-)"
			SKIP=$((SKIP + sk))
		fi
		return
	fi
	# Skips beside results: counted too (failures under CI).
	if [ $sk -gt 0 ]; then
		if [ "${CI:-}" = true ]; then
			echo "not ok - $label skipped $sk, and nothing may be skipped in CI" >> "$log"
			nok=$((nok + sk))
		else
			SKIP=$((SKIP + sk))
		fi
	fi
	if [ $rc != 0 ] && [ $nok = 0 ]; then
		nok=1
		echo "not ok - $label exited with status $rc$([ $rc = 124 ] && echo ' (timeout)')" >> "$log"
	fi
	if [ $ok = 0 ] && [ $nok = 0 ]; then
		nok=1
		echo "not ok - $label reported no result" >> "$log"
	fi
	PASS=$((PASS + ok))
	FAIL=$((FAIL + nok))
	if [ $nok = 0 ]; then
		echo "PASS $label ($ok)"
	else
		echo "FAIL $label ($ok passed, $nok failed); log: $log"
		grep -E '^(not ok|# )' "$log" | head -40 | sed 's/^/    /'
	fi
}

unit_in() {	# BUILD SUFFIX
	local b=$1 sfx=$2 t
	for t in "$b"/tests/test_*; do
		[ -x "$t" ] || continue
		run_one "unit$sfx/$(basename "$t")" "$b" "$t"
	done
	for t in tests/unit/*.sh; do
		run_one "unit$sfx/$(basename "$t" .sh)" "$b" bash "$t"
	done
}

for kind in $KINDS; do
	case $kind in
	unit)
		unit_in "$BUILD" ""
		if [ -n "$SANBUILD" ]; then
			# halt_on_error: a sanitizer report fails the test.
			ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
			UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
				unit_in "$SANBUILD" "-san"
		fi
		;;
	fuzz|integration|system)
		for t in tests/$kind/*.sh; do
			[ -e "$t" ] || continue
			run_one "$kind/$(basename "$t" .sh)" "$BUILD" bash "$t"
		done
		;;
	*.sh)
		[ -f "$kind" ] || { echo "tests/run.sh: no test '$kind'" >&2; exit 2; }
		run_one "$(basename "$(dirname "$kind")")/$(basename "$kind" .sh)" "$BUILD" bash "$kind"
		;;
	*)
		echo "tests/run.sh: unknown kind '$kind' (unit, fuzz, integration, system, or FILE.sh)" >&2
		exit 2
		;;
	esac
done
echo "$PASS passed, $FAIL failed, $SKIP skipped"
[ $FAIL = 0 ]
