#!/bin/bash
# make bench: runs every tests/bench/bench_*.sh; each appends its section to
# docs/BENCHMARKS.md (with the command that produced it) and prints it.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
n=0 failed=0
for b in tests/bench/bench_*.sh; do
	[ -e "$b" ] || continue
	n=$((n + 1))
	echo "== $b"
	BUILD=${BUILD:-build} bash "$b" || { echo "bench: $b failed" >&2; failed=$((failed + 1)); }
done
if [ $n = 0 ]; then
	echo "bench: no benchmarks yet (they come with the hold, VM control, .sp and coordinator work)"
fi
[ $failed = 0 ]
