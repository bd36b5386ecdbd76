// SPDX-License-Identifier: MIT
/*
 * The validating .sp reader. Every record is bounded (1 MiB) before anything
 * is allocated, checked (CRC32C) before it is parsed, and every field is
 * checked against its record before it is used. The first damage is
 * described once, with the frame index and byte offset; in salvage mode it
 * ends the frames instead of failing.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sp-format/format.h"
#include "sp-format/internal.h"

#define MAX_NOTES	4096
#define READ_BUF	(1u << 20)
#define MAX_NOTE_BYTES	(4u << 20)

struct sp_reader {
	FILE *f;
	char *iobuf;			/* f's buffer: READ_BUF bytes */
	char *name;
	unsigned flags;
	struct sp_header hdr;
	struct sp_iface **ifaces;	/* one allocation per IFACE record read */
	uint32_t n_ifaces, ifaces_cap;
	uint8_t *rec;
	uint32_t rec_len, rec_cap;
	uint64_t off;			/* file offset of the next record */
	uint64_t rec_off;		/* file offset of the current record */
	uint64_t frames, records;
	uint32_t file_crc;
	bool ended, complete, damaged;
	char err[SP_ERR_MAX];
	char **notes;
	uint32_t n_notes;
	size_t note_bytes;
};

__attribute__((format(printf, 2, 3)))
static int damage(struct sp_reader *r, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	if (!r->damaged) {
		va_start(ap, fmt);
		vsnprintf(what, sizeof(what), fmt, ap);
		va_end(ap);
		snprintf(r->err, sizeof(r->err), "%s: frame %llu, byte %llu: %s", r->name,
			 (unsigned long long)r->frames, (unsigned long long)r->rec_off, what);
		r->damaged = true;
	}
	return -EBADMSG;
}

/* Read exactly @n bytes; returns the count read (short at end of file). */
static size_t read_full(struct sp_reader *r, void *buf, size_t n)
{
	size_t got = fread(buf, 1, n, r->f);

	r->off += got;
	return got;
}

/* Next record into r->rec. 1: a record; 0: clean end of file; <0: damage. */
static int read_record(struct sp_reader *r, uint32_t *type)
{
	uint8_t head[SP_REC_HEAD];
	size_t got;
	uint32_t len;

	r->rec_off = r->off;
	got = read_full(r, head, sizeof(head));
	if (got == 0)
		return ferror(r->f) ? damage(r, "read error: %s", strerror(errno)) : 0;
	if (got < sizeof(head))
		return damage(r, "truncated record head (%zu of 8 bytes)", got);
	*type = get32(head);
	len = get32(head + 4);
	if (len < SP_REC_MIN || len % 8 || len > SP_REC_MAX)
		return damage(r, "bad record length %u (type %u)", len, *type);
	if (len > r->rec_cap) {	/* grows to the largest record, at most 1 MiB */
		uint32_t cap = (len + 65535) & ~65535u;
		uint8_t *n = realloc(r->rec, cap);

		if (!n)
			return damage(r, "out of memory");
		r->rec = n;
		r->rec_cap = cap;
	}
	memcpy(r->rec, head, sizeof(head));
	got = read_full(r, r->rec + SP_REC_HEAD, len - SP_REC_HEAD);
	if (got < len - SP_REC_HEAD)
		return damage(r, "record of %u bytes goes past the end of the file (%zu left)",
			      len, got + SP_REC_HEAD);
	if (get32(r->rec + len - 4) != sp__crc32c(0, r->rec, len - 4))
		return damage(r, "bad CRC in record type %u", *type);
	r->rec_len = len;
	return 1;
}

/* @used bytes of a body must fit its record. With @whole, @used is the whole
 * known body: when the record is exactly that long, its padding must be
 * zero (longer bodies come from newer minor versions and are accepted). */
static int check_body(struct sp_reader *r, uint32_t used, const char *what, bool whole)
{
	uint32_t room = r->rec_len - SP_REC_HEAD - 4;

	if (used > room)
		return damage(r, "%s needs %u bytes, its record holds %u", what, used, room);
	if (whole && sp_rec_len(used) == r->rec_len)
		for (uint32_t i = SP_REC_HEAD + used; i < r->rec_len - 4; i++)
			if (r->rec[i])
				return damage(r, "non-zero padding in %s", what);
	return 0;
}

