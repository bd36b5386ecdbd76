// SPDX-License-Identifier: MIT
/*
 * A large output file written whole or not at all, and durably: the .sp
 * writer and the pcapng writer both produce hundreds of megabytes that must
 * reach the disk before they are renamed into place.
 *
 * Why O_DIRECT: the output has to be on the disk anyway (it is fsynced), so
 * a buffered write pays twice, once to copy every byte into new page-cache
 * pages and once to write them back. Straight from our own two buffers to
 * the device it is written once, and the producer never waits on page-cache
 * allocation (on this machine's virtual disk that copy was more than half of
 * a conversion: docs/BENCHMARKS.md). A writer thread writes one buffer while
 * the caller fills the other, so converting and writing overlap.
 *
 * Without UTIL_OUT_DIRECT the same file is written through the page cache,
 * 1 MiB at a time and inline, so a write error (a full disk) shows after
 * the first MiB: what a drain of held frames needs (sp-format/writer.c).
 *
 * Where the file system refuses O_DIRECT (tmpfs before 6.6, some FUSE file
 * systems), or refuses one write, the file is written through the page
 * cache as before. The tail that is not a whole block is always written
 * that way (O_DIRECT needs block-sized writes).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "util/util.h"

#define OUT_ALIGN	4096u		/* covers 512 B and 4 KiB logical blocks */
#define OUT_CHUNK	(4u << 20)	/* written when this much is buffered */
#define OUT_CHUNK_BUF	(1u << 20)	/* the same, through the page cache */
#define OUT_CAP		(OUT_CHUNK + UTIL_OUT_RESERVE_MAX + OUT_ALIGN)

struct util_out {
	int fd;
	bool direct;
	size_t chunk;		/* write when this much is buffered */
	char *path, *tmp;
	uint8_t *buf[2];
	int cur;		/* the buffer being filled */
	size_t used;		/* bytes in buf[cur] */
	uint64_t off;		/* file offset of buf[cur][0] */
	int err;		/* sticky first error */

	/* the writer thread's one job: buf, len at off */
	pthread_t th;
	bool have_th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool busy, stop;
	const uint8_t *job;
	size_t job_len;
	uint64_t job_off;
	int job_err;
};

