// SPDX-License-Identifier: MIT
/* A whole input file in memory for readers that go over it more than once:
 * mapped when it is a regular file (no read calls, no copy through a stdio
 * buffer), read whole when it is a pipe or another stream (util/util.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "util/util.h"

/* A stream, read to its end into a buffer that grows as it fills. */
static int read_whole(int fd, struct util_map *m)
{
	size_t cap = 1 << 20, len = 0;
	uint8_t *b = malloc(cap);

	if (!b)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (len == cap) {
			uint8_t *nb = cap > SIZE_MAX / 2 ? NULL : realloc(b, cap * 2);

			if (!nb) {
				free(b);
				return -ENOMEM;
			}
			b = nb;
			cap *= 2;
		}
		n = read(fd, b + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = -errno;

			free(b);
			return err;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	m->p = b;
	m->len = len;
	m->mapped = false;
	return 0;
}

int util_map_open(struct util_map *m, const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;

	*m = (struct util_map){ 0 };
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		err = -errno;
	} else if (!S_ISREG(st.st_mode)) {
		err = read_whole(fd, m);
	} else if (st.st_size > 0) {
		void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);

		if (p == MAP_FAILED) {
			err = -errno;
		} else {
			madvise(p, (size_t)st.st_size, MADV_SEQUENTIAL);
			m->p = p;
			m->len = (size_t)st.st_size;
			m->mapped = true;
		}
	}
	close(fd);
	return err;
}

void util_map_close(struct util_map *m)
{
	if (m->mapped)
		munmap((void *)m->p, m->len);
	else
		free((void *)m->p);
	*m = (struct util_map){ 0 };
}
