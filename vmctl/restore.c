// SPDX-License-Identifier: MIT
/*
 * vm restore / fork / dump-mem: QEMU from the saved argv (runtime paths moved
 * to the new instance folder, each disk on a fresh overlay of its frozen
 * layer) with -S -incoming defer, then migrate-incoming from the state file
 * passed over QMP, then cont.
 */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "vmctl/internal.h"

const char *const vmctl__prefault_words[] = { "none", "cache", "all", NULL };

int vmctl__prefault_parse(const char *word)
{
	for (int i = 0; word && vmctl__prefault_words[i]; i++)
		if (!strcmp(word, vmctl__prefault_words[i]))
			return i;
	return -EINVAL;
}

/* @s with every @from replaced by @to (a new string). */
static char *replace_all(const char *s, const char *from, const char *to)
{
	size_t fl = strlen(from), tl = strlen(to), n = 0;
	const char *p;
	char *r, *w;

	if (!fl)
		return strdup(s);
	for (p = s; (p = strstr(p, from)); p += fl)
		n++;
	r = malloc(strlen(s) + n * (tl > fl ? tl - fl : 0) + 1);
	if (!r)
		return NULL;
	for (w = r, p = s;;) {
		const char *h = strstr(p, from);

		if (!h) {
			strcpy(w, p);
			break;
		}
		memcpy(w, p, (size_t)(h - p));
		w += h - p;
		memcpy(w, to, tl);
		w += tl;
		p = h + fl;
	}
	return r;
}

static void swap(char **slot, char *n)
{
	if (!n)
		return;
	free(*slot);
	*slot = n;
}

/* Options that belong to one launch, not to the VM: dropped from a saved argv. */
static int drop_count(const char *a)
{
	static const char *const with_arg[] = { "-qmp", "-incoming", "-pidfile", "-loadvm", NULL };

	if (!strcmp(a, "-S") || !strcmp(a, "-daemonize"))
		return 1;
	for (int i = 0; with_arg[i]; i++)
		if (!strcmp(a, with_arg[i]))
			return 2;
	return 0;
}

/*
 * The instance being replaced ran on top layers in its folder that nothing
 * else uses (snapshots keep frozen layers only): remove them, so restoring
 * thousands of times does not pile up overlays. A file a snapshot refers to,
 * or one with another hard link, is kept.
 */
static void drop_top_layers(struct vm *old, const char *dir, const json_t *frozen)
{
	size_t dl = strlen(dir), i, k;
	json_t *d, *f;

	json_array_foreach(json_object_get(old->j, "disks"), i, d) {
		const char *file = json_string_value(json_object_get(d, "file"));
		bool keep = false;
		struct stat st;

		if (!file || strncmp(file, dir, dl) || strncmp(file + dl, "/disk-", 6) ||
		    strchr(file + dl + 1, '/'))
			continue;
		json_array_foreach(frozen, k, f)
			keep |= !strcmp(file, json_string_value(json_object_get(f, "frozen")) ?: "");
		if (!keep && stat(file, &st) == 0 && st.st_nlink == 1)
			unlink(file);
	}
}

/* ---- fork: what each copy must have of its own ------------------------ */

struct moved {
	char from[4096], to[4300];
};

/* A runtime file (socket, log) of the VM outside its instance folder: the
 * copy gets one of the same name in its own folder. */
static int move_file(const char *as, const char *olddir, const char *dir, const char *path,
		     size_t len, struct moved *mv, int *nmv, int max, const char **to)
{
	static const char *const ours[] = { "vm.json", "qmp.sock", "qemu.log", "run.sh", NULL };
	size_t ol = olddir ? strlen(olddir) : 0, dl = strlen(dir);
	const char *base;
	char from[4096];

	*to = NULL;
	if (len == 0 || len >= sizeof(from))
		return 0;
	snprintf(from, sizeof(from), "%.*s", (int)len, path);
	/* files of the instance folder move with it, later */
	if ((ol && !strncmp(from, olddir, ol) && from[ol] == '/') ||
	    (!strncmp(from, dir, dl) && from[dl] == '/'))
		return 0;
	for (int i = 0; i < *nmv; i++)
		if (!strcmp(mv[i].from, from)) {
			*to = mv[i].to;
			return 0;
		}
	base = strrchr(from, '/') ? strrchr(from, '/') + 1 : from;
	for (int i = 0; ours[i]; i++)
		if (!strcmp(base, ours[i]) || !strncmp(base, "disk-", 5))
			return vm_seterr(-EEXIST, "VM %s: its file %s would take the place of the "
					 "copy's own %s/%s; fork refused", as, from, dir, base);
	for (int i = 0; i < *nmv; i++)
		if (!strcmp(strrchr(mv[i].to, '/') + 1, base))
			return vm_seterr(-EEXIST, "VM %s: files %s and %s have one name; a copy "
					 "keeps them in one folder; fork refused", as, mv[i].from, from);
	if (*nmv == max)
		return vm_seterr(-E2BIG, "VM %s: more than %d runtime files; fork refused", as, max);
	snprintf(mv[*nmv].from, sizeof(mv[*nmv].from), "%s", from);
	snprintf(mv[*nmv].to, sizeof(mv[*nmv].to), "%s/%s", dir, base);
	*to = mv[(*nmv)++].to;
	return 0;
}

