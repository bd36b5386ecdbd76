// SPDX-License-Identifier: MIT
/*
 * The fuzz loop across hosts (fuzz.h): a case of a snapshot of several
 * hosts goes through the agents, in the experiment layer's own rounds:
 *
 *   restore   every host loads its part paused and holds its network; the
 *             host whose frame is fuzzed takes the case's frames (sent
 *             inline: the results folder need not be shared)
 *   resume    every host continues its VMs at once and replays; then each
 *             watches its own VMs (and the probes and commands named for
 *             it) and answers for "watch" with its verdict and consoles
 *   verdict   the sender ends every host's watch once the case is decided
 *             (a failure anywhere, or every watchdog that must pass has)
 *
 * Probes and commands without @HOST run here, beside the sender.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "coordinator/internal.h"
#include "coordinator/agent.h"
#include "util/opts.h"
#include "coordinator/fuzz.h"
#include "util/util.h"
#include "vmctl/vmctl.h"

/* A case's console per VM in a watch reply: its last bytes, at most. */
#define CONSOLE_MAX (48 * 1024)
/* Frames sent inline, as hex: at most this much of a case file. */
#define INLINE_MAX (COORD_MSG_MAX / 2 - 4096)

static double secs(uint64_t a, uint64_t b)
{
	return (double)(b - a) / 1e9;
}

/* ---- an agent's share ------------------------------------------------------ */

/* The console of @v since the case began, as a JSON string (its tail when
 * longer than CONSOLE_MAX; bytes that are not UTF-8 become '?'). */
