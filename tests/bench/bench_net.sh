#!/bin/bash
# The network hold and replay on a veth path (S -> bridge in M -> m2 -> R),
# at the machine's limits (issue 17), in one run:
#  - hold: the bench's own sender (tests/tools/fastsend, AF_XDP copy-mode
#    TX, on CPU 0) offers 64-byte frames faster than any hook takes them;
#    M's receive path (RPS) and every capturing process run on CPU 1. Into
#    a TC egress program that only drops, tcpdump -w, xdpdump (xdp-tools'
#    pcapng capture, on R's r1: the same frames, one hop on), and stasis
#    hold + drain --follow, beside the sender's own ceiling. For each:
#    frames that reached the hook per second, what it kept, what it lost
#    and where, each CPU's load;
#  - replay: UDP datagrams addressed to R, held, then put back on m2 by
#    stasis net replay, by fastsend (raw AF_XDP TX of the same frames) and
#    by tcpreplay --topspeed; R's receiver counts them.
# NET_BENCH_RUNS rounds of each, interleaved; medians.
set -u
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/lib/common.sh"
. "$ROOT/tests/lib/net.sh"
. "$ROOT/tests/lib/hold.sh"
N=${NET_BENCH_FRAMES:-2000000}		# offered to each hook
NR=${NET_BENCH_REPLAY:-400000}		# held and replayed
RUNS=${NET_BENCH_RUNS:-3}			# rounds, each hook and replay once
FS=$BUILD/tools/fastsend
W=$T_WORK
die() { echo "bench net: $*" >&2; exit 1; }

hold_topology || die "topology failed"
clang -target bpf -O2 -g -I/usr/include/$(gcc -dumpmachine) -c "$ROOT/tests/bench/tc_drop.bpf.c" -o "$W/drop.o" ||
	die "tc_drop.bpf.c"
# M's receive work on CPU 1, the sender alone on CPU 0 (RPS: the veth
# hands each frame to CPU 1's backlog; see the sender's ceiling row).
ip netns exec "$M" sh -c 'echo 2 > /sys/class/net/m1/queues/rx-0/rps_cpus' || die "RPS on m1"
"$BUILD/tools/spgen" "$W/flood.sp" 1000 --size 64 || die spgen

stat_of() { ip netns exec "$1" cat "/sys/class/net/$2/statistics/$3"; }
# cpu_snap: each CPU's "total idle" jiffies, a line each.
cpu_snap() { awk '/^cpu[0-9]/ { t = 0; for (i = 2; i <= NF; i++) t += $i; print t, $5 + $6 }' /proc/stat; }
# flood: N frames from S; prints "seconds offered_pps dropped_before_hook
# cpu0% cpu1%" (dropped before: s1's tx_dropped, the veth's count of frames
# M's full backlog refused).
flood() {
	local d0 out c0
	d0=$(stat_of "$S" s1 tx_dropped)
	c0=$(cpu_snap)
	out=$(ip netns exec "$S" taskset -c 0 "$FS" s1 "$W/flood.sp" --loops $((N / 1000))) || die "fastsend: $out"
	echo "$(awk -v ns="$(kv ns "$out")" 'BEGIN { printf "%.4f", ns / 1e9 }') $(kv pps "$out") \
$(($(stat_of "$S" s1 tx_dropped) - d0)) $(paste <(echo "$c0") <(cpu_snap) |
		awk '{ printf "%.0f ", 100 * (($3 - $1) - ($4 - $2)) / ($3 - $1) }')"
}
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
# clsact_drops NS DEV: what DEV's clsact qdisc (TC programs) dropped so far.
clsact_drops() { tc -n "$1" -s -j qdisc show dev "$2" | jq '[.[] | select(.kind == "clsact") | .drops] | add // 0'; }

