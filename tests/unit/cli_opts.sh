#!/bin/bash
# Option tables (cli/opts.c): walks every verb of the objects whose verbs
# are declared in tables, and every option each verb's generated --help
# lists: --opt=value and --opt value both parse, a flag refuses a value,
# an option without its value and an unknown option are one usage line.
# STASIS_CLI_PARSE_ONLY stops each run after the parse (nothing starts).
. "$(dirname "$0")/../lib/common.sh"
O=$T_WORK/out E=$T_WORK/err
export STASIS_VM_ROOT=$T_WORK/vms
OBJS=(vm coord fuzz net "net trigger" sp)

# A value of the kind the help names.
value_for() {
	case "$1" in
	MIB|N|S|E|TIME|K|PPS) echo 1 ;;
	A:B) echo 1:2 ;;
	N:OFF:HEX) echo 0:0:00 ;;
	N:HEX) echo 0:00 ;;
	NAME|HOST) echo walk1 ;;
	BYTES) echo 1M ;;
	DURATION) echo 2s ;;
	HOST=FILE) echo h1=/x.sp ;;
	*'|'*) echo "${1%%|*}" ;;
	*) echo "$T_WORK/nothing" ;;
	esac
}
# The options of a verb's --help: "--name" or "--name ARG" per line, and
# the required ones with their values (every run needs those).
help_opts() { sed -n 's/^  \(-., \)\{0,1\} *\(--[a-z][a-z0-9-]*\)\(=\([^ ]*\)\)\{0,1\} .*/\2 \4/p' "$1"; }
parse() { env STASIS_CLI_PARSE_ONLY=1 "$STASIS" "$@"; }

walk() {	# OBJ VERB...: the verb words before the options
	t_run "$O" "$E" "$STASIS" "$@" --help
	t_check "$* --help is generated" sh -c "[ $T_RC = 0 ] && grep -q '^Usage: stasis $*' '$O'"
	cp "$O" "$T_WORK/help"
	need=()
	while read -r opt arg; do
		grep -qE "^ +(-., )? *$opt(=[^ ]+)? .*\(required\)$" "$T_WORK/help" && need+=("$opt${arg:+=$(value_for "$arg")}")
	done < <(help_opts "$T_WORK/help")
	while read -r opt arg; do
		if [ -n "$arg" ]; then
			v=$(value_for "$arg")
			t_run "$O" "$E" parse "$@" "${need[@]}" "$opt=$v"
			t_check "$* $opt=$v: parsed" grep -q 'parsed' "$O"
			t_run "$O" "$E" parse "$@" "${need[@]}" "$opt" "$v"
			t_check "$* $opt $v: parsed" grep -q 'parsed' "$O"
			t_run "$O" "$E" parse "$@" "${need[@]}" "$opt"
			t_check "$* $opt without a value: one usage line" sh -c \
				"[ $T_RC = 2 ] && [ \$(wc -l < '$E') = 1 ] && grep -q 'needs a value' '$E'"
		else
			t_run "$O" "$E" parse "$@" "${need[@]}" "$opt"
			t_check "$* $opt: parsed" grep -q 'parsed' "$O"
			t_run "$O" "$E" parse "$@" "${need[@]}" "$opt=1"
			t_check "$* $opt=1: a flag takes no value" sh -c "[ $T_RC = 2 ] && grep -q 'takes no value' '$E'"
		fi
	done < <(help_opts "$T_WORK/help")
	t_run "$O" "$E" parse "$@" --no-such-option
	t_check "$* --no-such-option: exit 2, one line naming it" sh -c \
		"[ $T_RC = 2 ] && [ \$(wc -l < '$E') = 1 ] && grep -q \"unknown option '--no-such-option'\" '$E'"
}

for obj in "${OBJS[@]}"; do
	# shellcheck disable=SC2086 # "net trigger": an object within an object
	t_run "$O" "$E" "$STASIS" $obj help
	t_eq "$obj help" 0 "$T_RC"
	nw=$(echo "$obj" | wc -w)
	grep "^  stasis $obj " "$O" | grep -v " help$" | awk -v k=$((nw + 2)) '{print $k}' > "$T_WORK/verbs"
	t_check "$obj: verbs listed" test -s "$T_WORK/verbs"
	while read -r verb; do
		# a verb within: walked as an object of its own
		[ "$obj $verb" = "net trigger" ] && continue
		# shellcheck disable=SC2086
		walk $obj "$verb"
	done < "$T_WORK/verbs"
done
walk agent

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