/* @arg's value of @key, a file, moved (move_file). */
static int move_opt(char **arg, const char *key, const char *as, const char *olddir,
		    const char *dir, struct moved *mv, int *nmv, int max)
{
	size_t len;
	const char *v = opt_get(*arg, key, &len), *to;
	int r;

	if (!v)
		return 0;
	r = move_file(as, olddir, dir, v, len, mv, nmv, max, &to);
	if (!r && to)
		swap(arg, opt_set(*arg, key, to));
	return r;
}

/* -serial/-monitor/-parallel unix:PATH,... or file:PATH: PATH moved. */
static int move_backend(char **arg, const char *as, const char *olddir, const char *dir,
			struct moved *mv, int *nmv, int max)
{
	static const char *const kinds[] = { "unix:", "file:", "pipe:", NULL };
	const char *to;
	int r;

	for (int i = 0; kinds[i]; i++) {
		size_t kl = strlen(kinds[i]), len;
		char *nw;

		if (strncmp(*arg, kinds[i], kl))
			continue;
		len = strcspn(*arg + kl, ",");
		r = move_file(as, olddir, dir, *arg + kl, len, mv, nmv, max, &to);
		if (r || !to)
			return r;
		if (asprintf(&nw, "%s%s%s", kinds[i], to, *arg + kl + len) < 0)
			return vm_seterr(-ENOMEM, "out of memory");
		swap(arg, nw);
		return 0;
	}
	return 0;
}

/* Whether the NIC @val of option @o is on user networking (slirp: private to
 * each QEMU, so the default MAC meets no other copy). */
static bool nic_on_user(char **out, const char *val, const char *o, const char *drv)
{
	const char *v;
	char *id, *found;
	bool user;
	size_t l;

	if (strcmp(o, "-device"))
		return !strcmp(o, "-nic") && !strcmp(drv, "user");
	if (!(v = opt_get(val, "netdev", &l)) || !(id = strndup(v, l)))
		return false;
	found = find_opt(out, "-netdev", "user", "id", id, "id");
	user = found != NULL;
	free(id);
	free(found);
	return user;
}

static int refuse(const char *as, const char *opt, const char *val, const char *why)
{
	return vm_seterr(-EINVAL, "VM %s: %s %s %s: copies cannot each have their own; fork "
			 "refused", as, opt, val ? val : "", why);
}

/*
 * A fork copy runs beside the VM and its other copies, so what QEMU makes
 * from the command line must be the copy's own: each tap gets the suffix cN,
 * each NIC a MAC of its own (N added to the NIC part), runtime files outside
 * the instance folder (consoles, logs: an adopted VM's) go into the copy's
 * folder. What cannot be made its own (a listening TCP port, a display, a NIC
 * without a MAC in the command line, which would be QEMU's default for every
 * copy) is refused, before anything is started. @j (the saved vm.json) gets
 * the copy's tap, mac, console and console_log; @tap the copy's tap ("" if
 * none).
 */
