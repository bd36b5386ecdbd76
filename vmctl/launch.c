// SPDX-License-Identifier: MIT
/* Launching QEMU for an instance (vm start), and adopting one (vm adopt). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "vmctl/internal.h"

/* The last line of @path (QEMU's own complaint, usually). */
void last_line(const char *path, char *buf, size_t len)
{
	char b[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *s, *e;

	buf[0] = 0;
	if (fd < 0)
		return;
	if (lseek(fd, 0, SEEK_END) > (off_t)sizeof(b) - 1)
		lseek(fd, -(off_t)(sizeof(b) - 1), SEEK_END);
	else
		lseek(fd, 0, SEEK_SET);
	n = read(fd, b, sizeof(b) - 1);
	close(fd);
	if (n <= 0)
		return;
	b[n] = 0;
	while (n > 0 && (b[n - 1] == '\n' || b[n - 1] == '\r'))
		b[--n] = 0;
	e = b + n;
	s = e;
	while (s > b && s[-1] != '\n')
		s--;
	n = (ssize_t)strlen(s);
	if ((size_t)n >= len)
		n = (ssize_t)len - 1;
	memcpy(buf, s, (size_t)n);
	buf[n] = 0;
}

int qemu_spawn(char **argv, const char *netns, const char *logpath, const char *qmp_path,
	       int timeout_ms, pid_t *pidp, struct qmp **qp)
{
	struct qmp_opts o = { .sz = sizeof(o), .timeout_ms = 5000 };
	int nsfd = -1, logfd, st;
	char err[600];
	pid_t pid;

	*qp = NULL;
	if (netns && !strcmp(netns, QEMU_NETNS_PRIVATE)) {
		nsfd = -2;
	} else if (netns && *netns) {
		char p[300];

		snprintf(p, sizeof(p), "/run/netns/%s", netns);
		nsfd = open(p, O_RDONLY | O_CLOEXEC);
		if (nsfd < 0)
			return vm_seterr(-errno, "network namespace %s: %s", netns, strerror(errno));
	}
	logfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (logfd < 0) {
		int e = errno;

		if (nsfd >= 0)
			close(nsfd);
		return vm_seterr(-e, "%s: %s", logpath, strerror(e));
	}
	unlink(qmp_path);	/* a stale socket of a dead QEMU */
	pid = fork();
	if (pid < 0)
		return vm_seterr(-errno, "fork: %s", strerror(errno));
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY);

		setsid();	/* not killed with the terminal that ran stasis */
		if (nsfd == -2 && unshare(CLONE_NEWNET) < 0) {
			dprintf(logfd, "stasis: unshare(CLONE_NEWNET): %s\n", strerror(errno));
			_exit(126);
		}
		if (nsfd >= 0 && setns(nsfd, CLONE_NEWNET) < 0) {
			dprintf(logfd, "stasis: setns %s: %s\n", netns, strerror(errno));
			_exit(126);
		}
		dup2(nul, 0);
		dup2(logfd, 1);
		dup2(logfd, 2);
		execvp(argv[0], argv);
		dprintf(2, "stasis: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(logfd);
	if (nsfd >= 0)
		close(nsfd);
	*pidp = pid;
	/* Polled every 1 ms: a restore from a memory image is running again
	 * within a few ms of the socket appearing. */
	for (int t = 0;; t += 1) {
		int r;

		if (waitpid(pid, &st, WNOHANG) == pid) {
			char line[400];

			last_line(logpath, line, sizeof(line));
			return vm_seterr(-ECHILD, "QEMU exited at start (status %d): %s",
					 WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st),
					 line[0] ? line : "no message");
		}
		if (access(qmp_path, F_OK) == 0) {
			r = qmp__connect(qmp_path, &o, qp);
			if (!r)
				return 0;
			snprintf(err, sizeof(err), "%s", vmctl__errmsg());
			if (r != -ECONNREFUSED && r != -ENOENT) {
				char line[400];
				bool exited = false;

				/* Usually QEMU gave up at start: say why. */
				for (int w = 0; w < 100 && !exited; w++) {
					exited = waitpid(pid, &st, WNOHANG) == pid;
					if (!exited)
						usleep(10000);
				}
				if (!exited) {
					kill(pid, SIGKILL);
					waitpid(pid, NULL, 0);
					return vm_seterr(r, "%s", err);
				}
				last_line(logpath, line, sizeof(line));
				return vm_seterr(-ECHILD, "QEMU exited at start: %s",
						 line[0] ? line : err);
			}
		}
		if (t > timeout_ms) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return vm_seterr(-ETIMEDOUT, "QEMU did not open its QMP socket within %d ms",
					 timeout_ms);
		}
		usleep(1000);
	}
}

