// SPDX-License-Identifier: MIT
/* stasis vm ...: QEMU VMs over QMP. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "loader/loader.h"
#include "vmctl/vmctl.h"

static bool is_opt(const char *a, const char *name) { return strcmp(a, name) == 0; }

/* NAME... or --all (every instance) into a list; 0 or a usage status. */
static int pick_names(int argc, char **argv, char ***names, int *n, bool need)
{
	bool all = false;
	char **v = calloc((size_t)argc + 1, sizeof(char *));
	int k = 0;

	for (int i = 0; i < argc; i++) {
		if (is_opt(argv[i], "--all"))
			all = true;
		else if (argv[i][0] == '-')
			return free(v), p_usage("unknown option '%s'", argv[i]);
		else if (vmctl__name_valid(argv[i]))
			return free(v), p_usage("bad VM name '%s'", argv[i]);
		else
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

static int need_arg(int argc, char **argv, int i)
{
	if (i + 1 >= argc) {
		p_usage("%s needs a value", argv[i]);
		return -1;
	}
	return 0;
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
	char *e;
	long v = strtol(s, &e, 10);

	if (!*s || *e || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

static int do_start(int argc, char **argv)
{
	struct vm_start_opts o = { .sz = sizeof(o) };
	const char *name = NULL;
	struct vm *vm;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **str = NULL;
		int *num = NULL, hi = 1 << 20;

		if (is_opt(a, "--")) {
			o.extra = argv + i + 1;
			break;
		}
		if (is_opt(a, "--paused")) { o.paused = true; continue; }
		if (is_opt(a, "--anon-ram")) { o.anon_ram = true; continue; }
		if (is_opt(a, "--qemu")) str = &o.qemu;
		else if (is_opt(a, "--accel")) str = &o.accel;
		else if (is_opt(a, "--kernel")) str = &o.kernel;
		else if (is_opt(a, "--initrd")) str = &o.initrd;
		else if (is_opt(a, "--append")) str = &o.append;
		else if (is_opt(a, "--run")) str = &o.run_file;
		else if (is_opt(a, "--tap")) str = &o.tap;
		else if (is_opt(a, "--mac")) str = &o.mac;
		else if (is_opt(a, "--netns")) str = &o.netns;
		else if (is_opt(a, "--disk")) str = &o.disk;
		else if (is_opt(a, "--mem-dir")) str = &o.mem_dir;
		else if (is_opt(a, "--mem")) num = &o.mem_mib;
		else if (is_opt(a, "--smp")) { num = &o.smp; hi = 64; }
		else if (is_opt(a, "--disk-size")) num = &o.disk_mib;
		else if (a[0] == '-')
			return p_usage("unknown option '%s'", a);
		else if (name)
			return p_usage("one VM per start: '%s' after '%s'", a, name);
		else {
			name = a;
			continue;
		}
		if (need_arg(argc, argv, i))
			return EXIT_USAGE;
		if (str)
			*str = argv[++i];
		else if (parse_int(argv[++i], 1, hi, num))
			return p_usage("%s wants a number from 1 to %d, not '%s'", a, hi, argv[i]);
	}
	if (!name)
		return p_usage("vm start NAME [--mem MIB] [--kernel F --initrd F --append S] "
			       "[--run SCRIPT] [--tap TAP [--mac MAC]] [--netns NS] "
			       "[--disk IMG|--disk-size MIB] [--accel A] [--paused] "
			       "[--mem-dir DIR|--anon-ram] [-- QEMU ARGS]");
	if (vmctl__name_valid(name))
		return p_usage("bad VM name '%s' (1-32 of A-Za-z0-9_.-)", name);
	if (o.disk && o.disk_mib)
		return p_usage("--disk and --disk-size exclude each other");
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

static int do_adopt(int argc, char **argv)
{
	const char *name = NULL, *qmp = NULL, *argv_file = NULL;
	struct vm *vm;

	for (int i = 1; i < argc; i++) {
		if (is_opt(argv[i], "--qmp") || is_opt(argv[i], "--argv-file")) {
			if (need_arg(argc, argv, i))
				return EXIT_USAGE;
			*(is_opt(argv[i], "--qmp") ? &qmp : &argv_file) = argv[i + 1];
			i++;
		} else if (argv[i][0] == '-') {
			return p_usage("unknown option '%s'", argv[i]);
		} else if (name) {
			return p_usage("one VM per adopt");
		} else {
			name = argv[i];
		}
	}
	if (!name || !qmp)
		return p_usage("vm adopt NAME --qmp SOCKET [--argv-file FILE]");
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

	if (argc > 1)
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

/* Open every connection first, then one pre-encoded command on all. */
static int broadcast(const char *verb, const char *cmd, int argc, char **argv)
{
	struct qmp **qs;
	struct vm **vms;
	char **names;
	int n, cnt, r, failed, first = -1;
	uint64_t t0 = 0, amin = UINT64_MAX, amax = 0;
	json_t *arr;
	bool seq = false;

	/* --sequential: one command, wait for its reply, the next: what a
	 * plain loop of QMP calls does (for comparison and benchmarks). */
	for (int i = 1; i < argc; i++)
		if (is_opt(argv[i], "--sequential")) {
			seq = true;
			memmove(argv + i, argv + i + 1, sizeof(char *) * (size_t)(argc - i - 1));
			argc--;
			break;
		}
	r = pick_names(argc - 1, argv + 1, &names, &n, true);
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
		r = p_err("%s: VM %s: %s%s", verb, names[first], qmp__errmsg(qs[first]),
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
	int n, r, cnt, bad = 0;

	r = pick_names(argc - 1, argv + 1, &names, &n, true);
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
	char lerr[LOADER_ERR_MAX], left[256];
	struct stasis_host h;
	struct vm_group *g;
	struct loader *l;
	size_t nd = 64;
	int nt = 0, r;

	if (o->live || loader__open(&l, lerr))
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

static int save_common(const char *snapdir, int argc, char **argv, bool live, bool resume,
		       bool quit, uint64_t bw)
{
	struct snap_opts o = { .sz = sizeof(o), .live = live, .resume = resume, .progress = true,
			       .max_bandwidth = bw, .quit = quit };
	struct snap_vm_result *res;
	uint64_t t0 = 0, amin = UINT64_MAX, amax = 0;
	char **names;
	int n, cnt, r;

	r = pick_names(argc, argv, &names, &n, false);
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

/* BYTES[K|M|G] per second. */
static int do_save(int argc, char **argv)
{
	int k = 0, i;
	bool resume = false, quit = false;
	char **rest = calloc((size_t)argc, sizeof(char *));
	const char *snapdir = NULL;
	uint64_t bw = 0;

	for (i = 1; i < argc; i++) {
		if (is_opt(argv[i], "--cont"))
			resume = true;
		else if (is_opt(argv[i], "--quit"))
			quit = true;
		else if (is_opt(argv[i], "--max-bandwidth")) {
			if (i + 1 >= argc || cli_bytes(argv[++i], &bw)) {
				free(rest);
				return p_usage("--max-bandwidth wants BYTES[K|M|G] per second");
			}
		}
		else if (!snapdir && argv[i][0] != '-')
			snapdir = argv[i];
		else
			rest[k++] = argv[i];
	}
	if (!snapdir) {
		free(rest);
		return p_usage("vm save SNAPDIR [NAME...|--all] [--cont|--quit] [--max-bandwidth B]");
	}
	if (resume && quit) {
		free(rest);
		return p_usage("--cont and --quit exclude each other");
	}
	i = save_common(snapdir, k, rest, false, resume, quit, bw);
	free(rest);
	return i;
}

static int do_snapshot(int argc, char **argv)
{
	int k = 0, i;
	bool live = false;
	char **rest = calloc((size_t)argc, sizeof(char *));
	const char *snapdir = NULL;

	for (i = 1; i < argc; i++) {
		if (is_opt(argv[i], "--live"))
			live = true;
		else if (!snapdir && argv[i][0] != '-')
			snapdir = argv[i];
		else
			rest[k++] = argv[i];
	}
	if (!snapdir || !live) {
		free(rest);
		return p_usage("vm snapshot --live SNAPDIR [NAME...|--all] (use 'vm save' "
			       "for a stopped snapshot)");
	}
	i = save_common(snapdir, k, rest, true, false, false, 0);
	free(rest);
	return i;
}

/* ---- restore / fork / dump-mem ----------------------------------------- */

static int parse_prefault(const char *v, int *out)
{
	static const char *const words[] = { "none", "cache", "all", NULL };

	for (int i = 0; words[i]; i++)
		if (!strcmp(v, words[i]))
			return *out = i, 0;
	return p_usage("--prefault wants none, cache or all, not '%s'", v);
}

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

static int do_restore(int argc, char **argv)
{
	const char *snapdir = NULL;
	char **names = calloc((size_t)argc, sizeof(char *)), **all = NULL;
	bool paused = false;
	int k = 0, n = 0, r, prefault = 0;

	for (int i = 1; i < argc; i++) {
		if (is_opt(argv[i], "--paused"))
			paused = true;
		else if (is_opt(argv[i], "--prefault")) {
			if (need_arg(argc, argv, i))
				return free(names), EXIT_USAGE;
			if ((r = parse_prefault(argv[++i], &prefault)))
				return free(names), r;
		} else if (argv[i][0] == '-')
			return free(names), p_usage("unknown option '%s'", argv[i]);
		else if (!snapdir)
			snapdir = argv[i];
		else if (vmctl__name_valid(argv[i]))
			return free(names), p_usage("bad VM name '%s'", argv[i]);
		else
			names[k++] = argv[i];
	}
	if (!snapdir)
		return free(names), p_usage("vm restore SNAPDIR [NAME...] [--paused] "
					    "[--prefault none|cache|all]");
	if (snap__open(snapdir, &all, &n)) {
		free(names);
		return p_err("%s", vmctl__errmsg());
	}
	r = restore_list(snapdir, k ? names : all, k ? k : n, 0, paused, prefault);
	for (int i = 0; i < n; i++)
		free(all[i]);
	free(all);
	free(names);
	return r;
}

static int do_fork(int argc, char **argv)
{
	const char *snapdir = NULL;
	char **names = calloc((size_t)argc, sizeof(char *)), **all = NULL;
	int k = 0, n = 0, copies = 0, r, prefault = 0;

	for (int i = 1; i < argc; i++) {
		if (is_opt(argv[i], "--prefault")) {
			if (need_arg(argc, argv, i))
				return free(names), EXIT_USAGE;
			if ((r = parse_prefault(argv[++i], &prefault)))
				return free(names), r;
		} else if (is_opt(argv[i], "--copies")) {
			if (need_arg(argc, argv, i))
				return free(names), EXIT_USAGE;
			if (parse_int(argv[++i], 1, 999, &copies))
				return free(names), p_usage("--copies wants 1 to 999, not '%s'", argv[i]);
		} else if (argv[i][0] == '-') {
			return free(names), p_usage("unknown option '%s'", argv[i]);
		} else if (!snapdir) {
			snapdir = argv[i];
		} else {
			names[k++] = argv[i];
		}
	}
	if (!snapdir || !copies)
		return free(names), p_usage("vm fork SNAPDIR --copies N [NAME...] "
					    "[--prefault none|cache|all]");
	if (snap__open(snapdir, &all, &n)) {
		free(names);
		return p_err("%s", vmctl__errmsg());
	}
	r = restore_list(snapdir, k ? names : all, k ? k : n, copies, false, prefault);
	for (int i = 0; i < n; i++)
		free(all[i]);
	free(all);
	free(names);
	return r;
}

static int do_dump_mem(int argc, char **argv)
{
	const char *snapdir = NULL, *name = NULL, *out = NULL;

	for (int i = 1; i < argc; i++) {
		if (is_opt(argv[i], "-o")) {
			if (need_arg(argc, argv, i))
				return EXIT_USAGE;
			out = argv[++i];
		} else if (argv[i][0] == '-') {
			return p_usage("unknown option '%s'", argv[i]);
		} else if (!snapdir) {
			snapdir = argv[i];
		} else if (!name) {
			name = argv[i];
		} else {
			return p_usage("extra argument '%s'", argv[i]);
		}
	}
	if (!snapdir || !name || !out)
		return p_usage("vm dump-mem SNAPDIR NAME -o FILE");
	p_info("dump-mem: loading %s from %s (paused, no network)", name, snapdir);
	if (snap__dump_mem(snapdir, name, out))
		return p_err("%s", vmctl__errmsg());
	if (json_output)
		jw_value(json_pack("{s:s,s:s,s:s}", "snapshot", snapdir, "name", name, "core", out));
	else
		printf("%s: guest memory written to %s (ELF core)\n", name, out);
	return EXIT_OK;
}

static const struct cmd vm_cmds[] = {
	{ "start",    do_start,    "NAME [--mem MIB] [--kernel F --initrd F --append S] [--run SCRIPT] "
				   "[--tap TAP [--mac MAC]] [--netns NS] [--disk IMG|--disk-size MIB] "
				   "[--accel A] [--paused] [--mem-dir DIR|--anon-ram] [-- QEMU ARGS]" },
	{ "adopt",    do_adopt,    "NAME --qmp SOCKET [--argv-file FILE]" },
	{ "list",     do_list,     "" },
	{ "stop",     do_stop,     "NAME...|--all [--sequential]" },
	{ "cont",     do_cont,     "NAME...|--all [--sequential]" },
	{ "quit",     do_quit,     "NAME...|--all" },
	{ "save",     do_save,     "SNAPDIR [NAME...|--all] [--cont|--quit] [--max-bandwidth B]" },
	{ "restore",  do_restore,  "SNAPDIR [NAME...] [--paused] [--prefault none|cache|all]" },
	{ "snapshot", do_snapshot, "--live SNAPDIR [NAME...|--all]" },
	{ "fork",     do_fork,     "SNAPDIR --copies N [NAME...] [--prefault none|cache|all]" },
	{ "dump-mem", do_dump_mem, "SNAPDIR NAME -o FILE" },
	{ 0 },
};

int do_vm(int argc, char **argv)
{
	return cmd_select(vm_cmds, "vm", argc - 1, argv + 1);
}
