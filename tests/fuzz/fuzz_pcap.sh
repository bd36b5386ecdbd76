#!/bin/bash
# The pcap/pcapng reader fuzz target, from a seed corpus made here: pcapng
# from to-pcapng (one section and two), classic pcap in µs and ns by
# editcap, a big-endian pcap written by hand, and truncated files.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/fuzz.sh"
C=$T_WORK/corpus
mkdir -p "$C"
"$BUILD/tools/spgen" "$T_WORK/a.sp" 3 --size 60
"$BUILD/tools/spgen" "$T_WORK/b.sp" 2 --size 90 --host other
"$STASIS" sp to-pcapng "$T_WORK/a.sp" -o "$C/a.pcapng" > /dev/null
"$STASIS" sp to-pcapng "$T_WORK/b.sp" -o "$T_WORK/b.pcapng" > /dev/null
cat "$C/a.pcapng" "$T_WORK/b.pcapng" > "$C/two-sections.pcapng"
editcap -F pcap "$C/a.pcapng" "$C/a.pcap" 2> /dev/null
editcap -F nsecpcap "$C/a.pcapng" "$C/a-ns.pcap" 2> /dev/null
# Big-endian classic pcap: header (magic, 2.4, snaplen 65535, Ethernet),
# then one 60-byte frame at t=1.000002.
{ printf '\xa1\xb2\xc3\xd4\x00\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x00\x01'
  printf '\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00\x3c\x00\x00\x00\x3c'
  head -c 60 /dev/zero; } > "$C/be.pcap"
head -c 200 "$C/a.pcapng" > "$C/trunc.pcapng"
head -c 20 "$C/a.pcap" > "$C/trunc-header.pcap"
t_eq "seed corpus made" 7 "$(find "$C" -type f -size +0 | wc -l)"
t_check "the seeds read (but the truncated ones)" sh -c "
	for f in '$C'/a.pcapng '$C'/two-sections.pcapng '$C'/a.pcap '$C'/a-ns.pcap '$C'/be.pcap; do
		'$STASIS' sp from-pcapng \"\$f\" -o '$T_WORK/x.sp' > /dev/null || exit 1
	done"
fuzz_run pcap "the pcap/pcapng reader" "$C"
t_done