static int get_str(struct sp_reader *r, uint32_t *pos, char *dst, const char *what)
{
	uint32_t room = r->rec_len - SP_REC_HEAD - 4;
	uint16_t n;

	if (*pos + 2 > room)
		return damage(r, "%s: string length past the record", what);
	n = get16(r->rec + SP_REC_HEAD + *pos);
	if (n > SP_STR_MAX || *pos + 2 + n > room)
		return damage(r, "%s: string of %u bytes does not fit", what, n);
	memcpy(dst, r->rec + SP_REC_HEAD + *pos + 2, n);
	dst[n] = 0;
	*pos += 2 + n;
	return 0;
}

static void account(struct sp_reader *r)
{
	r->file_crc = sp__crc32c(r->file_crc, r->rec, r->rec_len);
	r->records++;
}

/* An unknown type: skip an ancillary one, refuse a critical one. */
static int unknown(struct sp_reader *r, uint32_t type)
{
	if (type & SP_REC_CRITICAL)
		return damage(r, "unsupported critical record type 0x%x", type);
	account(r);
	return 0;
}

static int parse_note(struct sp_reader *r)
{
	uint32_t n;
	char *s;

	if (check_body(r, 4, "note", false))
		return -EBADMSG;
	n = get32(r->rec + SP_REC_HEAD);
	if (n > SP_MAX_NOTE)
		return damage(r, "note of %u bytes (limit %u)", n, SP_MAX_NOTE);
	if (check_body(r, 4 + n, "note", true))
		return -EBADMSG;
	account(r);
	if (r->n_notes >= MAX_NOTES || r->note_bytes + n > MAX_NOTE_BYTES)
		return 0;	/* counted and checked, not kept */
	if (!r->notes && !(r->notes = calloc(MAX_NOTES, sizeof(char *))))
		return damage(r, "out of memory");
	s = malloc(n + 1);
	if (!s)
		return damage(r, "out of memory");
	memcpy(s, r->rec + SP_REC_HEAD + 4, n);
	s[n] = 0;
	r->notes[r->n_notes++] = s;
	r->note_bytes += n;
	return 0;
}

static int parse_header(struct sp_reader *r)
{
	const uint8_t *b = r->rec + SP_REC_HEAD;
	uint32_t pos = 24;

	if (check_body(r, 24, "header", false))
		return -EBADMSG;
	r->hdr.epoch = get64(b);
	r->hdr.created_ns = get64(b + 8);
	r->n_ifaces = get32(b + 16);
	if (r->n_ifaces > SP_MAX_IFACES)
		return damage(r, "absurd interface count %u (limit %u)", r->n_ifaces, SP_MAX_IFACES);
	if (get_str(r, &pos, r->hdr.host, "header host") ||
	    get_str(r, &pos, r->hdr.tool, "header tool") || check_body(r, pos, "header", true))
		return -EBADMSG;
	/* Nothing is allocated for the count itself: the table grows as
	 * IFACE records arrive, so a count without records costs nothing. */
	account(r);
	return 0;
}

/* Room for interface @i: the pointer table doubles (at most 4096 pointers,
 * 32 KiB), and each interface is its own small allocation. */
static struct sp_iface *iface_slot(struct sp_reader *r, uint32_t i)
{
	if (i >= r->ifaces_cap) {
		uint32_t cap = r->ifaces_cap ? r->ifaces_cap * 2 : 8;
		struct sp_iface **n;

		if (cap > r->n_ifaces)
			cap = r->n_ifaces;
		n = realloc(r->ifaces, (size_t)cap * sizeof(*n));
		if (!n)
			return NULL;
		memset(n + r->ifaces_cap, 0, (size_t)(cap - r->ifaces_cap) * sizeof(*n));
		r->ifaces = n;
		r->ifaces_cap = cap;
	}
	if (!r->ifaces[i])
		r->ifaces[i] = calloc(1, sizeof(**r->ifaces));
	return r->ifaces[i];
}

static int parse_iface(struct sp_reader *r, uint32_t i)
{
	const uint8_t *b = r->rec + SP_REC_HEAD;
	uint32_t pos = 12;
	struct sp_iface *f;

	if (check_body(r, 12, "interface", false))
		return -EBADMSG;
	if (!(f = iface_slot(r, i)))
		return damage(r, "out of memory");
	f->ifindex = get32(b);
	memcpy(f->mac, b + 4, 6);
	f->role = b[10];
	if (f->role > SP_ROLE_UPLINK)
		return damage(r, "unknown interface role %u", f->role);
	if (get_str(r, &pos, f->name, "interface name") ||
	    get_str(r, &pos, f->vm, "interface vm") ||
	    get_str(r, &pos, f->host, "interface host") || check_body(r, pos, "interface", true))
		return -EBADMSG;
	account(r);
	return 0;
}

