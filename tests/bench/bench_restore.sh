#!/bin/bash
# Restore from a memory image (issue 13), all in one run:
#  - a bare QEMU (TCG, -S, no devices) from exec to its QMP socket answering
#    (tests/tools/qmpopen), 128 MiB and 1 GiB: the floor;
#  - `stasis vm restore` of a guest that filled most of its RAM with a
#    pattern (mem-pattern: 48 of 128 MiB, 800 of 1024 MiB), from the memory
#    image and, for comparison, from a stream (the same guest started with
#    --anon-ram: today's path for adopted VMs): the command's wall time and
#    QEMU's exec → running (load_ms); the guest's next pass checks its
#    memory (not timed);
#  - what the guest perceives: work-timer (a write to each page of 32 MiB,
#    timed with gettimeofday) undisturbed, and its longest iteration in the
#    first 10 after each restore, per prefault mode (the image evicted from
#    the page cache before "cold" rows: dd iflag=nocache, this file only).
# ROUNDS (default 5). Writes the section bench:restore of docs/BENCHMARKS.md.
set -u
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/lib/common.sh"
ROUNDS=${ROUNDS:-5}
K=$BUILD/guest/vmlinuz I=$BUILD/guest/initrd.img
QMPOPEN=$BUILD/tools/qmpopen
W=$T_WORK
export STASIS_VM_ROOT=$W/vms STASIS_MEM_DIR=/dev/shm/stasis-bench.$$
[ "$(id -u)" = 0 ] || { echo "bench_restore: needs root" >&2; exit 1; }
[ -r "$K" ] && [ -r "$I" ] && [ -x "$QMPOPEN" ] || { echo "bench_restore: make all guest first" >&2; exit 1; }
t_defer "rm -rf '$STASIS_MEM_DIR'"
t_defer "'$STASIS' vm quit --all"
die() { echo "bench_restore: $*" >&2; T_FAILED=1; exit 1; }
med1() { median | awk '{ printf "%.1f", $1 }'; }	# one decimal
maxof() { sort -n | tail -1; }
log() { echo "$STASIS_VM_ROOT/$1/console.log"; }
start() {	# NAME MIB RUN [OPTS]
	local n=$1 m=$2
	echo "$3" > "$W/$n.run"
	shift 3
	"$STASIS" vm start "$n" --mem "$m" --kernel "$K" --initrd "$I" --run "$W/$n.run" \
		--append "console=ttyS0 loglevel=3 panic=-1 stasis.name=$n" "$@" > /dev/null ||
		die "vm start $n"
}
passes_after() { tail -n +"$2" "$(log "$1")" | tr -d '\r' | grep -c '^mem pass [0-9]* ok'; }

bare() {	# MIB: median ms from exec to QMP
	for _ in $(seq "$ROUNDS"); do
		"$QMPOPEN" "$W/bare.sock" -- qemu-system-x86_64 -S -nodefaults -no-user-config \
			-display none -accel "${STASIS_ACCEL:-tcg}" -m "$1" \
			-qmp "unix:$W/bare.sock,server=on,wait=off" || die "bare QEMU"
	done | med1
}

# restore_rows NAME MIB FILL LABEL [START OPTS]: a table row of restores.
restore_rows() {
	local n=$1 m=$2 f=$3 label=$4 wall="" load="" L t0 t1 j
	shift 4
	start "$n" "$m" "mem-pattern $f --interval-ms 100" "$@"
	wait_line "$(log "$n")" '^mem pass 2 ok' 300 > /dev/null 2>&1 || die "$n did not fill its memory"
	j=$("$STASIS" -j vm save "$W/snap-$n" "$n" 2> /dev/null) || die "save $n"
	"$STASIS" vm quit "$n" > /dev/null
	for _ in $(seq "$ROUNDS"); do
		L=$(($(wc -l < "$(log "$n")") + 1))
		t0=$(now_ns)
		r=$("$STASIS" -j vm restore "$W/snap-$n") || die "restore $n"
		t1=$(now_ns)
		wall="$wall $(( (t1 - t0) / 1000 ))"
		load="$load $(echo "$r" | jq '.restored[0].load_ms')"
		wait_until 300 at_least 1 passes_after "$n" "$L" || die "$n did not verify after a restore"
		tail -n +"$L" "$(log "$n")" | grep -q BAD && die "$n: memory differs after a restore"
		"$STASIS" vm quit "$n" > /dev/null
	done
	local cmd bare=$BARE128
	[ "$m" -gt 128 ] && bare=$BARE1G
	cmd=$(printf '%s\n' $wall | awk '{ print $1 / 1000 }' | med1)
	ROWS="$ROWS| $m MiB, $f MiB written | $label | $(echo "$j" | jq '.vms[0].state_bytes / 1e6 * 10 | round / 10') | $(echo "$j" | jq '.vms[0].mem_bytes / 1e6 | round') | $cmd | $(printf '%s\n' $load | med1) | $(awk -v a="$cmd" -v b="$bare" 'BEGIN { printf "%.2f", a / b }') |
"
	rm -rf "$W/snap-$n"
}

echo "bench_restore: bare QEMU" >&2
BARE128=$(bare 128) BARE1G=$(bare 1024)
ROWS=""
echo "bench_restore: 128 MiB" >&2
restore_rows s 128 48 "memory image"
restore_rows a 128 48 "stream (--anon-ram)" --anon-ram
echo "bench_restore: 1 GiB" >&2
restore_rows g 1024 800 "memory image"
restore_rows h 1024 800 "stream (--anon-ram)" --anon-ram

