/* SPDX-License-Identifier: MIT */
/*
 * libstasis_coord: staged actions, the per-host agent and the sender.
 *
 * An operation (snapshot, restore) is a list of actions, each with init (slow
 * preparation before the moment), run (at the moment) and destroy. Critical
 * actions (hold the network, stop VMs) decide how tight a snapshot is: on a
 * snapshot they run before the non-critical ones (drain, save), on a restore
 * after them (load states first, then cont and replay).
 */
#ifndef STASIS_COORD_H
#define STASIS_COORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The API: visible from the library (everything else is hidden). */
#pragma GCC visibility push(default)

/* Errors: functions return 0 (or a count) or a negative errno, and a
 * failure leaves one line in coord__errmsg() (this thread's), for every
 * coord_ and fuzz_ function of this library. */
#define COORD_ERR_MAX 1024
const char *coord__errmsg(void);

enum coord_op { COORD_SNAPSHOT, COORD_RESTORE };

struct coord_action {
	const char *name;
	bool critical;
	int (*init)(void *ctx);		/* optional; negative errno */
	int (*run)(void *ctx);		/* required; negative errno */
	void (*destroy)(void *ctx);	/* optional; always called after init */
	void *ctx;
	/* Filled by coord_actions__execute: */
	int err;			/* init or run result */
	uint64_t run_start_ns, run_end_ns;	/* CLOCK_REALTIME */
};

/* Order @acts in place for @op; the order within each class is kept. */
void coord_actions__order(struct coord_action *acts, size_t n, enum coord_op op);

/*
 * Order, init all, run all in order, destroy all that were initialised.
 * Stops running at the first failure (later actions are not run; their err
 * stays -ECANCELED). Returns 0, or the first negative errno.
 */
int coord_actions__execute(struct coord_action *acts, size_t n, enum coord_op op);

/*
 * Time triggers: wait until an absolute wall-clock time (CLOCK_REALTIME ns)
 * precisely. A plain clock_nanosleep wakes ~65-120 µs late here; so: sleep
 * to the deadline minus @sleep_margin_ns, a short sleep to minus
 * @spin_margin_ns, then spin on clock_gettime. Never returns early.
 */
struct coord_timer_opts {
	size_t sz;			/* sizeof(struct coord_timer_opts) */
	uint64_t sleep_margin_ns;	/* 0: 5 ms */
	uint64_t spin_margin_ns;	/* 0: 1 ms */
};
/* 0 on time; -ETIME when the deadline had already passed on entry. @late_ns
 * (may be NULL) gets how far after the deadline it returned. */
int coord_timer__wait_until(uint64_t deadline_ns, const struct coord_timer_opts *o,
			    int64_t *late_ns);
uint64_t coord__now_ns(void);	/* CLOCK_REALTIME */

/* ---- MQTT ------------------------------------------------------------------
 * The transport: libmosquitto, QoS 1, one connection per agent or sender,
 * reconnecting by itself. URL: mqtt://[USER[:PASS]@]HOST[:PORT] or mqtts://
 * (TLS; --cafile/--cert/--key). */
struct coord_mqtt_opts {
	size_t sz;			/* sizeof(struct coord_mqtt_opts) */
	const char *url;
	const char *username, *password;	/* override the URL's */
	const char *cafile, *certfile, *keyfile;
	const char *client_id;			/* NULL: generated */
	const char *will_topic, *will_payload;	/* last will, retained */
};
struct coord_mqtt;
typedef void (*coord_msg_fn)(const char *topic, const char *payload, int len, void *ctx);
int coord_mqtt__connect(struct coord_mqtt **out, const struct coord_mqtt_opts *o,
			coord_msg_fn fn, void *ctx);
int coord_mqtt__subscribe(struct coord_mqtt *m, const char *topic);
int coord_mqtt__publish(struct coord_mqtt *m, const char *topic, const char *payload, bool retain);
/* Serve the connection for up to @timeout_ms (reconnecting when it drops). */
int coord_mqtt__run(struct coord_mqtt *m, int timeout_ms);
/* The same from a caller's own poll(): the socket and the events to wait
 * for (-1 while disconnected: poll with a timeout of at most 200 ms and
 * serve anyway, which reconnects); then serve with what poll() said. */
int coord_mqtt__poll_fd(struct coord_mqtt *m, short *events);
void coord_mqtt__serve(struct coord_mqtt *m, short revents);
/* Counts successful connections: a change means the broker was lost and
 * found again (retained messages of a broker without persistence are gone). */
unsigned coord_mqtt__generation(const struct coord_mqtt *m);
/* Publish nothing more and disconnect cleanly (no last will). */
void coord_mqtt__close(struct coord_mqtt *m);

/* A private mosquitto on 127.0.0.1 and a free port, for one host that needs
 * no set-up: started by the commands when no --broker is given. */
struct coord_broker;
int coord_broker__start(struct coord_broker **out, char *url, size_t len);
void coord_broker__stop(struct coord_broker *b);

/* ---- messages ----------------------------------------------------------------
 * Versioned JSON (docs/coordination.md). Every message names the
 * experiment and the epoch it belongs to. */
#define COORD_PROTO_VERSION 1
/* The largest message taken (a restore may carry a fuzz case's frames). */
#define COORD_MSG_MAX (8 * 1024 * 1024)
#define COORD_NAME_MAX 64
struct coord_msg {
	int v;
	char experiment[COORD_NAME_MAX];
	uint64_t epoch;
	char op[COORD_NAME_MAX];
	char from[COORD_NAME_MAX];
	uint64_t sent_ns;
	/* Optional names: @id, the request's own (every command the sender
	 * publishes has a new one: duplicates are recognised by it, never by
	 * the epoch); @re, the request a reply or event belongs to. */
	char id[COORD_NAME_MAX];
	char re[COORD_NAME_MAX];
};
/* Parse and validate; -EBADMSG with a one-line reason in @err. With @obj
 * (may be NULL), the whole parsed object is handed over (a json_t *, the
 * caller's to json_decref), for the op's own fields. */
int coord_msg__parse(const char *payload, size_t len, struct coord_msg *m, void **obj);
/* Whether @s is a name: 1-63 characters of [A-Za-z0-9._-] (experiments,
 * hosts, ids: they become topic levels, so no '/', '+' or '#'). */
bool coord_name__ok(const char *s);
/* Encode @m (plus the fields of @extra, may be NULL) as compact JSON; free(). */
char *coord_msg__encode(const struct coord_msg *m, const void *extra_json_t);

#pragma GCC visibility pop

#endif
