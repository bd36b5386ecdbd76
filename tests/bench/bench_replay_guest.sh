#!/bin/bash
# Replay into a TCG guest (issue 17): 10,000 held frames of 64-1500 bytes
# for guest b's tap, put back by `stasis net replay` with no pace (as fast
# as the tap takes them: a send its full queue refuses is sent again), with
# the pace that was the default before (--rate 5000), and by tcpreplay
# --topspeed into the same tap. The guest counts what it received; the
# tap's tx_dropped counts what its queue refused. Median of RUNS runs.
set -u
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/lib/common.sh"
. "$ROOT/tests/lib/net.sh"
. "$ROOT/tests/lib/guest.sh"
. "$ROOT/tests/lib/hold.sh"
RUNS=${REPLAY_GUEST_RUNS:-3}
PER=2500 SIZES="22 400 900 1458"	# UDP payloads: frames of 64, 442, 942, 1500 bytes
N=$((PER * 4))
W=$T_WORK
die() { echo "bench replay-guest: $*" >&2; exit 1; }

ns_create NS || die "namespace"
bridge_create "$NS" br0 && tap_create "$NS" tapb br0 && addr_add "$NS" br0 10.0.0.254/24 ||
	die "bridge and tap"
ip netns exec "$NS" "$STASIS" net attach tapb > /dev/null || die "attach"
t_defer "ip netns exec $NS $STASIS net detach --force"
# b takes one round after another: each ends after N datagrams, or 3 s
# without one (frames lost).
guest_start b "$NS" tapb 10.0.0.2/24 52:54:00:00:00:02 \
	"while :; do udp-recv 5000 --count $N --idle-ms 3000; done" || die "guest"
guest_wait b 'udp-recv: ready' 120 || die "guest b does not boot"
in_ns "$NS" ping -c 1 -W 5 10.0.0.2 > /dev/null || die "b does not answer ping"

# The held frames: the host sends N datagrams to b while the network is held.
ip netns exec "$NS" "$STASIS" net hold > /dev/null || die "hold"
seq0=0
for s in $SIZES; do
	in_ns "$NS" "$SG" udp-send 10.0.0.2 5000 $PER --size "$s" --start $seq0 > /dev/null || die "udp-send"
	seq0=$((seq0 + PER))
done
ip netns exec "$NS" "$STASIS" net drain -o "$W/held.sp" > /dev/null || die "drain"
held=$("$STASIS" -j sp info "$W/held.sp" | jq .frames)
[ "$held" -ge "$N" ] || die "held $held frames, not $N (the host's neighbour entry for b went stale?)"
"$STASIS" sp to-pcapng "$W/held.sp" -o "$W/held.pcapng" > /dev/null || die "to-pcapng"
# The hold is released by the first replay; until then b gets nothing.

dones() { grep -c 'udp-recv: done' "$T_WORK/b.log"; }
readies() { grep -c 'udp-recv: ready' "$T_WORK/b.log"; }
txdrop() { ip netns exec "$NS" cat /sys/class/net/tapb/statistics/tx_dropped; }
# round CMD...: one replay by CMD; prints "seconds unique tx_dropped+
# resent" (resent: a stasis replay's sends made again, - for tcpreplay)
round() {
	local d0 r0 t0 t1 x0 line
	d0=$(dones) r0=$(readies)
	x0=$(txdrop)
	t0=$(now_ns)
	"$@" > "$W/round.out" 2> "$W/round.err" || { cat "$W/round.err" >&2; die "failed: $*"; }
	t1=$(now_ns)
	wait_until 60 at_least $((d0 + 1)) dones > /dev/null || die "b did not report"
	line=$(grep 'udp-recv: done' "$T_WORK/b.log" | tail -1 | tr -d '\r')
	wait_until 30 at_least $((r0 + 1)) readies > /dev/null || die "b did not start its next round"
	echo "$(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.3f", ns / 1e9 }') $(kv unique "$line") \
$(($(txdrop) - x0)) $(jq -e .resent "$W/round.out" 2> /dev/null || echo -)"
}