# Each hook_X runs one flood into hook X and prints one line:
# "at_hook_pps offered_pps kept lost before cpu0% cpu1%".
# tc_drop DEV DIR: a flood into a TC program on DEV (in M) that drops every
# frame, at DIR (ingress or egress); the hook's count is the clsact's drops.
tc_drop() {
	local s off before c0 c1 d0
	tc -n "$M" qdisc add dev "$1" clsact
	tc -n "$M" filter add dev "$1" "$2" bpf da obj "$W/drop.o" sec tc
	d0=$(clsact_drops "$M" "$1")
	read -r s off before c0 c1 < <(flood)
	echo "$(rate $(($(clsact_drops "$M" "$1") - d0)) "$s") $off 0 all $before $c0 $c1"
	tc -n "$M" qdisc del dev "$1" clsact
}
# The ceiling: what the sender offers when M drops every frame where it
# first meets it (TC ingress on m1, before the bridge): above every hook's
# rate below, the sender outruns that hook, and that hook's CPU is the limit.
hook_sender() { tc_drop m1 ingress; }
# Only drop: a TC egress program on m2 that drops everything.
hook_drop() { tc_drop m2 egress; }
# tcpdump -w on m2 (frames go on to R, which is not their address).
hook_tcpdump() {
	local s off before c0 c1 tp kept lost
	ip netns exec "$M" taskset -c 1 tcpdump -i m2 -w "$W/td.pcap" -s 0 -B 65536 2> "$W/td.err" &
	tp=$!
	wait_line "$W/td.err" "listening on" 10 > /dev/null || die "tcpdump did not start"
	read -r s off before c0 c1 < <(flood)
	sleep 1
	kill -INT $tp; wait $tp
	kept=$(awk '/packets captured/ {print $1}' "$W/td.err")
	lost=$(awk '/dropped by kernel/ {print $1}' "$W/td.err")
	echo "$(rate $((kept + lost)) "$s") $off $kept $lost $before $c0 $c1"
}
# xdpdump on r1: its XDP program copies each frame to a perf ring.
hook_xdpdump() {
	local s off before c0 c1 xp kept lost
	ip netns exec "$R" taskset -c 1 xdpdump -i r1 -w "$W/xd.pcapng" > "$W/xd.out" 2> "$W/xd.err" &
	xp=$!
	wait_until 10 grep -q "listening on" "$W/xd.out" "$W/xd.err" || die "xdpdump did not start: $(cat "$W/xd.err")"
	read -r s off before c0 c1 < <(flood)
	sleep 1
	kill -INT $xp; wait $xp
	cat "$W/xd.out" "$W/xd.err" > "$W/xd.all"
	kept=$(awk '/packets captured/ {print $1}' "$W/xd.all" | tail -1)
	lost=$(awk '/dropped by kernel/ {print $1}' "$W/xd.all" | tail -1)
	echo "$(rate $((kept + ${lost:-0})) "$s") $off $kept ${lost:-?} $before $c0 $c1"
}
# stasis: hold on m2, drained to a .sp while the flood runs; lost: the
# ring's counters (full, other).
hook_stasis() {
	local s off before c0 c1 dp kept ring other
	ip netns exec "$M" "$STASIS" net attach --uplink m2 > /dev/null || die "attach"
	ip netns exec "$M" "$STASIS" net hold > /dev/null
	ip netns exec "$M" taskset -c 1 "$STASIS" net drain -o "$W/held.sp" --follow > /dev/null 2>&1 &
	dp=$!
	read -r s off before c0 c1 < <(flood)
	sleep 1
	kill -TERM $dp; wait $dp
	kept=$("$STASIS" -j sp info "$W/held.sp" | jq .frames)
	ip netns exec "$M" "$STASIS" -j net status > "$W/status.json"
	ring=$(jq .counters.drop_ring_full "$W/status.json")
	other=$(jq '.counters.drop_too_big + .counters.drop_load' "$W/status.json")
	ip netns exec "$M" "$STASIS" net detach --force > /dev/null	# still in HOLD: nothing to keep
	echo "$(rate $((kept + ring + other)) "$s") $off $kept $ring/$other $before $c0 $c1"
}
t_defer "ip netns exec $M $STASIS net detach --force 2> /dev/null"
HOOKS="sender drop tcpdump xdpdump stasis"
# Rounds, each hook once a round, so that the machine's drift (other
# guests on its host) reaches every hook alike; medians over the rounds.
for round in $(seq "$RUNS"); do
	for h in $HOOKS; do
		"hook_$h" >> "$W/hold.$h" || die "hook $h"
		echo "# round $round $h: $(tail -1 "$W/hold.$h")" >&2
	done
