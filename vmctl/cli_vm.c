// SPDX-License-Identifier: MIT
/* stasis vm ...: QEMU VMs over QMP. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "loader/loader.h"
#include "vmctl/vmctl.h"

static const struct cli_opt no_opts[] = { { 0 } };

/* The VM names given (@argc of @argv, options already parsed) or --all
 * (every instance) into a list; 0 or a usage status. */
static int pick_names(int argc, char **argv, bool all, char ***names, int *n, bool need)
{
	char **v = calloc((size_t)argc + 1, sizeof(char *));
	int k = 0;

	for (int i = 0; i < argc; i++) {
		if (vmctl__name_valid(argv[i]))
			return free(v), p_usage("bad VM name '%s'", argv[i]);
		v[k++] = argv[i];
	}
	if (all && k)
		return free(v), p_usage("give VM names or --all, not both");
	if (all || (!k && !need)) {
		char **all_names;
		int m;

		free(v);
		if (vm__list(&all_names, &m))
			return p_err("%s", vmctl__errmsg());
		if (!m)
			return free(all_names), p_err("no VM instances under %s", vmctl__root());
		*names = all_names;
		*n = -m;	/* negative: owned strings */
		return 0;
	}
	if (!k)
		return free(v), p_usage("which VMs? give NAME... or --all");
	*names = v;
	*n = k;
	return 0;
}

static void free_names(char **names, int n)
{
	if (n < 0)
		for (int i = 0; i < -n; i++)
			free(names[i]);
	free(names);
}

/* ---- start / adopt / list --------------------------------------------- */

static const struct cli_opt start_opts[] = {
	CLI_INT("mem", struct vm_start_opts, mem_mib, "MIB", 1, 1 << 20, "guest RAM (default 128)"),
	CLI_INT("smp", struct vm_start_opts, smp, "N", 1, 64, "virtual CPUs (default 1)"),
	CLI_STR("kernel", struct vm_start_opts, kernel, "FILE", "boot this kernel (with --initrd, --append)"),
	CLI_STR("initrd", struct vm_start_opts, initrd, "FILE", "its initrd"),
	CLI_STR("append", struct vm_start_opts, append, "CMDLINE", "its command line"),
	CLI_STR("run", struct vm_start_opts, run_file, "SCRIPT", "a script the guest runs (fw_cfg opt/stasis/run)"),
	CLI_STR("tap", struct vm_start_opts, tap, "TAP", "network: this tap (created if missing)"),
	CLI_STR("mac", struct vm_start_opts, mac, "MAC", "the guest NIC's MAC address"),
	CLI_STR("netns", struct vm_start_opts, netns, "NS", "run QEMU inside this named network namespace"),
	{ .name = "disk", .kind = CLI_OPT_STR, .off = offsetof(struct vm_start_opts, disk), .arg = "IMG",
	  .help = "run on an overlay of this disk image", .group = "disk" },
	{ .name = "disk-size", .kind = CLI_OPT_INT, .off = offsetof(struct vm_start_opts, disk_mib),
	  .arg = "MIB", .lo = 1, .hi = 1 << 20, .help = "or a new empty qcow2 disk of this size", .group = "disk" },
	CLI_STR("accel", struct vm_start_opts, accel, "ACCEL", "QEMU accelerator (default $STASIS_ACCEL or tcg)"),
	CLI_STR("qemu", struct vm_start_opts, qemu, "BINARY", "default qemu-system-x86_64"),
	CLI_FLAG("paused", struct vm_start_opts, paused, "start paused (-S)"),
	{ .name = "mem-dir", .kind = CLI_OPT_STR, .off = offsetof(struct vm_start_opts, mem_dir), .arg = "DIR",
	  .help = "where the RAM file lives (default: a memory file system)", .group = "ram" },
	{ .name = "anon-ram", .kind = CLI_OPT_FLAG, .off = offsetof(struct vm_start_opts, anon_ram),
	  .help = "QEMU's own RAM, no file (every save and restore streams it)", .group = "ram" },
	{ 0 },
};

