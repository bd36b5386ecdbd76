// SPDX-License-Identifier: MIT
/*
 * vm save / snapshot --live: stop every VM at once (pre-encoded stop on
 * open sockets), freeze each writable disk under a new qcow2 overlay, migrate
 * each VM's state to a file passed over QMP (getfd), and mark the snapshot
 * complete only when every part is on disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include "vmctl/internal.h"

struct saving {
	struct vm *vm;
	struct qmp *q;
	struct snap_vm_result *res;
	char dir[4200];		/* SNAPDIR/NAME */
	json_t *disks;		/* what the snapshot records */
	bool done;
	bool was_running;
	bool image;		/* RAM kept as the image, not in the stream */
	bool has_ignore;	/* QEMU offers x-ignore-shared */
	uint64_t last_progress_ns;
	const struct snap_opts *o;
};

static int fail(struct saving *s, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct saving *s, int err, const char *fmt, ...)
{
	va_list ap;
	char m[200];

	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	if (!s->res->err) {
		s->res->err = err;
		snprintf(s->res->msg, sizeof(s->res->msg), "VM %.32s: %.200s", s->res->name, m);
	}
	s->done = true;
	return err;
}

/* Whether @path is the value of some option in @argv ("x=PATH" or a lone
 * argument). */
static bool argv_has_path(const json_t *argv, const char *path)
{
	size_t i;
	json_t *a;

	json_array_foreach(argv, i, a)
		if (json_string_value(a) && arg_has_path(json_string_value(a), path))
			return true;
	return false;
}

/* Freeze each writable disk: QEMU continues on a new overlay in the
 * instance folder; the old top becomes the snapshot's disk. */
static int freeze_disks(struct saving *s, const char *tag)
{
	json_t *blk = NULL, *dev, *argv = json_object_get(s->vm->j, "argv");
	json_t *tops = json_array();
	size_t i;
	int r, k = 0;

	s->disks = json_array();
	r = qmp__call(s->q, "query-block", NULL, &blk);
	if (r)
		return fail(s, r, "%s", qmp_errmsg(s->q));
	json_array_foreach(blk, i, dev) {
		json_t *ins = json_object_get(dev, "inserted"), *img;
		const char *top, *fmt, *node, *devname, *argv_path = NULL;
		char ovl[4300], lnk[4300], nn[64];
		json_t *args;

		if (!ins || json_is_true(json_object_get(ins, "ro")))
			continue;
		img = json_object_get(ins, "image");
		top = json_string_value(json_object_get(img, "filename"));
		fmt = json_string_value(json_object_get(img, "format"));
		node = json_string_value(json_object_get(ins, "node-name"));
		devname = json_string_value(json_object_get(dev, "device"));
		if (!top || !fmt || !node)
			continue;
		for (json_t *c = img; c; c = json_object_get(c, "backing-image")) {
			const char *f = json_string_value(json_object_get(c, "filename"));

			if (f && argv_has_path(argv, f)) {
				argv_path = f;
				break;
			}
		}
		if (!argv_path) {
			r = fail(s, -ENOENT, "disk %s is not in the saved QEMU command line", top);
			break;
		}
		snprintf(ovl, sizeof(ovl), "%s/disk-%s-%d.qcow2", s->vm->dir, tag, k);
		/* QEMU would overwrite it: never risk a layer someone uses. */
		if (access(ovl, F_OK) == 0) {
			r = fail(s, -EEXIST, "overlay %s exists already", ovl);
			break;
		}
		/* node names: 31 characters at most, a letter first */
		snprintf(nn, sizeof(nn), "st%llx-%d", (unsigned long long)util_now_ns(), k);
		args = json_pack("{s:s,s:s,s:s}", "snapshot-file", ovl,
				 "snapshot-node-name", nn, "format", "qcow2");
		if (devname && *devname)
			json_object_set_new(args, "device", json_string(devname));
		else
			json_object_set_new(args, "node-name", json_string(node));
		r = qmp__call(s->q, "blockdev-snapshot-sync", args, NULL);
		if (r) {
			fail(s, r, "%s", qmp_errmsg(s->q));
			break;
		}
		/* The frozen layer is kept inside the snapshot by a hard link
		 * when the folders share a file system, else by its path. */
		snprintf(lnk, sizeof(lnk), "%s/disk%d.%s", s->dir, k, fmt);
		unlink(lnk);
		json_array_append_new(s->disks, json_pack("{s:s,s:s,s:s}", "argv_path", argv_path,
			"frozen", link(top, lnk) == 0 ? lnk : top, "format", fmt));
		json_array_append_new(tops, json_pack("{s:s,s:s}", "file", ovl, "backing", top));
		k++;
	}
	json_decref(blk);
	/* The instance now runs on the new overlays: say so in its vm.json
	 * (a restore that replaces it removes the top layer, never a frozen
	 * one). */
	if (k && !s->res->err) {
		json_object_set_new(s->vm->j, "disks", tops);
		r = vm_store(s->vm);
		if (r)
			return fail(s, r, "%s", vmctl__errmsg());
	} else {
		json_decref(tops);
	}
	return s->res->err;
}

