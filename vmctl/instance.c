// SPDX-License-Identifier: MIT
/* Instance directories: ROOT/NAME/vm.json and the VM's runtime files. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "vmctl/internal.h"

int vmctl__name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n < 1 || n > 32 || name[0] == '.' || name[0] == '-')
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return -EINVAL;
	}
	return 0;
}

int vmctl__instance_dir(const char *root, const char *name, char *buf, size_t len)
{
	int n;

	if (vmctl__name_valid(name))
		return -EINVAL;
	n = snprintf(buf, len, "%s/%s", root, name);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

int vm_load_at(const char *root, const char *name, struct vm **out)
{
	struct vm *vm;
	char path[4200];
	json_error_t je;
	int r;

	*out = NULL;
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return -ENOMEM;
	r = instance_dir_checked(root, name, vm->dir, sizeof(vm->dir));
	if (r) {
		free(vm);
		return r;
	}
	snprintf(vm->name, sizeof(vm->name), "%s", name);
	snprintf(path, sizeof(path), "%s/vm.json", vm->dir);
	vm->j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!vm->j) {
		r = access(path, F_OK) ? -ENOENT : -EINVAL;
		free(vm);
		if (r == -ENOENT)
			return vm_seterr(r, "no VM instance '%s' (no %s)", name, path);
		return vm_seterr(r, "%s: %s (line %d)", path, je.text, je.line);
	}
	if (!json_is_object(vm->j) || !json_is_string(json_object_get(vm->j, "qmp")) ||
	    !json_is_array(json_object_get(vm->j, "argv"))) {
		vm__free(vm);
		return vm_seterr(-EINVAL, "%s: not a stasis vm.json (needs qmp and argv)", path);
	}
	*out = vm;
	return 0;
}

int vm__load(const char *name, struct vm **out)
{
	return vm_load_at(vmctl__root(), name, out);
}

int vm_store(struct vm *vm)
{
	char path[4200];
	int r;

	snprintf(path, sizeof(path), "%s/vm.json", vm->dir);
	r = util_json_write_atomic(path, vm->j);
	return r ? vm_seterr(r, "writing %s: %s", path, strerror(-r)) : 0;
}

void vm__free(struct vm *vm)
{
	if (!vm)
		return;
	json_decref(vm->j);
	free(vm);
}

const char *vm__name(const struct vm *vm) { return vm->name; }
const char *vm__dir(const struct vm *vm) { return vm->dir; }
const json_t *vm__json(const struct vm *vm) { return vm->j; }
const char *vm__qmp_path(const struct vm *vm)
{
	return json_string_value(json_object_get(vm->j, "qmp"));
}
pid_t vm__pid(const struct vm *vm)
{
	return (pid_t)json_integer_value(json_object_get(vm->j, "pid"));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int vm__list(char ***names, int *n)
{
	const char *root = vmctl__root();
	DIR *d = opendir(root);
	struct dirent *e;
	char **v = NULL;
	int cnt = 0;

	*names = NULL;
	*n = 0;
	if (!d)
		return errno == ENOENT ? 0 : vm_seterr(-errno, "%s: %s", root, strerror(errno));
	while ((e = readdir(d))) {
		char p[4200];
		char **nv;

		if (vmctl__name_valid(e->d_name))
			continue;
		snprintf(p, sizeof(p), "%s/%s/vm.json", root, e->d_name);
		if (access(p, F_OK))
			continue;
		nv = realloc(v, sizeof(char *) * (size_t)(cnt + 1));
		if (!nv)
			break;
		v = nv;
		v[cnt++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(v, (size_t)cnt, sizeof(char *), cmp_str);
	*names = v;
	*n = cnt;
	return 0;
}

int vm__connect(struct vm *vm, int timeout_ms, struct qmp **out)
{
	struct qmp_opts o = { .sz = sizeof(o), .timeout_ms = timeout_ms };
	int r = qmp__connect(vm__qmp_path(vm), &o, out);

	if (r)
		return vm_seterr(r, "VM %s: %s", vm->name, vmctl__errmsg());
	return 0;
}

int vm__status(struct vm *vm, char *buf, size_t len)
{
	struct qmp *q;
	json_t *ret;
	int r = vm__connect(vm, 2000, &q);

	if (r) {
		snprintf(buf, len, "dead");
		return r;
	}
	r = qmp__call(q, "query-status", NULL, &ret);
	if (r) {
		snprintf(buf, len, "unknown");
		vm_seterr(r, "VM %s: %s", vm->name, qmp_errmsg(q));
	} else {
		const char *s = json_string_value(json_object_get(ret, "status"));

		snprintf(buf, len, "%s", s ? s : "unknown");
		json_decref(ret);
	}
	qmp__close(q);
	return r;
}

bool pid_is_qemu(pid_t pid)
{
	char p[64], b[256] = "";
	ssize_t n;
	int fd;

	if (pid <= 0)
		return false;
	snprintf(p, sizeof(p), "/proc/%d/cmdline", (int)pid);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, b, sizeof(b) - 1);
	close(fd);
	if (n <= 0)
		return false;	/* a zombie has an empty cmdline */
	b[n] = 0;
	return strstr(b, "qemu") != NULL;
}

