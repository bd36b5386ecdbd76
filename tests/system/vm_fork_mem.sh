#!/bin/bash
# T_TIMEOUT=900
# Forks share memory (issue 13): 8 copies of a 512 MiB guest that filled
# 400 MiB with a pattern map one memory image copy-on-write. Every copy
# reads all of its pattern back (so every page is in use), yet what the
# copies hold of their own (anonymous memory: the pages they wrote, QEMU's
# heap) is a fraction of one guest, and their proportional share (PSS) a
# fraction of 8 guests. Measured from /proc/PID/smaps_rollup.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/net.sh"
. "$(dirname "$0")/../lib/vm.sh"
vm_test_init
MIB=1048576

echo "mem-pattern 400 --interval-ms 200" > "$T_WORK/run.sh"
t_run "$T_WORK/out" "$T_WORK/err" "$STASIS" vm start f --mem 512 --kernel "$K" --initrd "$I" \
	--append "console=ttyS0 loglevel=3 panic=-1 stasis.name=f" --run "$T_WORK/run.sh"
t_require "vm start f (512 MiB)" test "$T_RC" = 0
t_require "f filled 400 MiB and verified it" wait_line "$STASIS_VM_ROOT/f/console.log" '^mem pass 2 ok' 300
t_run "$T_WORK/out" "$T_WORK/err" "$STASIS" vm save "$T_WORK/snap" f --quit
t_require "vm save --quit" test "$T_RC" = 0
t_run "$T_WORK/out" "$T_WORK/err" "$STASIS" -j vm fork "$T_WORK/snap" --copies 8
t_require "vm fork --copies 8" test "$T_RC" = 0

# each copy verifies all 400 MiB after the fork
ok=0
for c in $(seq 1 8); do
	wait_until 300 at_least 1 sh -c "tr -d '\r' < '$STASIS_VM_ROOT/f-c$c/console.log' | grep -c '^mem pass [0-9]* ok'" &&
		! grep -q BAD "$STASIS_VM_ROOT/f-c$c/console.log" && ok=$((ok + 1))
done
t_eq "all 8 copies read their whole pattern back" 8 "$ok"

anon=0 pss=0 small=0
for c in $(seq 1 8); do
	pid=$(jq .pid "$STASIS_VM_ROOT/f-c$c/vm.json")
	read -r rss p a < <(awk '/^Rss:/ { r = $2 } /^Pss:/ { p = $2 } /^Anonymous:/ { a = $2 }
		END { print r, p, a }' "/proc/$pid/smaps_rollup")
	echo "# f-c$c: Rss $((rss / 1024)) MiB, Pss $((p / 1024)) MiB, Anonymous $((a / 1024)) MiB"
	[ "$rss" -ge $((400 * 1024)) ] || small=$((small + 1))
	anon=$((anon + a)) pss=$((pss + p))
done
echo "# 8 copies: Anonymous $((anon / 1024)) MiB, Pss $((pss / 1024)) MiB (8 x 512 MiB = 4096 MiB)"
t_eq "every copy maps its 400 MiB (Rss)" 0 "$small"
t_check "what the copies own is under a quarter of 8 guests' RAM" \
	test $((anon * 1024)) -lt $((8 * 512 * MIB / 4))
t_check "their proportional share is under half of 8 guests' RAM" \
	test $((pss * 1024)) -lt $((8 * 512 * MIB / 2))
t_done