/* ---- vm start ---------------------------------------------------------- */

struct args {
	char **v;
	int n, cap;
	bool oom;	/* an argument was lost: the whole list is refused */
};

static void add(struct args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct args *a, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (a->oom)
		return;
	if (a->n + 2 > a->cap) {
		int cap = a->cap ? a->cap * 2 : 32;
		char **v = realloc(a->v, sizeof(char *) * (size_t)cap);

		if (!v) {
			a->oom = true;
			return;
		}
		a->v = v, a->cap = cap;
	}
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0) {
		va_end(ap);
		a->oom = true;
		return;
	}
	va_end(ap);
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
}

static bool has_comma(const char *s) { return s && strchr(s, ','); }

static char *abspath(const char *p)
{
	char *r = realpath(p, NULL);

	return r ? r : strdup(p);
}

int vm__start(const char *name, const struct vm_start_opts *opts)
{
	struct vm_start_opts o;
	const char *root = vmctl__root();
	char dir[4096], path[4300], qmp[4300], disk[4300] = "", genmac[20], ram[4300] = "";
	struct args a = { 0 };
	struct qmp *q = NULL;
	struct vm *vm = NULL;
	json_t *j, *disks;
	pid_t pid;
	int r;

	if (UTIL_OPTS_LOAD(o, opts))
		return vm_seterr(-EINVAL, "vm_start_opts: bad sz %zu", opts->sz);
	r = instance_dir_checked(root, name, dir, sizeof(dir));
	if (r)
		return r;
	if (vm__load(name, &vm) == 0) {
		char st[32];

		r = vm__status(vm, st, sizeof(st));
		if (!r) {
			vm__free(vm);
			return vm_seterr(-EEXIST, "VM %s exists and runs (%s); quit it first", name, st);
		}
		vm_drop_ram(vm);	/* a dead QEMU's */
		vm__free(vm);
	}
	if (has_comma(dir) || has_comma(o.disk) || has_comma(o.kernel) || has_comma(o.initrd))
		return vm_seterr(-EINVAL, "paths with commas cannot be passed to QEMU options");
	r = util_mkdir_p(dir, 0755);
	if (r)
		return vm_seterr(r, "cannot create %s: %s", dir, strerror(-r));
	snprintf(qmp, sizeof(qmp), "%s/qmp.sock", dir);
	if (strlen(qmp) >= 108)
		return vm_seterr(-ENAMETOOLONG, "QMP socket path too long for a unix socket: %s", qmp);

	add(&a, "%s", o.qemu ? o.qemu : "qemu-system-x86_64");
	add(&a, "-name");
	add(&a, "%s", name);
	add(&a, "-accel");
	add(&a, "%s", o.accel ? o.accel : getenv("STASIS_ACCEL") ? getenv("STASIS_ACCEL") : "tcg");
	add(&a, "-m");
	add(&a, "%d", o.mem_mib > 0 ? o.mem_mib : 128);
	if (!o.anon_ram) {
		r = memfile_new_path(o.mem_dir, name, ram, sizeof(ram));
		if (r)
			goto out;
		add(&a, "-object");
		add(&a, "memory-backend-file,id=stasis-ram,size=%dM,mem-path=%s,share=on",
		    o.mem_mib > 0 ? o.mem_mib : 128, ram);
		add(&a, "-machine");
		add(&a, "memory-backend=stasis-ram");
	}
	add(&a, "-smp");
	add(&a, "%d", o.smp > 0 ? o.smp : 1);
	add(&a, "-nodefaults");
	add(&a, "-no-user-config");
	add(&a, "-display");
	add(&a, "none");
	if (o.kernel) {
		char *k = abspath(o.kernel);

		add(&a, "-kernel");
		add(&a, "%s", k);
		free(k);
	}
	if (o.initrd) {
		char *k = abspath(o.initrd);

		add(&a, "-initrd");
		add(&a, "%s", k);
		free(k);
	}
	if (o.append) {
		add(&a, "-append");
		add(&a, "%s", o.append);
	}
	add(&a, "-chardev");
	add(&a, "socket,id=con0,path=%s/console.sock,server=on,wait=off,"
	     "logfile=%s/console.log,logappend=on", dir, dir);
	add(&a, "-serial");
	add(&a, "chardev:con0");
	add(&a, "-qmp");
	add(&a, "unix:%s,server=on,wait=off", qmp);
	if (o.run_file) {
		snprintf(path, sizeof(path), "%s/run.sh", dir);
		r = util_copy_file(o.run_file, path, 0, false);
		if (r) {
			vm_seterr(r, "boot script %s: %s", o.run_file, strerror(-r));
			goto out;
		}
		add(&a, "-fw_cfg");
		add(&a, "name=opt/stasis/run,file=%s", path);
	}
	if (o.tap) {
		/* Always a MAC of the VM's own: QEMU's default is the same for
		 * every VM (two on one bridge would clash), and a fork derives
		 * its copies' MACs from it. */
		if (!o.mac) {
			uint32_t h = 2166136261u;	/* FNV-1a of the name */

			for (const char *c = name; *c; c++)
				h = (h ^ (unsigned char)*c) * 16777619u;
			snprintf(genmac, sizeof(genmac), "52:54:00:%02x:%02x:%02x",
				 (h >> 16) & 0xff, (h >> 8) & 0xff, h & 0xff);
			o.mac = genmac;
		}
		add(&a, "-netdev");
		add(&a, "tap,id=net0,ifname=%s,script=no,downscript=no", o.tap);
		add(&a, "-device");
		add(&a, "virtio-net-pci,netdev=net0,id=nic0,mac=%s", o.mac);
	}
	if (o.disk || o.disk_mib > 0) {
		char *base = o.disk ? abspath(o.disk) : NULL;
		char tag[48];

		/* A new name each start: a snapshot of an earlier life of this
		 * instance may still build on the old first layer. */
		layer_tag(tag, sizeof(tag));
		snprintf(disk, sizeof(disk), "%s/disk-%s-base.qcow2", dir, tag);
		r = qcow2_create(disk, base, o.disk_mib);
		free(base);
		if (r)
			goto out;
		add(&a, "-blockdev");
		add(&a, "driver=qcow2,node-name=disk0,file.driver=file,file.filename=%s", disk);
		add(&a, "-device");
		add(&a, "virtio-blk-pci,drive=disk0,id=vd0");
	}
	add(&a, "-no-reboot");
	if (o.paused)
		add(&a, "-S");
	for (int i = 0; o.extra && o.extra[i]; i++)
		add(&a, "%s", o.extra[i]);

	snprintf(path, sizeof(path), "%s/qemu.log", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/console.log", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/qemu.log", dir);
	r = a.oom ? vm_seterr(-ENOMEM, "out of memory") :
		qemu_spawn(a.v, o.netns, path, qmp, 30000, &pid, &q);
	if (r) {
		if (ram[0])
			unlink(ram);
		goto out;
	}
	qmp__close(q);

	disks = json_array();
	if (disk[0])
		json_array_append_new(disks, json_pack("{s:s,s:s}", "node", "disk0", "file", disk));
	j = json_pack("{s:i,s:s,s:b,s:s,s:o,s:s,s:i,s:s*,s:s*,s:s*,s:s,s:s,s:s,s:o,s:i,s:i}",
		      "version", 1, "name", name, "adopted", 0,
		      "qemu", a.v[0], "argv", argv_to_json(a.v),
		      "accel", a.v[4], "memory_mib", o.mem_mib > 0 ? o.mem_mib : 128,
		      "netns", o.netns, "tap", o.tap, "mac", o.mac,
		      "qmp", qmp, "console", "console.sock", "console_log", "console.log",
		      "disks", disks, "pid", (int)pid, "started", (int)time(NULL));
	if (j && ram[0])
		json_object_set_new(j, "ram", json_pack("{s:s,s:b}", "file", ram, "shared", 1));
	vm = calloc(1, sizeof(*vm));
	if (!vm || !j) {
		r = -ENOMEM;
		json_decref(j);
		free(vm);
		goto out;
	}
	snprintf(vm->name, sizeof(vm->name), "%s", name);
	snprintf(vm->dir, sizeof(vm->dir), "%s", dir);
	vm->j = j;
	r = vm_store(vm);
	vm__free(vm);
out:
	argv_free(a.v);
	return r;
}

