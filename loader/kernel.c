// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
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
