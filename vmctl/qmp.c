// SPDX-License-Identifier: MIT
/*
 * A QMP connection: a non-blocking unix socket, the greeting and capability
 * negotiation, commands with ids matched to their replies, events queued
 * while waiting, timeouts, and one prepared command for the critical path.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include "vmctl/internal.h"

#define QMP_MAX_LINE	(16u << 20)
#define QMP_MAX_EVENTS	256

struct qmp {
	int fd;
	int timeout_ms;
	bool dead;
	char *rbuf;
	size_t rlen, rcap;
	int64_t next_id;
	json_t *ev[QMP_MAX_EVENTS];
	int ev_head, ev_n;
	int version;
	pid_t peer;
	char err[512];
	/* the prepared command */
	char *pre;
	char pre_cmd[48];
	size_t prelen;
	int64_t pre_id;
	uint64_t sent_ns, ack_ns;
	int fire_err;
};

static int qerr(struct qmp *q, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int qerr(struct qmp *q, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(q->err, sizeof(q->err), fmt, ap);
	va_end(ap);
	/* The connection keeps its own (a group's commands fail one by one);
	 * the caller sees it in vmctl__errmsg() like every other failure. */
	return vm_seterr(ret, "%s", q->err);
}

const char *qmp_errmsg(const struct qmp *q) { return q ? q->err : "no QMP connection"; }
int qmp__fd(const struct qmp *q) { return q->fd; }
pid_t qmp__peer_pid(const struct qmp *q) { return q->peer > 0 ? q->peer : -ENOENT; }
int qmp__qemu_version(const struct qmp *q) { return q->version; }

static int remaining(uint64_t deadline)
{
	uint64_t now = util_now_ns();

	return now >= deadline ? 0 : (int)((deadline - now + 999999) / 1000000);
}

static uint64_t deadline_in(int ms)
{
	return util_now_ns() + (uint64_t)(ms < 0 ? 0 : ms) * 1000000ull;
}

static int gone(struct qmp *q)
{
	q->dead = true;
	return qerr(q, -ECONNRESET, "QEMU closed the QMP connection (it exited or was killed)");
}

/* Read what is there: >0 bytes, -EAGAIN, or an error. */
static int read_some(struct qmp *q)
{
	ssize_t n;

	if (q->dead)
		return gone(q);
	if (q->rcap - q->rlen < 4096) {
		size_t cap = q->rcap ? q->rcap * 2 : 8192;
		char *b;

		if (cap > QMP_MAX_LINE + 8192)
			return qerr(q, -EMSGSIZE, "QMP message longer than %u bytes", QMP_MAX_LINE);
		b = realloc(q->rbuf, cap);
		if (!b)
			return qerr(q, -ENOMEM, "out of memory");
		q->rbuf = b;
		q->rcap = cap;
	}
	n = recv(q->fd, q->rbuf + q->rlen, q->rcap - q->rlen, 0);
	if (n > 0) {
		q->rlen += (size_t)n;
		return (int)n;
	}
	if (n == 0)
		return gone(q);
	if (errno == EAGAIN || errno == EINTR)
		return -EAGAIN;
	if (errno == ECONNRESET || errno == EPIPE)
		return gone(q);
	return qerr(q, -errno, "QMP read: %s", strerror(errno));
}

static void queue_event(struct qmp *q, json_t *ev)
{
	if (q->ev_n == QMP_MAX_EVENTS) {	/* drop the oldest */
		json_decref(q->ev[q->ev_head]);
		q->ev_head = (q->ev_head + 1) % QMP_MAX_EVENTS;
		q->ev_n--;
	}
	q->ev[(q->ev_head + q->ev_n) % QMP_MAX_EVENTS] = json_incref(ev);
	q->ev_n++;
}

/*
 * Take complete lines from the buffer. Events are queued; a greeting is
 * returned when @want_greeting; the reply with id @want is returned (its
 * message in @m); replies to other (abandoned) ids are dropped.
 * 1: found, 0: need more input, <0: error.
 */
static int take_lines(struct qmp *q, int64_t want, bool want_greeting, struct qmp_msg *m)
{
	char *nl;

	while (q->rlen && (nl = memchr(q->rbuf, '\n', q->rlen))) {
		size_t len = (size_t)(nl - q->rbuf) + 1;
		char perr[200];
		bool blank = true;
		int r = 0;

		for (size_t i = 0; i < len; i++)
			if (q->rbuf[i] != ' ' && q->rbuf[i] != '\r' && q->rbuf[i] != '\n')
				blank = false;
		if (!blank)
			r = qmp_msg__parse(q->rbuf, len, m, perr, sizeof(perr));
		memmove(q->rbuf, q->rbuf + len, q->rlen - len);
		q->rlen -= len;
		if (blank)
			continue;
		if (r)
			return qerr(q, r, "%s", perr);
		switch (m->kind) {
		case QMP_EVENT:
			queue_event(q, m->root);
			qmp_msg__release(m);
			continue;
		case QMP_GREETING:
			if (want_greeting)
				return 1;
			qmp_msg__release(m);
			return qerr(q, -EPROTO, "malformed QMP message: a second greeting");
		case QMP_RETURN:
		case QMP_ERROR:
			if (want_greeting) {
				qmp_msg__release(m);
				return qerr(q, -EPROTO, "malformed QMP message: a reply before the greeting");
			}
			if (m->id < 0) {
				qmp_msg__release(m);
				return qerr(q, -EPROTO, "malformed QMP message: a reply without an id");
			}
			if (m->id == want)
				return 1;
			if (m->id == q->pre_id && q->pre && !q->ack_ns &&
			    q->fire_err == -EINPROGRESS) {
				/* The fired command's reply, met while waiting
				 * for something else: keep its outcome. */
				q->ack_ns = util_now_ns();
				q->fire_err = m->kind == QMP_ERROR ? -EREMOTEIO : 0;
				if (m->kind == QMP_ERROR)
					qerr(q, -EREMOTEIO, "%s: %s", q->pre_cmd, m->errdesc);
			}
			qmp_msg__release(m);
			continue;
		}
	}
	if (q->rlen > QMP_MAX_LINE)
		return qerr(q, -EMSGSIZE, "QMP message longer than %u bytes", QMP_MAX_LINE);
	return 0;
}

/* Wait for a greeting (want < 0 && greeting) or the reply @want. */
static int wait_msg(struct qmp *q, int64_t want, bool greeting, uint64_t deadline,
		    struct qmp_msg *m)
{
	for (;;) {
		int r = take_lines(q, want, greeting, m);
		struct pollfd p = { .fd = q->fd, .events = POLLIN };

		if (r)
			return r < 0 ? r : 0;
		r = read_some(q);
		if (r > 0)
			continue;
		if (r != -EAGAIN)
			return r;
		r = poll(&p, 1, remaining(deadline));
		if (r < 0 && errno != EINTR)
			return qerr(q, -errno, "poll: %s", strerror(errno));
		if (r == 0)
			return qerr(q, -ETIMEDOUT, "QEMU did not answer on QMP in time");
	}
}

static int send_all(struct qmp *q, const char *buf, size_t len, int pass_fd, uint64_t deadline)
{
	size_t off = 0;

	if (q->dead)
		return gone(q);
	while (off < len) {
		struct iovec iov = { (void *)(buf + off), len - off };
		union { char b[CMSG_SPACE(sizeof(int))]; struct cmsghdr a; } cm;
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n;

		if (pass_fd >= 0 && off == 0) {
			struct cmsghdr *c;

			memset(&cm, 0, sizeof(cm));
			mh.msg_control = cm.b;
			mh.msg_controllen = sizeof(cm.b);
			c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
		}
		n = sendmsg(q->fd, &mh, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			struct pollfd p = { .fd = q->fd, .events = POLLOUT };

			int pr = poll(&p, 1, remaining(deadline));

			if (pr < 0 && errno != EINTR)
				return qerr(q, -errno, "poll: %s", strerror(errno));
			if (pr == 0 || (pr < 0 && !remaining(deadline)))
				return qerr(q, -ETIMEDOUT, "QMP socket not writable in time");
			continue;
		}
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
			return gone(q);
		return qerr(q, n < 0 ? -errno : -EIO, "QMP write: %s", strerror(errno));
	}
	return 0;
}

static char *encode(struct qmp *q, const char *cmd, json_t *args, int64_t id, size_t *len)
{
	json_t *m = json_object();
	char *s;

	json_object_set_new(m, "execute", json_string(cmd));
	if (args)
		json_object_set_new(m, "arguments", args);
	json_object_set_new(m, "id", json_integer(id));
	s = json_dumps(m, JSON_COMPACT);
	json_decref(m);
	if (!s) {
		qerr(q, -ENOMEM, "cannot encode %s", cmd);
		return NULL;
	}
	*len = strlen(s);
	/* json_dumps leaves room for nothing more; append the newline. */
	{
		char *t = realloc(s, *len + 2);

		if (!t) {
			free(s);
			return NULL;
		}
		s = t;
		s[(*len)++] = '\n';
		s[*len] = 0;
	}
	return s;
}

static int reply_result(struct qmp *q, const char *cmd, struct qmp_msg *m, json_t **ret)
{
	int r = 0;

	if (m->kind == QMP_ERROR)
		r = qerr(q, -EREMOTEIO, "%s: %s", cmd, m->errdesc);
	else if (ret)
		*ret = json_incref(json_object_get(m->root, "return"));
	qmp_msg__release(m);
	return r;
}

int qmp__call_fd(struct qmp *q, const char *cmd, json_t *args, int fd, json_t **ret)
{
	uint64_t deadline = deadline_in(q->timeout_ms);
	int64_t id = q->next_id++;
	struct qmp_msg m;
	size_t len;
	char *s;
	int r;

	if (ret)
		*ret = NULL;
	s = encode(q, cmd, args, id, &len);
	if (!s)
		return -ENOMEM;
	r = send_all(q, s, len, fd, deadline);
	free(s);
	if (r)
		return r;
	r = wait_msg(q, id, false, deadline, &m);
	if (r) {
		if (r == -ETIMEDOUT)
			qerr(q, r, "%s: no reply from QEMU within %d ms", cmd, q->timeout_ms);
		return r;
	}
	return reply_result(q, cmd, &m, ret);
}

int qmp__call(struct qmp *q, const char *cmd, json_t *args, json_t **ret)
{
	return qmp__call_fd(q, cmd, args, -1, ret);
}

int qmp__getfd(struct qmp *q, const char *name, int fd)
{
	return qmp__call_fd(q, "getfd", json_pack("{s:s}", "fdname", name), fd, NULL);
}

int qmp__next_event(struct qmp *q, json_t **ev)
{
	struct qmp_msg m;
	int r;

	if (!q->ev_n) {
		/* Pick up whatever arrived without blocking. */
		while ((r = read_some(q)) > 0)
			;
		r = take_lines(q, -2, false, &m);
		if (r > 0)
			qmp_msg__release(&m);
		if (r < 0)
			return r;
	}
	if (!q->ev_n)
		return q->dead ? gone(q) : -EAGAIN;
	*ev = q->ev[q->ev_head];
	q->ev_head = (q->ev_head + 1) % QMP_MAX_EVENTS;
	q->ev_n--;
	return 0;
}

static bool status_matches(json_t *ev, const char *status)
{
	const char *s = json_string_value(json_object_get(json_object_get(ev, "data"), "status"));
	size_t n;

	if (!status)
		return true;
	if (!s)
		return false;
	n = strlen(s);
	for (const char *p = status; *p;) {
		const char *e = strchr(p, '|');
		size_t l = e ? (size_t)(e - p) : strlen(p);

		if (l == n && strncmp(p, s, n) == 0)
			return true;
		if (!e)
			break;
		p = e + 1;
	}
	return false;
}

int qmp__wait_event(struct qmp *q, const char *name, const char *status,
		    int timeout_ms, json_t **ev)
{
	uint64_t deadline = deadline_in(timeout_ms);

	for (;;) {
		struct pollfd p = { .fd = q->fd, .events = POLLIN };
		json_t *e;
		int r;

		while ((r = qmp__next_event(q, &e)) == 0) {
			const char *en = json_string_value(json_object_get(e, "event"));

			if (en && strcmp(en, name) == 0 && status_matches(e, status)) {
				if (ev)
					*ev = e;
				else
					json_decref(e);
				return 0;
			}
			json_decref(e);
		}
		if (r != -EAGAIN)
			return r;
		r = poll(&p, 1, remaining(deadline));
		/* A failing poll() returns at once: going round again would
		 * spin until the deadline (or for ever, as it is not checked
		 * on that path). */
		if (r < 0 && errno != EINTR)
			return qerr(q, -errno, "poll: %s", strerror(errno));
		if (r == 0 || (r < 0 && !remaining(deadline)))
			return qerr(q, -ETIMEDOUT, "no %s event from QEMU within %d ms", name, timeout_ms);
	}
}

int qmp__prepare(struct qmp *q, const char *cmd, json_t *args)
{
	free(q->pre);
	snprintf(q->pre_cmd, sizeof(q->pre_cmd), "%s", cmd);
	q->pre_id = q->next_id++;
	q->pre = encode(q, cmd, args, q->pre_id, &q->prelen);
	q->sent_ns = q->ack_ns = 0;
	q->fire_err = -EINPROGRESS;
	return q->pre ? 0 : -ENOMEM;
}

int qmp__fire(struct qmp *q)
{
	ssize_t n;

	if (!q->pre)
		return qerr(q, -EINVAL, "nothing prepared");
	if (q->dead)
		return q->fire_err = gone(q);
	/* The critical moment: one send() of a message that fits any socket
	 * buffer; only a short write falls back to the general path. */
	q->sent_ns = util_now_ns();
	n = send(q->fd, q->pre, q->prelen, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n == (ssize_t)q->prelen)
		return 0;
	if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
		return q->fire_err = gone(q);
	if (n < 0 && errno != EAGAIN)
		return q->fire_err = qerr(q, -errno, "QMP write: %s", strerror(errno));
	if (n < 0)
		n = 0;
	return q->fire_err = send_all(q, q->pre + n, q->prelen - (size_t)n, -1,
				      deadline_in(q->timeout_ms));
}

/* Reply to the fired command already buffered/readable? 1 done, 0 not yet. */
static int try_collect(struct qmp *q, json_t **ret)
{
	struct qmp_msg m;
	int r;

	for (;;) {
		r = take_lines(q, q->pre_id, false, &m);
		if (r > 0) {
			q->ack_ns = util_now_ns();
			q->fire_err = reply_result(q, q->pre_cmd, &m, ret);
			return 1;
		}
		if (r < 0) {
			q->fire_err = r;
			return 1;
		}
		r = read_some(q);
		if (r == -EAGAIN)
			return 0;
		if (r < 0) {
			q->fire_err = r;
			return 1;
		}
	}
}

int qmp__collect(struct qmp *q, int timeout_ms, json_t **ret)
{
	uint64_t deadline = deadline_in(timeout_ms);

	if (ret)
		*ret = NULL;
	if (q->fire_err != -EINPROGRESS && q->fire_err != 0)
		return q->fire_err;
	if (q->ack_ns)
		return q->fire_err;
	for (;;) {
		struct pollfd p = { .fd = q->fd, .events = POLLIN };

		int pr;

		if (try_collect(q, ret))
			return q->fire_err;
		pr = poll(&p, 1, remaining(deadline));
		if (pr < 0 && errno != EINTR)
			return q->fire_err = qerr(q, -errno, "poll: %s", strerror(errno));
		if (pr == 0 || (pr < 0 && !remaining(deadline)))
			return q->fire_err = qerr(q, -ETIMEDOUT, "no reply from QEMU within %d ms",
						  timeout_ms);
	}
}

void qmp__fire_times(const struct qmp *q, uint64_t *sent_ns, uint64_t *ack_ns)
{
	if (sent_ns)
		*sent_ns = q->sent_ns;
	if (ack_ns)
		*ack_ns = q->ack_ns;
}

int qmp__fire_result(const struct qmp *q) { return q->fire_err; }

int qmp__fire_all(struct qmp **qs, int n, int timeout_ms)
{
	struct pollfd *p = calloc((size_t)(n ? n : 1), sizeof(*p));
	uint64_t deadline = deadline_in(timeout_ms);
	int pending = 0, failed = 0;

	if (!p)
		return -ENOMEM;
	/* First every write, back to back; nothing read in between. */
	for (int i = 0; i < n; i++)
		qmp__fire(qs[i]);
	for (int i = 0; i < n; i++)
		if (qs[i]->fire_err == -EINPROGRESS || qs[i]->fire_err == 0)
			qs[i]->fire_err = -EINPROGRESS;
	for (;;) {
		int np = 0, pr;

		pending = 0;
		for (int i = 0; i < n; i++) {
			if (qs[i]->fire_err != -EINPROGRESS)
				continue;
			if (try_collect(qs[i], NULL))
				continue;
			p[np].fd = qs[i]->fd;
			p[np].events = POLLIN;
			np++;
			pending++;
		}
		if (!pending)
			break;
		pr = poll(p, (nfds_t)np, remaining(deadline));
		if (pr < 0 && errno != EINTR) {
			int e = errno;

			for (int i = 0; i < n; i++)
				if (qs[i]->fire_err == -EINPROGRESS)
					qs[i]->fire_err = qerr(qs[i], -e, "poll: %s", strerror(e));
			break;
		}
		if (pr == 0 || (pr < 0 && !remaining(deadline))) {
			for (int i = 0; i < n; i++)
				if (qs[i]->fire_err == -EINPROGRESS)
					qs[i]->fire_err = qerr(qs[i], -ETIMEDOUT,
						"no reply from QEMU within %d ms", timeout_ms);
			break;
		}
	}
	free(p);
	for (int i = 0; i < n; i++)
		failed += qs[i]->fire_err != 0;
	/* vmctl__errmsg(): the first failure in the caller's order. */
	for (int i = 0; i < n; i++)
		if (qs[i]->fire_err) {
			vm_seterr(qs[i]->fire_err, "%s", qs[i]->err);
			break;
		}
	return failed;
}

int qmp__open_fd(int fd, const struct qmp_opts *opts, struct qmp **out)
{
	struct qmp *q = calloc(1, sizeof(*q));
	struct qmp_opts o;
	struct qmp_msg m;
	struct ucred cr;
	socklen_t crl = sizeof(cr);
	json_t *ver;
	int r;

	*out = NULL;
	if (UTIL_OPTS_LOAD(o, opts)) {
		free(q);
		close(fd);
		return vm_seterr(-EINVAL, "qmp_opts: bad sz %zu", opts->sz);
	}
	if (!q) {
		close(fd);
		return vm_seterr(-ENOMEM, "out of memory");
	}
	q->fd = fd;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	q->timeout_ms = o.timeout_ms > 0 ? o.timeout_ms : 5000;
	q->next_id = 1;
	q->fire_err = -EINVAL;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crl) == 0)
		q->peer = cr.pid;
	r = wait_msg(q, -1, true, deadline_in(q->timeout_ms), &m);
	if (r) {
		if (r == -ETIMEDOUT)
			qerr(q, r, "no QMP greeting within %d ms (is this a QMP socket?)",
			     q->timeout_ms);
		goto fail;
	}
	ver = json_object_get(json_object_get(json_object_get(m.root, "QMP"), "version"), "qemu");
	q->version = (int)(json_integer_value(json_object_get(ver, "major")) * 10000 +
			   json_integer_value(json_object_get(ver, "minor")) * 100 +
			   json_integer_value(json_object_get(ver, "micro")));
	qmp_msg__release(&m);
	r = qmp__call(q, "qmp_capabilities", NULL, NULL);
	if (r)
		goto fail;
	*out = q;
	return 0;
