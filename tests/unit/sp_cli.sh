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

# from-pcapng: a classic pcap header cut short (its link type is at byte 20),
# and files too short for any capture format.
for n in 12 20 23; do
	printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x01\x00\x00\x00' |
		head -c $n > "$W/short.pcap"
	t_run "$O" "$E" "$STASIS" sp from-pcapng "$W/short.pcap" -o "$W/short.sp"
	t_eq "pcap header of $n bytes: exit 1, one line, no output" "1 1 no" \
		"$T_RC $(wc -l < "$E") $([ -e "$W/short.sp" ] && echo yes || echo no)"
	t_check "and it says so ($(cat "$E"))" \
		grep -q "short.pcap: frame 0, byte 0: truncated pcap file header ($n of 24 bytes)" "$E"
done
printf '\x0a\x0d\x0d\x0a\x1c' > "$W/short.pcapng"
t_run "$O" "$E" "$STASIS" sp from-pcapng "$W/short.pcapng" -o "$W/short.sp"
t_eq "a 5-byte file: exit 1" 1 "$T_RC"
t_check "and it says so ($(cat "$E"))" grep -q "short.pcapng: frame 0, byte 0: too short for pcap or pcapng (5 bytes)" "$E"

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

# --fix-checksums alone fixes every frame: break the UDP checksum of frame 2
# and the IPv4 header checksum of frame 3 (spgen writes them right, which
# tshark confirms in tests/integration/sp_pcap.sh), and it puts back exactly
# the bytes they had; nothing else changes but the edited flag.
quiet "$STASIS" sp edit "$W/g.sp" -o "$W/broken.sp" --set 2:40:1234 --set 3:24:0000
t_eq "the checksums are broken" 2 "$("$STASIS" sp diff "$W/g.sp" "$W/broken.sp" | grep -c 'bytes differ')"
t_run "$O" "$E" "$STASIS" sp edit "$W/broken.sp" -o "$W/fixed.sp" --fix-checksums
t_eq "edit --fix-checksums alone: exit 0" 0 "$T_RC"
t_eq "and the bytes are back, frames 2 and 3 marked edited" \
	"seq 1002: flags 0x0 vs 0x2|seq 1003: flags 0x0 vs 0x2|different: 2 differences" \
	"$("$STASIS" sp diff "$W/g.sp" "$W/fixed.sp" | paste -sd '|')"
t_check "the fix is recorded in a note" grep -q '"edit":"fix-checksums"' <("$STASIS" sp info "$W/fixed.sp")

# diff sees every field of a frame: time, original length, interface table.
"$BUILD/tools/spgen" "$W/t.sp" 10 --size 120 --time 1700000000000000007
"$BUILD/tools/spgen" "$W/ol.sp" 10 --size 120 --orig-extra 3
t_eq "diff: capture times" "seq 1000: time 1700000000000000000 vs 1700000000000000007 ns|10" \
	"$("$STASIS" sp diff "$W/g.sp" "$W/t.sp" | head -1)|$("$STASIS" sp diff "$W/g.sp" "$W/t.sp" | grep -c ' ns$')"
t_eq "diff: original lengths" "seq 1009: original length 120 vs 123|different: 10 differences" \
	"$("$STASIS" sp diff "$W/g.sp" "$W/ol.sp" | tail -2 | paste -sd '|')"
t_eq "diff -j: not identical" "false 10" "$("$STASIS" -j sp diff "$W/g.sp" "$W/ol.sp" | jq -r '"\(.identical) \(.differences)"')"
t_eq "diff of a file with itself: identical" true "$("$STASIS" -j sp diff "$W/g.sp" "$W/g.sp" | jq .identical)"

