// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <linux/magic.h>
#include "loader/loader.h"

int loader__parse_release(const char *release, int *major, int *minor)
{
	int n = 0;

	if (!release || sscanf(release, "%d.%d%n", major, minor, &n) != 2 ||
	    n == 0 || *major < 0 || *minor < 0)
		return -EINVAL;
	return 0;
}

int loader__kernel_check(char *release, size_t len)
{
	struct utsname u;
	int maj, min;

	if (uname(&u))
		return -errno;
	if (release && len)
		snprintf(release, len, "%s", u.release);
	if (loader__parse_release(u.release, &maj, &min))
		return -EINVAL;
	if (maj > LOADER_MIN_KERNEL_MAJOR ||
	    (maj == LOADER_MIN_KERNEL_MAJOR && min >= LOADER_MIN_KERNEL_MINOR))
		return 0;
	return -ENOTSUP;
}

int loader__ensure_bpffs(const char *dir)
{
	struct statfs st;

	if (statfs(dir, &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	if (mount("bpf", dir, "bpf", 0, "mode=0700"))
		return -errno;
	return 0;
}

/*
 * Where the pins live. `ip netns exec` gives each invocation its own mount
 * namespace and a fresh /sys, so a bpffs mounted (or found) there would
 * vanish with the invocation. The pins go instead into the /sys/fs/bpf of
 * the outermost mount namespace we can reach among our ancestors (PID 1's
 * on an ordinary host; the calling shell's where PID 1 is out of reach, as
 * in some sandboxes), through /proc/PID/root. When that namespace has no
 * bpffs, one is mounted there (setns and back; setns moves the working
 * folder, so it is restored).
 */
static int outer_pid(void)
{
	struct stat self, st;
	char path[64];
	int pid = getppid(), best = 0;

	if (stat("/proc/self/ns/mnt", &self))
		return 0;
	for (int depth = 0; pid > 0 && depth < 64; depth++) {
		FILE *f;
		char line[256];
		int ppid = 0;

		snprintf(path, sizeof(path), "/proc/%d/ns/mnt", pid);
		if (stat(path, &st))
			break;	/* out of reach: stop at the last one we can use */
		if (st.st_ino != self.st_ino)
			best = pid;
		if (pid == 1)
			break;
		snprintf(path, sizeof(path), "/proc/%d/status", pid);
		f = fopen(path, "r");
		if (!f)
			break;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "PPid: %d", &ppid) == 1)
				break;
		fclose(f);
		pid = ppid;
	}
	return best;
}

static int mount_in(int pid)
{
	char path[64];
	int self, other, cwd, err = 0;

	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", pid);
	self = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	other = open(path, O_RDONLY | O_CLOEXEC);
	cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (self < 0 || other < 0) {
		err = -errno;
		goto out;
	}
	if (setns(other, CLONE_NEWNS)) {
		err = -errno;
		goto out;
	}
	err = loader__ensure_bpffs("/sys/fs/bpf");
	if (setns(self, CLONE_NEWNS) && !err)
		err = -errno;
	if (cwd >= 0 && fchdir(cwd) && !err)
		err = -errno;
out:
	if (self >= 0)
		close(self);
	if (other >= 0)
		close(other);
	if (cwd >= 0)
		close(cwd);
	return err;
}

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71	/* Linux 5.14 */
#endif

/* The network namespace's cookie: unique for the whole boot, unlike its
 * inode number, which a namespace made after another was deleted may get
 * again. The pin folder carries both: the inode to find the folders a
 * reused number left behind, the cookie to tell them from ours. */
static int netns_cookie(uint64_t *cookie)
{
	socklen_t len = sizeof(*cookie);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, cookie, &len))
		err = -errno;
	close(fd);
	return err;
}

int loader__pin_dir(char *buf, size_t len)
{
	uint64_t cookie;
	char root[64] = "";
	struct statfs fs;
	struct stat st;
	int pid, err;

	/* The chosen bpffs first: walking our ancestors reads a /proc file
	 * per generation, and an agent asks on every ping. */
	if (getenv("STASIS_BPFFS")) {
		snprintf(root, sizeof(root), "%s", getenv("STASIS_BPFFS"));
		err = loader__ensure_bpffs(root);
	} else if ((pid = outer_pid())) {
		snprintf(root, sizeof(root), "/proc/%d/root/sys/fs/bpf", pid);
		err = (statfs(root, &fs) == 0 && fs.f_type == BPF_FS_MAGIC) ? 0 : mount_in(pid);
	} else {
		snprintf(root, sizeof(root), "/sys/fs/bpf");
		err = loader__ensure_bpffs(root);
	}
	if (err)
		return err;
	/* libxdp keeps its own pins (the dispatcher) under the same bpffs. */
	setenv("LIBXDP_BPFFS", root, 1);
	if (stat("/proc/self/ns/net", &st))
		return -errno;
	if ((err = netns_cookie(&cookie)))
		return err;
	snprintf(buf, len, "%s/stasis", root);
	if (mkdir(buf, 0700) && errno != EEXIST)
		return -errno;
	snprintf(buf, len, "%s/stasis/net-%llu-%llu", root, (unsigned long long)st.st_ino,
		 (unsigned long long)cookie);
	return 0;
}

int loader__pin_root_keep(void)
{
	char dir[512], path[64];
	const char *root;
	int fd, err;

	if (getenv("STASIS_BPFFS"))
		return 0;	/* chosen already (by the user, or a call before) */
	if ((err = loader__pin_dir(dir, sizeof(dir))))
		return err;
	root = getenv("LIBXDP_BPFFS");	/* what loader__pin_dir found */
	if (!root)
		return -ENOENT;
	fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	setenv("STASIS_BPFFS", path, 1);
	setenv("LIBXDP_BPFFS", path, 1);
	return 0;
}
