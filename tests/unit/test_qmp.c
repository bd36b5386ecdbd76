// SPDX-License-Identifier: MIT
/*
 * The QMP client against fake QEMUs over socketpairs: greeting and
 * negotiation, ids matched to replies, events queued, error replies,
 * malformed and split messages, QEMU gone, timeouts, fd passing, and the
 * prepared-stop broadcast.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "vmctl/internal.h"
#include "tests/unit/unit.h"

#define GREETING "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7}, " \
		 "\"package\": \"\"}, \"capabilities\": [\"oob\"]}}\r\n"

/* A fake QEMU: sends @greeting, then answers each command line with
 * @answer(cmd) where "%ID%" is replaced by the request's id. An answer of
 * NULL closes the connection; "" sends nothing. */
struct fake {
	int fd;
	const char *greeting;
	const char *(*answer)(const char *cmd, int nth);
	int passed_fd;		/* an fd received with SCM_RIGHTS */
	int commands;
};

static void put(int fd, const char *s)
{
	size_t n = strlen(s);

	while (n) {
		ssize_t w = write(fd, s, n);

		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void *fake_run(void *arg)
{
	struct fake *f = arg;
	char buf[8192];
	size_t len = 0;

	if (f->greeting)
		put(f->fd, f->greeting);
	for (;;) {
		char cm[CMSG_SPACE(sizeof(int))];
		struct iovec iov = { buf + len, sizeof(buf) - 1 - len };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = cm, .msg_controllen = sizeof(cm) };
		ssize_t n = recvmsg(f->fd, &mh, 0);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		char *nl;

		if (n <= 0)
			break;
		if (c && c->cmsg_type == SCM_RIGHTS)
			memcpy(&f->passed_fd, CMSG_DATA(c), sizeof(int));
		len += (size_t)n;
		buf[len] = 0;
		while ((nl = strchr(buf, '\n'))) {
			json_t *req = json_loadb(buf, (size_t)(nl - buf), 0, NULL);
			const char *cmd = json_string_value(json_object_get(req, "execute"));
			const char *a = f->answer(cmd ? cmd : "", f->commands++);
			char id[32], out[4096];
			const char *p;
			size_t o = 0;

			snprintf(id, sizeof(id), "%lld",
				 (long long)json_integer_value(json_object_get(req, "id")));
			json_decref(req);
			memmove(buf, nl + 1, len - (size_t)(nl + 1 - buf) + 1);
			len -= (size_t)(nl + 1 - buf);
			if (!a) {
				shutdown(f->fd, SHUT_RDWR);
				return NULL;
			}
			for (p = a; *p && o < sizeof(out) - 40;) {
				if (!strncmp(p, "%ID%", 4)) {
					o += (size_t)sprintf(out + o, "%s", id);
					p += 4;
				} else {
					out[o++] = *p++;
				}
			}
			out[o] = 0;
			put(f->fd, out);
		}
	}
	return NULL;
}

struct rig {
	struct fake f;
	pthread_t th;
	int cfd;
};

static void rig_start(struct rig *r, const char *greeting, const char *(*answer)(const char *, int))
{
	int sv[2];

	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
	memset(r, 0, sizeof(*r));
	r->f.fd = sv[1];
	r->f.greeting = greeting;
	r->f.answer = answer;
	r->f.passed_fd = -1;
	r->cfd = sv[0];
	pthread_create(&r->th, NULL, fake_run, &r->f);
}

static void rig_end(struct rig *r, struct qmp *q)
{
	qmp__close(q);		/* closes cfd: the fake sees EOF */
	if (!q)
		close(r->cfd);
	pthread_join(r->th, NULL);
	close(r->f.fd);
	if (r->f.passed_fd >= 0)
		close(r->f.passed_fd);
}

static int open_rig(struct rig *r, int timeout_ms, struct qmp **q, char *err, size_t el)
{
	struct qmp_opts o = { .sz = sizeof(o), .timeout_ms = timeout_ms };

	int ret = qmp__open_fd(r->cfd, &o, q);

	if (ret && err && el)
		snprintf(err, el, "%s", vmctl__errmsg());
	return ret;
}

/* ---- the message parser ------------------------------------------------ */

static int parse(const char *s, struct qmp_msg *m, char *err, size_t el)
{
	return qmp_msg__parse(s, strlen(s), m, err, el);
}

UNIT_TEST(parse_kinds)
{
	struct qmp_msg m;
	char err[200];

	EXPECT(parse(GREETING, &m, err, sizeof(err)) == 0 && m.kind == QMP_GREETING);
	qmp_msg__release(&m);
	EXPECT(parse("{\"return\": {}, \"id\": 7}", &m, err, sizeof(err)) == 0 &&
	       m.kind == QMP_RETURN && m.id == 7);
	qmp_msg__release(&m);
	EXPECT(parse("{\"error\": {\"class\": \"GenericError\", \"desc\": \"no\\nway\"}, \"id\": 3}",
		     &m, err, sizeof(err)) == 0 && m.kind == QMP_ERROR && m.id == 3 &&
	       strcmp(m.errdesc, "GenericError: no way") == 0);
	qmp_msg__release(&m);
	EXPECT(parse("{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"STOP\"}",
		     &m, err, sizeof(err)) == 0 && m.kind == QMP_EVENT && !strcmp(m.event, "STOP") &&
	       m.id == -1);
	qmp_msg__release(&m);
}

UNIT_TEST(parse_malformed)
{
	static const char *const bad[] = {
		"", "not json", "[1,2]", "42", "\"str\"", "{\"return\": {}, \"id\": \"x\"}",
		"{\"return\": {}, \"id\": -4}", "{\"error\": \"flat\", \"id\": 1}",
		"{\"error\": {\"class\": \"X\"}, \"id\": 1}", "{\"event\": 5}",
		"{\"QMP\": {}}", "{\"QMP\": 1}", "{\"hello\": 1}",
		"{\"return\": 1, \"return\": 2, \"id\": 1}", "{\"return\": {}", "{\"id\": 1}",
	};
	struct qmp_msg m;
	char err[200];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		if (!EXPECT(parse(bad[i], &m, err, sizeof(err)) == -EPROTO))
			printf("# accepted: %s\n", bad[i]);
		EXPECT(strncmp(err, "malformed QMP message", 21) == 0);
		EXPECT(m.root == NULL);
	}
}