/* ---- vm adopt ---------------------------------------------------------- */

/* Split @len bytes at NULs (or newlines when there is no NUL) into argv. */
static char **split_argv(char *b, size_t len)
{
	bool nul = memchr(b, 0, len) != NULL;
	struct args a = { 0 };
	size_t s = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i == len || b[i] == (nul ? 0 : '\n')) {
			if (i > s || (nul && i < len))
				add(&a, "%.*s", (int)(i - s), b + s);
			s = i + 1;
		}
	}
	if (a.oom) {
		argv_free(a.v);
		return NULL;
	}
	return a.v;
}

static char *read_all(const char *path, size_t *len)
{
	size_t cap = 8192, n = 0;
	char *b = malloc(cap);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0 || !b) {
		free(b);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while ((r = read(fd, b + n, cap - n)) > 0) {
		n += (size_t)r;
		if (n == cap) {
			char *nb = realloc(b, cap *= 2);

			if (!nb)
				break;
			b = nb;
		}
	}
	close(fd);
	*len = n;
	return b;
}

/* The name of the netns (under /run/netns) @pid lives in, if not ours. */
static char *netns_of(pid_t pid)
{
	struct stat me, it, e;
	char p[64];
	DIR *d;
	struct dirent *de;
	char *name = NULL;

	snprintf(p, sizeof(p), "/proc/%d/ns/net", (int)pid);
	if (stat(p, &it) < 0 || stat("/proc/self/ns/net", &me) < 0 || it.st_ino == me.st_ino)
		return NULL;
	d = opendir("/run/netns");
	if (!d)
		return NULL;
	while (!name && (de = readdir(d))) {
		char f[300];

		snprintf(f, sizeof(f), "/run/netns/%s", de->d_name);
		if (de->d_name[0] != '.' && stat(f, &e) == 0 && e.st_ino == it.st_ino &&
		    e.st_dev == it.st_dev)
			name = strdup(de->d_name);
	}
	closedir(d);
	return name;
}

