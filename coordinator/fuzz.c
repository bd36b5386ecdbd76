// SPDX-License-Identifier: MIT
/*
 * The fuzz loop: cases of one held frame, each run from the same snapshot
 * (see fuzz.h for the results folder). Prepared once: the snapshot's VM
 * list, the case files, the BPF state handle and the watchdogs. Per case:
 * every VM restored at once (snap__restore_all), network held, VMs resumed together
 * (one pre-encoded cont each, fired at once), the case's frames replayed,
 * the watchdogs polled.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "coordinator/internal.h"
#include "coordinator/fuzz.h"
#include "util/opts.h"
#include "coordinator/manifest.h"
#include "coordinator/part.h"
#include "loader/loader.h"
#include "sp-format/sp.h"
#include "util/util.h"
#include "vmctl/vmctl.h"

#define FUZZ_RUN_VERSION 1

/* Prepared once per run or repro. */
struct fuzz_env {
	char snapdir[PATH_MAX], vdir[PATH_MAX + 8], out[PATH_MAX];
	/* Across hosts: the snapshot's folder, its hosts, the one whose
	 * frame is fuzzed (its part is @snapdir), the rounds' sender. */
	char root[PATH_MAX], frame_host[COORD_NAME_MAX];
	char **hosts;
	int n_hosts;
	struct fuzz_hosts *fh;
	char **vms;
	int n_vms;
	struct loader *l;
	uint64_t epoch;
	struct fuzz_watch **watch;
	size_t n_watch;
	double timeout_s;
	uint64_t rate_pps;
	int prefault;
	volatile int *stop;
};

static double secs(uint64_t a, uint64_t b)
{
	return (double)(b - a) / 1e9;
}

/* DIR/NAME, whole or not at all. */
static int write_json_file(const char *dir, const char *name, json_t *j)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return util_json_write_atomic(path, j);
}

/* ---- the snapshot ---------------------------------------------------------- */

/* The parts of a snapshot: @dir itself (*n = 0), or its HOST folders with a
 * net.sp in them (coord's layout SNAPSHOTS/snap-E/HOST), sorted. @root
 * gets @dir's real path. */
static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_parts(const char *dir, char *root, char ***hosts, int *n, char *err, size_t errlen)
{
	char p[PATH_MAX + 300];
	struct stat st;
	DIR *d;
	struct dirent *e;

	*hosts = NULL;
	*n = 0;
	if (!realpath(dir, root)) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -errno;
	}
	snprintf(p, sizeof(p), "%s/net.sp", root);
	if (!stat(p, &st))
		return 0;
	if (!(d = opendir(root))) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -errno;
	}
	while ((e = readdir(d))) {
		char **g;

		snprintf(p, sizeof(p), "%s/%s/net.sp", root, e->d_name);
		if (e->d_name[0] == '.' || stat(p, &st) || !coord_name__ok(e->d_name))
			continue;
		if (!(g = realloc(*hosts, (size_t)(*n + 1) * sizeof(*g))) || !(g[*n] = strdup(e->d_name))) {
			free(g ? g : *hosts);
			*hosts = NULL;
			closedir(d);
			return snprintf(err, errlen, "out of memory"), -ENOMEM;
		}
		*hosts = g;
		(*n)++;
	}
	closedir(d);
	if (!*n) {
		snprintf(err, errlen, "%s: not a snapshot (no net.sp in it or in a host folder)", dir);
		return -ENOENT;
	}
	qsort(*hosts, (size_t)*n, sizeof(**hosts), name_cmp);
	return 0;
}