static int do_start(int argc, char **argv)
{
	struct vm_start_opts o = { .sz = sizeof(o) };
	const char *name;
	struct vm *vm;
	int np = cli_parse(start_opts, argc, argv, &o, &o.extra);

	if (np < 0)
		return EXIT_USAGE;
	if (np != 1)
		return p_usage(np ? "vm start: one VM per start: '%s' after '%s'" : "vm start: which VM? (NAME)",
			       np ? argv[2] : "", argv[1]);
	name = argv[1];
	if (vmctl__name_valid(name))
		return p_usage("bad VM name '%s' (1-32 of A-Za-z0-9_.-)", name);
	if (vm__start(name, &o))
		return p_err("%s", vmctl__errmsg());
	if (vm__load(name, &vm))
		return p_err("%s", vmctl__errmsg());
	if (json_output)
		jw_value(json_pack("{s:s,s:i,s:s,s:s}", "name", name, "pid", (int)vm__pid(vm),
				   "dir", vm__dir(vm), "qmp", vm__qmp_path(vm)));
	else
		printf("%s: started, pid %d, %s\n", name, (int)vm__pid(vm), vm__dir(vm));
	vm__free(vm);
	return EXIT_OK;
}

struct adopt_cfg {
	const char *qmp, *argv_file;
};

static const struct cli_opt adopt_opts[] = {
	{ .name = "qmp", .kind = CLI_OPT_STR, .off = offsetof(struct adopt_cfg, qmp), .arg = "SOCKET",
	  .help = "the QEMU's QMP socket", .required = true },
	CLI_STR("argv-file", struct adopt_cfg, argv_file, "FILE",
		"its command line (NUL- or newline-separated; default /proc/PID/cmdline)"),
	{ 0 },
};

static int do_adopt(int argc, char **argv)
{
	struct adopt_cfg cfg = { 0 };
	const char *name, *qmp, *argv_file;
	struct vm *vm;
	int np = cli_parse(adopt_opts, argc, argv, &cfg, NULL);

	if (np < 0)
		return EXIT_USAGE;
	if (np != 1)
		return p_usage("vm adopt: one NAME, not %d arguments", np);
	name = argv[1], qmp = cfg.qmp, argv_file = cfg.argv_file;
	if (vmctl__name_valid(name))
		return p_usage("bad VM name '%s' (1-32 of A-Za-z0-9_.-)", name);
	if (vm__adopt(name, qmp, argv_file))
		return p_err("%s", vmctl__errmsg());
	if (vm__load(name, &vm))
		return p_err("%s", vmctl__errmsg());
	if (json_output)
		jw_value(json_pack("{s:s,s:i,s:s}", "name", name, "pid", (int)vm__pid(vm),
				   "dir", vm__dir(vm)));
	else
		printf("%s: adopted, pid %d, %zu arguments\n", name, (int)vm__pid(vm),
		       json_array_size(json_object_get(vm__json(vm), "argv")));
	vm__free(vm);
	return EXIT_OK;
}

static int do_list(int argc, char **argv)
{
	char **names;
	int n;

	int np = cli_parse(no_opts, argc, argv, NULL, NULL);

	if (np < 0)
		return EXIT_USAGE;
	if (np)
		return p_usage("vm list takes no arguments, not '%s'", argv[1]);
	if (vm__list(&names, &n))
		return p_err("%s", vmctl__errmsg());
	if (json_output)
		jw_array_begin();
	else if (n)
		printf("%-20s %-12s %-8s %-6s %s\n", "NAME", "STATE", "PID", "MiB", "TAP");
	for (int i = 0; i < n; i++) {
		struct vm *vm;
		char st[32];

		if (vm__load(names[i], &vm)) {
			if (json_output)
				jw_array_item(json_pack("{s:s,s:s}", "name", names[i],
							"error", vmctl__errmsg()));
			else
				printf("%-20s %-12s %s\n", names[i], "broken", vmctl__errmsg());
		} else {
			const json_t *j = vm__json(vm);
			const char *tap = json_string_value(json_object_get(j, "tap"));
			int mib = (int)json_integer_value(json_object_get(j, "memory_mib"));

			vm__status(vm, st, sizeof(st));
			if (json_output)
				jw_array_item(json_pack("{s:s,s:s,s:i,s:i,s:s*,s:b,s:s}",
					"name", names[i], "state", st, "pid", (int)vm__pid(vm),
					"memory_mib", mib, "tap", tap, "adopted",
					json_is_true(json_object_get(j, "adopted")),
					"dir", vm__dir(vm)));
			else
				printf("%-20s %-12s %-8d %-6d %s\n", names[i], st,
				       (int)vm__pid(vm), mib, tap ? tap : "-");
			vm__free(vm);
		}
		free(names[i]);
	}
	free(names);
	if (json_output)
		jw_array_end();
	return EXIT_OK;
}

