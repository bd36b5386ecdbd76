// SPDX-License-Identifier: MIT
/*
 * The per-host agent: listens for the sender's commands over MQTT and runs
 * them as staged actions on this host's network hold (loader/) and VMs
 * (vmctl/). Each request runs once: it carries its own id, and a duplicate
 * or late copy of it is answered as such and changes nothing, so the same
 * snapshot can be restored any number of times. A payload that does not
 * parse gets an error published back, never a crash.
 */
#include <dirent.h>
#include <inttypes.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dlfcn.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include "coordinator/internal.h"
#include "coordinator/agent.h"
#include "util/opts.h"
#include "coordinator/fuzz.h"
#include "coordinator/manifest.h"
#include "coordinator/part.h"
#include "coordinator/stasis_action.h"
#include "loader/loader.h"
#include "sp-format/sp.h"
#include "util/util.h"
#include "vmctl/vmctl.h"

#define SEEN_MAX 256
#define PLUGIN_MAX 64
#define KEPT_MAX_S 30	/* how long a kept part waits for its resume */

/* The request the running code answers: main's message, or the worker's job. */
static __thread char cur_re[COORD_NAME_MAX];

enum job_kind { JOB_SNAPSHOT, JOB_TIME_SNAPSHOT, JOB_VERDICT, JOB_RESTORE, JOB_RESUME, JOB_ARM_VMS };
struct job {
	struct job *next;
	enum job_kind kind;
	char re[COORD_NAME_MAX];
	uint64_t epoch, at_ns;
	uint64_t max_bw;	/* a snapshot's: bytes/s for each VM's state, 0: no limit */
	json_t *j;		/* the message (its fields), or a snapshot's trigger */
};
struct post {
	struct post *next;
	char *topic, *payload;
};

/* A user action staged with the built-in ones. */
struct plugin_action {
	const struct stasis_action_def *def;
	struct stasis_action_ctx ctx;
	void *state;
};

struct agent {
	const struct coord_agent_opts *o;
	struct coord_mqtt *mq;
	char t_reply[256], t_error[256], t_event[256], t_cmd[256], t_events_all[256];
	char t_roster[256], t_sync[256], t_progress[256];
	uint64_t snap_bw;	/* of the last snapshot or arm request (main thread) */
	/* In the retained roster since this connection (main thread only):
	 * until then the last sync tells "none read yet" from "none". */
	bool in_roster, roster_read;
	json_t *roster;		/* every host seen in a roster, or NULL */
	uint64_t join_at;	/* when to add this host to the roster, or 0 */
	unsigned seed;
	char sync_id[COORD_NAME_MAX];
	struct { char op[COORD_NAME_MAX]; uint64_t epoch; } seen[SEEN_MAX];
	int n_seen;
	char seen_ids[SEEN_MAX][COORD_NAME_MAX];
	int n_seen_ids;
	/* Long work runs on a worker thread, one job after the other; the
	 * main thread serves the broker, the trigger events and the time
	 * trigger in one poll() (see coord_agent__run). */
	pthread_t main_thread, worker;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job *jobs, **jobs_tail;
	struct post *posts, **posts_tail;	/* the worker's messages, for main to publish */
	int wake_fd;			/* eventfd: main has posts to publish */
	bool stopping;
	/* Frozen by a snapshot or a paused restore (kept in memory: an agent
	 * started again knows of no freeze, and a resume is refused), and the
	 * frames a resume puts back then: that snapshot's net.sp, or "". */
	bool frozen;
	char pending[1100];
	uint64_t pending_epoch;
	uint64_t restored_epoch;	/* a paused restore's: its critical actions run on the resume */
	char inline_sp[256];		/* frames a request carried ({"sp": HEX}), as a file, or "" */
	/* A paused restore that asked to "keep" its part: the VMs' QMP
	 * connections, open until the resume that follows (the fuzz loop's
	 * next round), so it connects to nothing. Any other job closes it
	 * first: QEMU's monitor takes one client at a time. Worker only. */
	struct coord_part *kept;
	/* A fuzz case's watch (worker) and the watch-stop that ends it (main),
	 * under @lock: the request it belongs to, the last stop's. */
	char watch_re[COORD_NAME_MAX], watch_stop_of[COORD_NAME_MAX];
	volatile int watch_stop;
	/* armed triggers, and the requests that armed them */
	uint64_t time_at, time_epoch;
	bool time_armed;
	char time_re[COORD_NAME_MAX], packet_re[COORD_NAME_MAX];
	uint64_t packet_epoch;
	bool packet_armed;
	int packet_trigger;
	uint32_t packet_offset;		/* what the trigger matches, for the manifest */
	char packet_hex[2 * STASIS_TRIG_BYTES + 1];
	const struct stasis_action_def *plugins[PLUGIN_MAX];
	int n_plugins;
	struct loader *armed;		/* open while a packet trigger is armed */
	bool has_net;			/* a hold was attached here since the start (sticky) */
	struct vm_group *armed_vms;	/* QMP open and stop encoded while a trigger is armed */
};

/* A trigger was armed: connect to every VM now and encode its stop, so the
 * moment costs only the writes. Without it (no VMs then, or a failure) the
 * snapshot connects when it comes. */
