/* SPDX-License-Identifier: MIT */
/* Internal to coordinator/: the agent and the sender share the topic tree. */
#ifndef COORD_AGENT_H
#define COORD_AGENT_H

#include <jansson.h>
#include "coordinator/coord.h"

/* The API: visible from the library (everything else is hidden). */
#pragma GCC visibility push(default)

/* stasis/EXP/cmd            sender -> agents: ping, snapshot, commit, abort,
 *                           restore, arm-time, arm-packet
 * stasis/EXP/roster         retained: every host of the experiment (roster.c)
 * stasis/EXP/agents/HOST    retained: online, or offline (the last will)
 * stasis/EXP/sync/ID        a client's own: back to it once what it
 *                           subscribed to before has been sent
 * stasis/EXP/reply/HOST     agent -> everyone: the result of a command
 * stasis/EXP/event/HOST     agent -> agents: a packet trigger fired here
 * stasis/EXP/error/HOST     agent -> everyone: a payload it rejected
 * stasis/EXP/progress/HOST  agent -> sender: how far a long operation is */
#define TOPIC_FMT "stasis/%s/%s"

/* The roster (roster.c). The validated "hosts" array of a roster message
 * (borrowed), or NULL when it has none or a bad one. */
#define COORD_ROSTER_MAX 1024
json_t *coord_roster__hosts(json_t *msg);
bool coord_roster__has(const json_t *hosts, const char *host);
/* A roster message from @from: @hosts (may be NULL) plus @add (may be NULL),
 * sorted; free(). */
char *coord_roster__encode(const char *experiment, const char *from, const json_t *hosts,
			   const char *add);

struct coord_agent_opts {
	size_t sz;			/* sizeof(struct coord_agent_opts) */
	struct coord_mqtt_opts mqtt;
	const char *host;
	const char *experiment;
	const char *instances;		/* VM instances root */
	const char *snapshots;		/* where snapshots go */
	const char *actions;		/* user actions: the .so files in DIR, or NULL */
	volatile int *stop;
};
int coord_agent__run(const struct coord_agent_opts *o);

/* The sender: publishes commands, collects what every agent says. */
struct coord_sender;
int coord_sender__open(struct coord_sender **out, const struct coord_mqtt_opts *mo,
		       const char *experiment);
/* Agents and their last status ("online"/"offline"), once the broker has
 * sent every retained status (at most @timeout_ms): a JSON object host ->
 * status (borrowed). */
json_t *coord_sender__agents(struct coord_sender *s, int timeout_ms);
/* Publish @op for @epoch (+ @extra, stolen) as a new request and collect
 * the replies to it of every online agent, or what came within
 * @timeout_ms: host -> reply (new ref). */
json_t *coord_sender__call(struct coord_sender *s, const char *op, uint64_t epoch, json_t *extra,
			   int timeout_ms);
/* The same, waiting for the hosts the last request went to, online now or
 * not (a verdict: a host that vanished since its snapshot fails it). */
json_t *coord_sender__call_same(struct coord_sender *s, const char *op, uint64_t epoch, json_t *extra,
				int timeout_ms);
/* Only collect more replies to the last request, now for @op (a trigger's
 * snapshots answer the arm request when it fires). */
json_t *coord_sender__collect(struct coord_sender *s, const char *op, int timeout_ms);
/* Publish @op (+ @extra, stolen) as a request of its own without making
 * it the one under way: replies to the last request are still collected
 * (a watch-stop naming it, say). 0 or negative errno. */
int coord_sender__notify(struct coord_sender *s, const char *op, uint64_t epoch, json_t *extra);
/* Progress an agent published on the request under way (@msg: "for",
 * "stage", and the stage's own fields, e.g. "vm", "done", "total"). */
typedef void (*coord_progress_fn)(void *ctx, const char *host, json_t *msg);
void coord_sender__on_progress(struct coord_sender *s, coord_progress_fn fn, void *ctx);
/* The id of the last request. */
const char *coord_sender__request(const struct coord_sender *s);
/* The hosts the last command was sent to (online then): host -> true. */
json_t *coord_sender__expected(struct coord_sender *s);
/* Errors agents published (rejected payloads) since open: array (borrowed). */
json_t *coord_sender__errors(struct coord_sender *s);
void coord_sender__close(struct coord_sender *s);

/* The sender's rounds, every reply checked. 0 when every host the request
 * went to answered ok; else a negative errno and @r->error, one line. */
struct coord_round {
	const char *op;		/* "status", "snapshot", "restore", ... */
	const char *stage;	/* the stage it ended in: "arm", "snapshot", "commit", or op */
	uint64_t epoch;
	json_t *agents;		/* host -> "online"/"offline" */
	json_t *expected;	/* the hosts that stage's request went to */
	json_t *replies;	/* host -> reply, of that stage ("commit": the snapshot's) */
	json_t *verdict;	/* a snapshot's commit or abort replies, or NULL */
	int n, bad;		/* hosts expected, and those without an ok */
	char error[256];
};
/* One request (ping, list, restore, resume...) to every online agent. */
int coord_round__call(struct coord_sender *s, const char *op, uint64_t epoch, json_t *extra, int timeout_ms,
		      struct coord_round *r);
/* A restore across hosts, two rounds: every host loads its part paused and
 * holds its network (@load); only once every host has, every one of them
 * continues (@go, a resume; left empty when @paused or the load failed):
 * a host that went on early would send frames that reach another host
 * before that host's own older held ones. @extra (borrowed, may be NULL):
 * the load request's other fields: "frames" (host -> .sp to put back in
 * place of that host's held frames), "prefault" (a vmctl__prefault_words word). */
int coord_round__restore(struct coord_sender *s, uint64_t epoch, json_t *extra, bool paused, int timeout_ms,
			 struct coord_round *load, struct coord_round *go);
/* The second round of a restore (or a resume of what stands): every host
 * the last request went to continues its VMs at once and puts its held
 * frames back; @extra (stolen, may be NULL) goes with the request (a fuzz
 * case's "watch"). */
int coord_round__resume(struct coord_sender *s, uint64_t epoch, json_t *extra, int timeout_ms,
			struct coord_round *go);
/* A snapshot (@op "snapshot") or a trigger's (@op "arm-time", "arm-packet"):
 * arm (a host that cannot fails the round at once), the snapshots, then
 * commit if every host saved its part (each marks it complete) or abort
 * (each marks it failed); complete only when every host committed. */
int coord_round__snapshot(struct coord_sender *s, const char *op, uint64_t epoch, json_t *extra,
			  int timeout_ms, struct coord_round *r);
void coord_round__clear(struct coord_round *r);
#pragma GCC visibility pop

#endif