static int pwrite_all(struct util_out *o, const uint8_t *p, size_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pwrite(o->fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EINVAL && o->direct) {
			/* This file system takes O_DIRECT at open but not
			 * this write: the page cache, from here on. */
			int fl = fcntl(o->fd, F_GETFL);

			if (fl < 0 || fcntl(o->fd, F_SETFL, fl & ~O_DIRECT) < 0)
				return -errno;
			o->direct = false;
			continue;
		}
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static void *writer(void *arg)
{
	struct util_out *o = arg;

	pthread_mutex_lock(&o->mu);
	for (;;) {
		while (!o->busy && !o->stop)
			pthread_cond_wait(&o->cv, &o->mu);
		if (!o->busy)
			break;
		pthread_mutex_unlock(&o->mu);
		int err = pwrite_all(o, o->job, o->job_len, o->job_off);
		pthread_mutex_lock(&o->mu);
		if (err && !o->job_err)
			o->job_err = err;
		o->busy = false;
		pthread_cond_broadcast(&o->cv);
	}
	pthread_mutex_unlock(&o->mu);
	return NULL;
}

/* Wait for the writer to finish its job; its error, if any, becomes ours. */
static int wait_idle(struct util_out *o)
{
	if (!o->have_th)
		return o->err;
	pthread_mutex_lock(&o->mu);
	while (o->busy)
		pthread_cond_wait(&o->cv, &o->mu);
	if (o->job_err && !o->err)
		o->err = o->job_err;
	pthread_mutex_unlock(&o->mu);
	return o->err;
}

/* Hand the whole blocks of the current buffer to the writer and go on in
 * the other buffer with what is left over. */
static int flush(struct util_out *o)
{
	size_t n = o->used & ~(size_t)(OUT_ALIGN - 1);
	uint8_t *full = o->buf[o->cur];

	if (wait_idle(o))
		return o->err;
	if (!n)
		return 0;
	memcpy(o->buf[!o->cur], full + n, o->used - n);
	if (o->have_th) {
		pthread_mutex_lock(&o->mu);
		o->job = full;
		o->job_len = n;
		o->job_off = o->off;
		o->busy = true;
		pthread_cond_broadcast(&o->cv);
		pthread_mutex_unlock(&o->mu);
	} else {
		o->err = pwrite_all(o, full, n, o->off);
	}
	o->cur = !o->cur;
	o->used -= n;
	o->off += n;
	return o->err;
}

int util_out_open(struct util_out **out, const char *path, unsigned int flags)
{
	struct util_out *o = calloc(1, sizeof(*o));
	int err = -ENOMEM, fl;

	if (!o)
		return -ENOMEM;
	o->fd = -1;
	pthread_mutex_init(&o->mu, NULL);
	pthread_cond_init(&o->cv, NULL);
	o->path = strdup(path);
	if (!o->path || asprintf(&o->tmp, "%s.tmp-XXXXXX", path) < 0) {
		o->tmp = NULL;
		goto fail;
	}
	for (int i = 0; i < 2; i++)
		if (posix_memalign((void **)&o->buf[i], OUT_ALIGN, OUT_CAP))
			goto fail;
	o->fd = mkostemp(o->tmp, O_CLOEXEC);
	if (o->fd < 0) {
		err = -errno;
		free(o->tmp);
		o->tmp = NULL;
		goto fail;
	}
	if (fchmod(o->fd, 0644) < 0) {
		err = -errno;
		goto fail;
	}
	o->chunk = OUT_CHUNK_BUF;
	if (flags & UTIL_OUT_DIRECT) {
		fl = fcntl(o->fd, F_GETFL);
		o->direct = fl >= 0 && fcntl(o->fd, F_SETFL, fl | O_DIRECT) == 0;
		o->chunk = OUT_CHUNK;
		/* Without a thread the writes are made inline: slower, not wrong. */
		o->have_th = pthread_create(&o->th, NULL, writer, o) == 0;
	}
	*out = o;
	return 0;
fail:
	util_out_discard(o);
	return err;
}

uint8_t *util_out_reserve(struct util_out *o, size_t len)
{
	if (o->err || len > UTIL_OUT_RESERVE_MAX)
		return NULL;
	if (o->used + len > OUT_CAP && flush(o))
		return NULL;
	return o->buf[o->cur] + o->used;
}

int util_out_advance(struct util_out *o, size_t len)
{
	o->used += len;
	if (o->used >= o->chunk)
		return flush(o);
	return o->err;
}

int util_out_write(struct util_out *o, const void *p, size_t len)
{
	const uint8_t *s = p;

	while (len) {
		size_t n = len < UTIL_OUT_RESERVE_MAX ? len : UTIL_OUT_RESERVE_MAX;
		uint8_t *d = util_out_reserve(o, n);

		if (!d)
			return o->err ? o->err : -EINVAL;
		memcpy(d, s, n);
		if (util_out_advance(o, n))
			return o->err;
		s += n;
		len -= n;
	}
	return 0;
}

int util_out_error(const struct util_out *o)
{
	return o->err;
}

static void stop_writer(struct util_out *o)
{
	if (!o->have_th)
		return;
	pthread_mutex_lock(&o->mu);
	o->stop = true;
	pthread_cond_broadcast(&o->cv);
	pthread_mutex_unlock(&o->mu);
	pthread_join(o->th, NULL);
	o->have_th = false;
	if (o->job_err && !o->err)
		o->err = o->job_err;
}

int util_out_commit(struct util_out *o)
{
	int err, fl;

	stop_writer(o);	/* after its last job */
	err = o->err;
	/* The tail is not a whole block: through the page cache. */
	if (!err && o->used && o->direct) {
		fl = fcntl(o->fd, F_GETFL);
		if (fl < 0 || fcntl(o->fd, F_SETFL, fl & ~O_DIRECT) < 0)
			err = -errno;
		o->direct = false;
	}
	if (!err && o->used)
		err = pwrite_all(o, o->buf[o->cur], o->used, o->off);
	if (!err && fsync(o->fd) < 0)
		err = -errno;
	if (close(o->fd) < 0 && !err)
		err = -errno;
	o->fd = -1;
	if (!err && rename(o->tmp, o->path) < 0)
		err = -errno;
	if (!err) {
		free(o->tmp);
		o->tmp = NULL;
		err = util_fsync_parent(o->path);
	}
	util_out_discard(o);
	return err;
}

void util_out_discard(struct util_out *o)
{
	if (!o)
		return;
	stop_writer(o);
	if (o->fd >= 0)
		close(o->fd);
	if (o->tmp)
		unlink(o->tmp);
	free(o->tmp);
	free(o->path);
	free(o->buf[0]);
	free(o->buf[1]);
	pthread_mutex_destroy(&o->mu);
	pthread_cond_destroy(&o->cv);
	free(o);
}
