// SPDX-License-Identifier: MIT
/* The .sp library: round trips, atomic writes, and that every truncation and
 * every corrupted byte of a file is caught, with a message naming the frame
 * and the byte offset, and never crashes. */
#include <errno.h>
#include <ftw.h>
#include <malloc.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sp-format/sp.h"
#include "tests/unit/unit.h"

uint32_t sp__crc32c_portable(uint32_t crc, const void *buf, size_t len);

static char dir[] = "/tmp/stasis-test-sp.XXXXXX";
static uint8_t frame_buf[70000];

static const char *path(const char *name)
{
	static char p[4][256];
	static int k;

	k = (k + 1) % 4;
	if (!dir[strlen(dir) - 1] || dir[strlen(dir) - 1] == 'X')
		mkdtemp(dir);
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
	return p[k];
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(p);
}

/* The work folder goes when the tests are done. */
__attribute__((destructor)) static void rm_dir(void)
{
	if (dir[strlen(dir) - 1] != 'X')
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static uint32_t frame_len(uint64_t i) { return i == 3 ? 65536 : (uint32_t)(14 + (i * 37) % 1500); }

/* A file of @n frames with sizes from 14 to 65536 bytes and one note. */
static void write_sample(const char *p, uint64_t n)
{
	struct sp_header h = { .epoch = 42, .created_ns = 123456789 };
	struct sp_iface ifs[2] = { { .ifindex = 3, .role = SP_ROLE_TAP }, { .ifindex = 4, .role = SP_ROLE_UPLINK } };
	struct sp_writer *w;

	strcpy(h.host, "host-a");
	strcpy(h.tool, "unit");
	strcpy(ifs[0].name, "tap0");
	strcpy(ifs[0].vm, "vm0");
	strcpy(ifs[1].name, "up0");
	EXPECT(sp_writer__open(&w, p, &h, ifs, 2) == 0);
	for (uint64_t i = 0; i < n; i++) {
		uint32_t len = frame_len(i);
		struct sp_frame f = { .seq = 100 + i, .ts_ns = 1000 * i, .iface = (uint32_t)(i & 1),
				      .dir = (uint8_t)((i >> 1) & 1), .flags = len > 9000 ? SP_F_GSO : 0,
				      .orig_len = len, .cap_len = len, .data = frame_buf };

		for (uint32_t k = 0; k < len; k++)
			frame_buf[k] = (uint8_t)(i * 7 + k);
		EXPECT(sp_writer__frame(w, &f) == 0);
		if (i == 1)
			EXPECT(sp_writer__note(w, "a note") == 0);
	}
	EXPECT(sp_writer__frames(w) == n);
	EXPECT(sp_writer__close(w) == 0);
}

static uint8_t *slurp(const char *p, size_t *len)
{
	FILE *f = fopen(p, "rb");
	uint8_t *b;

	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	rewind(f);
	b = malloc(*len ? *len : 1);
	if (fread(b, 1, *len, f) != *len)
		*len = 0;
	fclose(f);
	return b;
}

static uint64_t last_damage;	/* count_mem: the reader's damage offset */

/* Frames read from a buffer; -1 when open failed. Sets *complete, *err. */
static int count_mem(const uint8_t *b, size_t len, unsigned flags, bool *complete, char *err)
{
	struct sp_reader *r;
	struct sp_frame f;
	int n = 0, ret;

	err[0] = 0;
	*complete = false;
	last_damage = 0;
	if (sp_reader__open_mem(&r, b, len, flags)) {
		snprintf(err, SP_ERR_MAX, "%s", sp__errmsg());
		return -1;
	}
	while ((ret = sp_reader__next(r, &f)) == 1)
		n++;
	*complete = sp_reader__complete(r);
	last_damage = sp_reader__damage_offset(r);
	if (sp_reader__damage(r))
		snprintf(err, SP_ERR_MAX, "%s", sp_reader__damage(r));
	if (ret < 0 && (flags & SP_READ_SALVAGE))
		n = -100;	/* salvage must not fail */
	sp_reader__close(r);
	return n;
}

UNIT_TEST(crc32c_hw_matches_portable)
{
	size_t len;

	write_sample(path("crc.sp"), 5);
	uint8_t *b = slurp(path("crc.sp"), &len);

	for (size_t off = 0; off < 16; off++)
		EXPECT(sp__crc32c(0, b + off, len - off) == sp__crc32c_portable(0, b + off, len - off));
	free(b);
}

UNIT_TEST(round_trip)
{
	struct sp_reader *r;
	struct sp_frame f;
	uint64_t i = 0;

	write_sample(path("rt.sp"), 10);
	EXPECT(sp_reader__open(&r, path("rt.sp"), 0) == 0);
	EXPECT(sp_reader__header(r)->epoch == 42);
	EXPECT(strcmp(sp_reader__header(r)->host, "host-a") == 0);
	EXPECT(sp_reader__iface_count(r) == 2);
	EXPECT(strcmp(sp_reader__iface(r, 0)->vm, "vm0") == 0);
	EXPECT(sp_reader__iface(r, 1)->role == SP_ROLE_UPLINK);
	EXPECT(sp_reader__iface(r, 2) == NULL);
	while (sp_reader__next(r, &f) == 1) {
		bool ok = f.seq == 100 + i && f.ts_ns == 1000 * i && f.cap_len == frame_len(i) &&
			  f.iface == (i & 1) && f.dir == ((i >> 1) & 1);

		for (uint32_t k = 0; ok && k < f.cap_len; k++)
			ok = f.data[k] == (uint8_t)(i * 7 + k);
		EXPECT(ok);
		i++;
	}
	EXPECT(i == 10);
	EXPECT(sp_reader__complete(r));
	EXPECT(sp_reader__damage(r) == NULL);
	EXPECT(sp_reader__note_count(r) == 1 && strcmp(sp_reader__note(r, 0), "a note") == 0);
	sp_reader__close(r);
}

UNIT_TEST(writer_is_atomic)
{
	struct sp_header h = { 0 };
	struct sp_writer *w;

	unlink(path("atomic.sp"));
	EXPECT(sp_writer__open(&w, path("atomic.sp"), &h, NULL, 0) == 0);
	EXPECT(access(path("atomic.sp"), F_OK) != 0);	/* not there before close */
	sp_writer__discard(w);
	EXPECT(access(path("atomic.sp"), F_OK) != 0);
	EXPECT(sp_writer__open(&w, path("atomic.sp"), &h, NULL, 0) == 0);
	EXPECT(sp_writer__close(w) == 0);
	EXPECT(access(path("atomic.sp"), F_OK) == 0);
	/* Bad frames are refused, not written. */
	struct sp_iface one = { .role = SP_ROLE_TAP };

	EXPECT(sp_writer__open(&w, path("bad.sp"), &h, &one, 1) == 0);
	struct sp_frame f = { .iface = 1, .cap_len = 1, .orig_len = 1, .data = frame_buf };

	EXPECT(sp_writer__frame(w, &f) == -EINVAL);
	f.iface = 0;
	f.cap_len = SP_MAX_FRAME + 1;
	f.orig_len = f.cap_len;
	EXPECT(sp_writer__frame(w, &f) == -EINVAL);
	f.cap_len = 2;
	f.orig_len = 1;
	EXPECT(sp_writer__frame(w, &f) == -EINVAL);
	sp_writer__discard(w);
	EXPECT(sp_writer__open(&w, "/nonexistent-dir/x.sp", &h, NULL, 0) == -ENOENT);
}

UNIT_TEST(every_truncation_is_caught)
{
	char err[SP_ERR_MAX];
	size_t len, bad = 0, unnamed = 0;
	bool complete;

	write_sample(path("tr.sp"), 6);
	uint8_t *b = slurp(path("tr.sp"), &len);

	EXPECT(count_mem(b, len, 0, &complete, err) == 6 && complete);
	for (size_t cut = 0; cut < len; cut++) {
		/* Strict: never complete, and the error names frame and byte. */
		count_mem(b, cut, 0, &complete, err);
		if (complete)
			bad++;
		if (!strstr(err, "frame ") || !strstr(err, "byte "))
			unnamed++;
		/* Salvage: never complete, never fails after open, at most 6. */
		int s = count_mem(b, cut, SP_READ_SALVAGE, &complete, err);

		if (complete || s < -1 || s > 6)
			bad++;
	}
	EXPECT(bad == 0);
	EXPECT(unnamed == 0);
	free(b);
}

UNIT_TEST(salvage_returns_the_intact_prefix)
{
	char err[SP_ERR_MAX];
	size_t len;
	bool complete;

	write_sample(path("sv.sp"), 6);
	uint8_t *b = slurp(path("sv.sp"), &len);

	/* Cut inside the trailer: all 6 frames are intact. The trailer is the
	 * file's last record, align8(8 + 32 + 4) = 48 bytes: the damage starts
	 * where it does, and the message says that offset. */
	char want[64];

	EXPECT(count_mem(b, len - 10, SP_READ_SALVAGE, &complete, err) == 6 && !complete);
	EXPECT(strstr(err, "frame 6") != NULL);
	EXPECT(last_damage == len - 48);
	snprintf(want, sizeof(want), "byte %zu:", len - 48);
	EXPECT(strstr(err, want) != NULL);
	/* Cut inside the third frame's record: two frames, and the damage
	 * starts at that record. It follows the header, two interfaces, frames
	 * 0 and 1 and the note after frame 1: six records, each stepped over
	 * by its own length field (bytes 4-7). */
	size_t third = 16;

	for (int k = 0; k < 6; k++)
		third += (size_t)b[third + 4] | (size_t)b[third + 5] << 8 | (size_t)b[third + 6] << 16;
	EXPECT(b[third] == 3);	/* a FRAME record */
	EXPECT(count_mem(b, third + 20, SP_READ_SALVAGE, &complete, err) == 2 && !complete);
	EXPECT(last_damage == third);
	/* Without salvage the same file is an error. */
	EXPECT(count_mem(b, len - 10, 0, &complete, err) == 6 && !complete);
	free(b);
}

UNIT_TEST(every_corrupted_byte_is_caught)
{
	char err[SP_ERR_MAX];
	size_t len, missed = 0;
	bool complete;

	write_sample(path("cb.sp"), 4);
	uint8_t *b = slurp(path("cb.sp"), &len);

	for (size_t off = 0; off < len; off += (off > 2000 && off < len - 2000) ? 97 : 1) {
		b[off] ^= 0x01;
		count_mem(b, len, 0, &complete, err);
		if (complete)
			missed++;
		b[off] ^= 0x01;
	}
	EXPECT(missed == 0);
	free(b);
}

UNIT_TEST(bad_headers_have_clear_messages)
{
	char err[SP_ERR_MAX];
	size_t len;
	bool complete;

	write_sample(path("bh.sp"), 2);
	uint8_t *b = slurp(path("bh.sp"), &len);

	b[0] = 'X';
	EXPECT(count_mem(b, len, 0, &complete, err) == -1 && strstr(err, "bad magic"));
	b[0] = 0x89;
	b[8] = 9;
	EXPECT(count_mem(b, len, 0, &complete, err) == -1 && strstr(err, "version 9.0"));
	b[8] = 1;
	/* An absurd record length: refused before anything is allocated. */
	b[16 + 4] = 0xf8;
	b[16 + 7] = 0x7f;
	EXPECT(count_mem(b, len, 0, &complete, err) == -1 && strstr(err, "bad record length"));
	free(b);
	EXPECT(count_mem((const uint8_t *)"", 0, 0, &complete, err) == -1);
	struct sp_reader *r;

	EXPECT(sp_reader__open(&r, path("does-not-exist.sp"), 0) == -ENOENT);
	EXPECT(strstr(sp__errmsg(), "does-not-exist.sp") != NULL);
}

UNIT_TEST(fix_checksums_known_vector)
{
	/* An IPv4 header whose checksum is well known: 0xb861. */
	uint8_t f[14 + 20] = { [12] = 0x08, [13] = 0x00,
		0x45, 0x00, 0x00, 0x14, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xff, 0xff,
		0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };

	/* Total length 20 (no payload) for this test: checksum of that header. */
	EXPECT(sp__fix_checksums(f, sizeof(f)) == 1);
	/* RFC 1071: the sum over a header with its checksum is 0xffff. */
	uint32_t s = 0;

	for (int i = 14; i < 34; i += 2)
		s += (uint32_t)(f[i] << 8 | f[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	EXPECT(s == 0xffff);
	f[16] = 0x00; f[17] = 0x73;	/* claims 115 bytes: too short a frame */
	EXPECT(sp__fix_checksums(f, sizeof(f)) == -EINVAL);
	uint8_t arp[60] = { [12] = 0x08, [13] = 0x06 };

	EXPECT(sp__fix_checksums(arp, sizeof(arp)) == 0);
}

static int frames_of(const char *p, uint32_t *lens, uint16_t *flags, int max)
{
	struct sp_reader *r;
	struct sp_frame f;
	int n = 0;

	if (sp_reader__open(&r, p, 0))
		return -1;
	while (sp_reader__next(r, &f) == 1) {
		if (n < max) {
			lens[n] = f.cap_len;
			flags[n] = f.flags;
		}
		n++;
	}
	if (!sp_reader__complete(r))
		n = -2;
	sp_reader__close(r);
	return n;
}

UNIT_TEST(edit_set_delete_insert)
{
	uint8_t four[4] = { 1, 2, 3, 4 }, ins[20] = { 9 };
	struct sp_edit e[] = {
		{ .op = SP_EDIT_SET, .frame = 0, .offset = 10, .len = 4, .bytes = four },
		{ .op = SP_EDIT_DELETE, .frame = 1 },
		{ .op = SP_EDIT_INSERT, .frame = 2, .len = 20, .bytes = ins },
		{ .op = SP_EDIT_INSERT, .frame = 5, .len = 20, .bytes = ins },	/* append */
		{ .op = SP_EDIT_SET, .frame = 4, .offset = frame_len(4), .len = 4, .bytes = four },
	};
	uint32_t lens[16];
	uint16_t flags[16];

	write_sample(path("ed.sp"), 5);
	EXPECT(sp__edit(path("ed.sp"), path("ed2.sp"), e, 5, false) == 0);
	EXPECT(frames_of(path("ed2.sp"), lens, flags, 16) == 6);
	EXPECT(flags[0] & SP_F_EDITED);
	EXPECT(lens[1] == 20 && (flags[1] & SP_F_INJECTED));	/* before old frame 2 */
	EXPECT(lens[2] == frame_len(2) && !(flags[2] & SP_F_EDITED));
	EXPECT(lens[4] == frame_len(4) + 4);			/* grew */
	EXPECT(lens[5] == 20 && (flags[5] & SP_F_INJECTED));
	/* Out of range: an error, and no output file. */
	struct sp_edit far = { .op = SP_EDIT_DELETE, .frame = 5 };

	unlink(path("ed3.sp"));
	EXPECT(sp__edit(path("ed.sp"), path("ed3.sp"), &far, 1, false) == -ERANGE);
	EXPECT(strstr(sp__errmsg(), "out of range") != NULL);
	EXPECT(access(path("ed3.sp"), F_OK) != 0);
}

UNIT_TEST(mutate_is_deterministic_and_stays_in_range)
{
	struct sp_mutate_opts o = { .sz = sizeof(o), .frame = 2, .from = 20, .to = 27, .cases = 40, .seed = 99 };
	char a[64], b[64];
	size_t la, lb, outside = 0, differ = 0;

	write_sample(path("mu.sp"), 4);
	EXPECT(sp__mutate(path("mu.sp"), path("m1"), &o) == 0);
	EXPECT(sp__mutate(path("mu.sp"), path("m2"), &o) == 0);
	for (uint32_t i = 0; i < o.cases; i++) {
		struct sp_reader *r;
		struct sp_frame f;

		snprintf(a, sizeof(a), "m1/case-%06u.sp", i);
		snprintf(b, sizeof(b), "m2/case-%06u.sp", i);
		uint8_t *x = slurp(path(a), &la), *y = slurp(path(b), &lb);

		if (la != lb || memcmp(x, y, la))
			differ++;
		free(x);
		free(y);
		EXPECT(sp_reader__open(&r, path(a), 0) == 0);
		for (int k = 0; sp_reader__next(r, &f) == 1; k++) {
			if (k != 2 || f.cap_len != frame_len(2))
				continue;
			for (uint32_t j = 0; j < f.cap_len; j++)
				if ((j < 20 || j > 27) && f.data[j] != (uint8_t)(2 * 7 + j))
					outside++;
		}
		/* The case note, then the input's own note. */
		EXPECT(sp_reader__complete(r) && sp_reader__note_count(r) == 2 &&
		       strstr(sp_reader__note(r, 0), "\"seed\":99") != NULL);
		sp_reader__close(r);
	}
	EXPECT(differ == 0);	/* same seed, same bytes */
	EXPECT(outside == 0);
	o.frame = 9;
	EXPECT(sp__mutate(path("mu.sp"), path("m3"), &o) == -ERANGE);
}

UNIT_TEST(merge_orders_by_time)
{
	const char *in[2];
	uint32_t lens[32];
	uint16_t flags[32];
	struct sp_reader *r;
	struct sp_frame f;
	uint64_t last = 0;
	bool ordered = true;

	write_sample(path("g1.sp"), 5);
	write_sample(path("g2.sp"), 7);
	in[0] = path("g1.sp");
	in[1] = path("g2.sp");
	EXPECT(sp__merge(in, 2, path("gm.sp")) == 0);
	EXPECT(frames_of(path("gm.sp"), lens, flags, 32) == 12);
	EXPECT(sp_reader__open(&r, path("gm.sp"), 0) == 0);
	EXPECT(sp_reader__iface_count(r) == 4);
	EXPECT(strcmp(sp_reader__iface(r, 3)->host, "host-a") == 0);
	while (sp_reader__next(r, &f) == 1) {
		ordered = ordered && f.ts_ns >= last;
		last = f.ts_ns;
	}
	EXPECT(ordered);
	sp_reader__close(r);
}

UNIT_TEST(tiny_frames_round_trip)
{
	struct sp_header h = { 0 };
	struct sp_iface one = { .role = SP_ROLE_OTHER };
	struct sp_writer *w;
	struct sp_reader *r;
	struct sp_frame f;
	uint32_t n = 0;
	bool ok = true;

	/* Lengths 0-16 put the frame's bytes where padding would be for a
	 * shorter body: the reader must tell them apart. */
	EXPECT(sp_writer__open(&w, path("tiny.sp"), &h, &one, 1) == 0);
	for (uint32_t len = 0; len <= 16; len++) {
		struct sp_frame x = { .seq = len, .orig_len = len, .cap_len = len, .data = frame_buf };

		memset(frame_buf, 0xa5, 16);
		EXPECT(sp_writer__frame(w, &x) == 0);
	}
	EXPECT(sp_writer__close(w) == 0);
	EXPECT(sp_reader__open(&r, path("tiny.sp"), 0) == 0);
	while (sp_reader__next(r, &f) == 1) {
		ok = ok && f.cap_len == n && f.seq == n;
		for (uint32_t k = 0; k < f.cap_len; k++)
			ok = ok && f.data[k] == 0xa5;
		n++;
	}
	EXPECT(ok && n == 17 && sp_reader__complete(r));
	sp_reader__close(r);
}

/* ---- files built byte by byte ----------------------------------------------
 * Records laid out here from docs/sp-format.md, not by the library's writer,
 * so that the reader is checked against the document: a file with what the
 * writer never writes (unknown record types, counts without records, fields
 * out of range), each record with a good CRC so that only the field named is
 * wrong. */
struct fb {
	uint8_t b[16384];
	size_t n;
	uint64_t records, frames;
};

static void fb_bytes(struct fb *f, const void *p, size_t n)
{
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

static void fb_le(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Appends a record; returns its offset. */
static size_t fb_rec(struct fb *f, uint32_t type, const uint8_t *body, uint32_t n)
{
	size_t at = f->n;
	uint32_t len = (8 + n + 4 + 7) & ~7u;

	memset(f->b + at, 0, len);
	fb_le(f->b + at, type, 4);
	fb_le(f->b + at + 4, len, 4);
	memcpy(f->b + at + 8, body, n);
	fb_le(f->b + at + len - 4, sp__crc32c(0, f->b + at, len - 4), 4);
	f->n += len;
	f->records++;
	return at;
}

static uint32_t fb_str(uint8_t *p, const char *s)
{
	fb_le(p, strlen(s), 2);
	memcpy(p + 2, s, strlen(s));
	return 2 + (uint32_t)strlen(s);
}

/* Prologue and HEADER claiming @ifaces interfaces, with @extra zero bytes
 * after the known fields (a newer minor version's). */
static void fb_start(struct fb *f, uint32_t ifaces, uint32_t extra)
{
	uint8_t body[128] = { 0 };
	uint32_t n = 24;

	memset(f, 0, sizeof(*f));
	fb_bytes(f, "\x89SPK\r\n\x1a\n\x01\x00\x00\x00\x00\x00\x00\x00", 16);
	fb_le(body, 42, 8);
	fb_le(body + 16, ifaces, 4);
	n += fb_str(body + n, "hand");
	n += fb_str(body + n, "test_sp");
	fb_rec(f, 1, body, n + extra);
}

static size_t fb_iface(struct fb *f, const char *name)
{
	uint8_t body[64] = { 0 };
	uint32_t n = 12;

	fb_le(body, 7, 4);
	body[10] = SP_ROLE_TAP;
	n += fb_str(body + n, name);
	n += fb_str(body + n, "");
	n += fb_str(body + n, "");
	return fb_rec(f, 2, body, n);
}

static size_t fb_frame(struct fb *f, uint32_t iface, uint32_t orig, uint32_t cap)
{
	uint8_t body[32 + 64] = { 0 };

	fb_le(body, f->frames, 8);
	fb_le(body + 8, 1000 + f->frames, 8);
	fb_le(body + 16, iface, 4);
	fb_le(body + 24, orig, 4);
	fb_le(body + 28, cap, 4);
	memset(body + 32, 0x5a, cap);
	f->frames++;
	return fb_rec(f, 3, body, 32 + cap);
}

static void fb_trailer(struct fb *f)
{
	uint8_t body[32] = { 0 };
	uint64_t records = f->records;

	fb_le(body, f->frames, 8);
	fb_le(body + 8, records, 8);
	fb_le(body + 16, f->n, 8);
	fb_le(body + 24, sp__crc32c(0, f->b, f->n), 4);
	fb_rec(f, 255, body, 32);
}

UNIT_TEST(hand_built_file_reads)
{
	struct fb f;
	char err[SP_ERR_MAX];
	bool complete;

	/* The builder itself, so the tests below fail only for their field. */
	fb_start(&f, 1, 0);
	fb_iface(&f, "tap0");
	fb_frame(&f, 0, 60, 60);
	fb_frame(&f, 0, 1500, 40);	/* a capture cut by a snap length */
	fb_trailer(&f);
	EXPECT(count_mem(f.b, f.n, 0, &complete, err) == 2 && complete);
	/* A newer minor version's longer header body is accepted. */
	fb_start(&f, 1, 16);
	f.b[10] = 7;	/* version 1.7 */
	fb_iface(&f, "tap0");
	fb_frame(&f, 0, 60, 60);
	fb_trailer(&f);
	EXPECT(count_mem(f.b, f.n, 0, &complete, err) == 1 && complete);
}

UNIT_TEST(unknown_ancillary_records_are_skipped)
{
	static const uint8_t body[40] = { 1, 2, 3, 4, 5 };
	struct fb f;
	char err[SP_ERR_MAX];
	struct sp_reader *r;
	struct sp_frame fr;
	bool complete;
	int n = 0;

	/* Right after the header (before the interfaces), between frames, and
	 * with the highest ancillary type and an empty body. */
	fb_start(&f, 1, 0);
	fb_rec(&f, 5, body, sizeof(body));
	fb_iface(&f, "tap0");
	fb_frame(&f, 0, 60, 60);
	fb_rec(&f, 0x7fffffffu, body, 0);
	fb_rec(&f, 256, body, 13);
	fb_frame(&f, 0, 61, 61);
	fb_trailer(&f);
	EXPECT(sp_reader__open_mem(&r, f.b, f.n, 0) == 0);
	while (sp_reader__next(r, &fr) == 1)
		n += fr.cap_len == 60 + (uint32_t)n;
	EXPECT(n == 2);
	EXPECT(sp_reader__complete(r) && sp_reader__damage(r) == NULL);
	EXPECT(sp_reader__iface_count(r) == 1 && strcmp(sp_reader__iface(r, 0)->name, "tap0") == 0);
	sp_reader__close(r);
	/* Skipped, but still checked: a bad CRC in one is damage. */
	size_t at;

	fb_start(&f, 1, 0);
	fb_iface(&f, "tap0");
	at = fb_rec(&f, 77, body, sizeof(body));
	fb_frame(&f, 0, 60, 60);
	fb_trailer(&f);
	f.b[at + 9] ^= 0x40;
	EXPECT(count_mem(f.b, f.n, 0, &complete, err) == 0 && !complete);
	EXPECT(strstr(err, "bad CRC in record type 77") != NULL);
}

UNIT_TEST(unknown_critical_records_are_refused)
{
	static const uint8_t body[8] = { 0 };
	struct fb f;
	char err[SP_ERR_MAX], want[96];
	bool complete;
	size_t at;

	/* After a frame: that frame is read, then the reader stops. */
	fb_start(&f, 1, 0);
	fb_iface(&f, "tap0");
	fb_frame(&f, 0, 60, 60);
	at = fb_rec(&f, 0x80000005u, body, sizeof(body));
	fb_frame(&f, 0, 60, 60);
	fb_trailer(&f);
	EXPECT(count_mem(f.b, f.n, 0, &complete, err) == 1 && !complete);
	snprintf(want, sizeof(want), "frame 1, byte %zu: unsupported critical record type 0x80000005", at);
	EXPECT(strstr(err, want) != NULL);
	EXPECT(last_damage == at);
	/* Salvage keeps the frame before it. */
	EXPECT(count_mem(f.b, f.n, SP_READ_SALVAGE, &complete, err) == 1 && !complete);
	/* Before the interfaces: the file cannot be opened. */
	fb_start(&f, 1, 0);
	at = fb_rec(&f, 0xfffffffeu, body, sizeof(body));
	fb_iface(&f, "tap0");
	fb_trailer(&f);
	EXPECT(count_mem(f.b, f.n, 0, &complete, err) == -1);
	snprintf(want, sizeof(want), "frame 0, byte %zu: unsupported critical record type 0xfffffffe", at);
	EXPECT(strstr(err, want) != NULL);
}

/* An absurd interface count with no interface records must cost no more
 * than the records that are there. The file is read by a fresh copy of this
 * program (a heap that earlier tests grew could hand out its free space
 * unchecked), limited to the data it has plus 2 MiB: a table sized by the
 * count (4096 interfaces of ~800 bytes, over 3 MiB) cannot be allocated
 * there, and the reader would say "out of memory" instead of @want. */
#define ABSURD_ENV "STASIS_TEST_SP_ABSURD"

#ifndef __SANITIZE_ADDRESS__
__attribute__((constructor)) static void absurd_count_exec_child(void)
{
	const char *file = getenv(ABSURD_ENV), *want = getenv(ABSURD_ENV "_WANT");
	char err[SP_ERR_MAX], line[128];
	unsigned long kb = 0;
	struct rlimit rl;
	bool complete;
	uint8_t *b;
	size_t len;
	FILE *s;

	if (!file || !want)
		return;
	b = slurp(file, &len);
	s = fopen("/proc/self/status", "r");
	while (s && fgets(line, sizeof(line), s))
		sscanf(line, "VmData: %lu kB", &kb);
	if (s)
		fclose(s);
	/* Large blocks from mmap, which the limit covers, never the heap's top. */
	if (!kb || !len || !mallopt(M_MMAP_THRESHOLD, 64 << 10))
		_exit(3);
	rl.rlim_cur = rl.rlim_max = (kb << 10) + (2u << 20);
	if (setrlimit(RLIMIT_DATA, &rl))
		_exit(3);
	/* The limit bites at the size a count-sized table would take. */
	if (calloc(SP_MAX_IFACES, sizeof(struct sp_iface)))
		_exit(4);
	if (count_mem(b, len, 0, &complete, err) != -1 || !strstr(err, want)) {
		printf("# reader said: %s\n", err);
		fflush(stdout);
		_exit(5);
	}
	_exit(0);
}
#endif

static int absurd_count_child(const struct fb *f, const char *want)
{
	char err[SP_ERR_MAX];
	bool complete;
	FILE *o = fopen(path("absurd.sp"), "wb");

	if (!o || fwrite(f->b, 1, f->n, o) != f->n || fclose(o))
		return 0;
	/* The message, here; the memory bound, in the child. */
	if (count_mem(f->b, f->n, 0, &complete, err) != -1 || !strstr(err, want))
		return 0;
#ifdef __SANITIZE_ADDRESS__
	return 1;	/* ASan reserves its own memory up front: no limit to set */
#else
	pid_t pid;
	int st;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		setenv(ABSURD_ENV, path("absurd.sp"), 1);
		setenv(ABSURD_ENV "_WANT", want, 1);
		execl("/proc/self/exe", "test_sp", (char *)NULL);
		_exit(6);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return 0;
	if (WEXITSTATUS(st))
		printf("# absurd_count_child: exit %d\n", WEXITSTATUS(st));
	return WEXITSTATUS(st) == 0;
#endif
}

UNIT_TEST(absurd_interface_count_allocates_nothing)
{
	struct fb f;
	char err[SP_ERR_MAX];
	bool complete;

	char want[128];

	/* The file ends after the header. */
	fb_start(&f, SP_MAX_IFACES, 0);
	snprintf(want, sizeof(want), "frame 0, byte %zu: file ends after 0 of 4096 interfaces", f.n);
	EXPECT(absurd_count_child(&f, want));
	/* A trailer comes instead of the interfaces. */
	snprintf(want, sizeof(want), "frame 0, byte %zu: record type 255 before all 4096 interfaces", f.n);
	fb_trailer(&f);
	EXPECT(absurd_count_child(&f, want));
	/* Above the limit: refused at the header. */
	fb_start(&f, SP_MAX_IFACES + 1, 0);
	fb_trailer(&f);
	EXPECT(count_mem(f.b, f.n, 0, &complete, err) == -1 &&
	       strstr(err, "frame 0, byte 16: absurd interface count 4097 (limit 4096)"));
}

UNIT_TEST(bad_frame_fields_are_named)
{
	struct fb f;
	char err[SP_ERR_MAX], want[128];
	bool complete;
	size_t at;

	/* A frame naming interface 1 of a file with one. */
	fb_start(&f, 1, 0);
	fb_iface(&f, "tap0");
	fb_frame(&f, 0, 60, 60);
	at = fb_frame(&f, 1, 60, 60);
	fb_trailer(&f);
	EXPECT(count_mem(f.b, f.n, 0, &complete, err) == 1 && !complete);
	snprintf(want, sizeof(want), "frame 1, byte %zu: interface 1 out of range (1 interfaces)", at);
	EXPECT(strstr(err, want) != NULL);
	/* A file without interfaces cannot hold a frame. */
	fb_start(&f, 0, 0);
	at = fb_frame(&f, 0, 60, 60);
	fb_trailer(&f);
	EXPECT(count_mem(f.b, f.n, 0, &complete, err) == 0 && !complete);
	snprintf(want, sizeof(want), "frame 0, byte %zu: interface 0 out of range (0 interfaces)", at);
	EXPECT(strstr(err, want) != NULL);
	/* More bytes captured than were on the wire. */
	fb_start(&f, 1, 0);
	fb_iface(&f, "tap0");
	at = fb_frame(&f, 0, 59, 60);
	fb_trailer(&f);
	EXPECT(count_mem(f.b, f.n, 0, &complete, err) == 0 && !complete);
	snprintf(want, sizeof(want), "frame 0, byte %zu: captured length 60 above original length 59", at);
	EXPECT(strstr(err, want) != NULL);
}

/* Expected checksums below were computed outside this code base: by a
 * separate Python implementation of RFC 1071 over the same bytes, and
 * confirmed by tshark (ip/udp/tcp.check_checksum: "Good") on a pcap of the
 * frames with those values. */
static const char udp_frame_hex[] =	/* 10.1.2.3:40000 > 10.4.5.6:53, "stasis checksum", 3 pad bytes */
	"020000000002020000000001080045 00002b1234400040110000"
	"0a0102030a0405069c40003500171111"
	"73746173697320636865636b73756d" "aaaaaa";
static const char tcp_frame_hex[] =	/* 10.1.2.3:40001 > 10.4.5.6:80, PSH|ACK, timestamps, "GET / HTTP/1.0" */
	"02000000000202000000000108004500004612344000400600000a0102030a040506"
	"9c410050000000010000000280180200" "2222" "0000" "0101080a0102030405060708"
	"474554202f20485454502f312e300d0a0d0a";

static int from_hex(const char *hex, uint8_t *buf, size_t max)
{
	char clean[512];
	size_t n = 0;

	for (const char *p = hex; *p && n + 1 < sizeof(clean); p++)
		if (*p != ' ')
			clean[n++] = *p;
	clean[n] = 0;
	return sp__hex_parse(clean, buf, max);
}

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

UNIT_TEST(fix_checksums_tcp_udp_known_values)
{
	uint8_t u[128], t[128], v[132], z[64];
	int ul = from_hex(udp_frame_hex, u, sizeof(u)), tl = from_hex(tcp_frame_hex, t, sizeof(t));

	EXPECT(ul == 60 && tl == 84);
	/* UDP: IPv4 header 0x0d81, UDP 0x3d38; the Ethernet padding after the
	 * IP packet is neither summed nor touched. */
	EXPECT(sp__fix_checksums(u, (uint32_t)ul) == (1 | 4));
	EXPECT(be16(u + 24) == 0x0d81);
	EXPECT(be16(u + 40) == 0x3d38);
	EXPECT(u[57] == 0xaa && u[58] == 0xaa && u[59] == 0xaa);
	/* TCP with options: IPv4 0x0d71, TCP 0xce4d. */
	EXPECT(sp__fix_checksums(t, (uint32_t)tl) == (1 | 2));
	EXPECT(be16(t + 24) == 0x0d71);
	EXPECT(be16(t + 50) == 0xce4d);
	/* Behind an 802.1Q tag: the same datagram, the same checksums. */
	from_hex(udp_frame_hex, u, sizeof(u));
	memcpy(v, u, 12);
	memcpy(v + 12, "\x81\x00\x00\x05", 4);
	memcpy(v + 16, u + 12, (size_t)ul - 12);
	EXPECT(sp__fix_checksums(v, (uint32_t)ul + 4) == (1 | 4));
	EXPECT(be16(v + 28) == 0x0d81 && be16(v + 44) == 0x3d38);
	/* A datagram whose sum comes out as 0 is sent as 0xffff (0 means "no
	 * checksum"): two payload bytes, 0x4857, make it so. */
	memcpy(z, u, 42);
	z[17] = 20 + 10;	/* IP total length */
	z[39] = 10;		/* UDP length */
	z[42] = 0x48;
	z[43] = 0x57;
	EXPECT(sp__fix_checksums(z, 44) == (1 | 4));
	EXPECT(be16(z + 40) == 0xffff);
	/* A UDP checksum of 0 (the sender chose none) stays 0. */
	from_hex(udp_frame_hex, u, sizeof(u));
	u[40] = u[41] = 0;
	EXPECT(sp__fix_checksums(u, (uint32_t)ul) == 1 && be16(u + 40) == 0);
	/* A fragment: only the IP header (its L4 sum spans other fragments). */
	from_hex(tcp_frame_hex, t, sizeof(t));
	t[20] = 0x20;	/* more fragments */
	EXPECT(sp__fix_checksums(t, (uint32_t)tl) == 1 && be16(t + 50) == 0x2222);
}

/* The folded sum (not inverted) of the IPv4 pseudo-header of the frame at
 * @f (no VLAN tag), with the L4 length or without: what a sender leaves in
 * the checksum field for the device to finish. */
static uint16_t pseudo_of(const uint8_t *f, bool with_len)
{
	uint32_t s = f[14 + 9];

	for (int i = 14 + 12; i < 14 + 20; i += 2)
		s += (uint32_t)(f[i] << 8 | f[i + 1]);
	if (with_len)
		s += be16(f + 16) - (f[14] & 15u) * 4;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

UNIT_TEST(complete_partial_only_what_is_partial)
{
	uint8_t u[128], t[128], w[128];
	int ul = from_hex(udp_frame_hex, u, sizeof(u)), tl = from_hex(tcp_frame_hex, t, sizeof(t));
	uint16_t p;

	EXPECT(ul == 60 && tl == 84);
	sp__fix_checksums(u, (uint32_t)ul);
	sp__fix_checksums(t, (uint32_t)tl);
	/* A UDP field holding the pseudo-header's sum is completed to the
	 * checksum fix_checksums computes (0x3d38); TCP alike (0xce4d), and
	 * also when the sum was left without the length. */
	p = pseudo_of(u, true);
	u[40] = (uint8_t)(p >> 8), u[41] = (uint8_t)p;
	EXPECT(sp__complete_partial(u, (uint32_t)ul) == 4 && be16(u + 40) == 0x3d38);
	p = pseudo_of(t, false);
	t[50] = (uint8_t)(p >> 8), t[51] = (uint8_t)p;
	EXPECT(sp__complete_partial(t, (uint32_t)tl) == 2 && be16(t + 50) == 0xce4d);
	/* Complete already: untouched. */
	memcpy(w, u, (size_t)ul);
	EXPECT(sp__complete_partial(w, (uint32_t)ul) == 0 && !memcmp(w, u, (size_t)ul));
	/* Wrong, but not partial (a fuzzed checksum, a broken sender): kept as
	 * sent, as is a wrong IPv4 header checksum. */
	w[40] ^= 0x5a;
	w[24] ^= 0x11;
	memcpy(u, w, (size_t)ul);
	EXPECT(sp__complete_partial(w, (uint32_t)ul) == 0 && !memcmp(w, u, (size_t)ul));
	/* None (UDP 0), a fragment, not IPv4, too short: nothing to do. */
	w[40] = w[41] = 0;
	EXPECT(sp__complete_partial(w, (uint32_t)ul) == 0 && be16(w + 40) == 0);
	memcpy(w, t, (size_t)tl);
	p = pseudo_of(w, true);
	w[50] = (uint8_t)(p >> 8), w[51] = (uint8_t)p;
	w[20] = 0x20;	/* more fragments */
	EXPECT(sp__complete_partial(w, (uint32_t)tl) == 0 && be16(w + 50) == p);
	w[20] = 0;
	w[12] = 0x86, w[13] = 0xdd;
	EXPECT(sp__complete_partial(w, (uint32_t)tl) == 0);
	EXPECT(sp__complete_partial(t, 30) == 0);
}