static void free_names(char **names, int n)
{
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* The frame to mutate: "trigger" (the first frame with the packet
 * trigger's bytes, from the manifest), "match:OFFSET:HEX", or an index. */
static int select_frame(const char *part, const char *sel, uint64_t *frame, char *err, size_t errlen)
{
	char sp[PATH_MAX + 16];
	uint8_t bytes[SP_MAX_FRAME > 256 ? 256 : SP_MAX_FRAME];
	long long off = -1;
	int len = -1, ret;
	struct sp_reader *rd;
	struct sp_frame f;

	if (!sel || !strcmp(sel, "trigger")) {
		struct coord_manifest m;
		char merr[64];

		if (!coord_err_keep(coord_manifest__load(part, &m), merr, sizeof(merr))) {
			json_t *t = m.trigger;

			if (json_is_integer(json_object_get(t, "offset")) && json_is_string(json_object_get(t, "hex"))) {
				off = json_integer_value(json_object_get(t, "offset"));
				len = sp__hex_parse(json_string_value(json_object_get(t, "hex")), bytes, sizeof(bytes));
			}
			coord_manifest__free(&m);
		}
		if (off < 0 || len <= 0) {
			snprintf(err, errlen, "%s: the manifest names no packet trigger: give --frame N "
				 "or --frame match:OFFSET:HEX", part);
			return -EINVAL;
		}
	} else if (!strncmp(sel, "match:", 6)) {
		char *end;

		errno = 0;
		off = strtoll(sel + 6, &end, 10);
		if (errno || end == sel + 6 || *end != ':' || off < 0 || off > 65535 ||
		    (len = sp__hex_parse(end + 1, bytes, sizeof(bytes))) <= 0) {
			snprintf(err, errlen, "--frame %s: expected match:OFFSET:HEX", sel);
			return -EINVAL;
		}
	} else {
		char *end;

		errno = 0;
		*frame = strtoull(sel, &end, 10);
		if (errno || end == sel || *end || *sel == '-') {
			snprintf(err, errlen, "--frame %s: expected trigger, N or match:OFFSET:HEX", sel);
			return -EINVAL;
		}
		return 0;
	}
	snprintf(sp, sizeof(sp), "%s/net.sp", part);
	if ((ret = sp_reader__open(&rd, sp, 0))) {
		snprintf(err, errlen, "%s", sp__errmsg());
		return ret;
	}
	for (uint64_t i = 0; (ret = sp_reader__next(rd, &f)) == 1; i++) {
		if (f.cap_len >= (uint64_t)off + (uint64_t)len && !memcmp(f.data + off, bytes, (size_t)len)) {
			*frame = i;
			sp_reader__close(rd);
			return 0;
		}
	}
	snprintf(err, errlen, ret < 0 ? "%s" : "%s: no held frame has those bytes at offset %lld",
		 ret < 0 ? sp__errmsg() : sp, off);
	sp_reader__close(rd);
	return -ENOENT;
}

/* ---- cases ----------------------------------------------------------------- */

struct fuzz_case {
	uint32_t id;
	char path[PATH_MAX];
	json_t *mutation;	/* borrowed from the cases.jsonl array, or NULL */
};

static int case_cmp(const void *a, const void *b)
{
	const struct fuzz_case *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* The line of case @id: sp__mutate writes case i on line i; any other
 * order is searched. */
static json_t *case_line(json_t *lines, uint32_t id)
{
	json_t *l = json_array_get(lines, id);

	if (json_integer_value(json_object_get(l, "case")) == (json_int_t)id)
		return l;
	for (size_t i = 0; i < json_array_size(lines); i++) {
		l = json_array_get(lines, i);
		if (json_integer_value(json_object_get(l, "case")) == (json_int_t)id)
			return l;
	}
	return NULL;
}

/* DIR/case-NNNNNN.sp, with what DIR/cases.jsonl says of each. */
static int list_cases(const char *dir, json_t *lines, struct fuzz_case **out, size_t *n,
		      char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct fuzz_case *c = NULL;
	size_t k = 0;

	if (!d) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -errno;
	}
	while ((e = readdir(d))) {
		unsigned id;
		int end = 0;

		if (sscanf(e->d_name, "case-%u.sp%n", &id, &end) != 1 || e->d_name[end])
			continue;
		struct fuzz_case *g = realloc(c, (k + 1) * sizeof(*c));

		if (!g) {
			free(c);
			closedir(d);
			return -ENOMEM;
		}
		c = g;
		c[k].id = id;
		snprintf(c[k].path, sizeof(c[k].path), "%.3800s/%.255s", dir, e->d_name);
		c[k].mutation = case_line(lines, id);
		k++;
	}
	closedir(d);
	if (!k) {
		free(c);
		snprintf(err, errlen, "%s: no case-N.sp files", dir);
		return -ENOENT;
	}
	qsort(c, k, sizeof(*c), case_cmp);
	*out = c;
	*n = k;
	return 0;
}

/* Lines of a JSON-lines file (cases.jsonl, results.jsonl) as an array:
 * objects with an integer "case" only; a torn last line (an interrupted
 * write) and foreign lines are left out. */
static json_t *read_jsonl(const char *path)
{
	json_t *a = json_array();
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!f)
		return a;
	while ((n = getline(&line, &cap, f)) > 0) {
		json_t *j;

		if (line[n - 1] != '\n')
			break;
		if ((j = json_loads(line, 0, NULL)) && json_is_integer(json_object_get(j, "case")))
			json_array_append_new(a, j);
		else
			json_decref(j);
	}
	free(line);
	fclose(f);
	return a;
}

/* ---- one case -------------------------------------------------------------- */

/* The case's own fields, then what its run found (@res, stolen). */
static json_t *case_record(const struct fuzz_case *fc, json_t *res, uint64_t t0)
{
	const char *base = strrchr(fc->path, '/');
	json_t *rec = json_pack("{s:i,s:s,s:O?}", "case", (int)fc->id, "file", base ? base + 1 : fc->path,
				"mutation", fc->mutation);

	if (rec && res) {
		json_object_update(rec, res);
		json_object_set_new(rec, "seconds", json_real(secs(t0, util_now_ns())));
	}
	json_decref(res);
	return rec;	/* without "verdict" when @res was NULL */
}

/* A case across hosts: the rounds through the agents (fuzz_hosts.c). */
static int run_case_hosts(struct fuzz_env *e, const struct fuzz_case *fc, const char *prefix, json_t **rec,
			  char *err, size_t errlen)
{
	uint64_t t0 = util_now_ns();
	json_t *res = NULL;
	int ret = coord_err_keep(fuzz_hosts__case(e->fh, fc->id, fc->path, prefix, &res), err, errlen);

	if (ret)
		return ret;
	if (!(*rec = case_record(fc, res, t0)))
		return -ENOMEM;
	return 0;
}

/*
 * Run one case: restore, hold, resume, replay, watch. The result line goes
 * to *rec; consoles of the case to OUT/console/PREFIX-NNNNNN-VM.log. A
 * failure before the case's frames go out (restore, hold, cont) is not the
 * case's doing: it is returned with @err and nothing is recorded, so the
 * run stops and can be resumed. -EINTR when stopped.
 */
static int run_case(struct fuzz_env *e, const struct fuzz_case *fc, const char *prefix, json_t **rec,
		    char *err, size_t errlen)
{
	struct fuzz_case_vms cv = { 0 };
	struct coord_part *part = NULL;
	struct fuzz_watch_result wr = { .verdict = FUZZ_ERROR };
	char env_case[64], env_out[PATH_MAX + 32];
	char *env[] = { env_case, env_out, NULL };
	uint64_t t0 = util_now_ns(), t_restored, t_resumed, t_replayed;
	struct loader_replay_result rr = { 0 };
	struct loader_replay_opts ro = { .sz = sizeof(ro), .rate_pps = e->rate_pps };
	json_t *consoles;
	int ret;

	*rec = NULL;
	if (e->fh)
		return run_case_hosts(e, fc, prefix, rec, err, errlen);
	struct coord_part_opts po = { .sz = sizeof(po), .vdir = e->vdir, .vms = e->vms, .n_vms = e->n_vms,
				      .prefault = e->prefault };

	if ((ret = coord_err_keep(coord_part__load(&part, &po), err, errlen)))
		goto out;
	t_restored = util_now_ns();
	if ((ret = fuzz_case_vms__open(coord_part__vms(part), &cv)))
		goto out;
	if ((ret = coord_err_keep(coord_part__resume(part, e->l, e->epoch), err, errlen)))
		goto out;
	t_resumed = util_now_ns();
	/* From here on what happens is the case's: a frame the replay cannot
	 * send (a mutated length, say) is its verdict. */
	if (loader__replay(e->l, fc->path, &ro, &rr)) {
		snprintf(wr.reason, sizeof(wr.reason), "replay: %.480s", loader__errmsg());
		t_replayed = util_now_ns();
	} else {
		t_replayed = util_now_ns();
		snprintf(env_case, sizeof(env_case), "STASIS_FUZZ_CASE=%u", fc->id);
		snprintf(env_out, sizeof(env_out), "STASIS_FUZZ_RESULTS=%s", e->out);
		ret = fuzz_watch__run(e->watch, e->n_watch, cv.fv, (size_t)cv.n, e->timeout_s, e->stop,
				      env, &wr);
		if (ret == -EINTR)
			goto out;
		if (ret) {
			snprintf(err, errlen, "%s", wr.reason);
			goto out;
		}
	}
	consoles = json_object();
	for (int i = 0; i < cv.n; i++) {
		char path[PATH_MAX + 160], rel[128];

		snprintf(rel, sizeof(rel), "console/%s-%06u-%s.log", prefix, fc->id, cv.fv[i].name);
		snprintf(path, sizeof(path), "%s/%s", e->out, rel);
		if (!util_copy_file(cv.console[i], path, (off_t)cv.fv[i].offset, false))
			json_object_set_new(consoles, cv.fv[i].name, json_string(rel));
	}
	*rec = case_record(fc, json_pack("{s:s,s:s,s:f,s:f,s:f,s:f,s:I,s:o}",
			   "verdict", fuzz__verdict_name(wr.verdict), "reason", wr.reason,
			   "time_to_verdict_s", wr.verdict == FUZZ_ERROR ? 0.0 : wr.seconds,
			   "restore_s", secs(t0, t_restored), "resume_s", secs(t_restored, t_resumed),
			   "replay_s", secs(t_resumed, t_replayed),
			   "replayed", (json_int_t)(rr.file_frames + rr.ring_frames), "console", consoles), t0);
	if (*rec && !json_object_get(*rec, "verdict")) {
		json_decref(*rec);
		*rec = NULL;
	}
	if (!*rec)
		ret = -ENOMEM;
out:
	fuzz_case_vms__close(&cv);
	coord_part__close(part);
	return ret;
}

/* ---- run, repro, report ---------------------------------------------------- */

static void env_close(struct fuzz_env *e)
{
	free_names(e->vms, e->n_vms);
	free_names(e->hosts, e->n_hosts);
	for (size_t i = 0; i < e->n_watch; i++)
		fuzz_watch__free(e->watch[i]);
	free(e->watch);
	loader__close(e->l);
	fuzz_hosts__close(e->fh);
}

/* Across hosts: the host whose frame is fuzzed (@host, else the first
 * whose held frames have the selected one) and its part. */
static int pick_frame_host(struct fuzz_env *e, const struct fuzz_opts *o, char *err, size_t errlen)
{
	uint64_t frame;
	int ret = -ENOENT;
	bool index = o->frame && strncmp(o->frame, "match:", 6) && strcmp(o->frame, "trigger");

	if (index && !o->host) {
		snprintf(err, errlen, "--frame %s: a snapshot of several hosts: say whose with --host", o->frame);
		return -EINVAL;
	}
	for (int i = 0; i < e->n_hosts; i++) {
		if (o->host && strcmp(o->host, e->hosts[i]))
			continue;
		snprintf(e->snapdir, sizeof(e->snapdir), "%.3900s/%.63s", e->root, e->hosts[i]);
		if (o->host)
			return snprintf(e->frame_host, sizeof(e->frame_host), "%s", o->host), 0;
		if ((ret = select_frame(e->snapdir, o->frame, &frame, err, errlen)) == -EINVAL)
			continue;
		if (!ret)
			return snprintf(e->frame_host, sizeof(e->frame_host), "%s", e->hosts[i]), 0;
	}
	if (o->host)
		snprintf(err, errlen, "%s: no part of host '%s' in it", e->root, o->host);
	else
		snprintf(err, errlen, "%s: no host's held frames have the frame to fuzz (--host names one)", e->root);
	return -ENOENT;
}

/* Across hosts: the rounds through the agents, every watchdog sent where
 * it runs. */
static int env_open_hosts(struct fuzz_env *e, const struct fuzz_opts *o, json_t *watch, char *err, size_t errlen)
{
	const char **specs = calloc(json_array_size(watch) + 1, sizeof(*specs));
	struct coord_manifest m;
	int ret;

	if (!specs)
		return -ENOMEM;
	for (size_t i = 0; i < json_array_size(watch); i++)
		specs[i] = json_string_value(json_array_get(watch, i));
	ret = -EINVAL;
	if (!o->mqtt || !o->mqtt->url)
		snprintf(err, errlen, "%s", FUZZ_HOSTS_NO_BROKER);
	else if (o->rate_pps)
		snprintf(err, errlen, "--rate: across hosts each agent replays as fast as its devices take the frames");
	else if (!(ret = pick_frame_host(e, o, err, errlen)))
		ret = 0;
	if (ret)
		goto out;
	if ((ret = coord_err_keep(coord_manifest__load(e->snapdir, &m), err, errlen))) {
		if (ret == -ENOENT)
			snprintf(err, errlen, "%s: no manifest (a snapshot of several hosts is coord's)", e->snapdir);
		goto out;
	}
	e->epoch = m.epoch;
	coord_manifest__free(&m);
	struct fuzz_hosts_opts ho = { .sz = sizeof(ho), .mqtt = o->mqtt, .experiment = o->experiment,
				      .epoch = e->epoch, .frame_host = e->frame_host, .hosts = e->hosts,
				      .n_hosts = e->n_hosts, .watch = specs, .n_watch = json_array_size(watch),
				      .timeout_s = e->timeout_s, .out = e->out, .stop = e->stop,
				      .prefault = e->prefault };

	ret = coord_err_keep(fuzz_hosts__open(&e->fh, &ho), err, errlen);
out:
	free(specs);
	return ret;
}

/* Everything a case needs that does not change between cases. */
static int env_open(struct fuzz_env *e, const struct fuzz_opts *o, json_t *watch, char *err, size_t errlen)
{
	char lerr[LOADER_ERR_MAX];
	struct stasis_host h;
	struct coord_manifest m;
	int ret;

	memset(e, 0, sizeof(*e));
	e->timeout_s = o->timeout_s;
	e->rate_pps = o->rate_pps;	/* 0: as fast as each device takes them */
	e->prefault = o->prefault;
	e->stop = o->stop;
	snprintf(e->out, sizeof(e->out), "%s", o->out);
	if ((ret = list_parts(o->snapshot, e->root, &e->hosts, &e->n_hosts, err, errlen)))
		return ret;
	if (e->n_hosts > 1 || o->across_hosts)
		return env_open_hosts(e, o, watch, err, errlen);
	if (o->host && (!e->n_hosts || strcmp(o->host, e->hosts[0]))) {
		snprintf(err, errlen, "%s: no part of host '%s' in it", e->root, o->host);
		return -ENOENT;
	}
	if (e->n_hosts)
		snprintf(e->snapdir, sizeof(e->snapdir), "%.3900s/%.63s", e->root, e->hosts[0]);
	else
		snprintf(e->snapdir, sizeof(e->snapdir), "%s", e->root);
	snprintf(e->vdir, sizeof(e->vdir), "%s/vms", e->snapdir);
	if ((ret = snap__open(e->vdir, &e->vms, &e->n_vms))) {
		snprintf(err, errlen, "%s: %s", e->vdir, vmctl__errmsg());
		return ret;
	}
	if (!(e->watch = calloc(json_array_size(watch) + 1, sizeof(*e->watch))))
		return -ENOMEM;
	for (size_t i = 0; i < json_array_size(watch); i++) {
		if ((ret = coord_err_keep(fuzz_watch__parse(json_string_value(json_array_get(watch, i)), &e->watch[i]),
					     err, errlen)))
			return ret;
		e->n_watch++;
		const char *vm = fuzz_watch__vm(e->watch[i]);
		bool known = !vm;

		if (fuzz_watch__host(e->watch[i])) {
			snprintf(err, errlen, "--watch %s: @HOST: is for a snapshot of several hosts",
				 fuzz_watch__spec(e->watch[i]));
			return -EINVAL;
		}
		for (int k = 0; vm && k < e->n_vms; k++)
			known |= !strcmp(e->vms[k], vm);
		if (!known) {
			snprintf(err, errlen, "--watch %s: the snapshot has no VM '%s'",
				 fuzz_watch__spec(e->watch[i]), vm);
			return -ENOENT;
		}
	}
	if ((ret = loader__open(&e->l))) {
		snprintf(err, errlen, "the network hold: %s (attach the VMs' taps with `stasis net "
			 "attach` in this network namespace)", loader__errmsg());
		return ret;
	}
	if (!coord_err_keep(coord_manifest__load(e->snapdir, &m), lerr, sizeof(lerr))) {
		e->epoch = m.epoch;
		coord_manifest__free(&m);
	} else if (!loader__host(e->l, &h)) {
		e->epoch = h.epoch;
	}
	return 0;
}

/* The VMs of a run here are quit at its end; across hosts each agent's
 * stay as the last case left them. */
static void quit_vms(struct fuzz_env *e)
{
	for (int i = 0; i < e->n_vms; i++) {
		struct vm *vm;

		if (!vm__load(e->vms[i], &vm)) {
			vm__quit(vm, 5000);
			vm__free(vm);
		}
	}
}

/* Counts and sums of result lines, kept as cases finish. */
static const char *const tally_times[] = { "restore_s", "resume_s", "replay_s", "time_to_verdict_s" };
struct tally {
	uint32_t counts[FUZZ_NVERDICT];
	double sum[4], seconds;
	size_t n;
	json_t *not_ok;		/* case, verdict, reason, mutation of each */
};

static void tally_add(struct tally *t, const json_t *l)
{
	const char *v = json_string_value(json_object_get(l, "verdict"));

	for (int k = 0; k < FUZZ_NVERDICT; k++)
		if (v && !strcmp(v, fuzz__verdict_name(k)))
			t->counts[k]++;
	if (v && strcmp(v, "ok"))
		json_array_append_new(t->not_ok, json_pack("{s:O,s:s,s:O?,s:O?}", "case",
				      json_object_get(l, "case"), "verdict", v,
				      "reason", json_object_get(l, "reason"),
				      "mutation", json_object_get(l, "mutation")));
	for (int k = 0; k < 4; k++)
		t->sum[k] += json_number_value(json_object_get(l, tally_times[k]));
	t->seconds += json_number_value(json_object_get(l, "seconds"));
	t->n++;
}

static json_t *tally_json(const struct tally *t, uint32_t total)
{
	json_t *mean = json_object(), *cnt = json_object();
	double n = t->n ? (double)t->n : 1;

	for (int k = 0; k < FUZZ_NVERDICT; k++)
		json_object_set_new(cnt, fuzz__verdict_name(k), json_integer(t->counts[k]));
	for (int k = 0; k < 4; k++)
		json_object_set_new(mean, tally_times[k], json_real(t->sum[k] / n));
	json_object_set_new(mean, "seconds", json_real(t->seconds / n));
	return json_pack("{s:i,s:I,s:o,s:f,s:f,s:o,s:O}", "cases", (int)total, "ran", (json_int_t)t->n,
			 "verdicts", cnt, "seconds", t->seconds,
			 "cases_per_s", t->seconds > 0 ? (double)t->n / t->seconds : 0.0,
			 "mean", mean, "not_ok", t->not_ok);
}

static json_t *summarize(json_t *lines, uint32_t total)
{
	struct tally t = { .not_ok = json_array() };
	json_t *s;

	for (size_t i = 0; i < json_array_size(lines); i++)
		tally_add(&t, json_array_get(lines, i));
	s = tally_json(&t, total);
	json_decref(t.not_ok);
	return s;
}

static int check_run_json(const char *out, json_t *want, char *err, size_t errlen)
{
	char path[PATH_MAX + 16];
	json_t *have;
	const char *keys[] = { "snapshot", "host", "frame", "range", "seed", "cases", "cases_dir", "raw" };

	snprintf(path, sizeof(path), "%s/run.json", out);
	if (access(path, F_OK))
		return write_json_file(out, "run.json", want);
	if (!(have = json_load_file(path, 0, NULL))) {
		snprintf(err, errlen, "%s: not a run description", path);
		return -EINVAL;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!json_equal(json_object_get(have, keys[i]), json_object_get(want, keys[i]))) {
			snprintf(err, errlen, "%s holds a run with another %s: use another -o folder "
				 "(or the same parameters to resume it)", out, keys[i]);
			json_decref(have);
			return -EEXIST;
		}
	json_decref(have);
	/* Watchdogs and timeout may change between sessions of one run. */
	return write_json_file(out, "run.json", want);
}

static int append_line(const char *out, json_t *rec)
{
	char path[PATH_MAX + 16];
	char *text = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
	int fd, ret = 0;

	if (!text)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/results.jsonl", out);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0) {
		free(text);
		return -errno;
	}
	size_t len = strlen(text);

	text[len] = '\n';	/* replaces the NUL: one write for the whole line */
	if (write(fd, text, len + 1) != (ssize_t)(len + 1) || fsync(fd))
		ret = -EIO;
	close(fd);
	free(text);
	return ret;
}

