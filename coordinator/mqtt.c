// SPDX-License-Identifier: MIT
/* The MQTT transport over libmosquitto: QoS 1, a retained last will, and a
 * loop that reconnects by itself when the broker goes away and comes back. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <poll.h>
#include <unistd.h>
#include <mosquitto.h>
#include "coordinator/internal.h"
#include "coordinator/coord.h"
#include "util/opts.h"

struct coord_mqtt {
	struct mosquitto *m;
	coord_msg_fn fn;
	void *ctx;
	char **subs;
	int n_subs;
	bool connected;
	unsigned generation;	/* successful connections so far */
	uint64_t last_try_ns;	/* the last reconnect attempt (monotonic) */
};

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static void lib_init(void) { mosquitto_lib_init(); }

/* mqtt[s]://[user[:pass]@]host[:port] */
static int parse_url(const char *url, bool *tls, char *user, char *pass, char *host, int *port)
{
	const char *p, *at, *colon;
	size_t n;

	*user = *pass = 0;
	if (!strncmp(url, "mqtt://", 7)) {
		*tls = false;
		p = url + 7;
	} else if (!strncmp(url, "mqtts://", 8)) {
		*tls = true;
		p = url + 8;
	} else {
		return -EINVAL;
	}
	at = strrchr(p, '@');
	if (at) {
		colon = memchr(p, ':', (size_t)(at - p));
		n = (size_t)((colon ? colon : at) - p);
		if (n >= 128)
			return -EINVAL;
		memcpy(user, p, n);
		user[n] = 0;
		if (colon) {
			n = (size_t)(at - colon - 1);
			if (n >= 128)
				return -EINVAL;
			memcpy(pass, colon + 1, n);
			pass[n] = 0;
		}
		p = at + 1;
	}
	colon = strrchr(p, ':');
	n = colon ? (size_t)(colon - p) : strlen(p);
	if (!n || n >= 256)
		return -EINVAL;
	memcpy(host, p, n);
	host[n] = 0;
	*port = *tls ? 8883 : 1883;
	if (colon) {
		char *end;
		long v = strtol(colon + 1, &end, 10);

		if (*end || v < 1 || v > 65535)
			return -EINVAL;
		*port = (int)v;
	}
	return 0;
}

static void on_message(struct mosquitto *mo, void *ud, const struct mosquitto_message *msg)
{
	struct coord_mqtt *m = ud;

	(void)mo;
	if (m->fn)
		m->fn(msg->topic, msg->payload ? msg->payload : "", msg->payloadlen, m->ctx);
}

static void on_connect(struct mosquitto *mo, void *ud, int rc)
{
	struct coord_mqtt *m = ud;

	if (rc)
		return;
	m->connected = true;
	m->generation++;
	/* Clean sessions: subscriptions are made again on every connection. */
	for (int i = 0; i < m->n_subs; i++)
		mosquitto_subscribe(mo, NULL, m->subs[i], 1);
}

static void on_disconnect(struct mosquitto *mo, void *ud, int rc)
{
	struct coord_mqtt *m = ud;

	(void)mo; (void)rc;
	m->connected = false;
}