/* ---- a connection ------------------------------------------------------ */

static const char *ans_normal(const char *cmd, int nth)
{
	(void)nth;
	if (!strcmp(cmd, "qmp_capabilities"))
		return "{\"return\": {}, \"id\": %ID%}\r\n";
	if (!strcmp(cmd, "query-status"))
		/* an event first, a stale reply to an abandoned id, then ours */
		return "{\"event\": \"RESUME\", \"timestamp\": {\"seconds\": 1, \"microseconds\": 0}}\r\n"
		       "{\"return\": {\"status\": \"stale\"}, \"id\": 999999}\r\n"
		       "{\"return\": {\"status\": \"running\", \"running\": true}, \"id\": %ID%}\r\n";
	if (!strcmp(cmd, "bogus"))
		return "{\"id\": %ID%, \"error\": {\"class\": \"CommandNotFound\", "
		       "\"desc\": \"The command bogus has not been found\"}}\r\n";
	if (!strcmp(cmd, "getfd"))
		return "{\"return\": {}, \"id\": %ID%}\r\n";
	if (!strcmp(cmd, "split"))
		return "";	/* answered by the test itself */
	if (!strcmp(cmd, "silent"))
		return "";
	return NULL;
}

UNIT_TEST(connect_call_events_errors)
{
	struct rig r;
	struct qmp *q = NULL;
	json_t *ret = NULL, *ev = NULL;
	char err[300];
	int fds[2];

	rig_start(&r, GREETING, ans_normal);
	EXPECT(open_rig(&r, 2000, &q, err, sizeof(err)) == 0);
	if (!q)
		return rig_end(&r, q);
	EXPECT(qmp__qemu_version(q) == 70222);
	EXPECT(qmp__peer_pid(q) == getpid());
	EXPECT(qmp__call(q, "query-status", NULL, &ret) == 0);
	EXPECT(!strcmp(json_string_value(json_object_get(ret, "status")) ?: "", "running"));
	json_decref(ret);
	EXPECT(qmp__next_event(q, &ev) == 0 &&
	       !strcmp(json_string_value(json_object_get(ev, "event")) ?: "", "RESUME"));
	json_decref(ev);
	EXPECT(qmp__next_event(q, &ev) == -EAGAIN);
	EXPECT(qmp__call(q, "bogus", NULL, &ret) == -EREMOTEIO && ret == NULL);
	EXPECT(strstr(vmctl__errmsg(), "CommandNotFound: The command bogus has not been found"));
	/* fd passing */
	EXPECT(pipe(fds) == 0);
	EXPECT(qmp__getfd(q, "x", fds[1]) == 0);
	close(fds[0]);
	close(fds[1]);
	rig_end(&r, q);
	EXPECT(r.f.passed_fd >= 0);
}

