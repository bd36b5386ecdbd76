#!/bin/bash
# stasis sp on good and bad files: every malformed file gets one line on
# stderr naming the file, the frame and the byte offset, and exit status 1;
# bad arguments exit 2; nothing crashes (this also runs on the ASan build).
. "$(dirname "$0")/../lib/common.sh"
W=$T_WORK O=$T_WORK/out E=$T_WORK/err
"$BUILD/tools/spgen" "$W/g.sp" 10 --size 120

t_run "$O" "$E" "$STASIS" sp info "$W/g.sp"
t_eq "info on a good file exits 0" 0 "$T_RC"
t_check "info says it is complete" grep -q "^complete: *yes" "$O"
t_check "info counts per interface and direction" grep -q "out 3 frames 360 bytes, in 2 frames 240 bytes" "$O"
t_eq "-j info: frame count" 10 "$("$STASIS" -j sp info "$W/g.sp" | jq .frames)"

t_eq "cat: one line per frame" 10 "$("$STASIS" sp cat "$W/g.sp" | wc -l)"
t_eq "cat --seq 1002:1004" "1002 1003 1004" "$("$STASIS" -j sp cat "$W/g.sp" --seq 1002:1004 | jq -r '[.[].seq] | join(" ")')"
t_eq "cat --iface up0" 5 "$("$STASIS" -j sp cat "$W/g.sp" --iface up0 | jq length)"
t_eq "cat --hex: the frame's bytes" 240 "$("$STASIS" sp cat "$W/g.sp" --hex --seq 1000 | awk '{print length($NF)}')"

# Malformed files: each one a clear error.
size=$(stat -c %s "$W/g.sp")
bad() {	# NAME: expects exit 1, one stderr line naming file, frame, byte
	local f=$W/$1.sp
	t_run "$O" "$E" "$STASIS" sp cat "$f"
	t_eq "$1: exit 1" 1 "$T_RC"
	t_eq "$1: one line on stderr" 1 "$(wc -l < "$E")"
	t_check "$1: names file, frame and byte ($(cat "$E"))" grep -qE "$f: frame [0-9]+, byte [0-9]+: " "$E"
}
printf 'not a .sp file at all, just text\n' > "$W/magic.sp"; bad magic
cp "$W/g.sp" "$W/version.sp"; printf '\x07' | dd of="$W/version.sp" bs=1 seek=8 conv=notrunc 2>/dev/null; bad version
head -c $((size - 7)) "$W/g.sp" > "$W/trunc-end.sp"; bad trunc-end
head -c $((size / 2)) "$W/g.sp" > "$W/trunc-mid.sp"; bad trunc-mid
head -c 20 "$W/g.sp" > "$W/trunc-head.sp"; bad trunc-head
cp "$W/g.sp" "$W/crc.sp"; printf '\xff' | dd of="$W/crc.sp" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null; bad crc
# A record length pointing far past the end: the second record's length field.
cp "$W/g.sp" "$W/len.sp"; printf '\x00\x00\x00\x01' | dd of="$W/len.sp" bs=1 seek=$((16 + 4)) conv=notrunc 2>/dev/null; bad len
cp "$W/g.sp" "$W/extra.sp"; printf 'junk' >> "$W/extra.sp"; bad extra
: > "$W/empty.sp"; bad empty

t_run "$O" "$E" "$STASIS" sp info "$W/trunc-end.sp"
t_eq "info on a truncated file: exit 1" 1 "$T_RC"
t_check "info still shows the intact frames" grep -q "^frames: *10 " "$O"
t_check "info says it is not complete" grep -q "^complete: *NO" "$O"
t_check "and where the damage is" grep -qE "trunc-end.sp: frame 10, byte [0-9]+: record of 48 bytes goes past the end" "$E"

t_run "$O" "$E" "$STASIS" sp cat "$W/nonexistent.sp"
t_eq "missing file: exit 1" 1 "$T_RC"
t_check "missing file: says so" grep -q "nonexistent.sp: No such file" "$E"

# Bad arguments: exit 2.
for args in "cat" "cat $W/g.sp --seq 5:2" "cat $W/g.sp --bogus" "edit $W/g.sp" \
	    "edit $W/g.sp -o $W/x.sp --set 1:zz" "edit $W/g.sp -o $W/x.sp --set 1:2:abc" \
	    "edit $W/g.sp -o $W/x.sp --delete x" "mutate $W/g.sp -o $W/m --frame 1" \
	    "mutate $W/g.sp -o $W/m --frame 1 --range 1:2 --cases 0" "to-pcapng $W/g.sp" "merge -o $W/x.sp"; do
	t_run "$O" "$E" "$STASIS" sp $args
	t_eq "usage error: sp $(echo "$args" | sed "s|$W/||g")" 2 "$T_RC"
done
t_run "$O" "$E" "$STASIS" sp edit "$W/g.sp" -o "$W/x.sp" --delete 10
t_eq "edit of a frame out of range: exit 1" 1 "$T_RC"
t_check "and no output file" test ! -e "$W/x.sp"
t_run "$O" "$E" "$STASIS" sp edit "$W/crc.sp" -o "$W/x.sp" --delete 1
t_eq "edit of a corrupt file: exit 1, no output" "1 no" "$T_RC $([ -e "$W/x.sp" ] && echo yes || echo no)"

# Edit, then the change is visible and checksums are right.
"$STASIS" sp edit "$W/g.sp" -o "$W/e.sp" --set 2:42:deadbeef --fix-checksums > /dev/null
t_eq "edit --set (and the UDP checksum) shows in diff" "seq 1002: 6 bytes differ, first at offset 40 (" \
	"$("$STASIS" sp diff "$W/g.sp" "$W/e.sp" | head -1 | cut -c1-46)"
t_eq "edited frame bytes" deadbeef "$("$STASIS" sp cat --hex --seq 1002 "$W/e.sp" | awk '{print substr($NF, 85, 8)}')"

# Mutate: deterministic for a seed, different for another.
"$STASIS" sp mutate "$W/g.sp" --frame 3 --range 42:57 --cases 20 --seed 5 -o "$W/m1" > /dev/null 2>&1
"$STASIS" sp mutate "$W/g.sp" --frame 3 --range 42:57 --cases 20 --seed 5 -o "$W/m2" > /dev/null 2>&1
"$STASIS" sp mutate "$W/g.sp" --frame 3 --range 42:57 --cases 20 --seed 6 -o "$W/m3" > /dev/null 2>&1
t_eq "mutate wrote 20 cases" 20 "$(ls "$W/m1"/case-*.sp | wc -l)"
t_check "same seed, same case files" diff -r "$W/m1" "$W/m2"
t_check "another seed, other cases" sh -c "! cmp -s '$W/m1/cases.jsonl' '$W/m3/cases.jsonl'"
t_eq "every case names its strategy" 20 "$(jq -r .strategy "$W/m1/cases.jsonl" | grep -cE '^(random-bytes|bit-flips|boundary-values|length)$')"
t_done
