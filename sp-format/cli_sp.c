// SPDX-License-Identifier: MIT
/* stasis sp ...: .sp packet files. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli/cli.h"
#include "sp-format/sp.h"

static const char *dir_name(uint8_t d) { return d == SP_DIR_IN ? "in" : "out"; }
static const char *role_str(uint8_t r) { return r == SP_ROLE_TAP ? "tap" : r == SP_ROLE_UPLINK ? "uplink" : "other"; }

static void fmt_mac(const uint8_t *m, char *buf)
{
	sprintf(buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void fmt_time(uint64_t ns, char *buf, size_t len)
{
	time_t s = (time_t)(ns / 1000000000ull);
	struct tm tm;
	size_t n;

	gmtime_r(&s, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%09lluZ", (unsigned long long)(ns % 1000000000ull));
}

/* A short description of what a frame carries: enough to find one by eye. */
static void summary(const uint8_t *p, uint32_t len, char *out, size_t outlen)
{
	uint32_t off = 14;
	uint16_t et;

	snprintf(out, outlen, "?");
	if (len < 14)
		return;
	et = (uint16_t)(p[12] << 8 | p[13]);
	while ((et == 0x8100 || et == 0x88a8) && len >= off + 4) {
		et = (uint16_t)(p[off + 2] << 8 | p[off + 3]);
		off += 4;
	}
	if (et == 0x0806) {
		snprintf(out, outlen, "ARP");
		return;
	}
	if (et == 0x86dd) {
		snprintf(out, outlen, "IPv6");
		return;
	}
	if (et != 0x0800 || len < off + 20) {
		snprintf(out, outlen, "ethertype 0x%04x", et);
		return;
	}
	const uint8_t *ip = p + off;
	uint32_t ihl = (ip[0] & 15u) * 4;
	char s[INET_ADDRSTRLEN], d[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, ip + 12, s, sizeof(s));
	inet_ntop(AF_INET, ip + 16, d, sizeof(d));
	if ((ip[9] == 6 || ip[9] == 17) && ihl >= 20 && len >= off + ihl + 4) {
		const uint8_t *l4 = ip + ihl;

		snprintf(out, outlen, "%s %s:%u > %s:%u", ip[9] == 6 ? "TCP" : "UDP",
			 s, l4[0] << 8 | l4[1], d, l4[2] << 8 | l4[3]);
	} else {
		snprintf(out, outlen, "IPv4 proto %u %s > %s", ip[9], s, d);
	}
}

static int open_reader(const char *path, unsigned flags, struct sp_reader **r)
{
	if (sp_reader__open(r, path, flags))
		return p_err("%s", sp__errmsg());
	return 0;
}

struct span {
	uint64_t frames, cap, orig;
};

static const struct cli_opt no_opts[] = { { 0 } };

