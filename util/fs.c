// SPDX-License-Identifier: MIT
/* Files written whole or not at all, folders made and removed: what every
 * library needs the same way (util/util.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "util/util.h"

int util_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

int util_write_all(int fd, const void *buf, size_t len)
{
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, (const char *)buf + off, len - off);

		if (n < 0 && errno != EINTR)
			return -errno;
		off += n > 0 ? (size_t)n : 0;
	}
	return 0;
}

int util_fsync_parent(const char *path)
{
	char dir[4200], *slash;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	slash = strrchr(dir, '/');
	if (!slash)
		return util_fsync_dir(".");
	if (slash == dir)
		slash++;	/* a file in / */
	*slash = 0;
	return util_fsync_dir(dir);
}

/* PATH.tmp, open for writing. */
int util_tmp_open(const char *path, char *tmp, size_t len)
{
	int fd;

	if (snprintf(tmp, len, "%s.tmp", path) >= (int)len)
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	return fd < 0 ? -errno : fd;
}

/* After @err (0: all written): fsync if @durable, close, rename over @path
 * and fsync the folder, or remove the temporary. */
int util_tmp_commit(int fd, const char *tmp, const char *path, bool durable, int err)
{
	if (!err && durable && fsync(fd) < 0)
		err = -errno;
	if (close(fd) < 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err) {
		unlink(tmp);
		return err;
	}
	return durable ? util_fsync_parent(path) : 0;
}

int util_copy_file(const char *from, const char *to, off_t offset, bool durable)
{
	char buf[65536], tmp[4200];
	int in, out, r = 0;
	ssize_t n;

	if ((in = open(from, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	if (lseek(in, offset, SEEK_SET) < 0) {
		r = -errno;
		close(in);
		return r;
	}
	if ((out = util_tmp_open(to, tmp, sizeof(tmp))) < 0) {
		close(in);
		return out;
	}
	while (!r && (n = read(in, buf, sizeof(buf))) != 0)
		if (n > 0)
			r = util_write_all(out, buf, (size_t)n);
		else if (errno != EINTR)
			r = -errno;
	close(in);
	return util_tmp_commit(out, tmp, to, durable, r);
}

/* Write to PATH.tmp, fsync, rename over PATH, fsync the folder. */
int util_write_file_atomic(const char *path, const void *buf, size_t len)
{
	char tmp[4200];
	int fd = util_tmp_open(path, tmp, sizeof(tmp));

	if (fd < 0)
		return fd;
	return util_tmp_commit(fd, tmp, path, true, util_write_all(fd, buf, len));
}

int util_json_write_atomic(const char *path, json_t *v)
{
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	size_t n;
	int r;

	if (!s)
		return -ENOMEM;
	n = strlen(s);
	s[n] = '\n';	/* json_dumps' NUL becomes the final newline */
	r = util_write_file_atomic(path, s, n + 1);
	free(s);
	return r;
}

int util_mkdir_p(const char *path, mode_t mode)
{
	char b[4096];
	size_t n = strlen(path);

	if (n >= sizeof(b))
		return -ENAMETOOLONG;
	memcpy(b, path, n + 1);
	for (char *p = b + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(b, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(b, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int util_rm_rf(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *e;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlink(path) < 0 ? -errno : 0;
	d = opendir(path);
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		char sub[4200];

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		util_rm_rf(sub);
	}
	closedir(d);
	return rmdir(path) < 0 ? -errno : 0;
}
