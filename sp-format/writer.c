// SPDX-License-Identifier: MIT
/* The streaming .sp writer: records built in place in util_out's buffers,
 * written to a temporary file beside the target (O_DIRECT where the file
 * system allows), fsync and rename on close. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sp-format/format.h"
#include "sp-format/sp.h"
#include "sp-format/internal.h"
#include "util/util.h"

struct sp_writer {
	struct util_out *out;
	uint32_t n_ifaces;
	uint64_t frames, records, bytes;	/* bytes: written so far, incl. buffer */
	uint32_t file_crc;
	int err;				/* sticky first error */
};

/* Room for @len bytes (records are at most 1 MiB, under UTIL_OUT_RESERVE_MAX). */
static uint8_t *reserve(struct sp_writer *w, size_t len)
{
	uint8_t *p = util_out_reserve(w->out, len);

	if (!p && !w->err)
		w->err = util_out_error(w->out) ? util_out_error(w->out) : -EINVAL;
	return p;
}

/* Finish a record whose body (@body bytes) was written at @rec + 8. */
static void commit(struct sp_writer *w, uint8_t *rec, uint32_t type, uint32_t body)
{
	uint32_t len = sp_rec_len(body);
	int err;

	put32(rec, type);
	put32(rec + 4, len);
	memset(rec + SP_REC_HEAD + body, 0, len - 4 - SP_REC_HEAD - body);
	put32(rec + len - 4, sp__crc32c(0, rec, len - 4));
	w->file_crc = sp__crc32c(w->file_crc, rec, len);
	w->bytes += len;
	w->records++;
	err = util_out_advance(w->out, len);
	if (err && !w->err)
		w->err = err;
}

static size_t put_str(uint8_t *p, const char *s)
{
	size_t n = strnlen(s, SP_STR_MAX);

	put16(p, (uint16_t)n);
	memcpy(p + 2, s, n);
	return 2 + n;
}

int sp_writer__open(struct sp_writer **out, const char *path, const struct sp_header *h,
		    const struct sp_iface *ifaces, uint32_t n_ifaces)
{
	return sp_writer_open_flags(out, path, h, ifaces, n_ifaces, 0);
}

/* @flags: util_out_open()'s. A conversion of a whole file asks for
 * UTIL_OUT_DIRECT; a drain of held frames does not (its first write error
 * must show within a MiB, while the network is held). */
int sp_writer_open_flags(struct sp_writer **out, const char *path, const struct sp_header *h,
			 const struct sp_iface *ifaces, uint32_t n_ifaces, unsigned int flags)
{
	struct sp_writer *w;
	uint8_t *rec;
	size_t n;
	int err;

	if (!path || !h || n_ifaces > SP_MAX_IFACES || (n_ifaces && !ifaces))
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->n_ifaces = n_ifaces;
	err = util_out_open(&w->out, path, flags);
	if (err)
		goto fail;
	uint8_t pro[SP_PROLOGUE_LEN];

	memcpy(pro, SP_MAGIC, 8);
	put16(pro + 8, SP_VERSION_MAJOR);
	put16(pro + 10, SP_VERSION_MINOR);
	put32(pro + 12, 0);
	w->file_crc = sp__crc32c(0, pro, SP_PROLOGUE_LEN);
	w->bytes = SP_PROLOGUE_LEN;
	err = util_out_write(w->out, pro, SP_PROLOGUE_LEN);
	if (err)
		goto fail;

	rec = reserve(w, 4096);
	if (!rec) {
		err = w->err;
		goto fail;
	}
	put64(rec + 8, h->epoch);
	put64(rec + 16, h->created_ns);
	put32(rec + 24, n_ifaces);
	put32(rec + 28, 0);
	n = 24;
	n += put_str(rec + 8 + n, h->host);
	n += put_str(rec + 8 + n, h->tool);
	commit(w, rec, SP_REC_HEADER, (uint32_t)n);

	for (uint32_t i = 0; i < n_ifaces; i++) {
		const struct sp_iface *f = &ifaces[i];

		rec = reserve(w, 1024);
		if (!rec) {
			err = w->err;
			goto fail;
		}
		put32(rec + 8, f->ifindex);
		memcpy(rec + 12, f->mac, 6);
		rec[18] = f->role;
		rec[19] = 0;
		n = 12;
		n += put_str(rec + 8 + n, f->name);
		n += put_str(rec + 8 + n, f->vm);
		n += put_str(rec + 8 + n, f->host);
		commit(w, rec, SP_REC_IFACE, (uint32_t)n);
	}
	*out = w;
	return 0;
fail:
	sp_writer__discard(w);
	return err;
}

int sp_writer__frame(struct sp_writer *w, const struct sp_frame *f)
{
	uint8_t *rec;

	if (w->err)
		return w->err;
	if (f->iface >= w->n_ifaces || f->dir > SP_DIR_IN || f->cap_len > SP_MAX_FRAME ||
	    f->cap_len > f->orig_len || (f->cap_len && !f->data))
		return -EINVAL;
	rec = reserve(w, sp_rec_len(SP_FRAME_HEAD + f->cap_len));
	if (!rec)
		return w->err;
	put64(rec + 8, f->seq);
	put64(rec + 16, f->ts_ns);
	put32(rec + 24, f->iface);
	rec[28] = f->dir;
	rec[29] = 0;
	put16(rec + 30, f->flags);
	put32(rec + 32, f->orig_len);
	put32(rec + 36, f->cap_len);
	memcpy(rec + 8 + SP_FRAME_HEAD, f->data, f->cap_len);
	commit(w, rec, SP_REC_FRAME, SP_FRAME_HEAD + f->cap_len);
	w->frames++;
	return 0;
}

int sp_writer__note(struct sp_writer *w, const char *text)
{
	size_t n = strlen(text);
	uint8_t *rec;

	if (w->err)
		return w->err;
	if (n > SP_MAX_NOTE)
		return -EINVAL;
	rec = reserve(w, sp_rec_len(4 + (uint32_t)n));
	if (!rec)
		return w->err;
	put32(rec + 8, (uint32_t)n);
	memcpy(rec + 12, text, n);
	commit(w, rec, SP_REC_NOTE, 4 + (uint32_t)n);
	return 0;
}

uint64_t sp_writer__frames(const struct sp_writer *w)
{
	return w->frames;
}

int sp_writer__close(struct sp_writer *w)
{
	uint8_t *rec;
	int err;

	if (w->err) {
		err = w->err;
		goto fail;
	}
	rec = reserve(w, 64);
	if (!rec) {
		err = w->err;
		goto fail;
	}
	put64(rec + 8, w->frames);
	put64(rec + 16, w->records);
	put64(rec + 24, w->bytes);
	put32(rec + 32, w->file_crc);
	put32(rec + 36, 0);
	commit(w, rec, SP_REC_TRAILER, SP_TRAILER_BODY);
	if (w->err) {
		err = w->err;
		goto fail;
	}
	err = util_out_commit(w->out);
	w->out = NULL;
	sp_writer__discard(w);
	return err;
fail:
	sp_writer__discard(w);
	return err;
}

void sp_writer__discard(struct sp_writer *w)
{
	if (!w)
		return;
	util_out_discard(w->out);
	free(w);
}