static int do_sp_info(int argc, char **argv)
{
	struct sp_reader *r;
	struct sp_frame f;
	uint64_t frames = 0, cap = 0, orig = 0, t0 = 0, t1 = 0, smin = 0, smax = 0;
	struct span *per;
	uint32_t ni;
	char buf[64];
	int np = cli_parse(no_opts, argc, argv, NULL, NULL), ret;

	if (np < 0)
		return EXIT_USAGE;
	if (np != 1)
		return p_usage("sp info: one FILE, not %d arguments", np);
	if (open_reader(argv[1], SP_READ_SALVAGE, &r))
		return EXIT_FAIL;
	ni = sp_reader__iface_count(r);
	per = calloc((size_t)ni * 2 + 1, sizeof(*per));
	if (!per) {
		sp_reader__close(r);
		return p_err("out of memory");
	}
	while ((ret = sp_reader__next(r, &f)) == 1) {
		struct span *s = &per[f.iface * 2 + f.dir];

		if (!frames++) {
			t0 = t1 = f.ts_ns;
			smin = smax = f.seq;
		}
		t0 = f.ts_ns < t0 ? f.ts_ns : t0;
		t1 = f.ts_ns > t1 ? f.ts_ns : t1;
		smin = f.seq < smin ? f.seq : smin;
		smax = f.seq > smax ? f.seq : smax;
		cap += f.cap_len;
		orig += f.orig_len;
		s->frames++;
		s->cap += f.cap_len;
	}
	const struct sp_header *h = sp_reader__header(r);
	bool complete = sp_reader__complete(r);

	if (json_output) {
		json_t *ifs = json_array(), *notes = json_array();

		for (uint32_t i = 0; i < ni; i++) {
			const struct sp_iface *x = sp_reader__iface(r, i);

			fmt_mac(x->mac, buf);
			json_array_append_new(ifs, json_pack("{s:i,s:s,s:i,s:s,s:s,s:s,s:s,s:{s:I,s:I},s:{s:I,s:I}}",
				"index", i, "name", x->name, "ifindex", x->ifindex, "mac", buf,
				"role", role_str(x->role), "vm", x->vm, "host", x->host,
				"out", "frames", (json_int_t)per[i * 2].frames, "bytes", (json_int_t)per[i * 2].cap,
				"in", "frames", (json_int_t)per[i * 2 + 1].frames, "bytes", (json_int_t)per[i * 2 + 1].cap));
		}
		for (uint32_t i = 0; i < sp_reader__note_count(r); i++)
			json_array_append_new(notes, json_string(sp_reader__note(r, i)));
		json_t *o = json_pack("{s:s,s:b,s:I,s:s,s:s,s:I,s:o,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o}",
			"file", argv[1], "complete", complete, "epoch", (json_int_t)h->epoch,
			"host", h->host, "tool", h->tool, "created_ns", (json_int_t)h->created_ns,
			"interfaces", ifs, "frames", (json_int_t)frames,
			"captured_bytes", (json_int_t)cap, "original_bytes", (json_int_t)orig,
			"first_ns", (json_int_t)t0, "last_ns", (json_int_t)t1,
			"first_seq", (json_int_t)smin, "last_seq", (json_int_t)smax, "notes", notes);
		if (!complete)
			json_object_set_new(o, "damage", json_string(sp_reader__damage(r)));
		jw_value(o);
	} else {
		printf("file:       %s\n", argv[1]);
		printf("complete:   %s\n", complete ? "yes" : "NO");
		fmt_time(h->created_ns, buf, sizeof(buf));
		printf("epoch:      %" PRIu64 "\nhost:       %s\ncreated:    %s\ntool:       %s\n",
		       h->epoch, h->host, buf, h->tool);
		printf("frames:     %" PRIu64 " (%" PRIu64 " bytes captured, %" PRIu64 " on the wire)\n",
		       frames, cap, orig);
		if (frames) {
			printf("seq:        %" PRIu64 " .. %" PRIu64 "\n", smin, smax);
			fmt_time(t0, buf, sizeof(buf));
			printf("time:       %s + %.6f s\n", buf, (double)(t1 - t0) / 1e9);
		}
		printf("interfaces: %u\n", ni);
		for (uint32_t i = 0; i < ni; i++) {
			const struct sp_iface *x = sp_reader__iface(r, i);

			fmt_mac(x->mac, buf);
			printf("  %u: %s ifindex %u mac %s role %s%s%s%s%s\n", i, x->name, x->ifindex,
			       buf, role_str(x->role), x->vm[0] ? " vm " : "", x->vm,
			       x->host[0] ? " host " : "", x->host);
			printf("     out %" PRIu64 " frames %" PRIu64 " bytes, in %" PRIu64 " frames %" PRIu64 " bytes\n",
			       per[i * 2].frames, per[i * 2].cap, per[i * 2 + 1].frames, per[i * 2 + 1].cap);
		}
		for (uint32_t i = 0; i < sp_reader__note_count(r); i++)
			printf("note:       %s\n", sp_reader__note(r, i));
	}
	ret = EXIT_OK;
	if (!complete)
		ret = p_err("%s", sp_reader__damage(r) ? sp_reader__damage(r) : "incomplete");
	free(per);
	sp_reader__close(r);
	return ret;
}

/* "A:B", "A:", ":B" or "A" into an inclusive range. */
static int parse_range(const char *s, uint64_t *a, uint64_t *b)
{
	const char *colon = strchr(s, ':');
	char left[32];

	*a = 0;
	*b = UINT64_MAX;
	if (!colon)
		return cli_u64(s, a) || (*b = *a, 0);
	if ((size_t)(colon - s) >= sizeof(left))
		return -EINVAL;
	memcpy(left, s, colon - s);
	left[colon - s] = 0;
	if (left[0] && cli_u64(left, a))
		return -EINVAL;
	if (colon[1] && cli_u64(colon + 1, b))
		return -EINVAL;
	return *a > *b ? -EINVAL : 0;
}

