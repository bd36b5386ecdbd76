// SPDX-License-Identifier: MIT
/*
 * Watchdogs of a fuzz case: console lines, QEMU events, probes, a command.
 * One loop polls them all every few milliseconds: consoles are files that
 * QEMU appends to, QMP events are already buffered by the client, probes are
 * retried, and the command is a child whose exit is reaped.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "coordinator/internal.h"
#include "coordinator/coord.h"
#include "coordinator/fuzz.h"
#include "sp-format/sp.h"
#include "util/util.h"
#include "vmctl/vmctl.h"

enum watch_kind { WK_CONSOLE, WK_OK, WK_EVENT, WK_UDP, WK_TCP, WK_CMD };

struct fuzz_watch {
	enum watch_kind kind;
	char *spec;
	char host[COORD_NAME_MAX];	/* "@HOST:": where a probe or command runs */
	char vm[40];
	regex_t re;
	bool has_re;
	char events[256];		/* ",A,B," */
	struct sockaddr_in addr;
	uint8_t probe[256];
	int probe_len;
	char *cmd;
	/* During a case: */
	int fd;				/* console file or probe socket */
	char line[4096];
	size_t line_len;
	pid_t pid;
	bool passed;
	uint64_t next_ns;		/* next probe */
	struct fuzz_vm *v;
};

static const char *const verdict_names[FUZZ_NVERDICT] = { "ok", "fail", "hang", "error" };

const char *fuzz__verdict_name(enum fuzz_verdict v)
{
	return v < FUZZ_NVERDICT ? verdict_names[v] : "?";
}

const char *fuzz_watch__spec(const struct fuzz_watch *w) { return w->spec; }

const char *fuzz_watch__vm(const struct fuzz_watch *w)
{
	return w->vm[0] ? w->vm : NULL;
}

const char *fuzz_watch__host(const struct fuzz_watch *w)
{
	return w->host[0] ? w->host : NULL;
}

const char *fuzz_watch__body(const struct fuzz_watch *w)
{
	return w->host[0] ? w->spec + strlen(w->host) + 2 : w->spec;
}

void fuzz_watch__free(struct fuzz_watch *w)
{
	if (!w)
		return;
	if (w->has_re)
		regfree(&w->re);
	free(w->spec);
	free(w->cmd);
	free(w);
}

/* "VM:REST": the VM name into w->vm, *rest after the colon (or NULL). */
static int split_vm(struct fuzz_watch *w, const char *s, const char **rest, char *err, size_t errlen)
{
	const char *c = strchr(s, ':');
	size_t n = c ? (size_t)(c - s) : strlen(s);

	if (!n || n >= sizeof(w->vm)) {
		snprintf(err, errlen, "--watch %s: a VM name is needed", w->spec);
		return -EINVAL;
	}
	memcpy(w->vm, s, n);
	w->vm[n] = 0;
	if (vmctl__name_valid(w->vm)) {
		snprintf(err, errlen, "--watch %s: '%s' is not a VM name", w->spec, w->vm);
		return -EINVAL;
	}
	*rest = c ? c + 1 : NULL;
	return 0;
}

static int parse_addr(struct fuzz_watch *w, const char *s, const char **rest, char *err, size_t errlen)
{
	char ip[64];
	const char *c = strchr(s, ':');
	char *end;
	unsigned long port;

	if (!c || (size_t)(c - s) >= sizeof(ip))
		goto bad;
	memcpy(ip, s, (size_t)(c - s));
	ip[c - s] = 0;
	memset(&w->addr, 0, sizeof(w->addr));
	w->addr.sin_family = AF_INET;
	if (inet_pton(AF_INET, ip, &w->addr.sin_addr) != 1)
		goto bad;
	errno = 0;
	port = strtoul(c + 1, &end, 10);
	if (errno || end == c + 1 || port < 1 || port > 65535 || (*end && *end != ':'))
		goto bad;
	w->addr.sin_port = htons((uint16_t)port);
	*rest = *end ? end + 1 : NULL;
	return 0;
bad:
	snprintf(err, errlen, "--watch %s: IPv4:PORT expected", w->spec);
	return -EINVAL;
}

/*
 * glibc's regcomp copies the tree under every + and {n,m} (x+ is xx*), so
 * a few of them in a row take gigabytes ("x++++++++..."): allow expressions
 * whose copies, multiplied over the whole expression, stay small. A
 * repetition right after another ("x**", "x+*") adds nothing a user needs
 * and, dozens of them, makes regcomp's closures take gigabytes too (the fuzz
 * target found it): refused. Escapes and bracket expressions are skipped,
 * where these are plain characters.
 */
