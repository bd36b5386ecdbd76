/* SPDX-License-Identifier: MIT */
/*
 * A minimal unit-test harness: UNIT_TEST(name) { EXPECT(...); } registers a
 * test; unit.c's main runs them all and prints "ok - FILE: name" or
 * "not ok - FILE: name: what failed", the lines tests/run.sh counts.
 */
#ifndef STASIS_UNIT_H
#define STASIS_UNIT_H

#include <stdbool.h>

void unit_register(const char *file, const char *name, void (*fn)(void));
bool unit_expect(bool ok, const char *what, const char *file, int line);

#define UNIT_TEST(name)							\
	static void name(void);						\
	__attribute__((constructor)) static void reg_##name(void)	\
	{ unit_register(__FILE__, #name, name); }			\
	static void name(void)

/* Records a failure and goes on; evaluates to the condition. */
#define EXPECT(cond) unit_expect(!!(cond), #cond, __FILE__, __LINE__)

#endif