struct cat_cfg {
	bool hex;
	const char *iface;
	uint64_t a, b;
};

static int set_seq(const char *verb, const struct cli_opt *opt, const char *v, void *at)
{
	struct cat_cfg *c = at;

	(void)opt;
	if (parse_range(v, &c->a, &c->b))
		return p_usage("%s: bad --seq '%s' (A:B, A:, :B or N)", verb, v);
	return 0;
}

static const struct cli_opt cat_opts[] = {
	CLI_FLAG("hex", struct cat_cfg, hex, "each frame's bytes too"),
	CLI_STR("iface", struct cat_cfg, iface, "I", "only the frames of this interface (name or number)"),
	{ .name = "seq", .kind = CLI_OPT_FN, .arg = "A:B", .fn = set_seq, .help = "only these frames (A:B, A:, :B or N)" },
	{ 0 },
};

static int do_sp_cat(int argc, char **argv)
{
	struct cat_cfg cfg = { .b = UINT64_MAX };
	const char *iface;
	uint64_t a, b, idx = 0;
	int64_t want_if = -1;
	bool hex;
	struct sp_reader *r;
	struct sp_frame f;
	int np = cli_parse(cat_opts, argc, argv, &cfg, NULL), ret;

	if (np < 0)
		return EXIT_USAGE;
	if (np != 1)
		return p_usage("sp cat: one FILE, not %d arguments", np);
	hex = cfg.hex, iface = cfg.iface, a = cfg.a, b = cfg.b;
	if (open_reader(argv[1], 0, &r))
		return EXIT_FAIL;
	if (iface) {
		uint64_t n;

		for (uint32_t i = 0; i < sp_reader__iface_count(r); i++)
			if (!strcmp(sp_reader__iface(r, i)->name, iface))
				want_if = i;
		if (want_if < 0 && !cli_u64(iface, &n) && n < sp_reader__iface_count(r))
			want_if = (int64_t)n;
		if (want_if < 0) {
			sp_reader__close(r);
			return p_err("%s: no interface '%s'", argv[1], iface);
		}
	}
	if (json_output)
		jw_array_begin();
	char *hexbuf = hex ? malloc(SP_MAX_FRAME * 2 + 1) : NULL;

	while ((ret = sp_reader__next(r, &f)) == 1) {
		char sum[128], ts[64];

		idx++;
		if ((want_if >= 0 && f.iface != want_if) || f.seq < a || f.seq > b)
			continue;
		summary(f.data, f.cap_len, sum, sizeof(sum));
		fmt_time(f.ts_ns, ts, sizeof(ts));
		if (hexbuf)
			for (uint32_t i = 0; i < f.cap_len; i++)
				sprintf(hexbuf + 2 * i, "%02x", f.data[i]);
		const char *ifn = sp_reader__iface(r, f.iface)->name;

		if (json_output) {
			json_t *o = json_pack("{s:I,s:I,s:I,s:s,s:s,s:i,s:i,s:i,s:s}",
				"index", (json_int_t)(idx - 1), "seq", (json_int_t)f.seq,
				"ts_ns", (json_int_t)f.ts_ns, "iface", ifn, "dir", dir_name(f.dir),
				"orig_len", f.orig_len, "cap_len", f.cap_len, "flags", f.flags,
				"summary", sum);
			if (hexbuf)
				json_object_set_new(o, "hex", json_stringn(hexbuf, f.cap_len * 2));
			jw_array_item(o);
		} else {
			printf("%" PRIu64 " seq=%" PRIu64 " %s %s %-3s len=%u%s%s%s%s %s%s%.*s\n",
			       idx - 1, f.seq, ts, ifn, dir_name(f.dir), f.orig_len,
			       f.cap_len < f.orig_len ? " truncated" : "",
			       f.flags & SP_F_GSO ? " gso" : "", f.flags & SP_F_EDITED ? " edited" : "",
			       f.flags & SP_F_INJECTED ? " injected" : "", sum,
			       hexbuf ? " " : "", hexbuf ? (int)(f.cap_len * 2) : 0, hexbuf ? hexbuf : "");
		}
	}
	free(hexbuf);
	if (json_output)
		jw_array_end();
	ret = ret < 0 ? p_err("%s", sp__errmsg()) : EXIT_OK;
	sp_reader__close(r);
	return ret;
}

