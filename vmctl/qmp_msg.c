// SPDX-License-Identifier: MIT
/* One QMP message: parse and classify (greeting, return, error, event). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "vmctl/internal.h"

static int bad(struct qmp_msg *m, char *err, size_t errlen, const char *what)
{
	if (err && errlen)
		snprintf(err, errlen, "malformed QMP message: %s", what);
	json_decref(m->root);
	m->root = NULL;
	return -EPROTO;
}

int qmp_msg__parse(const char *buf, size_t len, struct qmp_msg *m, char *err, size_t errlen)
{
	json_error_t je;
	json_t *id, *v;

	memset(m, 0, sizeof(*m));
	m->id = -1;
	/* JSON_REJECT_DUPLICATES: an ambiguous message is a broken one. */
	m->root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!m->root) {
		if (err && errlen)
			snprintf(err, errlen, "malformed QMP message: %s at column %d",
				 je.text, je.column);
		return -EPROTO;
	}
	if (!json_is_object(m->root))
		return bad(m, err, errlen, "not a JSON object");
	id = json_object_get(m->root, "id");
	if (id) {
		if (!json_is_integer(id) || json_integer_value(id) < 0)
			return bad(m, err, errlen, "id is not one of ours");
		m->id = json_integer_value(id);
	}
	if ((v = json_object_get(m->root, "QMP"))) {
		if (!json_is_object(v) || !json_is_object(json_object_get(v, "version")))
			return bad(m, err, errlen, "greeting without a version");
		m->kind = QMP_GREETING;
		return 0;
	}
	if ((v = json_object_get(m->root, "event"))) {
		if (!json_is_string(v))
			return bad(m, err, errlen, "event name is not a string");
		m->event = json_string_value(v);
		m->kind = QMP_EVENT;
		return 0;
	}
	if (json_object_get(m->root, "return")) {
		m->kind = QMP_RETURN;
		return 0;
	}
	if ((v = json_object_get(m->root, "error"))) {
		json_t *cls = json_object_get(v, "class"), *desc = json_object_get(v, "desc");

		if (!json_is_object(v) || !json_is_string(desc))
			return bad(m, err, errlen, "error without a description");
		snprintf(m->errdesc, sizeof(m->errdesc), "%s: %s",
			 json_is_string(cls) ? json_string_value(cls) : "Error",
			 json_string_value(desc));
		for (char *s = m->errdesc; *s; s++)
			if (*s == '\n' || *s == '\r')
				*s = ' ';
		m->kind = QMP_ERROR;
		return 0;
	}
	return bad(m, err, errlen, "neither a greeting, a reply nor an event");
}

void qmp_msg__release(struct qmp_msg *m)
{
	json_decref(m->root);
	m->root = NULL;
}