/* Wait until @pid is gone (reaping it if it is our child). */
static bool wait_gone(pid_t pid, int timeout_ms)
{
	/* every 2 ms: a restore that replaces a VM waits for this */
	for (int t = 0; t <= timeout_ms; t += 2) {
		waitpid(pid, NULL, WNOHANG);
		if (kill(pid, 0) < 0 || !pid_is_qemu(pid))
			return true;
		usleep(2000);
	}
	return false;
}

void vm_drop_ram(struct vm *vm)
{
	json_t *ram = json_object_get(vm->j, "ram");
	const char *f = json_string_value(json_object_get(ram, "file"));

	/* A snapshot's image (mapped privately) is the snapshot's, never the
	 * instance's to remove. */
	if (f && json_is_true(json_object_get(ram, "shared")))
		unlink(f);
}

int vm__quit(struct vm *vm, int timeout_ms)
{
	pid_t pid = vm__pid(vm);
	struct qmp *q = NULL;
	int r;

	r = vm__connect(vm, 2000, &q);
	if (!r) {
		if (!pid || !pid_is_qemu(pid))
			pid = qmp__peer_pid(q);
		r = qmp__call(q, "quit", NULL, NULL);
		/* QEMU may close the socket before or after its reply. */
		if (r == -ECONNRESET)
			r = 0;
		if (r)
			vm_seterr(r, "VM %s: %s", vm->name, qmp_errmsg(q));
		qmp__close(q);
	}
	if (pid > 0 && pid_is_qemu(pid)) {
		if (!wait_gone(pid, timeout_ms)) {
			kill(pid, SIGKILL);
			wait_gone(pid, 2000);
		}
		r = 0;
	} else if (r == -ENOENT || r == -ECONNREFUSED) {
		r = vm_seterr(-ESRCH, "VM %s is not running", vm->name);
	}
	if (!r || r == -ESRCH)
		vm_drop_ram(vm);	/* its QEMU is gone: the file is nobody's */
	return r;
}

int instance_dir_checked(const char *root, const char *name, char *buf, size_t len)
{
	int r = vmctl__instance_dir(root, name, buf, len);

	if (r == -EINVAL)
		return vm_seterr(r, "bad VM name '%s' (1-32 of A-Za-z0-9_.-)", name ? name : "");
	if (r)
		return vm_seterr(r, "instance folder name too long");
	return 0;
}

int vm__remove(const char *name)
{
	char dir[4096], st[32];
	struct vm *vm;
	int r = instance_dir_checked(vmctl__root(), name, dir, sizeof(dir));

	if (r)
		return r;
	if (access(dir, F_OK))
		return vm_seterr(-ENOENT, "no VM instance %s under %s", name, vmctl__root());
	/* A folder whose vm.json cannot be read is removed as well: that is
	 * the instance most in need of it. */
	if (vm__load(name, &vm) == 0) {
		pid_t pid = vm__pid(vm);

		if (!vm__status(vm, st, sizeof(st)) || (pid > 0 && pid_is_qemu(pid))) {
			vm__free(vm);
			return vm_seterr(-EBUSY, "VM %s runs; quit it first (stasis vm quit %s)", name, name);
		}
		vm_drop_ram(vm);
		vm__free(vm);
	}
	if ((r = util_rm_rf(dir)))
		return vm_seterr(r, "cannot remove %s: %s", dir, strerror(-r));
	return 0;
}