struct conv_cfg {
	const char *out, *host;
};

#define OPT_OUT(st, a, h) { .name = "output", .short_name = 'o', .kind = CLI_OPT_STR, \
			    .off = offsetof(st, out), .arg = a, .help = h, .required = true }
static const struct cli_opt to_pcapng_opts[] = {
	OPT_OUT(struct conv_cfg, "OUT", "the pcapng file to write"),
	{ 0 },
};
static const struct cli_opt from_pcapng_opts[] = {
	OPT_OUT(struct conv_cfg, "FILE", "the .sp file to write"),
	CLI_STR("host", struct conv_cfg, host, "NAME", "the host named in the .sp (default: the hostname)"),
	{ 0 },
};

/* IN -o OUT, the shape of both conversions. */
static int in_out_args(const struct cli_opt *opts, int argc, char **argv, const char **in,
		       const char **out, const char **host)
{
	struct conv_cfg cfg = { 0 };
	int np = cli_parse(opts, argc, argv, &cfg, NULL);

	if (np < 0)
		return EXIT_USAGE;
	if (np != 1)
		return p_usage("sp %s: one input file, not %d arguments", argv[0], np);
	*in = argv[1], *out = cfg.out;
	if (host)
		*host = cfg.host;
	return EXIT_OK;
}

static int report_counts(const char *out, uint64_t frames, uint32_t ifaces)
{
	if (json_output)
		jw_value(json_pack("{s:s,s:I,s:i}", "output", out, "frames", (json_int_t)frames,
				   "interfaces", (int)ifaces));
	else
		printf("%s: %" PRIu64 " frames, %u interfaces\n", out, frames, ifaces);
	return EXIT_OK;
}

static int report_conversion(const char *out)
{
	struct sp_reader *r;
	struct sp_frame f;
	uint64_t n = 0;
	/* Read back what was written: the count the user sees is the file's. */
	if (sp_reader__open(&r, out, 0))
		return p_err("%s", sp__errmsg());
	while (sp_reader__next(r, &f) == 1)
		n++;
	if (!sp_reader__complete(r)) {
		p_err("%s", sp__errmsg());
		sp_reader__close(r);
		return EXIT_FAIL;
	}
	report_counts(out, n, sp_reader__iface_count(r));
	sp_reader__close(r);
	return EXIT_OK;
}

static int do_sp_to_pcapng(int argc, char **argv)
{
	const char *in = NULL, *out = NULL;
	int ret = in_out_args(to_pcapng_opts, argc, argv, &in, &out, NULL);

	if (ret)
		return ret;
	if (sp__to_pcapng(in, out))
		return p_err("%s", sp__errmsg());
	if (json_output)
		jw_value(json_pack("{s:s,s:s}", "input", in, "output", out));
	else
		printf("%s -> %s\n", in, out);
	return EXIT_OK;
}

static int do_sp_from_pcapng(int argc, char **argv)
{
	const char *in = NULL, *out = NULL, *host = NULL;
	struct sp_conv_result res;
	char hn[256] = "";
	int ret = in_out_args(from_pcapng_opts, argc, argv, &in, &out, &host);

	if (ret)
		return ret;
	if (!host) {
		gethostname(hn, sizeof(hn) - 1);
		host = hn;
	}
	/* The writer's count: it committed every frame (fsynced, renamed), and
	 * reading 1 GB back from the disk to count them again doubled the
	 * command's time. */
	if (sp__from_pcapng(in, out, host, &res))
		return p_err("%s", sp__errmsg());
	return report_counts(out, res.frames, res.ifaces);
}

/* "N:REST" -> N and a pointer to REST. */
static int split_index(const char *s, uint64_t *n, const char **rest)
{
	char num[32];
	const char *colon = strchr(s, ':');
	size_t len = colon ? (size_t)(colon - s) : strlen(s);

	if (!len || len >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, len);
	num[len] = 0;
	*rest = colon ? colon + 1 : NULL;
	return cli_u64(num, n);
}

struct edit_cfg {
	const char *out;
	bool fixck;
	struct sp_edit *e;	/* in the order given */
	uint8_t **bufs;
	size_t n;
};

