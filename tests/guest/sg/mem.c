// SPDX-License-Identifier: MIT
/*
 * mem-pattern: fill MIB of memory with a known pattern, then verify all of
 * it again and again ("mem pass N ok"), so a test can tell that a restored
 * guest has every page it saved and goes on from the saved pass.
 * work-timer: time a fixed piece of work (a walk over every page of a
 * buffer) with gettimeofday, once per line, as the guest perceives it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include "sg.h"

static uint64_t mix(uint64_t x)	/* splitmix64 */
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

int sg_mem_pattern(int argc, char **argv)
{
	uint64_t mib = 0, seed = 1, interval_ms = 500, words, *m;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = sg_opt_u64("mem-pattern", "seed", argv[++i]);
		else if (!strcmp(argv[i], "--interval-ms") && i + 1 < argc)
			interval_ms = sg_opt_u64("mem-pattern", "interval", argv[++i]);
		else if (!mib && argv[i][0] != '-')
			mib = sg_opt_u64("mem-pattern", "size", argv[i]);
		else
			sg_die("mem-pattern", "usage: mem-pattern MIB [--seed S] [--interval-ms MS]");
	}
	if (!mib)
		sg_die("mem-pattern", "usage: mem-pattern MIB [--seed S] [--interval-ms MS]");
	words = mib << 17;	/* 8-byte words */
	m = malloc(mib << 20);
	if (!m)
		sg_die("mem-pattern", "cannot allocate %llu MiB", (unsigned long long)mib);
	for (uint64_t i = 0; i < words; i++)
		m[i] = mix(seed ^ i);
	printf("mem filled %llu MiB seed %llu\n", (unsigned long long)mib,
	       (unsigned long long)seed);
	fflush(stdout);
	for (uint64_t pass = 1;; pass++) {
		uint64_t bad = 0, first = 0;

		for (uint64_t i = 0; i < words; i++)
			if (m[i] != mix(seed ^ i) && !bad++)
				first = i;
		if (bad)
			printf("mem pass %llu BAD %llu words, first at byte %llu\n",
			       (unsigned long long)pass, (unsigned long long)bad,
			       (unsigned long long)first * 8);
		else
			printf("mem pass %llu ok\n", (unsigned long long)pass);
		fflush(stdout);
		sg_sleep_until(sg_now_ns() + interval_ms * 1000000ull);
	}
}

int sg_work_timer(int argc, char **argv)
{
	uint64_t mib = 16, count = 0, sum = 0;
	unsigned char *b;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--mib") && i + 1 < argc)
			mib = sg_opt_u64("work-timer", "size", argv[++i]);
		else if (!strcmp(argv[i], "--count") && i + 1 < argc)
			count = sg_opt_u64("work-timer", "count", argv[++i]);
		else
			sg_die("work-timer", "usage: work-timer [--mib MIB] [--count N]");
	}
	if (!mib || !(b = malloc(mib << 20)))
		sg_die("work-timer", "cannot allocate %llu MiB", (unsigned long long)mib);
	memset(b, 1, mib << 20);
	for (uint64_t n = 0; !count || n < count; n++) {
		struct timeval t0, t1;

		gettimeofday(&t0, NULL);
		/* a write to every page: after a restore from an image each
		 * first write is a copy-on-write fault on the host */
		for (uint64_t off = 0; off < (mib << 20); off += 4096) {
			sum += b[off];
			b[off] = (unsigned char)sum;
		}
		gettimeofday(&t1, NULL);
		printf("work %llu %lld\n", (unsigned long long)n,
		       (long long)(t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_usec - t0.tv_usec));
		fflush(stdout);
	}
	return 0;
}
