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

int sp__fix_checksums(uint8_t *p, uint32_t len)
{
	uint32_t off = 14, ihl, tot, l4len;
	uint16_t et, c;
	uint8_t *ip, *l4;
	int done = 0;

	if (len < 14)
		return 0;
	et = (uint16_t)(p[12] << 8 | p[13]);
	while (et == 0x8100 || et == 0x88a8) {	/* VLAN tags */
		if (len < off + 4)
			return -EINVAL;
		et = (uint16_t)(p[off + 2] << 8 | p[off + 3]);
		off += 4;
	}
	if (et != 0x0800)
		return 0;
	if (len < off + 20)
		return -EINVAL;
	ip = p + off;
	ihl = (ip[0] & 15u) * 4;
	tot = (uint32_t)(ip[2] << 8 | ip[3]);
	if ((ip[0] >> 4) != 4 || ihl < 20 || tot < ihl || off + tot > len)
		return -EINVAL;
	ip[10] = ip[11] = 0;
	c = fold(sum16(ip, ihl, 0));
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	done |= 1;
	/* A fragment carries only part of the datagram its L4 checksum covers. */
	if ((ip[6] & 0x3f) || ip[7])
		return done;
	l4 = ip + ihl;
	l4len = tot - ihl;
	uint32_t pseudo = sum16(ip + 12, 8, 0) + ip[9] + l4len;

	if (ip[9] == 6 && l4len >= 20) {
		l4[16] = l4[17] = 0;
		c = fold(sum16(l4, l4len, pseudo));
		l4[16] = (uint8_t)(c >> 8);
		l4[17] = (uint8_t)c;
		done |= 2;
	} else if (ip[9] == 17 && l4len >= 8) {
		if (!l4[6] && !l4[7])
			return done;	/* sender chose no checksum */
		l4[6] = l4[7] = 0;
		c = fold(sum16(l4, l4len, pseudo));
		if (!c)
			c = 0xffff;	/* 0 would mean "no checksum" */
		l4[6] = (uint8_t)(c >> 8);
		l4[7] = (uint8_t)c;
		done |= 4;
	}
	return done;
}