/* Drop a torn last line, so appends start on a fresh one. */
static void trim_jsonl(const char *out)
{
	char path[PATH_MAX + 16];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/results.jsonl", out);
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
		return;
	if (!fstat(fd, &st) && st.st_size > 0) {
		off_t end = st.st_size;
		char c;

		while (end > 0 && pread(fd, &c, 1, end - 1) == 1 && c != '\n')
			end--;
		if (end != st.st_size && ftruncate(fd, end)) {
			/* nothing better to do: the reader skips it */
		}
	}
	close(fd);
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int fuzz__run(const struct fuzz_opts *opts, json_t **summary)
{
	char *err = coord_err();
	size_t errlen = coord_err_len();
	struct fuzz_opts ob;
	const struct fuzz_opts *o = &ob;
	struct fuzz_env e;
	struct fuzz_case *cases = NULL;
	size_t n_cases = 0;
	char cdir[PATH_MAX + 16], path[PATH_MAX + 32];
	json_t *watch = json_array(), *run = NULL, *lines = NULL, *clines = NULL;
	uint64_t frame = 0;
	int ret;

	*summary = NULL;
	err[0] = 0;
	if (UTIL_OPTS_LOAD(ob, opts)) {
		json_decref(watch);
		return snprintf(err, errlen, "fuzz_opts: bad sz %zu", opts ? opts->sz : 0), -EINVAL;
	}
	if ((ret = util_mkdir_p(o->out, 0755))) {
		snprintf(err, errlen, "%s: %s", o->out, strerror(-ret));
		json_decref(watch);
		return ret;
	}
	for (size_t i = 0; i < o->n_watch; i++)
		json_array_append_new(watch, json_string(o->watch[i]));
	if ((ret = env_open(&e, o, watch, err, errlen)))
		goto out;
	/* Across hosts the run names the snapshot and the host whose frame
	 * it fuzzes; on one host, that host's part. */
	/* prefault only when asked for (s*: the key left out when NULL):
	 * run.json files of earlier runs (none) still match on resume. */
	run = json_pack("{s:i,s:s,s:s?,s:s,s:[i,i],s:I,s:i,s:s?,s:b,s:O,s:f,s:I,s:s*}", "v", FUZZ_RUN_VERSION,
			"snapshot", e.fh ? e.root : e.snapdir, "host", e.fh ? e.frame_host : NULL,
			"frame", o->frame ? o->frame : "trigger", "range",
			(int)o->from, (int)o->to, "seed", (json_int_t)o->seed, "cases", (int)o->cases,
			"cases_dir", o->cases_dir, "raw", o->raw, "watch", watch, "timeout_s", o->timeout_s,
			"rate_pps", (json_int_t)e.rate_pps,
			"prefault", e.prefault ? vmctl__prefault_words[e.prefault] : NULL);
	if ((ret = check_run_json(o->out, run, err, errlen)))
		goto out;
	snprintf(path, sizeof(path), "%s/repro", o->out);
	util_mkdir_p(path, 0755);
	snprintf(path, sizeof(path), "%s/console", o->out);
	util_mkdir_p(path, 0755);
	/* The cases: made once (case i depends only on seed and i), or given. */
	if (o->cases_dir) {
		snprintf(cdir, sizeof(cdir), "%s", o->cases_dir);
	} else {
		snprintf(cdir, sizeof(cdir), "%s/cases", o->out);
		snprintf(path, sizeof(path), "%s/cases.jsonl", cdir);
		clines = read_jsonl(path);
		if (json_array_size(clines) != o->cases) {
			struct sp_mutate_opts mo = { .sz = sizeof(mo), .from = o->from, .to = o->to, .cases = o->cases,
						     .seed = o->seed, .fix_checksums = !o->raw };
			char sp[PATH_MAX + 16];

			if ((ret = select_frame(e.snapdir, o->frame, &frame, err, errlen)))
				goto out;
			mo.frame = frame;
			snprintf(sp, sizeof(sp), "%s/net.sp", e.snapdir);
			if ((ret = util_mkdir_p(cdir, 0755))) {
				snprintf(err, errlen, "%s: %s", cdir, strerror(-ret));
				goto out;
			}
			if ((ret = sp__mutate(sp, cdir, &mo))) {
				snprintf(err, errlen, "%s", sp__errmsg());
				goto out;
			}
			json_decref(clines);
			clines = read_jsonl(path);
		}
	}
	if (!clines) {
		snprintf(path, sizeof(path), "%s/cases.jsonl", cdir);
		clines = read_jsonl(path);
	}
	if ((ret = list_cases(cdir, clines, &cases, &n_cases, err, errlen)))
		goto out;
	/* Resume: the cases with a result line are done. */
	trim_jsonl(o->out);
	snprintf(path, sizeof(path), "%s/results.jsonl", o->out);
	lines = read_jsonl(path);
	size_t n_done = json_array_size(lines);
	uint32_t *done = calloc(n_done + 1, sizeof(*done));
	struct tally t = { .not_ok = json_array() };
	struct fuzz_progress p = { .total = (uint32_t)n_cases };

	if (!done) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t k = 0; k < n_done; k++) {
		done[k] = (uint32_t)json_integer_value(json_object_get(json_array_get(lines, k), "case"));
		tally_add(&t, json_array_get(lines, k));
	}
	qsort(done, n_done, sizeof(*done), u32_cmp);
	for (size_t i = 0; i < n_cases; i++) {
		json_t *rec = NULL;

		if (bsearch(&cases[i].id, done, n_done, sizeof(*done), u32_cmp))
			continue;
		if (o->stop && *o->stop) {
			ret = -EINTR;
			break;
		}
		if ((ret = run_case(&e, &cases[i], "case", &rec, err, errlen)))
			break;
		const char *v = json_string_value(json_object_get(rec, "verdict"));

		if (strcmp(v, "ok")) {
			snprintf(path, sizeof(path), "%s/repro/case-%06u.sp", o->out, cases[i].id);
			if (util_copy_file(cases[i].path, path, 0, false) == 0)
				json_object_set_new(rec, "repro", json_string(path + strlen(o->out) + 1));
		}
		if ((ret = append_line(o->out, rec))) {
			snprintf(err, errlen, "%s/results.jsonl: %s", o->out, strerror(-ret));
			json_decref(rec);
			break;
		}
		tally_add(&t, rec);
		json_t *s = tally_json(&t, (uint32_t)n_cases);

		write_json_file(o->out, "summary.json", s);
		json_decref(s);
		if (o->progress) {
			p.done = (uint32_t)t.n;
			memcpy(p.counts, t.counts, sizeof(p.counts));
			p.last = rec;
			o->progress(&p, o->ctx);
		}
		json_decref(rec);
	}
	if (!e.fh)
		quit_vms(&e);
	*summary = tally_json(&t, (uint32_t)n_cases);
	write_json_file(o->out, "summary.json", *summary);
	if (ret == -EINTR) {
		snprintf(err, errlen, "interrupted after %zu of %zu cases: run the same command again "
			 "to go on", t.n, n_cases);
	} else if (ret) {
		char m[768];

		snprintf(m, sizeof(m), "%s", err[0] ? err : strerror(-ret));
		snprintf(err, errlen, "stopped after %zu of %zu cases: %s", t.n, n_cases, m);
	}
	free(done);
	json_decref(t.not_ok);
out:
	env_close(&e);
	free(cases);
	json_decref(watch);
	json_decref(run);
	json_decref(lines);
	json_decref(clines);
	return ret;
}