/* ---- stop / cont / quit ------------------------------------------------ */

struct names_cfg {
	bool all, sequential;
};

#define OPT_ALL CLI_FLAG("all", struct names_cfg, all, "every instance (instead of NAME...)")
static const struct cli_opt stop_opts[] = {
	OPT_ALL,
	CLI_FLAG("sequential", struct names_cfg, sequential,
		 "one VM after the other, each reply awaited (for comparison)"),
	{ 0 },
};
static const struct cli_opt names_opts[] = { OPT_ALL, { 0 } };

/* Open every connection first, then one pre-encoded command on all. */
static int broadcast(const char *verb, const char *cmd, int argc, char **argv)
{
	struct qmp **qs;
	struct vm **vms;
	char **names;
	int n, cnt, r, failed, first = -1;
	uint64_t t0 = 0, amin = UINT64_MAX, amax = 0;
	json_t *arr;
	struct names_cfg cfg = { 0 };
	int np = cli_parse(stop_opts, argc, argv, &cfg, NULL);
	/* --sequential: one command, wait for its reply, the next: what a
	 * plain loop of QMP calls does (for comparison and benchmarks). */
	bool seq;

	if (np < 0)
		return EXIT_USAGE;
	seq = cfg.sequential;
	r = pick_names(np, argv + 1, cfg.all, &names, &n, true);
	if (r)
		return r;
	cnt = n < 0 ? -n : n;
	qs = calloc((size_t)cnt, sizeof(*qs));
	vms = calloc((size_t)cnt, sizeof(*vms));
	for (int i = 0; i < cnt; i++) {
		if (vm__load(names[i], &vms[i]) || vm__connect(vms[i], 5000, &qs[i])) {
			r = p_err("%s", vmctl__errmsg());
			goto out;
		}
	}
	for (int i = 0; i < cnt; i++)
		qmp__prepare(qs[i], cmd, NULL);
	if (seq) {
		failed = 0;
		for (int i = 0; i < cnt; i++) {
			qmp__fire(qs[i]);
			failed += qmp__collect(qs[i], 5000, NULL) != 0;
		}
	} else {
		failed = qmp__fire_all(qs, cnt, 5000);
	}
	for (int i = 0; i < cnt; i++) {
		uint64_t s, a;

		qmp__fire_times(qs[i], &s, &a);
		if (s && (!t0 || s < t0))
			t0 = s;
		if (qmp__fire_result(qs[i]) == 0) {
			amin = a < amin ? a : amin;
			amax = a > amax ? a : amax;
		} else if (first < 0) {
			first = i;
		}
	}
	if (failed) {
		r = p_err("%s: VM %s: %s%s", verb, names[first], vmctl__errmsg(),
			  failed > 1 ? " (and others)" : "");
		goto out;
	}
	arr = json_array();
	for (int i = 0; i < cnt; i++) {
		uint64_t s, a;

		qmp__fire_times(qs[i], &s, &a);
		if (json_output)
			json_array_append_new(arr, json_pack("{s:s,s:f,s:f}", "name", names[i],
				"sent_us", (double)(s - t0) / 1e3, "ack_us", (double)(a - t0) / 1e3));
		else
			printf("%s: %s sent=+%.0fus ack=+%.0fus\n", names[i], verb,
			       (double)(s - t0) / 1e3, (double)(a - t0) / 1e3);
	}
	if (json_output)
		jw_value(json_pack("{s:s,s:o,s:f,s:f}", "verb", verb, "vms", arr,
				   "ack_spread_us", (double)(amax - amin) / 1e3,
				   "last_ack_us", (double)(amax - t0) / 1e3));
	else {
		json_decref(arr);
		printf("%d VM%s %s; ack spread %.0f us, last ack %.0f us after the first write\n",
		       cnt, cnt == 1 ? "" : "s", verb, (double)(amax - amin) / 1e3,
		       (double)(amax - t0) / 1e3);
	}
	r = EXIT_OK;
out:
	for (int i = 0; i < cnt; i++) {
		qmp__close(qs[i]);
		vm__free(vms[i]);
	}
	free(qs);
	free(vms);
	free_names(names, n);
	return r;
}