# ---- what the guest perceives ------------------------------------------
echo "bench_restore: work-timer" >&2
works() { tail -n +"$2" "$(log "$1")" | tr -d '\r' | sed -n 's/^work [0-9]* \([0-9]*\)$/\1/p'; }
start p 128 "work-timer --mib 32"
wait_until 120 at_least 60 sh -c "tr -d '\r' < '$(log p)' | grep -c '^work '" || die "work-timer"
UNDIST=$(works p 1 | tail -n +11 | head -50 | maxof)
UNDIST_MED=$(works p 1 | tail -n +11 | head -50 | med1)
"$STASIS" vm save "$W/snap-p" p > /dev/null 2>&1 || die "save p"
"$STASIS" vm quit p > /dev/null
# a stream snapshot of the same moment's kind, for the old path
start q 128 "work-timer --mib 32" --anon-ram
wait_until 120 at_least 20 sh -c "tr -d '\r' < '$(log q)' | grep -c '^work '" || die "work-timer q"
"$STASIS" vm save "$W/snap-q" q > /dev/null 2>&1 || die "save q"
"$STASIS" vm quit q > /dev/null
PROWS=""
perceive() {	# LABEL SNAP NAME COLD RESTORE-OPTS...
	local label=$1 snap=$2 n=$3 cold=$4 maxes="" L t0 t1 wall=""
	shift 4
	for _ in $(seq "$ROUNDS"); do
		[ "$cold" = 1 ] && dd if="$snap/$n/mem" iflag=nocache count=0 status=none
		L=$(($(wc -l < "$(log "$n")") + 1))
		t0=$(now_ns)
		"$STASIS" vm restore "$snap" "$@" > /dev/null || die "restore $label"
		t1=$(now_ns)
		wall="$wall $(( (t1 - t0) / 1000 ))"
		wait_until 60 at_least 10 sh -c "tail -n +$L '$(log "$n")' | tr -d '\r' | grep -c '^work '" ||
			die "work-timer after restore ($label)"
		maxes="$maxes $(works "$n" "$L" | head -10 | maxof)"
		"$STASIS" vm quit "$n" > /dev/null
	done
	PROWS="$PROWS| $label | $(printf '%s\n' $wall | awk '{ print $1 / 1000 }' | med1) | $(printf '%s\n' $maxes | awk '{ print $1 / 1000 }' | med1) | $(printf '%s\n' $maxes | maxof | awk '{ print $1 / 1000 }') | $(printf '%s\n' $maxes | med1 | awk -v u="$UNDIST" '{ printf "%.2f", $1 / u }') |
"
}
perceive "image, in the page cache (--prefault none, the default)" "$W/snap-p" p 0
perceive "image, evicted first (--prefault none)" "$W/snap-p" p 1
perceive "image, evicted first (--prefault cache)" "$W/snap-p" p 1 --prefault cache
perceive "image, --prefault all (prealloc: a private copy of every page)" "$W/snap-p" p 0 --prefault all
perceive "stream (--anon-ram, the RAM loaded from the file)" "$W/snap-q" q 0

cat > "$W/section" <<EOT
<!-- bench:restore -->
## Restore from a memory image (issue 13)

\`make bench\` → \`tests/bench/bench_restore.sh\` (ROUNDS=$ROUNDS; TCG guests of the test image;
$(machine); QEMU $(qemu-system-x86_64 --version | head -1 | awk '{ print $4 }')). Medians of $ROUNDS.

The floor, a bare QEMU from exec to its QMP socket answering (\`tests/tools/qmpopen\`,
\`-S -nodefaults\`, TCG): $BARE128 ms with 128 MiB, $BARE1G ms with 1 GiB.

A guest that filled most of its RAM with a pattern (\`mem-pattern\`), saved
stopped (\`vm save\`), quit, then restored \`ROUNDS\` times (\`vm restore\`; its next
pass verified every word each time, not timed). "command" is the wall time of
\`stasis vm restore\` (the process, vm.json, QEMU, state, \`cont\`); "exec → running"
is its \`load_ms\`. A stream restore is what every restore was before
(and still is for adopted VMs and \`--anon-ram\`).

| guest | saved as | stream file (MB) | image data (MB) | command (ms) | exec → running (ms) | command ÷ bare QEMU's QMP |
| --- | --- | --- | --- | --- | --- | --- |
$ROWS
Beyond the bare QEMU's QMP start, an image restore spends its time on
stasis's own process, a QEMU with its devices and RAM backend, the state's
few hundred KB and \`cont\`.

What the guest perceives: \`work-timer --mib 32\` (a write to each page of a
32 MiB buffer, timed with gettimeofday) in a 128 MiB guest; undisturbed, the
longest of 50 iterations took $(awk -v u="$UNDIST" 'BEGIN { print u / 1000 }') ms (median $(awk -v u="$UNDIST_MED" 'BEGIN { print u / 1000 }') ms).
After each restore, the longest of its first 10 iterations (median and worst
over the rounds), and that median ÷ the undisturbed longest:

| restore | command (ms) | longest after restore, median (ms) | worst (ms) | ÷ undisturbed |
| --- | --- | --- | --- | --- |
$PROWS
<!-- /bench:restore -->
EOT
bench_section restore "$W/section"
cat "$W/section"
