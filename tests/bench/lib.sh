# Helpers for benchmarks: timing and writing a section of docs/BENCHMARKS.md.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
STASIS=$BUILD/stasis
DOC=$ROOT/docs/BENCHMARKS.md

now_ns() { date +%s%N; }

# median: the median of the numbers on stdin, one a line (nothing for none).
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

# time_median RUNS CMD...: median wall seconds of RUNS runs of CMD. Each
# run starts with nothing dirty in the page cache (sync, not timed): an
# fsync of the run's own output would otherwise also wait for what earlier
# steps left to write back (ext4 commits it in the same journal transaction).
time_median() {
	local runs=$1 i t0 t1
	shift
	for i in $(seq "$runs"); do
		sync
		t0=$(now_ns)
		"$@" > /dev/null 2>&1 || { echo "bench: failed: $*" >&2; return 1; }
		t1=$(now_ns)
		echo $(( t1 - t0 ))
	done | sort -n | awk '{ a[NR] = $1 } END { printf "%.3f\n", a[int((NR + 1) / 2)] / 1e9 }'
}

# bench_section NAME FILE: replace the section NAME of docs/BENCHMARKS.md by
# FILE's contents (appended when the section is new).
bench_section() {
	local name=$1 body=$2 tmp
	[ -f "$DOC" ] || printf '# Benchmarks\n\nProduced by `make bench` (tests/bench/); each section says the command and the machine it ran on.\n' > "$DOC"
	tmp=$(mktemp)
	awk -v name="$name" -v body="$body" '
		$0 == "<!-- bench:" name " -->" { skip = 1; while ((getline l < body) > 0) print l; next }
		$0 == "<!-- /bench:" name " -->" { skip = 0; next }
		!skip { print }' "$DOC" > "$tmp"
	grep -q "<!-- bench:$name -->" "$DOC" || cat "$body" >> "$tmp"
	mv "$tmp" "$DOC"
}

machine() { echo "$(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB, kernel $(uname -r), $(date -u +%Y-%m-%d)"; }