#define RE_MAX_LEN	512
#define RE_MAX_COPIES	1024
static bool regex_small(const char *re)
{
	unsigned long copies = 1;
	bool after_rep = false;

	if (strlen(re) > RE_MAX_LEN)
		return false;
	for (const char *p = re; *p; p++) {
		unsigned long f = 1;
		bool rep = *p == '*' || *p == '+' || *p == '?' || *p == '{';

		if (rep && after_rep)
			return false;
		after_rep = rep;
		if (*p == '\\' && p[1]) {
			p++;
		} else if (*p == '[') {
			/* ']' right after '[' or '[^' belongs to the set. */
			p += p[1] == '^' ? 2 : 1;
			if (*p == ']')
				p++;
			while (*p && *p != ']')
				p++;
			if (!*p)
				break;
		} else if (*p == '+') {
			f = 2;
		} else if (*p == '{') {
			unsigned long a = strtoul(p + 1, NULL, 10), b = a;
			const char *c = strchr(p, ',');
			const char *e = strchr(p, '}');

			if (c && e && c < e)
				b = c + 1 == e ? RE_MAX_COPIES : strtoul(c + 1, NULL, 10);
			f = (a > b ? a : b) + 1;
			if (e)
				p = e;	/* the bound is part of this repetition */
		}
		if (f > RE_MAX_COPIES || (copies *= f) > RE_MAX_COPIES)
			return false;
	}
	return true;
}

int fuzz_watch__parse(const char *spec, struct fuzz_watch **out)
{
	char *err = coord_err();
	size_t errlen = coord_err_len();
	struct fuzz_watch *w = calloc(1, sizeof(*w));
	const char *rest = NULL;
	int ret = -EINVAL;

	*out = NULL;
	if (!w || !(w->spec = strdup(spec))) {
		free(w);
		return -ENOMEM;
	}
	w->fd = -1;
	if (spec[0] == '@') {
		/* "@HOST:SPEC": a probe or a command run on that host (a
		 * snapshot of several hosts is watched from each). */
		const char *c = strchr(spec + 1, ':');
		size_t n = c ? (size_t)(c - spec - 1) : 0;

		if (!n || n >= sizeof(w->host)) {
			snprintf(err, errlen, "--watch %s: expected @HOST:probe:... or @HOST:cmd:...", spec);
			goto out;
		}
		memcpy(w->host, spec + 1, n);
		w->host[n] = 0;
		spec = c + 1;
		if (!coord_name__ok(w->host) || (strncmp(spec, "probe:", 6) && strncmp(spec, "cmd:", 4))) {
			snprintf(err, errlen, "--watch %s: @HOST: goes before a probe or a command, with "
				 "a host name (a VM's watchdogs run on its own host)", w->spec);
			goto out;
		}
	}
	if (!strncmp(spec, "console:", 8) || !strncmp(spec, "ok:", 3)) {
		w->kind = spec[0] == 'c' ? WK_CONSOLE : WK_OK;
		if ((ret = split_vm(w, strchr(spec, ':') + 1, &rest, err, errlen)))
			goto out;
		ret = -EINVAL;
		if (!rest || !*rest) {
			snprintf(err, errlen, "--watch %s: a regular expression is needed", w->spec);
			goto out;
		}
		if (!regex_small(rest)) {
			snprintf(err, errlen, "--watch %.100s: the regular expression is too large "
				 "(at most %d characters, and + and {n,m} repeating at most %d copies "
				 "in all)", spec, RE_MAX_LEN, RE_MAX_COPIES);
			goto out;
		}
		int rc = regcomp(&w->re, rest, REG_EXTENDED | REG_NOSUB);

		if (rc) {
			char m[128];

			regerror(rc, &w->re, m, sizeof(m));
			snprintf(err, errlen, "--watch %s: %s", spec, m);
			goto out;
		}
		w->has_re = true;
	} else if (!strncmp(spec, "event:", 6)) {
		w->kind = WK_EVENT;
		if ((ret = split_vm(w, spec + 6, &rest, err, errlen)))
			goto out;
		snprintf(w->events, sizeof(w->events), ",%s,",
			 rest && *rest ? rest : "GUEST_PANICKED,SHUTDOWN,RESET");
	} else if (!strncmp(spec, "probe:udp:", 10) || !strncmp(spec, "probe:tcp:", 10)) {
		w->kind = spec[6] == 'u' ? WK_UDP : WK_TCP;
		if ((ret = parse_addr(w, spec + 10, &rest, err, errlen)))
			goto out;
		ret = -EINVAL;
		if (w->kind == WK_UDP) {
			w->probe_len = rest ? sp__hex_parse(rest, w->probe, sizeof(w->probe)) : -EINVAL;
			if (w->probe_len <= 0) {
				snprintf(err, errlen, "--watch %s: the datagram to send (1-256 hex bytes) "
					 "is needed after the port", w->spec);
				goto out;
			}
		} else if (rest) {
			snprintf(err, errlen, "--watch %s: nothing may follow the port", w->spec);
			goto out;
		}
	} else if (!strncmp(spec, "cmd:", 4) && spec[4]) {
		w->kind = WK_CMD;
		if (!(w->cmd = strdup(spec + 4))) {
			ret = -ENOMEM;
			goto out;
		}
	} else {
		snprintf(err, errlen, "--watch '%s': expected console:VM:REGEX, ok:VM:REGEX, "
			 "event:VM[:EVENTS], probe:udp:IP:PORT:HEX, probe:tcp:IP:PORT or cmd:COMMAND", w->spec);
		goto out;
	}
	ret = 0;
out:
	if (ret)
		fuzz_watch__free(w);
	else
		*out = w;
	return ret;
}

