#!/bin/bash
# The .sp reader fuzz target, from a seed corpus of valid, truncated and
# edited files.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/fuzz.sh"
C=$T_WORK/corpus
mkdir -p "$C"
"$BUILD/tools/spgen" "$C/a.sp" 3 --size 60
"$BUILD/tools/spgen" "$C/b.sp" 2 --size 200
head -c 300 "$C/b.sp" > "$C/trunc.sp"
"$STASIS" sp edit "$C/a.sp" -o "$C/e.sp" --insert 1:0011 --delete 2 > /dev/null
t_check "seed corpus made" test "$(ls "$C" | wc -l)" = 4
fuzz_run sp_reader "the .sp reader" "$C"
t_done
