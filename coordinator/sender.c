// SPDX-License-Identifier: MIT
/* The sender: one MQTT connection that knows the agents (from their retained
 * status), publishes commands and gathers the replies. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "coordinator/agent.h"

struct coord_sender {
	struct coord_mqtt *mq;
	char experiment[COORD_NAME_MAX];
	char cmd[256];
	json_t *agents, *replies, *errors;
	json_t *expected;	/* hosts online when the command went out */
	char want_op[COORD_NAME_MAX];
	uint64_t want_epoch;
};

static void on_msg(const char *t, const char *payload, int len, void *ctx)
{
	struct coord_sender *s = ctx;
	struct coord_msg m;
	char err[256];
	json_t *j;

	if (coord_msg__parse(payload, (size_t)len, &m, (void **)&j, err, sizeof(err)))
		return;	/* not ours to judge: the agents report their own */
	if (strcmp(m.experiment, s->experiment)) {
		json_decref(j);
		return;
	}
	if (strstr(t, "/agents/")) {
		json_object_set_new(s->agents, m.from, json_string(m.op));
	} else if (strstr(t, "/error/")) {
		json_array_append(s->errors, j);
	} else if (strstr(t, "/reply/") && m.epoch == s->want_epoch &&
		   json_is_string(json_object_get(j, "for")) &&
		   !strcmp(json_string_value(json_object_get(j, "for")), s->want_op)) {
		json_object_set(s->replies, m.from, j);
	}
	json_decref(j);
}

int coord_sender__open(struct coord_sender **out, const struct coord_mqtt_opts *mo,
		       const char *experiment, char *err, size_t errlen)
{
	struct coord_sender *s = calloc(1, sizeof(*s));
	char t[256];
	int ret;

	if (!s)
		return -ENOMEM;
	snprintf(s->experiment, sizeof(s->experiment), "%s", experiment);
	s->agents = json_object();
	s->replies = json_object();
	s->errors = json_array();
	s->expected = json_object();
	if ((ret = coord_mqtt__connect(&s->mq, mo, on_msg, s, err, errlen))) {
		coord_sender__close(s);
		return ret;
	}
	snprintf(s->cmd, sizeof(s->cmd), "stasis/%s/cmd", experiment);
	const char *subs[] = { "agents/+", "reply/+", "error/+" };

	for (int i = 0; i < 3; i++) {
		snprintf(t, sizeof(t), "stasis/%s/%s", experiment, subs[i]);
		coord_mqtt__subscribe(s->mq, t);
	}
	*out = s;
	return 0;
}

json_t *coord_sender__agents(struct coord_sender *s, int settle_ms)
{
	coord_mqtt__run(s->mq, settle_ms);
	return s->agents;
}

/* Every host that was online when the command went out has answered. A
 * host that vanishes meanwhile is still waited for (until the timeout):
 * its part is missing, and the round must not pass without it. */
static bool all_replied(struct coord_sender *s)
{
	const char *host;
	json_t *st;

	if (!json_object_size(s->expected))
		return false;
	json_object_foreach(s->expected, host, st)
		if (!json_object_get(s->replies, host))
			return false;
	return true;
}

static void expect_online(struct coord_sender *s)
{
	const char *host;
	json_t *st;

	json_object_clear(s->expected);
	json_object_foreach(s->agents, host, st)
		if (!strcmp(json_string_value(st), "online"))
			json_object_set_new(s->expected, host, json_true());
}

json_t *coord_sender__expected(struct coord_sender *s)
{
	return s->expected;
}

json_t *coord_sender__collect(struct coord_sender *s, const char *op, uint64_t epoch, int timeout_ms)
{
	if (strcmp(s->want_op, op) || s->want_epoch != epoch) {
		snprintf(s->want_op, sizeof(s->want_op), "%s", op);
		s->want_epoch = epoch;
		json_object_clear(s->replies);
	}
	if (!json_object_size(s->expected))
		expect_online(s);
	for (int waited = 0; waited < timeout_ms && !all_replied(s); waited += 20)
		coord_mqtt__run(s->mq, 20);
	return json_deep_copy(s->replies);
}

json_t *coord_sender__call(struct coord_sender *s, const char *op, uint64_t epoch, json_t *extra,
			   int timeout_ms)
{
	struct coord_msg m = { .epoch = epoch, .sent_ns = coord_now_ns() };
	char *p;

	snprintf(m.experiment, sizeof(m.experiment), "%s", s->experiment);
	snprintf(m.op, sizeof(m.op), "%s", op);
	snprintf(m.from, sizeof(m.from), "sender");
	snprintf(s->want_op, sizeof(s->want_op), "%s", op);
	s->want_epoch = epoch;
	json_object_clear(s->replies);
	expect_online(s);
	p = coord_msg__encode(&m, extra);
	json_decref(extra);
	if (p)
		coord_mqtt__publish(s->mq, s->cmd, p, false);
	free(p);
	return coord_sender__collect(s, op, epoch, timeout_ms);
}

json_t *coord_sender__errors(struct coord_sender *s)
{
	return s->errors;
}

void coord_sender__close(struct coord_sender *s)
{
	if (!s)
		return;
	coord_mqtt__close(s->mq);
	json_decref(s->agents);
	json_decref(s->replies);
	json_decref(s->errors);
	json_decref(s->expected);
	free(s);
}