/* ---- during a case ------------------------------------------------------ */

void fuzz_case_vms__close(struct fuzz_case_vms *c)
{
	free(c->fv);
	free(c->console);
	memset(c, 0, sizeof(*c));
}

int fuzz_case_vms__open(struct vm_group *g, struct fuzz_case_vms *c)
{
	struct stat st;

	c->n = vm_group__size(g);
	c->fv = calloc((size_t)c->n + 1, sizeof(*c->fv));
	c->console = calloc((size_t)c->n + 1, sizeof(*c->console));
	if (!c->fv || !c->console) {
		fuzz_case_vms__close(c);
		return -ENOMEM;
	}
	for (int i = 0; i < c->n; i++) {
		struct vm *vm = vm_group__vm(g, i);

		snprintf(c->console[i], sizeof(c->console[i]), "%s/console.log", vm__dir(vm));
		c->fv[i] = (struct fuzz_vm){ .name = vm__name(vm), .qmp = vm_group__qmp(g, i),
					     .console = c->console[i],
					     .offset = stat(c->console[i], &st) ? 0 : (long long)st.st_size };
	}
	return 0;
}

static struct fuzz_vm *find_vm(struct fuzz_vm *vms, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(vms[i].name, name))
			return &vms[i];
	return NULL;
}

static int start(struct fuzz_watch *w, struct fuzz_vm *vms, size_t n_vms, char *const *env,
		 struct fuzz_watch_result *res)
{
	w->fd = -1;
	w->pid = 0;
	w->passed = false;
	w->line_len = 0;
	w->next_ns = 0;
	w->v = NULL;
	if (w->vm[0] && !(w->v = find_vm(vms, n_vms, w->vm))) {
		snprintf(res->reason, sizeof(res->reason), "--watch %s: the snapshot has no VM '%s'",
			 w->spec, w->vm);
		return -ENOENT;
	}
	if (w->kind == WK_CONSOLE || w->kind == WK_OK) {
		w->fd = open(w->v->console, O_RDONLY | O_CLOEXEC);
		if (w->fd < 0 || lseek(w->fd, (off_t)w->v->offset, SEEK_SET) < 0) {
			snprintf(res->reason, sizeof(res->reason), "%s: %s", w->v->console, strerror(errno));
			return -errno;
		}
	} else if (w->kind == WK_CMD) {
		w->pid = fork();
		if (w->pid < 0)
			return -errno;
		if (w->pid == 0) {
			for (char *const *e = env; e && *e; e++)
				putenv(*e);
			setpgid(0, 0);
			execl("/bin/sh", "sh", "-c", w->cmd, (char *)NULL);
			_exit(127);
		}
	}
	return 0;
}

static void stop_watch(struct fuzz_watch *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	if (w->pid > 0) {
		kill(-w->pid, SIGKILL);
		kill(w->pid, SIGKILL);
		waitpid(w->pid, NULL, 0);
	}
	w->pid = 0;
}

/* One look: 1 failed (reason set), 0 nothing (w->passed may be set). */
static int console_check(struct fuzz_watch *w, char *reason, size_t rlen)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(w->fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			char c = buf[i];

			if (c == '\r')
				continue;
			if (c != '\n' && w->line_len < sizeof(w->line) - 1) {
				w->line[w->line_len++] = c;
				continue;
			}
			if (c != '\n')
				continue;	/* an overlong line: its tail is dropped */
			w->line[w->line_len] = 0;
			w->line_len = 0;
			if (regexec(&w->re, w->line, 0, NULL, 0))
				continue;
			if (w->kind == WK_OK) {
				w->passed = true;
				continue;
			}
			snprintf(reason, rlen, "console of %s: %.400s", w->vm, w->line);
			return 1;
		}
	}
	return 0;
}

