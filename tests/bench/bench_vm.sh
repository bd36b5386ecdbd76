#!/bin/bash
# VM control benchmarks (issue 5), written to docs/BENCHMARKS.md between the
# bench:vm markers:
#  - stop latency of 1, 2, 4, 8 VMs: all at once (vm stop, as built) and one
#    after another (vm stop --sequential, a plain loop of QMP calls); the time
#    from the first write to the last acknowledgement, median of ROUNDS;
#  - save and restore seconds per VM for 128 and 512 MiB guests (median of 3);
#  - live-snapshot downtime (median of 5).
# Needs root, QEMU and the guest image (make guest). ROUNDS (default 30).
set -u
. "$(dirname "$0")/lib.sh"	# median
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
STASIS=$BUILD/stasis
K=$BUILD/guest/vmlinuz I=$BUILD/guest/initrd.img
ROUNDS=${ROUNDS:-30}
OUT=$ROOT/docs/BENCHMARKS.md
[ "$(id -u)" = 0 ] || { echo "bench_vm: needs root" >&2; exit 1; }
[ -r "$K" ] && [ -r "$I" ] || { echo "bench_vm: guest image missing: make guest" >&2; exit 1; }
W=$(mktemp -d /tmp/stasis-bench-vm.XXXXXX)
export STASIS_VM_ROOT=$W/vms
cleanup() { "$STASIS" vm quit --all > /dev/null 2>&1; rm -rf "$W"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

start() {	# NAME MEM
	"$STASIS" vm start "$1" --mem "$2" --kernel "$K" --initrd "$I" \
		--append "console=ttyS0 loglevel=3 panic=-1 stasis.name=$1" --run "$W/run.sh" \
		> /dev/null || exit 1
}
booted() {	# NAME...
	for g in "$@"; do
		for _ in $(seq 1 1200); do
			grep -q 'console ready' "$STASIS_VM_ROOT/$g/console.log" 2>/dev/null && break
			sleep 0.1
		done
	done
}

echo "ticker --interval-ms 100" > "$W/run.sh"
ALL="v1 v2 v3 v4 v5 v6 v7 v8"
for g in $ALL; do start "$g" 128; done
booted $ALL
echo "bench_vm: 8 guests up; stop latency, $ROUNDS rounds" >&2
STOPROWS=""
for n in 1 2 4 8; do
	set -- $ALL
	names=$(echo "$@" | cut -d' ' -f1-$n)
	par="" seq=""
	for _ in $(seq 1 "$ROUNDS"); do
		par="$par $("$STASIS" -j vm stop $names | jq .last_ack_us)"
		"$STASIS" vm cont $names > /dev/null
		seq="$seq $("$STASIS" -j vm stop --sequential $names | jq .last_ack_us)"
		"$STASIS" vm cont $names > /dev/null
	done
	p=$(printf '%s\n' $par | median) s=$(printf '%s\n' $seq | median)
	STOPROWS="$STOPROWS| $n | $(printf '%.0f' "$p") | $(printf '%.0f' "$s") | $(awk -v a="$s" -v b="$p" 'BEGIN { printf "%.2f", a / b }') |
"
done
"$STASIS" vm quit --all > /dev/null

SAVEROWS="" SZ512=?
for mem in 128 512; do
	echo "bench_vm: save/restore of a $mem MiB guest" >&2
	start m "$mem"
	booted m
	sleep 1
	sv="" rs="" sz=""
	for r in 1 2 3; do
		j=$("$STASIS" -j vm save "$W/snap-$mem-$r" m --cont)
		sv="$sv $(echo "$j" | jq '.vms[0].save_s')"
		sz=$(echo "$j" | jq '.vms[0].state_bytes')
		[ "$mem" = 512 ] && SZ512=$(awk -v b="$sz" 'BEGIN { printf "%.0f", b / 1e6 }')
		rs="$rs $("$STASIS" -j vm restore "$W/snap-$mem-$r" | jq '.restored[0].load_ms / 1000')"
	done
	SAVEROWS="$SAVEROWS| $mem MiB | $(printf '%.3f' "$(printf '%s\n' $sv | median)") | $(printf '%.3f' "$(printf '%s\n' $rs | median)") | $(awk -v b="$sz" 'BEGIN { printf "%.1f", b / 1e6 }') |
"
	"$STASIS" vm quit m > /dev/null
	rm -rf "$W"/snap-*
done

echo "bench_vm: live snapshots" >&2
start l 128
booted l
sleep 1
dt="" pz=""
for r in 1 2 3 4 5; do
	j=$("$STASIS" -j vm snapshot --live "$W/live-$r" l)
	dt="$dt $(echo "$j" | jq '.vms[0].downtime_ms')"
	pz="$pz $(echo "$j" | jq '.vms[0].paused_ms')"
	rm -rf "$W/live-$r"
done
LIVE="| 128 MiB, no disk | $(printf '%s\n' $dt | median) | $(printf '%.1f' "$(printf '%s\n' $pz | median)") |"

SECTION=$(cat <<EOT
<!-- bench:vm -->
## VM control (issue 5)

\`make bench\` → \`tests/bench/bench_vm.sh\` (ROUNDS=$ROUNDS; TCG guests of the test image,
\`-accel ${STASIS_ACCEL:-tcg}\`, idle but for a 100 ms ticker; $(nproc) cores,
$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r),
QEMU $(qemu-system-x86_64 --version | head -1 | awk '{ print $4 }'), $(date -u +%Y-%m-%d)).

Stop latency: first \`stop\` written → last acknowledgement read, median, µs.
"at once" is \`stasis vm stop\` (connections opened ahead, N writes of a
pre-encoded \`stop\`, replies collected with one poll); "one after another" is
\`stasis vm stop --sequential\` (write, wait for the reply, next VM). Writing
the N stops themselves takes microseconds (\`sent_us\` of \`vm stop -j\`); the
rest is each QEMU leaving its vCPU loop and answering, and those QEMUs share
the cores with each other.

| VMs | at once (µs) | one after another (µs) | ratio |
| --- | --- | --- | --- |
$STOPROWS
Save (\`vm save --cont\`: stop, disk-less, migrate to a file at unlimited
bandwidth, fsync, marked complete) and restore (\`vm restore\`: exec QEMU →
running), seconds per VM, median of 3. The guests are idle (booted, a 100 ms
ticker and nothing else), and a state file holds only the RAM a guest has
touched: the 512 MiB guest's is ~$SZ512 MB, hardly more than the 128 MiB one's,
so its times say little about a busy 512 MiB guest, whose state would grow
toward its RAM size.

| guest | save (s) | restore (s) | state file (MB) |
| --- | --- | --- | --- |
$SAVEROWS
Live snapshot (\`vm snapshot --live\`, background-snapshot), median of 5, of an
idle 128 MiB guest without a disk (a VM with a disk is also paused for its
overlay switch, so that memory and disk are of one moment; not measured here):

| guest | QEMU downtime (ms) | paused STOP→RESUME (ms) |
| --- | --- | --- |
$LIVE
<!-- /bench:vm -->
EOT
)
touch "$OUT"
if grep -q '<!-- bench:vm -->' "$OUT"; then
	awk -v sec="$SECTION" '
		/<!-- bench:vm -->/ { print sec; skip = 1; next }
		/<!-- \/bench:vm -->/ { skip = 0; next }
		!skip { print }' "$OUT" > "$OUT.tmp" && mv "$OUT.tmp" "$OUT"
else
	printf '%s\n' "$SECTION" >> "$OUT"
fi
printf '%s\n' "$SECTION"