static int do_stop(int argc, char **argv) { return broadcast("stopped", "stop", argc, argv); }
static int do_cont(int argc, char **argv) { return broadcast("continued", "cont", argc, argv); }

static int do_quit(int argc, char **argv)
{
	json_t *a = json_array();
	char **names, first[600] = "";
	struct names_cfg cfg = { 0 };
	int n, r, cnt, bad = 0, np = cli_parse(names_opts, argc, argv, &cfg, NULL);

	if (np < 0)
		return json_decref(a), EXIT_USAGE;
	r = pick_names(np, argv + 1, cfg.all, &names, &n, true);
	if (r)
		return json_decref(a), r;
	cnt = n < 0 ? -n : n;
	/* Every VM is tried; one that was not running is only a note. */
	for (int i = 0; i < cnt; i++) {
		struct vm *vm = NULL;
		const char *what = "quit";

		r = vm__load(names[i], &vm);
		if (!r)
			r = vm__quit(vm, 5000);
		if (r == -ESRCH) {
			what = "not running";
			r = 0;
		}
		vm__free(vm);
		if (r) {
			if (!bad)
				snprintf(first, sizeof(first), "%s", vmctl__errmsg());
			bad++;
			continue;
		}
		if (json_output)
			json_array_append_new(a, json_pack("{s:s,s:s}", "name", names[i], "state", what));
		else
			printf("%s: %s\n", names[i], what);
	}
	free_names(names, n);
	if (bad) {
		json_decref(a);
		return bad > 1 ? p_err("%s (and %d more VMs could not be quit)", first, bad - 1) :
				 p_err("%s", first);
	}
	if (json_output)
		jw_value(json_pack("{s:o}", "quit", a));
	else
		json_decref(a);
	return EXIT_OK;
}

/* ---- save / snapshot --live -------------------------------------------- */

/* With this namespace's network held (`stasis net hold`), the VMs first
 * read what waits in their taps' queues (vm_group__settle_rx: those frames
 * are in neither the held frames nor the saved state), then stop and save,
 * as the agent's snapshot does. Otherwise a plain snap__save. */
static int save_vms(const char *snapdir, char **names, int n, const struct snap_opts *o,
		    struct snap_vm_result *res)
{
	struct loader_dev devs[64];
	const char *taps[64];
	char left[256];
	struct stasis_host h;
	struct vm_group *g;
	struct loader *l;
	size_t nd = 64;
	int nt = 0, r;

	if (o->live || loader__open(&l))
		return snap__save(snapdir, names, n, o, res);
	if (!loader__host(l, &h) && h.state == STASIS_HOLD && !loader__devs(l, devs, &nd))
		for (size_t i = 0; i < nd; i++)
			if (devs[i].role == STASIS_ROLE_TAP)
				taps[nt++] = devs[i].name;
	loader__close(l);
	if (!nt)
		return snap__save(snapdir, names, n, o, res);
	if ((r = vm_group__open(names, n, 5000, &g)))
		return r;
	r = vm_group__settle_rx(g, taps, nt, 1000, left, sizeof(left));
	if (r > 0)
		p_info("vm save: frames toward a VM are still in its tap's queue and are not in the "
		       "snapshot: %s", left);
	else if (r < 0)
		p_info("vm save: cannot look at the taps' queues (%s): frames in them are not in the snapshot",
		       vmctl__errmsg());
	r = vm_group__save(g, snapdir, o, res);
	vm_group__close(g);
	return r;
}

