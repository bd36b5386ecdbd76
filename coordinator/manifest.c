// SPDX-License-Identifier: MIT
/* A part's manifest: one reader, one durable writer (manifest.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "coordinator/internal.h"
#include "coordinator/manifest.h"
#include "util/util.h"

static const char *const state_names[] = {
	[COORD_PART_SAVED] = "saved", [COORD_PART_COMPLETE] = "complete", [COORD_PART_FAILED] = "failed",
};

const char *coord_part_state__name(enum coord_part_state s)
{
	return (unsigned)s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "?";
}

static int name_field(json_t *j, const char *key, char *dst, bool optional)
{
	json_t *f = json_object_get(j, key);

	if (!f && optional) {
		dst[0] = 0;
		return 0;
	}
	if (!json_is_string(f) || !coord_name__ok(json_string_value(f)))
		return -EBADMSG;
	strcpy(dst, json_string_value(f));
	return 0;
}

int coord_manifest__load(const char *dir, struct coord_manifest *m)
{
	char *err = coord_err();
	size_t errlen = coord_err_len();
	char path[PATH_MAX];
	json_error_t je;
	json_t *st, *ep;
	size_t k;

	memset(m, 0, sizeof(*m));
	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	if (access(path, F_OK)) {
		snprintf(err, errlen, "%s: no manifest", dir);
		return -ENOENT;
	}
	if (!(m->j = json_load_file(path, 0, &je))) {
		snprintf(err, errlen, "%s: %s (line %d)", path, je.text, je.line);
		return -EBADMSG;
	}
	st = json_object_get(m->j, "state");
	ep = json_object_get(m->j, "epoch");
	for (k = 0; k < sizeof(state_names) / sizeof(state_names[0]); k++)
		if (json_is_string(st) && !strcmp(json_string_value(st), state_names[k]))
			break;
	if (k == sizeof(state_names) / sizeof(state_names[0]) || !json_is_integer(ep) ||
	    json_integer_value(ep) < 0 || name_field(m->j, "experiment", m->experiment, false) ||
	    name_field(m->j, "host", m->host, false) || name_field(m->j, "request", m->request, true)) {
		snprintf(err, errlen, "%s: not a part's manifest (state, epoch, experiment, host)", path);
		coord_manifest__free(m);
		return -EBADMSG;
	}
	m->state = (enum coord_part_state)k;
	m->epoch = (uint64_t)json_integer_value(ep);
	m->trigger = json_object_get(m->j, "trigger");
	if (!m->trigger)
		m->trigger = json_null();
	return 0;
}

int coord_manifest__store(const char *dir, struct coord_manifest *m)
{
	char path[PATH_MAX];

	if (!m->j && !(m->j = json_object()))
		return -ENOMEM;
	json_object_set_new(m->j, "v", json_integer(COORD_PROTO_VERSION));
	json_object_set_new(m->j, "experiment", json_string(m->experiment));
	json_object_set_new(m->j, "epoch", json_integer((json_int_t)m->epoch));
	json_object_set_new(m->j, "host", json_string(m->host));
	if (m->request[0])
		json_object_set_new(m->j, "request", json_string(m->request));
	json_object_set_new(m->j, "state", json_string(coord_part_state__name(m->state)));
	if (snprintf(path, sizeof(path), "%s/manifest.json", dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	return util_json_write_atomic(path, m->j);
}

void coord_manifest__free(struct coord_manifest *m)
{
	json_decref(m->j);
	memset(m, 0, sizeof(*m));
}

void coord_manifest__state(const char *dir, char *buf, size_t len)
{
	struct coord_manifest m;
	char err[64];
	int r = coord_err_keep(coord_manifest__load(dir, &m), err, sizeof(err));

	snprintf(buf, len, "%s", r == -ENOENT ? "none" : r ? "unreadable" : coord_part_state__name(m.state));
	if (!r)
		coord_manifest__free(&m);
}
