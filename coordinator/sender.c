// SPDX-License-Identifier: MIT
/* The sender: one MQTT connection that knows the agents (from the retained
 * roster and each host's retained status), publishes commands and gathers the replies. Every command is a
 * new request with its own id; a reply counts only for the request it
 * names (`re`), so a late reply to an earlier round is never taken for
 * this one's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "coordinator/internal.h"
#include "coordinator/agent.h"

struct coord_sender {
	struct coord_mqtt *mq;
	char experiment[COORD_NAME_MAX];
	char cmd[256];
	json_t *agents, *errors;
	json_t *replies;	/* op -> host -> reply, to the request under way */
	json_t *expected;	/* hosts online when the command went out */
	json_t *watched;	/* hosts whose status topic we subscribed to */
	char want_op[COORD_NAME_MAX];
	char want_id[COORD_NAME_MAX];	/* the request replies must name */
	char sync[256];		/* our own topic: its message marks the retained ones all in */
	char sync_id[COORD_NAME_MAX];	/* the last sync sent: only it counts */
	bool synced;
	unsigned n_req;
	coord_progress_fn progress;
	void *progress_ctx;
};

static void new_id(struct coord_sender *s, char *buf, size_t len);
static int publish(struct coord_sender *s, const char *topic, const char *op, uint64_t epoch,
		   const char *id, json_t *extra);

/* A sync after the subscriptions made so far: when it comes back, the
 * broker has sent what they retain. */
static void sync_again(struct coord_sender *s)
{
	new_id(s, s->sync_id, sizeof(s->sync_id));
	s->synced = false;
	publish(s, s->sync, "sync", 0, s->sync_id, NULL);
}

/* Each host the roster names: its status topic, exactly (retained
 * messages reach only exact subscriptions on some brokers). */
static void watch_roster(struct coord_sender *s, json_t *msg)
{
	json_t *hosts = coord_roster__hosts(msg), *h;
	bool added = false;
	char t[256];
	size_t i;

	json_array_foreach(hosts, i, h) {
		const char *host = json_string_value(h);

		if (json_object_get(s->watched, host))
			continue;
		json_object_set_new(s->watched, host, json_true());
		snprintf(t, sizeof(t), "stasis/%s/agents/%s", s->experiment, host);
		coord_mqtt__subscribe(s->mq, t);
		added = true;
	}
	if (added)
		sync_again(s);
}

/* The replies for @op to the request under way (borrowed). */
static json_t *replies_for(struct coord_sender *s, const char *op)
{
	json_t *r = json_object_get(s->replies, op);

	if (!r) {
		r = json_object();
		json_object_set_new(s->replies, op, r);
	}
	return r;
}

static void on_msg(const char *t, const char *payload, int len, void *ctx)
{
	struct coord_sender *s = ctx;
	struct coord_msg m;
	char err[256];
	json_t *j;

	if (coord_err_keep(coord_msg__parse(payload, (size_t)len, &m, (void **)&j), err, sizeof(err)))
		return;	/* not ours to judge: the agents report their own */
	if (strcmp(m.experiment, s->experiment)) {
		json_decref(j);
		return;
	}
	/* Kinds by the payload, not the topic: a broker may give a topic
	 * back spelled otherwise (RabbitMQ turns '.' into '/'). */
	if (!strcmp(m.op, "sync")) {
		s->synced = s->synced || !strcmp(m.id, s->sync_id);
	} else if (!strcmp(m.op, "roster")) {
		watch_roster(s, j);
	} else if (strstr(t, "/agents/")) {
		json_object_set_new(s->agents, m.from, json_string(m.op));
	} else if (!strcmp(m.op, "progress")) {
		if (s->progress && s->want_id[0] && !strcmp(m.re, s->want_id))
			s->progress(s->progress_ctx, m.from, j);
	} else if (strstr(t, "/error/")) {
		json_array_append(s->errors, j);
	} else if (strstr(t, "/reply/") && s->want_id[0] && !strcmp(m.re, s->want_id) &&
		   json_is_string(json_object_get(j, "for"))) {
		/* Kept by the op it answers: one request may be answered in
		 * stages (a resume, then its watch), and a host's later stage
		 * can come while another host's earlier one is awaited. */
		json_object_set(replies_for(s, json_string_value(json_object_get(j, "for"))), m.from, j);
	}
	json_decref(j);
}

/* A request id no other sender makes: pid, wall clock, a counter. */
static void new_id(struct coord_sender *s, char *buf, size_t len)
{
	snprintf(buf, len, "r%x-%llx-%u", (unsigned)getpid(), (unsigned long long)coord__now_ns(), s->n_req++);
}