/* Whether QEMU offers migration capability @cap. */
static bool has_capability(struct qmp *q, const char *cap)
{
	json_t *caps = NULL, *c;
	bool found = false;
	size_t i;

	if (qmp__call(q, "query-migrate-capabilities", NULL, &caps))
		return false;
	json_array_foreach(caps, i, c)
		found |= !strcmp(json_string_value(json_object_get(c, "capability")) ?: "", cap);
	json_decref(caps);
	return found;
}

/*
 * Whether the VM's RAM is saved as an image: a stopped save of a VM whose
 * RAM is a file of its own that QEMU shares, and a QEMU that can leave such
 * RAM out of the stream (x-ignore-shared, experimental in 7.2: asked, not
 * assumed). A live snapshot streams the RAM (the guest writes on while it is
 * saved), and so does a restored VM, whose RAM is a private mapping of a
 * snapshot's image (what it changed is in no file).
 */
static void choose_image(struct saving *s, bool live)
{
	json_t *ram = json_object_get(s->vm->j, "ram");

	s->has_ignore = has_capability(s->q, "x-ignore-shared");
	s->image = !live && s->has_ignore && json_is_true(json_object_get(ram, "shared")) &&
		   json_string_value(json_object_get(ram, "file"));
}

static int start_migration(struct saving *s, bool live, uint64_t bw)
{
	char path[4300];
	json_t *caps;
	int fd, r;

	caps = json_pack("{s:[{s:s,s:b}]}", "capabilities", "capability",
			 "background-snapshot", "state", live);
	/* set either way: an earlier save left it as it needed it */
	if (s->has_ignore)
		json_array_append_new(json_object_get(caps, "capabilities"),
				      json_pack("{s:s,s:b}", "capability", "x-ignore-shared",
						"state", s->image));
	r = qmp__call(s->q, "migrate-set-capabilities", caps, NULL);
	if (r)
		return fail(s, r, "%s", qmp_errmsg(s->q));
	r = qmp__call(s->q, "migrate-set-parameters",
		      json_pack("{s:I}", "max-bandwidth", (json_int_t)(bw ? bw : (1ull << 40))),
		      NULL);
	if (r)
		return fail(s, r, "%s", qmp_errmsg(s->q));
	snprintf(path, sizeof(path), "%s/state.tmp", s->dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return fail(s, -errno, "%s: %s", path, strerror(errno));
	r = qmp__getfd(s->q, "stasis-state", fd);
	close(fd);
	if (r)
		return fail(s, r, "%s", qmp_errmsg(s->q));
	r = qmp__call(s->q, "migrate", json_pack("{s:s}", "uri", "fd:stasis-state"), NULL);
	if (r)
		return fail(s, r, "%s", qmp_errmsg(s->q));
	return 0;
}

/* One look at a running migration: 1 done, 0 still going, <0 failed. */
static int poll_migration(struct saving *s, const struct snap_opts *o)
{
	json_t *st = NULL;
	const char *status;
	int r = qmp__call(s->q, "query-migrate", NULL, &st);

	if (r)
		return fail(s, r, "%s", qmp_errmsg(s->q));
	status = json_string_value(json_object_get(st, "status"));
	if (!status)
		status = "none";
	if (!strcmp(status, "completed")) {
		json_t *dt = json_object_get(st, "downtime");

		s->res->downtime_ms = dt ? (int64_t)json_integer_value(dt) : -1;
		json_decref(st);
		return 1;
	}
	if (!strcmp(status, "failed") || !strcmp(status, "cancelled") || !strcmp(status, "none")) {
		const char *d = json_string_value(json_object_get(st, "error-desc"));

		r = fail(s, -EIO, "migration %s: %s", status, d ? d : "no reason given");
		json_decref(st);
		return r;
	}
	if ((o->progress || o->on_progress) && util_now_ns() - s->last_progress_ns > 500000000ull) {
		json_t *ram = json_object_get(st, "ram");
		uint64_t done = (uint64_t)json_integer_value(json_object_get(ram, "transferred"));
		uint64_t total = (uint64_t)json_integer_value(json_object_get(ram, "total"));

		s->last_progress_ns = util_now_ns();
		if (o->progress)
			fprintf(stderr, "save: %s %s %.0f MB of %.0f MB RAM\n", s->res->name, status,
				(double)done / 1e6, (double)total / 1e6);
		if (o->on_progress)
			o->on_progress(o->progress_ctx, s->res->name, done, total);
	}
	json_decref(st);
	return 0;
}

/* Timestamps of QMP events, for a live snapshot's pause. */
static double event_ms(json_t *ev)
{
	json_t *ts = json_object_get(ev, "timestamp");

	return (double)json_integer_value(json_object_get(ts, "seconds")) * 1000.0 +
	       (double)json_integer_value(json_object_get(ts, "microseconds")) / 1000.0;
}

static void image_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct saving *s = ctx;

	if (s->o->progress)
		fprintf(stderr, "save: %s memory image %.0f MB of %.0f MB\n", s->res->name,
			(double)done / 1e6, (double)total / 1e6);
	if (s->o->on_progress)
		s->o->on_progress(s->o->progress_ctx, s->res->name, done, total);
}

