// SPDX-License-Identifier: MIT
/*
 * The roster: every host of an experiment, in one retained message on one
 * exact topic (stasis/EXP/roster). Discovery reads it, then each host's
 * retained status on its own exact topic (stasis/EXP/agents/HOST), because
 * some brokers (RabbitMQ's MQTT plugin) never deliver retained messages to
 * a wildcard subscription; an exact topic works on every broker.
 *
 * Agents write it as a set that only grows: one that finds itself missing
 * publishes what it read plus itself. Two that join at once each publish
 * their own; each then reads the other's, finds itself missing and adds
 * itself again, until the last one written names both.
 */
#include <stdlib.h>
#include <string.h>
#include "coordinator/agent.h"

json_t *coord_roster__hosts(json_t *msg)
{
	json_t *hosts = json_object_get(msg, "hosts"), *h;
	size_t i;

	if (!json_is_array(hosts) || json_array_size(hosts) > COORD_ROSTER_MAX)
		return NULL;
	json_array_foreach(hosts, i, h)
		if (!json_is_string(h) || !coord_name__ok(json_string_value(h)))
			return NULL;
	return hosts;
}

bool coord_roster__has(const json_t *hosts, const char *host)
{
	size_t i;
	json_t *h;

	json_array_foreach(hosts, i, h)
		if (!strcmp(json_string_value(h), host))
			return true;
	return false;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *coord_roster__encode(const char *experiment, const char *from, const json_t *hosts,
			   const char *add)
{
	size_t n = hosts ? json_array_size(hosts) : 0, k = 0;
	const char **v = calloc(n + 1, sizeof(*v));
	struct coord_msg m = { .sent_ns = coord__now_ns() };
	json_t *arr, *extra;
	char *p;

	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++)
		v[k++] = json_string_value(json_array_get(hosts, i));
	if (add && !(hosts && coord_roster__has(hosts, add)))
		v[k++] = add;
	qsort(v, k, sizeof(*v), by_name);	/* the same set reads the same */
	arr = json_array();
	for (size_t i = 0; i < k; i++)
		json_array_append_new(arr, json_string(v[i]));
	free(v);
	snprintf(m.experiment, sizeof(m.experiment), "%s", experiment);
	snprintf(m.op, sizeof(m.op), "roster");
	snprintf(m.from, sizeof(m.from), "%s", from);
	extra = json_pack("{s:o}", "hosts", arr);
	p = coord_msg__encode(&m, extra);
	json_decref(extra);
	return p;
}