static int make_copy_private(char **out, int copy, const char *olddir, const char *dir,
			     const char *as, json_t *j, char *tap, size_t taplen)
{
	const char *vtap = json_string_value(json_object_get(j, "tap"));
	const char *vmac = json_string_value(json_object_get(j, "mac"));
	struct moved *mv = calloc(32, sizeof(*mv));
	int nmv = 0, r = 0;

	tap[0] = 0;
	if (!mv)
		return vm_seterr(-ENOMEM, "out of memory");
	for (int a = 1; out[a] && !r; a++) {
		const char *o = out[a];
		char drv[32], nv[64];
		size_t l;
		const char *v;

		if (!strcmp(o, "-s"))
			r = refuse(as, o, NULL, "(a gdb server on TCP port 1234)");
		if (r || !out[a + 1] || o[0] != '-')
			continue;
		opt_driver(out[a + 1], drv, sizeof(drv));
		if (!strcmp(o, "-vnc") || !strcmp(o, "-spice") || !strcmp(o, "-gdb")) {
			if (strcmp(out[a + 1], "none"))
				r = refuse(as, o, out[a + 1], "(a listening port)");
		} else if (!strcmp(o, "-chardev")) {
			if (opt_get(out[a + 1], "port", &l) && opt_on(out[a + 1], "server"))
				r = refuse(as, o, out[a + 1], "(a listening TCP port)");
			if (!r)
				r = move_opt(&out[a + 1], "path", as, olddir, dir, mv, &nmv, 32);
			if (!r)
				r = move_opt(&out[a + 1], "logfile", as, olddir, dir, mv, &nmv, 32);
		} else if (!strcmp(o, "-serial") || !strcmp(o, "-monitor") || !strcmp(o, "-parallel")) {
			if ((!strncmp(out[a + 1], "tcp:", 4) || !strncmp(out[a + 1], "telnet:", 7)) &&
			    opt_on(out[a + 1], "server"))
				r = refuse(as, o, out[a + 1], "(a listening TCP port)");
			else
				r = move_backend(&out[a + 1], as, olddir, dir, mv, &nmv, 32);
		} else if (!strcmp(o, "-D")) {
			const char *to;

			r = move_file(as, olddir, dir, out[a + 1], strlen(out[a + 1]), mv, &nmv, 32, &to);
			if (!r && to)
				swap(&out[a + 1], strdup(to));
		}
		if (r)
			break;
		/* Networks: taps, MACs, forwarded ports. */
		if (!strcmp(o, "-netdev") || !strcmp(o, "-nic") || !strcmp(o, "-net")) {
			if (opt_get(out[a + 1], "hostfwd", &l) || opt_get(out[a + 1], "guestfwd", &l) ||
			    opt_get(out[a + 1], "listen", &l)) {
				r = refuse(as, o, out[a + 1], "(a listening port)");
				break;
			}
			if (opt_get(out[a + 1], "fd", &l) || opt_get(out[a + 1], "fds", &l)) {
				r = refuse(as, o, out[a + 1], "(a tap passed as a file descriptor)");
				break;
			}
			v = opt_get(out[a + 1], "ifname", &l);
			if (v) {
				if (l + snprintf(nv, sizeof(nv), "c%d", copy) > 15) {
					r = vm_seterr(-EINVAL, "VM %s: tap %.*sc%d: a name of 15 "
						      "characters at most", as, (int)l, v, copy);
					break;
				}
				snprintf(nv, sizeof(nv), "%.*sc%d", (int)l, v, copy);
				if (vtap && strlen(vtap) == l && !strncmp(vtap, v, l) && !tap[0])
					snprintf(tap, taplen, "%s", nv);
				swap(&out[a + 1], opt_set(out[a + 1], "ifname", nv));
			}
		}
		if ((!strcmp(o, "-device") && opt_get(out[a + 1], "netdev", &l)) ||
		    (!strcmp(o, "-nic") && strcmp(drv, "none")) ||
		    (!strcmp(o, "-net") && !strcmp(drv, "nic"))) {
			char mac[32], nm[32];

			v = opt_get(out[a + 1], "mac", &l);
			if (!v && !nic_on_user(out, out[a + 1], o, drv)) {
				r = vm_seterr(-EINVAL, "VM %s: NIC %s has no mac=, so every copy would "
					      "have QEMU's default MAC; fork refused (give it a mac=)",
					      as, out[a + 1]);
				break;
			}
			if (!v)
				continue;
			snprintf(mac, sizeof(mac), "%.*s", (int)(l < 31 ? l : 31), v);
			if (mac_add(mac, (unsigned)copy, nm, sizeof(nm))) {
				r = vm_seterr(-EINVAL, "VM %s: NIC %s: mac %s is not a MAC", as,
					      out[a + 1], mac);
				break;
			}
			if (vmac && !strcasecmp(vmac, mac))
				json_object_set_new(j, "mac", json_string(nm));
			swap(&out[a + 1], opt_set(out[a + 1], "mac", nm));
		}
	}
	/* vm.json names the copy's console, not the VM's */
	for (int i = 0; i < nmv && !r; i++) {
		static const char *const keys[] = { "console", "console_log", NULL };

		for (int k = 0; keys[k]; k++) {
			const char *c = json_string_value(json_object_get(j, keys[k]));

			if (c && !strcmp(c, mv[i].from))
				json_object_set_new(j, keys[k], json_string(mv[i].to));
		}
	}
	free(mv);
	return r;
}