fail:
	vm_seterr(r, "%s", q->err[0] ? q->err : strerror(-r));
	qmp__close(q);
	return r;
}

int qmp__connect(const char *path, const struct qmp_opts *opts, struct qmp **out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct qmp_opts o;
	struct timeval tv;
	int fd, r, ms;

	*out = NULL;
	if (UTIL_OPTS_LOAD(o, opts))
		return vm_seterr(-EINVAL, "qmp_opts: bad sz %zu", opts->sz);
	ms = o.timeout_ms > 0 ? o.timeout_ms : 5000;
	if (strlen(path) >= sizeof(sa.sun_path))
		return vm_seterr(-ENAMETOOLONG, "QMP socket path too long (max %zu): %s",
				 sizeof(sa.sun_path) - 1, path);
	strcpy(sa.sun_path, path);
	/*
	 * A unix connect() never completes later: a non-blocking one fails with
	 * EAGAIN when the listener's backlog is full (a QEMU not accepting), and
	 * the socket is then not connected at all. So a blocking connect,
	 * bounded by SO_SNDTIMEO (which the kernel applies to unix connects);
	 * qmp__open_fd() makes the socket non-blocking afterwards.
	 */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return vm_seterr(-errno, "socket: %s", strerror(errno));
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	do
		r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		int e = errno;

		r = e == EAGAIN || e == EINPROGRESS ? -ETIMEDOUT : -e;
		if (r == -ETIMEDOUT)
			vm_seterr(r, "cannot connect to QMP socket %s: not accepted within "
				  "%d ms (its QEMU takes no new connections)", path, ms);
		else
			vm_seterr(r, "cannot connect to QMP socket %s: %s%s", path,
				  strerror(e), e == ECONNREFUSED ? " (no QEMU behind it)" : "");
		close(fd);
		return r;
	}
	tv.tv_sec = tv.tv_usec = 0;	/* writes are non-blocking from here on */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return qmp__open_fd(fd, opts, out);
}

void qmp__close(struct qmp *q)
{
	if (!q)
		return;
	if (q->fd >= 0)
		close(q->fd);
	while (q->ev_n) {
		json_decref(q->ev[q->ev_head]);
		q->ev_head = (q->ev_head + 1) % QMP_MAX_EVENTS;
		q->ev_n--;
	}
	free(q->rbuf);
	free(q->pre);
	free(q);
}
