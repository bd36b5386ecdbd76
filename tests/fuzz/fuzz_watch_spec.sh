#!/bin/bash
# The --watch spec parser fuzz target, from the specs the manual shows.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/fuzz.sh"
C=$T_WORK/corpus
mkdir -p "$C"
printf '%s' 'console:srv:req-srv: op [0-9]+: abort|run exited' > "$C/console"
printf '%s' 'ok:srv:served=[0-9]+' > "$C/ok"
printf '%s' 'event:srv:GUEST_PANICKED,SHUTDOWN' > "$C/event"
printf '%s' 'probe:udp:10.0.0.2:7000:5347523100000009' > "$C/udp"
printf '%s' 'probe:tcp:10.0.0.2:22' > "$C/tcp"
printf '%s' 'cmd:test "$STASIS_FUZZ_CASE" != 3' > "$C/cmd"
t_check "seed corpus made" test "$(ls "$C" | wc -l)" = 6
# What it found once: dozens of repetitions in a row ("s*****...++++"),
# which made glibc's regcomp take over a gigabyte; now refused at once.
echo 'b2s6czpzK3L//////////////////////////////////////////////////////////////////////////////////3Byb15lOnX//////////yIraytzaytzKioqKioqKioqKioqKioqKipvcHBwcHAqKioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKysrKz4=' |
	base64 -d > "$T_WORK/found-oom"
t_check "the input it found once runs in bounded memory" quiet "$BUILD/fuzz/fuzz_watch_spec" -rss_limit_mb=256 "$T_WORK/found-oom"
fuzz_run watch_spec "the --watch spec parser" "$C"
t_done