static int add_delete(const char *verb, const struct cli_opt *opt, const char *v, void *at)
{
	struct edit_cfg *c = at;
	struct sp_edit *x = &c->e[c->n];
	const char *rest;

	(void)opt;
	x->op = SP_EDIT_DELETE;
	if (split_index(v, &x->frame, &rest) || rest)
		return p_usage("%s: bad --delete '%s' (N)", verb, v);
	c->n++;
	return 0;
}

/* --set N:OFFSET:HEX and --insert N:HEX */
static int add_bytes(const char *verb, const struct cli_opt *opt, const char *v, void *at)
{
	struct edit_cfg *c = at;
	struct sp_edit *x = &c->e[c->n];
	bool set = !strcmp(opt->name, "set");
	const char *rest, *hex;
	uint64_t off = 0;
	int len;

	x->op = set ? SP_EDIT_SET : SP_EDIT_INSERT;
	if (split_index(v, &x->frame, &rest) || !rest)
		return p_usage("%s: bad --%s '%s'", verb, opt->name, v);
	hex = rest;
	if (set && (split_index(rest, &off, &hex) || !hex || off > SP_MAX_FRAME))
		return p_usage("%s: bad --set '%s' (N:OFFSET:HEX)", verb, v);
	x->offset = (uint32_t)off;
	c->bufs[c->n] = malloc(SP_MAX_FRAME);
	len = c->bufs[c->n] ? sp__hex_parse(hex, c->bufs[c->n], SP_MAX_FRAME) : -ENOMEM;
	if (len <= 0)
		return p_usage("%s: bad hex bytes in '%s'%s", verb, v, len == -E2BIG ? " (longer than a frame)" : "");
	x->bytes = c->bufs[c->n];
	x->len = (uint32_t)len;
	c->n++;
	return 0;
}

static const struct cli_opt edit_opts[] = {
	OPT_OUT(struct edit_cfg, "OUT", "the edited copy (the file itself is never changed)"),
	{ .name = "set", .kind = CLI_OPT_FN, .repeat = true, .arg = "N:OFF:HEX", .fn = add_bytes,
	  .help = "overwrite frame N's bytes from OFF (repeatable; edits apply in order)" },
	{ .name = "delete", .kind = CLI_OPT_FN, .repeat = true, .arg = "N", .fn = add_delete, .help = "remove frame N" },
	{ .name = "insert", .kind = CLI_OPT_FN, .repeat = true, .arg = "N:HEX", .fn = add_bytes, .help = "a new frame before frame N" },
	CLI_FLAG("fix-checksums", struct edit_cfg, fixck, "recompute IPv4/TCP/UDP checksums of the frames edited"),
	{ 0 },
};

static int do_sp_edit(int argc, char **argv)
{
	struct edit_cfg cfg = { .e = calloc((size_t)argc, sizeof(struct sp_edit)),
				.bufs = calloc((size_t)argc, sizeof(uint8_t *)) };
	struct sp_edit *e = cfg.e;
	uint8_t **bufs = cfg.bufs;
	const char *out;
	bool fixck;
	size_t n;
	int np, ret = EXIT_OK;

	if (!e || !bufs) {
		free(e);
		free(bufs);
		return p_err("out of memory");
	}
	np = cli_parse(edit_opts, argc, argv, &cfg, NULL);
	out = cfg.out, fixck = cfg.fixck, n = cfg.n;
	if (np < 0)
		ret = EXIT_USAGE;
	else if (np != 1)
		ret = p_usage("sp edit: one FILE, not %d arguments", np);
	if (ret == EXIT_OK && !n && !fixck)
		ret = p_usage("sp edit: nothing to do (no --set, --delete, --insert or --fix-checksums)");
	if (ret == EXIT_OK) {
		if (sp__edit(argv[1], out, e, n, fixck))
			ret = p_err("%s", sp__errmsg());
		else
			ret = report_conversion(out);
	}
	for (int i = 0; i < argc; i++)
		free(bufs[i]);
	free(bufs);
	free(e);
	return ret;
}

static void mutate_progress(uint32_t done, uint32_t total, void *ctx)
{
	(void)ctx;
	/* About ten lines for a long run, whatever its size. */
	if (total >= 20 && done % (total / 10) == 0)
		p_info("mutate: %u/%u cases", done, total);
}

