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

#endif
