// SPDX-License-Identifier: MIT
/* The coordination messages: versioned JSON through jansson, validated
 * field by field so a malformed payload is an error message, never a crash. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "coordinator/internal.h"
#include "coordinator/coord.h"

bool coord_name__ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n < 1 || n >= COORD_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return 0;
	}
	return 1;
}

int coord_msg__parse(const char *payload, size_t len, struct coord_msg *m, void **obj)
{
	char *err = coord_err();
	size_t errlen = coord_err_len();
	json_error_t je;
	json_t *j, *f;
	const char *names[] = { "experiment", "op", "from" };
	char *dst[] = { m->experiment, m->op, m->from };

	memset(m, 0, sizeof(*m));
	if (len > COORD_MSG_MAX) {
		snprintf(err, errlen, "payload of %zu bytes (limit %d)", len, COORD_MSG_MAX);
		return -EBADMSG;
	}
	j = json_loadb(payload, len, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		snprintf(err, errlen, "not JSON: %s (at byte %d)", je.text, je.position);
		return -EBADMSG;
	}
	if (!json_is_object(j)) {
		snprintf(err, errlen, "not a JSON object");
		goto bad;
	}
	f = json_object_get(j, "v");
	if (!json_is_integer(f)) {
		snprintf(err, errlen, "no version field \"v\"");
		goto bad;
	}
	if (json_integer_value(f) != COORD_PROTO_VERSION) {
		snprintf(err, errlen, "unsupported version %lld (this agent speaks %d)",
			 (long long)json_integer_value(f), COORD_PROTO_VERSION);
		goto bad;
	}
	m->v = COORD_PROTO_VERSION;
	for (size_t i = 0; i < 3; i++) {
		f = json_object_get(j, names[i]);
		if (!json_is_string(f) || !coord_name__ok(json_string_value(f))) {
			snprintf(err, errlen, "field \"%s\" missing or not a name of 1-%d characters "
				 "[A-Za-z0-9._-]", names[i], COORD_NAME_MAX - 1);
			goto bad;
		}
		strcpy(dst[i], json_string_value(f));
	}
	f = json_object_get(j, "epoch");
	if (!json_is_integer(f) || json_integer_value(f) < 0) {
		snprintf(err, errlen, "field \"epoch\" missing or not a non-negative integer");
		goto bad;
	}
	m->epoch = (uint64_t)json_integer_value(f);
	f = json_object_get(j, "sent_ns");
	if (f && (!json_is_integer(f) || json_integer_value(f) < 0)) {
		snprintf(err, errlen, "field \"sent_ns\" is not a non-negative integer");
		goto bad;
	}
	m->sent_ns = f ? (uint64_t)json_integer_value(f) : 0;
	const char *opt[] = { "id", "re" };
	char *odst[] = { m->id, m->re };

	for (size_t i = 0; i < 2; i++) {
		f = json_object_get(j, opt[i]);
		if (!f)
			continue;
		if (!json_is_string(f) || !coord_name__ok(json_string_value(f))) {
			snprintf(err, errlen, "field \"%s\" is not a name of 1-%d characters [A-Za-z0-9._-]",
				 opt[i], COORD_NAME_MAX - 1);
			goto bad;
		}
		strcpy(odst[i], json_string_value(f));
	}
	if (obj)
		*obj = j;
	else
		json_decref(j);
	return 0;
bad:
	json_decref(j);
	return -EBADMSG;
}

char *coord_msg__encode(const struct coord_msg *m, const void *extra_json_t)
{
	json_t *j = json_pack("{s:i,s:s,s:I,s:s,s:s,s:I}", "v", COORD_PROTO_VERSION,
			      "experiment", m->experiment, "epoch", (json_int_t)m->epoch,
			      "op", m->op, "from", m->from, "sent_ns", (json_int_t)m->sent_ns);
	char *s;

	if (!j)
		return NULL;
	if (m->id[0])
		json_object_set_new(j, "id", json_string(m->id));
	if (m->re[0])
		json_object_set_new(j, "re", json_string(m->re));
	if (extra_json_t)
		json_object_update_missing(j, (json_t *)extra_json_t);
	s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	return s;
}
