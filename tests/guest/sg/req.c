// SPDX-License-Identifier: MIT
/*
 * req-srv / req-cli: the fuzz target. The service answers well-formed
 * requests and counts them; one value of the op field makes it abort (the
 * guest's run script then reports the exit on the console), another makes
 * the whole guest hang (a real-time busy loop with throttling off, so on one
 * vCPU nothing else runs, not even the console). The client sends a request
 * every interval.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <getopt.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "sg.h"

static int opt_op(const char *applet, const char *name, const char *v)
{
	uint64_t x = sg_opt_u64(applet, name, v);

	if (x > 255)
		sg_die(applet, "bad %s '%s' (0-255)", name, v);
	return (int)x;
}

static void hang(void)
{
	struct sched_param sp = { .sched_priority = 99 };
	FILE *f = fopen("/proc/sys/kernel/sched_rt_runtime_us", "w");

	if (f) {
		fputs("-1\n", f);
		fclose(f);
	}
	if (sched_setscheduler(0, SCHED_FIFO, &sp))
		perror("req-srv: sched_setscheduler");
	for (volatile unsigned long i = 0;; i++)
		;
}

int sg_req_srv(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "crash-op", required_argument, 0, 'c' }, { "hang-op", required_argument, 0, 'h' },
		{ 0 },
	};
	int c, fd, crash_op = -1, hang_op = -1;
	uint64_t served = 0;
	struct sockaddr_in sa, from;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c': crash_op = opt_op("req-srv", "crash-op", optarg); break;
		case 'h': hang_op = opt_op("req-srv", "hang-op", optarg); break;
		default: return 2;
		}
	}
	if (argc - optind != 1)
		sg_die("req-srv", "usage: req-srv PORT [--crash-op V] [--hang-op V]");
	sg_parse_addr("req-srv", NULL, argv[optind], &sa);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		sg_die("req-srv", "cannot bind port %s", argv[optind]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("req-srv: ready port=%s served=0\n", argv[optind]);
	for (;;) {
		struct sg_req q;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, &q, sizeof(q), 0, (struct sockaddr *)&from, &fl);

		if (n < 0)
			continue;
		if ((size_t)n < sizeof(q) || be32toh(q.magic) != SG_REQ_MAGIC) {
			printf("req-srv: ignored a bad request (%zd bytes)\n", n);
			continue;
		}
		uint64_t seq = be64toh(q.seq);

		/* The counter as the request found it: what every fuzz case
		 * must show the same. */
		printf("req-srv: got seq=%llu op=%u served=%llu\n", (unsigned long long)seq, q.op,
		       (unsigned long long)served);
		if (q.op == crash_op) {
			printf("req-srv: op %u: abort\n", q.op);
			abort();
		}
		if (q.op == hang_op) {
			printf("req-srv: op %u: hang\n", q.op);
			hang();
		}
		served++;
		struct sg_reply r = { htobe32(SG_REQ_MAGIC), htobe64(seq), htobe64(served) };

		sendto(fd, &r, sizeof(r), 0, (struct sockaddr *)&from, fl);
		printf("req-srv: served=%llu seq=%llu\n", (unsigned long long)served,
		       (unsigned long long)seq);
	}
}

int sg_req_cli(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "interval-ms", required_argument, 0, 'i' }, { "count", required_argument, 0, 'n' },
		{ "op", required_argument, 0, 'o' }, { "client", required_argument, 0, 'c' },
		{ 0 },
	};
	uint64_t interval = 500, count = UINT64_MAX, client = 1;
	int c, fd, op = 1;
	struct sockaddr_in sa;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'i': interval = sg_opt_u64("req-cli", "interval-ms", optarg); break;
		case 'n': count = sg_opt_u64("req-cli", "count", optarg); break;
		case 'o': op = opt_op("req-cli", "op", optarg); break;
		case 'c': client = sg_opt_u64("req-cli", "client", optarg); break;
		default: return 2;
		}
	}
	if (argc - optind != 2)
		sg_die("req-cli", "usage: req-cli DST PORT [--interval-ms MS] [--count N] [--op V]");
	sg_parse_addr("req-cli", argv[optind], argv[optind + 1], &sa);
	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		sg_die("req-cli", "cannot reach %s:%s", argv[optind], argv[optind + 1]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	uint64_t next = sg_now_ns();

	for (uint64_t seq = 0; seq < count; seq++) {
		struct sg_req q = { htobe32(SG_REQ_MAGIC), htobe32((uint32_t)client), htobe64(seq),
				    (uint8_t)op, 0, 0 };
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct sg_reply r;

		if (send(fd, &q, sizeof(q), 0) == (ssize_t)sizeof(q))
			printf("req-cli: sent seq=%llu\n", (unsigned long long)seq);
		next += interval * 1000000ull;
		/* Answers until the next tick (a late one is still printed). */
		for (;;) {
			uint64_t now = sg_now_ns();
			int ms = now < next ? (int)((next - now) / 1000000ull) : 0;

			if (poll(&p, 1, ms) < 1)
				break;
			if (recv(fd, &r, sizeof(r), 0) == (ssize_t)sizeof(r) && be32toh(r.magic) == SG_REQ_MAGIC)
				printf("req-cli: reply seq=%llu served=%llu\n",
				       (unsigned long long)be64toh(r.seq), (unsigned long long)be64toh(r.served));
		}
		sg_sleep_until(next);
	}
	return 0;
}