/*
 * What vm.json says of a started VM, read from an adopted one's command line
 * and QEMU: the (first) tap and the MAC of the NIC on it, the serial
 * console's socket and log, the disks it writes to now. A fork needs them to
 * give each copy its own. Anything not there stays null.
 */
static void describe_adopted(json_t *j, char **argv, json_t *blk)
{
	char *tap = NULL, *mac = NULL, *id, *con = NULL, *log = NULL;
	json_t *disks = json_array(), *dev;
	size_t i;

	tap = find_opt(argv, "-netdev", "tap", NULL, NULL, "ifname");
	if (tap) {
		id = find_opt(argv, "-netdev", "tap", "ifname", tap, "id");
		if (id)
			mac = find_opt(argv, "-device", NULL, "netdev", id, "mac");
		free(id);
	} else {
		tap = find_opt(argv, "-nic", "tap", NULL, NULL, "ifname");
		if (!tap)
			tap = find_opt(argv, "-net", "tap", NULL, NULL, "ifname");
		if (tap)
			mac = find_opt(argv, "-nic", "tap", "ifname", tap, "mac");
		if (tap && !mac)	/* -net tap + -net nic: one hub */
			mac = find_opt(argv, "-net", "nic", NULL, NULL, "mac");
	}
	/* -serial chardev:ID of a -chardev socket,id=ID,path=P[,logfile=L] */
	for (int k = 1; argv[k] && argv[k + 1] && !con; k++) {
		if (strcmp(argv[k], "-serial") || strncmp(argv[k + 1], "chardev:", 8))
			continue;
		con = find_opt(argv, "-chardev", NULL, "id", argv[k + 1] + 8, "path");
		log = find_opt(argv, "-chardev", NULL, "id", argv[k + 1] + 8, "logfile");
	}
	json_object_set_new(j, "tap", tap ? json_string(tap) : json_null());
	json_object_set_new(j, "mac", mac ? json_string(mac) : json_null());
	json_object_set_new(j, "console", con ? json_string(con) : json_null());
	json_object_set_new(j, "console_log", log ? json_string(log) : json_null());
	json_array_foreach(blk, i, dev) {
		json_t *ins = json_object_get(dev, "inserted");
		json_t *img = json_object_get(ins, "image");
		const char *f = json_string_value(json_object_get(img, "filename"));
		const char *node = json_string_value(json_object_get(ins, "node-name"));
		const char *b = json_string_value(json_object_get(json_object_get(img,
						  "backing-image"), "filename"));
		json_t *d;

		if (!ins || !f || json_is_true(json_object_get(ins, "ro")))
			continue;
		d = json_pack("{s:s?,s:s}", "node", node, "file", f);
		if (b)
			json_object_set_new(d, "backing", json_string(b));
		json_array_append_new(disks, d);
	}
	json_object_set_new(j, "disks", disks);
	free(tap);
	free(mac);
	free(con);
	free(log);
}

