// SPDX-License-Identifier: MIT
/*
 * Guest RAM in a file. A VM stasis starts maps its RAM from a file it shares
 * with QEMU (memory-backend-file, share=on), so a save needs only the device
 * state from QEMU and takes the file as the memory image; a restore maps the
 * image privately (share=off: copy-on-write, the image is never written), so
 * it costs what QEMU's start costs and N copies share every page they leave
 * alone. Here: where the files live, copying and moving images, and finding
 * the backend in a command line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "vmctl/internal.h"

const char *vmctl__mem_dir(void)
{
	const char *d = getenv("STASIS_MEM_DIR");

	/* A memory file system: a running guest's writes never reach a disk. */
	return d && *d ? d : "/dev/shm/stasis";
}

int memfile_new_path(const char *dir, const char *name, char *buf, size_t len)
{
	char tag[48];
	int r;

	if (!dir)
		dir = vmctl__mem_dir();
	if (strchr(dir, ','))
		return vm_seterr(-EINVAL, "memory folder %s: a path with a comma cannot be passed "
				 "to QEMU", dir);
	r = util_mkdir_p(dir, 0700);
	if (r)
		return vm_seterr(r, "cannot create %s: %s", dir, strerror(-r));
	layer_tag(tag, sizeof(tag));
	/* A new name each launch: a restore may start while the VM it
	 * replaces (or a live snapshot's original) still maps its own. */
	if (snprintf(buf, len, "%s/%s-%s.ram", dir, name, tag) >= (int)len)
		return vm_seterr(-ENAMETOOLONG, "memory file name too long in %s", dir);
	return 0;
}

static bool all_zero(const unsigned char *p, size_t n)
{
	const unsigned long *w = (const unsigned long *)p;

	/* callers pass whole blocks of a page-aligned mapping */
	for (size_t i = 0; i < n / sizeof(*w); i++)
		if (w[i])
			return false;
	return true;
}

#define BLOCK (64u << 10)	/* zero blocks are left as holes */
#define RUN (8u << 20)		/* the most one write takes */

/* The data of @m (@size bytes, from @in) into @out: only the extents the
 * file has, and of those only the blocks that are not all zero, written
 * at their offsets (the rest stays a hole). */
/* Sleep until @done bytes since @t0 are within @bps. */
static void pace(uint64_t t0, uint64_t done, uint64_t bps)
{
	uint64_t due = t0 + (uint64_t)((double)done / (double)bps * 1e9), now = util_now_ns();

	if (due > now)
		usleep((useconds_t)((due - now) / 1000));
}

static int copy_data(int in, int out, const unsigned char *m, uint64_t size,
		     const struct memfile_copy_opts *o, uint64_t *data)
{
	uint64_t t0 = util_now_ns(), last = t0, bps = o ? o->max_bps : 0;
	/* a capped copy writes in smaller pieces, each paced */
	off_t run = bps && bps / 8 < RUN ? (off_t)((bps / 8 + BLOCK - 1) / BLOCK * BLOCK) : RUN;
	off_t pos = 0;

	while ((uint64_t)pos < size) {
		off_t d = lseek(in, pos, SEEK_DATA), h;

		if (d < 0 && errno == ENXIO)
			break;	/* only holes from here */
		if (d < 0)
			return -errno;
		h = lseek(in, d, SEEK_HOLE);
		if (h < 0)
			return -errno;
		/* blocks count from the extent's start: reading a hole
		 * through the mapping would allocate it in a tmpfs */
		for (off_t b = d; b < h;) {
			off_t e;

			while (b < h && all_zero(m + b, (size_t)((uint64_t)h - (uint64_t)b < BLOCK ?
								  (uint64_t)(h - b) : BLOCK)))
				b += BLOCK;
			for (e = b; e < h && e - b < run; e += BLOCK)
				if (all_zero(m + e, (size_t)((uint64_t)(h - e) < BLOCK ?
							     (uint64_t)(h - e) : BLOCK)))
					break;
			if (e > h)
				e = h;
			for (off_t w = b; w < e;) {
				ssize_t n = pwrite(out, m + w, (size_t)(e - w), w);

				if (n < 0 && errno == EINTR)
					continue;
				if (n <= 0)
					return n < 0 ? -errno : -EIO;
				w += n;
				*data += (uint64_t)n;
			}
			b = e;
			if (bps)
				pace(t0, *data, bps);
			if (o && o->on_progress && util_now_ns() - last >= 500000000ull) {
				o->on_progress(o->ctx, (uint64_t)b, size);
				last = util_now_ns();
			}
		}
		pos = h;
	}
	return 0;
}