done
col() { awk -v c="$2" '{ print $c }' "$W/hold.$1"; }
med() { col "$1" "$2" | median; }
# The round whose hook rate is nearest the median: its other columns are shown.
med_row() {
	awk -v m="$(med "$1" 1)" '{ d = $1 - m; d = d < 0 ? -d : d } NR == 1 || d < best { best = d; row = $0 }
		END { print row }' "$W/hold.$1"
}
for h in $HOOKS; do read -r "r_$h" "off_$h" "kept_$h" "lost_$h" "before_$h" "c0_$h" "c1_$h" < <(med_row "$h"); done
all_of() { col "$1" 1 | paste -sd/ | sed 's|/| / |g'; }
# pair_ratio X Y: the median over the rounds of X's rate ÷ Y's in the same
# round (a round's hooks run a few seconds apart: the pairing takes out
# what the machine's speed does over minutes).
pair_ratio() {
	paste <(col "$1" 1) <(col "$2" 1) | awk '$2 > 0 { printf "%.4f\n", $1 / $2 }' | median |
		awk '{ printf "%.2f", $1 }'
}
lost_sum() { col "$1" 4 | awk -F/ '{ s += $1 + $2 } END { print s + 0 }'; }

# 5. Replay: NR datagrams to R held on m2, then put back three ways.
ip netns exec "$M" "$STASIS" net attach --uplink m2 > /dev/null || die "attach"
ip netns exec "$M" "$STASIS" net hold > /dev/null
ip netns exec "$M" "$STASIS" net drain -o "$W/r.sp" --follow > /dev/null 2>&1 &
dp=$!
in_ns "$S" "$SG" udp-send 10.7.0.2 5000 "$NR" > /dev/null
sleep 1
kill -TERM $dp; wait $dp
rheld=$("$STASIS" -j sp info "$W/r.sp" | jq .frames)
"$STASIS" sp to-pcapng "$W/r.sp" -o "$W/r.pcapng" > /dev/null
ip netns exec "$M" "$STASIS" net detach --force > /dev/null	# the held frames are in r.sp
# receive NAME CMD...: R counts while CMD sends; prints "pps received
# r1_rx". RECV=udp: R's UDP socket counts unique datagrams (R's stack runs
# on the sending CPU: every row pays it); RECV=tc: R drops every frame at
# r1's TC ingress and the drops are the count (what the senders alone do).
receive() {
	local name=$1 t0 t1 rx0 d0 got
	shift
	if [ "$RECV" = udp ]; then
		ip netns exec "$R" "$SG" udp-recv 5000 --idle-ms 2000 > "$W/recv.$name" &
		rp=$!
		wait_line "$W/recv.$name" ready 5 > /dev/null
	else
		d0=$(clsact_drops "$R" r1)
	fi
	rx0=$(stat_of "$R" r1 rx_packets)
	t0=$(now_ns)
	"$@" > "$W/send.$name" 2> "$W/send.$name.err" || die "$name failed: $(tail -2 "$W/send.$name.err")"
	t1=$(now_ns)
	if [ "$RECV" = udp ]; then
		wait $rp
		got=$(kv unique "$(grep done "$W/recv.$name")")
	else
		got=$(($(clsact_drops "$R" r1) - d0))
	fi
	echo "$(rate "$rheld" "$(awk -v ns=$((t1 - t0)) 'BEGIN { print ns / 1e9 }')") $got \
$(($(stat_of "$R" r1 rx_packets) - rx0))"
}
# A round: each way once; the stasis replay's host is attached for it only.
replay_round() {
	local sfx=$1
	ip netns exec "$M" "$STASIS" net attach --uplink m2 > /dev/null || die "attach"
	receive stasis ip netns exec "$M" "$STASIS" -j net replay "$W/r.sp" >> "$W/rep.stasis$sfx"
	jq .tx_dropped "$W/send.stasis" >> "$W/rep.txdrop$sfx"
	ip netns exec "$M" "$STASIS" net detach > /dev/null
	receive raw ip netns exec "$M" "$FS" m2 "$W/r.sp" >> "$W/rep.raw$sfx"
	kv pps "$(cat "$W/send.raw")" >> "$W/rep.rawown$sfx"
	kv refused "$(cat "$W/send.raw")" >> "$W/rep.refused$sfx"
	receive tcpreplay ip netns exec "$M" tcpreplay -i m2 --topspeed "$W/r.pcapng" >> "$W/rep.tcpreplay$sfx"
	awk '/Failed packets:/ {print $3}' "$W/send.tcpreplay" "$W/send.tcpreplay.err" >> "$W/rep.failed$sfx"
	echo "# replay ($RECV) round $round: stasis $(tail -1 "$W/rep.stasis$sfx"), raw $(tail -1 "$W/rep.raw$sfx"), tcpreplay $(tail -1 "$W/rep.tcpreplay$sfx")" >&2
}
RECV=udp
for round in $(seq "$RUNS"); do replay_round ""; done
RECV=tc
tc -n "$R" qdisc add dev r1 clsact
tc -n "$R" filter add dev r1 ingress bpf da obj "$W/drop.o" sec tc
for round in $(seq "$RUNS"); do replay_round .tc; done
tc -n "$R" qdisc del dev r1 clsact
rmed() { awk '{ print $1 }' "$W/rep.$1" | median; }
# Received and at r1: the fewest of any round (every one must be all).
rmin() { awk -v c="$2" 'NR == 1 || $c < m { m = $c } END { print m }' "$W/rep.$1"; }
rall() { awk '{ print $1 }' "$W/rep.$1" | paste -sd/ | sed 's|/| / |g'; }
sum() { awk '{ s += $1 } END { print s + 0 }' "$W/rep.$1"; }
rpair() {	# X Y: median over the rounds of X's rate ÷ Y's in the same round
	paste <(awk '{ print $1 }' "$W/rep.$1") <(awk '{ print $1 }' "$W/rep.$2") |
		awk '$2 > 0 { printf "%.4f\n", $1 / $2 }' | median | awk '{ printf "%.2f", $1 }'
}
p_st=$(rmed stasis) p_raw=$(rmed raw) p_tr=$(rmed tcpreplay)
raw_pps=$(median < "$W/rep.rawown")
q_st=$(rmed stasis.tc) q_raw=$(rmed raw.tc) q_tr=$(rmed tcpreplay.tc)
raw_pps_tc=$(median < "$W/rep.rawown.tc")

