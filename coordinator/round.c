// SPDX-License-Identifier: MIT
/*
 * The sender's rounds: a request to every agent online, every reply
 * checked; and the snapshot's two phases (arm, the snapshots, then the
 * verdict on them). The CLI only formats what a round found.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "coordinator/internal.h"
#include "coordinator/agent.h"

/* Count the hosts the last request went to, and those without an ok. */
static void judge(struct coord_sender *s, json_t *replies, int *n, int *bad)
{
	json_t *expected = coord_sender__expected(s), *st;
	const char *host;

	*n = *bad = 0;
	json_object_foreach(expected, host, st) {
		(*n)++;
		if (!json_is_true(json_object_get(json_object_get(replies, host), "ok")))
			(*bad)++;
	}
}

/* Keep stage @stage's replies in @r; 0 when every host answered ok. */
static int take(struct coord_sender *s, struct coord_round *r, const char *stage, json_t *replies)
{
	int n, bad;

	judge(s, replies, &n, &bad);
	json_decref(r->replies);
	json_decref(r->expected);
	r->replies = replies;
	r->expected = json_deep_copy(coord_sender__expected(s));
	r->stage = stage;
	r->n = n;
	r->bad = bad;
	if (!n) {
		snprintf(r->error, sizeof(r->error), "no agent is online");
		return -EHOSTUNREACH;
	}
	if (bad) {
		snprintf(r->error, sizeof(r->error), "%d of %d agents did not report success for %s", bad, n, stage);
		return -EREMOTEIO;
	}
	r->error[0] = 0;
	return 0;
}

int coord_round__call(struct coord_sender *s, const char *op, uint64_t epoch, json_t *extra, int timeout_ms,
		      struct coord_round *r)
{
	memset(r, 0, sizeof(*r));
	r->op = op;
	r->epoch = epoch;
	r->agents = json_deep_copy(coord_sender__agents(s, 3000));
	int ret = take(s, r, op, coord_sender__call(s, op, epoch, extra, timeout_ms));

	json_decref(r->agents);
	r->agents = json_deep_copy(coord_sender__agents(s, 0));
	return ret;
}

int coord_round__restore(struct coord_sender *s, uint64_t epoch, json_t *extra, bool paused, int timeout_ms,
			 struct coord_round *load, struct coord_round *go)
{
	json_t *req = extra ? json_deep_copy(extra) : json_object();
	int ret;

	memset(go, 0, sizeof(*go));
	json_object_set_new(req, "paused", json_true());	/* the load round: paused, held */
	ret = coord_round__call(s, "restore", epoch, req, timeout_ms, load);
	if (ret || paused)
		return ret;
	return coord_round__resume(s, epoch, NULL, timeout_ms, go);
}

int coord_round__resume(struct coord_sender *s, uint64_t epoch, json_t *extra, int timeout_ms,
			struct coord_round *go)
{
	int ret;

	memset(go, 0, sizeof(*go));
	/* Every host the restore went to, online now or not: one that
	 * vanished since loading fails the round. */
	go->op = "resume";
	go->epoch = epoch;
	go->agents = json_deep_copy(coord_sender__agents(s, 0));
	ret = take(s, go, "resume", coord_sender__call_same(s, "resume", epoch, extra, timeout_ms));
	json_decref(go->agents);
	go->agents = json_deep_copy(coord_sender__agents(s, 0));
	return ret;
}

int coord_round__snapshot(struct coord_sender *s, const char *op, uint64_t epoch, json_t *extra,
			  int timeout_ms, struct coord_round *r)
{
	char req[COORD_NAME_MAX];
	int ret;

	memset(r, 0, sizeof(*r));
	r->op = "snapshot";
	r->epoch = epoch;
	r->agents = json_deep_copy(coord_sender__agents(s, 3000));
	if (!strcmp(op, "snapshot")) {
		ret = take(s, r, "snapshot", coord_sender__call(s, op, epoch, extra, timeout_ms));
	} else {
		/* A trigger: the arming replies first; a host that cannot arm
		 * fails the round now, not after the whole timeout. */
		if ((ret = take(s, r, "arm", coord_sender__call(s, op, epoch, extra, 10000)))) {
			snprintf(req, sizeof(req), "%s", coord_sender__request(s));
			json_decref(coord_sender__call(s, "abort", epoch, json_pack("{s:s}", "of", req), 10000));
			snprintf(r->error, sizeof(r->error), "not every host armed the trigger: nothing was snapshotted");
			return ret;
		}
		/* The snapshots answer the arm request when the trigger fires. */
		ret = take(s, r, "snapshot", coord_sender__collect(s, "snapshot", timeout_ms));
	}
	/* The verdict names the snapshot's request: an agent marks only the
	 * part that request made. */
	snprintf(req, sizeof(req), "%s", coord_sender__request(s));
	r->verdict = coord_sender__call_same(s, ret ? "abort" : "commit", epoch, json_pack("{s:s}", "of", req),
					     10000);
	if (!ret) {
		int n, bad;

		judge(s, r->verdict, &n, &bad);
		if (bad || !n) {
			r->stage = "commit";
			snprintf(r->error, sizeof(r->error), "snapshot %llu: %d of %d hosts did not mark their part "
				 "complete; the others' parts are marked failed", (unsigned long long)epoch, bad, n);
			ret = -EREMOTEIO;
			/* The parts that were marked complete are taken back: a
			 * restore takes only complete parts, and this snapshot
			 * lacks one. */
			json_decref(coord_sender__call_same(s, "abort", epoch, json_pack("{s:s}", "of", req), 10000));
		}
	}
	json_decref(r->agents);
	r->agents = json_deep_copy(coord_sender__agents(s, 0));
	return ret;
}

void coord_round__clear(struct coord_round *r)
{
	json_decref(r->agents);
	json_decref(r->expected);
	json_decref(r->replies);
	json_decref(r->verdict);
	memset(r, 0, sizeof(*r));
}