int memfile_copy(const char *from, const char *to, const struct memfile_copy_opts *o,
		 uint64_t *data)
{
	char tmp[4200];
	unsigned char *m = MAP_FAILED;
	struct stat st;
	uint64_t dummy = 0;
	int in, out, r = 0;

	if (!data)
		data = &dummy;
	*data = 0;
	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = fstat(in, &st) < 0 ? -errno : util_tmp_open(to, tmp, sizeof(tmp));
	if (out < 0) {
		close(in);
		return out;
	}
	/* Where the file systems can share blocks, nothing is copied. */
	if (ioctl(out, FICLONE, in) == 0) {
		*data = (uint64_t)st.st_blocks * 512u;
	} else if (ftruncate(out, st.st_size) < 0) {
		r = -errno;
	} else if (st.st_size) {
		m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, in, 0);
		if (m == MAP_FAILED) {
			r = -errno;
		} else {
			madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL);
			r = copy_data(in, out, m, (uint64_t)st.st_size, o, data);
			munmap(m, (size_t)st.st_size);
		}
	}
	close(in);
	return util_tmp_commit(out, tmp, to, o && o->durable, r);
}

int memfile_move(const char *from, const char *to, const struct memfile_copy_opts *o,
		 uint64_t *data)
{
	struct stat st;
	int r;

	if (stat(from, &st) < 0)
		return -errno;
	if (rename(from, to) == 0) {
		int fd;

		if (data)
			*data = (uint64_t)st.st_blocks * 512u;
		if (!o || !o->durable)
			return 0;
		/* the memory file was never synced: a rename alone does not
		 * make its pages durable */
		fd = open(to, O_RDONLY | O_CLOEXEC);
		r = fd < 0 || fsync(fd) < 0 ? -errno : 0;
		if (fd >= 0)
			close(fd);
		return r ? r : util_fsync_parent(to);
	}
	if (errno != EXDEV)
		return -errno;
	r = memfile_copy(from, to, o, data);
	if (!r)
		unlink(from);
	return r;
}

int memfile_prefetch(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	/* Into the page cache, so a first touch finds the page there (or
	 * waits for a read already under way) instead of starting a read
	 * of its own: readahead() returns once the reads are queued. A hole
	 * costs nothing. */
	for (off_t pos = 0; !r && pos < st.st_size;) {
		off_t d = lseek(fd, pos, SEEK_DATA), h;

		if (d < 0)
			break;
		h = lseek(fd, d, SEEK_HOLE);
		if (h < 0 || readahead(fd, d, (size_t)(h - d)) < 0)
			r = -errno;
		pos = h;
	}
	close(fd);
	return r;
}

int memfile_argv_backend(char **argv)
{
	for (int a = 1; argv[a] && argv[a + 1]; a++) {
		size_t l;
		const char *v;
		char *id;
		int found = -1;

		if (strcmp(argv[a], "-machine") && strcmp(argv[a], "-M"))
			continue;
		v = opt_get(argv[a + 1], "memory-backend", &l);
		if (!v || !(id = strndup(v, l)))
			continue;
		for (int k = 1; argv[k] && argv[k + 1] && found < 0; k++) {
			char drv[40];
			const char *i;
			size_t il;

			if (strcmp(argv[k], "-object"))
				continue;
			opt_driver(argv[k + 1], drv, sizeof(drv));
			i = opt_get(argv[k + 1], "id", &il);
			if (!strcmp(drv, "memory-backend-file") && i && il == strlen(id) &&
			    !strncmp(i, id, il))
				found = k + 1;
		}
		free(id);
		if (found >= 0)
			return found;
	}
	return -1;
}