out=$W/section.md
cat > "$out" <<MD
<!-- bench:net -->
## Network hold and replay on a veth path (issues 4, 17)

\`make bench\` → \`tests/bench/bench_net.sh\` ($(machine); RUNS=$RUNS). Path: S → s1/m1 →
bridge in M → m2 → r1 in R, veths. Hold: $N frames of 64 bytes from
\`tests/tools/fastsend\` (AF_XDP copy-mode TX) on s1, pinned to CPU 0; M's
receive path (RPS on m1) and the capturing process on CPU 1. Each round
runs every hook once; the table gives the round with the median rate at the
hook (frames that reached it, kept + lost at it, over the sender's time)
and every round's rate. "Before the hook": frames M's full backlog refused
(s1's tx_dropped). The first row is the sender's own ceiling: M drops every
frame at its first hop (TC ingress on m1), so CPU 1 has little to do and
the sender, at 100% of CPU 0, sets the rate. A hook whose rate is below it
is outrun by the sender (the sender then waits for its completions, so
nothing is lost before the hook); CPU 1's load says the same.

| hook | frames/s at the hook (median) | every round | kept | lost at the hook (all rounds) | before the hook | CPU 0 / CPU 1 busy | ÷ drop-only, paired by round (median) | ÷ drop-only, of the medians | ÷ sender's ceiling, paired |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
| sender's ceiling: TC ingress drop on m1 | $r_sender | $(all_of sender) | 0 | all, by design | $before_sender | $c0_sender% / $c1_sender% | $(pair_ratio sender drop) | $(ratio "$r_sender" "$r_drop") | 1.00 |
| TC egress program that only drops (m2) | $r_drop | $(all_of drop) | 0 | all, by design | $before_drop | $c0_drop% / $c1_drop% | 1.00 | 1.00 | $(pair_ratio drop sender) |
| tcpdump -w (m2) | $r_tcpdump | $(all_of tcpdump) | $kept_tcpdump | $(lost_sum tcpdump) dropped by kernel | $before_tcpdump | $c0_tcpdump% / $c1_tcpdump% | $(pair_ratio tcpdump drop) | $(ratio "$r_tcpdump" "$r_drop") | $(pair_ratio tcpdump sender) |
| xdpdump -w (r1, XDP) | $r_xdpdump | $(all_of xdpdump) | $kept_xdpdump | $(lost_sum xdpdump) dropped by kernel | $before_xdpdump | $c0_xdpdump% / $c1_xdpdump% | $(pair_ratio xdpdump drop) | $(ratio "$r_xdpdump" "$r_drop") | $(pair_ratio xdpdump sender) |
| stasis hold, drain --follow to .sp (m2) | $r_stasis | $(all_of stasis) | $kept_stasis | $(lost_sum stasis) (ring full / other) | $before_stasis | $c0_stasis% / $c1_stasis% | $(pair_ratio stasis drop) | $(ratio "$r_stasis" "$r_drop") | $(pair_ratio stasis sender) |

The machine's speed drifts by tens of percent over minutes (a shared host:
the same drop-only flood ran at the rates in its row): the ratio of each
hook to drop-only in the same round, a few seconds apart, is the estimate
that drift disturbs least, and the medians' ratio is beside it.

Replay: $NR datagrams from one UDP socket in S to R, held on m2 and
drained ($rheld frames of 58 bytes), then put back on m2, $RUNS rounds of
each way, interleaved. Rates are the commands' wall time (stasis: the
process, the file read and checked, then sent; tcpreplay alike). Two
receivers. First R's UDP socket counts the datagrams it got, each once
(unique numbers); R's stack takes each frame on the sending CPU, so every
row includes it and the senders' own speed is diluted by it:

| replay of the $rheld held frames on m2, R's UDP socket counting | frames/s (median) | every round | received by R (fewest in a round) | at r1 (fewest) | device drops (all rounds) |
| --- | --- | --- | --- | --- | --- |
| stasis net replay (AF_XDP, copy mode) | $p_st | $(rall stasis) | $(rmin stasis 2) | $(rmin stasis 3) | tx_dropped +$(sum txdrop) |
| fastsend: raw AF_XDP TX of the same frames | $p_raw (its own count: $raw_pps) | $(rall raw) | $(rmin raw 2) | $(rmin raw 3) | refused $(sum refused) |
| tcpreplay --topspeed (pcapng of the same frames) | $p_tr | $(rall tcpreplay) | $(rmin tcpreplay 2) | $(rmin tcpreplay 3) | failed $(sum failed) |

stasis ÷ raw AF_XDP TX: $(ratio "$p_st" "$p_raw") (medians), $(rpair stasis raw) (paired by round);
÷ tcpreplay: $(ratio "$p_st" "$p_tr") (medians), $(rpair stasis tcpreplay) (paired).

Then R drops every frame at r1's TC ingress and counts it there (no
stack behind it): what each sender alone does on the same veth.

| replay of the $rheld held frames on m2, counted at r1's TC ingress | frames/s (median) | every round | counted at r1's ingress (fewest in a round) | at r1 (fewest) | device drops (all rounds) |
| --- | --- | --- | --- | --- | --- |
| stasis net replay (AF_XDP, copy mode) | $q_st | $(rall stasis.tc) | $(rmin stasis.tc 2) | $(rmin stasis.tc 3) | tx_dropped +$(sum txdrop.tc) |
| fastsend: raw AF_XDP TX of the same frames | $q_raw (its own count: $raw_pps_tc) | $(rall raw.tc) | $(rmin raw.tc 2) | $(rmin raw.tc 3) | refused $(sum refused.tc) |
| tcpreplay --topspeed (pcapng of the same frames) | $q_tr | $(rall tcpreplay.tc) | $(rmin tcpreplay.tc 2) | $(rmin tcpreplay.tc 3) | failed $(sum failed.tc) |

stasis ÷ raw AF_XDP TX: $(ratio "$q_st" "$q_raw") (medians), $(rpair stasis.tc raw.tc) (paired by round);
÷ tcpreplay: $(ratio "$q_st" "$q_tr") (medians), $(rpair stasis.tc tcpreplay.tc) (paired).
<!-- /bench:net -->
MD
bench_section net "$out"
cat "$out"