static void arm_vms(struct agent *a)
{
	char **names = NULL;
	int n = 0;

	vm_group__close(a->armed_vms);
	a->armed_vms = NULL;
	if (vm__list(&names, &n) == 0 && n > 0 && vm_group__open(names, n, 5000, &a->armed_vms))
		a->armed_vms = NULL;
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Close the connections a trigger armed (the worker's); whether there were. */
static bool disarm_vms(struct agent *a)
{
	bool had = a->armed_vms != NULL;

	vm_group__close(a->armed_vms);
	a->armed_vms = NULL;
	return had;
}

static int p_init(void *x)
{
	struct plugin_action *p = x;

	return p->def->init ? p->def->init(&p->ctx, &p->state) : 0;
}

static int p_run(void *x)
{
	struct plugin_action *p = x;

	return p->def->run(p->state);
}

static void p_destroy(void *x)
{
	struct plugin_action *p = x;

	if (p->def->destroy)
		p->def->destroy(p->state);
}

/* The user actions for @op, appended to @acts (room for PLUGIN_MAX more). */
static int add_plugins(struct agent *a, int op, uint64_t epoch, const char *dir, bool critical_only,
		       bool noncritical_only, struct coord_action *acts, struct plugin_action *pa)
{
	int n = 0;

	for (int i = 0; i < a->n_plugins; i++) {
		const struct stasis_action_def *d = a->plugins[i];

		if (!(d->ops & op) || (critical_only && !d->critical) || (noncritical_only && d->critical))
			continue;
		pa[n] = (struct plugin_action){ .def = d, .ctx = { .abi = STASIS_ACTION_ABI,
			.experiment = a->o->experiment, .host = a->o->host, .epoch = epoch,
			.snapdir = dir, .op = op } };
		acts[n] = (struct coord_action){ .name = d->name, .critical = d->critical != 0,
			.init = p_init, .run = p_run, .destroy = p_destroy, .ctx = &pa[n] };
		n++;
	}
	return n;
}

/* Every .so file of DIR that speaks our ABI. */
static int load_plugins(struct agent *a, const char *dir, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d) {
		snprintf(err, errlen, "--actions %s: %s", dir, strerror(errno));
		return -errno;
	}
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		char path[1200];
		void *h;
		stasis_actions_fn fn;
		const struct stasis_action_def *defs;
		int n = 0;

		if (l < 4 || strcmp(e->d_name + l - 3, ".so"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		fn = h ? (stasis_actions_fn)dlsym(h, "stasis_actions") : NULL;
		defs = fn ? fn(STASIS_ACTION_ABI, &n) : NULL;
		if (!defs || n < 0) {
			snprintf(err, errlen, "%s: not a stasis action plugin of ABI %d%s%s", path,
				 STASIS_ACTION_ABI, h ? "" : ": ", h ? "" : dlerror());
			closedir(d);
			return -EINVAL;
		}
		for (int i = 0; i < n; i++) {
			if (!defs[i].name || !defs[i].run || a->n_plugins >= PLUGIN_MAX) {
				snprintf(err, errlen, "%s: action %d has no name or run function, or too many actions",
					 path, i);
				closedir(d);
				return -EINVAL;
			}
			a->plugins[a->n_plugins++] = &defs[i];
		}
	}
	closedir(d);
	return 0;
}

static void topic(char *buf, size_t len, const struct agent *a, const char *kind)
{
	char k[128];

	snprintf(k, sizeof(k), "%s/%s", kind, a->o->host);
	snprintf(buf, len, TOPIC_FMT, a->o->experiment, k);
}

static bool seen_before(struct agent *a, const char *op, uint64_t epoch)
{
	for (int i = 0; i < a->n_seen && i < SEEN_MAX; i++)
		if (a->seen[i].epoch == epoch && !strcmp(a->seen[i].op, op))
			return true;
	int k = a->n_seen++ % SEEN_MAX;

	snprintf(a->seen[k].op, sizeof(a->seen[k].op), "%s", op);
	a->seen[k].epoch = epoch;
	return false;
}

/* Whether request @id was seen (and remember it). */
static bool seen_id(struct agent *a, const char *id)
{
	for (int i = 0; i < a->n_seen_ids && i < SEEN_MAX; i++)
		if (!strcmp(a->seen_ids[i], id))
			return true;
	snprintf(a->seen_ids[a->n_seen_ids++ % SEEN_MAX], COORD_NAME_MAX, "%s", id);
	return false;
}

static void publish(struct agent *a, const char *t, const char *op, uint64_t epoch, json_t *extra)
{
	struct coord_msg m = { .epoch = epoch, .sent_ns = coord__now_ns() };
	char *s;

	snprintf(m.re, sizeof(m.re), "%s", cur_re);
	snprintf(m.experiment, sizeof(m.experiment), "%s", a->o->experiment);
	snprintf(m.op, sizeof(m.op), "%s", op);
	snprintf(m.from, sizeof(m.from), "%s", a->o->host);
	s = coord_msg__encode(&m, extra);
	json_decref(extra);
	if (!s)
		return;
	if (pthread_equal(pthread_self(), a->main_thread)) {
		coord_mqtt__publish(a->mq, t, s, false);
		free(s);
		return;
	}
	/* The worker: libmosquitto is served by main alone. */
	struct post *p = calloc(1, sizeof(*p));
	uint64_t one = 1;

	if (!p || !(p->topic = strdup(t))) {
		free(p);
		free(s);
		return;
	}
	p->payload = s;
	pthread_mutex_lock(&a->lock);
	*a->posts_tail = p;
	a->posts_tail = &p->next;
	pthread_mutex_unlock(&a->lock);
	if (write(a->wake_fd, &one, sizeof(one)) < 0) {
		/* the counter is full: main is woken already */
	}
}

static void reply(struct agent *a, const char *for_op, uint64_t epoch, int err, const char *msg,
		  json_t *extra)
{
	json_t *j = extra ? extra : json_object();

	json_object_set_new(j, "for", json_string(for_op));
	json_object_set_new(j, "ok", json_boolean(err == 0));
	if (err)
		json_object_set_new(j, "error", json_string(msg ? msg : strerror(-err)));
	publish(a, a->t_reply, "result", epoch, j);
}

static void snap_dir(const struct agent *a, uint64_t epoch, char *buf, size_t len)
{
	snprintf(buf, len, "%s/snap-%llu/%s", a->o->snapshots, (unsigned long long)epoch, a->o->host);
}

static int mkdirs(const char *path)
{
	char tmp[1024];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			if (mkdir(tmp, 0755) && errno != EEXIST)
				return -errno;
			*p = '/';
		}
	return mkdir(tmp, 0755) && errno != EEXIST ? -errno : 0;
}

/* ---- snapshot: staged actions ------------------------------------------- */

/* This host's network hold: 0 and *@l (NULL when this host never had
 * one: it holds nothing, legitimately), or an error when the hold it had is
 * gone (detached, its pins removed): what it was responsible for cannot be
 * done, and saying ok would be a false success. Worker and main thread. */
static int net_open(struct agent *a, struct loader **l, char *err, size_t errlen)
{
	if (!loader__open(l)) {
		__atomic_store_n(&a->has_net, true, __ATOMIC_RELAXED);
		return 0;
	}
	*l = NULL;
	if (!__atomic_load_n(&a->has_net, __ATOMIC_RELAXED))
		return 0;
	snprintf(err, errlen, "this host's network hold is gone (%s)", loader__errmsg());
	return -ENODEV;
}

struct snap_ctx {
	struct agent *a;
	uint64_t epoch;
	char dir[1024];
	struct loader *l;
	char **vms;
	int n_vms;
	struct vm_group *g;	/* connected ahead (an armed trigger), or NULL */
	struct snap_vm_result *res;
	int64_t frames;
	char err[LOADER_ERR_MAX + 64];
	char rx_left[256];	/* taps whose queue toward a VM did not empty */
	uint64_t max_bw;
	json_t *m;		/* the host manifest */
};

static int act_hold(void *ctx)
{
	struct snap_ctx *c = ctx;
	struct stasis_host h;

	if (!c->l)
		return 0;
	if (!loader__host(c->l, &h) && h.state == STASIS_HOLD)
		return 0;	/* a packet trigger holds already */
	return loader__set_state(c->l, STASIS_HOLD, c->epoch);
}

/* Frames that passed the taps just before the hold must reach the VMs
 * before they stop: nothing else keeps them (vmctl/rxq.c). */
#define SETTLE_RX_MS 1000	/* a guest that took no frame for so long takes none */

static int act_settle(void *ctx)
{
	struct snap_ctx *c = ctx;
	struct loader_dev devs[64];
	const char *taps[64];
	size_t nd = 64;
	int n = 0, ret;

	if (!c->l || !c->g || loader__devs(c->l, devs, &nd))
		return 0;
	for (size_t i = 0; i < nd; i++)
		if (devs[i].role == STASIS_ROLE_TAP)
			taps[n++] = devs[i].name;
	if (!n)
		return 0;
	ret = vm_group__settle_rx(c->g, taps, n, SETTLE_RX_MS, c->rx_left, sizeof(c->rx_left));
	if (ret < 0)
		snprintf(c->rx_left, sizeof(c->rx_left), "%s", vmctl__errmsg());
	if (ret)
		fprintf(stderr, "agent: snapshot %" PRIu64 ": frames toward a VM are still in its tap's "
			"queue and are not in the snapshot: %s\n", c->epoch, c->rx_left);
	return 0;	/* recorded in the manifest: the snapshot goes on */
}

/* A VM's state being written: published on progress/HOST, for the
 * sender to show (worker thread: the post goes through main). */
static void save_progress(void *ctx, const char *vm, uint64_t done, uint64_t total)
{
	struct snap_ctx *c = ctx;

	publish(c->a, c->a->t_progress, "progress", c->epoch,
		json_pack("{s:s,s:s,s:s,s:I,s:I}", "for", "snapshot", "stage", "vm-stop-save", "vm", vm,
			  "done", (json_int_t)done, "total", (json_int_t)total));
}

static int act_vms(void *ctx)
{
	struct snap_ctx *c = ctx;
	char dir[1100];
	struct snap_opts so = { .sz = sizeof(so), .max_bandwidth = c->max_bw,
				.on_progress = save_progress, .progress_ctx = c };
	int ret;

	if (!c->n_vms)
		return 0;
	snprintf(dir, sizeof(dir), "%s/vms", c->dir);
	uint64_t t = util_now_ns();

	ret = vm_group__save(c->g, dir, &so, c->res);
	for (int i = 0; i < c->n_vms; i++)
		c->res[i].start_ns = t;
	if (ret)
		snprintf(c->err, sizeof(c->err), "saving the VMs: %s", vmctl__errmsg());
	return ret;
}

static int act_drain(void *ctx)
{
	struct snap_ctx *c = ctx;
	char path[1100];

	if (!c->l)
		return 0;
	struct loader_drain_opts o = { .sz = sizeof(o), .host = c->a->o->host, .epoch = c->epoch };

	snprintf(path, sizeof(path), "%s/net.sp", c->dir);
	c->frames = loader__drain(c->l, path, &o);
	if (c->frames < 0) {
		snprintf(c->err, sizeof(c->err), "draining the held frames: %s", loader__errmsg());
		return (int)c->frames;
	}
	return 0;
}

/* The part's manifest, durably (manifest.c), with the fields gathered
 * in @c->m. */
static int store_part(struct snap_ctx *c, enum coord_part_state st)
{
	struct coord_manifest m = { .epoch = c->epoch, .state = st, .j = c->m };

	snprintf(m.experiment, sizeof(m.experiment), "%s", c->a->o->experiment);
	snprintf(m.host, sizeof(m.host), "%s", c->a->o->host);
	snprintf(m.request, sizeof(m.request), "%s", cur_re);
	return coord_manifest__store(c->dir, &m);	/* @c->m stays @c's */
}

static int act_manifest(void *ctx)
{
	struct snap_ctx *c = ctx;
	json_t *vms = json_array();

	for (int i = 0; i < c->n_vms; i++)
		json_array_append_new(vms, json_pack("{s:s,s:I,s:I,s:I}", "name", c->res[i].name,
			"stop_sent_ns", (json_int_t)c->res[i].stop_sent_ns,
			"stop_ack_ns", (json_int_t)c->res[i].stop_ack_ns, "bytes", (json_int_t)c->res[i].bytes));
	json_object_set_new(c->m, "vms", vms);
	/* When the last VM acknowledged its stop, on the wall clock, to set
	 * against the trigger's time (stop times are CLOCK_MONOTONIC). */
	uint64_t last = 0;

	for (int i = 0; i < c->n_vms; i++)
		last = c->res[i].stop_ack_ns > last ? c->res[i].stop_ack_ns : last;
	if (last)
		json_object_set_new(c->m, "last_stop_real_ns", json_integer((json_int_t)loader__ktime_to_real(last)));
	json_object_set_new(c->m, "frames_held", json_integer(c->frames > 0 ? c->frames : 0));
	if (c->rx_left[0])
		json_object_set_new(c->m, "rx_queue_left", json_string(c->rx_left));
	return store_part(c, COORD_PART_SAVED);
}

/* Whether @g was opened on exactly these VMs (both sorted by name). */
static bool group_is(struct vm_group *g, char **names, int n)
{
	if (vm_group__size(g) != n)
		return false;
	for (int i = 0; i < n; i++)
		if (strcmp(vm__name(vm_group__vm(g, i)), names[i]))
			return false;
	return true;
}

static void do_snapshot(struct agent *a, uint64_t epoch, json_t *trigger, uint64_t max_bw)
{
	struct snap_ctx c = { .a = a, .epoch = epoch, .max_bw = max_bw };
	char err[LOADER_ERR_MAX];
	struct coord_action acts[5 + PLUGIN_MAX] = {
		{ .name = "net-hold", .critical = true, .run = act_hold, .ctx = &c },
		{ .name = "rx-settle", .critical = true, .run = act_settle, .ctx = &c },
		{ .name = "vm-stop-save", .critical = true, .run = act_vms, .ctx = &c },
		{ .name = "net-drain", .critical = false, .run = act_drain, .ctx = &c },
	};
	struct plugin_action pa[PLUGIN_MAX];
	int ret, n_acts = 4;

	snap_dir(a, epoch, c.dir, sizeof(c.dir));
	/* User actions join their group; the manifest is written last. */
	n_acts += add_plugins(a, STASIS_ACTION_SNAPSHOT, epoch, c.dir, false, false, acts + n_acts, pa);
	acts[n_acts++] = (struct coord_action){ .name = "manifest", .critical = false,
						.run = act_manifest, .ctx = &c };
	char mpath[1100];

	snprintf(mpath, sizeof(mpath), "%s/manifest.json", c.dir);
	if (access(mpath, F_OK) == 0) {
		/* Another request's part: never overwritten, nor marked by
		 * this request's verdict. */
		reply(a, "snapshot", epoch, -EEXIST, "this host has a part of that epoch already "
		      "(a new snapshot takes a new epoch)", NULL);
		json_decref(trigger);
		return;
	}
	if ((ret = mkdirs(c.dir))) {
		reply(a, "snapshot", epoch, ret, "cannot create the snapshot folder", NULL);
		json_decref(trigger);
		return;
	}
	if ((ret = net_open(a, &c.l, err, sizeof(err)))) {
		reply(a, "snapshot", epoch, ret, err, NULL);
		json_decref(trigger);
		return;
	}
	/* The group armed with a trigger serves one snapshot, if the VMs are
	 * still those it was opened on (a VM started or removed since would
	 * otherwise be left out, or fail the stop). */
	vm__list(&c.vms, &c.n_vms);
	c.g = a->armed_vms;
	a->armed_vms = NULL;
	if (c.g && !group_is(c.g, c.vms, c.n_vms)) {
		vm_group__close(c.g);
		c.g = NULL;
	}
	/* Opened before the hold, so that hold, settle and stop follow each
	 * other closely. */
	if (!c.g && c.n_vms && vm_group__open(c.vms, c.n_vms, 5000, &c.g)) {
		reply(a, "snapshot", epoch, -EIO, vmctl__errmsg(), NULL);
		json_decref(trigger);
		goto out;
	}
	c.res = calloc(c.n_vms ? c.n_vms : 1, sizeof(*c.res));
	c.m = json_pack("{s:o,s:I}", "trigger", trigger ? trigger : json_null(),
			"started_ns", (json_int_t)coord__now_ns());
	ret = coord_actions__execute(acts, (size_t)n_acts, COORD_SNAPSHOT);
	if (!ret) {	/* frozen at this snapshot: what a resume puts back */
		snprintf(a->pending, sizeof(a->pending), "%s/net.sp", c.dir);
		if (access(a->pending, F_OK))
			a->pending[0] = 0;	/* no hold here: only VMs go on */
		a->pending_epoch = epoch;
		a->frozen = true;
	}
	json_t *r = json_pack("{s:O,s:I}", "manifest", c.m, "frames_held",
			      (json_int_t)(c.frames > 0 ? c.frames : 0));
	json_t *times = json_object();

	for (int i = 0; i < n_acts; i++)
		json_object_set_new(times, acts[i].name,
				    json_pack("{s:I,s:I,s:i}", "start_ns", (json_int_t)acts[i].run_start_ns,
					      "end_ns", (json_int_t)acts[i].run_end_ns, "err", acts[i].err));
	json_object_set_new(r, "actions", times);
	if (ret) {
		json_object_set_new(c.m, "error", json_string(c.err[0] ? c.err : strerror(-ret)));
		store_part(&c, COORD_PART_FAILED);
	}
	reply(a, "snapshot", epoch, ret, c.err[0] ? c.err : NULL, r);
out:
	json_decref(c.m);
	for (int i = 0; i < c.n_vms; i++)
		free(c.vms[i]);
	free(c.vms);
	free(c.res);
	vm_group__close(c.g);
	loader__close(c.l);
}

/* commit / abort: the sender's verdict on the snapshot request @of, once
 * every host reported. Only the part that request made is marked. */
static void do_verdict(struct agent *a, uint64_t epoch, bool commit, const char *of)
{
	const char *op = commit ? "commit" : "abort";
	struct coord_manifest m;
	char dir[1024], err[1200];
	int ret;

	snap_dir(a, epoch, dir, sizeof(dir));
	if ((ret = coord_err_keep(coord_manifest__load(dir, &m), err, sizeof(err)))) {
		/* Nothing to abort is no failure; nothing to commit is. */
		reply(a, op, epoch, commit || ret != -ENOENT ? ret : 0,
		      ret == -ENOENT ? "no part of this epoch here" : err, NULL);
		return;
	}
	if (!of || !m.request[0] || strcmp(of, m.request)) {
		reply(a, op, epoch, commit ? -EPERM : 0, "the part of this epoch here is another request's", NULL);
		coord_manifest__free(&m);
		return;
	}
	m.state = commit ? COORD_PART_COMPLETE : COORD_PART_FAILED;
	ret = coord_manifest__store(dir, &m);
	coord_manifest__free(&m);
	reply(a, op, epoch, ret, ret ? "writing the manifest failed" : NULL, NULL);
}

/* Frames a request carries inline (this host's entry of "frames" as
 * {"sp": HEX}: the fuzz loop's case, made on another host) into a private
 * file, which stands for them until the next such request. */
static int inline_frames(struct agent *a, const char *hex, char *err, size_t errlen)
{
	size_t len = strlen(hex) / 2;
	uint8_t *buf = malloc(len + 1);
	const char *tmp = getenv("TMPDIR");
	int n, fd, ret = 0;

	if (!buf)
		return snprintf(err, errlen, "out of memory"), -ENOMEM;
	if ((n = sp__hex_parse(hex, buf, len + 1)) <= 0) {
		free(buf);
		snprintf(err, errlen, "the frames for %s are not hex", a->o->host);
		return -EINVAL;
	}
	if (a->inline_sp[0])
		unlink(a->inline_sp);
	snprintf(a->inline_sp, sizeof(a->inline_sp), "%s/stasis-frames-%.64s-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp", a->o->host);
	if ((fd = mkstemp(a->inline_sp)) < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", a->inline_sp, strerror(errno));
		a->inline_sp[0] = 0;
	} else {
		if (write(fd, buf, (size_t)n) != n) {
			ret = -EIO;
			snprintf(err, errlen, "%s: writing the frames failed", a->inline_sp);
		}
		close(fd);
	}
	free(buf);
	return ret;
}

/* The frames to put back into *@sp: this host's entry of the request's
 * "frames" (a .sp the user edited, or one given inline, for this request
 * only), else @dflt. */
static int frames_for(struct agent *a, json_t *frames, const char *dflt, const char **sp, char *err,
		      size_t errlen)
{
	json_t *f = json_object_get(frames, a->o->host), *hex = json_object_get(f, "sp");
	int ret;

	*sp = dflt;
	if (!f)
		return 0;
	if (json_is_string(f)) {
		*sp = json_string_value(f);
		return 0;
	}
	if (!json_is_string(hex)) {
		snprintf(err, errlen, "\"frames\".%s: a path or {\"sp\": HEX}", a->o->host);
		return -EINVAL;
	}
	if ((ret = inline_frames(a, json_string_value(hex), err, errlen)))
		return ret;
	*sp = a->inline_sp;
	return 0;
}

/* Continue this host's part (restored, or as it stands) and put its held
 * frames back: the one sequence of part.h, then the critical user actions. */
static int go_on(struct agent *a, struct coord_part *p, uint64_t epoch, const char *sp, json_t *r,
		 char *err, size_t errlen)
{
	struct loader *l = NULL;
	int ret;

	if ((ret = net_open(a, &l, err, errlen)))
		return ret;
	if (sp && !l) {
		snprintf(err, errlen, "frames to replay (%s) but no network hold is attached here", sp);
		return -ENODEV;
	}
	if (l && !sp) {
		struct stasis_host h;

		if (!loader__host(l, &h) && h.state != STASIS_PASS) {
			snprintf(err, errlen, "the network here is in %s with no frames to put back "
				 "(no snapshot or paused restore to go on from; give the frames)",
				 loader__state_name(h.state));
			ret = -ENOENT;
			goto out;
		}
		loader__close(l);	/* nothing to hold for: the VMs just go on */
		l = NULL;
	}
	if ((ret = coord_err_keep(coord_part__resume(p, l, epoch), err, errlen)))
		goto out;
	json_object_set_new(r, "cont_spread_us", json_integer((json_int_t)(coord_part__cont_spread_ns(p) / 1000)));
	json_object_set_new(r, "cont_window_us", json_integer((json_int_t)((coord_part__cont_window_ns(p) + 999) / 1000)));
	if (l && sp) {
		/* No pace: each tap takes the frames as fast as its guest does. */
		struct loader_replay_opts ro = { .sz = sizeof(ro) };
		struct loader_replay_result res = { 0 };
		uint64_t t0 = util_now_ns();

		ret = loader__replay(l, sp, &ro, &res);
		if (ret) {
			snprintf(err, errlen, "replaying %s: %s", sp, loader__errmsg());
			/* The frames could not go out (a fuzz case's mutated
			 * length, say): the case's doing, not the host's. */
			json_object_set_new(r, "replay_failed", json_true());
		}
		json_object_set_new(r, "replayed", json_integer((json_int_t)(res.file_frames + res.ring_frames)));
		json_object_set_new(r, "replay_s", json_real((double)(util_now_ns() - t0) / 1e9));
	}
out:
	loader__close(l);
	return ret;
}

/* The names of the part's VMs: where a fuzz case's watchdogs of each run. */
static json_t *part_names(struct coord_part *p)
{
	json_t *names = json_array();
	struct vm_group *g = p ? coord_part__vms(p) : NULL;

	for (int i = 0; g && i < vm_group__size(g); i++)
		json_array_append_new(names, json_string(vm__name(vm_group__vm(g, i))));
	return names;
}

static void do_restore(struct agent *a, uint64_t epoch, bool paused, bool keep, json_t *frames,
		       json_t *prefault)
{
	char dir[1024], vdir[1100], sp[1100], err[LOADER_ERR_MAX + 128] = "";
	struct coord_part *part = NULL;
	int ret = 0;
	json_t *r = json_object();

	struct coord_action pre[PLUGIN_MAX], post[PLUGIN_MAX];
	struct plugin_action ppre[PLUGIN_MAX], ppost[PLUGIN_MAX];
	int n_pre, n_post;

	snap_dir(a, epoch, dir, sizeof(dir));
	snprintf(vdir, sizeof(vdir), "%s/vms", dir);
	snprintf(sp, sizeof(sp), "%s/net.sp", dir);
	n_pre = add_plugins(a, STASIS_ACTION_RESTORE, epoch, dir, false, true, pre, ppre);
	n_post = add_plugins(a, STASIS_ACTION_RESTORE, epoch, dir, true, false, post, ppost);
	/* QEMU's monitor takes one QMP client at a time: the connections an
	 * armed trigger holds would keep the restore from reaching the VMs. */
	char state[32];

	/* Only a part its snapshot's verdict marked complete: a part saved
	 * while another host's failed, or aborted, is no state to go back to. */
	coord_manifest__state(dir, state, sizeof(state));
	if (strcmp(state, "complete")) {
		ret = -ENOENT;
		snprintf(err, sizeof(err), strcmp(state, "none") ? "this host's part of snapshot %" PRIu64
			 " is %s, not complete" : "this host has no part of snapshot %" PRIu64 "%.0s",
			 epoch, state);
	}
	bool rearm = !ret && disarm_vms(a);
	/* Non-critical first: user actions, then every VM loaded, paused. */
	if (!ret && n_pre && (ret = coord_actions__execute(pre, (size_t)n_pre, COORD_RESTORE)))
		snprintf(err, sizeof(err), "a user action before the restore failed: %s", strerror(-ret));
	const char *frames_sp = NULL;
	uint64_t t_load = util_now_ns();

	if (!ret)
		ret = frames_for(a, frames, access(sp, F_OK) ? NULL : sp, &frames_sp, err, sizeof(err));
	int pf = prefault ? vmctl__prefault_parse(json_string_value(prefault)) : VM_PREFAULT_NONE;

	if (!ret && pf < 0) {
		ret = -EINVAL;
		snprintf(err, sizeof(err), "bad prefault %s (none, cache or all)",
			 json_is_string(prefault) ? json_string_value(prefault) : "(not a string)");
	}
	if (!ret) {
		struct coord_part_opts po = { .sz = sizeof(po), .vdir = access(vdir, F_OK) ? NULL : vdir,
					      .prefault = pf };

		ret = coord_err_keep(coord_part__load(&part, &po), err, sizeof(err));
	}
	json_object_set_new(r, "load_s", json_real((double)(util_now_ns() - t_load) / 1e9));

	if (!ret && paused) {
		/* Frozen at the snapshot's moment: a resume goes on from here.
		 * The network is held now, not at the resume: across hosts the
		 * sender resumes only once every host is loaded and held, so a
		 * frame another host's replay sends here waits behind this
		 * host's own held frames. (Nothing to replay: nothing to wait
		 * behind, no hold.) */
		struct loader *l = NULL;

		if (frames_sp && !(ret = net_open(a, &l, err, sizeof(err))) && !l) {
			ret = -ENODEV;
			snprintf(err, sizeof(err), "frames to replay (%.500s) but no network hold is attached here",
				 frames_sp);
		}
		if (l && (ret = loader__set_state(l, STASIS_HOLD, epoch)))
			snprintf(err, sizeof(err), "holding the network: %s", strerror(-ret));
		loader__close(l);
		if (!ret) {
			snprintf(a->pending, sizeof(a->pending), "%s", frames_sp ? frames_sp : "");
			a->pending_epoch = epoch;
			a->restored_epoch = epoch;
			a->frozen = true;
		}
	}
	/* Critical: hold, cont every VM at once, then the held frames back. */
	if (!ret && !paused) {
		ret = go_on(a, part, epoch, frames_sp, r, err, sizeof(err));
		a->frozen = false;
		a->pending[0] = 0;
		a->restored_epoch = 0;
	}
	/* Critical user actions last, after cont and replay. */
	if (!ret && !paused && n_post && (ret = coord_actions__execute(post, (size_t)n_post, COORD_RESTORE)))
		snprintf(err, sizeof(err), "a user action after the restore failed: %s", strerror(-ret));
	json_object_set_new(r, "vms", json_integer(part ? vm_group__size(coord_part__vms(part)) : 0));
	json_object_set_new(r, "vm_names", part_names(part));
	if (frames_sp)
		json_object_set_new(r, "frames", json_string(frames_sp));
	/* Kept for the resume, unless a trigger arms on the new VMs. */
	if (!ret && paused && keep && !rearm)
		a->kept = part;
	else
		coord_part__close(part);
	/* The VMs a trigger armed on were replaced: arm on the new ones. */
	if (rearm)
		arm_vms(a);
	reply(a, "restore", epoch, ret, ret ? err : NULL, r);
}

/* A fuzz case's watch here (the resume's "watch"), answered for "watch". */
static void watch_case(struct agent *a, uint64_t epoch, json_t *watch, struct fuzz_case_vms *cv)
{
	char err[512] = "";
	json_t *r = NULL;
	int ret;

	pthread_mutex_lock(&a->lock);
	snprintf(a->watch_re, sizeof(a->watch_re), "%s", cur_re);
	a->watch_stop = !strcmp(a->watch_stop_of, cur_re) || a->stopping;
	pthread_mutex_unlock(&a->lock);
	ret = coord_err_keep(fuzz_hosts__watch(a->o->host, watch, cv, &a->watch_stop, &r), err, sizeof(err));
	pthread_mutex_lock(&a->lock);
	a->watch_re[0] = 0;
	/* Stopped by the agent's own shutdown, not by the sender: no verdict
	 * (a "stopped" would read as "nothing failed here"). */
	if (!ret && a->stopping && json_is_true(json_object_get(r, "stopped"))) {
		ret = -ESHUTDOWN;
		snprintf(err, sizeof(err), "the agent is stopping: the watch was cut short");
		json_decref(r);
		r = NULL;
	}
	pthread_mutex_unlock(&a->lock);
	reply(a, "watch", epoch, ret, ret ? err : NULL, r);
}

/* resume: a frozen experiment goes on without a restore. Every VM here
 * continued at once, then the frames held at the freeze put back (those of
 * the last snapshot or paused restore, or the request's own for this host). */
static void do_resume(struct agent *a, uint64_t epoch, json_t *frames, json_t *watch)
{
	char err[LOADER_ERR_MAX + 128] = "";
	struct coord_part *part = NULL;
	struct fuzz_case_vms cv = { 0 };
	char **names = NULL;
	int n = 0, ret;
	json_t *r = json_object();
	const char *sp = NULL;

	if ((ret = frames_for(a, frames, a->pending[0] ? a->pending : NULL, &sp, err, sizeof(err)))) {
		/* answered below */
	} else if (!a->frozen) {
		ret = -ENOENT;
		snprintf(err, sizeof(err), "nothing is frozen here (no snapshot or paused restore since "
			 "this agent's last restore or resume)");
	} else if (a->kept) {
		part = a->kept;		/* the paused restore's, connected */
		a->kept = NULL;
		n = vm_group__size(coord_part__vms(part));
	} else if ((ret = vm__list(&names, &n))) {
		snprintf(err, sizeof(err), "listing the VMs: %s", vmctl__errmsg());
	}
	bool rearm = disarm_vms(a);	/* one QMP client at a time (do_restore) */

	if (!ret && !part) {
		struct coord_part_opts po = { .sz = sizeof(po), .vms = names, .n_vms = n };

		ret = coord_err_keep(coord_part__load(&part, &po), err, sizeof(err));
	}
	/* A fuzz case: where each console stands before the VMs go on. */
	if (!ret && watch && (ret = fuzz_case_vms__open(coord_part__vms(part), &cv)))
		snprintf(err, sizeof(err), "out of memory");
	if (!ret)
		ret = go_on(a, part, a->pending_epoch ? a->pending_epoch : epoch, sp, r, err, sizeof(err));
	if (!ret && a->restored_epoch) {
		/* The end of a restore in two rounds: its critical user
		 * actions, after cont and replay. */
		struct coord_action post[PLUGIN_MAX];
		struct plugin_action ppost[PLUGIN_MAX];
		char dir[1024];

		snap_dir(a, a->restored_epoch, dir, sizeof(dir));
		int n_post = add_plugins(a, STASIS_ACTION_RESTORE, a->restored_epoch, dir, true, false, post, ppost);

		if (n_post && (ret = coord_actions__execute(post, (size_t)n_post, COORD_RESTORE)))
			snprintf(err, sizeof(err), "a user action after the restore failed: %s", strerror(-ret));
	}
	if (!ret) {
		a->frozen = false;
		a->pending[0] = 0;
		a->restored_epoch = 0;
	}
	json_object_set_new(r, "vms", json_integer(n));
	if (sp)
		json_object_set_new(r, "frames", json_string(sp));
	/* A fuzz case's resume is answered now, its watch after; a plain one
	 * once its connections are closed and its triggers armed again. */
	if (watch)
		reply(a, "resume", epoch, ret, ret ? err : NULL, r);
	/* Then the case's watchdogs here, over the connections the VMs were
	 * continued on (an event right after the cont is not missed). */
	if (!ret && watch)
		watch_case(a, epoch, watch, &cv);
	fuzz_case_vms__close(&cv);
	for (int i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
	coord_part__close(part);
	if (a->inline_sp[0] && !a->frozen) {
		unlink(a->inline_sp);
		a->inline_sp[0] = 0;
	}
	if (rearm)
		arm_vms(a);
	if (!watch)
		reply(a, "resume", epoch, ret, ret ? err : NULL, r);
}

/* This host's parts of snapshots: epoch -> state (saved, complete, failed). */
static json_t *list_snapshots(struct agent *a)
{
	json_t *out = json_object();
	DIR *d = opendir(a->o->snapshots);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		char path[1200];

		if (strncmp(e->d_name, "snap-", 5))
			continue;
		char st[32];

		snprintf(path, sizeof(path), "%s/%s/%s", a->o->snapshots, e->d_name, a->o->host);
		coord_manifest__state(path, st, sizeof(st));
		json_object_set_new(out, e->d_name + 5, json_string(st));
	}
	if (d)
		closedir(d);
	return out;
}

/* Take back this host's packet trigger (main thread). */
static void disarm_packet(struct agent *a)
{
	struct loader *l = a->armed;

	if (l || !loader__open(&l)) {
		loader__trigger_del(l, (uint32_t)a->packet_trigger);
		if (l != a->armed)
			loader__close(l);
	}
	loader__close(a->armed);
	a->armed = NULL;
	a->packet_armed = false;
}

/* ---- the worker: long work, one job after the other ------------------------ */

/* Queue a job (main thread); @j is stolen. @at_ns: a time trigger's moment. */
static void enqueue_job(struct agent *a, enum job_kind kind, uint64_t epoch, uint64_t at_ns, json_t *j)
{
	struct job *jb = calloc(1, sizeof(*jb));

	if (!jb) {
		reply(a, "job", epoch, -ENOMEM, "out of memory", NULL);
		json_decref(j);
		return;
	}
	jb->kind = kind;
	jb->epoch = epoch;
	jb->at_ns = at_ns;
	jb->max_bw = a->snap_bw;
	jb->j = j;
	snprintf(jb->re, sizeof(jb->re), "%s", cur_re);
	pthread_mutex_lock(&a->lock);
	*a->jobs_tail = jb;
	a->jobs_tail = &jb->next;
	pthread_cond_signal(&a->cond);
	pthread_mutex_unlock(&a->lock);
}

static void run_job(struct agent *a, struct job *jb)
{
	snprintf(cur_re, sizeof(cur_re), "%s", jb->re);
	if (jb->kind != JOB_RESUME) {
		coord_part__close(a->kept);	/* its connections would keep this job from the VMs */
		a->kept = NULL;
	}
	switch (jb->kind) {
	case JOB_SNAPSHOT:
		do_snapshot(a, jb->epoch, json_incref(jb->j), jb->max_bw);
		break;
	case JOB_TIME_SNAPSHOT: {
		int64_t late = 0;

		/* The precise wait is here: main only says it is near. */
		coord_timer__wait_until(jb->at_ns, NULL, &late);
		do_snapshot(a, jb->epoch, json_pack("{s:s,s:I,s:I}", "kind", "time",
			    "at_ns", (json_int_t)jb->at_ns, "late_ns", (json_int_t)late), jb->max_bw);
		break;
	}
	case JOB_VERDICT:
		do_verdict(a, jb->epoch, !strcmp(json_string_value(json_object_get(jb->j, "op")) ?: "", "commit"),
			   json_string_value(json_object_get(jb->j, "of")));
		break;
	case JOB_RESTORE:
		do_restore(a, jb->epoch, json_is_true(json_object_get(jb->j, "paused")),
			   json_is_true(json_object_get(jb->j, "keep")), json_object_get(jb->j, "frames"),
			   json_object_get(jb->j, "prefault"));
		break;
	case JOB_RESUME:
		do_resume(a, jb->epoch, json_object_get(jb->j, "frames"), json_object_get(jb->j, "watch"));
		break;
	case JOB_ARM_VMS:
		arm_vms(a);
		break;
	}
}

static void *worker(void *arg)
{
	struct agent *a = arg;

	for (;;) {
		struct job *jb;

		pthread_mutex_lock(&a->lock);
		while (!a->jobs && !a->stopping) {
			struct timespec ts;

			if (!a->kept) {
				pthread_cond_wait(&a->cond, &a->lock);
				continue;
			}
			/* Kept connections whose resume does not come (the
			 * sender gone between its rounds) are let go: they
			 * would keep every other QMP client from the VMs. The
			 * host stays frozen, as after any paused restore. */
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += KEPT_MAX_S;
			if (pthread_cond_timedwait(&a->cond, &a->lock, &ts) == ETIMEDOUT && !a->jobs) {
				coord_part__close(a->kept);
				a->kept = NULL;
			}
		}
		jb = a->jobs;
		if (jb) {
			a->jobs = jb->next;
			if (!a->jobs)
				a->jobs_tail = &a->jobs;
		}
		pthread_mutex_unlock(&a->lock);
		if (!jb)
			return NULL;	/* stopping, and nothing left */
		run_job(a, jb);
		json_decref(jb->j);
		free(jb);
	}
}

/* Main: publish what the worker posted. */
static void flush_posts(struct agent *a)
{
	struct post *p;
	uint64_t n;

	if (read(a->wake_fd, &n, sizeof(n)) < 0) {
		/* nothing signalled: the list may still hold posts */
	}
	pthread_mutex_lock(&a->lock);
	p = a->posts;
	a->posts = NULL;
	a->posts_tail = &a->posts;
	pthread_mutex_unlock(&a->lock);
	while (p) {
		struct post *next = p->next;

		coord_mqtt__publish(a->mq, p->topic, p->payload, false);
		free(p->topic);
		free(p->payload);
		free(p);
		p = next;
	}
}

/* A snapshot or arm request's "max_bandwidth" (bytes/s, optional) into
 * a->snap_bw; true when it is bad (and answered so). */
static bool bad_bw(struct agent *a, const struct coord_msg *m, json_t *j)
{
	json_t *bw = json_object_get(j, "max_bandwidth");

	if (strcmp(m->op, "snapshot") && strncmp(m->op, "arm-", 4))
		return false;
	if (bw && (!json_is_integer(bw) || json_integer_value(bw) <= 0)) {
		reply(a, m->op, m->epoch, -EINVAL, "\"max_bandwidth\" must be a positive integer (bytes/s)", NULL);
		return true;
	}
	a->snap_bw = bw ? (uint64_t)json_integer_value(bw) : 0;
	return false;
}

/* Put this host in the roster (roster.c): every host this agent has seen
 * in one, and itself. */
static void roster_join(struct agent *a)
{
	char *p = coord_roster__encode(a->o->experiment, a->o->host, a->roster, a->o->host);

	if (p)
		coord_mqtt__publish(a->mq, a->t_roster, p, true);
	free(p);
}

/* Join soon: after a short random delay, so that agents that all find
 * themselves missing (many starting at once) do not answer each other's
 * rosters in a storm; each publishes once per delay, with all it has seen
 * by then, and the set converges. */
static void roster_join_soon(struct agent *a, bool now)
{
	if (a->join_at)
		return;
	a->join_at = coord__now_ns() + (now ? 0 : (uint64_t)(5 + rand_r(&a->seed) % 45) * 1000000ull);
}

/* A roster, or our own sync: the broker has sent the retained roster, if
 * there is one, before the sync comes back. */
static void roster_seen(struct agent *a, const struct coord_msg *m, json_t *j)
{
	if (!strcmp(m->op, "sync")) {
		if (!strcmp(m->id, a->sync_id) && !a->roster_read)
			roster_join_soon(a, true);	/* none yet: the first */
		return;
	}
	json_t *hosts = coord_roster__hosts(j), *h;
	size_t i;

	if (!hosts)
		return;
	a->roster_read = true;
	if (!a->roster)
		a->roster = json_array();
	json_array_foreach(hosts, i, h)
		if (!coord_roster__has(a->roster, json_string_value(h)))
			json_array_append(a->roster, h);
	a->in_roster = coord_roster__has(hosts, a->o->host);
	if (!a->in_roster)
		roster_join_soon(a, false);
}

/* The join, when its time has come and the last roster read still lacks
 * this host. */
static void roster_tick(struct agent *a)
{
	if (!a->join_at || coord__now_ns() < a->join_at)
		return;
	a->join_at = 0;
	if (!a->in_roster)
		roster_join(a);
}

/* After each (re)connection: read the roster again (a broker without
 * persistence that restarted has none). */
static void roster_sync(struct agent *a)
{
	struct coord_msg m = { .sent_ns = coord__now_ns() };
	char *p;

	a->in_roster = false;
	a->roster_read = false;
	snprintf(a->sync_id, sizeof(a->sync_id), "s%x-%llx", (unsigned)getpid(),
		 (unsigned long long)coord__now_ns());
	snprintf(m.experiment, sizeof(m.experiment), "%s", a->o->experiment);
	snprintf(m.op, sizeof(m.op), "sync");
	snprintf(m.from, sizeof(m.from), "%s", a->o->host);
	snprintf(m.id, sizeof(m.id), "%s", a->sync_id);
	if ((p = coord_msg__encode(&m, NULL)))
		coord_mqtt__publish(a->mq, a->t_sync, p, false);
	free(p);
}

static void on_msg(const char *t, const char *payload, int len, void *ctx)
{
	struct agent *a = ctx;
	uint64_t received = coord__now_ns();	/* for fan-out latency */
	struct coord_msg m;
	char err[256];
	json_t *j;

	if (coord_err_keep(coord_msg__parse(payload, (size_t)len, &m, (void **)&j), err, sizeof(err))) {
		json_t *e = json_pack("{s:s,s:s}", "error", err, "topic", t);

		publish(a, a->t_error, "error", 0, e);
		return;
	}
	if (strcmp(m.experiment, a->o->experiment)) {
		json_decref(j);
		return;		/* another experiment on the same broker */
	}
	if (!strcmp(m.op, "roster") || !strcmp(m.op, "sync")) {
		roster_seen(a, &m, j);
		json_decref(j);
		return;
	}
	/* Replies name the request they answer; an event names the one that
	 * armed its trigger. */
	snprintf(cur_re, sizeof(cur_re), "%s", m.id[0] ? m.id : m.re);
	bool event = !strcmp(m.op, "event");

	if (event) {
		/* Another host's packet trigger fired: this one's, armed by the
		 * same request, must not fire later on (a frame that reached
		 * here too after a resume would hold this host for good). */
		if (a->packet_armed && m.epoch == a->packet_epoch && strcmp(m.from, a->o->host))
			disarm_packet(a);
		/* Snapshot the same epoch. */
		if (strcmp(m.from, a->o->host) && !seen_before(a, "snapshot", m.epoch))
			enqueue_job(a, JOB_SNAPSHOT, m.epoch, 0, json_pack("{s:s,s:s,s:O?}", "kind", "packet", "host", m.from,
				"event_real_ns", json_object_get(j, "event_real_ns")));
	} else if (!strcmp(m.op, "ping")) {
		struct stasis_host h;
		json_t *r = json_pack("{s:s,s:I,s:I}", "host", a->o->host,
				      "received_ns", (json_int_t)received, "req_sent_ns", (json_int_t)m.sent_ns);

		if (!loader__peek_host(&h))
			json_object_set_new(r, "net", json_string(loader__state_name(h.state)));
		reply(a, "ping", m.epoch, 0, NULL, r);
	} else if (!strcmp(m.op, "watch-stop")) {
		/* Main thread: the worker is busy watching. */
		const char *of = json_string_value(json_object_get(j, "of"));

		pthread_mutex_lock(&a->lock);
		snprintf(a->watch_stop_of, sizeof(a->watch_stop_of), "%s", of ? of : "");
		if (of && !strcmp(a->watch_re, of))
			a->watch_stop = 1;
		pthread_mutex_unlock(&a->lock);
		reply(a, m.op, m.epoch, of ? 0 : -EINVAL, of ? NULL : "watch-stop needs \"of\"", NULL);
	} else if (!strcmp(m.op, "list")) {
		reply(a, "list", m.epoch, 0, NULL, json_pack("{s:o}", "snapshots", list_snapshots(a)));
	} else if (m.id[0] ? seen_id(a, m.id) : seen_before(a, m.op, m.epoch)) {
		json_t *r = json_pack("{s:b}", "duplicate", 1);

		reply(a, m.op, m.epoch, 0, NULL, r);	/* harmless: nothing done twice */
	} else if (bad_bw(a, &m, j)) {
		/* answered */
	} else if (!strcmp(m.op, "snapshot")) {
		enqueue_job(a, JOB_SNAPSHOT, m.epoch, 0, json_pack("{s:s}", "kind", "now"));
	} else if (!strcmp(m.op, "commit") || !strcmp(m.op, "abort")) {
		enqueue_job(a, JOB_VERDICT, m.epoch, 0, json_incref(j));
	} else if (!strcmp(m.op, "restore")) {
		enqueue_job(a, JOB_RESTORE, m.epoch, 0, json_incref(j));
	} else if (!strcmp(m.op, "resume")) {
		enqueue_job(a, JOB_RESUME, m.epoch, 0, json_incref(j));
	} else if (!strcmp(m.op, "arm-time")) {
		json_t *at = json_object_get(j, "at_ns");

		if (!json_is_integer(at) || json_integer_value(at) <= 0) {
			reply(a, m.op, m.epoch, -EINVAL, "arm-time needs \"at_ns\", a positive integer", NULL);
		} else {
			a->time_at = (uint64_t)json_integer_value(at);
			a->time_epoch = m.epoch;
			a->time_armed = true;
			snprintf(a->time_re, sizeof(a->time_re), "%s", cur_re);
			enqueue_job(a, JOB_ARM_VMS, m.epoch, 0, NULL);
			reply(a, m.op, m.epoch, 0, NULL, NULL);
		}
	} else if (!strcmp(m.op, "arm-packet")) {
		struct stasis_trigger tr = { .dirs = STASIS_TDIR_TO_GUEST | STASIS_TDIR_FROM_GUEST,
					     .flags = STASIS_TRIG_ONCE };
		json_t *off = json_object_get(j, "offset"), *hex = json_object_get(j, "hex");
		struct loader *l;
		char e2[LOADER_ERR_MAX];
		int n = -EINVAL;

		if (json_is_integer(off) && json_integer_value(off) >= 0 && json_integer_value(off) <= 65535 &&
		    json_is_string(hex))
			n = sp__hex_parse(json_string_value(hex), tr.bytes, STASIS_TRIG_BYTES);
		if (n <= 0) {
			reply(a, m.op, m.epoch, -EINVAL, "arm-packet needs \"offset\" (0-65535) and \"hex\" (1-64 bytes)", NULL);
		} else if (net_open(a, &l, e2, sizeof(e2))) {
			reply(a, m.op, m.epoch, -ENODEV, e2, NULL);
		} else if (!l) {
			json_t *r = json_pack("{s:b}", "no_net", 1);

			enqueue_job(a, JOB_ARM_VMS, m.epoch, 0, NULL);	/* it follows: its VMs stop on the event */
			reply(a, m.op, m.epoch, 0, NULL, r);	/* this host only follows */
		} else {
			tr.len = (uint32_t)n;
			tr.offset = (uint32_t)json_integer_value(off);
			memset(tr.mask, 0xff, sizeof(tr.mask));
			a->packet_trigger = loader__trigger_add(l, &tr);
			loader__close(l);
			a->packet_armed = a->packet_trigger >= 0;
			a->packet_epoch = m.epoch;
			snprintf(a->packet_re, sizeof(a->packet_re), "%s", cur_re);
			a->packet_offset = tr.offset;
			for (int i = 0; i < n; i++)
				sprintf(a->packet_hex + 2 * i, "%02x", tr.bytes[i]);
			if (a->packet_armed)
				enqueue_job(a, JOB_ARM_VMS, m.epoch, 0, NULL);
			reply(a, m.op, m.epoch, a->packet_armed ? 0 : a->packet_trigger, NULL, NULL);
		}
	} else {
		reply(a, m.op, m.epoch, -EOPNOTSUPP, "unknown op", NULL);
	}
	json_decref(j);
}

/* The time trigger: near its moment, the snapshot goes to the worker, which
 * waits the last stretch precisely (sleep, then spin). */
static void check_time(struct agent *a)
{
	if (!a->time_armed || coord__now_ns() + 50000000ull < a->time_at)
		return;
	a->time_armed = false;
	snprintf(cur_re, sizeof(cur_re), "%s", a->time_re);
	if (!seen_before(a, "snapshot", a->time_epoch))
		enqueue_job(a, JOB_TIME_SNAPSHOT, a->time_epoch, a->time_at, NULL);
}

/* The packet trigger fired (its event fd polled readable). */
static void check_packet(struct agent *a)
{
	struct stasis_event ev;

	if (!a->packet_armed || !a->armed || loader__wait_event(a->armed, 0, &ev) != 1)
		return;
	a->packet_armed = false;
	loader__close(a->armed);
	a->armed = NULL;
	snprintf(cur_re, sizeof(cur_re), "%s", a->packet_re);
	uint64_t real = loader__ktime_to_real(ev.ts_ns);

	/* Tell every other agent first: they stop while this one does. */
	publish(a, a->t_event, "event", a->packet_epoch,
		json_pack("{s:i,s:i,s:I}", "trigger", ev.trigger, "ifindex", ev.ifindex,
			  "event_real_ns", (json_int_t)real));
	if (!seen_before(a, "snapshot", a->packet_epoch))
		enqueue_job(a, JOB_SNAPSHOT, a->packet_epoch, 0, json_pack("{s:s,s:s,s:i,s:i,s:s,s:I}", "kind", "packet",
			"host", a->o->host, "trigger", ev.trigger, "offset", (int)a->packet_offset,
			"hex", a->packet_hex, "event_real_ns", (json_int_t)real));
}

/* How long main may sleep in poll(): until the time trigger is near, and
 * at most a second (libmosquitto's keepalive and retries), or 200 ms while
 * the broker is away (reconnect attempts). */
static int poll_timeout(struct agent *a, bool connected)
{
	int ms = connected ? 1000 : 200;

	if (a->join_at) {
		uint64_t now = coord__now_ns();
		int left = a->join_at > now ? (int)((a->join_at - now) / 1000000) + 1 : 0;

		if (left < ms)
			ms = left;
	}

	if (a->time_armed) {
		uint64_t now = coord__now_ns(), near = a->time_at - 50000000ull;
		int64_t left = near > now ? (int64_t)((near - now) / 1000000) : 0;

		if (left < ms)
			ms = (int)left;
	}
	return ms;
}

static void agent_free(struct agent *a)
{
	if (a->inline_sp[0])
		unlink(a->inline_sp);
	if (a->wake_fd >= 0)
		close(a->wake_fd);
	pthread_mutex_destroy(&a->lock);
	pthread_cond_destroy(&a->cond);
	json_decref(a->roster);
	free(a);
}

int coord_agent__run(const struct coord_agent_opts *opts)
{
	char *err = coord_err();
	size_t errlen = coord_err_len();
	struct coord_agent_opts ob;
	const struct coord_agent_opts *o = &ob;	/* the agent's, for as long as it runs */
	struct agent *a;
	struct coord_mqtt_opts mo;
	char t_status[256], will[512];
	struct coord_msg m = { 0 };
	int ret;

	if (UTIL_OPTS_LOAD(ob, opts)) {
		snprintf(err, errlen, "coord_agent_opts: bad sz %zu", opts->sz);
		return -EINVAL;
	}
	mo = o->mqtt;
	a = calloc(1, sizeof(*a));

	if (!a)
		return -ENOMEM;
	a->o = o;
	a->main_thread = pthread_self();
	a->seed = (unsigned)getpid() ^ (unsigned)coord__now_ns();
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->cond, NULL);
	a->jobs_tail = &a->jobs;
	a->posts_tail = &a->posts;
	a->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (a->wake_fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		agent_free(a);
		return ret;
	}
	if (o->actions && (ret = load_plugins(a, o->actions, err, errlen))) {
		agent_free(a);
		return ret;
	}
	if (o->instances)
		setenv("STASIS_VM_ROOT", o->instances, 1);
	/* What this host is responsible for is known from the start: its
	 * pins, found now and for as long as the agent runs. */
	if ((ret = loader__pin_root_keep()))
		fprintf(stderr, "agent: no bpffs for the network hold (%s): this host holds no frames\n",
			strerror(-ret));
	struct loader *l0 = NULL;

	net_open(a, &l0, err, errlen);	/* a hold attached now is this agent's to keep */
	loader__close(l0);
	topic(a->t_reply, sizeof(a->t_reply), a, "reply");
	topic(a->t_error, sizeof(a->t_error), a, "error");
	topic(a->t_event, sizeof(a->t_event), a, "event");
	topic(t_status, sizeof(t_status), a, "agents");
	snprintf(a->t_cmd, sizeof(a->t_cmd), TOPIC_FMT, o->experiment, "cmd");
	snprintf(a->t_events_all, sizeof(a->t_events_all), TOPIC_FMT, o->experiment, "event/#");
	snprintf(a->t_roster, sizeof(a->t_roster), TOPIC_FMT, o->experiment, "roster");
	topic(a->t_sync, sizeof(a->t_sync), a, "sync");
	topic(a->t_progress, sizeof(a->t_progress), a, "progress");
	snprintf(m.experiment, sizeof(m.experiment), "%s", o->experiment);
	snprintf(m.from, sizeof(m.from), "%s", o->host);
	snprintf(m.op, sizeof(m.op), "offline");
	char *w = coord_msg__encode(&m, NULL);

	snprintf(will, sizeof(will), "%s", w ? w : "");
	free(w);
	mo.will_topic = t_status;
	mo.will_payload = will;
	if ((ret = coord_err_keep(coord_mqtt__connect(&a->mq, &mo, on_msg, a), err, errlen))) {
		agent_free(a);
		return ret;
	}
	if ((ret = -pthread_create(&a->worker, NULL, worker, a))) {
		snprintf(err, errlen, "starting the worker thread: %s", strerror(-ret));
		coord_mqtt__close(a->mq);
		agent_free(a);
		return ret;
	}
	coord_mqtt__subscribe(a->mq, a->t_cmd);
	coord_mqtt__subscribe(a->mq, a->t_events_all);
	coord_mqtt__subscribe(a->mq, a->t_roster);
	coord_mqtt__subscribe(a->mq, a->t_sync);
	snprintf(m.op, sizeof(m.op), "online");
	unsigned gen = 0;

	/* One poll over the broker's socket, the worker's posts and the
	 * trigger event ring; the time trigger sets the timeout. */
	while (!o->stop || !*o->stop) {
		struct pollfd pf[3] = { { .fd = -1 }, { .fd = a->wake_fd, .events = POLLIN }, { .fd = -1 } };

		if (gen != coord_mqtt__generation(a->mq)) {
			/* (Re)connected: say online again (a restarted broker
			 * without persistence has forgotten it). */
			gen = coord_mqtt__generation(a->mq);
			m.sent_ns = coord__now_ns();
			w = coord_msg__encode(&m, NULL);
			if (w)
				coord_mqtt__publish(a->mq, t_status, w, true);
			free(w);
			roster_sync(a);
		}
		if (a->packet_armed && !a->armed && loader__open(&a->armed))
			a->armed = NULL;
		if (a->packet_armed && a->armed) {
			pf[2].fd = loader__event_fd(a->armed);
			pf[2].events = POLLIN;
		}
		pf[0].fd = coord_mqtt__poll_fd(a->mq, &pf[0].events);
		if (poll(pf, 3, poll_timeout(a, pf[0].fd >= 0)) < 0 && errno != EINTR)
			break;
		coord_mqtt__serve(a->mq, pf[0].revents);
		if (pf[1].revents & POLLIN)
			flush_posts(a);
		if (pf[2].fd >= 0 && (pf[2].revents & POLLIN))
			check_packet(a);
		check_time(a);
		roster_tick(a);
	}
	/* The job under way finishes (its reply goes out), the rest too. */
	pthread_mutex_lock(&a->lock);
	a->stopping = true;
	a->watch_stop = 1;
	pthread_cond_signal(&a->cond);
	pthread_mutex_unlock(&a->lock);
	pthread_join(a->worker, NULL);
	coord_part__close(a->kept);
	flush_posts(a);
	/* A clean stop says offline itself (the will is for crashes). */
	coord_mqtt__publish(a->mq, t_status, will, true);
	coord_mqtt__run(a->mq, 200);
	coord_mqtt__close(a->mq);
	loader__close(a->armed);
	vm_group__close(a->armed_vms);
	agent_free(a);
	return 0;
}
