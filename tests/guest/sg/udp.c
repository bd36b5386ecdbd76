// SPDX-License-Identifier: MIT
/* udp-send / udp-recv: numbered datagrams, and a receiver that tells what
 * arrived: count, gaps, duplicates and reordering. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "sg.h"

/* SIGTERM ends a sender early, with its report: a test that needs a flow
 * for as long as its own steps take starts one with a large count and
 * stops it when they are done, then compares sent= with what arrived. */
static volatile sig_atomic_t send_stop;

static void on_term(int sig)
{
	(void)sig;
	send_stop = 1;
}

int sg_udp_send(int argc, char **argv)
{
	struct sigaction term = { .sa_handler = on_term };
	static const struct option opts[] = {
		{ "rate", required_argument, 0, 'r' }, { "size", required_argument, 0, 's' },
		{ "sender", required_argument, 0, 'i' }, { "start", required_argument, 0, 'S' },
		{ 0 },
	};
	uint64_t rate = 0, size = sizeof(struct sg_dgram), sender = 0, start = 0, count;
	uint64_t sent = 0, errors = 0, t0;
	struct sockaddr_in sa;
	char buf[65536];
	int c, fd;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r': rate = sg_opt_u64("udp-send", "rate", optarg); break;
		case 's': size = sg_opt_u64("udp-send", "size", optarg); break;
		case 'i': sender = sg_opt_u64("udp-send", "sender", optarg); break;
		case 'S': start = sg_opt_u64("udp-send", "start", optarg); break;
		default: return 2;
		}
	}
	if (argc - optind != 3)
		sg_die("udp-send", "usage: udp-send DST PORT COUNT [--rate PPS] [--size B]");
	sg_parse_addr("udp-send", argv[optind], argv[optind + 1], &sa);
	count = sg_opt_u64("udp-send", "count", argv[optind + 2]);
	if (size < sizeof(struct sg_dgram) || size > 65000)
		sg_die("udp-send", "size must be %zu..65000", sizeof(struct sg_dgram));
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		sg_die("udp-send", "socket: %s", strerror(errno));
	memset(buf, 0, sizeof(buf));
	printf("udp-send: start count=%llu rate=%llu size=%llu\n",
	       (unsigned long long)count, (unsigned long long)rate, (unsigned long long)size);
	fflush(stdout);
	sigaction(SIGTERM, &term, NULL);
	t0 = sg_now_ns();
	for (uint64_t i = 0; i < count && !send_stop; i++) {
		struct sg_dgram d = {
			.magic = htonl(SG_MAGIC), .sender = htonl((uint32_t)sender),
			.seq = htobe64(start + i),
		};

		if (rate) {
			uint64_t due = t0 + i * 1000000000ull / rate;

			/* Sleep only when well ahead: keeps the rate without a
			 * syscall per datagram at high rates. */
			if (due > sg_now_ns() + 200000)
				sg_sleep_until(due);
		}
		memcpy(buf, &d, sizeof(d));
		/* ECONNREFUSED reports an ICMP error for an earlier datagram;
		 * this one was not sent, so send it again. */
		while (send(fd, buf, size, 0) < 0) {
			if (errno != ECONNREFUSED && errno != ENOBUFS && errno != EINTR)
				sg_die("udp-send", "send: %s", strerror(errno));
			if (errno != EINTR)
				errors++;
		}
		sent++;
	}
	printf("udp-send: done sent=%llu errors=%llu ms=%llu\n", (unsigned long long)sent,
	       (unsigned long long)errors, (unsigned long long)((sg_now_ns() - t0) / 1000000));
	fflush(stdout);
	close(fd);
	return 0;
}

struct seen {
	uint8_t *bits;
	uint64_t nbits;
};

/* Mark @seq; returns 1 when it was already marked. Sequence numbers are
 * bounded (2^28) so a stray datagram cannot make us allocate without end. */
static int seen_mark(struct seen *s, uint64_t seq)
{
	if (seq >= (1ull << 28))
		return 0;
	if (seq >= s->nbits) {
		uint64_t n = s->nbits ? s->nbits : 65536;

		while (n <= seq)
			n *= 2;
		s->bits = realloc(s->bits, n / 8);
		if (!s->bits)
			sg_die("udp-recv", "out of memory");
		memset(s->bits + s->nbits / 8, 0, (n - s->nbits) / 8);
		s->nbits = n;
	}
	if (s->bits[seq / 8] & (1u << (seq % 8)))
		return 1;
	s->bits[seq / 8] |= 1u << (seq % 8);
	return 0;
}

