// SPDX-License-Identifier: MIT
/*
 * Software TCP segmentation of a GSO super-frame, for replay: a frame held
 * at egress before the stack cut it into wire-sized segments is cut here,
 * the way the device would have (IPv4 ids counting up, TCP sequence numbers
 * advancing, FIN and PSH on the last segment only, CWR on the first only,
 * checksums complete).
 */
#include <errno.h>
#include <string.h>
#include "sp-format/sp.h"

int sp__segment_tcp(const uint8_t *p, uint32_t len, uint32_t mtu,
		   int (*emit)(const uint8_t *seg, uint32_t len, void *ctx), void *ctx)
{
	uint8_t seg[65536];
	uint32_t off = 14, ihl, tot, doff, hdrs, payload, mss, seq;
	uint16_t et, id;

	if (len < 14)
		return -EINVAL;
	et = (uint16_t)(p[12] << 8 | p[13]);
	while (et == 0x8100 || et == 0x88a8) {
		if (len < off + 4)
			return -EINVAL;
		et = (uint16_t)(p[off + 2] << 8 | p[off + 3]);
		off += 4;
	}
	if (et != 0x0800 || len < off + 20)
		return -EPROTONOSUPPORT;
	const uint8_t *ip = p + off;

	ihl = (ip[0] & 15u) * 4;
	tot = (uint32_t)(ip[2] << 8 | ip[3]);
	if (ihl < 20 || ip[9] != 6)
		return -EPROTONOSUPPORT;
	/* A super-frame's IPv4 total length may be stale or 0: the frame's
	 * length is what counts. */
	if (tot == 0 || off + tot > len)
		tot = len - off;
	if (len < off + ihl + 20)
		return -EINVAL;
	const uint8_t *tcp = ip + ihl;

	doff = (tcp[12] >> 4) * 4u;
	hdrs = off + ihl + doff;
	if (doff < 20 || hdrs > off + tot || mtu <= ihl + doff)
		return -EINVAL;
	payload = off + tot - hdrs;
	mss = mtu - ihl - doff;
	if (payload <= mss)	/* fits as it is */
		return emit(p, off + tot, ctx);
	seq = (uint32_t)tcp[4] << 24 | (uint32_t)tcp[5] << 16 | (uint32_t)tcp[6] << 8 | tcp[7];
	id = (uint16_t)(ip[4] << 8 | ip[5]);
	for (uint32_t done = 0, i = 0; done < payload; i++) {
		uint32_t n = payload - done < mss ? payload - done : mss;
		uint32_t slen = hdrs + n, s_tot = ihl + doff + n, s_seq = seq + done;
		uint16_t s_id = (uint16_t)(id + i);
		uint8_t *sip = seg + off, *stcp = sip + ihl;
		int ret;

		memcpy(seg, p, hdrs);
		memcpy(seg + hdrs, p + hdrs + done, n);
		sip[2] = (uint8_t)(s_tot >> 8);
		sip[3] = (uint8_t)s_tot;
		sip[4] = (uint8_t)(s_id >> 8);
		sip[5] = (uint8_t)s_id;
		stcp[4] = (uint8_t)(s_seq >> 24);
		stcp[5] = (uint8_t)(s_seq >> 16);
		stcp[6] = (uint8_t)(s_seq >> 8);
		stcp[7] = (uint8_t)s_seq;
		if (done + n < payload)
			stcp[13] &= (uint8_t)~0x09;	/* FIN, PSH: last segment only */
		if (i > 0)
			stcp[13] &= (uint8_t)~0x80;	/* CWR: first segment only */
		sp__fix_checksums(seg, slen);
		if ((ret = emit(seg, slen, ctx)))
			return ret;
		done += n;
	}
	return 0;
}