static json_t *load_run(const char *results, char *err, size_t errlen)
{
	char path[PATH_MAX + 16];
	json_t *run;

	snprintf(path, sizeof(path), "%s/run.json", results);
	run = json_load_file(path, 0, NULL);
	if (!run || json_integer_value(json_object_get(run, "v")) != FUZZ_RUN_VERSION ||
	    !json_is_string(json_object_get(run, "snapshot")) || !json_is_array(json_object_get(run, "watch"))) {
		snprintf(err, errlen, "%s: not a fuzz results folder (no valid run.json)", results);
		json_decref(run);
		return NULL;
	}
	return run;
}

int fuzz__repro(const char *results, uint32_t id, const struct fuzz_repro_opts *opts, json_t **result)
{
	char *err = coord_err();
	size_t errlen = coord_err_len();
	struct fuzz_repro_opts rb;
	const struct fuzz_repro_opts *ro = &rb;
	bool quit;
	volatile int *stop;
	json_t *run, *clines;
	struct fuzz_case fc = { .id = id };
	struct fuzz_env e;
	const char *cd;
	char path[PATH_MAX + 32];
	int ret;

	*result = NULL;
	if (UTIL_OPTS_LOAD(rb, opts))
		return snprintf(err, errlen, "fuzz_repro_opts: bad sz %zu", opts ? opts->sz : 0), -EINVAL;
	quit = ro->quit;
	stop = ro->stop;
	run = load_run(results, err, errlen);
	err[0] = 0;
	if (!run)
		return -EINVAL;
	cd = json_string_value(json_object_get(run, "cases_dir"));
	/* The reproducer if the case failed, else the case file itself. */
	snprintf(fc.path, sizeof(fc.path), "%s/repro/case-%06u.sp", results, id);
	if (access(fc.path, R_OK)) {
		if (cd)
			snprintf(fc.path, sizeof(fc.path), "%s/case-%06u.sp", cd, id);
		else
			snprintf(fc.path, sizeof(fc.path), "%s/cases/case-%06u.sp", results, id);
	}
	if (access(fc.path, R_OK)) {
		snprintf(err, errlen, "%s: no case %u", results, id);
		json_decref(run);
		return -ENOENT;
	}
	snprintf(path, sizeof(path), "%s/cases.jsonl", cd ? cd : "");
	if (!cd)
		snprintf(path, sizeof(path), "%s/cases/cases.jsonl", results);
	clines = read_jsonl(path);
	for (size_t i = 0; i < json_array_size(clines); i++)
		if (json_integer_value(json_object_get(json_array_get(clines, i), "case")) == (json_int_t)id)
			fc.mutation = json_array_get(clines, i);
	struct fuzz_opts fo = { .sz = sizeof(fo), .snapshot = json_string_value(json_object_get(run, "snapshot")),
				.host = json_string_value(json_object_get(run, "host")),
				.frame = json_string_value(json_object_get(run, "frame")),
				.across_hosts = json_is_string(json_object_get(run, "host")),
				.mqtt = ro->mqtt, .experiment = ro->experiment, .out = results,
				.timeout_s = json_number_value(json_object_get(run, "timeout_s")),
				.rate_pps = json_is_string(json_object_get(run, "host")) ? 0 :	/* the agents' own */
					    (uint64_t)json_integer_value(json_object_get(run, "rate_pps")), .stop = stop };
	json_t *pf = json_object_get(run, "prefault");	/* absent (or null): none */

	fo.prefault = pf && !json_is_null(pf) ? vmctl__prefault_parse(json_string_value(pf)) : VM_PREFAULT_NONE;
	if (fo.prefault < 0) {
		snprintf(err, errlen, "%s/run.json: bad prefault (none, cache or all)", results);
		json_decref(clines);
		json_decref(run);
		return -EINVAL;
	}

	ret = env_open(&e, &fo, json_object_get(run, "watch"), err, errlen);
	if (!ret) {
		snprintf(path, sizeof(path), "%s/console", results);
		util_mkdir_p(path, 0755);
		ret = run_case(&e, &fc, "repro", result, err, errlen);
		if (ret == -EINTR)
			snprintf(err, errlen, "interrupted");
		else if (ret && !err[0])
			snprintf(err, errlen, "case %u: %s", id, strerror(-ret));
		if ((quit || ret) && !e.fh)
			quit_vms(&e);
	}
	env_close(&e);
	json_decref(clines);
	json_decref(run);
	return ret;
}

int fuzz__report(const char *results, json_t **report)
{
	char *err = coord_err();
	size_t errlen = coord_err_len();
	json_t *run = load_run(results, err, errlen), *lines, *clines;
	char path[PATH_MAX + 32];
	const char *cd;
	size_t total;

	*report = NULL;
	if (!run)
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/results.jsonl", results);
	lines = read_jsonl(path);
	cd = json_string_value(json_object_get(run, "cases_dir"));
	if (cd)
		snprintf(path, sizeof(path), "%s/cases.jsonl", cd);
	else
		snprintf(path, sizeof(path), "%s/cases/cases.jsonl", results);
	clines = read_jsonl(path);
	total = json_array_size(clines);
	if (total < json_array_size(lines))
		total = json_array_size(lines);
	*report = summarize(lines, (uint32_t)total);
	json_object_set(*report, "run", run);
	json_decref(clines);
	json_decref(lines);
	json_decref(run);
	return 0;
}
