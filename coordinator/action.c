// SPDX-License-Identifier: MIT
#include <errno.h>
#include <time.h>
#include "coordinator/coord.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

void coord_actions__order(struct coord_action *acts, size_t n, enum coord_op op)
{
	/* Stable partition by insertion: lists are short (a few per VM). */
	bool first_critical = op == COORD_SNAPSHOT;

	for (size_t i = 1; i < n; i++) {
		struct coord_action a = acts[i];
		size_t j = i;

		while (j > 0 && a.critical == first_critical &&
		       acts[j - 1].critical != first_critical) {
			acts[j] = acts[j - 1];
			j--;
		}
		acts[j] = a;
	}
}

int coord_actions__execute(struct coord_action *acts, size_t n, enum coord_op op)
{
	size_t inited = 0;
	int ret = 0;

	coord_actions__order(acts, n, op);
	for (size_t i = 0; i < n; i++)
		acts[i].err = -ECANCELED;
	for (; inited < n; inited++) {
		struct coord_action *a = &acts[inited];

		int err = a->init ? a->init(a->ctx) : 0;

		if (err) {
			a->err = ret = err;
			break;
		}
	}
	for (size_t i = 0; !ret && i < n; i++) {
		struct coord_action *a = &acts[i];

		a->run_start_ns = now_ns();
		a->err = a->run ? a->run(a->ctx) : -EINVAL;
		a->run_end_ns = now_ns();
		if (a->err)
			ret = a->err;
	}
	for (size_t i = 0; i < inited; i++)
		if (acts[i].destroy)
			acts[i].destroy(acts[i].ctx);
	return ret;
}