/* The RAM file into SNAPDIR/NAME/mem while the VM is stopped: moved when it
 * quits next (a rename on one file system), else copied (a reflink where the
 * file system shares blocks, else its data without holes and zero blocks). */
static int save_image(struct saving *s, json_t **rec)
{
	const char *ram = json_string_value(json_object_get(json_object_get(s->vm->j, "ram"),
							    "file"));
	struct memfile_copy_opts mo = { .durable = true, .on_progress = image_progress, .ctx = s,
					.max_bps = s->o->max_bandwidth };
	char dst[4300];
	struct stat st;
	int r;

	snprintf(dst, sizeof(dst), "%s/mem", s->dir);
	if (stat(ram, &st) < 0)
		return fail(s, -errno, "memory file %s: %s", ram, strerror(errno));
	r = s->o->quit ? memfile_move(ram, dst, &mo, &s->res->mem_bytes)
		       : memfile_copy(ram, dst, &mo, &s->res->mem_bytes);
	if (r)
		return fail(s, r, "memory image %s: %s", dst, strerror(-r));
	s->res->mem_image = true;
	*rec = json_pack("{s:s,s:I,s:I}", "image", "mem", "bytes", (json_int_t)st.st_size,
			 "data_bytes", (json_int_t)s->res->mem_bytes);
	return 0;
}

