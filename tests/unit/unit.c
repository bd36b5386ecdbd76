// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <string.h>
#include "tests/unit/unit.h"

#define MAX_TESTS 256

static struct { const char *file, *name; void (*fn)(void); } tests[MAX_TESTS];
static int ntests, failures_in_test;

void unit_register(const char *file, const char *name, void (*fn)(void))
{
	if (ntests < MAX_TESTS)
		tests[ntests++] = (typeof(tests[0])){ file, name, fn };
}

bool unit_expect(bool ok, const char *what, const char *file, int line)
{
	if (!ok) {
		printf("# %s:%d: expected %s\n", file, line, what);
		failures_in_test++;
	}
	return ok;
}

int main(void)
{
	int failed = 0;

	for (int i = 0; i < ntests; i++) {
		const char *f = strrchr(tests[i].file, '/');

		failures_in_test = 0;
		tests[i].fn();
		printf("%s - %s: %s\n", failures_in_test ? "not ok" : "ok",
		       f ? f + 1 : tests[i].file, tests[i].name);
		failed += failures_in_test != 0;
	}
	if (ntests == 0)
		printf("not ok - no tests registered\n");
	return failed || !ntests;
}
