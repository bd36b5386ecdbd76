// SPDX-License-Identifier: MIT
/* IPv4, TCP and UDP checksums of an Ethernet frame, recomputed in place so an
 * edited frame is still accepted by the receiving guest's stack. */
#include <errno.h>
#include "sp-format/sp.h"

static uint32_t sum16(const uint8_t *p, uint32_t len, uint32_t acc)
{
	for (uint32_t i = 0; i + 1 < len; i += 2)
		acc += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		acc += (uint32_t)p[len - 1] << 8;
	return acc;
}

static uint16_t fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

/* The IPv4 packet of an Ethernet frame (VLAN tags skipped): 1 with *ip, *ihl
 * and *tot set, 0 for a frame that is not IPv4, -EINVAL for one too short for
 * the headers it claims. */
static int ipv4_of(uint8_t *p, uint32_t len, uint8_t **ip, uint32_t *ihl, uint32_t *tot)
{
	uint32_t off = 14;
	uint16_t et;

	if (len < 14)
		return 0;
	et = (uint16_t)(p[12] << 8 | p[13]);
	while (et == 0x8100 || et == 0x88a8) {
		if (len < off + 4)
			return -EINVAL;
		et = (uint16_t)(p[off + 2] << 8 | p[off + 3]);
		off += 4;
	}
	if (et != 0x0800)
		return 0;
	if (len < off + 20)
		return -EINVAL;
	*ip = p + off;
	*ihl = ((*ip)[0] & 15u) * 4;
	*tot = (uint32_t)((*ip)[2] << 8 | (*ip)[3]);
	if (((*ip)[0] >> 4) != 4 || *ihl < 20 || *tot < *ihl || off + *tot > len)
		return -EINVAL;
	return 1;
}

/* Where the TCP or UDP checksum of @ip lies in its L4 header: 16, 6, or 0
 * when it has none to compute (another protocol, a fragment, too short). */
static uint32_t l4_check_at(const uint8_t *ip, uint32_t l4len)
{
	if ((ip[6] & 0x3f) || ip[7])
		return 0;	/* a fragment: the checksum covers the whole datagram */
	if (ip[9] == 6 && l4len >= 20)
		return 16;
	if (ip[9] == 17 && l4len >= 8)
		return 6;
	return 0;
}

/* Writes the TCP or UDP checksum at @at of the L4 header after @ip. */
static void l4_write(uint8_t *ip, uint32_t ihl, uint32_t l4len, uint32_t at)
{
	uint8_t *l4 = ip + ihl;
	uint16_t c;

	l4[at] = l4[at + 1] = 0;
	c = fold(sum16(l4, l4len, sum16(ip + 12, 8, 0) + ip[9] + l4len));
	if (!c && at == 6)
		c = 0xffff;	/* a UDP checksum of 0 would mean "none" */
	l4[at] = (uint8_t)(c >> 8);
	l4[at + 1] = (uint8_t)c;
}

int sp__fix_checksums(uint8_t *p, uint32_t len)
{
	uint32_t ihl, tot, at;
	uint8_t *ip;
	uint16_t c;
	int r = ipv4_of(p, len, &ip, &ihl, &tot);

	if (r <= 0)
		return r;
	ip[10] = ip[11] = 0;
	c = fold(sum16(ip, ihl, 0));
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	if (!(at = l4_check_at(ip, tot - ihl)))
		return 1;
	if (at == 6 && !ip[ihl + 6] && !ip[ihl + 7])
		return 1;	/* the sender chose no UDP checksum */
	l4_write(ip, ihl, tot - ihl, at);
	return 1 | (at == 16 ? 2 : 4);
}

int sp__complete_partial(uint8_t *p, uint32_t len)
{
	uint32_t ihl, tot, at, ph;
	uint8_t *ip;
	uint32_t cur;

	if (ipv4_of(p, len, &ip, &ihl, &tot) <= 0 || !(at = l4_check_at(ip, tot - ihl)))
		return 0;
	cur = (uint32_t)(ip[ihl + at] << 8 | ip[ihl + at + 1]);
	ph = sum16(ip + 12, 8, 0) + ip[9];
	/* CHECKSUM_PARTIAL leaves the pseudo-header's folded sum (not inverted)
	 * for the device to finish; some senders leave it without the length
	 * (GSO). A complete checksum that happens to equal it is recomputed to
	 * the same value, so nothing correct is changed. */
	uint32_t with_len = 0xffffu & ~(uint32_t)fold(ph + tot - ihl);
	uint32_t without = 0xffffu & ~(uint32_t)fold(ph);

	if (cur != with_len && cur != without)
		return 0;
	l4_write(ip, ihl, tot - ihl, at);
	return at == 16 ? 2 : 4;
}