int coord_mqtt__connect(struct coord_mqtt **out, const struct coord_mqtt_opts *opts,
			coord_msg_fn fn, void *ctx)
{
	char *err = coord_err();
	size_t errlen = coord_err_len();
	char user[128], pass[128], host[256], id[64];
	struct coord_mqtt_opts ob;
	const struct coord_mqtt_opts *o = &ob;
	struct coord_mqtt *m;
	bool tls;
	int port, rc;

	if (UTIL_OPTS_LOAD(ob, opts)) {
		snprintf(err, errlen, "coord_mqtt_opts: bad sz %zu", opts->sz);
		return -EINVAL;
	}

	if (!o->url || parse_url(o->url, &tls, user, pass, host, &port)) {
		snprintf(err, errlen, "bad broker URL '%s' (mqtt[s]://[USER[:PASS]@]HOST[:PORT])",
			 o->url ? o->url : "");
		return -EINVAL;
	}
	pthread_once(&lib_once, lib_init);
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->fn = fn;
	m->ctx = ctx;
	if (!o->client_id)
		snprintf(id, sizeof(id), "stasis-%d-%lld", getpid(), (long long)time(NULL));
	m->m = mosquitto_new(o->client_id ? o->client_id : id, true, m);
	if (!m->m) {
		free(m);
		return -ENOMEM;
	}
	mosquitto_int_option(m->m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
	mosquitto_int_option(m->m, MOSQ_OPT_TCP_NODELAY, 1);
	mosquitto_message_callback_set(m->m, on_message);
	mosquitto_connect_callback_set(m->m, on_connect);
	mosquitto_disconnect_callback_set(m->m, on_disconnect);
	if (o->username || user[0])
		mosquitto_username_pw_set(m->m, o->username ? o->username : user,
					  o->password ? o->password : pass[0] ? pass : NULL);
	if (tls || o->cafile) {
		/* No --cafile: trust the system's CAs. */
		rc = mosquitto_tls_set(m->m, o->cafile, o->cafile ? NULL : "/etc/ssl/certs",
				       o->certfile, o->keyfile, NULL);
		if (rc) {
			snprintf(err, errlen, "TLS set-up: %s", mosquitto_strerror(rc));
			coord_mqtt__close(m);
			return -EINVAL;
		}
	}
	if (o->will_topic && o->will_payload)
		mosquitto_will_set(m->m, o->will_topic, (int)strlen(o->will_payload), o->will_payload, 1, true);
	rc = mosquitto_connect(m->m, host, port, 10);
	if (rc) {
		snprintf(err, errlen, "cannot reach the broker at %s:%d: %s", host, port,
			 rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
		coord_mqtt__close(m);
		return -ECONNREFUSED;
	}
	/* Wait for CONNACK, so a refused login is an error here. */
	for (int i = 0; i < 50 && !m->connected; i++)
		mosquitto_loop(m->m, 100, 1);
	if (!m->connected) {
		snprintf(err, errlen, "the broker at %s:%d did not accept the connection", host, port);
		coord_mqtt__close(m);
		return -ECONNREFUSED;
	}
	*out = m;
	return 0;
}

int coord_mqtt__subscribe(struct coord_mqtt *m, const char *topic)
{
	char **n = realloc(m->subs, (m->n_subs + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	m->subs = n;
	if (!(m->subs[m->n_subs] = strdup(topic)))
		return -ENOMEM;
	m->n_subs++;
	return mosquitto_subscribe(m->m, NULL, topic, 1) ? -EIO : 0;
}

int coord_mqtt__publish(struct coord_mqtt *m, const char *topic, const char *payload, bool retain)
{
	int rc = mosquitto_publish(m->m, NULL, topic, (int)strlen(payload), payload, 1, retain);

	/* While disconnected, libmosquitto queues QoS 1 messages and sends
	 * them after the reconnect. */
	return rc == MOSQ_ERR_SUCCESS || rc == MOSQ_ERR_NO_CONN ? 0 : -EIO;
}

int coord_mqtt__run(struct coord_mqtt *m, int timeout_ms)
{
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int left, rc;

		clock_gettime(CLOCK_MONOTONIC, &t1);
		left = timeout_ms - (int)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0)
			return 0;
		rc = mosquitto_loop(m->m, left < 100 ? left : 100, 1);
		if (rc == MOSQ_ERR_NO_CONN || rc == MOSQ_ERR_CONN_LOST || rc == MOSQ_ERR_ERRNO) {
			/* Try again every 200 ms for as long as the caller serves
			 * the connection; on_connect subscribes again. */
			m->connected = false;
			usleep(200000);
			mosquitto_reconnect(m->m);
		}
	}
}

/* ---- for a caller with its own poll() ------------------------------------ */

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int coord_mqtt__poll_fd(struct coord_mqtt *m, short *events)
{
	int fd = mosquitto_socket(m->m);

	*events = POLLIN;
	if (fd >= 0 && mosquitto_want_write(m->m))
		*events |= POLLOUT;
	return fd;
}

void coord_mqtt__serve(struct coord_mqtt *m, short revents)
{
	int rc = MOSQ_ERR_SUCCESS;

	if (mosquitto_socket(m->m) < 0) {
		rc = MOSQ_ERR_NO_CONN;
	} else {
		if (revents & (POLLIN | POLLHUP | POLLERR))
			rc = mosquitto_loop_read(m->m, 1);
		if (rc == MOSQ_ERR_SUCCESS && mosquitto_want_write(m->m))
			rc = mosquitto_loop_write(m->m, 1);
		if (rc == MOSQ_ERR_SUCCESS)
			rc = mosquitto_loop_misc(m->m);	/* keepalive pings, retries */
	}
	if (rc == MOSQ_ERR_NO_CONN || rc == MOSQ_ERR_CONN_LOST || rc == MOSQ_ERR_ERRNO) {
		/* A new attempt every 200 ms while the broker is away;
		 * on_connect subscribes again. */
		m->connected = false;
		if (mono_ns() - m->last_try_ns >= 200000000ull) {
			m->last_try_ns = mono_ns();
			mosquitto_reconnect(m->m);
		}
	}
}

void coord_mqtt__close(struct coord_mqtt *m)
{
	if (!m)
		return;
	if (m->connected) {
		mosquitto_disconnect(m->m);
		mosquitto_loop(m->m, 100, 1);
	}
	mosquitto_destroy(m->m);
	for (int i = 0; i < m->n_subs; i++)
		free(m->subs[i]);
	free(m->subs);
	free(m);
}

unsigned coord_mqtt__generation(const struct coord_mqtt *m)
{
	return m->generation;
}