static int load_snap_vm(const char *snapdir, const char *name, json_t **j)
{
	char p[4300];
	json_error_t je;
	char **names;
	int n, r, found = 0;

	r = snap__open(snapdir, &names, &n);
	if (r)
		return r;
	for (int i = 0; i < n; i++) {
		found |= !strcmp(names[i], name);
		free(names[i]);
	}
	free(names);
	if (!found)
		return vm_seterr(-ENOENT, "snapshot %s holds no VM '%s'", snapdir, name);
	snprintf(p, sizeof(p), "%s/%s/vm.json", snapdir, name);
	*j = json_load_file(p, 0, &je);
	if (!*j || !json_is_array(json_object_get(*j, "argv")) ||
	    !json_is_object(json_object_get(*j, "snapshot"))) {
		json_decref(*j);
		return vm_seterr(-EINVAL, "%s: %s", p, *j ? "not a saved vm.json" : je.text);
	}
	return 0;
}

/*
 * The RAM backend of the restored QEMU (@arg: the -object value). A snapshot
 * with a memory image: the image, mapped privately (share=off: pages are
 * copied when the guest writes them, the image never is), so the restore
 * loads only the device state and copies of one snapshot share what they do
 * not write. A stream snapshot of a VM with a RAM file: a new file of its
 * own, shared, so its next save is an image again. *ram: the file, *shared.
 */
static int ram_backend(char **arg, const char *snapdir, const char *name, const json_t *mem,
		       const struct restore_opts *o, const char *as, char *ram, size_t ramlen,
		       bool *shared)
{
	const char *img = json_string_value(json_object_get(mem, "image"));
	char *abs, *a;
	struct stat st;
	int r;

	if (!img) {
		if ((r = memfile_new_path(o->mem_dir, as, ram, ramlen)))
			return r;
		*shared = true;
	} else {
		json_int_t want = json_integer_value(json_object_get(mem, "bytes"));
		char p[4400];

		if (strchr(img, '/') || !strcmp(img, "..") || !strcmp(img, "."))
			return vm_seterr(-EINVAL, "%s/%s/vm.json: bad memory image name '%s'",
					 snapdir, name, img);
		snprintf(p, sizeof(p), "%s/%s/%s", snapdir, name, img);
		if (stat(p, &st) < 0)
			return vm_seterr(-errno, "memory image %s: %s", p, strerror(errno));
		if (st.st_size != want)
			return vm_seterr(-EINVAL, "memory image %s: %lld bytes where the snapshot "
					 "says %lld", p, (long long)st.st_size, (long long)want);
		abs = realpath(p, NULL);
		if (!abs)
			return vm_seterr(-errno, "%s: %s", p, strerror(errno));
		snprintf(ram, ramlen, "%s", abs);
		free(abs);
		if (strchr(ram, ','))
			return vm_seterr(-EINVAL, "memory image %s: a path with a comma cannot be "
					 "passed to QEMU", ram);
		*shared = false;
		if (o->prefault == VM_PREFAULT_CACHE && (r = memfile_prefetch(ram)))
			return vm_seterr(r, "reading %s ahead: %s", ram, strerror(-r));
	}
	a = opt_set(*arg, "mem-path", ram);
	swap(arg, a);
	a = a ? opt_set(*arg, "share", *shared ? "on" : "off") : NULL;
	if (!a) {
		if (*shared)
			unlink(ram);
		return vm_seterr(-EINVAL, "VM %s: memory backend %s without mem-path= and share=",
				 as, *arg);
	}
	swap(arg, a);
	return 0;
}

