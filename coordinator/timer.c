// SPDX-License-Identifier: MIT
/* The precise absolute-deadline timer of time triggers. */
#include <errno.h>
#include <time.h>
#include "coordinator/coord.h"
#include "util/opts.h"

uint64_t coord__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_abs(uint64_t t)
{
	struct timespec ts = { .tv_sec = (time_t)(t / 1000000000ull), .tv_nsec = (long)(t % 1000000000ull) };

	/* CLOCK_REALTIME with TIMER_ABSTIME follows clock steps: the wake-up is
	 * at the wall-clock time asked for, whatever happens meanwhile. */
	while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

int coord_timer__wait_until(uint64_t deadline, const struct coord_timer_opts *opts, int64_t *late_ns)
{
	struct coord_timer_opts o;
	uint64_t sleep_m, spin_m, now;
	int ret = 0;

	if (UTIL_OPTS_LOAD(o, opts))
		return -EINVAL;
	sleep_m = o.sleep_margin_ns ? o.sleep_margin_ns : 5000000;
	spin_m = o.spin_margin_ns ? o.spin_margin_ns : 1000000;
	now = coord__now_ns();

	if (now >= deadline) {
		ret = -ETIME;
	} else {
		if (deadline - now > sleep_m)
			sleep_abs(deadline - sleep_m);	/* the long sleep */
		if (deadline > spin_m && coord__now_ns() < deadline - spin_m)
			sleep_abs(deadline - spin_m);	/* the short one */
		while ((now = coord__now_ns()) < deadline)
			;				/* the spin */
	}
	if (late_ns)
		*late_ns = (int64_t)(now - deadline);
	return ret;
}
