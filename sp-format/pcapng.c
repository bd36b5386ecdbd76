// SPDX-License-Identifier: MIT
/*
 * .sp <-> pcapng, and classic pcap -> .sp. The mapping is in
 * docs/sp-format.md. Readers of foreign files bound every block before they
 * allocate, like the .sp reader.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "sp-format/format.h"
#include "sp-format/internal.h"
#include "util/util.h"

#define PCAPNG_SHB	0x0A0D0D0Au
#define PCAPNG_IDB	1u
#define PCAPNG_SPB	3u
#define PCAPNG_EPB	6u
#define PCAPNG_BOM	0x1A2B3C4Du
#define BLOCK_MAX	(SP_MAX_FRAME + 65536)
#define LINKTYPE_ETHERNET 1

static const char *role_name[] = { "other", "tap", "uplink" };

/* ---- writing ----------------------------------------------------------- */

struct out {
	struct util_out *u;
	uint8_t *b;	/* block under construction, in u's buffer */
	size_t n;
};

static void o_u16(struct out *o, uint16_t v) { memcpy(o->b + o->n, &v, 2); o->n += 2; }
static void o_u32(struct out *o, uint32_t v) { memcpy(o->b + o->n, &v, 4); o->n += 4; }

static void o_bytes(struct out *o, const void *p, size_t len)
{
	memcpy(o->b + o->n, p, len);
	o->n += len;
	while (o->n % 4)
		o->b[o->n++] = 0;
}

static void o_opt(struct out *o, uint16_t code, const void *p, size_t len)
{
	o_u16(o, code);
	o_u16(o, (uint16_t)len);
	o_bytes(o, p, len);
}

/* A block is built in place in the output's buffer. */
static int o_begin(struct out *o, uint32_t type)
{
	o->b = util_out_reserve(o->u, BLOCK_MAX);
	if (!o->b)
		return util_out_error(o->u) ? util_out_error(o->u) : -EIO;
	o->n = 0;
	o_u32(o, type);
	o_u32(o, 0);	/* length, set by o_end */
	return 0;
}

static int o_end(struct out *o)
{
	uint32_t total = (uint32_t)o->n + 4;

	o_u32(o, total);
	memcpy(o->b + 4, &total, 4);
	return util_out_advance(o->u, o->n);
}