static int finish_vm(struct saving *s, const char *snapdir, bool live)
{
	char tmp[4300], fin[4300], run[4300], dst[4300];
	json_t *j, *ev, *mem = NULL;
	struct stat st;
	double stop_ms = -1, resume_ms = -1;
	int fd, r;

	snprintf(tmp, sizeof(tmp), "%s/state.tmp", s->dir);
	snprintf(fin, sizeof(fin), "%s/state", s->dir);
	fd = open(tmp, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(s, -errno, "%s: %s", tmp, strerror(errno));
	r = fsync(fd) < 0 ? -errno : 0;
	if (!r && fstat(fd, &st) == 0)
		s->res->bytes = (uint64_t)st.st_size;
	close(fd);
	if (r)
		return fail(s, r, "fsync %s: %s", tmp, strerror(-r));
	if (rename(tmp, fin) < 0)
		return fail(s, -errno, "rename %s: %s", tmp, strerror(errno));
	/* The boot script QEMU reads at start (fw_cfg) goes along. */
	snprintf(run, sizeof(run), "%s/run.sh", s->vm->dir);
	snprintf(dst, sizeof(dst), "%s/run.sh", s->dir);
	if (access(run, R_OK) == 0 && (r = util_copy_file(run, dst, 0, true)))
		return fail(s, r, "%s: %s", dst, strerror(-r));
	while (qmp__next_event(s->q, &ev) == 0) {
		const char *n = json_string_value(json_object_get(ev, "event"));

		if (n && !strcmp(n, "STOP"))
			stop_ms = event_ms(ev);
		if (n && !strcmp(n, "RESUME") && stop_ms >= 0 && resume_ms < 0)
			resume_ms = event_ms(ev);
		json_decref(ev);
	}
	if (live && stop_ms >= 0 && resume_ms >= stop_ms)
		s->res->paused_ms = resume_ms - stop_ms;
	if (s->image && save_image(s, &mem))
		return s->res->err;
	j = json_deep_copy(s->vm->j);
	json_object_set_new(j, "snapshot", json_pack("{s:s,s:s,s:b,s:O,s:I,s:i,s:o*}",
		"dir", s->vm->dir, "state", "state", "live", live, "disks", s->disks,
		"state_bytes", (json_int_t)s->res->bytes, "saved_at", (int)time(NULL),
		"memory", mem));
	snprintf(dst, sizeof(dst), "%s/vm.json", s->dir);
	r = util_json_write_atomic(dst, j);
	json_decref(j);
	if (r)
		return fail(s, r, "%s: %s", dst, strerror(-r));
	(void)snapdir;
	/* Saved: it may go (its RAM file went into the snapshot already). */
	if (s->o->quit && (r = vm__quit(s->vm, 5000)))
		return fail(s, r, "quit: %s", vmctl__errmsg());
	return 0;
}

static int write_manifest(const char *snapdir, struct saving *sv, int n, bool live)
{
	json_t *vms = json_array(), *m;
	char path[4300];
	int r;

	for (int i = 0; i < n; i++)
		json_array_append_new(vms, json_pack("{s:s,s:I,s:I}", "name", sv[i].res->name,
			"state_bytes", (json_int_t)sv[i].res->bytes,
			"mem_bytes", (json_int_t)sv[i].res->mem_bytes));
	m = json_pack("{s:i,s:b,s:i,s:o}", "version", 1, "live", live,
		      "created", (int)time(NULL), "vms", vms);
	snprintf(path, sizeof(path), "%s/complete", snapdir);
	r = util_json_write_atomic(path, m);
	json_decref(m);
	if (!r)
		r = util_fsync_dir(snapdir);
	return r;
}

/* ---- a group of VMs, connected ahead --------------------------------- */

struct vm_group {
	int n;
	struct vm **vms;
	struct qmp **qs;
	bool stopped;
	bool cont_prepared;	/* the prepared command is cont, not stop */
};

int vm_group__open(char **names, int n, int timeout_ms, struct vm_group **out)
{
	struct vm_group *g = calloc(1, sizeof(*g));
	int r = 0;

	*out = NULL;
	if (!g)
		return vm_seterr(-ENOMEM, "out of memory");
	g->vms = calloc((size_t)(n ? n : 1), sizeof(*g->vms));
	g->qs = calloc((size_t)(n ? n : 1), sizeof(*g->qs));
	if (!g->vms || !g->qs) {
		vm_group__close(g);
		return vm_seterr(-ENOMEM, "out of memory");
	}
	for (int i = 0; i < n; i++)
		for (int k = 0; k < i; k++)
			if (!strcmp(names[i], names[k])) {
				vm_group__close(g);
				return vm_seterr(-EINVAL, "VM %s named twice", names[i]);
			}
	g->n = n;
	for (int i = 0; i < n && !r; i++) {
		r = vm__load(names[i], &g->vms[i]);
		if (!r)
			r = vm__connect(g->vms[i], timeout_ms > 0 ? timeout_ms : 5000, &g->qs[i]);
		/* encoded now, written at the critical moment */
		if (!r)
			r = qmp__prepare(g->qs[i], "stop", NULL);
	}
	if (r) {
		vm_group__close(g);
		return r;
	}
	*out = g;
	return 0;
}

/* Encode @cmd on every connection (before any is written: the writes that
 * follow are back to back), then write them all and collect the replies
 * with one poll. Returns how many failed; the first failure's message. */
static int group_fire(struct vm_group *g, const char *cmd)
{
	int failed;

	for (int i = 0; i < g->n; i++) {
		int r = qmp__prepare(g->qs[i], cmd, NULL);

		if (r)
			return vm_seterr(r, "VM %s: %s", vm__name(g->vms[i]), qmp_errmsg(g->qs[i])), g->n;
	}
	failed = qmp__fire_all(g->qs, g->n, 5000);
	for (int i = 0; i < g->n; i++)
		if (qmp__fire_result(g->qs[i])) {
			vm_seterr(qmp__fire_result(g->qs[i]), "VM %s: %s %s", vm__name(g->vms[i]), cmd,
				  qmp_errmsg(g->qs[i]));
			break;
		}
	return failed;
}

int vm_group__stop(struct vm_group *g)
{
	int failed;

	if (!g->cont_prepared) {	/* stop was encoded at open */
		failed = qmp__fire_all(g->qs, g->n, 5000);
		for (int i = 0; i < g->n; i++)
			if (qmp__fire_result(g->qs[i])) {
				vm_seterr(qmp__fire_result(g->qs[i]), "VM %s: %s", vm__name(g->vms[i]),
					  qmp_errmsg(g->qs[i]));
				break;
			}
	} else {
		failed = group_fire(g, "stop");
		g->cont_prepared = false;
	}
	g->stopped = true;
	return failed;
}

int vm_group__cont(struct vm_group *g)
{
	g->cont_prepared = true;
	g->stopped = false;
	return group_fire(g, "cont");
}

uint64_t vm_group__window_ns(const struct vm_group *g)
{
	uint64_t lo = UINT64_MAX, hi = 0, sent, ack;

	for (int i = 0; i < g->n; i++) {
		qmp__fire_times(g->qs[i], &sent, &ack);
		if (!sent || !ack)
			continue;
		lo = sent < lo ? sent : lo;
		hi = ack > hi ? ack : hi;
	}
	return hi >= lo ? hi - lo : 0;
}

uint64_t vm_group__spread_ns(const struct vm_group *g)
{
	uint64_t lo = UINT64_MAX, hi = 0, sent, ack;

	for (int i = 0; i < g->n; i++) {
		qmp__fire_times(g->qs[i], &sent, &ack);
		if (!ack)
			continue;
		lo = ack < lo ? ack : lo;
		hi = ack > hi ? ack : hi;
	}
	return hi >= lo ? hi - lo : 0;
}

int vm_group__size(const struct vm_group *g) { return g->n; }
struct qmp *vm_group__qmp(const struct vm_group *g, int i) { return g->qs[i]; }
struct vm *vm_group__vm(const struct vm_group *g, int i) { return g->vms[i]; }

void vm_group__close(struct vm_group *g)
{
	if (!g)
		return;
	for (int i = 0; i < g->n; i++) {
		qmp__close(g->qs[i]);
		vm__free(g->vms[i]);
	}
	free(g->qs);
	free(g->vms);
	free(g);
}

int snap__save(const char *snapdir, char **names, int n, const struct snap_opts *opts,
	       struct snap_vm_result *res)
{
	struct vm_group *g;
	uint64_t t = util_now_ns();
	int r;

	r = vm_group__open(names, n, 5000, &g);
	if (r)
		return r;
	r = vm_group__save(g, snapdir, opts, res);
	for (int i = 0; i < n; i++)
		res[i].start_ns = t;	/* the connections are part of it */
	vm_group__close(g);
	return r;
}

int vm_group__save(struct vm_group *g, const char *snapdir, const struct snap_opts *opts,
		   struct snap_vm_result *res)
{
	struct snap_opts o;
	int n = g->n;
	struct saving *sv = calloc((size_t)(n ? n : 1), sizeof(*sv));
	struct qmp **qs = g->qs;
	char path[4300], tag[48];
	uint64_t deadline;
	useconds_t poll_us = 1000;
	int r = 0, failed = 0;

	if (UTIL_OPTS_LOAD(o, opts)) {
		free(sv);
		return vm_seterr(-EINVAL, "snap_opts: bad sz %zu", opts->sz);
	}
	if (o.timeout_ms <= 0)
		o.timeout_ms = 600000;
	if (!sv)
		return vm_seterr(-ENOMEM, "out of memory");
	if (o.quit && (o.live || o.resume)) {
		free(sv);
		return vm_seterr(-EINVAL, "a save that quits the VMs cannot also %s them",
				 o.live ? "keep running" : "continue");
	}
	layer_tag(tag, sizeof(tag));
	snprintf(path, sizeof(path), "%s/complete", snapdir);
	if (access(path, F_OK) == 0) {
		r = vm_seterr(-EEXIST, "%s is a complete snapshot already", snapdir);
		goto out;
	}
	for (int i = 0; i < n; i++) {
		memset(&res[i], 0, sizeof(res[i]));
		snprintf(res[i].name, sizeof(res[i].name), "%s", vm__name(g->vms[i]));
		res[i].downtime_ms = -1;
		res[i].start_ns = util_now_ns();
		sv[i].res = &res[i];
		sv[i].vm = g->vms[i];
		sv[i].q = qs[i];
		sv[i].o = &o;
	}
	r = util_mkdir_p(snapdir, 0755);
	if (r) {
		vm_seterr(r, "cannot create %s: %s", snapdir, strerror(-r));
		goto out;
	}
	for (int i = 0; i < n; i++) {
		snprintf(sv[i].dir, sizeof(sv[i].dir), "%s/%s", snapdir, res[i].name);
		r = util_mkdir_p(sv[i].dir, 0755);
		if (r) {
			vm_seterr(r, "cannot create %s: %s", sv[i].dir, strerror(-r));
			goto out;
		}
	}

	/* The critical moment (unless the caller had it already): N writes
	 * of an encoded stop. */
	if (!o.live && !g->stopped)
		vm_group__stop(g);
	if (g->stopped)
		for (int i = 0; i < n; i++) {
			qmp__fire_times(qs[i], &res[i].stop_sent_ns, &res[i].stop_ack_ns);
			if ((r = qmp__fire_result(qs[i])))
				fail(&sv[i], r, "stop: %s", qmp_errmsg(qs[i]));
		}
	for (int i = 0; i < n; i++) {
		struct saving *s = &sv[i];
		json_t *st = NULL;

		if (s->done)
			continue;
		if (o.live) {
			/* A VM with disks pauses for the overlay switch, so
			 * memory and disk are of the same moment; QEMU's
			 * snapshot thread resumes it. */
			qmp__call(s->q, "query-status", NULL, &st);
			s->was_running = json_is_true(json_object_get(st, "running"));
			json_decref(st);
			if (json_array_size(json_object_get(s->vm->j, "disks")) ||
			    json_is_true(json_object_get(s->vm->j, "adopted"))) {
				r = qmp__call(s->q, "stop", NULL, NULL);
				if (r) {
					fail(s, r, "stop: %s", qmp_errmsg(s->q));
					continue;
				}
			}
		}
		if (freeze_disks(s, tag))
			continue;
		choose_image(s, o.live);
		if (o.progress)
			fprintf(stderr, "save: %s: migrating %s to %s/state\n", res[i].name,
				s->image ? "device state (RAM as an image)" : "RAM and devices", s->dir);
		start_migration(s, o.live, o.max_bandwidth);
	}
	deadline = util_now_ns() + (uint64_t)o.timeout_ms * 1000000ull;
	for (int i = 0; i < n; i++)
		sv[i].last_progress_ns = util_now_ns();
	for (;;) {
		int pending = 0;

		for (int i = 0; i < n; i++) {
			if (sv[i].done)
				continue;
			r = poll_migration(&sv[i], &o);
			if (r == 1) {
				sv[i].done = true;
				finish_vm(&sv[i], snapdir, o.live);
				res[i].saved_ns = util_now_ns();	/* on disk */
			} else if (r == 0) {
				pending++;
			}
		}
		if (!pending)
			break;
		if (util_now_ns() > deadline) {
			for (int i = 0; i < n; i++)
				if (!sv[i].done) {
					qmp__call(sv[i].q, "migrate_cancel", NULL, NULL);
					fail(&sv[i], -ETIMEDOUT, "migration did not finish in %d ms",
					     o.timeout_ms);
				}
			break;
		}
		/* 1 ms first (device state alone takes a few), then less
		 * often: each look interrupts a RAM stream */
		usleep(poll_us);
		poll_us = poll_us < 16000 ? poll_us * 2 : 20000;
	}
	for (int i = 0; i < n; i++) {
		if (o.live && sv[i].q && !res[i].err) {
			json_t *st = NULL;

			/* Leave the capability off for later plain saves, and
			 * the VM as it was. */
			qmp__call(sv[i].q, "migrate-set-capabilities",
				  json_pack("{s:[{s:s,s:b}]}", "capabilities", "capability",
					    "background-snapshot", "state", 0), NULL);
			qmp__call(sv[i].q, "query-status", NULL, &st);
			if (sv[i].was_running && !json_is_true(json_object_get(st, "running")))
				qmp__call(sv[i].q, "cont", NULL, NULL);
			json_decref(st);
		}
		if (res[i].err)
			failed++;
	}
	if (failed) {
		for (int i = 0; i < n; i++)
			if (res[i].err) {
				r = vm_seterr(res[i].err, "%s; snapshot %s not marked complete",
					      res[i].msg, snapdir);
				break;
			}
		goto out;
	}
	r = write_manifest(snapdir, sv, n, o.live);
	if (r) {
		snprintf(path, sizeof(path), "%s/complete", snapdir);
		unlink(path);
		vm_seterr(r, "writing %s/complete: %s; snapshot not marked complete", snapdir,
			  strerror(-r));
		goto out;
	}
	if (o.resume && !o.live)
		for (int i = 0; i < n; i++)
			qmp__call(sv[i].q, "cont", NULL, NULL);
out:
	for (int i = 0; i < n; i++)
		json_decref(sv[i].disks);
	free(sv);
	return r;
}

int snap__open(const char *snapdir, char ***names, int *n)
{
	char path[4300];
	json_error_t je;
	json_t *m, *vms, *v;
	size_t i;

	*names = NULL;
	*n = 0;
	snprintf(path, sizeof(path), "%s/complete", snapdir);
	m = json_load_file(path, 0, &je);
	if (!m) {
		if (access(snapdir, F_OK))
			return vm_seterr(-ENOENT, "no snapshot at %s", snapdir);
		if (access(path, F_OK))
			return vm_seterr(-EINVAL, "%s is not a complete snapshot (no complete marker)",
					 snapdir);
		return vm_seterr(-EINVAL, "%s: %s", path, je.text);
	}
	vms = json_object_get(m, "vms");
	*names = calloc(json_array_size(vms) + 1, sizeof(char *));
	json_array_foreach(vms, i, v) {
		const char *nm = json_string_value(json_object_get(v, "name"));

		if (nm && !vmctl__name_valid(nm))
			(*names)[(*n)++] = strdup(nm);
	}
	json_decref(m);
	return 0;
}
