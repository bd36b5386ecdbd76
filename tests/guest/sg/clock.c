// SPDX-License-Identifier: MIT
/*
 * clock-peer: two guests telling each other their clocks. Each sends its
 * CLOCK_MONOTONIC to the other every interval and, per window, prints the
 * least (own clock at arrival - peer's clock sent): the clocks' offset plus
 * the shortest one-way delay. Half the difference of the two guests'
 * figures is their clocks' offset, the delays mostly cancelled; a test sets
 * it before a snapshot against after a restore.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>
#include "sg.h"

#define SG_CLOCK_MAGIC 0x53474331u	/* "SGC1" */
struct sg_clock {
	uint32_t magic;
	uint64_t ns;
} __attribute__((packed));

int sg_clock_peer(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "interval-ms", required_argument, 0, 'i' }, { "window-ms", required_argument, 0, 'w' },
		{ 0 },
	};
	uint64_t interval_ms = 5, window_ms = 1000, next, window_end, n = 0, samples = 0;
	int64_t best = INT64_MAX;
	struct sockaddr_in me, peer;
	int c, fd;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'i')
			interval_ms = sg_opt_u64("clock-peer", "interval", optarg);
		else if (c == 'w')
			window_ms = sg_opt_u64("clock-peer", "window", optarg);
		else
			sg_die("clock-peer", "usage: clock-peer PORT PEER PEER_PORT [--interval-ms MS] [--window-ms MS]");
	}
	if (argc - optind != 3 || !interval_ms || window_ms < interval_ms)
		sg_die("clock-peer", "usage: clock-peer PORT PEER PEER_PORT [--interval-ms MS] [--window-ms MS]");
	sg_parse_addr("clock-peer", NULL, argv[optind], &me);
	sg_parse_addr("clock-peer", argv[optind + 1], argv[optind + 2], &peer);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof(me)))
		sg_die("clock-peer", "socket: %s", strerror(errno));
	next = sg_now_ns();
	window_end = next + window_ms * 1000000ull;
	for (;;) {
		uint64_t now = sg_now_ns();

		if (now >= next) {
			struct sg_clock m = { .magic = htonl(SG_CLOCK_MAGIC) };
			uint64_t t = sg_now_ns();

			m.ns = htobe64(t);
			sendto(fd, &m, sizeof(m), 0, (struct sockaddr *)&peer, sizeof(peer));
			next += interval_ms * 1000000ull;
			if (next < now)		/* fell behind (a stop): no burst to catch up */
				next = now + interval_ms * 1000000ull;
		}
		if (now >= window_end) {
			printf("clock-peer: window %llu min_ns=%lld samples=%llu\n", (unsigned long long)n++,
			       samples ? (long long)best : 0LL, (unsigned long long)samples);
			fflush(stdout);
			best = INT64_MAX;
			samples = 0;
			window_end += window_ms * 1000000ull;
			if (window_end < now)
				window_end = now + window_ms * 1000000ull;
		}
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t wake = next < window_end ? next : window_end, d = wake > now ? wake - now : 0;
		struct timespec ts = { .tv_sec = (time_t)(d / 1000000000ull), .tv_nsec = (long)(d % 1000000000ull) };

		if (ppoll(&p, 1, &ts, NULL) > 0) {
			struct sg_clock m;

			if (recv(fd, &m, sizeof(m), 0) == (ssize_t)sizeof(m) && ntohl(m.magic) == SG_CLOCK_MAGIC) {
				int64_t off = (int64_t)(sg_now_ns() - be64toh(m.ns));

				best = off < best ? off : best;
				samples++;
			}
		}
	}
	return 0;
}
