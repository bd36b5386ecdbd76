/* SPDX-License-Identifier: MIT */
/*
 * libstasis_coord: staged actions, the per-host agent and the sender.
 *
 * An operation (snapshot, restore) is a list of actions, each with init (slow
 * preparation before the moment), run (at the moment) and destroy. Critical
 * actions (hold the network, stop VMs) decide how tight a snapshot is: on a
 * snapshot they run before the non-critical ones (drain, save), on a restore
 * after them (load states first, then cont and replay).
 */
#ifndef STASIS_COORD_H
#define STASIS_COORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum coord_op { COORD_SNAPSHOT, COORD_RESTORE };

struct coord_action {
	const char *name;
	bool critical;
	int (*init)(void *ctx);		/* optional; negative errno */
	int (*run)(void *ctx);		/* required; negative errno */
	void (*destroy)(void *ctx);	/* optional; always called after init */
	void *ctx;
	/* Filled by coord_actions__execute: */
	int err;			/* init or run result */
	uint64_t run_start_ns, run_end_ns;	/* CLOCK_REALTIME */
};

/* Order @acts in place for @op; the order within each class is kept. */
void coord_actions__order(struct coord_action *acts, size_t n, enum coord_op op);

/*
 * Order, init all, run all in order, destroy all that were initialised.
 * Stops running at the first failure (later actions are not run; their err
 * stays -ECANCELED). Returns 0, or the first negative errno.
 */
int coord_actions__execute(struct coord_action *acts, size_t n, enum coord_op op);

/*
 * Time triggers: wait until an absolute wall-clock time (CLOCK_REALTIME ns)
 * precisely. A plain clock_nanosleep wakes ~65-120 µs late here; so: sleep
 * to the deadline minus @sleep_margin_ns, a short sleep to minus
 * @spin_margin_ns, then spin on clock_gettime. Never returns early.
 */
struct coord_timer_opts {
	uint64_t sleep_margin_ns;	/* 0: 5 ms */
	uint64_t spin_margin_ns;	/* 0: 1 ms */
};
/* 0 on time; -ETIME when the deadline had already passed on entry. @late_ns
 * (may be NULL) gets how far after the deadline it returned. */
int coord_timer__wait_until(uint64_t deadline_ns, const struct coord_timer_opts *o,
			    int64_t *late_ns);
uint64_t coord_now_ns(void);	/* CLOCK_REALTIME */

#endif