/* QEMU leaves the image's RAM out of the stream it reads, as the save did. */
static int ignore_shared(struct qmp *q, const char *as)
{
	json_t *caps = json_pack("{s:[{s:s,s:b}]}", "capabilities", "capability",
				 "x-ignore-shared", "state", 1);
	int r = qmp__call(q, "migrate-set-capabilities", caps, NULL);

	if (r)
		return vm_seterr(r, "VM %s: this QEMU cannot load a snapshot with a memory image "
				 "(x-ignore-shared: %s)", as, qmp_errmsg(q));
	return 0;
}

int snap__restore(const char *snapdir, const char *name, const struct restore_opts *opts,
		  double *load_ms)
{
	struct restore_opts o;
	const char *root, *as, *olddir, *oldtap;
	char dir[4096], qmp[4300], path[4400], tag[48], copyname[40], copytap[64], ram[4300] = "";
	json_t *j = NULL, *snap, *disks, *d, *newdisks = NULL, *st = NULL, *mem;
	bool ram_shared = false, image;
	useconds_t poll_us = 500;
	int bi, polls = 0;
	char **argv = NULL, **out = NULL;
	struct qmp *q = NULL;
	struct vm *old = NULL, *vm = NULL;
	uint64_t t0;
	size_t i;
	pid_t pid = 0;
	int r, n, k = 0, fd, used = 0;

	if (UTIL_OPTS_LOAD(o, opts))
		return vm_seterr(-EINVAL, "restore_opts: bad sz %zu", opts->sz);
	if (o.timeout_ms <= 0)
		o.timeout_ms = 600000;
	root = o.root ? o.root : vmctl__root();
	as = o.as ? o.as : name;
	if (o.copy > 999)
		return vm_seterr(-EINVAL, "copy number %d: 999 at most", o.copy);
	if (o.copy > 0 && !o.as) {
		snprintf(copyname, sizeof(copyname), "%.32s-c%d", name, o.copy);
		as = copyname;
	}
	if (vmctl__name_valid(as))
		return vm_seterr(-EINVAL, "bad VM name '%s' (1-32 of A-Za-z0-9_.-)", as);
	r = load_snap_vm(snapdir, name, &j);
	if (r)
		return r;
	snap = json_object_get(j, "snapshot");
	olddir = json_string_value(json_object_get(snap, "dir"));
	oldtap = json_string_value(json_object_get(j, "tap"));
	if (o.tap && strlen(o.tap) > 15) {
		r = vm_seterr(-EINVAL, "tap name %s is too long (15 characters at most)", o.tap);
		goto out;
	}
	vmctl__instance_dir(root, as, dir, sizeof(dir));
	snprintf(qmp, sizeof(qmp), "%s/qmp.sock", dir);
	if (strlen(qmp) >= 108) {
		r = vm_seterr(-ENAMETOOLONG, "QMP socket path too long for a unix socket: %s", qmp);
		goto out;
	}
	argv = argv_from_json(json_object_get(j, "argv"));
	n = 0;
	while (argv && argv[n])
		n++;
	out = argv ? calloc((size_t)n + 8, sizeof(char *)) : NULL;
	if (!out) {
		r = vm_seterr(-ENOMEM, "VM %s: out of memory", as);
		goto out;
	}
	for (int a = 0, w = 0; a < n; a++) {
		int drop = a ? drop_count(argv[a]) : 0;

		if (drop) {
			a += drop - 1;
			continue;
		}
		out[w++] = strdup(argv[a]);
	}
	/* Before anything is touched: every saved disk must be found in the
	 * command line (a QEMU left on its path would write to the frozen
	 * layer), and a copy that cannot be made its own is refused. */
	json_array_foreach(json_object_get(snap, "disks"), i, d) {
		const char *ap = json_string_value(json_object_get(d, "argv_path"));
		bool found = false;

		if (!ap || !json_string_value(json_object_get(d, "frozen"))) {
			r = vm_seterr(-EINVAL, "%s/%s/vm.json: a disk without argv_path/frozen",
				      snapdir, name);
			goto out;
		}
		for (int a = 1; out[a] && !found; a++)
			found = arg_has_path(out[a], ap);
		if (!found) {
			r = vm_seterr(-EINVAL, "%s/%s/vm.json: disk %s is not in the saved command line",
				      snapdir, name, ap);
			goto out;
		}
	}
	if (o.copy > 0) {
		r = make_copy_private(out, o.copy, olddir, dir, as, j, copytap, sizeof(copytap));
		if (r)
			goto out;
		if (copytap[0])
			o.tap = copytap;
	}
	/* The instance it replaces goes first. */
	if (vm_load_at(root, as, &old) == 0) {
		r = vm__quit(old, 5000);
		if (r && r != -ESRCH) {
			vm__free(old);
			goto out;
		}
		drop_top_layers(old, dir, json_object_get(snap, "disks"));
		vm__free(old);
	}
	r = util_mkdir_p(dir, 0755);
	if (r) {
		vm_seterr(r, "cannot create %s: %s", dir, strerror(-r));
		goto out;
	}
	/* Disks: a fresh overlay of each frozen layer. */
	layer_tag(tag, sizeof(tag));
	newdisks = json_array();
	disks = json_object_get(snap, "disks");
	json_array_foreach(disks, i, d) {
		const char *ap = json_string_value(json_object_get(d, "argv_path"));
		const char *fz = json_string_value(json_object_get(d, "frozen"));
		const char *fmt = json_string_value(json_object_get(d, "format"));
		char ovl[4300];

		snprintf(ovl, sizeof(ovl), "%s/disk-r%s-%d.qcow2", dir, tag, k++);
		if (access(ovl, F_OK) == 0) {
			r = vm_seterr(-EEXIST, "overlay %s exists already", ovl);
			goto out;
		}
		r = qcow2_create(ovl, fz, 0);
		if (r)
			goto out;
		json_array_append_new(newdisks, json_pack("{s:s,s:s}", "file", ovl, "backing", fz));
		/* Wherever the save found the disk ("file=PATH" or a lone
		 * "-hda PATH"): a QEMU left on PATH would write to the frozen
		 * layer. */
		for (int a = 1; out[a]; a++) {
			char *rw = replace_path(out[a], ap, ovl);

			if (!rw)
				continue;
			swap(&out[a], rw);
			used++;
			/* The overlay is qcow2 whatever the frozen layer is. */
			if (fmt && strcmp(fmt, "qcow2"))
				swap(&out[a], opt_set(out[a], "format", "qcow2"));
		}
		if (!used) {	/* found above: only out of memory gets here */
			r = vm_seterr(-ENOMEM, "VM %s: out of memory", as);
			goto out;
		}
		used = 0;
	}
	/* Runtime files: from the old instance folder to the new one. */
	if (olddir && strcmp(olddir, dir)) {
		char from[4200], to[4200];

		snprintf(from, sizeof(from), "%s/", olddir);
		snprintf(to, sizeof(to), "%s/", dir);
		for (int a = 0; out[a]; a++)
			swap(&out[a], replace_all(out[a], from, to));
	}
	/* Another tap asked for (a copy's taps are its own already). */
	for (int a = 1; out[a] && o.tap && oldtap && o.copy <= 0; a++) {
		size_t l;
		const char *v = opt_get(out[a], "ifname", &l);

		if (v && l == strlen(oldtap) && !strncmp(v, oldtap, l))
			swap(&out[a], opt_set(out[a], "ifname", o.tap));
	}
	/* The boot script QEMU reads at start. */
	snprintf(path, sizeof(path), "%s/%s/run.sh", snapdir, name);
	if (access(path, R_OK) == 0) {
		char dst[4300];

		snprintf(dst, sizeof(dst), "%s/run.sh", dir);
		if ((r = util_copy_file(path, dst, 0, false))) {
			vm_seterr(r, "cannot copy %s to %s: %s", path, dst, strerror(-r));
			goto out;
		}
	}
	/* RAM: the snapshot's image, or a file of its own. */
	mem = json_object_get(snap, "memory");
	image = json_string_value(json_object_get(mem, "image")) != NULL;
	bi = memfile_argv_backend(out);
	if (!image && json_object_get(mem, "image")) {	/* never a stream without the RAM */
		r = vm_seterr(-EINVAL, "%s/%s/vm.json: memory.image is not a file name",
			      snapdir, name);
		goto out;
	}
	if (image && bi < 0) {
		r = vm_seterr(-EINVAL, "%s/%s: a memory image, but no memory-backend-file in the "
			      "saved command line", snapdir, name);
		goto out;
	}
	if (bi >= 0 && (r = ram_backend(&out[bi], snapdir, name, mem, &o, as, ram, sizeof(ram),
					&ram_shared)))
		goto out;
	for (n = 0; out[n]; n++)
		;
	out[n++] = strdup("-qmp");
	if (asprintf(&out[n], "unix:%s,server=on,wait=off", qmp) < 0)
		out[n] = NULL;
	out[++n] = NULL;
	if (!out[n - 2] || !out[n - 1]) {
		r = vm_seterr(-ENOMEM, "out of memory");
		goto out;
	}
	{
		/* Saved for the next restore without the one-launch options. */
		json_t *saved = argv_to_json(out);

		out[n++] = strdup("-S");
		out[n++] = strdup("-incoming");
		out[n++] = strdup("defer");
		out[n] = NULL;
		if (!saved || !out[n - 3] || !out[n - 2] || !out[n - 1]) {
			json_decref(saved);
			r = vm_seterr(-ENOMEM, "out of memory");
			goto out;
		}
		/* Every page touched before the guest runs: a private copy
		 * of the whole image, for this launch only. */
		if (bi >= 0 && !ram_shared && o.prefault == VM_PREFAULT_ALL) {
			char *pre;

			if (asprintf(&pre, "%s,prealloc=on", out[bi]) < 0) {
				json_decref(saved);
				r = vm_seterr(-ENOMEM, "out of memory");
				goto out;
			}
			swap(&out[bi], pre);
		}
		snprintf(path, sizeof(path), "%s/qemu.log", dir);
		t0 = util_now_ns();
		r = qemu_spawn(out, o.net_none ? QEMU_NETNS_PRIVATE :
			       json_string_value(json_object_get(j, "netns")), path, qmp,
			       30000, &pid, &q);
		if (r) {
			json_decref(saved);
			goto out;
		}
		json_object_set_new(j, "argv", saved);
	}
	if (image && (r = ignore_shared(q, as)))
		goto kill;
	snprintf(path, sizeof(path), "%s/%s/state", snapdir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = vm_seterr(-errno, "%s: %s", path, strerror(errno));
		goto kill;
	}
	r = qmp__getfd(q, "stasis-state", fd);
	close(fd);
	if (!r)
		r = qmp__call(q, "migrate-incoming", json_pack("{s:s}", "uri", "fd:stasis-state"),
			      NULL);
	if (r) {
		vm_seterr(r, "VM %s: %s", as, qmp_errmsg(q));
		goto kill;
	}
	for (uint64_t end = util_now_ns() + (uint64_t)o.timeout_ms * 1000000ull;;) {
		const char *s;

		json_decref(st);
		st = NULL;
		r = qmp__call(q, "query-migrate", NULL, &st);
		if (r) {
			char line[300];

			usleep(50000);
			snprintf(path, sizeof(path), "%s/qemu.log", dir);
			last_line(path, line, sizeof(line));
			vm_seterr(r, "VM %s: loading the state: %s%s%s", as, qmp_errmsg(q),
				  line[0] ? "; QEMU said: " : "", line);
			goto kill;
		}
		s = json_string_value(json_object_get(st, "status"));
		if (s && !strcmp(s, "completed"))
			break;
		if (s && (!strcmp(s, "failed") || !strcmp(s, "cancelled"))) {
			const char *e = json_string_value(json_object_get(st, "error-desc"));

			r = vm_seterr(-EIO, "VM %s: loading the state failed: %s", as,
				      e ? e : "no reason given (see qemu.log)");
			goto kill;
		}
		if (util_now_ns() > end) {
			r = vm_seterr(-ETIMEDOUT, "VM %s: state not loaded in %d ms", as,
				      o.timeout_ms);
			goto kill;
		}
		/* Every 0.5 ms for the first 10 ms (an image's device state
		 * loads in a few), then less and less often: each look
		 * interrupts the load of a stream. */
		usleep(poll_us);
		if (++polls > 20)
			poll_us = poll_us < 16000 ? poll_us * 2 : 20000;
	}
	if (!o.paused) {
		r = qmp__call(q, "cont", NULL, NULL);
		if (r) {
			vm_seterr(r, "VM %s: %s", as, qmp_errmsg(q));
			goto kill;
		}
	}
	if (load_ms)
		*load_ms = (double)(util_now_ns() - t0) / 1e6;
	json_object_del(j, "snapshot");
	json_object_set_new(j, "name", json_string(as));
	json_object_set_new(j, "qmp", json_string(qmp));
	json_object_set_new(j, "pid", json_integer(pid));
	json_object_set_new(j, "disks", json_incref(newdisks));
	json_object_set_new(j, "started", json_integer(time(NULL)));
	json_object_set_new(j, "restored_from", json_pack("{s:s,s:s}", "snapshot", snapdir,
							  "name", name));
	if (o.tap)
		json_object_set_new(j, "tap", json_string(o.tap));
	if (ram[0])
		json_object_set_new(j, "ram", json_pack("{s:s,s:b}", "file", ram, "shared",
							ram_shared));
	else
		json_object_del(j, "ram");
	vm = calloc(1, sizeof(*vm));
	snprintf(vm->name, sizeof(vm->name), "%s", as);
	snprintf(vm->dir, sizeof(vm->dir), "%s", dir);
	vm->j = json_incref(j);
	r = vm_store(vm);
	vm__free(vm);
	if (!r)
		goto out;
kill:
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
out:
	/* A restore that failed leaves no overlay and no RAM file behind. */
	json_array_foreach(r ? newdisks : NULL, i, d)
		unlink(json_string_value(json_object_get(d, "file")));
	if (r && ram_shared)
		unlink(ram);
	json_decref(st);
	qmp__close(q);
	json_decref(newdisks);
	json_decref(j);
	argv_free(argv);
	argv_free(out);
	return r;
}

