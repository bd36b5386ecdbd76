#!/bin/bash
# Each library exports only its prefixed API (issue 15): nm lists no helper,
# the utility library is inside every library but local to it, and a program
# with helpers of the same names as ours links against all of them.
. "$(dirname "$0")/../lib/common.sh"
W=$T_WORK
L=$BUILD/lib

declare -A PREFIX=(
	[bpf]='stasis_(bpf|prog)__'
	[loader]='loader__'
	[vmctl]='(vm|vm_group|snap|qmp|vmctl)__'
	[sp]='sp(_reader|_writer)?__'
	[coord]='coord(_[a-z_]+)?__|fuzz(_[a-z_]+)?__'
)
for lib in bpf loader vmctl sp coord; do
	a=$L/libstasis_$lib.a
	t_require "libstasis_$lib.a is built" test -f "$a"
	# (__odr_asan.NAME: ASan's marker beside each exported variable, not API)
	nm -g --defined-only "$a" | awk 'NF == 3 && $3 !~ /^__odr_asan\./ { print $3 }' | sort > "$W/$lib.api"
	t_check "libstasis_$lib.a exports an API" test -s "$W/$lib.api"
	grep -Ev "^(${PREFIX[$lib]})[a-z0-9_]+$" "$W/$lib.api" > "$W/$lib.bad"
	t_eq "libstasis_$lib.a: every global is ${PREFIX[$lib]}*" "" "$(tr '\n' ' ' < "$W/$lib.bad")"
	# Undefined symbols it needs from a sibling must be that sibling's API,
	# never a helper the sibling hides.
	nm -u "$a" | awk '{ print $2 }' | grep -E '^(util_|mkdir_p|rm_rf|opt_|host_map|link_by)' > "$W/$lib.undef"
	t_eq "libstasis_$lib.a needs no hidden helper from elsewhere" "" "$(tr '\n' ' ' < "$W/$lib.undef")"
done
# One error channel per library: one message function, and no API function
# that fills a caller's buffer with an error.
declare -A ERRFN=([bpf]=stasis_bpf__errmsg [loader]=loader__errmsg [vmctl]=vmctl__errmsg
		  [sp]=sp__errmsg [coord]=coord__errmsg)
for lib in bpf loader vmctl sp coord; do
	t_eq "libstasis_$lib.a: one message function, ${ERRFN[$lib]}" "${ERRFN[$lib]}" \
		"$(grep -E '(errmsg|_error|errstr)$' "$W/$lib.api" | tr '\n' ' ' | sed 's/ $//')"
done
HDRS="bpf/stasis_bpf.h loader/loader.h vmctl/vmctl.h sp-format/sp.h coordinator/coord.h
      coordinator/fuzz.h coordinator/agent.h coordinator/manifest.h coordinator/part.h"
t_eq "no public function takes an error buffer" "" \
	"$(cd "$ROOT" && grep -nE 'char \*(err|why)\b|errlen' $HDRS | tr '\n' ' ')"
# Every public options struct starts with its size.
for h in $HDRS; do
	awk -v h="$h" '/^struct [a-z_]*_opts \{/ { name = $2; getline; if ($0 !~ /^\tsize_t sz;/) print h ": " name }' \
		"$ROOT/$h"
done > "$W/nosz"
t_eq "every public *_opts struct starts with size_t sz" "" "$(tr '\n' ' ' < "$W/nosz")"
n_opts=$(cd "$ROOT" && cat $HDRS | grep -c '^struct [a-z_]*_opts {')
t_check "  (and there are such structs to check: $n_opts)" test "$n_opts" -ge 10

# The utility library is linked into the libraries that use it, local.
t_check "util_mkdir_p is inside libstasis_vmctl.a, local" sh -c "nm '$L/libstasis_vmctl.a' | grep -q ' t util_mkdir_p$'"
t_check "util_fsync_parent is inside libstasis_sp.a, local" sh -c "nm '$L/libstasis_sp.a' | grep -q ' t util_fsync_parent$'"
t_check "vmctl's option helpers are local" sh -c "nm '$L/libstasis_vmctl.a' | grep -q ' t opt_get$'"

# A user's program with functions named like our helpers links with every
# library and calls both its own and the API.
cat > "$W/user.c" <<'EOF'
#include <stdio.h>
#include "vmctl/vmctl.h"
#include "sp-format/sp.h"
int mkdir_p(void) { return 1; }
int rm_rf(void) { return 2; }
int util_mkdir_p(void) { return 3; }
int opt_get(void) { return 4; }
int host_map(void) { return 5; }
int main(void)
{
	printf("%d %d %d %d %d %d\n", mkdir_p(), rm_rf(), util_mkdir_p(), opt_get(), host_map(),
	       vmctl__name_valid("ok-name") == 0 && vmctl__name_valid("..") < 0);
	return 0;
}
EOF
cc=${CC:-gcc}
SAN_LDFLAGS=
case $BUILD in */build-san) SAN_LDFLAGS=-fsanitize=address,undefined ;; esac
t_require "a program with our helpers' names links with all the libraries" \
	$cc -std=gnu11 -I"$ROOT" $(pkg-config --cflags jansson) -o "$W/user" "$W/user.c" \
	"$L/libstasis_coord.a" "$L/libstasis_loader.a" "$L/libstasis_vmctl.a" \
	"$L/libstasis_sp.a" "$L/libstasis_bpf.a" \
	$(pkg-config --libs libbpf libxdp libnl-3.0 libnl-route-3.0 libmosquitto jansson) \
	-lelf -lz -lpthread -lm -ldl $SAN_LDFLAGS
t_eq "  and calls its own helpers and the API" "1 2 3 4 5 1" "$("$W/user" 2>&1)"
t_done
