#!/bin/bash
# Discovery through the roster (coordinator/roster.c): 20 agents started at
# once all join it, `coord status` finds every one, and joining is no storm
# (agents that find themselves missing answer after a random short delay,
# each with all it has seen: without it, 10 agents published ~2000 rosters
# a second to each other and stopped answering).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/broker.sh"
W=$T_WORK O=$T_WORK/out E=$T_WORK/err
N=20
t_require "mosquitto listens" broker_local
URL=$BROKER_URL port=$BROKER_PORT
mosquitto_sub -h 127.0.0.1 -p $port -v -t 'stasis/many/roster' > "$W/rosters" 2>&1 &
t_defer "kill $! 2>/dev/null"
t_require "the roster watcher is subscribed" wait_until 10 sh -c "mosquitto_pub -h 127.0.0.1 -p $port -t stasis/many/roster -m probe && grep -q probe '$W/rosters'"
for i in $(seq $N); do
	"$STASIS" agent --broker $URL --experiment many --host a$i --snapshots "$W/s" > "$W/agent$i.log" 2>&1 &
	t_defer "kill $! 2>/dev/null"
done
all() { "$STASIS" coord status --broker $URL --experiment many > "$O" 2>&1; [ "$(grep -c ' online  *ok' "$O")" = $N ]; }
t_check "coord status finds all $N agents online and answering" wait_until 60 all
retained=$(timeout 5 mosquitto_sub -h 127.0.0.1 -p $port -t stasis/many/roster -C 1 | jq '.hosts | length')
t_eq "the retained roster names all $N" $N "$retained"
n=$(grep -c '"op":"roster"' "$W/rosters")
echo "# $n rosters published while $N agents joined"
t_check "joining took a few rosters per agent, no storm ($n for $N agents)" test "$n" -le $((5 * N))
t_done
