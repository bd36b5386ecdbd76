# Frame bytes as independent tools see them, one lowercase hex line per frame,
# for byte-for-byte comparisons with what stasis wrote.

# tcpdump_hex FILE: every frame of a pcap or pcapng file, via tcpdump -xx.
tcpdump_hex() {
	tcpdump -r "$1" -xx -n -s 0 2>/dev/null | awk '
		/^[^ \t]/ { if (started) print hex; hex = ""; started = 1; next }
		/^[ \t]+0x[0-9a-f]+:/ { for (i = 2; i <= NF; i++) hex = hex $i }
		END { if (started) print hex }'
}

# tshark_hex FILE: every frame of a pcap or pcapng file as tshark reads it
# (the raw bytes of its frame layer, from -T json -x).
tshark_hex() { tshark -r "$1" -T json -x 2>/dev/null | jq -r '.[]._source.layers.frame_raw[0]'; }

# tshark_checksums FILE: "IP UDP TCP" checksum status of every frame as
# tshark verifies them (1 good, 0 bad, empty: not that protocol).
tshark_checksums() {
	tshark -r "$1" -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE -o tcp.check_checksum:TRUE \
		-T fields -E separator=' ' -e ip.checksum.status -e udp.checksum.status \
		-e tcp.checksum.status 2>/dev/null
}

# stasis_hex FILE.sp: every frame of a .sp file, via stasis sp cat --hex.
stasis_hex() { "$STASIS" sp cat --hex "$1" | awk '{ print $NF }'; }

# sg_numbers FILE.sp REGEX: the sg datagram number (frame bytes 50-57, the
# payload's bytes 8-15) of every frame whose `sp cat` line matches REGEX, in
# file order. (Other frames, such as IPv6 neighbour discovery, are skipped.)
sg_numbers() {
	"$STASIS" sp cat --hex "$1" | grep -E "$2" | awk '{ print $NF }' |
		while read -r h; do echo $((16#${h:100:16})); done
}

# tcp_segments FILE [FILTER]: "TSVAL SEQ END" of every TCP frame with data in
# a pcap or pcapng file (absolute sequence numbers, as tcpdump -S prints
# them). The timestamp option tells a segment from a retransmission of it:
# TCP stamps every transmission with its clock, a replayed frame keeps the
# stamp it was held with.
tcp_segments() {
	tcpdump -r "$1" -nn -S ${2:+"$2"} 2>/dev/null |
		sed -n 's/.* seq \([0-9]*\):\([0-9]*\),.*TS val \([0-9]*\) .*/\3 \1 \2/p'
}

# tcp_uncovered HELD RX: the lines of HELD (tcp_segments output) whose bytes
# are not all in RX frames with the same timestamp, i.e. held segments that
# did not arrive as they were held (sequence numbers taken modulo 2^32).
tcp_uncovered() {
	awk 'function d(x, y) { return (x - y + 4294967296) % 4294967296 }
	     NR == FNR { n[$1]++; s[$1, n[$1]] = $2; e[$1, n[$1]] = $3; next }
	     {
		len = d($3, $2); pos = 0
		while (pos < len) {
			adv = 0
			for (i = 1; i <= n[$1]; i++) {
				o = d(s[$1, i], $2); l = d(e[$1, i], s[$1, i])
				if (o <= pos && o + l > pos) { pos = o + l; adv = 1 }
			}
			if (!adv) break
		}
		if (pos < len) print
	     }' "$2" "$1"
}
