// SPDX-License-Identifier: MIT
/* Staged actions: order by criticality per operation, stable within a
 * class; execute stops at the first failure and destroys what it inited. */
#include <errno.h>
#include <string.h>
#include "coordinator/coord.h"
#include "tests/unit/unit.h"

static char trace[256];

static void note(const char *what, void *ctx)
{
	strcat(trace, what);
	strcat(trace, (const char *)ctx);
	strcat(trace, " ");
}
static int a_init(void *ctx) { note("i", ctx); return 0; }
static int a_run(void *ctx) { note("r", ctx); return 0; }
static int a_fail(void *ctx) { note("r", ctx); return -EIO; }
static int a_init_fail(void *ctx) { note("i", ctx); return -ENOENT; }
static void a_destroy(void *ctx) { note("d", ctx); }

#define ACT(n, crit, fn) { .name = n, .critical = crit, .init = a_init, \
			   .run = fn, .destroy = a_destroy, .ctx = (void *)n }

static void names(const struct coord_action *a, size_t n, char *out)
{
	out[0] = 0;
	for (size_t i = 0; i < n; i++)
		strcat(out, a[i].name);
}

UNIT_TEST(order_snapshot_critical_first_stable)
{
	struct coord_action a[] = { ACT("D", false, a_run), ACT("H", true, a_run),
				    ACT("S", false, a_run), ACT("T", true, a_run) };
	char s[16];

	coord_actions__order(a, 4, COORD_SNAPSHOT);
	names(a, 4, s);
	EXPECT(strcmp(s, "HTDS") == 0);
}

UNIT_TEST(order_restore_critical_last_stable)
{
	struct coord_action a[] = { ACT("C", true, a_run), ACT("L", false, a_run),
				    ACT("R", true, a_run), ACT("M", false, a_run) };
	char s[16];

	coord_actions__order(a, 4, COORD_RESTORE);
	names(a, 4, s);
	EXPECT(strcmp(s, "LMCR") == 0);
}

UNIT_TEST(execute_runs_all_in_order)
{
	struct coord_action a[] = { ACT("s", false, a_run), ACT("h", true, a_run) };

	trace[0] = 0;
	EXPECT(coord_actions__execute(a, 2, COORD_SNAPSHOT) == 0);
	EXPECT(strcmp(trace, "ih is rh rs dh ds ") == 0);
	EXPECT(a[0].err == 0 && a[1].err == 0);
	EXPECT(a[0].run_start_ns > 0 && a[0].run_end_ns >= a[0].run_start_ns);
}

UNIT_TEST(execute_stops_at_first_failure)
{
	struct coord_action a[] = { ACT("h", true, a_fail), ACT("s", false, a_run) };

	trace[0] = 0;
	EXPECT(coord_actions__execute(a, 2, COORD_SNAPSHOT) == -EIO);
	EXPECT(strcmp(trace, "ih is rh dh ds ") == 0);
	EXPECT(a[0].err == -EIO && a[1].err == -ECANCELED);
}

UNIT_TEST(execute_init_failure_runs_nothing)
{
	struct coord_action a[] = { ACT("a", true, a_run), ACT("b", true, a_run),
				    ACT("c", true, a_run) };

	a[1].init = a_init_fail;
	trace[0] = 0;
	EXPECT(coord_actions__execute(a, 3, COORD_SNAPSHOT) == -ENOENT);
	/* Only what was initialised is destroyed; nothing ran. */
	EXPECT(strcmp(trace, "ia ib da ") == 0);
	EXPECT(a[2].err == -ECANCELED);
}

UNIT_TEST(timer_never_fires_early)
{
	bool early = false, past = false;

	/* Deadlines 0-3 ms ahead: wait must return at or after each. */
	for (int i = 0; i < 20; i++) {
		uint64_t d = coord__now_ns() + (uint64_t)(i % 4) * 1000000 + 137;
		int64_t late = -1;

		EXPECT(coord_timer__wait_until(d, NULL, &late) == 0 || i % 4 == 0);
		early = early || late < 0 || coord__now_ns() < d;
	}
	EXPECT(!early);
	/* A deadline in the past returns at once and says how late. */
	int64_t late = 0;

	past = coord_timer__wait_until(coord__now_ns() - 5000000, NULL, &late) == -ETIME;
	EXPECT(past && late >= 5000000);
}