struct mutate_cfg {
	struct sp_mutate_opts o;
	const char *dir;
};

static int set_mutate_range(const char *verb, const struct cli_opt *opt, const char *v, void *at)
{
	struct sp_mutate_opts *o = at;
	uint64_t a, b;

	(void)opt;
	if (parse_range(v, &a, &b) || a >= SP_MAX_FRAME)
		return p_usage("%s: bad --range '%s' (A:B byte offsets, inclusive)", verb, v);
	o->from = (uint32_t)a;
	o->to = b >= UINT32_MAX ? UINT32_MAX : (uint32_t)b;
	return 0;
}

#define MUT(f) offsetof(struct mutate_cfg, o.f)
static const struct cli_opt mutate_opts[] = {
	{ .name = "frame", .kind = CLI_OPT_U64, .off = MUT(frame), .arg = "N", .help = "the frame to mutate",
	  .required = true },
	{ .name = "range", .kind = CLI_OPT_FN, .off = offsetof(struct mutate_cfg, o), .arg = "A:B", .fn = set_mutate_range,
	  .help = "its bytes to mutate (default: all)" },
	{ .name = "cases", .kind = CLI_OPT_INT, .off = MUT(cases), .arg = "K", .lo = 1, .hi = 1000000,
	  .help = "how many cases", .required = true },
	CLI_U64("seed", struct mutate_cfg, o.seed, "S", "the mutations' seed (default 0)"),
	{ .name = "output", .short_name = 'o', .kind = CLI_OPT_STR, .off = offsetof(struct mutate_cfg, dir),
	  .arg = "DIR", .help = "where the cases (.sp) and cases.jsonl go", .required = true },
	CLI_FLAG("fix-checksums", struct mutate_cfg, o.fix_checksums, "recompute checksums after each mutation"),
	{ 0 },
};

static int do_sp_mutate(int argc, char **argv)
{
	struct mutate_cfg cfg = { .o = { .sz = sizeof(cfg.o), .to = UINT32_MAX } };
	struct sp_mutate_opts o;
	const char *dir;
	int np = cli_parse(mutate_opts, argc, argv, &cfg, NULL);

	if (np < 0)
		return EXIT_USAGE;
	if (np != 1)
		return p_usage("sp mutate: one FILE, not %d arguments", np);
	o = cfg.o, dir = cfg.dir;
	o.progress = mutate_progress;
	p_info("mutate: %u cases of frame %llu into %s", o.cases, (unsigned long long)o.frame, dir);
	if (sp__mutate(argv[1], dir, &o))
		return p_err("%s", sp__errmsg());
	if (json_output)
		jw_value(json_pack("{s:s,s:i,s:I}", "directory", dir, "cases", o.cases,
				   "seed", (json_int_t)o.seed));
	else
		printf("%s: %u cases (seed %llu), described in %s/cases.jsonl\n", dir, o.cases,
		       (unsigned long long)o.seed, dir);
	return EXIT_OK;
}

static const struct cli_opt merge_opts[] = {
	OPT_OUT(struct conv_cfg, "OUT", "the merged file"),
	{ 0 },
};

static int do_sp_merge(int argc, char **argv)
{
	struct conv_cfg cfg = { 0 };
	const char *out;
	int np = cli_parse(merge_opts, argc, argv, &cfg, NULL);

	if (np < 0)
		return EXIT_USAGE;
	if (np < 1)
		return p_usage("sp merge: which files? (A B...)");
	out = cfg.out;
	if (sp__merge((const char *const *)argv + 1, (size_t)np, out))
		return p_err("%s", sp__errmsg());
	return report_conversion(out);
}

/* A difference that is not about one frame. */
static void diff_header(json_t *arr, const char *what)
{
	if (json_output)
		json_array_append_new(arr, json_pack("{s:s}", "difference", what));
	else
		printf("%s\n", what);
}

static void diff_note(json_t *arr, uint64_t idx, const char *what)
{
	if (json_output)
		json_array_append_new(arr, json_pack("{s:I,s:s}", "step", (json_int_t)idx, "difference", what));
	else
		printf("%s\n", what);
}

/* Appends "seq N: WHAT" (the first) or "; WHAT" to @buf at @pos; returns the
 * new end (at most len - 1). */