UNIT_TEST(timeout_then_gone)
{
	struct rig r;
	struct qmp *q = NULL;
	char err[300];

	rig_start(&r, GREETING, ans_normal);
	EXPECT(open_rig(&r, 200, &q, err, sizeof(err)) == 0);
	if (!q)
		return rig_end(&r, q);
	EXPECT(qmp__call(q, "silent", NULL, NULL) == -ETIMEDOUT);
	EXPECT(strstr(vmctl__errmsg(), "no reply"));
	/* unknown command: the fake hangs up, as a killed QEMU would */
	EXPECT(qmp__call(q, "die", NULL, NULL) == -ECONNRESET);
	EXPECT(strstr(vmctl__errmsg(), "closed"));
	EXPECT(qmp__call(q, "query-status", NULL, NULL) == -ECONNRESET);
	rig_end(&r, q);
}

static const char *ans_garbage(const char *cmd, int nth)
{
	(void)nth;
	if (!strcmp(cmd, "qmp_capabilities"))
		return "{\"return\": {}, \"id\": %ID%}\r\n";
	if (!strcmp(cmd, "noid"))
		return "{\"return\": {}}\r\n";
	return "{\"return\": {\"status\": tru\r\n";
}

UNIT_TEST(malformed_replies)
{
	struct rig r;
	struct qmp *q = NULL;
	char err[300];

	rig_start(&r, GREETING, ans_garbage);
	EXPECT(open_rig(&r, 1000, &q, err, sizeof(err)) == 0);
	if (!q)
		return rig_end(&r, q);
	EXPECT(qmp__call(q, "noid", NULL, NULL) == -EPROTO);
	EXPECT(strstr(vmctl__errmsg(), "without an id"));
	EXPECT(qmp__call(q, "query-status", NULL, NULL) == -EPROTO);
	EXPECT(strstr(vmctl__errmsg(), "malformed QMP message"));
	rig_end(&r, q);
}

static const char *ans_caps_only(const char *cmd, int nth)
{
	(void)nth;
	return !strcmp(cmd, "qmp_capabilities") ? "{\"return\": {}, \"id\": %ID%}\r\n" : "";
}

UNIT_TEST(bad_greetings)
{
	struct rig r;
	struct qmp *q = NULL;
	char err[300];

	rig_start(&r, "{\"return\": {}, \"id\": 1}\r\n", ans_caps_only);
	EXPECT(open_rig(&r, 500, &q, err, sizeof(err)) == -EPROTO && q == NULL);
	EXPECT(strstr(err, "before the greeting"));
	rig_end(&r, q);

	rig_start(&r, "SSH-2.0-OpenSSH\r\n", ans_caps_only);
	EXPECT(open_rig(&r, 500, &q, err, sizeof(err)) == -EPROTO && q == NULL);
	EXPECT(strstr(err, "malformed"));
	rig_end(&r, q);

	rig_start(&r, NULL, ans_caps_only);	/* says nothing */
	EXPECT(open_rig(&r, 200, &q, err, sizeof(err)) == -ETIMEDOUT && q == NULL);
	EXPECT(strstr(err, "greeting"));
	rig_end(&r, q);
}