int sg_udp_recv(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, 0, 'c' }, { "idle-ms", required_argument, 0, 'i' },
		{ "timeout-ms", required_argument, 0, 't' }, { "verbose", no_argument, 0, 'v' },
		{ "progress-ms", required_argument, 0, 'p' }, { "sender", required_argument, 0, 's' },
		{ 0 },
	};
	uint64_t want = 0, idle_ms = 0, timeout_ms = 0, progress_ms = 0, tprog = 0;
	uint64_t received = 0, unique = 0, dup = 0, reordered = 0, bad = 0;
	uint64_t first = 0, last = 0, minseq = 0, maxseq = 0, t0, tlast;
	/* --sender: the one expected; a datagram from another is told with
	 * its number (a test that edited a held frame looks for it) and
	 * counted by number like the rest. */
	int64_t sender = -1;
	/* A replay at full speed bursts tens of thousands of datagrams at
	 * once: a receiver that drops them in its own socket would blame the
	 * hold for what the test rig lost. FORCE (root) goes past rmem_max. */
	int verbose = 0, c, fd, one = 1, rcvbuf = 64 << 20;
	struct seen seen = { 0 };
	struct sockaddr_in sa;
	const char *why = "idle";
	char buf[65536];

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c': want = sg_opt_u64("udp-recv", "count", optarg); break;
		case 'i': idle_ms = sg_opt_u64("udp-recv", "idle-ms", optarg); break;
		case 't': timeout_ms = sg_opt_u64("udp-recv", "timeout-ms", optarg); break;
		case 'v': verbose = 1; break;
		case 'p': progress_ms = sg_opt_u64("udp-recv", "progress-ms", optarg); break;
		case 's': sender = (int64_t)(uint32_t)sg_opt_u64("udp-recv", "sender", optarg); break;
		default: return 2;
		}
	}
	if (argc - optind != 1)
		sg_die("udp-recv", "usage: udp-recv PORT [--count N] [--idle-ms MS] [--timeout-ms MS] [--sender S]");
	sg_parse_addr("udp-recv", NULL, argv[optind], &sa);
	sa.sin_addr.s_addr = htonl(INADDR_ANY);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		sg_die("udp-recv", "socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* SG_RCVBUF (bytes): another size (the kernel-matrix guest sets it). */
	if (getenv("SG_RCVBUF")) {
		uint64_t v = sg_opt_u64("udp-recv", "SG_RCVBUF", getenv("SG_RCVBUF"));

		rcvbuf = v > (1u << 30) ? 1 << 30 : (int)v;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		sg_die("udp-recv", "bind: %s", strerror(errno));
	printf("udp-recv: ready port=%u\n", ntohs(sa.sin_port));
	fflush(stdout);
	t0 = tlast = sg_now_ns();
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t now = sg_now_ns();
		int64_t wait = -1;

		if (want && unique >= want) {
			why = "count";
			break;
		}
		if (idle_ms && received)
			wait = (int64_t)((tlast + idle_ms * 1000000ull - now) / 1000000);
		if (timeout_ms) {
			int64_t left = (int64_t)((t0 + timeout_ms * 1000000ull - now) / 1000000);

			if (wait < 0 || left < wait)
				wait = left;
		}
		if (progress_ms) {
			/* A line now and then, so a test can see where a flow stands
			 * while it is held. */
			if (now >= tprog + progress_ms * 1000000ull) {
				printf("udp-recv: progress unique=%llu max=%llu dup=%llu reordered=%llu\n",
				       (unsigned long long)unique, (unsigned long long)maxseq,
				       (unsigned long long)dup, (unsigned long long)reordered);
				fflush(stdout);
				tprog = now;
			}
			if (wait < 0 || (int64_t)progress_ms < wait)
				wait = (int64_t)progress_ms;
		}
		if ((idle_ms && received && now >= tlast + idle_ms * 1000000ull)) {
			why = "idle";
			break;
		}
		if (timeout_ms && now >= t0 + timeout_ms * 1000000ull) {
			why = "timeout";
			break;
		}
		if (poll(&p, 1, wait < 0 ? -1 : (int)wait + 1) <= 0)
			continue;
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct sg_dgram d;

		if (n < (ssize_t)sizeof(d)) {
			bad++;
			continue;
		}
		memcpy(&d, buf, sizeof(d));
		if (ntohl(d.magic) != SG_MAGIC) {
			bad++;
			continue;
		}
		uint64_t seq = be64toh(d.seq);

		tlast = sg_now_ns();
		if (verbose)
			printf("udp-recv: seq=%llu\n", (unsigned long long)seq);
		if (sender >= 0 && ntohl(d.sender) != (uint32_t)sender) {
			printf("udp-recv: other sender=%u seq=%llu\n", ntohl(d.sender),
			       (unsigned long long)seq);
			fflush(stdout);
		}
		if (!received++)
			first = seq;
		last = seq;
		if (seen_mark(&seen, seq)) {
			dup++;
			continue;
		}
		unique++;
		if (unique > 1 && seq < maxseq)
			reordered++;
		if (seq > maxseq || unique == 1)
			maxseq = seq;
		if (seq < minseq || unique == 1)
			minseq = seq;
	}
	/* Gaps: numbers missing in 0..count-1, or between the lowest and the
	 * highest seen when no count was given. */
	uint64_t lo = want ? 0 : minseq, hi = want ? want - 1 : maxseq, gaps = 0;

	if (unique || want)
		for (uint64_t s = lo; s <= hi && s < (1ull << 28); s++)
			if (s >= seen.nbits || !(seen.bits[s / 8] & (1u << (s % 8))))
				gaps++;
	printf("udp-recv: done received=%llu unique=%llu gaps=%llu dup=%llu reordered=%llu "
	       "bad=%llu first=%llu last=%llu max=%llu end=%s\n",
	       (unsigned long long)received, (unsigned long long)unique,
	       (unsigned long long)gaps, (unsigned long long)dup,
	       (unsigned long long)reordered, (unsigned long long)bad,
	       (unsigned long long)first, (unsigned long long)last,
	       (unsigned long long)maxseq, why);
	fflush(stdout);
	free(seen.bits);
	close(fd);
	return 0;
}