int vm__adopt(const char *name, const char *qmp_path, const char *argv_file)
{
	struct qmp_opts o = { .sz = sizeof(o), .timeout_ms = 5000 };
	const char *root = vmctl__root();
	char dir[4096], src[64];
	char *buf, *qabs, *ns = NULL;
	struct qmp *q;
	struct vm *vm;
	json_t *mem = NULL, *blk;
	char **argv;
	size_t len;
	pid_t pid;
	int r;

	r = instance_dir_checked(root, name, dir, sizeof(dir));
	if (r)
		return r;
	if (vm__load(name, &vm) == 0) {
		vm__free(vm);
		return vm_seterr(-EEXIST, "VM %s exists already", name);
	}
	r = qmp__connect(qmp_path, &o, &q);
	if (r)
		return r;
	pid = qmp__peer_pid(q);
	if (argv_file) {
		buf = read_all(argv_file, &len);
		if (!buf) {
			r = vm_seterr(-errno, "argv file %s: %s", argv_file, strerror(errno));
			goto out;
		}
	} else {
		if (pid <= 0) {
			r = vm_seterr(-ESRCH, "cannot tell which process is behind %s; pass --argv-file",
				      qmp_path);
			goto out;
		}
		snprintf(src, sizeof(src), "/proc/%d/cmdline", (int)pid);
		buf = read_all(src, &len);
		if (!buf) {
			r = vm_seterr(-errno, "%s: %s", src, strerror(errno));
			goto out;
		}
		ns = netns_of(pid);
	}
	argv = split_argv(buf, len);
	free(buf);
	if (!argv || !argv[0]) {
		argv_free(argv);
		r = argv ? vm_seterr(-EINVAL, "empty QEMU command line") : vm_seterr(-ENOMEM, "out of memory");
		goto out;
	}
	qmp__call(q, "query-memory-size-summary", NULL, &mem);
	r = util_mkdir_p(dir, 0755);
	if (r) {
		argv_free(argv);
		vm_seterr(r, "cannot create %s: %s", dir, strerror(-r));
		goto out;
	}
	qabs = abspath(qmp_path);
	blk = NULL;
	qmp__call(q, "query-block", NULL, &blk);
	vm = calloc(1, sizeof(*vm));
	snprintf(vm->name, sizeof(vm->name), "%s", name);
	snprintf(vm->dir, sizeof(vm->dir), "%s", dir);
	vm->j = json_pack("{s:i,s:s,s:b,s:s,s:o,s:s*,s:I,s:s*,s:s,s:i,s:i}",
			  "version", 1, "name", name, "adopted", 1, "qemu", argv[0],
			  "argv", argv_to_json(argv), "netns", ns,
			  "memory_mib", (json_int_t)(json_integer_value(
				json_object_get(mem, "base-memory")) >> 20),
			  "argv_source", argv_file, "qmp", qabs, "pid", (int)pid,
			  "adopted_at", (int)time(NULL));
	describe_adopted(vm->j, argv, blk);
	json_decref(blk);
	r = vm_store(vm);
	vm__free(vm);
	free(qabs);
	argv_free(argv);
out:
	json_decref(mem);
	free(ns);
	qmp__close(q);
	return r;
}