int sp__to_pcapng(const char *sp_path, const char *out_path)
{
	char *err = sp_err();
	struct sp_reader *r = NULL;
	struct out o = { 0 };
	struct sp_frame fr;
	char text[1024];
	int ret;

	ret = sp_reader__open(&r, sp_path, 0);
	if (ret)
		return ret;
	ret = util_out_open(&o.u, out_path, UTIL_OUT_DIRECT);
	if (ret) {
		snprintf(err, SP_ERR_MAX, "%s: %s", out_path, strerror(-ret));
		goto out;
	}

	const struct sp_header *h = sp_reader__header(r);

	ret = o_begin(&o, PCAPNG_SHB);
	if (ret)
		goto fail;
	o_u32(&o, PCAPNG_BOM);
	o_u16(&o, 1);
	o_u16(&o, 0);
	o_u32(&o, 0xffffffffu);	/* section length: not given */
	o_u32(&o, 0xffffffffu);
	o_opt(&o, 4, h->tool, strlen(h->tool));			/* shb_userappl */
	snprintf(text, sizeof(text), "stasis epoch=%llu host=%s created_ns=%llu",
		 (unsigned long long)h->epoch, h->host, (unsigned long long)h->created_ns);
	o_opt(&o, 1, text, strlen(text));			/* opt_comment */
	o_u32(&o, 0);						/* opt_endofopt */
	ret = o_end(&o);
	for (uint32_t i = 0; !ret && i < sp_reader__iface_count(r); i++) {
		const struct sp_iface *f = sp_reader__iface(r, i);
		uint8_t res = 9;	/* nanoseconds */

		ret = o_begin(&o, PCAPNG_IDB);
		if (ret)
			break;
		o_u16(&o, LINKTYPE_ETHERNET);
		o_u16(&o, 0);
		o_u32(&o, SP_MAX_FRAME);
		/* Even when empty: without it a reader names the interface "ifN". */
		o_opt(&o, 2, f->name, strlen(f->name));			/* if_name */
		snprintf(text, sizeof(text), "role=%s vm=%s host=%s ifindex=%u", role_name[f->role],
			 f->vm, f->host, f->ifindex);
		o_opt(&o, 3, text, strlen(text));			/* if_description */
		o_opt(&o, 6, f->mac, 6);				/* if_MACaddr */
		o_opt(&o, 9, &res, 1);					/* if_tsresol */
		o_u32(&o, 0);
		ret = o_end(&o);
	}
	while (!ret && (ret = sp_reader__next(r, &fr)) == 1) {
		uint32_t flags = fr.dir == SP_DIR_IN ? 1 : 2;	/* inbound / outbound */
		int n = snprintf(text, sizeof(text), "seq=%llu%s%s%s", (unsigned long long)fr.seq,
				 fr.flags & SP_F_GSO ? " gso" : "",
				 fr.flags & SP_F_EDITED ? " edited" : "",
				 fr.flags & SP_F_INJECTED ? " injected" : "");

		ret = o_begin(&o, PCAPNG_EPB);
		if (ret)
			break;
		o_u32(&o, fr.iface);
		o_u32(&o, (uint32_t)(fr.ts_ns >> 32));
		o_u32(&o, (uint32_t)fr.ts_ns);
		o_u32(&o, fr.cap_len);
		o_u32(&o, fr.orig_len);
		o_bytes(&o, fr.data, fr.cap_len);
		o_opt(&o, 1, text, (size_t)n);
		o_opt(&o, 2, &flags, 4);
		o_u32(&o, 0);
		ret = o_end(&o);
	}
fail:
	if (ret < 0) {
		if (sp_reader__damage(r))
			snprintf(err, SP_ERR_MAX, "%s", sp_reader__damage(r));
		else
			snprintf(err, SP_ERR_MAX, "%s: write failed: %s", out_path, strerror(-ret));
		goto out;
	}
	ret = util_out_commit(o.u);
	o.u = NULL;
	if (ret)
		snprintf(err, SP_ERR_MAX, "%s: %s", out_path, strerror(-ret));
out:
	util_out_discard(o.u);
	sp_reader__close(r);
	return ret;
}

/* ---- reading pcapng and pcap ------------------------------------------- */

struct in_iface {
	struct sp_iface sp;
	uint8_t tsresol;	/* pcapng if_tsresol */
	int64_t tsoffset;	/* seconds */
};

struct in {
	struct util_map m;		/* the whole input: read twice */
	const char *name;
	char *err;
	uint64_t off, block_off, frames;
	bool swap;			/* section is of the other byte order */
	uint8_t *b;
	struct in_iface *ifs;		/* all sections' interfaces */
	uint32_t n_ifs, sec_first;	/* this section's interfaces start here */
	struct sp_writer *w;		/* pass 2 */
	uint64_t next_seq;
	uint16_t pcap_link;
	bool pcap_ns;
	char shb_host[SP_STR_MAX + 1];
	uint64_t shb_epoch, shb_created;
	bool have_epoch, have_created;
};

__attribute__((format(printf, 2, 3)))
static int in_err(struct in *in, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(in->err, SP_ERR_MAX, "%s: frame %llu, byte %llu: %s", in->name,
		 (unsigned long long)in->frames, (unsigned long long)in->block_off, what);
	return -EBADMSG;
}

static uint16_t i16(const struct in *in, const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return in->swap ? __builtin_bswap16(v) : v;
}

static uint32_t i32(const struct in *in, const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return in->swap ? __builtin_bswap32(v) : v;
}

/* Up to @n bytes from where the reader is, without moving it: how many. */
static size_t in_peek(const struct in *in, void *p, size_t n)
{
	size_t left = in->m.len - in->off, got = n < left ? n : left;

	if (got)
		memcpy(p, in->m.p + in->off, got);
	return got;
}

static int in_read(struct in *in, void *p, size_t n)
{
	size_t got = in_peek(in, p, n);

	in->off += got;
	return got == n ? 0 : -1;
}