static int event_check(struct fuzz_watch *w, char *reason, size_t rlen)
{
	json_t *ev;
	int r;

	while ((r = qmp__next_event(w->v->qmp, &ev)) == 0) {
		const char *name = json_string_value(json_object_get(ev, "event"));
		char key[80];

		snprintf(key, sizeof(key), ",%s,", name ? name : "");
		if (name && strstr(w->events, key)) {
			snprintf(reason, rlen, "QEMU event %s from %s", name, w->vm);
			json_decref(ev);
			return 1;
		}
		json_decref(ev);
	}
	if (r != -EAGAIN) {
		snprintf(reason, rlen, "QEMU of %s is gone", w->vm);
		return 1;
	}
	return 0;
}

static void probe_check(struct fuzz_watch *w)
{
	uint64_t now = util_now_ns();

	if (w->fd >= 0) {
		struct pollfd p = { .fd = w->fd, .events = w->kind == WK_UDP ? POLLIN : POLLOUT };
		char buf[256];

		if (poll(&p, 1, 0) == 1) {
			if (w->kind == WK_UDP) {
				if (recv(w->fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
					w->passed = true;
			} else {
				int e = 0;
				socklen_t l = sizeof(e);

				if (!getsockopt(w->fd, SOL_SOCKET, SO_ERROR, &e, &l) && !e)
					w->passed = true;
			}
		}
		if (w->passed || now < w->next_ns)
			return;
		close(w->fd);
		w->fd = -1;
	}
	if (now < w->next_ns)
		return;
	/* A fresh try every 200 ms: a refused connection or an ICMP error is
	 * only "not yet". */
	w->next_ns = now + 200000000ull;
	w->fd = socket(AF_INET, (w->kind == WK_UDP ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (w->fd < 0)
		return;
	if (connect(w->fd, (struct sockaddr *)&w->addr, sizeof(w->addr)) && errno != EINPROGRESS) {
		close(w->fd);
		w->fd = -1;
		return;
	}
	if (w->kind == WK_UDP)
		send(w->fd, w->probe, (size_t)w->probe_len, MSG_DONTWAIT);
}

static int cmd_check(struct fuzz_watch *w, char *reason, size_t rlen)
{
	int st;

	if (w->pid <= 0 || waitpid(w->pid, &st, WNOHANG) != w->pid)
		return 0;
	w->pid = 0;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		w->passed = true;
		return 0;
	}
	if (WIFEXITED(st))
		snprintf(reason, rlen, "command exited %d: %.400s", WEXITSTATUS(st), w->cmd);
	else
		snprintf(reason, rlen, "command killed by signal %d: %.400s", WTERMSIG(st), w->cmd);
	return 1;
}

bool fuzz_watch__must_pass(const struct fuzz_watch *w)
{
	return w->kind == WK_OK || w->kind == WK_UDP || w->kind == WK_TCP || w->kind == WK_CMD;
}

int fuzz_watch__run(struct fuzz_watch **w, size_t n, struct fuzz_vm *vms, size_t n_vms,
		    double timeout_s, volatile int *stop, char *const *env,
		    struct fuzz_watch_result *res)
{
	uint64_t t0 = util_now_ns(), deadline = t0 + (uint64_t)(timeout_s * 1e9);
	int ret = 0;

	memset(res, 0, sizeof(*res));
	res->verdict = FUZZ_ERROR;
	for (size_t i = 0; i < n && !ret; i++)
		ret = start(w[i], vms, n_vms, env, res);
	while (!ret) {
		size_t to_pass = 0, passed = 0;
		int failed = 0;

		for (size_t i = 0; i < n && !failed; i++) {
			switch (w[i]->kind) {
			case WK_CONSOLE:
			case WK_OK: failed = console_check(w[i], res->reason, sizeof(res->reason)); break;
			case WK_EVENT: failed = event_check(w[i], res->reason, sizeof(res->reason)); break;
			case WK_UDP:
			case WK_TCP: probe_check(w[i]); break;
			case WK_CMD: failed = cmd_check(w[i], res->reason, sizeof(res->reason)); break;
			}
			if (fuzz_watch__must_pass(w[i])) {
				to_pass++;
				passed += w[i]->passed;
			}
		}
		if (failed) {
			res->verdict = FUZZ_FAIL;
			break;
		}
		if (to_pass && passed == to_pass) {
			res->verdict = FUZZ_OK;
			snprintf(res->reason, sizeof(res->reason), "every watchdog passed");
			break;
		}
		if (util_now_ns() >= deadline) {
			res->verdict = to_pass ? FUZZ_HANG : FUZZ_OK;
			snprintf(res->reason, sizeof(res->reason), to_pass ?
				 "no verdict within %.1f s" : "no failure within %.1f s", timeout_s);
			break;
		}
		if (stop && *stop) {
			ret = -EINTR;
			break;
		}
		usleep(5000);
	}
	for (size_t i = 0; i < n; i++)
		stop_watch(w[i]);
	res->seconds = (double)(util_now_ns() - t0) / 1e9;
	return ret;
}
