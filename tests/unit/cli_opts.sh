#!/bin/bash
# Option tables (cli/opts.c): walks every verb of the objects whose verbs
# are declared in tables (`stasis OBJ help` prints their synopses, made
# from the tables) and checks, for every option, that --opt=value and
# --opt value both get past the parser, that a flag refuses a value, that
# `--help` is generated, and that a bad option is one usage line.
# (Each verb is run without its positional arguments, or on an empty
# instance root, so none does any work: what is checked is that the error,
# if any, is not the parser's.)
. "$(dirname "$0")/../lib/common.sh"
O=$T_WORK/out E=$T_WORK/err
export STASIS_VM_ROOT=$T_WORK/vms
OBJS="vm"

# A value of the kind the synopsis names.
value_for() {
	case "$1" in
	MIB|N) echo 1 ;;
	BYTES) echo 1M ;;
	*'|'*) echo "${1%%|*}" ;;
	*) echo "$T_WORK/nothing" ;;
	esac
}
parser_refused() { grep -qE "unknown option|takes no value|needs a value|wants |unexpected '--'" "$E"; }

for obj in $OBJS; do
	t_run "$O" "$E" "$STASIS" "$obj" help
	t_eq "$obj help" 0 "$T_RC"
	grep "^  stasis $obj " "$O" | grep -v " help$" > "$T_WORK/verbs"
	t_check "$obj: verbs listed" test -s "$T_WORK/verbs"
	while read -r _ _ verb syn; do
		t_run "$O" "$E" "$STASIS" "$obj" "$verb" --help
		t_check "$obj $verb --help is generated" sh -c "[ $T_RC = 0 ] && grep -q '^Usage: stasis $obj $verb' '$O'"
		# each [--name ARG] or --name ARG of the synopsis
		echo "$syn" | grep -oE -- '--[a-z][a-z0-9-]*( [^] []+)?' | grep -v -- '^-- ' > "$T_WORK/opts" || true
		while read -r opt arg; do
			if [ -n "$arg" ]; then
				v=$(value_for "$arg")
				t_run "$O" "$E" "$STASIS" "$obj" "$verb" "$opt=$v"
				t_check "$obj $verb $opt=$v: parsed" sh -c "! grep -qE \"unknown option|takes no value|needs a value|wants |unexpected\" '$E'"
				t_run "$O" "$E" "$STASIS" "$obj" "$verb" "$opt" "$v"
				t_check "$obj $verb $opt $v: parsed" sh -c "! grep -qE \"unknown option|takes no value|needs a value|wants |unexpected\" '$E'"
				t_run "$O" "$E" "$STASIS" "$obj" "$verb" "$opt"
				t_check "$obj $verb $opt without a value: one usage line" sh -c \
					"[ $T_RC = 2 ] && [ \$(wc -l < '$E') = 1 ] && grep -q 'needs a value' '$E'"
			else
				t_run "$O" "$E" "$STASIS" "$obj" "$verb" "$opt"
				t_check "$obj $verb $opt: parsed" sh -c "! grep -qE \"unknown option|takes no value|needs a value|wants |unexpected\" '$E'"
				t_run "$O" "$E" "$STASIS" "$obj" "$verb" "$opt=1"
				t_check "$obj $verb $opt=1: a flag takes no value" sh -c "[ $T_RC = 2 ] && grep -q 'takes no value' '$E'"
			fi
		done < "$T_WORK/opts"
		t_run "$O" "$E" "$STASIS" "$obj" "$verb" --no-such-option
		t_check "$obj $verb --no-such-option: exit 2, one line naming it" sh -c \
			"[ $T_RC = 2 ] && [ \$(wc -l < '$E') = 1 ] && grep -q \"unknown option '--no-such-option'\" '$E'"
	done < "$T_WORK/verbs"
done

# Values checked against the table.
t_run "$O" "$E" "$STASIS" vm start x --mem=0
t_check "vm start --mem=0: out of range" sh -c "[ $T_RC = 2 ] && grep -q -- '--mem wants a number from 1' '$E'"
t_run "$O" "$E" "$STASIS" vm restore d --prefault=some
t_check "vm restore --prefault=some: names the choices" sh -c "[ $T_RC = 2 ] && grep -q 'none|cache|all' '$E'"
t_run "$O" "$E" "$STASIS" vm save d --cont --quit
t_check "vm save --cont --quit: exclude each other" sh -c "[ $T_RC = 2 ] && grep -q 'exclude each other' '$E'"
t_run "$O" "$E" "$STASIS" vm fork d
t_check "vm fork without --copies: required" sh -c "[ $T_RC = 2 ] && grep -q -- '--copies is required' '$E'"
# (a QEMU that is not there: nothing starts)
t_run "$O" "$E" "$STASIS" vm start x --qemu="$T_WORK/no-qemu" --mem-dir="$T_WORK" -- -display none
t_check "vm start: what follows -- is not parsed" sh -c "[ $T_RC = 1 ] && ! grep -q 'unknown option' '$E'"

# vm rm: refused for an instance that is not there.
t_run "$O" "$E" "$STASIS" vm rm nosuch
t_check "vm rm of no instance: exit 1, says so" sh -c "[ $T_RC = 1 ] && grep -q 'no VM instance nosuch' '$E'"
t_done
