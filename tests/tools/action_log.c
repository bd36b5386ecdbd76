// SPDX-License-Identifier: MIT
/*
 * A user action plugin for tests (and an example of the ABI): one critical
 * and one non-critical action that append "NAME PHASE EPOCH TIME_NS" lines to
 * SNAPDIR/../actions.log. With STASIS_TEST_ACTION_FAIL set, the non-critical
 * one fails its run; with STASIS_TEST_ACTION_SLEEP_MS, it takes that long.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "coordinator/stasis_action.h"

struct st {
	char path[1024];
	const char *name;
	unsigned long long epoch;
};

static void note(struct st *s, const char *phase)
{
	struct timespec ts;
	FILE *f = fopen(s->path, "a");

	clock_gettime(CLOCK_REALTIME, &ts);
	if (f) {
		fprintf(f, "%s %s %llu %lld%09ld\n", s->name, phase, s->epoch, (long long)ts.tv_sec, ts.tv_nsec);
		fclose(f);
	}
}

static int init_common(const struct stasis_action_ctx *c, void **state, const char *name)
{
	struct st *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	snprintf(s->path, sizeof(s->path), "%s/../actions.log", c->snapdir);
	s->name = name;
	s->epoch = (unsigned long long)c->epoch;
	*state = s;
	note(s, c->op == STASIS_ACTION_SNAPSHOT ? "init-snapshot" : "init-restore");
	return 0;
}

static int init_crit(const struct stasis_action_ctx *c, void **st) { return init_common(c, st, "log-critical"); }
static int init_late(const struct stasis_action_ctx *c, void **st) { return init_common(c, st, "log-late"); }

static int run(void *state)
{
	struct st *s = state;

	const char *ms = getenv("STASIS_TEST_ACTION_SLEEP_MS");

	note(s, "run");
	if (getenv("STASIS_TEST_ACTION_FAIL") && s->name[4] == 'l')
		return -EIO;
	if (ms && s->name[4] == 'l') {
		long v = atol(ms);
		struct timespec ts = { .tv_sec = v / 1000, .tv_nsec = (v % 1000) * 1000000L };

		nanosleep(&ts, NULL);
	}
	return 0;
}

static void destroy(void *state)
{
	note(state, "destroy");
	free(state);
}

static const struct stasis_action_def defs[] = {
	{ "log-critical", 1, STASIS_ACTION_SNAPSHOT | STASIS_ACTION_RESTORE, init_crit, run, destroy },
	{ "log-late", 0, STASIS_ACTION_SNAPSHOT | STASIS_ACTION_RESTORE, init_late, run, destroy },
};

const struct stasis_action_def *stasis_actions(uint32_t abi, int *count)
{
	if (abi != STASIS_ACTION_ABI)
		return NULL;
	*count = 2;
	return defs;
}
