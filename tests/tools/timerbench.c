// SPDX-License-Identifier: MIT
/*
 * timerbench: error of waking at an absolute wall-clock deadline, for the
 * precise timer (coord_timer__wait_until) and for a plain clock_nanosleep.
 *   timerbench N GAP_MS   -> "precise median p99 max mean" and "plain ..." in ns
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "coordinator/coord.h"

static int cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *what, int64_t *v, int n)
{
	double sum = 0;

	qsort(v, n, sizeof(*v), cmp);
	for (int i = 0; i < n; i++)
		sum += (double)v[i];
	printf("%s %lld %lld %lld %.0f\n", what, (long long)v[n / 2], (long long)v[(n * 99) / 100],
	       (long long)v[n - 1], sum / n);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 200, gap = argc > 2 ? atoi(argv[2]) : 10;
	int64_t *a = calloc(n, sizeof(*a)), *b = calloc(n, sizeof(*b));

	if (n < 1 || gap < 1 || !a || !b)
		return 2;
	for (int i = 0; i < n; i++) {
		coord_timer__wait_until(coord__now_ns() + (uint64_t)gap * 1000000, NULL, &a[i]);
		uint64_t d = coord__now_ns() + (uint64_t)gap * 1000000;
		struct timespec ts = { .tv_sec = (time_t)(d / 1000000000ull), .tv_nsec = (long)(d % 1000000000ull) };

		clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL);
		b[i] = (int64_t)(coord__now_ns() - d);
	}
	report("precise", a, n);
	report("plain", b, n);
	return 0;
}