static uint64_t ts_to_ns(uint64_t ts, uint8_t res, int64_t offset_s)
{
	unsigned __int128 v;
	uint8_t e = res & 0x7f;

	if (res & 0x80) {	/* 2^-e seconds */
		v = ((unsigned __int128)ts * 1000000000u) >> (e > 127 ? 127 : e);
	} else if (e <= 9) {
		v = ts;
		for (int i = e; i < 9; i++)
			v *= 10;
	} else {
		v = ts;
		for (int i = 9; i < e && i < 40; i++)
			v /= 10;
	}
	return (uint64_t)v + (uint64_t)(offset_s * 1000000000ll);
}

/* Options of a block: calls @fn for each until opt_endofopt or the end. */
static int walk_opts(struct in *in, const uint8_t *p, size_t len,
		     int (*fn)(struct in *, uint16_t, const uint8_t *, uint16_t, void *), void *ctx)
{
	size_t pos = 0;

	while (pos + 4 <= len) {
		uint16_t code = i16(in, p + pos), n = i16(in, p + pos + 2);

		if (code == 0)
			return 0;
		if (pos + 4 + n > len)
			return in_err(in, "option %u of %u bytes runs past its block", code, n);
		if (fn(in, code, p + pos + 4, n, ctx))
			return -EBADMSG;
		pos += 4 + ((n + 3u) & ~3u);
	}
	return 0;
}

/* An option's text, cut at a newline and to fit @dst (an array: the macros
 * take its size, so a pointer passed by mistake does not compile). */
