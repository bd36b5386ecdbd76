#!/bin/bash
# MQTT fan-out: from the sender's publish to each agent's receipt, with 1, 3
# and 10 agents on one mosquitto on loopback (QoS 1). Per round, the latency
# to the last agent; median and mean over the rounds.
set -u
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/lib/common.sh"
ROUNDS=${MQTT_BENCH_ROUNDS:-50}
W=$T_WORK
port=$(( 20000 + RANDOM % 20000 ))
printf 'listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n' $port > "$W/m.conf"
mosquitto -c "$W/m.conf" > /dev/null 2>&1 &
bp=$!
t_defer "kill $bp"
sleep 0.5
URL=mqtt://127.0.0.1:$port
rows=""
for n in 1 3 10; do
	pids=""
	for i in $(seq $n); do
		"$STASIS" agent --broker $URL --experiment bench$n --host a$i --snapshots "$W/s" > /dev/null 2>&1 &
		pids="$pids $!"
	done
	sleep 1
	for r in $(seq $ROUNDS); do
		"$STASIS" -j coord status --broker $URL --experiment bench$n --epoch $r 2>/dev/null |
			jq '[.replies[] | .received_ns - .req_sent_ns] | max'
	done > "$W/lat$n"
	kill $pids 2>/dev/null
	wait $pids 2>/dev/null
	med=$(sort -n "$W/lat$n" | awk '{ a[NR] = $1 } END { printf "%.0f", a[int((NR + 1) / 2)] / 1000 }')
	mean=$(awk '{ s += $1 } END { printf "%.0f", s / NR / 1000 }' "$W/lat$n")
	p90=$(sort -n "$W/lat$n" | awk '{ a[NR] = $1 } END { printf "%.0f", a[int(NR * 0.9)] / 1000 }')
	rows="$rows| $n | $med | $mean | $p90 |
"
done
out=$W/section.md
cat > "$out" <<MD
<!-- bench:mqtt -->
## MQTT fan-out to the agents (issue 6)

\`make bench\` → \`tests/bench/bench_mqtt.sh\` ($ROUNDS rounds of \`stasis coord
status\`, mosquitto on loopback, QoS 1; latency from the sender's publish to
the last agent's receipt, µs; $(machine)).

| agents | median µs | mean µs | p90 µs |
| --- | --- | --- | --- |
${rows}
The report behind Staghorn measured 1.29 ms mean over RabbitMQ.
<!-- /bench:mqtt -->
MD
cat "$out"
bench_section mqtt "$out"
