// SPDX-License-Identifier: MIT
/*
 * spgen: writes a sample .sp file for tests and benchmarks, through the
 * library's writer. Two interfaces (a tap of VM "a", an uplink), UDP/IPv4
 * frames with valid checksums carrying the sg datagram (magic, sender, seq),
 * alternating directions, optionally one GSO-sized frame.
 *   spgen OUT FRAMES [--size BYTES] [--gso] [--epoch E] [--host NAME]
 *         [--time NS] [--orig-extra N]
 * --time: the creation time and first frame's time (frames 1 µs apart);
 * --orig-extra: each frame was N bytes longer on the wire than stored (as
 * from a capture with a snap length).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sp-format/sp.h"

static void frame(uint8_t *p, uint32_t len, uint64_t seq)
{
	static const uint8_t dst[6] = { 0x52, 0x54, 0, 0, 0, 2 }, src[6] = { 0x52, 0x54, 0, 0, 0, 1 };
	uint32_t ip_len = len - 14, udp_len = ip_len - 20;

	memset(p, 0, len);
	memcpy(p, dst, 6);
	memcpy(p + 6, src, 6);
	p[12] = 0x08;
	uint8_t *ip = p + 14;

	ip[0] = 0x45;
	ip[2] = (uint8_t)(ip_len >> 8);
	ip[3] = (uint8_t)ip_len;
	ip[6] = 0x40;	/* DF */
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, (uint8_t[]){ 10, 0, 0, 1 }, 4);
	memcpy(ip + 16, (uint8_t[]){ 10, 0, 0, 2 }, 4);
	uint8_t *udp = ip + 20;

	udp[0] = 0x13; udp[1] = 0x88;	/* 5000 */
	udp[2] = 0x13; udp[3] = 0x88;
	udp[4] = (uint8_t)(udp_len >> 8);
	udp[5] = (uint8_t)udp_len;
	udp[6] = 0xff;	/* non-zero: a checksum is wanted, fixed below */
	uint8_t *d = udp + 8;	/* offset 42: the sg datagram */

	d[0] = 'S'; d[1] = 'G'; d[2] = 'Q'; d[3] = '1';
	for (int i = 0; i < 8; i++)
		d[8 + i] = (uint8_t)(seq >> (56 - 8 * i));
	for (uint32_t i = 16; i < udp_len - 8; i++)
		d[i] = (uint8_t)(seq + i);
	sp__fix_checksums(p, len);
}

int main(int argc, char **argv)
{
	struct sp_header h = { .epoch = 7, .created_ns = 1700000000000000000ull };
	struct sp_iface ifs[2] = {
		{ .ifindex = 5, .mac = { 0xfe, 0, 0, 0, 0, 0xa }, .role = SP_ROLE_TAP },
		{ .ifindex = 9, .mac = { 0xfe, 0, 0, 0, 0, 0xb }, .role = SP_ROLE_UPLINK },
	};
	uint32_t size = 100, orig_extra = 0;
	uint64_t n;
	int gso = 0;
	struct sp_writer *w;
	uint8_t *buf;

	if (argc < 3) {
		fprintf(stderr, "usage: spgen OUT FRAMES [--size BYTES] [--gso] [--epoch E] [--host NAME] "
			"[--time NS] [--orig-extra N]\n");
		return 2;
	}
	n = strtoull(argv[2], NULL, 10);
	snprintf(h.host, sizeof(h.host), "host1");
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--size") && i + 1 < argc)
			size = (uint32_t)strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--gso"))
			gso = 1;
		else if (!strcmp(argv[i], "--epoch") && i + 1 < argc)
			h.epoch = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--host") && i + 1 < argc)
			snprintf(h.host, sizeof(h.host), "%s", argv[++i]);
		else if (!strcmp(argv[i], "--time") && i + 1 < argc)
			h.created_ns = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--orig-extra") && i + 1 < argc)
			orig_extra = (uint32_t)strtoul(argv[++i], NULL, 10);
		else
			return fprintf(stderr, "spgen: bad argument '%s'\n", argv[i]), 2;
	}
	if (size < 60 || size > 65535)
		return fprintf(stderr, "spgen: size 60..65535\n"), 2;
	snprintf(h.tool, sizeof(h.tool), "spgen");
	snprintf(ifs[0].name, sizeof(ifs[0].name), "tap-a");
	snprintf(ifs[0].vm, sizeof(ifs[0].vm), "a");
	snprintf(ifs[1].name, sizeof(ifs[1].name), "up0");
	buf = malloc(65536);
	if (!buf || sp_writer__open(&w, argv[1], &h, ifs, 2))
		return fprintf(stderr, "spgen: cannot write %s\n", argv[1]), 1;
	for (uint64_t i = 0; i < n; i++) {
		uint32_t len = gso && i == n / 2 ? 60000 : size;
		struct sp_frame f = {
			.seq = 1000 + i, .ts_ns = h.created_ns + i * 1000, .iface = (uint32_t)(i % 2),
			.dir = (uint8_t)((i / 2) % 2), .flags = len > 9000 ? SP_F_GSO : 0,
			.orig_len = len + orig_extra, .cap_len = len, .data = buf,
		};

		frame(buf, len, f.seq);
		if (sp_writer__frame(w, &f))
			return fprintf(stderr, "spgen: write failed\n"), 1;
	}
	if (sp_writer__close(w))
		return fprintf(stderr, "spgen: close failed\n"), 1;
	free(buf);
	return 0;
}