static int publish(struct coord_sender *s, const char *topic, const char *op, uint64_t epoch,
		   const char *id, json_t *extra)
{
	struct coord_msg m = { .epoch = epoch, .sent_ns = coord__now_ns() };
	char *p;
	int ret = -ENOMEM;

	snprintf(m.experiment, sizeof(m.experiment), "%s", s->experiment);
	snprintf(m.op, sizeof(m.op), "%s", op);
	snprintf(m.from, sizeof(m.from), "sender");
	snprintf(m.id, sizeof(m.id), "%s", id);
	p = coord_msg__encode(&m, extra);
	json_decref(extra);
	if (p)
		ret = coord_mqtt__publish(s->mq, topic, p, false);
	free(p);
	return ret;
}

int coord_sender__open(struct coord_sender **out, const struct coord_mqtt_opts *mo,
		       const char *experiment)
{
	char *err = coord_err();
	size_t errlen = coord_err_len();
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
	s->watched = json_object();
	if ((ret = coord_err_keep(coord_mqtt__connect(&s->mq, mo, on_msg, s), err, errlen))) {
		coord_sender__close(s);
		return ret;
	}
	snprintf(s->cmd, sizeof(s->cmd), "stasis/%s/cmd", experiment);
	/* '#', not '+': a host named with dots is more than one level on
	 * a broker that maps '.' to '/'. */
	const char *subs[] = { "roster", "reply/#", "error/#", "progress/#" };

	for (int i = 0; i < 4; i++) {
		snprintf(t, sizeof(t), "stasis/%s/%s", experiment, subs[i]);
		coord_mqtt__subscribe(s->mq, t);
	}
	/* The broker handles one client's packets in order: what a
	 * subscription retains is queued to us when it is taken, before a
	 * message we publish after it. The roster comes before the first
	 * sync; the statuses of the hosts it names before the next (sent
	 * once they are subscribed): its arrival marks them all in, with no
	 * fixed wait. */
	new_id(s, s->sync_id, sizeof(s->sync_id));
	snprintf(s->sync, sizeof(s->sync), "stasis/%s/sync/%s", experiment, s->sync_id);
	coord_mqtt__subscribe(s->mq, s->sync);
	publish(s, s->sync, "sync", 0, s->sync_id, NULL);
	*out = s;
	return 0;
}

json_t *coord_sender__agents(struct coord_sender *s, int timeout_ms)
{
	for (int waited = 0; !s->synced && waited < timeout_ms; waited += 5)
		coord_mqtt__run(s->mq, 5);
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
		if (!json_object_get(replies_for(s, s->want_op), host))
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

json_t *coord_sender__collect(struct coord_sender *s, const char *op, int timeout_ms)
{
	snprintf(s->want_op, sizeof(s->want_op), "%s", op);
	if (!json_object_size(s->expected))
		expect_online(s);
	for (int waited = 0; waited < timeout_ms && !all_replied(s); waited += 5)
		coord_mqtt__run(s->mq, waited + 5 > timeout_ms ? timeout_ms - waited : 5);
	return json_deep_copy(replies_for(s, op));
}

int coord_sender__notify(struct coord_sender *s, const char *op, uint64_t epoch, json_t *extra)
{
	char id[COORD_NAME_MAX];

	new_id(s, id, sizeof(id));
	return publish(s, s->cmd, op, epoch, id, extra);
}

static json_t *call(struct coord_sender *s, const char *op, uint64_t epoch, json_t *extra,
		    int timeout_ms, bool same_hosts)
{
	snprintf(s->want_op, sizeof(s->want_op), "%s", op);
	new_id(s, s->want_id, sizeof(s->want_id));
	json_object_clear(s->replies);
	if (!same_hosts || !json_object_size(s->expected))
		expect_online(s);
	publish(s, s->cmd, op, epoch, s->want_id, extra);
	return coord_sender__collect(s, op, timeout_ms);
}

json_t *coord_sender__call(struct coord_sender *s, const char *op, uint64_t epoch, json_t *extra,
			   int timeout_ms)
{
	return call(s, op, epoch, extra, timeout_ms, false);
}

json_t *coord_sender__call_same(struct coord_sender *s, const char *op, uint64_t epoch, json_t *extra,
				int timeout_ms)
{
	return call(s, op, epoch, extra, timeout_ms, true);
}

void coord_sender__on_progress(struct coord_sender *s, coord_progress_fn fn, void *ctx)
{
	s->progress = fn;
	s->progress_ctx = ctx;
}

const char *coord_sender__request(const struct coord_sender *s)
{
	return s->want_id;
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
	json_decref(s->watched);
	free(s);
}