static int save_common(const char *snapdir, int argc, char **argv, bool all, bool live, bool resume,
		       bool quit, uint64_t bw)
{
	struct snap_opts o = { .sz = sizeof(o), .live = live, .resume = resume, .progress = true,
			       .max_bandwidth = bw, .quit = quit };
	struct snap_vm_result *res;
	uint64_t t0 = 0, amin = UINT64_MAX, amax = 0;
	char **names;
	int n, cnt, r;

	r = pick_names(argc, argv, all, &names, &n, false);
	if (r)
		return r;
	cnt = n < 0 ? -n : n;
	res = calloc((size_t)cnt, sizeof(*res));
	if (save_vms(snapdir, names, cnt, &o, res)) {
		r = p_err("%s", vmctl__errmsg());
		goto out;
	}
	for (int i = 0; i < cnt; i++) {
		if (res[i].stop_sent_ns && (!t0 || res[i].stop_sent_ns < t0))
			t0 = res[i].stop_sent_ns;
		if (res[i].stop_ack_ns) {
			amin = res[i].stop_ack_ns < amin ? res[i].stop_ack_ns : amin;
			amax = res[i].stop_ack_ns > amax ? res[i].stop_ack_ns : amax;
		}
	}
	if (json_output) {
		json_t *a = json_array();

		for (int i = 0; i < cnt; i++) {
			json_t *v = json_pack("{s:s,s:I,s:b,s:I,s:f}", "name", res[i].name,
				"state_bytes", (json_int_t)res[i].bytes,
				"mem_image", res[i].mem_image, "mem_bytes", (json_int_t)res[i].mem_bytes,
				"save_s", (double)(res[i].saved_ns - res[i].start_ns) / 1e9);

			if (live) {
				json_object_set_new(v, "downtime_ms", json_integer(res[i].downtime_ms));
				json_object_set_new(v, "paused_ms", json_real(res[i].paused_ms));
			} else {
				json_object_set_new(v, "stop_ack_us",
					json_real((double)(res[i].stop_ack_ns - t0) / 1e3));
			}
			json_array_append_new(a, v);
		}
		json_t *doc = json_pack("{s:s,s:b,s:o}", "snapshot", snapdir, "live", live, "vms", a);

		if (!live && amax >= amin)
			json_object_set_new(doc, "stop_ack_spread_us",
					    json_real((double)(amax - amin) / 1e3));
		jw_value(doc);
	} else {
		for (int i = 0; i < cnt; i++) {
			if (live)
				printf("%s: saved %.1f MB, downtime %lld ms (QEMU), paused %.1f ms\n",
				       res[i].name, (double)res[i].bytes / 1e6,
				       (long long)res[i].downtime_ms, res[i].paused_ms);
			else if (res[i].mem_image)
				printf("%s: saved %.1f MB of device state and a memory image of "
				       "%.1f MB, stop ack +%.0f us\n", res[i].name,
				       (double)res[i].bytes / 1e6, (double)res[i].mem_bytes / 1e6,
				       (double)(res[i].stop_ack_ns - t0) / 1e3);
			else
				printf("%s: saved %.1f MB, stop ack +%.0f us\n", res[i].name,
				       (double)res[i].bytes / 1e6,
				       (double)(res[i].stop_ack_ns - t0) / 1e3);
		}
		if (!live)
			printf("%d VM%s saved to %s; stop ack spread %.0f us\n", cnt,
			       cnt == 1 ? "" : "s", snapdir, (double)(amax - amin) / 1e3);
		else
			printf("%d VM%s snapshotted live to %s\n", cnt, cnt == 1 ? "" : "s", snapdir);
	}
	r = EXIT_OK;
out:
	free(res);
	free_names(names, n);
	return r;
}

struct save_cfg {
	bool all, cont, quit, live;
	uint64_t bw;
};

static const struct cli_opt save_opts[] = {
	CLI_FLAG("all", struct save_cfg, all, "every instance (the default when no NAME is given)"),
	{ .name = "cont", .kind = CLI_OPT_FLAG, .off = offsetof(struct save_cfg, cont),
	  .help = "continue the VMs once saved", .group = "after" },
	{ .name = "quit", .kind = CLI_OPT_FLAG, .off = offsetof(struct save_cfg, quit),
	  .help = "quit each VM once saved (its RAM file moved, not copied)", .group = "after" },
	CLI_BYTES("max-bandwidth", struct save_cfg, bw, "BYTES", "per second, of the stream and of a memory image copy"),
	{ 0 },
};

static int do_save(int argc, char **argv)
{
	struct save_cfg cfg = { 0 };
	int np = cli_parse(save_opts, argc, argv, &cfg, NULL);

	if (np < 0)
		return EXIT_USAGE;
	if (np < 1)
		return p_usage("vm save: where? (SNAPDIR)");
	return save_common(argv[1], np - 1, argv + 2, cfg.all, false, cfg.cont, cfg.quit, cfg.bw);
}

static const struct cli_opt snapshot_opts[] = {
	{ .name = "live", .kind = CLI_OPT_FLAG, .off = offsetof(struct save_cfg, live),
	  .help = "the VMs keep running (background-snapshot)", .required = true },
	CLI_FLAG("all", struct save_cfg, all, "every instance (the default when no NAME is given)"),
	{ 0 },
};

