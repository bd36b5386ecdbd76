#!/bin/bash
# The coordination message parser fuzz target, from real messages.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/fuzz.sh"
C=$T_WORK/corpus
mkdir -p "$C"
echo '{"v":1,"experiment":"exp1","epoch":100,"op":"snapshot","from":"sender","sent_ns":1795317618628791061}' > "$C/snapshot"
echo '{"v":1,"experiment":"exp1","epoch":7,"op":"arm-packet","from":"sender","offset":50,"hex":"0000000000000bb8"}' > "$C/arm"
echo '{"v":1,"experiment":"default","epoch":42,"op":"result","from":"h1","for":"ping","ok":true,"net":"pass"}' > "$C/result"
echo '{"v":2,"experiment":"x","epoch":-1}' > "$C/bad"
t_check "seed corpus made" test "$(ls "$C" | wc -l)" = 4
fuzz_run coord_msg "the coordination message parser" "$C"
t_done