static int open_common(struct sp_reader *r, char *err)
{
	uint8_t pro[SP_PROLOGUE_LEN];
	uint32_t type = 0, seen = 0;
	int ret;

	r->rec_off = 0;
	if (read_full(r, pro, sizeof(pro)) < sizeof(pro)) {
		ret = damage(r, "too short for a .sp file (%llu bytes)", (unsigned long long)r->off);
		goto fail;
	}
	if (memcmp(pro, SP_MAGIC, 8)) {
		ret = damage(r, "not a .sp file (bad magic)");
		goto fail;
	}
	if (get16(pro + 8) != SP_VERSION_MAJOR) {
		ret = damage(r, "unsupported format version %u.%u (this reader: %u.x)",
			     get16(pro + 8), get16(pro + 10), SP_VERSION_MAJOR);
		goto fail;
	}
	r->file_crc = sp__crc32c(0, pro, sizeof(pro));
	ret = read_record(r, &type);
	if (ret == 0)
		ret = damage(r, "no header record");
	if (ret < 0)
		goto fail;
	if (type != SP_REC_HEADER) {
		ret = damage(r, "first record is type %u, not a header", type);
		goto fail;
	}
	if ((ret = parse_header(r)))
		goto fail;
	while (seen < r->n_ifaces) {
		ret = read_record(r, &type);
		if (ret == 0)
			ret = damage(r, "file ends after %u of %u interfaces", seen, r->n_ifaces);
		if (ret < 0)
			goto fail;
		if (type == SP_REC_IFACE)
			ret = parse_iface(r, seen++);
		else if (type == SP_REC_NOTE)
			ret = parse_note(r);
		else if (type == SP_REC_HEADER || type == SP_REC_FRAME || type == SP_REC_TRAILER)
			ret = damage(r, "record type %u before all %u interfaces", type, r->n_ifaces);
		else
			ret = unknown(r, type);
		if (ret)
			goto fail;
	}
	return 0;
fail:
	if (err)
		snprintf(err, SP_ERR_MAX, "%s", r->err);
	return ret;
}

static struct sp_reader *reader_new(const char *name, unsigned flags)
{
	struct sp_reader *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->flags = flags;
	r->name = strdup(name);
	if (!r->name) {
		free(r);
		return NULL;
	}
	return r;
}

int sp_reader__open(struct sp_reader **out, const char *path, unsigned flags)
{
	char *err = sp_err();
	struct sp_reader *r = reader_new(path, flags);
	int ret;

	if (!r)
		return -ENOMEM;
	r->f = fopen(path, "rb");
	if (!r->f) {
		ret = -errno;
		if (err)
			snprintf(err, SP_ERR_MAX, "%s: %s", path, strerror(errno));
		sp_reader__close(r);
		return ret;
	}
	/* A buffer of our own: given NULL, glibc keeps its 4 KiB one (a read
	 * call every few frames). */
	if ((r->iobuf = malloc(READ_BUF)))
		setvbuf(r->f, r->iobuf, _IOFBF, READ_BUF);
	ret = open_common(r, err);
	if (ret) {
		sp_reader__close(r);
		return ret;
	}
	*out = r;
	return 0;
}

int sp_reader__open_mem(struct sp_reader **out, const void *buf, size_t len, unsigned flags)
{
	char *err = sp_err();
	struct sp_reader *r = reader_new("<memory>", flags);
	int ret;

	if (!r)
		return -ENOMEM;
	if (len == 0) {
		if (err)
			snprintf(err, SP_ERR_MAX, "<memory>: frame 0, byte 0: empty");
		sp_reader__close(r);
		return -EBADMSG;
	}
	r->f = fmemopen((void *)buf, len, "rb");
	if (!r->f) {
		ret = -errno;
		sp_reader__close(r);
		return ret;
	}
	ret = open_common(r, err);
	if (ret) {
		sp_reader__close(r);
		return ret;
	}
	*out = r;
	return 0;
}

static int parse_frame(struct sp_reader *r, struct sp_frame *f)
{
	const uint8_t *b = r->rec + SP_REC_HEAD;

	if (check_body(r, SP_FRAME_HEAD, "frame", false))
		return -EBADMSG;
	f->seq = get64(b);
	f->ts_ns = get64(b + 8);
	f->iface = get32(b + 16);
	f->dir = b[20];
	f->flags = get16(b + 22);
	f->orig_len = get32(b + 24);
	f->cap_len = get32(b + 28);
	if (f->iface >= r->n_ifaces)
		return damage(r, "interface %u out of range (%u interfaces)", f->iface, r->n_ifaces);
	if (f->dir > SP_DIR_IN)
		return damage(r, "bad direction %u", f->dir);
	if (f->cap_len > SP_MAX_FRAME)
		return damage(r, "captured length %u above the limit %u", f->cap_len, SP_MAX_FRAME);
	if (f->cap_len > f->orig_len)
		return damage(r, "captured length %u above original length %u",
			      f->cap_len, f->orig_len);
	if (check_body(r, SP_FRAME_HEAD + f->cap_len, "frame", true))
		return -EBADMSG;
	f->data = b + SP_FRAME_HEAD;
	account(r);
	r->frames++;
	return 1;
}