static int do_snapshot(int argc, char **argv)
{
	struct save_cfg cfg = { 0 };
	int np = cli_parse(snapshot_opts, argc, argv, &cfg, NULL);

	if (np < 0)
		return EXIT_USAGE;
	if (np < 1)
		return p_usage("vm snapshot: where? (SNAPDIR)");
	return save_common(argv[1], np - 1, argv + 2, cfg.all, true, false, false, 0);
}

/* ---- restore / fork / dump-mem ----------------------------------------- */

struct restore_cfg {
	bool paused;
	int prefault, copies;
};

#define OPT_PREFAULT CLI_ENUM("prefault", struct restore_cfg, prefault, vmctl__prefault_words, \
			      "map the memory image ahead: none (default), cache or all")
static const struct cli_opt restore_opts[] = {
	CLI_FLAG("paused", struct restore_cfg, paused, "leave the restored VMs paused"),
	OPT_PREFAULT,
	{ 0 },
};
static const struct cli_opt fork_opts[] = {
	{ .name = "copies", .kind = CLI_OPT_INT, .off = offsetof(struct restore_cfg, copies), .arg = "N",
	  .lo = 1, .hi = 999, .help = "how many copies of each VM", .required = true },
	OPT_PREFAULT,
	{ 0 },
};

static int restore_list(const char *snapdir, char **names, int n, int copies, bool paused,
			int prefault)
{
	json_t *a = json_array();
	int r = EXIT_OK;

	for (int c = 1; c <= (copies ? copies : 1) && r == EXIT_OK; c++) {
		for (int i = 0; i < n; i++) {
			struct restore_opts o = { .sz = sizeof(o), .paused = paused,
						  .copy = copies ? c : 0, .prefault = prefault };
			char as[64];
			const char *tap;
			struct vm *vm = NULL;
			double ms = 0;

			snprintf(as, sizeof(as), copies ? "%s-c%d" : "%s", names[i], c);
			if (snap__restore(snapdir, names[i], &o, &ms)) {
				r = p_err("%s", vmctl__errmsg());
				break;
			}
			tap = NULL;
			if (vm__load(as, &vm) == 0)
				tap = json_string_value(json_object_get(vm__json(vm), "tap"));
			if (json_output)
				json_array_append_new(a, json_pack("{s:s,s:s,s:f,s:s,s:s*}", "name", as,
					"from", names[i], "load_ms", ms,
					"state", paused ? "paused" : "running", "tap", tap));
			else
				printf("%s: restored from %s/%s in %.0f ms%s%s%s\n", as, snapdir,
				       names[i], ms, paused ? " (paused)" : "",
				       tap ? ", tap " : "", tap ? tap : "");
			vm__free(vm);
		}
	}
	if (r == EXIT_OK && json_output)
		jw_value(json_pack("{s:s,s:o}", "snapshot", snapdir, "restored", a));
	else
		json_decref(a);
	return r;
}

/* restore and fork: SNAPDIR [NAME...] */
static int restore_or_fork(int argc, char **argv, bool fork)
{
	struct restore_cfg cfg = { 0 };
	const char *snapdir;
	char **names = argv + 2, **all = NULL;
	int np = cli_parse(fork ? fork_opts : restore_opts, argc, argv, &cfg, NULL), k, n = 0, r;

	if (np < 0)
		return EXIT_USAGE;
	if (np < 1)
		return p_usage("vm %s: which snapshot? (SNAPDIR)", fork ? "fork" : "restore");
	snapdir = argv[1], k = np - 1;
	for (int i = 0; i < k; i++)
		if (vmctl__name_valid(names[i]))
			return p_usage("bad VM name '%s'", names[i]);
	if (snap__open(snapdir, &all, &n))
		return p_err("%s", vmctl__errmsg());
	r = restore_list(snapdir, k ? names : all, k ? k : n, cfg.copies, cfg.paused, cfg.prefault);
	for (int i = 0; i < n; i++)
		free(all[i]);
	free(all);
	return r;
}

static int do_restore(int argc, char **argv) { return restore_or_fork(argc, argv, false); }
static int do_fork(int argc, char **argv) { return restore_or_fork(argc, argv, true); }

