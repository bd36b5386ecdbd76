// SPDX-License-Identifier: MIT
/* Coordination messages: the request id and the id a reply answers go
 * through encode and parse; a malformed one is refused with a reason. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "coordinator/agent.h"
#include "coordinator/internal.h"
#include "tests/unit/unit.h"

static int parse(const char *s, struct coord_msg *m, char *err)
{
	return coord_err_keep(coord_msg__parse(s, strlen(s), m, NULL), err, 200);
}

UNIT_TEST(ids_round_trip)
{
	struct coord_msg m = { .epoch = 7, .sent_ns = 1 }, back;
	char err[200], *s;

	strcpy(m.experiment, "exp");
	strcpy(m.op, "restore");
	strcpy(m.from, "sender");
	strcpy(m.id, "r1f-17a-3");
	s = coord_msg__encode(&m, NULL);
	EXPECT(s && parse(s, &back, err) == 0);
	EXPECT(!strcmp(back.id, "r1f-17a-3") && back.re[0] == 0 && back.epoch == 7);
	free(s);
	strcpy(m.re, "r1f-17a-3");
	m.id[0] = 0;
	s = coord_msg__encode(&m, NULL);
	EXPECT(s && !strstr(s, "\"id\"") && parse(s, &back, err) == 0 && !strcmp(back.re, "r1f-17a-3"));
	free(s);
}

UNIT_TEST(ids_optional_and_checked)
{
	struct coord_msg m;
	char err[200] = "";

	EXPECT(parse("{\"v\":1,\"experiment\":\"e\",\"epoch\":1,\"op\":\"ping\",\"from\":\"s\"}", &m, err) == 0);
	EXPECT(m.id[0] == 0 && m.re[0] == 0);
	EXPECT(parse("{\"v\":1,\"experiment\":\"e\",\"epoch\":1,\"op\":\"ping\",\"from\":\"s\",\"id\":5}",
		     &m, err) == -EBADMSG && strstr(err, "\"id\""));
	EXPECT(parse("{\"v\":1,\"experiment\":\"e\",\"epoch\":1,\"op\":\"ping\",\"from\":\"s\",\"re\":\"a b\"}",
		     &m, err) == -EBADMSG && strstr(err, "\"re\""));
	EXPECT(parse("{\"v\":1,\"experiment\":\"e\",\"epoch\":1,\"op\":\"ping\",\"from\":\"s\",\"id\":\"\"}",
		     &m, err) == -EBADMSG);
}

/* The roster: a host joins once, the set reads the same whoever wrote it,
 * and a roster with a host that is no name is not taken. */
UNIT_TEST(roster_union_sorted_checked)
{
	json_t *j, *hosts;
	struct coord_msg m;
	char err[200], *p, *q;

	p = coord_roster__encode("exp", "h2", NULL, "h2");
	EXPECT(p && parse(p, &m, err) == 0 && !strcmp(m.op, "roster"));
	j = json_loads(p, 0, NULL);
	hosts = coord_roster__hosts(j);
	EXPECT(hosts && json_array_size(hosts) == 1 && coord_roster__has(hosts, "h2"));
	q = coord_roster__encode("exp", "h1.lab", hosts, "h1.lab");
	json_decref(j);
	j = json_loads(q, 0, NULL);
	hosts = coord_roster__hosts(j);
	EXPECT(hosts && json_array_size(hosts) == 2);
	EXPECT(!strcmp(json_string_value(json_array_get(hosts, 0)), "h1.lab"));
	free(q);
	q = coord_roster__encode("exp", "h2", hosts, "h2");	/* already in: unchanged */
	json_decref(j);
	j = json_loads(q, 0, NULL);
	EXPECT(json_array_size(coord_roster__hosts(j)) == 2);
	json_decref(j);
	free(p);
	free(q);
	const char *bad[] = { "{\"hosts\":[\"a/b\"]}", "{\"hosts\":[\"+\"]}", "{\"hosts\":[1]}",
			      "{\"hosts\":\"h1\"}", "{}" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		j = json_loads(bad[i], 0, NULL);
		EXPECT(j && !coord_roster__hosts(j));
		json_decref(j);
	}
	EXPECT(coord_name__ok("h1.lab") && !coord_name__ok("") && !coord_name__ok("a#") &&
	       !coord_name__ok(NULL));
}