int snap__dump_mem(const char *snapdir, const char *name, const char *outpath)
{
	char root[] = "/tmp/stasis-dump.XXXXXX";
	struct restore_opts ro = { .sz = sizeof(ro), .paused = true, .net_none = true };
	struct qmp_opts qo = { .sz = sizeof(qo), .timeout_ms = 600000 };
	struct vm *vm = NULL;
	struct qmp *q = NULL;
	int fd, r;

	fd = open(outpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return vm_seterr(-errno, "%s: %s", outpath, strerror(errno));
	if (!mkdtemp(root)) {
		close(fd);
		return vm_seterr(-errno, "mkdtemp: %s", strerror(errno));
	}
	ro.root = root;
	r = snap__restore(snapdir, name, &ro, NULL);
	if (r)
		goto out;
	r = vm_load_at(root, name, &vm);
	if (!r) {
		r = qmp__connect(vm__qmp_path(vm), &qo, &q);
	}
	if (!r)
		r = qmp__getfd(q, "stasis-dump", fd);
	if (!r)
		r = qmp__call(q, "dump-guest-memory",
			      json_pack("{s:b,s:s}", "paging", 0, "protocol", "fd:stasis-dump"),
			      NULL);
	if (r && q)
		vm_seterr(r, "dump-guest-memory: %s", qmp_errmsg(q));
	qmp__close(q);
	if (vm)
		vm__quit(vm, 5000);
out:
	vm__free(vm);
	close(fd);
	if (r)
		unlink(outpath);
	util_rm_rf(root);
	return r;
}

/* ---- several at once ---------------------------------------------------- */

struct restore_job {
	const char *snapdir, *name;
	const struct restore_opts *opts;
	pthread_t th;
	bool started;
	int ret;
	char msg[512];
};

static void *restore_thread(void *x)
{
	struct restore_job *j = x;

	j->ret = snap__restore(j->snapdir, j->name, j->opts, NULL);
	if (j->ret)
		snprintf(j->msg, sizeof(j->msg), "%s", vmctl__errmsg());
	return NULL;
}

int snap__restore_all(const char *snapdir, char **names, int n, const struct restore_opts *opts)
{
	struct restore_job *j = calloc((size_t)(n > 0 ? n : 1), sizeof(*j));
	int ret = 0;

	if (!j)
		return vm_seterr(-ENOMEM, "out of memory");
	for (int i = 0; i < n; i++) {
		j[i] = (struct restore_job){ .snapdir = snapdir, .name = names[i], .opts = opts };
		j[i].started = !pthread_create(&j[i].th, NULL, restore_thread, &j[i]);
		if (!j[i].started)
			restore_thread(&j[i]);	/* no thread to be had: here, then */
	}
	for (int i = 0; i < n; i++) {
		if (j[i].started)
			pthread_join(j[i].th, NULL);
		if (j[i].ret && !ret)
			ret = vm_seterr(j[i].ret, "restoring %s: %s", names[i], j[i].msg);
	}
	free(j);
	return ret;
}