struct dump_cfg {
	const char *out;
};

static const struct cli_opt dump_opts[] = {
	{ .name = "output", .short_name = 'o', .kind = CLI_OPT_STR, .off = offsetof(struct dump_cfg, out),
	  .arg = "FILE", .help = "the ELF core to write", .required = true },
	{ 0 },
};

static int do_dump_mem(int argc, char **argv)
{
	struct dump_cfg cfg = { 0 };
	const char *snapdir, *name, *out;
	int np = cli_parse(dump_opts, argc, argv, &cfg, NULL);

	if (np < 0)
		return EXIT_USAGE;
	if (np != 2)
		return p_usage("vm dump-mem: SNAPDIR and NAME, not %d arguments", np);
	snapdir = argv[1], name = argv[2], out = cfg.out;
	p_info("dump-mem: loading %s from %s (paused, no network)", name, snapdir);
	if (snap__dump_mem(snapdir, name, out))
		return p_err("%s", vmctl__errmsg());
	if (json_output)
		jw_value(json_pack("{s:s,s:s,s:s}", "snapshot", snapdir, "name", name, "core", out));
	else
		printf("%s: guest memory written to %s (ELF core)\n", name, out);
	return EXIT_OK;
}

static int do_rm(int argc, char **argv)
{
	json_t *a = json_array();
	char first[600] = "";
	int np = cli_parse(no_opts, argc, argv, NULL, NULL), bad = 0;

	if (np < 0)
		return json_decref(a), EXIT_USAGE;
	if (!np)
		return json_decref(a), p_usage("vm rm: which instances? (NAME...)");
	/* Each name tried; the first failure is the error. */
	for (int i = 1; i <= np; i++) {
		if (vm__remove(argv[i])) {
			if (!bad++)
				snprintf(first, sizeof(first), "%s", vmctl__errmsg());
			continue;
		}
		if (json_output)
			json_array_append_new(a, json_pack("{s:s,s:s}", "name", argv[i], "state", "removed"));
		else
			printf("%s: removed\n", argv[i]);
	}
	if (bad) {
		json_decref(a);
		return bad > 1 ? p_err("%s (and %d more could not be removed)", first, bad - 1) :
				 p_err("%s", first);
	}
	if (json_output)
		jw_value(json_pack("{s:o}", "removed", a));
	else
		json_decref(a);
	return EXIT_OK;
}

#define VERB(n, f, a, o, h) { .name = n, .fn = f, .args = a, .opts = o, .help = h }
const struct cmd cli_vm_verbs[] = {
	{ .name = "start", .fn = do_start, .args = "NAME", .opts = start_opts, .rest = true,
	  .help = "Start QEMU as instance NAME (arguments after -- go to QEMU as they are)." },
	VERB("adopt", do_adopt, "NAME", adopt_opts, "Register a QEMU started by someone else."),
	VERB("list", do_list, "", no_opts, "The instances, their state, pid, RAM and tap."),
	VERB("stop", do_stop, "NAME...", stop_opts, "Stop (pause) the VMs, all at once."),
	VERB("cont", do_cont, "NAME...", stop_opts, "Continue the VMs, all at once."),
	VERB("quit", do_quit, "NAME...", names_opts, "Quit the VMs."),
	VERB("rm", do_rm, "NAME...", no_opts, "Forget instances whose QEMU is gone (refused for a running one)."),
	VERB("save", do_save, "SNAPDIR [NAME...]", save_opts,
	     "Stop the VMs at once and save each (device state, memory image, disks) into SNAPDIR."),
	VERB("restore", do_restore, "SNAPDIR [NAME...]", restore_opts,
	     "Restore VMs from SNAPDIR (the memory image mapped copy-on-write)."),
	VERB("snapshot", do_snapshot, "SNAPDIR [NAME...]", snapshot_opts,
	     "A live snapshot: the VMs keep running while their state is written."),
	VERB("fork", do_fork, "SNAPDIR [NAME...]", fork_opts,
	     "Start N copies of each VM of SNAPDIR, sharing every page they do not write."),
	VERB("dump-mem", do_dump_mem, "SNAPDIR NAME", dump_opts, "A saved VM's memory as an ELF core."),
	{ 0 },
};

int do_vm(int argc, char **argv)
{
	return cmd_select(cli_vm_verbs, "vm", argc - 1, argv + 1);
}