__attribute__((format(printf, 5, 6)))
static size_t diff_add(char *buf, size_t len, size_t pos, uint64_t seq, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (pos == 0)
		n = snprintf(buf, len, "seq %" PRIu64 ": ", seq);
	else
		n = snprintf(buf + pos, len - pos, "; ");
	if (n > 0)
		pos = pos + (size_t)n < len ? pos + (size_t)n : len - 1;
	va_start(ap, fmt);
	n = vsnprintf(buf + pos, len - pos, fmt, ap);
	va_end(ap);
	if (n > 0)
		pos = pos + (size_t)n < len ? pos + (size_t)n : len - 1;
	return pos;
}

/* The interface tables, entry by entry: what frames are read against. */
static uint64_t diff_ifaces(struct sp_reader *ra, struct sp_reader *rb, json_t *arr)
{
	uint32_t na = sp_reader__iface_count(ra), nb = sp_reader__iface_count(rb);
	uint64_t n = 0;
	char what[2048], ma[32], mb[32];	/* six strings of up to 255 bytes */

	if (na != nb) {
		snprintf(what, sizeof(what), "interfaces: %u vs %u", na, nb);
		diff_header(arr, what);
		n++;
	}
	for (uint32_t i = 0; i < na && i < nb; i++) {
		const struct sp_iface *a = sp_reader__iface(ra, i), *b = sp_reader__iface(rb, i);

		fmt_mac(a->mac, ma);
		fmt_mac(b->mac, mb);
		if (strcmp(a->name, b->name) || a->ifindex != b->ifindex || strcmp(ma, mb) ||
		    a->role != b->role || strcmp(a->vm, b->vm) || strcmp(a->host, b->host)) {
			snprintf(what, sizeof(what),
				 "interface %u: %s ifindex %u mac %s role %s vm '%s' host '%s' vs "
				 "%s ifindex %u mac %s role %s vm '%s' host '%s'", i,
				 a->name, a->ifindex, ma, role_str(a->role), a->vm, a->host,
				 b->name, b->ifindex, mb, role_str(b->role), b->vm, b->host);
			diff_header(arr, what);
			n++;
		}
	}
	return n;
}