UNIT_TEST(split_reply)
{
	struct rig r;
	struct qmp *q = NULL;
	json_t *ret = NULL;
	char err[300], msg[200];
	int len, half;

	rig_start(&r, GREETING, ans_normal);
	EXPECT(open_rig(&r, 2000, &q, err, sizeof(err)) == 0);
	if (!q)
		return rig_end(&r, q);
	/* Write the reply ourselves, in two pieces with a pause between. */
	len = snprintf(msg, sizeof(msg), "{\"return\": {\"n\": 41}, \"id\": 2}\r\n");
	half = len / 2;
	EXPECT(qmp__prepare(q, "split", NULL) == 0);
	EXPECT(qmp__fire(q) == 0);
	put(r.f.fd, "{\"event\": \"STOP\", \"timestamp\": {}}\r\n");
	EXPECT(write(r.f.fd, msg, (size_t)half) == half);
	usleep(50000);
	EXPECT(write(r.f.fd, msg + half, (size_t)(len - half)) == len - half);
	EXPECT(qmp__collect(q, 1000, &ret) == 0);
	EXPECT(json_integer_value(json_object_get(ret, "n")) == 41);
	json_decref(ret);
	rig_end(&r, q);
}

static const char *ans_stop(const char *cmd, int nth)
{
	(void)nth;
	if (!strcmp(cmd, "qmp_capabilities") || !strcmp(cmd, "stop"))
		return "{\"return\": {}, \"id\": %ID%}\r\n";
	return NULL;
}

UNIT_TEST(fire_all_stop)
{
	struct rig r[4];
	struct qmp *q[4] = { 0 };
	char err[300];
	int ok = 1;

	for (int i = 0; i < 4; i++) {
		/* the last one hangs up instead of acknowledging */
		rig_start(&r[i], GREETING, i == 3 ? ans_caps_only : ans_stop);
		ok &= EXPECT(open_rig(&r[i], 2000, &q[i], err, sizeof(err)) == 0);
	}
	if (ok) {
		for (int i = 0; i < 4; i++)
			EXPECT(qmp__prepare(q[i], "stop", NULL) == 0);
		EXPECT(qmp__fire_all(q, 4, 300) == 1);
		for (int i = 0; i < 3; i++) {
			uint64_t s, a;

			qmp__fire_times(q[i], &s, &a);
			EXPECT(qmp__fire_result(q[i]) == 0);
			EXPECT(s > 0 && a >= s);
		}
		EXPECT(qmp__fire_result(q[3]) == -ETIMEDOUT);
	}
	for (int i = 0; i < 4; i++)
		rig_end(&r[i], q[i]);
}