static int parse_trailer(struct sp_reader *r)
{
	const uint8_t *b = r->rec + SP_REC_HEAD;
	uint64_t frames, records, bytes;
	uint32_t crc;

	if (check_body(r, SP_TRAILER_BODY, "trailer", true))
		return -EBADMSG;
	frames = get64(b);
	records = get64(b + 8);
	bytes = get64(b + 16);
	crc = get32(b + 24);
	if (frames != r->frames)
		return damage(r, "trailer counts %llu frames, the file has %llu",
			      (unsigned long long)frames, (unsigned long long)r->frames);
	if (records != r->records || bytes != r->rec_off)
		return damage(r, "trailer counts %llu records in %llu bytes, the file has %llu in %llu",
			      (unsigned long long)records, (unsigned long long)bytes,
			      (unsigned long long)r->records, (unsigned long long)r->rec_off);
	if (crc != r->file_crc)
		return damage(r, "file checksum mismatch");
	if (fgetc(r->f) != EOF) {
		r->rec_off = r->off;
		return damage(r, "data after the trailer");
	}
	return 0;
}

/* next()'s failure into sp__errmsg(): the damage, or what the errno says. */
static int next_failed(struct sp_reader *r, int ret)
{
	snprintf(sp_err(), SP_ERR_MAX, "%s", r->damaged ? r->err : strerror(-ret));
	return ret;
}

int sp_reader__next(struct sp_reader *r, struct sp_frame *f)
{
	uint32_t type;
	int ret;

	if (r->ended) {
		if (!r->damaged || (r->flags & SP_READ_SALVAGE))
			return 0;
		return next_failed(r, -EBADMSG);
	}
	for (;;) {
		ret = read_record(r, &type);
		if (ret == 0)
			ret = damage(r, "truncated: no trailer after %llu frames",
				     (unsigned long long)r->frames);
		if (ret < 0)
			break;
		if (type == SP_REC_FRAME) {
			ret = parse_frame(r, f);
			if (ret == 1)
				return 1;
		} else if (type == SP_REC_NOTE) {
			ret = parse_note(r);
		} else if (type == SP_REC_TRAILER) {
			ret = parse_trailer(r);
			if (ret == 0) {
				r->ended = r->complete = true;
				return 0;
			}
		} else if (type == SP_REC_HEADER || type == SP_REC_IFACE) {
			ret = damage(r, "a second %s record", type == SP_REC_HEADER ? "header" : "interface");
		} else {
			ret = unknown(r, type);
		}
		if (ret < 0)
			break;
	}
	r->ended = true;
	return (r->flags & SP_READ_SALVAGE) ? 0 : next_failed(r, ret);
}

const struct sp_header *sp_reader__header(const struct sp_reader *r) { return &r->hdr; }
uint32_t sp_reader__iface_count(const struct sp_reader *r) { return r->n_ifaces; }

const struct sp_iface *sp_reader__iface(const struct sp_reader *r, uint32_t i)
{
	return i < r->n_ifaces && i < r->ifaces_cap ? r->ifaces[i] : NULL;
}

bool sp_reader__complete(const struct sp_reader *r) { return r->complete; }
const char *sp_reader__damage(const struct sp_reader *r) { return r->damaged ? r->err : NULL; }
uint64_t sp_reader__damage_offset(const struct sp_reader *r) { return r->damaged ? r->rec_off : 0; }
uint32_t sp_reader__note_count(const struct sp_reader *r) { return r->n_notes; }

const char *sp_reader__note(const struct sp_reader *r, uint32_t i)
{
	return i < r->n_notes ? r->notes[i] : NULL;
}

void sp_reader__close(struct sp_reader *r)
{
	if (!r)
		return;
	if (r->f)
		fclose(r->f);
	free(r->iobuf);
	for (uint32_t i = 0; i < r->n_notes; i++)
		free(r->notes[i]);
	free(r->notes);
	for (uint32_t i = 0; i < r->ifaces_cap; i++)
		free(r->ifaces[i]);
	free(r->ifaces);
	free(r->rec);
	free(r->name);
	free(r);
}
