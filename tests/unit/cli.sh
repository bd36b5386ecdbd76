#!/bin/bash
# The CLI's shape: objects and verbs with unique prefixes, help everywhere,
# -j/-p through one JSON writer, one error path with exit status 1 (failed)
# or 2 (usage), a single line on stderr.
. "$(dirname "$0")/../lib/common.sh"
O=$T_WORK/out E=$T_WORK/err

t_run "$O" "$E" "$STASIS" help
t_eq "help exits 0" 0 "$T_RC"
t_check "help lists every object" sh -c "for o in net vm sp agent coord fuzz; do grep -q \"stasis \$o \" $O || exit 1; done"

t_run "$O" "$E" "$STASIS"
t_eq "no arguments is a usage error" 2 "$T_RC"

for o in net vm sp coord fuzz; do
	t_run "$O" "$E" "$STASIS" "$o" help
	t_check "$o help exits 0 and lists verbs" test "$T_RC" = 0 -a "$(grep -c "^  stasis $o " "$O")" -ge 3
done

t_run "$O" "$E" "$STASIS" version
t_check "version names stasis and the libraries" grep -q "libbpf.*libxdp.*libnl.*jansson.*libmosquitto" "$O"
t_run "$O" "$E" "$STASIS" ver
t_check "unique prefix 'ver' runs version" grep -q "^stasis " "$O"
t_run "$O" "$E" "$STASIS" -j version
t_eq "-j version is JSON" 0 "$(jq -e '.version and .libraries.libbpf' "$O" >/dev/null; echo $?)"
t_run "$O" "$E" "$STASIS" version --json
t_eq "--json after the verb works too" 0 "$(jq -e .version "$O" >/dev/null; echo $?)"
t_run "$O" "$E" "$STASIS" -p version
t_check "-p pretty-prints over several lines" test "$(wc -l < "$O")" -gt 3
t_eq "-p output is JSON" 0 "$(jq -e .version "$O" >/dev/null; echo $?)"

t_run "$O" "$E" "$STASIS" bogus
t_eq "unknown object: exit 2" 2 "$T_RC"
t_eq "unknown object: one line on stderr" 1 "$(wc -l < "$E")"
t_check "unknown object: names it" grep -q "unknown object 'bogus'" "$E"

t_run "$O" "$E" "$STASIS" vm st
t_eq "ambiguous prefix: exit 2" 2 "$T_RC"
t_check "ambiguous prefix: says so" grep -q "ambiguous vm verb 'st'" "$E"

t_run "$O" "$E" "$STASIS" net bogus
t_eq "unknown verb: exit 2" 2 "$T_RC"

t_run "$O" "$E" "$STASIS" version extra
t_eq "extra argument: exit 2" 2 "$T_RC"

t_run "$O" "$E" "$STASIS" -j sp info x.sp
t_eq "a failed operation: exit 1" 1 "$T_RC"
t_eq "a failed operation: one line on stderr" 1 "$(wc -l < "$E")"
t_eq "with -j the error is JSON on stdout" 1 "$(jq -r .status "$O")"
t_done
