// SPDX-License-Identifier: MIT
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "sg.h"

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *usage;
} applets[] = {
	{ "udp-send", sg_udp_send, "DST PORT COUNT [--rate PPS] [--size BYTES] [--sender ID] [--start SEQ]" },
	{ "udp-recv", sg_udp_recv, "PORT [--count N] [--idle-ms MS] [--timeout-ms MS] [--progress-ms MS] [--verbose]" },
	{ "tcp-send", sg_tcp_send, "DST PORT BYTES" },
	{ "tcp-sink", sg_tcp_sink, "PORT" },
	{ "ticker",   sg_ticker,   "[--interval-ms MS] [--count N]" },
	{ "clock-peer", sg_clock_peer, "PORT PEER PEER_PORT [--interval-ms MS] [--window-ms MS]" },
	{ "req-srv",  sg_req_srv,  "PORT [--crash-op V] [--hang-op V]" },
	{ "req-cli",  sg_req_cli,  "DST PORT [--interval-ms MS] [--count N] [--op V]" },
	{ "mem-pattern", sg_mem_pattern, "MIB [--seed S] [--interval-ms MS]" },
	{ "work-timer", sg_work_timer, "[--mib MIB] [--count N]" },
};

uint64_t sg_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void sg_sleep_until(uint64_t deadline_ns)
{
	struct timespec ts = { .tv_sec = deadline_ns / 1000000000ull,
			       .tv_nsec = deadline_ns % 1000000000ull };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

int sg_parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return (errno || *end) ? -1 : 0;
}

uint64_t sg_opt_u64(const char *applet, const char *name, const char *v)
{
	uint64_t x;

	if (sg_parse_u64(v, &x))
		sg_die(applet, "bad %s '%s'", name, v);
	return x;
}

void sg_parse_addr(const char *applet, const char *host, const char *port, struct sockaddr_in *sa)
{
	uint64_t p = sg_opt_u64(applet, "port", port);

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (p > 65535 || (host && inet_pton(AF_INET, host, &sa->sin_addr) != 1))
		sg_die(applet, "bad address %s:%s", host ? host : "", port);
	sa->sin_port = htons((uint16_t)p);
}

void sg_die(const char *applet, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", applet);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

int main(int argc, char **argv)
{
	const char *self = strrchr(argv[0], '/');

	self = self ? self + 1 : argv[0];
	/* Called by applet name (symlink), or as "sg APPLET ...". */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < sizeof(applets) / sizeof(applets[0]); i++)
			if (!strcmp(self, applets[i].name))
				return applets[i].fn(argc, argv);
		if (argc < 2)
			break;
		self = argv[1];
		argc--;
		argv++;
	}
	fprintf(stderr, "usage: sg APPLET ARGS\n");
	for (size_t i = 0; i < sizeof(applets) / sizeof(applets[0]); i++)
		fprintf(stderr, "  sg %s %s\n", applets[i].name, applets[i].usage);
	return 2;
}