# merge: several hosts' files into one, in capture-time order (ties: the
# order of the inputs), every interface with its host. The sizes tell
# which input a frame came from.
"$BUILD/tools/spgen" "$W/h1.sp" 4 --size 100 --host h1 --time 1000000000
"$BUILD/tools/spgen" "$W/h2.sp" 4 --size 200 --host h2 --time 1000000500
"$BUILD/tools/spgen" "$W/h3.sp" 2 --size 300 --host h3 --time 1000000000
t_run "$O" "$E" "$STASIS" sp merge "$W/h1.sp" "$W/h2.sp" "$W/h3.sp" -o "$W/merged.sp"
t_eq "merge: exit 0" 0 "$T_RC"
t_check "merge reports what it wrote" grep -q "merged.sp: 10 frames, 6 interfaces" "$O"
t_eq "merge: frames by time, ties in input order" "100 300 200 100 300 200 100 200 100 200" \
	"$("$STASIS" -j sp cat "$W/merged.sp" | jq -r '[.[].orig_len] | join(" ")')"
t_eq "merge: each interface with its host" "tap-a@h1 up0@h1 tap-a@h2 up0@h2 tap-a@h3 up0@h3" \
	"$("$STASIS" -j sp info "$W/merged.sp" | jq -r '[.interfaces[] | "\(.name)@\(.host)"] | join(" ")')"
t_eq "merge: the header names all hosts" "h1,h2,h3" "$("$STASIS" -j sp info "$W/merged.sp" | jq -r .host)"
t_check "merge: frames keep their bytes" cmp -s <("$STASIS" sp cat --hex "$W/h2.sp" | awk '{print $NF}') \
	<("$STASIS" sp cat --hex "$W/merged.sp" | awk 'length($NF) == 400 {print $NF}')
t_run "$O" "$E" "$STASIS" sp merge "$W/h1.sp" "$W/crc.sp" -o "$W/merged2.sp"
t_eq "merge with a corrupt input: exit 1, no output" "1 no" "$T_RC $([ -e "$W/merged2.sp" ] && echo yes || echo no)"
t_check "and the error names it ($(cat "$E"))" grep -qE "crc.sp: frame [0-9]+, byte [0-9]+: " "$E"

# Mutate: deterministic for a seed, different for another.
"$STASIS" sp mutate "$W/g.sp" --frame 3 --range 42:57 --cases 20 --seed 5 -o "$W/m1" > /dev/null 2>&1
"$STASIS" sp mutate "$W/g.sp" --frame 3 --range 42:57 --cases 20 --seed 5 -o "$W/m2" > /dev/null 2>&1
"$STASIS" sp mutate "$W/g.sp" --frame 3 --range 42:57 --cases 20 --seed 6 -o "$W/m3" > /dev/null 2>&1
t_eq "mutate wrote 20 cases" 20 "$(ls "$W/m1"/case-*.sp | wc -l)"
t_check "same seed, same case files" diff -r "$W/m1" "$W/m2"
t_check "another seed, other cases" sh -c "! cmp -s '$W/m1/cases.jsonl' '$W/m3/cases.jsonl'"
t_eq "every case names its strategy" 20 "$(jq -r .strategy "$W/m1/cases.jsonl" | grep -cE '^(random-bytes|bit-flips|boundary-values|length)$')"
# Over enough cases every strategy occurs, and each describes what it did:
# length cases change the length, the others change bytes in the range.
"$STASIS" sp mutate "$W/g.sp" --frame 3 --range 42:57 --cases 200 --seed 11 -o "$W/m4" > /dev/null 2>&1
t_eq "all four strategies occur in 200 cases" "bit-flips boundary-values length random-bytes" \
	"$(jq -r .strategy "$W/m4/cases.jsonl" | sort -u | paste -sd ' ')"
t_eq "length cases change the length, others bytes within 42..57" 200 \
	"$(jq -c 'select((.strategy == "length" and .length.new != .length.old) or
		  (.strategy != "length" and .length.new == .length.old and (.changes | length) > 0 and
		   all(.changes[]; .offset >= 42 and .offset <= 57)))' "$W/m4/cases.jsonl" | wc -l)"
t_eq "boundary values are 00, 7f, 80 or ff" "" \
	"$(jq -r 'select(.strategy == "boundary-values") | .changes[].new' "$W/m4/cases.jsonl" | grep -vE '^(00|7f|80|ff)$' | sort -u)"
t_done