static int do_sp_diff(int argc, char **argv)
{
	struct sp_reader *ra, *rb;
	struct sp_frame fa, fb;
	json_t *arr;
	uint64_t idx = 0, ndiff = 0;
	char what[1200];
	int a, b, ret = EXIT_OK, np = cli_parse(no_opts, argc, argv, NULL, NULL);

	if (np < 0)
		return EXIT_USAGE;
	if (np != 2)
		return p_usage("sp diff: two files A B, not %d arguments", np);
	if (open_reader(argv[1], 0, &ra))
		return EXIT_FAIL;
	if (open_reader(argv[2], 0, &rb)) {
		sp_reader__close(ra);
		return EXIT_FAIL;
	}
	const struct sp_header *ha = sp_reader__header(ra), *hb = sp_reader__header(rb);

	arr = json_array();
	if (ha->epoch != hb->epoch || strcmp(ha->host, hb->host)) {
		snprintf(what, sizeof(what), "header: epoch %llu host %s vs epoch %llu host %s",
			 (unsigned long long)ha->epoch, ha->host, (unsigned long long)hb->epoch, hb->host);
		diff_header(arr, what);
		ndiff++;
	}
	ndiff += diff_ifaces(ra, rb, arr);
	/* Walk both files in step, aligned on seq (both are in seq order as
	 * written): a frame whose seq the other file lacks is reported alone,
	 * so one deleted frame does not make every later one differ. */
	a = sp_reader__next(ra, &fa);
	b = sp_reader__next(rb, &fb);
	for (;;) {
		if (a < 0 || b < 0) {
			ret = p_err("%s", sp__errmsg());
			break;
		}
		if (!a && !b)
			break;
		/* An injected frame carries the seq of the frame it precedes. */
		bool inj_a = a && b && fa.seq == fb.seq && (fa.flags & SP_F_INJECTED) &&
			     !(fb.flags & SP_F_INJECTED);
		bool inj_b = a && b && fa.seq == fb.seq && (fb.flags & SP_F_INJECTED) &&
			     !(fa.flags & SP_F_INJECTED);

		if (!b || inj_a || (a && fa.seq < fb.seq)) {
			snprintf(what, sizeof(what), "seq %llu%s only in %s", (unsigned long long)fa.seq,
				 inj_a ? " (injected)" : "", argv[1]);
			diff_note(arr, idx++, what);
			ndiff++;
			a = sp_reader__next(ra, &fa);
			continue;
		}
		if (!a || inj_b || fb.seq < fa.seq) {
			snprintf(what, sizeof(what), "seq %llu%s only in %s", (unsigned long long)fb.seq,
				 inj_b ? " (injected)" : "", argv[2]);
			diff_note(arr, idx++, what);
			ndiff++;
			b = sp_reader__next(rb, &fb);
			continue;
		}
		const char *na = sp_reader__iface(ra, fa.iface)->name, *nb = sp_reader__iface(rb, fb.iface)->name;
		size_t w = 0;

		/* Every field that differs, in one line per frame. */
		what[0] = 0;
		if (strcmp(na, nb) || fa.dir != fb.dir)
			w = diff_add(what, sizeof(what), w, fa.seq, "interface %s %s vs %s %s",
				     na, dir_name(fa.dir), nb, dir_name(fb.dir));
		if (fa.ts_ns != fb.ts_ns)
			w = diff_add(what, sizeof(what), w, fa.seq, "time %llu vs %llu ns",
				     (unsigned long long)fa.ts_ns, (unsigned long long)fb.ts_ns);
		if (fa.orig_len != fb.orig_len)
			w = diff_add(what, sizeof(what), w, fa.seq, "original length %u vs %u",
				     fa.orig_len, fb.orig_len);
		if (fa.cap_len != fb.cap_len)
			w = diff_add(what, sizeof(what), w, fa.seq, "length %u vs %u",
				     fa.cap_len, fb.cap_len);
		else if (memcmp(fa.data, fb.data, fa.cap_len)) {
			uint32_t first = UINT32_MAX, count = 0;

			for (uint32_t k = 0; k < fa.cap_len; k++)
				if (fa.data[k] != fb.data[k] && !count++)
					first = k;
			w = diff_add(what, sizeof(what), w, fa.seq,
				     "%u bytes differ, first at offset %u (%02x vs %02x)",
				     count, first, fa.data[first], fb.data[first]);
		}
		if (fa.flags != fb.flags)
			w = diff_add(what, sizeof(what), w, fa.seq, "flags 0x%x vs 0x%x", fa.flags, fb.flags);
		if (what[0]) {
			diff_note(arr, idx, what);
			ndiff++;
		}
		idx++;
		a = sp_reader__next(ra, &fa);
		b = sp_reader__next(rb, &fb);
	}
	if (ret == EXIT_OK) {
		if (json_output)
			jw_value(json_pack("{s:b,s:I,s:o}", "identical", ndiff == 0,
					   "differences", (json_int_t)ndiff, "list", json_incref(arr)));
		else
			printf("%s: %llu differences\n", ndiff ? "different" : "identical",
			       (unsigned long long)ndiff);
	}
	json_decref(arr);
	sp_reader__close(ra);
	sp_reader__close(rb);
	return ret;
}

#define VERB(n, f, a, o, h) { .name = n, .fn = f, .args = a, .opts = o, .help = h }
const struct cmd cli_sp_verbs[] = {
	VERB("info", do_sp_info, "FILE", no_opts, "Header, interfaces, frames, times; a damaged file salvaged."),
	VERB("cat", do_sp_cat, "FILE", cat_opts, "One line per frame."),
	VERB("to-pcapng", do_sp_to_pcapng, "FILE", to_pcapng_opts, "Convert to pcapng."),
	VERB("from-pcapng", do_sp_from_pcapng, "IN", from_pcapng_opts, "Convert from pcapng or pcap."),
	VERB("edit", do_sp_edit, "FILE", edit_opts, "Set, delete or insert frames into a copy."),
	VERB("mutate", do_sp_mutate, "FILE", mutate_opts, "Write K mutated copies of one frame's file, each a case."),
	VERB("diff", do_sp_diff, "A B", no_opts, "Frame by frame differences."),
	VERB("merge", do_sp_merge, "A B...", merge_opts, "Merge files in time order."),
	{ 0 },
};

int do_sp(int argc, char **argv)
{
	return cmd_select(cli_sp_verbs, "sp", argc - 1, argv + 1);
}
