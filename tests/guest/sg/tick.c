// SPDX-License-Identifier: MIT
/* ticker: "tick N" at a steady interval, on stdout (the serial console in a
 * guest), so a test can tell where a guest's time stood at save and restore. */
#include <stdio.h>
#include <string.h>
#include "sg.h"

int sg_ticker(int argc, char **argv)
{
	uint64_t interval_ms = 100, count = 0, t0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--interval-ms") && i + 1 < argc) {
			if (sg_parse_u64(argv[++i], &interval_ms) || !interval_ms)
				sg_die("ticker", "bad interval '%s'", argv[i]);
		} else if (!strcmp(argv[i], "--count") && i + 1 < argc) {
			if (sg_parse_u64(argv[++i], &count))
				sg_die("ticker", "bad count '%s'", argv[i]);
		} else {
			sg_die("ticker", "usage: ticker [--interval-ms MS] [--count N]");
		}
	}
	t0 = sg_now_ns();
	for (uint64_t n = 0; !count || n < count; n++) {
		sg_sleep_until(t0 + n * interval_ms * 1000000ull);
		printf("tick %llu\n", (unsigned long long)n);
		fflush(stdout);
	}
	return 0;
}