static json_t *console_text(const struct fuzz_vm *v)
{
	int fd = open(v->console, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf;
	ssize_t n = 0;
	off_t from = v->offset;
	json_t *j;

	if (fd < 0)
		return json_string("");
	if (!fstat(fd, &st) && st.st_size - from > CONSOLE_MAX)
		from = st.st_size - CONSOLE_MAX;
	if ((buf = malloc(CONSOLE_MAX + 1)))
		n = pread(fd, buf, CONSOLE_MAX, from);
	close(fd);
	if (!buf || n < 0)
		n = 0;
	if (!(j = json_stringn(buf ? buf : "", (size_t)n))) {
		for (ssize_t i = 0; i < n; i++)
			if ((unsigned char)buf[i] >= 0x80 || (!buf[i]))
				buf[i] = '?';
		j = json_stringn(buf, (size_t)n);
	}
	free(buf);
	return j ? j : json_string("");
}

int fuzz_hosts__watch(const char *host, json_t *watch, struct fuzz_case_vms *cv, volatile int *stop,
		      json_t **out)
{
	char *err = coord_err();
	size_t errlen = coord_err_len();
	json_t *specs = json_object_get(json_object_get(watch, "hosts"), host), *s;
	json_t *t = json_object_get(watch, "timeout_s"), *id = json_object_get(watch, "case");
	const char *results = json_string_value(json_object_get(watch, "results"));
	size_t n = json_array_size(specs), i;
	struct fuzz_watch **w = calloc(n + 1, sizeof(*w));
	struct fuzz_watch_result wr = { 0 };
	char e_case[64], e_out[PATH_MAX + 32], e_host[COORD_NAME_MAX + 24];
	char *env[] = { e_case, e_out, e_host, NULL };
	bool must = false;
	int ret = 0;

	*out = NULL;
	if (!w)
		return snprintf(err, errlen, "out of memory"), -ENOMEM;
	if (!json_is_number(t) || json_number_value(t) <= 0 || json_number_value(t) > 86400 ||
	    !json_is_integer(id) || (specs && !json_is_array(specs))) {
		free(w);
		snprintf(err, errlen, "\"watch\" needs \"timeout_s\" (0-86400), \"case\" and \"hosts\": HOST -> [SPEC]");
		return -EINVAL;
	}
	json_array_foreach(specs, i, s) {
		const char *vm;

		if (!json_is_string(s)) {
			ret = -EINVAL;
			snprintf(err, errlen, "\"watch\".hosts.%s: not a list of watchdogs", host);
			break;
		}
		if ((ret = coord_err_keep(fuzz_watch__parse(json_string_value(s), &w[i]), err, errlen)))
			break;
		vm = fuzz_watch__vm(w[i]);
		for (int k = 0; vm && k < cv->n; k++)
			vm = strcmp(cv->fv[k].name, vm) ? vm : NULL;
		if (vm) {
			ret = -ENOENT;
			snprintf(err, errlen, "--watch %s: host %s has no VM '%s'", fuzz_watch__spec(w[i]), host, vm);
			break;
		}
		must |= fuzz_watch__must_pass(w[i]);
	}
	snprintf(e_case, sizeof(e_case), "STASIS_FUZZ_CASE=%lld", (long long)json_integer_value(id));
	snprintf(e_out, sizeof(e_out), "STASIS_FUZZ_RESULTS=%s", results ? results : "");
	snprintf(e_host, sizeof(e_host), "STASIS_FUZZ_HOST=%s", host);
	if (!ret) {
		ret = fuzz_watch__run(w, n, cv->fv, (size_t)cv->n, json_number_value(t), stop, env, &wr);
		if (ret && ret != -EINTR)
			snprintf(err, errlen, "%s", wr.reason);
	}
	if (!ret || ret == -EINTR) {
		json_t *con = json_object();

		for (int k = 0; k < cv->n; k++)
			json_object_set_new(con, cv->fv[k].name, console_text(&cv->fv[k]));
		/* Stopped: the case was decided elsewhere, and nothing here
		 * failed before it was. */
		*out = json_pack("{s:s,s:s,s:f,s:b,s:i,s:b,s:o}", "verdict",
				 ret ? "stopped" : fuzz__verdict_name(wr.verdict), "reason", ret ? "" : wr.reason,
				 "seconds", wr.seconds, "stopped", ret != 0, "watchdogs", (int)n, "must_pass", must,
				 "console", con);
		ret = *out ? 0 : -ENOMEM;
	}
	for (i = 0; i < n; i++)
		fuzz_watch__free(w[i]);
	free(w);
	return ret;
}

/* ---- the sender's side ----------------------------------------------------- */

struct fuzz_hosts {
	struct fuzz_hosts_opts o;
	struct coord_sender *s;
	/* The watchdogs: parsed once; each VM's go to the host holding it
	 * (known from the first restore), @HOST ones to that host, the rest
	 * run here. */
	struct fuzz_watch **w;
	size_t n_w;
	struct fuzz_watch **local;
	size_t n_local;
	json_t *routes;		/* host -> [spec], or NULL until the first restore */
	json_t *must;		/* host -> true when one of its watchdogs must pass */
	bool stop_sent;		/* this case's watch-stop went out */
};

void fuzz_hosts__close(struct fuzz_hosts *h)
{
	if (!h)
		return;
	coord_sender__close(h->s);
	for (size_t i = 0; i < h->n_w; i++)
		fuzz_watch__free(h->w[i]);
	free(h->w);
	free(h->local);
	json_decref(h->routes);
	json_decref(h->must);
	free(h);
}

static bool is_part_host(const struct fuzz_hosts *h, const char *host)
{
	for (int i = 0; i < h->o.n_hosts; i++)
		if (!strcmp(h->o.hosts[i], host))
			return true;
	return false;
}

int fuzz_hosts__open(struct fuzz_hosts **out, const struct fuzz_hosts_opts *opts)
{
	char *err = coord_err();
	size_t errlen = coord_err_len();
	struct fuzz_hosts_opts ob;
	const struct fuzz_hosts_opts *o = &ob;
	struct fuzz_hosts *h;
	int ret;

	*out = NULL;
	if (UTIL_OPTS_LOAD(ob, opts))
		return snprintf(err, errlen, "fuzz_hosts_opts: bad sz %zu", opts ? opts->sz : 0), -EINVAL;
	if (!o->mqtt || !o->mqtt->url) {
		snprintf(err, errlen, "%s", FUZZ_HOSTS_NO_BROKER);
		return -EINVAL;
	}
	if (!(h = calloc(1, sizeof(*h))) || !(h->w = calloc(o->n_watch + 1, sizeof(*h->w))) ||
	    !(h->local = calloc(o->n_watch + 1, sizeof(*h->local))) || !(h->must = json_object())) {
		fuzz_hosts__close(h);
		return snprintf(err, errlen, "out of memory"), -ENOMEM;
	}
	h->o = *o;
	for (size_t i = 0; i < o->n_watch; i++) {
		const char *on;

		if ((ret = coord_err_keep(fuzz_watch__parse(o->watch[i], &h->w[i]), err, errlen))) {
			fuzz_hosts__close(h);
			return ret;
		}
		h->n_w++;
		on = fuzz_watch__host(h->w[i]);
		if (on && !is_part_host(h, on)) {
			snprintf(err, errlen, "--watch %s: the snapshot has no part of host '%s'", o->watch[i], on);
			fuzz_hosts__close(h);
			return -ENOENT;
		}
		if (!on && !fuzz_watch__vm(h->w[i]))
			h->local[h->n_local++] = h->w[i];
	}
	h->o.watch = NULL;	/* parsed: the caller's array need not outlive this */
	if ((ret = coord_err_keep(coord_sender__open(&h->s, o->mqtt, o->experiment), err, errlen))) {
		fuzz_hosts__close(h);
		return ret;
	}
	*out = h;
	return 0;
}

/* Where each watchdog runs, from the VMs each host restored. */
static int route(struct fuzz_hosts *h, json_t *load, char *err, size_t errlen)
{
	json_t *routes = json_object(), *r;
	const char *host;

	json_object_foreach(load, host, r)
		json_object_set_new(routes, host, json_array());
	for (size_t i = 0; i < h->n_w; i++) {
		const char *vm = fuzz_watch__vm(h->w[i]), *on = fuzz_watch__host(h->w[i]);

		json_object_foreach(load, host, r) {
			json_t *names = json_object_get(r, "vm_names"), *nm;
			size_t k;

			json_array_foreach(names, k, nm) {
				if (!vm || strcmp(json_string_value(nm) ?: "", vm))
					continue;
				if (on) {	/* its console file would be two VMs' */
					snprintf(err, errlen, "--watch %s: hosts %s and %s both have a VM '%s'",
						 fuzz_watch__spec(h->w[i]), on, host, vm);
					json_decref(routes);
					return -EEXIST;
				}
				on = host;
			}
		}
		if (vm && !on) {
			snprintf(err, errlen, "--watch %s: no host of the snapshot has a VM '%s'",
				 fuzz_watch__spec(h->w[i]), vm);
			json_decref(routes);
			return -ENOENT;
		}
		if (!on)
			continue;	/* runs here */
		if (!json_object_get(routes, on)) {
			snprintf(err, errlen, "--watch %s: host %s took no part in the restore",
				 fuzz_watch__spec(h->w[i]), on);
			json_decref(routes);
			return -ENOENT;
		}
		json_array_append_new(json_object_get(routes, on), json_string(fuzz_watch__body(h->w[i])));
		if (fuzz_watch__must_pass(h->w[i]))
			json_object_set_new(h->must, on, json_true());
	}
	h->routes = routes;
	return 0;
}

/* The first host of round @r without an ok, and what it said. */
static void round_why(const struct coord_round *r, const char *what, char *err, size_t errlen)
{
	const char *host;
	json_t *st;

	json_object_foreach(r->expected, host, st) {
		json_t *rep = json_object_get(r->replies, host);

		if (json_is_true(json_object_get(rep, "ok")))
			continue;
		snprintf(err, errlen, "%s: %s: %s", what, host, rep ? json_string_value(json_object_get(rep, "error")) ?:
			 "failed" : "no answer");
		return;
	}
	snprintf(err, errlen, "%s: %s", what, r->error);
}

/* The case's frames for the host that held the fuzzed one, as hex. */
static json_t *inline_case(const char *path, char *err, size_t errlen)
{
	static const char digits[] = "0123456789abcdef";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint8_t *buf = NULL;
	char *hex = NULL;
	json_t *j = NULL;

	if (fd < 0 || fstat(fd, &st)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (st.st_size > INLINE_MAX) {
		snprintf(err, errlen, "%s: %lld bytes, more than a request carries to another host (%d)",
			 path, (long long)st.st_size, INLINE_MAX);
		goto out;
	}
	if (!(buf = malloc((size_t)st.st_size + 1)) || !(hex = malloc(2 * (size_t)st.st_size + 1)) ||
	    pread(fd, buf, (size_t)st.st_size, 0) != st.st_size) {
		snprintf(err, errlen, "%s: reading it failed", path);
		goto out;
	}
	for (off_t i = 0; i < st.st_size; i++) {
		hex[2 * i] = digits[buf[i] >> 4];
		hex[2 * i + 1] = digits[buf[i] & 15];
	}
	hex[2 * st.st_size] = 0;
	j = json_pack("{s:s}", "sp", hex);
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	free(hex);
	return j;
}

/* The watchdogs that run here, on their own thread while the sender
 * gathers the hosts' verdicts. */
struct local_watch {
	struct fuzz_hosts *h;
	pthread_t t;
	volatile int stop, done;
	char *env[3];
	char e_case[64], e_out[PATH_MAX + 32];
	struct fuzz_watch_result wr;
	int ret;
};

static void *local_run(void *x)
{
	struct local_watch *lw = x;

	lw->ret = fuzz_watch__run(lw->h->local, lw->h->n_local, NULL, 0, lw->h->o.timeout_s, &lw->stop,
				  lw->env, &lw->wr);
	__atomic_store_n(&lw->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* A verdict of one group of watchdogs. "stopped" is a pass only once
 * this sender stopped the watch (decided elsewhere); else it is no verdict. */
static enum fuzz_verdict verdict_of(const struct fuzz_hosts *h, const char *v)
{
	for (int k = 0; k < FUZZ_NVERDICT; k++)
		if (v && !strcmp(v, fuzz__verdict_name(k)))
			return k;
	return v && !strcmp(v, "stopped") && h->stop_sent ? FUZZ_OK : FUZZ_ERROR;
}

/* Every host of @hosts (those whose @ok reply says ok, when @ok is given)
 * is in @replies. */
static bool all_in(json_t *hosts, json_t *ok, json_t *replies)
{
	const char *host;
	json_t *v;

	json_object_foreach(hosts, host, v) {
		if (ok && !json_is_true(json_object_get(json_object_get(ok, host), "ok")))
			continue;
		if (!json_object_get(replies, host))
			return false;
	}
	return true;
}

/* A host that could not watch (a console it cannot open, a fork that
 * failed): not the case's doing. Its name, or NULL. */
static const char *watch_broken(json_t *watch)
{
	const char *host;
	json_t *rep;

	json_object_foreach(watch, host, rep)
		if (!json_is_true(json_object_get(rep, "ok")))
			return host;
	return NULL;
}

/* Decided: a group failed, hung or erred; or every group with a watchdog
 * that must pass has passed (and one has). */
static bool decided(struct fuzz_hosts *h, json_t *watch, struct local_watch *lw)
{
	const char *host;
	json_t *st;
	int must = 0, must_done = 0;

	json_object_foreach(h->routes, host, st) {
		json_t *rep = json_object_get(watch, host);
		bool m = json_is_true(json_object_get(h->must, host));

		if (rep && (!json_is_true(json_object_get(rep, "ok")) ||
			    verdict_of(h, json_string_value(json_object_get(rep, "verdict"))) != FUZZ_OK))
			return true;
		must += m;
		must_done += m && rep;
	}
	if (lw->h->n_local) {
		bool m = false;

		for (size_t i = 0; i < h->n_local; i++)
			m |= fuzz_watch__must_pass(h->local[i]);
		if (__atomic_load_n(&lw->done, __ATOMIC_ACQUIRE)) {
			if (lw->ret || lw->wr.verdict != FUZZ_OK)
				return true;
			must_done += m;
		}
		must += m;
	}
	return must && must_done == must;
}

/* The case's verdict from every group's: fail before hang before error. */
static void combine(struct fuzz_hosts *h, json_t *watch, struct local_watch *lw, struct fuzz_watch_result *res)
{
	static const enum fuzz_verdict rank[] = { FUZZ_FAIL, FUZZ_HANG, FUZZ_ERROR };
	const char *host;
	json_t *rep;

	res->verdict = FUZZ_OK;
	snprintf(res->reason, sizeof(res->reason), "every watchdog passed");
	for (size_t k = 0; k < sizeof(rank) / sizeof(rank[0]); k++) {
		if (h->n_local && !lw->ret && lw->wr.verdict == rank[k]) {
			*res = (struct fuzz_watch_result){ .verdict = rank[k] };
			snprintf(res->reason, sizeof(res->reason), "%s", lw->wr.reason);
			return;
		}
		json_object_foreach(watch, host, rep) {
			const char *v = json_string_value(json_object_get(rep, "verdict"));
			enum fuzz_verdict fv = json_is_true(json_object_get(rep, "ok")) ? verdict_of(h, v) : FUZZ_ERROR;

			if (fv != rank[k])
				continue;
			res->verdict = fv;
			snprintf(res->reason, sizeof(res->reason), "%s: %s", host,
				 json_string_value(json_object_get(rep, fv == FUZZ_ERROR && !v ? "error" : "reason")) ?: "");
			return;
		}
	}
	/* No failure: say what ended it, as on one host. */
	json_object_foreach(watch, host, rep)
		if (!json_is_true(json_object_get(rep, "stopped")) && json_is_string(json_object_get(rep, "reason"))) {
			snprintf(res->reason, sizeof(res->reason), "%s", json_string_value(json_object_get(rep, "reason")));
			if (json_is_true(json_object_get(h->must, host)))
				break;
		}
	if (h->n_local && !lw->ret)
		snprintf(res->reason, sizeof(res->reason), "%s", lw->wr.reason);
}

/* Each host's consoles into OUT/console/PREFIX-NNNNNN-VM.log. */
static json_t *write_consoles(struct fuzz_hosts *h, json_t *watch, const char *prefix, uint32_t id)
{
	json_t *files = json_object(), *rep, *text;
	const char *host, *vm;

	json_object_foreach(watch, host, rep) {
		json_object_foreach(json_object_get(rep, "console"), vm, text) {
			char rel[160], path[PATH_MAX + 200];
			const char *t = json_string_value(text);
			int fd;

			if (!t || vmctl__name_valid(vm))
				continue;	/* a name that is no file name is not written */
			snprintf(rel, sizeof(rel), "console/%s-%06u-%s.log", prefix, id, vm);
			snprintf(path, sizeof(path), "%s/%s", h->o.out, rel);
			fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
			if (fd < 0)
				continue;
			if (write(fd, t, json_string_length(text)) == (ssize_t)json_string_length(text))
				json_object_set_new(files, vm, json_string(rel));
			close(fd);
		}
	}
	return files;
}

/* Per host: what each step took there, and its verdict. */
static json_t *host_times(json_t *load, json_t *go, json_t *watch)
{
	json_t *hosts = json_object(), *r;
	const char *host;

	json_object_foreach(load, host, r) {
		json_t *g = json_object_get(go, host), *w = json_object_get(watch, host);

		json_object_set_new(hosts, host, json_pack("{s:O?,s:O?,s:O?,s:O?,s:O?,s:O?,s:O?}",
			"restore_s", json_object_get(r, "load_s"), "replay_s", json_object_get(g, "replay_s"),
			"replayed", json_object_get(g, "replayed"), "cont_spread_us", json_object_get(g, "cont_spread_us"),
			"watch_s", json_object_get(w, "seconds"), "verdict", json_object_get(w, "verdict"),
			"reason", json_object_get(w, "reason")));
	}
	return hosts;
}

static double max_of(json_t *replies, const char *key)
{
	const char *host;
	json_t *r;
	double m = 0;

	json_object_foreach(replies, host, r)
		if (json_number_value(json_object_get(r, key)) > m)
			m = json_number_value(json_object_get(r, key));
	return m;
}

static long long sum_of(json_t *replies, const char *key)
{
	const char *host;
	json_t *r;
	long long n = 0;

	json_object_foreach(replies, host, r)
		n += json_integer_value(json_object_get(r, key));
	return n;
}

int fuzz_hosts__case(struct fuzz_hosts *h, uint32_t id, const char *case_sp, const char *prefix, json_t **res)
{
	char *err = coord_err();
	size_t errlen = coord_err_len();
	struct coord_round load = { 0 }, go = { 0 };
	struct local_watch lw = { .h = h };
	struct fuzz_watch_result wr = { .verdict = FUZZ_ERROR };
	uint64_t t0 = util_now_ns(), t_restored, t_resumed = 0, t_decided = 0;
	json_t *frames = json_object(), *sp = inline_case(case_sp, err, errlen), *watch = NULL;
	bool replay_failed = false, local_started = false;
	char req[COORD_NAME_MAX];
	int ret, timeout_ms = h->o.timeout_ms ? h->o.timeout_ms : 600000;

	*res = NULL;
	h->stop_sent = false;
	if (!sp) {
		json_decref(frames);
		return -EINVAL;
	}
	json_object_set_new(frames, h->o.frame_host, sp);
	/* The first round of a restore (coord_round__restore, paused), each
	 * host keeping its VMs' connections for the resume that follows. */
	ret = coord_round__call(h->s, "restore", h->o.epoch, json_pack("{s:b,s:b,s:o,s:s}", "paused", 1, "keep", 1,
				"frames", frames, "prefault", vmctl__prefault_words[h->o.prefault]), timeout_ms, &load);
	t_restored = util_now_ns();
	if (ret) {
		round_why(&load, "restoring the snapshot", err, errlen);
		goto out;
	}
	/* Every part restored: an agent that is not online has a part no
	 * round reached. */
	for (int i = 0; i < h->o.n_hosts; i++)
		if (!json_object_get(load.replies, h->o.hosts[i])) {
			snprintf(err, errlen, "host %s has a part of snapshot %llu but no agent of it is online",
				 h->o.hosts[i], (unsigned long long)h->o.epoch);
			ret = -EHOSTUNREACH;
			goto out;
		}
	if (!h->routes && (ret = route(h, load.replies, err, errlen)))
		goto out;
	ret = coord_round__resume(h->s, h->o.epoch, json_pack("{s:{s:f,s:i,s:s,s:O}}", "watch",
				  "timeout_s", h->o.timeout_s, "case", (int)id, "results", h->o.out,
				  "hosts", h->routes), timeout_ms, &go);
	t_resumed = util_now_ns();
	snprintf(req, sizeof(req), "%s", coord_sender__request(h->s));
	if (ret) {
		/* A frame the replay could not send is the case's verdict; any
		 * other failure is the run's. */
		const char *host;
		json_t *r;

		replay_failed = go.bad > 0;
		json_object_foreach(go.expected, host, r) {
			json_t *rep = json_object_get(go.replies, host);

			/* Only the fuzzed host's replay: another host's own
			 * frames failing is that host's trouble. */
			if (!json_is_true(json_object_get(rep, "ok")) &&
			    (!json_is_true(json_object_get(rep, "replay_failed")) || strcmp(host, h->o.frame_host)))
				replay_failed = false;
		}
		if (!replay_failed) {
			round_why(&go, "continuing the snapshot", err, errlen);
			goto stop;
		}
		round_why(&go, "replay", wr.reason, sizeof(wr.reason));
		ret = 0;
		goto stop;
	}
	if (h->n_local) {
		snprintf(lw.e_case, sizeof(lw.e_case), "STASIS_FUZZ_CASE=%u", id);
		snprintf(lw.e_out, sizeof(lw.e_out), "STASIS_FUZZ_RESULTS=%s", h->o.out);
		lw.env[0] = lw.e_case;
		lw.env[1] = lw.e_out;
		if ((ret = -pthread_create(&lw.t, NULL, local_run, &lw))) {
			snprintf(err, errlen, "starting the local watchdogs: %s", strerror(-ret));
			goto stop;
		}
		local_started = true;
	}
	/* Until every host has answered: decided (one failed, or every
	 * watchdog that must pass has passed), the others are stopped. */
	bool sent_stop = false;
	const char *broken;
	uint64_t deadline = t_resumed + (uint64_t)((h->o.timeout_s + 30) * 1e9);

	for (;;) {
		json_decref(watch);
		watch = coord_sender__collect(h->s, "watch", 20);
		if (!sent_stop && (decided(h, watch, &lw) || (h->o.stop && *h->o.stop))) {
			t_decided = util_now_ns();
			coord_sender__notify(h->s, "watch-stop", h->o.epoch, json_pack("{s:s}", "of", req));
			lw.stop = 1;
			sent_stop = h->stop_sent = true;
		}
		if ((broken = watch_broken(watch))) {
			snprintf(err, errlen, "%s could not watch case %u: %s", broken, id,
				 json_string_value(json_object_get(json_object_get(watch, broken), "error")) ?: "no reason");
			ret = -EREMOTEIO;
			goto stop;
		}
		if (all_in(go.expected, NULL, watch))
			break;
		if (util_now_ns() > deadline) {
			snprintf(err, errlen, "not every host reported its watch of case %u", id);
			ret = -ETIMEDOUT;
			goto stop;
		}
	}
	if (local_started && !sent_stop && decided(h, watch, &lw))
		lw.stop = 1;
	if (local_started) {
		pthread_join(lw.t, NULL);
		local_started = false;
		if (lw.ret == -EINTR && !(h->o.stop && *h->o.stop))
			lw.ret = 0, lw.wr.verdict = FUZZ_OK;	/* stopped: decided by the hosts */
		if (lw.ret == -EINTR || (h->o.stop && *h->o.stop)) {
			ret = -EINTR;
			goto out;
		}
		if (lw.ret) {
			snprintf(err, errlen, "%s", lw.wr.reason);
			ret = lw.ret;
			goto out;
		}
	}
	if (!sent_stop)		/* decided by the last group to end */
		t_decided = util_now_ns();
	if (h->o.stop && *h->o.stop) {
		ret = -EINTR;
		goto out;
	}
	combine(h, watch, &lw, &wr);
	wr.seconds = secs(t_resumed, t_decided);
	goto record;
stop:
	/* The hosts that went on are watching: end it, and take what
	 * they say (their consoles). */
	coord_sender__notify(h->s, "watch-stop", h->o.epoch, json_pack("{s:s}", "of", req));
	h->stop_sent = true;
	lw.stop = 1;
	/* Those whose resume went on answer; the others never watched. */
	for (int waited = 0; waited < 5000; waited += 20) {
		json_decref(watch);
		watch = coord_sender__collect(h->s, "watch", 20);
		if (all_in(go.expected, go.replies, watch))
			break;
	}
	if (local_started)
		pthread_join(lw.t, NULL);
	if (ret)
		goto out;
record:
	*res = json_pack("{s:s,s:s,s:f,s:f,s:f,s:f,s:I,s:o,s:o}", "verdict", fuzz__verdict_name(wr.verdict),
			 "reason", wr.reason, "time_to_verdict_s", wr.verdict == FUZZ_ERROR && replay_failed ? 0.0 : wr.seconds,
			 "restore_s", secs(t0, t_restored), "resume_s", secs(t_restored, t_resumed),
			 "replay_s", max_of(go.replies, "replay_s"), "replayed", (json_int_t)sum_of(go.replies, "replayed"),
			 "console", write_consoles(h, watch, prefix, id),
			 "hosts", host_times(load.replies, go.replies, watch));
	if (!*res)
		ret = -ENOMEM;
out:
	json_decref(watch);
	coord_round__clear(&load);
	coord_round__clear(&go);
	return ret;
}