#define ARRAY_SIZE_OF(a) (sizeof(a) + 0 * sizeof(struct { \
	_Static_assert(!__builtin_types_compatible_p(__typeof__(a), __typeof__(&(a)[0])), \
		       #a " must be an array"); int x; }))
#define copy_str(dst, p, n) copy_str_n(dst, ARRAY_SIZE_OF(dst), p, n)
static void copy_str_n(char *dst, size_t size, const uint8_t *p, size_t n)
{
	if (n > size - 1)
		n = size - 1;
	memcpy(dst, p, n);
	dst[n] = 0;
	dst[strcspn(dst, "\n")] = 0;
}

/* "key=value" out of a space-separated description, cut to fit @dst. */
#define desc_field(desc, key, dst) desc_field_n(desc, key, dst, ARRAY_SIZE_OF(dst))
static void desc_field_n(const char *desc, const char *key, char *dst, size_t size)
{
	size_t k = strlen(key);

	for (const char *s = desc; (s = strstr(s, key)); s++) {
		if ((s == desc || s[-1] == ' ') && s[k] == '=') {
			size_t n = strcspn(s + k + 1, " ");

			if (n > size - 1)
				n = size - 1;
			memcpy(dst, s + k + 1, n);
			dst[n] = 0;
			return;
		}
	}
}

static int shb_opt(struct in *in, uint16_t code, const uint8_t *p, uint16_t n, void *ctx)
{
	char text[1024], epoch[32] = "", created[32] = "";

	(void)ctx;
	if (code != 1)
		return 0;
	copy_str(text, p, n);
	if (strncmp(text, "stasis ", 7))
		return 0;
	desc_field(text, "host", in->shb_host);
	desc_field(text, "epoch", epoch);
	if (epoch[0]) {
		in->shb_epoch = strtoull(epoch, NULL, 10);
		in->have_epoch = true;
	}
	desc_field(text, "created_ns", created);
	if (created[0]) {
		in->shb_created = strtoull(created, NULL, 10);
		in->have_created = true;
	}
	return 0;
}

static int idb_opt(struct in *in, uint16_t code, const uint8_t *p, uint16_t n, void *ctx)
{
	struct in_iface *f = ctx;
	char text[1024], role[16] = "", ifindex[16] = "";

	switch (code) {
	case 2:
		copy_str(f->sp.name, p, n);
		break;
	case 3:
		copy_str(text, p, n);
		desc_field(text, "role", role);
		for (uint8_t i = 0; i < 3; i++)
			if (!strcmp(role, role_name[i]))
				f->sp.role = i;
		desc_field(text, "vm", f->sp.vm);
		desc_field(text, "host", f->sp.host);
		desc_field(text, "ifindex", ifindex);
		if (ifindex[0])
			f->sp.ifindex = (uint32_t)strtoul(ifindex, NULL, 10);
		break;
	case 6:
		if (n == 6)
			memcpy(f->sp.mac, p, 6);
		break;
	case 9:
		if (n >= 1)
			f->tsresol = p[0];
		break;
	case 14:
		if (n == 8) {
			int64_t v;

			memcpy(&v, p, 8);
			f->tsoffset = in->swap ? (int64_t)__builtin_bswap64((uint64_t)v) : v;
		}
		break;
	}
	return 0;
}

struct epb_ctx {
	uint64_t seq;
	bool have_seq;
	uint16_t flags;
	uint8_t dir;
};

static int epb_opt(struct in *in, uint16_t code, const uint8_t *p, uint16_t n, void *ctx)
{
	struct epb_ctx *e = ctx;
	char text[SP_STR_MAX + 1];

	if (code == 1) {
		copy_str(text, p, n);
		if (!strncmp(text, "seq=", 4)) {
			char *end;

			e->seq = strtoull(text + 4, &end, 10);
			e->have_seq = end != text + 4;
			e->flags |= strstr(end, " gso") ? SP_F_GSO : 0;
			e->flags |= strstr(end, " edited") ? SP_F_EDITED : 0;
			e->flags |= strstr(end, " injected") ? SP_F_INJECTED : 0;
		}
	} else if (code == 2 && n == 4) {
		uint32_t fl = i32(in, p) & 3;

		e->dir = fl == 1 ? SP_DIR_IN : SP_DIR_OUT;
	}
	return 0;
}

static int add_frame(struct in *in, uint32_t iface, uint64_t ts_ns, uint32_t caplen,
		     uint32_t origlen, const uint8_t *data, struct epb_ctx *e)
{
	struct sp_frame f = {
		.seq = e && e->have_seq ? e->seq : in->next_seq,
		.ts_ns = ts_ns, .iface = iface, .dir = e ? e->dir : SP_DIR_OUT,
		.flags = e ? e->flags : 0, .orig_len = origlen, .cap_len = caplen, .data = data,
	};
	int ret;

	if (caplen > SP_MAX_FRAME)
		return in_err(in, "frame of %u bytes above the .sp limit %u", caplen, SP_MAX_FRAME);
	if (origlen < caplen)
		f.orig_len = caplen;
	in->next_seq = f.seq + 1;
	in->frames++;
	if (!in->w)
		return 0;
	ret = sp_writer__frame(in->w, &f);
	if (ret)
		snprintf(in->err, SP_ERR_MAX, "writing the .sp file: %s", strerror(-ret));
	return ret;
}

static int pcapng_pass(struct in *in)
{
	uint8_t head[12];

	for (;;) {
		uint32_t type, len;

		in->block_off = in->off;
		size_t got = in_peek(in, head, 8);

		in->off += got;
		if (got == 0)
			return 0;
		if (got < 8)
			return in_err(in, "truncated block head");
		memcpy(&type, head, 4);
		if (type == PCAPNG_SHB) {
			uint32_t bom;

			if (in_read(in, head + 8, 4))
				return in_err(in, "truncated section header");
			memcpy(&bom, head + 8, 4);
			if (bom == PCAPNG_BOM)
				in->swap = false;
			else if (bom == __builtin_bswap32(PCAPNG_BOM))
				in->swap = true;
			else
				return in_err(in, "bad byte-order magic in section header");
			in->sec_first = in->n_ifs;
		} else if (in->block_off == 0) {
			return in_err(in, "not a pcapng file");
		}
		type = i32(in, head);
		len = i32(in, head + 4);
		uint32_t have = type == PCAPNG_SHB ? 12 : 8;

		if (len < 12 || len % 4 || len > BLOCK_MAX)
			return in_err(in, "bad block length %u", len);
		if (len < have + 4)
			return in_err(in, "block of %u bytes too short", len);
		memcpy(in->b, head, have);
		if (in_read(in, in->b + have, len - have))
			return in_err(in, "block of %u bytes goes past the end of the file", len);
		if (i32(in, in->b + len - 4) != len)
			return in_err(in, "block length %u does not match its trailing copy", len);
		const uint8_t *body = in->b + 8;
		uint32_t blen = len - 12;

		if (type == PCAPNG_SHB) {
			if (blen < 16)
				return in_err(in, "section header too short");
			if (i16(in, body + 4) != 1)
				return in_err(in, "unsupported pcapng major version %u", i16(in, body + 4));
			if (walk_opts(in, body + 16, blen - 16, shb_opt, NULL))
				return -EBADMSG;
		} else if (type == PCAPNG_IDB) {
			struct in_iface f = { .tsresol = 6 };

			if (blen < 8)
				return in_err(in, "interface block too short");
			if (i16(in, body) != LINKTYPE_ETHERNET)
				return in_err(in, "link type %u: only Ethernet (1) is supported",
					      i16(in, body));
			if (in->n_ifs >= SP_MAX_IFACES)
				return in_err(in, "more than %u interfaces", SP_MAX_IFACES);
			snprintf(f.sp.name, sizeof(f.sp.name), "if%u", in->n_ifs);
			if (walk_opts(in, body + 8, blen - 8, idb_opt, &f))
				return -EBADMSG;
			if (!in->w) {
				struct in_iface *n = realloc(in->ifs, (in->n_ifs + 1) * sizeof(*n));

				if (!n)
					return in_err(in, "out of memory");
				in->ifs = n;
				in->ifs[in->n_ifs] = f;
			}
			in->n_ifs++;
		} else if (type == PCAPNG_EPB) {
			struct epb_ctx e = { 0 };
			uint32_t id, caplen, origlen;
			uint64_t ts;

			if (blen < 20)
				return in_err(in, "packet block too short");
			id = i32(in, body);
			ts = (uint64_t)i32(in, body + 4) << 32 | i32(in, body + 8);
			caplen = i32(in, body + 12);
			origlen = i32(in, body + 16);
			if (caplen > blen - 20)
				return in_err(in, "captured length %u past its block", caplen);
			if (in->sec_first + id >= in->n_ifs)
				return in_err(in, "packet on interface %u, which is not described", id);
			uint32_t optpos = 20 + ((caplen + 3u) & ~3u);

			if (optpos < blen && walk_opts(in, body + optpos, blen - optpos, epb_opt, &e))
				return -EBADMSG;
			const struct in_iface *f = &in->ifs[in->sec_first + id];
			int ret = add_frame(in, in->sec_first + id, ts_to_ns(ts, f->tsresol, f->tsoffset),
					    caplen, origlen, body + 20, &e);

			if (ret)
				return ret;
		} else if (type == PCAPNG_SPB) {
			uint32_t origlen, caplen;

			if (blen < 4)
				return in_err(in, "simple packet block too short");
			if (in->sec_first >= in->n_ifs)
				return in_err(in, "simple packet block before any interface");
			origlen = i32(in, body);
			caplen = origlen < blen - 4 ? origlen : blen - 4;
			int ret = add_frame(in, in->sec_first, 0, caplen, origlen, body + 4, NULL);

			if (ret)
				return ret;
		}
		/* Other blocks (name resolution, statistics, ...) are skipped. */
	}
}

static int pcap_pass(struct in *in)
{
	uint8_t h[16];

	in->off = 24;	/* after the file header, checked by the caller */
	for (;;) {
		uint32_t sec, frac, caplen, origlen;

		in->block_off = in->off;
		size_t got = in_peek(in, h, 16);

		in->off += got;
		if (got == 0)
			return 0;
		if (got < 16)
			return in_err(in, "truncated packet header");
		sec = i32(in, h);
		frac = i32(in, h + 4);
		caplen = i32(in, h + 8);
		origlen = i32(in, h + 12);
		if (caplen > SP_MAX_FRAME)
			return in_err(in, "frame of %u bytes above the .sp limit %u", caplen, SP_MAX_FRAME);
		if (in_read(in, in->b, caplen))
			return in_err(in, "packet of %u bytes goes past the end of the file", caplen);
		uint64_t ts = (uint64_t)sec * 1000000000ull + (in->pcap_ns ? frac : frac * 1000ull);
		int ret = add_frame(in, 0, ts, caplen, origlen, in->b, NULL);

		if (ret)
			return ret;
	}
}

int sp__from_pcapng(const char *in_path, const char *sp_path, const char *host,
		    struct sp_conv_result *res)
{
	char *err = sp_err();
	struct in in = { .name = in_path, .err = err };
	struct sp_header h = { 0 };
	struct sp_iface *ifs = NULL;
	uint8_t magic[24];
	bool pcapng;
	int ret;

	if ((ret = util_map_open(&in.m, in_path))) {
		snprintf(err, SP_ERR_MAX, "%s: %s", in_path, strerror(-ret));
		return ret;
	}
	in.b = malloc(BLOCK_MAX);
	if (!in.b) {
		ret = -ENOMEM;
		goto out;
	}
	size_t got = in_peek(&in, magic, 24);
	uint32_t m;

	if (got < 12) {
		ret = in_err(&in, "too short for pcap or pcapng (%zu bytes)", got);
		goto out;
	}
	memcpy(&m, magic, 4);
	pcapng = m == PCAPNG_SHB;
	if (!pcapng) {
		/* The link type is at byte 20: a header cut short leaves it unread. */
		if (got < 24 && (m == 0xa1b2c3d4u || m == 0xa1b23c4du ||
				 m == 0xd4c3b2a1u || m == 0x4d3cb2a1u)) {
			ret = in_err(&in, "truncated pcap file header (%zu of 24 bytes)", got);
			goto out;
		}
		if (m == 0xa1b2c3d4u || m == 0xa1b23c4du) {
			in.swap = false;
		} else if (m == 0xd4c3b2a1u || m == 0x4d3cb2a1u) {
			in.swap = true;
		} else {
			ret = in_err(&in, "neither pcapng nor pcap (magic %08x)", m);
			goto out;
		}
		in.pcap_ns = m == 0xa1b23c4du || m == 0x4d3cb2a1u;
		in.pcap_link = (uint16_t)i32(&in, magic + 20);
		if (i32(&in, magic + 20) != LINKTYPE_ETHERNET) {
			ret = in_err(&in, "link type %u: only Ethernet (1) is supported",
				     i32(&in, magic + 20));
			goto out;
		}
		in.ifs = calloc(1, sizeof(*in.ifs));
		if (!in.ifs) {
			ret = -ENOMEM;
			goto out;
		}
		snprintf(in.ifs[0].sp.name, sizeof(in.ifs[0].sp.name), "pcap0");
		in.n_ifs = 1;
	}
	/* Pass 1 learns the interfaces (pcapng may describe them anywhere)
	 * and validates; pass 2 writes. */
	if (pcapng)
		ret = pcapng_pass(&in);
	else
		ret = pcap_pass(&in);
	if (ret)
		goto out;
	ifs = calloc(in.n_ifs ? in.n_ifs : 1, sizeof(*ifs));
	if (!ifs) {
		ret = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < in.n_ifs; i++)
		ifs[i] = in.ifs[i].sp;
	h.epoch = in.have_epoch ? in.shb_epoch : 0;
	h.created_ns = in.have_created ? in.shb_created : 0;
	snprintf(h.host, sizeof(h.host), "%s", in.shb_host[0] ? in.shb_host : host ? host : "");
	snprintf(h.tool, sizeof(h.tool), "stasis %s", STASIS_VERSION);
	if (!in.have_created) {	/* a foreign capture: this file is made now */
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		h.created_ns = (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
	}
	ret = sp_writer_open_flags(&in.w, sp_path, &h, ifs, in.n_ifs, UTIL_OUT_DIRECT);
	if (ret) {
		snprintf(err, SP_ERR_MAX, "%s: %s", sp_path, strerror(-ret));
		goto out;
	}
	in.frames = in.next_seq = 0;
	in.n_ifs = in.sec_first = 0;
	in.off = 0;
	if (pcapng) {
		ret = pcapng_pass(&in);
	} else {
		in.n_ifs = 1;
		ret = pcap_pass(&in);
	}
	if (ret) {
		sp_writer__discard(in.w);
		goto out;
	}
	ret = sp_writer__close(in.w);
	if (ret)
		snprintf(err, SP_ERR_MAX, "%s: %s", sp_path, strerror(-ret));
	else if (res)
		*res = (struct sp_conv_result){ .frames = in.frames, .ifaces = in.n_ifs };
out:
	free(ifs);
	free(in.ifs);
	free(in.b);
	util_map_close(&in.m);
	return ret;
}
