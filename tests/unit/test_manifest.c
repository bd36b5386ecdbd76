// SPDX-License-Identifier: MIT
/* A part's manifest: what is stored is loaded back, typed fields and the
 * rest; a manifest without its typed fields, or not JSON, is refused with
 * a reason; no manifest is -ENOENT ("none"). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "coordinator/manifest.h"
#include "coordinator/internal.h"
#include "tests/unit/unit.h"

static void put(const char *dir, const char *text)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/manifest.json", dir);
	f = fopen(p, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

UNIT_TEST(store_then_load)
{
	char dir[] = "/tmp/stasis-manifest.XXXXXX", err[300], st[32];
	struct coord_manifest m = { .epoch = 75, .state = COORD_PART_SAVED }, back;

	EXPECT(mkdtemp(dir));
	coord_manifest__state(dir, st, sizeof(st));
	EXPECT(!strcmp(st, "none"));
	EXPECT(coord_err_keep(coord_manifest__load(dir, &back), err, sizeof(err)) == -ENOENT);
	strcpy(m.experiment, "exp");
	strcpy(m.host, "h1.lab");
	strcpy(m.request, "r1-2-3");
	m.j = json_pack("{s:I,s:{s:s}}", "frames_held", (json_int_t)12, "trigger", "kind", "time");
	EXPECT(coord_manifest__store(dir, &m) == 0);
	EXPECT(coord_err_keep(coord_manifest__load(dir, &back), err, sizeof(err)) == 0);
	EXPECT(back.epoch == 75 && back.state == COORD_PART_SAVED && !strcmp(back.host, "h1.lab") &&
	       !strcmp(back.request, "r1-2-3") && !strcmp(back.experiment, "exp"));
	EXPECT(json_integer_value(json_object_get(back.j, "frames_held")) == 12);
	EXPECT(!strcmp(json_string_value(json_object_get(back.trigger, "kind")) ?: "", "time"));
	back.state = COORD_PART_COMPLETE;
	EXPECT(coord_manifest__store(dir, &back) == 0);
	coord_manifest__free(&back);
	coord_manifest__state(dir, st, sizeof(st));
	EXPECT(!strcmp(st, "complete"));
	coord_manifest__free(&m);

	const char *bad[] = {
		"not json", "[]", "{\"state\":\"complete\"}",
		"{\"state\":\"done\",\"epoch\":1,\"experiment\":\"e\",\"host\":\"h\"}",
		"{\"state\":\"saved\",\"epoch\":-1,\"experiment\":\"e\",\"host\":\"h\"}",
		"{\"state\":\"saved\",\"epoch\":1,\"experiment\":\"e\",\"host\":\"a/b\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put(dir, bad[i]);
		err[0] = 0;
		EXPECT(coord_err_keep(coord_manifest__load(dir, &back), err, sizeof(err)) == -EBADMSG && err[0]);
		coord_manifest__state(dir, st, sizeof(st));
		EXPECT(!strcmp(st, "unreadable"));
	}
	char p[300];

	snprintf(p, sizeof(p), "%s/manifest.json", dir);
	unlink(p);
	rmdir(dir);
}
