/* SPDX-License-Identifier: MIT */
/*
 * The C ABI of user actions: shared objects that `stasis agent --actions DIR`
 * loads (every .so file of DIR) and stages with the built-in actions of a
 * snapshot or a restore (docs/coordination.md, "User actions").
 *
 * A plugin exports one function:
 *
 *   const struct stasis_action_def *stasis_actions(uint32_t abi, int *count);
 *
 * returning @count definitions (static storage), or NULL when it does not
 * speak @abi. Functions return 0 or a negative errno; a failure fails the
 * snapshot (or restore) on this host, and so everywhere.
 */
#ifndef STASIS_ACTION_H
#define STASIS_ACTION_H

#include <stdint.h>

/* The API: visible from the library (everything else is hidden). */
#pragma GCC visibility push(default)

#define STASIS_ACTION_ABI 1

enum { STASIS_ACTION_SNAPSHOT = 1, STASIS_ACTION_RESTORE = 2 };

struct stasis_action_ctx {
	uint32_t abi;
	const char *experiment;
	const char *host;
	uint64_t epoch;
	const char *snapdir;	/* this host's part: SNAPSHOTS/snap-EPOCH/HOST */
	int op;			/* STASIS_ACTION_SNAPSHOT or _RESTORE */
};

struct stasis_action_def {
	const char *name;
	int critical;		/* runs with the critical group (see the docs) */
	int ops;		/* mask of STASIS_ACTION_SNAPSHOT, _RESTORE */
	/* Before the moment (may be NULL): prepare, allocate *state. */
	int (*init)(const struct stasis_action_ctx *ctx, void **state);
	/* At the moment. */
	int (*run)(void *state);
	/* After everything ran or failed, when init succeeded (may be NULL). */
	void (*destroy)(void *state);
};

typedef const struct stasis_action_def *(*stasis_actions_fn)(uint32_t abi, int *count);
/* What a plugin defines (declared here so that it is exported even from a
 * plugin built with -fvisibility=hidden). */
const struct stasis_action_def *stasis_actions(uint32_t abi, int *count);

#pragma GCC visibility pop

#endif