# The first replay releases the hold; the later ones replay the same file
# into a host already in PASS (a replay puts it in REPLAY while it runs).
stasis_replay() { ip netns exec "$NS" "$STASIS" -j net replay "$W/held.sp" "$@"; }
for i in $(seq "$RUNS"); do round stasis_replay; done > "$W/free"
for i in $(seq "$RUNS"); do round stasis_replay --rate 5000; done > "$W/paced"
for i in $(seq "$RUNS"); do round ip netns exec "$NS" tcpreplay -i tapb --topspeed "$W/held.pcapng"; done > "$W/tcpreplay"

med() { awk -v c="$2" '{ print $c }' "$1" | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
row() {	# LABEL FILE
	echo "| $1 | $(med "$2" 1) | $(awk -v n=$N -v s="$(med "$2" 1)" 'BEGIN { printf "%.0f", n / s }') | $(awk '{ print $2 }' "$2" | tr '\n' ' ' | sed 's/ $//') | $(awk '{ print $3 }' "$2" | tr '\n' ' ' | sed 's/ $//') |"
}
# The flood (the issue's drop test): guests a and b send to each other as
# fast as they can; 3 s in the network is held for 2 s, drained, and the
# drained file replayed while they go on flooding. How long until the
# host is back in PASS, and what the flood lost, where.
guest_kill b
tap_create "$NS" tapa br0 && ip netns exec "$NS" "$STASIS" net attach tapa > /dev/null || die "tapa"
F=${REPLAY_GUEST_FLOOD:-600000}
guest_start a "$NS" tapa 10.0.0.1/24 52:54:00:00:00:01 \
	"udp-recv 5001 --idle-ms 8000 & $GUEST_WAIT_GO; until ping -c 1 -W 1 10.0.0.2 > /dev/null; do :; done; udp-send 10.0.0.2 5000 $F; wait" || die "guest a"
guest_start b "$NS" tapb 10.0.0.2/24 52:54:00:00:00:02 \
	"udp-recv 5000 --idle-ms 8000 & $GUEST_WAIT_GO; until ping -c 1 -W 1 10.0.0.1 > /dev/null; do :; done; udp-send 10.0.0.1 5001 $F; wait" || die "guest b"
guest_wait a 'udp-recv: ready port=6000' 120 && guest_wait b 'udp-recv: ready port=6000' 120 || die "the flood guests do not boot"
x0a=$(ip netns exec "$NS" cat /sys/class/net/tapa/statistics/tx_dropped) x0b=$(txdrop)
# what each tap handed its QEMU: a frame the guest then did not count was
# lost past the host (QEMU, virtio, the guest's own socket buffers)
txpk() { ip netns exec "$NS" cat "/sys/class/net/$1/statistics/tx_packets"; }
rxpk() { ip netns exec "$NS" cat "/sys/class/net/$1/statistics/rx_packets"; }
p0a=$(txpk tapa) p0b=$(txpk tapb) r0a=$(rxpk tapa) r0b=$(rxpk tapb)
guest_go a "$NS" 10.0.0.1 && guest_go b "$NS" 10.0.0.2 || die "the floods do not start"
sleep 3
ip netns exec "$NS" "$STASIS" net hold > /dev/null || die "hold"
sleep 2
ip netns exec "$NS" "$STASIS" -j net drain -o "$W/flood.sp" > "$W/fdrain.json" 2> /dev/null || die "drain"
t0=$(now_ns)
ip netns exec "$NS" "$STASIS" -j net replay "$W/flood.sp" > "$W/freplay.json" 2> "$W/freplay.err" ||
	die "flood replay: $(tail -1 "$W/freplay.err")"
t1=$(now_ns)
f_pass=$(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.2f", ns / 1e9 }')
f_file=$(jq .file_frames "$W/freplay.json") f_ring=$(jq .ring_frames "$W/freplay.json")
f_resent=$(jq .resent "$W/freplay.json") f_txd=$(jq .tx_dropped "$W/freplay.json")
sends() { grep -c 'udp-send: done' "$T_WORK/a.log" "$T_WORK/b.log" | awk -F: '{ s += $2 } END { print s }'; }
recvs() { cat "$T_WORK/a.log" "$T_WORK/b.log" | grep -c 'udp-recv: done'; }
wait_until 300 at_least 2 sends > /dev/null || die "the floods do not end"
wait_until 60 at_least 4 recvs > /dev/null || die "the receivers do not report"
sent_a=$(kv sent "$(guest_line a 'udp-send: done')") ms_a=$(kv ms "$(guest_line a 'udp-send: done')")
sent_b=$(kv sent "$(guest_line b 'udp-send: done')") ms_b=$(kv ms "$(guest_line b 'udp-send: done')")
got_b=$(kv unique "$(guest_line b 'udp-recv: done')") got_a=$(kv unique "$(guest_line a 'udp-recv: done')")
del_a=$(( $(txpk tapa) - p0a )) del_b=$(( $(txpk tapb) - p0b ))
out_a=$(( $(rxpk tapa) - r0a )) out_b=$(( $(rxpk tapb) - r0b ))
drops=$(( $(ip netns exec "$NS" cat /sys/class/net/tapa/statistics/tx_dropped) - x0a + $(txdrop) - x0b - f_resent - f_txd ))

out=$W/section.md
cat > "$out" <<MD
<!-- bench:replay-guest -->
## Replay into a TCG guest (issue 17)

\`make bench\` → \`tests/bench/bench_replay_guest.sh\` (RUNS=$RUNS; $N held UDP
frames for one TCG guest, $PER each of 64, 442, 942 and 1500 bytes, put back
on its tap; the guest counts what it receives; $(machine)).

| replay of the $N frames | seconds (median) | frames/s | received by the guest, each run | tap tx_dropped +, each run |
| --- | --- | --- | --- | --- |
$(row "stasis net replay (no pace: as fast as the tap takes them)" "$W/free")
$(row "stasis net replay --rate 5000 (the former default)" "$W/paced")
$(row "tcpreplay -i tapb --topspeed" "$W/tcpreplay")

Without a pace the replay is $(ratio "$(med "$W/paced" 1)" "$(med "$W/free" 1)")x faster than at 5000 frames/s. A stasis
replay's tx_dropped are sends the tap's full queue refused, each sent again
(\`resent\` of the runs: $(awk '{ print $4 }' "$W/free" | tr '\n' ' ' | sed 's/ $//')); tcpreplay's are frames lost. The
seconds are the command's, file validation and set-up included.

The flood: guests a and b send $F datagrams each to the other as fast as
they can (a: $sent_a in $ms_a ms, b: $sent_b in $ms_b ms); 3 s in, the
network is held for 2 s, drained ($f_file frames), and replayed while they
go on.

| replay start → PASS (s) | frames replayed: file + held meanwhile | resent | tx_dropped beyond resent (replay) | received: b of a's, a of b's | taps' drops outside the replay |
| --- | --- | --- | --- | --- | --- |
| $f_pass | $f_file + $f_ring | $f_resent | $f_txd | $got_b of $sent_a, $got_a of $sent_b | $drops |

With the former 5000 frames/s pace the same test took 108 s to get back to
PASS (issue 17's report): the guests sent faster than that, so the
frames held behind the replay never ran out. The taps' drops outside the
replay are the network's own: once in PASS, frames a guest sends faster
than the other takes are dropped by the tap, held or not. What each tap
handed its guest's QEMU over the whole flood (tx_packets, every frame,
the other guest's datagrams and a few ARP/ICMP): tapa $del_a, tapb $del_b;
what each guest put on its tap (rx_packets): a $out_a, b $out_b. A guest's
udp-send counts every datagram its socket took, also those its own queue
then dropped (Linux does not report those to a UDP sender), so a gap
between what a guest sent and what its tap received is the guest's own;
a guest that counted fewer than its tap handed it lost them past the host
(QEMU, virtio, its socket buffers). Each frame that did reach the host:
received from one tap = handed to the other + that tap's drops (the
replay's own drops are the resent, each sent again).
<!-- /bench:replay-guest -->
MD
bench_section replay-guest "$out"
cat "$out"
