#!/bin/bash
# The README's synopsis lines are the tables' (`stasis OBJ help`, `stasis
# agent --help`): each line of the README that shows a verb says what the
# binary says of it, and every verb of the binary has its line.
. "$(dirname "$0")/../lib/common.sh"
W=$T_WORK
for o in net "net trigger" vm sp coord fuzz; do
	# shellcheck disable=SC2086 # "net trigger": an object within an object
	"$STASIS" $o help | grep '^  stasis ' | grep -v ' help$' | grep -v ' add|list|del ' | sed 's/^  //'
done > "$W/tables"
"$STASIS" agent --help | sed -n 's/^Usage: //p' >> "$W/tables"
t_check "the tables give synopses" test "$(wc -l < "$W/tables")" -ge 30
# The README's: indented "stasis OBJ ..." lines, without their comments.
grep -E '^    stasis (net|vm|sp|agent|coord|fuzz) ' "$ROOT/README.md" | sed -e 's/^    //' -e 's/   # .*//' > "$W/readme"
while read -r line; do
	t_check "README: $line" grep -qxF -- "$line" "$W/tables"
done < "$W/readme"
while read -r line; do
	t_check "the README shows: $line" grep -qxF -- "$line" "$W/readme"
done < "$W/tables"
t_done
