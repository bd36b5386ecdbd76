// SPDX-License-Identifier: MIT
/* Coordination messages: the request id and the id a reply answers go
 * through encode and parse; a malformed one is refused with a reason. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "coordinator/coord.h"
#include "tests/unit/unit.h"

static int parse(const char *s, struct coord_msg *m, char *err)
{
	return coord_msg__parse(s, strlen(s), m, NULL, err, 200);
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