UNIT_TEST(connect_errors)
{
	struct qmp *q = (struct qmp *)1;
	char longp[200];

	EXPECT(qmp__connect("/nonexistent/stasis-test.qmp", NULL, &q) == -ENOENT);
	EXPECT(q == NULL && strstr(vmctl__errmsg(), "cannot connect"));
	memset(longp, 'x', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = 0;
	EXPECT(qmp__connect(longp, NULL, &q) == -ENAMETOOLONG);
	EXPECT(strstr(vmctl__errmsg(), "too long") != NULL);
}

static const char *ans_migration(const char *cmd, int nth)
{
	(void)nth;
	if (!strcmp(cmd, "qmp_capabilities"))
		return "{\"return\": {}, \"id\": %ID%}\r\n";
	if (!strcmp(cmd, "migrate"))
		return "{\"return\": {}, \"id\": %ID%}\r\n"
		       "{\"event\": \"MIGRATION\", \"data\": {\"status\": \"setup\"}}\r\n"
		       "{\"event\": \"RESUME\"}\r\n"
		       "{\"event\": \"MIGRATION\", \"data\": {\"status\": \"active\"}}\r\n"
		       "{\"event\": \"MIGRATION\", \"data\": {\"status\": \"completed\"}}\r\n";
	return "";
}

UNIT_TEST(wait_event_status)
{
	struct rig r;
	struct qmp *q = NULL;
	json_t *ev = NULL;
	char err[300];

	rig_start(&r, GREETING, ans_migration);
	EXPECT(open_rig(&r, 1000, &q, err, sizeof(err)) == 0);
	if (!q)
		return rig_end(&r, q);
	EXPECT(qmp__call(q, "migrate", NULL, NULL) == 0);
	EXPECT(qmp__wait_event(q, "MIGRATION", "failed|completed", 1000, &ev) == 0);
	EXPECT(!strcmp(json_string_value(json_object_get(json_object_get(ev, "data"),
							  "status")) ?: "", "completed"));
	json_decref(ev);
	/* nothing more comes: a timeout, then the events were all consumed */
	EXPECT(qmp__wait_event(q, "SHUTDOWN", NULL, 100, NULL) == -ETIMEDOUT);
	EXPECT(qmp__next_event(q, &ev) == -EAGAIN);
	rig_end(&r, q);
}

static const char *ans_stop_refused(const char *cmd, int nth)
{
	(void)nth;
	if (!strcmp(cmd, "qmp_capabilities"))
		return "{\"return\": {}, \"id\": %ID%}\r\n";
	return "{\"error\": {\"class\": \"GenericError\", \"desc\": \"not now\"}, \"id\": %ID%}\r\n";
}

UNIT_TEST(fired_command_refused)
{
	struct rig r;
	struct qmp *q = NULL;
	char err[300];

	rig_start(&r, GREETING, ans_stop_refused);
	EXPECT(open_rig(&r, 1000, &q, err, sizeof(err)) == 0);
	if (!q)
		return rig_end(&r, q);
	EXPECT(qmp__prepare(q, "stop", NULL) == 0);
	EXPECT(qmp__fire_all(&q, 1, 1000) == 1);
	EXPECT(qmp__fire_result(q) == -EREMOTEIO);
	EXPECT(strstr(vmctl__errmsg(), "stop: GenericError: not now"));
	rig_end(&r, q);
}

/* A QMP socket whose QEMU accepts nothing: the listen backlog is full. A
 * non-blocking connect() fails with EAGAIN then, leaving the socket
 * unconnected: a clear timeout, not a connection. */
UNIT_TEST(connect_backlog_full)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct qmp_opts o = { .sz = sizeof(o), .timeout_ms = 300 };
	struct qmp *q = (struct qmp *)1;
	int l, c;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "/tmp/stasis-test_qmp.%d.sock", (int)getpid());
	unlink(sa.sun_path);
	l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	EXPECT(bind(l, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(l, 0) == 0);
	/* the one connection a backlog of 0 holds */
	EXPECT(connect(c, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	EXPECT(qmp__connect(sa.sun_path, &o, &q) == -ETIMEDOUT);
	EXPECT(q == NULL && strstr(vmctl__errmsg(), "not accepted within 300 ms"));
	close(c);
	close(l);
	unlink(sa.sun_path);
}

/* poll() failing for another reason than a signal is returned, not retried
 * (it would fail at once again, round and round). poll() refuses more fds
 * than RLIMIT_NOFILE allows: with the limit at 0, every poll fails. */
UNIT_TEST(wait_event_poll_error)
{
	struct rig r;
	struct qmp *q = NULL;
	struct rlimit old, none = { 0, 0 };
	char err[300];
	int ret;

	rig_start(&r, GREETING, ans_normal);
	EXPECT(open_rig(&r, 1000, &q, err, sizeof(err)) == 0);
	if (!q)
		return rig_end(&r, q);
	EXPECT(getrlimit(RLIMIT_NOFILE, &old) == 0);
	none.rlim_max = old.rlim_max;
	EXPECT(setrlimit(RLIMIT_NOFILE, &none) == 0);
	ret = qmp__wait_event(q, "SHUTDOWN", NULL, 60000, NULL);
	setrlimit(RLIMIT_NOFILE, &old);
	EXPECT(ret == -EINVAL);
	EXPECT(strstr(vmctl__errmsg(), "poll: "));
	rig_end(&r, q);
}
