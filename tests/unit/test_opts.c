// SPDX-License-Identifier: MIT
/* The opts convention (util/opts.h): sz checked the same way by every
 * library, through the API as a caller meets it. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include "coordinator/coord.h"
#include "coordinator/fuzz.h"
#include "coordinator/part.h"
#include "loader/loader.h"
#include "sp-format/sp.h"
#include "util/opts.h"
#include "vmctl/vmctl.h"
#include "tests/unit/unit.h"

struct v1 { size_t sz; int a; };
struct v2 { size_t sz; int a; int b; long c; };

UNIT_TEST(opts_load_null_is_defaults)
{
	struct v2 o = { .a = 7, .b = 7, .c = 7 };

	EXPECT(UTIL_OPTS_LOAD(o, (const struct v2 *)NULL) == 0);
	EXPECT(o.sz == sizeof(o) && o.a == 0 && o.b == 0 && o.c == 0);
}

UNIT_TEST(opts_load_refuses_unsized)
{
	struct v2 in = { .sz = 0, .a = 1 }, o;

	EXPECT(UTIL_OPTS_LOAD(o, &in) == -EINVAL);
	in.sz = sizeof(size_t) - 1;
	EXPECT(UTIL_OPTS_LOAD(o, &in) == -EINVAL);
}

UNIT_TEST(opts_load_older_caller_gets_defaults)
{
	/* A caller built when the struct was v1: b and c are not read from
	 * beyond its struct, they are 0. */
	struct { struct v1 v; int guard[8]; } in;
	struct v2 o;

	memset(&in, 0x5a, sizeof(in));		/* past its struct: not to be read */
	memset(&in.v, 0, sizeof(in.v));		/* a zeroed struct, as callers make them */
	in.v.sz = sizeof(struct v1);
	in.v.a = 3;
	EXPECT(util_opts_load(&o, sizeof(o), &in.v, in.v.sz) == 0);
	EXPECT(o.sz == sizeof(o) && o.a == 3 && o.b == 0 && o.c == 0);
}

UNIT_TEST(opts_load_newer_caller)
{
	/* A caller built against a larger struct: its extra fields are
	 * accepted only when unset. */
	struct v2 in = { .sz = sizeof(struct v2), .a = 4 };
	struct v1 o;

	EXPECT(util_opts_load(&o, sizeof(o), &in, in.sz) == 0 && o.a == 4 && o.sz == sizeof(o));
	in.c = 1;
	EXPECT(util_opts_load(&o, sizeof(o), &in, in.sz) == -EINVAL);
}

/* Each library refuses sz = 0 (a struct nobody sized) instead of dropping
 * every field, and says which struct. */
UNIT_TEST(opts_api_refuses_sz_zero)
{
	struct vm_start_opts vo = { .sz = 0, .mem_mib = 256 };
	struct restore_opts ro = { .sz = 0 };
	struct qmp_opts qo = { .sz = 0, .timeout_ms = 10 };
	struct loader_attach_opts ao = { .sz = 0 };
	struct sp_mutate_opts mo = { .sz = 0, .cases = 1 };
	struct coord_part_opts po = { .sz = 0 };
	struct coord_mqtt_opts mq = { .sz = 0, .url = "mqtt://127.0.0.1:1" };
	struct coord_timer_opts to = { .sz = 0 };
	struct coord_part *part;
	struct coord_mqtt *m;
	struct qmp *q;

	EXPECT(vm__start("opts-test", &vo) == -EINVAL);
	EXPECT(strstr(vmctl__errmsg(), "vm_start_opts") != NULL);
	EXPECT(snap__restore("/nonexistent", "x", &ro, NULL) == -EINVAL);
	EXPECT(strstr(vmctl__errmsg(), "restore_opts") != NULL);
	EXPECT(qmp__connect("/nonexistent", &qo, &q) == -EINVAL);
	EXPECT(strstr(vmctl__errmsg(), "qmp_opts") != NULL);
	EXPECT(loader__attach(&ao) == -EINVAL);
	EXPECT(strstr(loader__errmsg(), "loader_attach_opts") != NULL);
	EXPECT(sp__mutate("/nonexistent", "/nonexistent", &mo) == -EINVAL);
	EXPECT(strstr(sp__errmsg(), "sp_mutate_opts") != NULL);
	EXPECT(coord_part__load(&part, &po) == -EINVAL);
	EXPECT(strstr(coord__errmsg(), "coord_part_opts") != NULL);
	EXPECT(coord_mqtt__connect(&m, &mq, NULL, NULL) == -EINVAL);
	EXPECT(strstr(coord__errmsg(), "coord_mqtt_opts") != NULL);
	EXPECT(coord_timer__wait_until(coord__now_ns(), &to, NULL) == -EINVAL);
}
