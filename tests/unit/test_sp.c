// SPDX-License-Identifier: MIT
/* The .sp library: round trips, atomic writes, and that every truncation and
 * every corrupted byte of a file is caught, with a message naming the frame
 * and the byte offset, and never crashes. */
#include <errno.h>
#include <ftw.h>
#include <sys/stat.h>
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

/* Frames read from a buffer; -1 when open failed. Sets *complete, *err. */
static int count_mem(const uint8_t *b, size_t len, unsigned flags, bool *complete, char *err)
{
	struct sp_reader *r;
	struct sp_frame f;
	int n = 0, ret;

	err[0] = 0;
	*complete = false;
	if (sp_reader__open_mem(&r, b, len, flags, err))
		return -1;
	while ((ret = sp_reader__next(r, &f)) == 1)
		n++;
	*complete = sp_reader__complete(r);
	if (sp_reader__error(r))
		snprintf(err, SP_ERR_MAX, "%s", sp_reader__error(r));
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
		EXPECT(sp_crc32c(0, b + off, len - off) == sp__crc32c_portable(0, b + off, len - off));
	free(b);
}

UNIT_TEST(round_trip)
{
	struct sp_reader *r;
	struct sp_frame f;
	char err[SP_ERR_MAX];
	uint64_t i = 0;

	write_sample(path("rt.sp"), 10);
	EXPECT(sp_reader__open(&r, path("rt.sp"), 0, err) == 0);
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
	EXPECT(sp_reader__error(r) == NULL);
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

	/* Cut inside the trailer: all 6 frames are intact. */
	EXPECT(count_mem(b, len - 10, SP_READ_SALVAGE, &complete, err) == 6 && !complete);
	EXPECT(strstr(err, "frame 6") != NULL);
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

	EXPECT(sp_reader__open(&r, path("does-not-exist.sp"), 0, err) == -ENOENT);
	EXPECT(strstr(err, "does-not-exist.sp") != NULL);
}

UNIT_TEST(fix_checksums_known_vector)
{
	/* An IPv4 header whose checksum is well known: 0xb861. */
	uint8_t f[14 + 20] = { [12] = 0x08, [13] = 0x00,
		0x45, 0x00, 0x00, 0x14, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xff, 0xff,
		0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };

	/* Total length 20 (no payload) for this test: checksum of that header. */
	EXPECT(sp_fix_checksums(f, sizeof(f)) == 1);
	/* RFC 1071: the sum over a header with its checksum is 0xffff. */
	uint32_t s = 0;

	for (int i = 14; i < 34; i += 2)
		s += (uint32_t)(f[i] << 8 | f[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	EXPECT(s == 0xffff);
	f[16] = 0x00; f[17] = 0x73;	/* claims 115 bytes: too short a frame */
	EXPECT(sp_fix_checksums(f, sizeof(f)) == -EINVAL);
	uint8_t arp[60] = { [12] = 0x08, [13] = 0x06 };

	EXPECT(sp_fix_checksums(arp, sizeof(arp)) == 0);
}

static int frames_of(const char *p, uint32_t *lens, uint16_t *flags, int max)
{
	struct sp_reader *r;
	struct sp_frame f;
	char err[SP_ERR_MAX];
	int n = 0;

	if (sp_reader__open(&r, p, 0, err))
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
	char err[SP_ERR_MAX];

	write_sample(path("ed.sp"), 5);
	EXPECT(sp_edit(path("ed.sp"), path("ed2.sp"), e, 5, false, err) == 0);
	EXPECT(frames_of(path("ed2.sp"), lens, flags, 16) == 6);
	EXPECT(flags[0] & SP_F_EDITED);
	EXPECT(lens[1] == 20 && (flags[1] & SP_F_INJECTED));	/* before old frame 2 */
	EXPECT(lens[2] == frame_len(2) && !(flags[2] & SP_F_EDITED));
	EXPECT(lens[4] == frame_len(4) + 4);			/* grew */
	EXPECT(lens[5] == 20 && (flags[5] & SP_F_INJECTED));
	/* Out of range: an error, and no output file. */
	struct sp_edit far = { .op = SP_EDIT_DELETE, .frame = 5 };

	unlink(path("ed3.sp"));
	EXPECT(sp_edit(path("ed.sp"), path("ed3.sp"), &far, 1, false, err) == -ERANGE);
	EXPECT(strstr(err, "out of range") != NULL);
	EXPECT(access(path("ed3.sp"), F_OK) != 0);
}

UNIT_TEST(mutate_is_deterministic_and_stays_in_range)
{
	struct sp_mutate_opts o = { .frame = 2, .from = 20, .to = 27, .cases = 40, .seed = 99 };
	char err[SP_ERR_MAX], a[64], b[64];
	size_t la, lb, outside = 0, differ = 0;

	write_sample(path("mu.sp"), 4);
	EXPECT(sp_mutate(path("mu.sp"), path("m1"), &o, err) == 0);
	EXPECT(sp_mutate(path("mu.sp"), path("m2"), &o, err) == 0);
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
		EXPECT(sp_reader__open(&r, path(a), 0, err) == 0);
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
	EXPECT(sp_mutate(path("mu.sp"), path("m3"), &o, err) == -ERANGE);
}

UNIT_TEST(merge_orders_by_time)
{
	const char *in[2];
	uint32_t lens[32];
	uint16_t flags[32];
	char err[SP_ERR_MAX];
	struct sp_reader *r;
	struct sp_frame f;
	uint64_t last = 0;
	bool ordered = true;

	write_sample(path("g1.sp"), 5);
	write_sample(path("g2.sp"), 7);
	in[0] = path("g1.sp");
	in[1] = path("g2.sp");
	EXPECT(sp_merge(in, 2, path("gm.sp"), err) == 0);
	EXPECT(frames_of(path("gm.sp"), lens, flags, 32) == 12);
	EXPECT(sp_reader__open(&r, path("gm.sp"), 0, err) == 0);
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
	char err[SP_ERR_MAX];
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
	EXPECT(sp_reader__open(&r, path("tiny.sp"), 0, err) == 0);
	while (sp_reader__next(r, &f) == 1) {
		ok = ok && f.cap_len == n && f.seq == n;
		for (uint32_t k = 0; k < f.cap_len; k++)
			ok = ok && f.data[k] == 0xa5;
		n++;
	}
	EXPECT(ok && n == 17 && sp_reader__complete(r));
	sp_reader__close(r);
}
