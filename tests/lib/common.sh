# Sourced by every shell test. Results are TAP-like lines that tests/run.sh
# counts: "ok - NAME", "not ok - NAME", "skip - NAME". Cleanups registered with
# t_defer run in reverse order when the test exits, fails or is interrupted.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
STASIS=${STASIS:-$BUILD/stasis}
SG=${SG:-$BUILD/tools/sg}
T_NAME=$(basename "$0" .sh)
T_WORK=$(mktemp -d "/tmp/stasis-$T_NAME.XXXXXX")
T_ID=$$
T_FAILED=0
T_CLEANUP=$T_WORK/.cleanup
: > "$T_CLEANUP"

# t_defer CMD...: run CMD at exit (last registered runs first).
t_defer() {
	printf '%s\n' "$*" | cat - "$T_CLEANUP" > "$T_CLEANUP.new"
	mv "$T_CLEANUP.new" "$T_CLEANUP"
}

t_cleanup() {
	trap - EXIT INT TERM HUP
	if [ -f "$T_CLEANUP" ]; then
		while IFS= read -r c; do
			eval "$c" >/dev/null 2>&1 || true
		done < "$T_CLEANUP"
	fi
	if [ "${T_KEEP:-0}" = 1 ] || [ "$T_FAILED" != 0 ]; then
		echo "# work files kept in $T_WORK"
	else
		rm -rf "$T_WORK"
	fi
}
trap 't_cleanup' EXIT
trap 't_cleanup; exit 130' INT
trap 't_cleanup; exit 143' TERM HUP

t_ok()   { echo "ok - $*"; }
t_fail() { echo "not ok - $*"; T_FAILED=$((T_FAILED + 1)); }
# t_check DESC CMD...: ok when CMD succeeds.
t_check() {
	_td=$1; shift
	if "$@"; then t_ok "$_td"; else t_fail "$_td"; fi
}
# t_require DESC CMD...: like t_check, but the test ends at a failure (later
# steps would only wait for what cannot come).
t_require() {
	_td=$1; shift
	if "$@"; then t_ok "$_td"; else t_fail "$_td"; t_done; fi
}
# quiet CMD...: CMD with its stdout discarded (for t_check and t_require,
# whose own result lines must not be redirected with it).
quiet() { "$@" > /dev/null; }
# into FILE CMD...: CMD with its stdout in FILE (same reason).
into() { _f=$1; shift; "$@" > "$_f"; }
# t_eq DESC EXPECTED ACTUAL
t_eq() {
	if [ "$2" = "$3" ]; then t_ok "$1"; else t_fail "$1 (expected '$2', got '$3')"; fi
}
# t_skip REASON: the whole test is skipped (tests/run.sh fails it under CI).
t_skip() { echo "skip - $T_NAME: $*"; exit 77; }
t_need_root() { [ "$(id -u)" = 0 ] || t_skip "needs root"; }
t_done() { exit $((T_FAILED > 0)); }

# t_run OUT ERR CMD...: run CMD, stdout to OUT, stderr to ERR; sets T_RC.
t_run() {
	_to=$1 _te=$2; shift 2
	"$@" > "$_to" 2> "$_te"
	T_RC=$?
}

# wait_line FILE REGEX TIMEOUT_S: wait until a line of FILE matches (grep -E).
wait_line() {
	_end=$(( $(date +%s) + $3 ))
	while [ "$(date +%s)" -le "$_end" ]; do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "# timeout after $3 s waiting for /$2/ in $1" >&2
	return 1
}

# wait_until TIMEOUT_S CMD...: run CMD every 50 ms until it succeeds, for at
# most TIMEOUT_S seconds. A test waits for the condition it needs, never for
# a fixed time: on a slow machine it only waits longer, on a fast one it
# does not wait at all.
wait_until() {
	_wt=$1; shift
	_end=$(( $(date +%s) + _wt ))
	until "$@" > /dev/null 2> "$T_WORK/.wait_until.err"; do
		if [ "$(date +%s)" -gt "$_end" ]; then
			echo "# timeout after $_wt s waiting for: $*$(tail -1 "$T_WORK/.wait_until.err" | sed 's/^./ (&/; s/.$/&)/')" >&2
			return 1
		fi
		sleep 0.05
	done
}

# at_least N CMD...: CMD prints a number, and it is N or more (for wait_until).
at_least() {
	_al=$1; shift
	_av=$("$@") || return 1
	[ -n "$_av" ] && [ "$_av" -ge "$_al" ] 2> /dev/null
}

# tcp_listening HOST PORT: something accepts TCP connections there.
tcp_listening() { bash -c "exec 3<>/dev/tcp/$1/$2" 2> /dev/null; }

# observe S: a window of S seconds in which the test checks that something
# does NOT happen (no tick while a VM is stopped). Nothing is awaited: a
# slow machine cannot make such a check fail, only see less.
observe() { sleep "$1"; }

# kv FIELD LINE: the value of FIELD=VALUE in a report line.
kv() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -1; }
