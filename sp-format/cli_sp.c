// SPDX-License-Identifier: MIT
/* stasis sp ...: .sp packet files. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
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
	char err[SP_ERR_MAX];
	int ret = sp_reader__open(r, path, flags, err);

	if (ret)
		return p_err("%s", err);
	return 0;
}

struct span {
	uint64_t frames, cap, orig;
};

static int do_sp_info(int argc, char **argv)
{
	static const struct option opts[] = { { 0 } };
	struct sp_reader *r;
	struct sp_frame f;
	uint64_t frames = 0, cap = 0, orig = 0, t0 = 0, t1 = 0, smin = 0, smax = 0;
	struct span *per;
	uint32_t ni;
	char buf[64];
	int c, ret;

	while ((c = cli_getopt(argc, argv, "", opts)) != -1)
		if (c == -2)
			return EXIT_USAGE;
	if (argc - optind != 1)
		return p_usage("usage: stasis sp info FILE");
	if (open_reader(argv[optind], SP_READ_SALVAGE, &r))
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
			"file", argv[optind], "complete", complete, "epoch", (json_int_t)h->epoch,
			"host", h->host, "tool", h->tool, "created_ns", (json_int_t)h->created_ns,
			"interfaces", ifs, "frames", (json_int_t)frames,
			"captured_bytes", (json_int_t)cap, "original_bytes", (json_int_t)orig,
			"first_ns", (json_int_t)t0, "last_ns", (json_int_t)t1,
			"first_seq", (json_int_t)smin, "last_seq", (json_int_t)smax, "notes", notes);
		if (!complete)
			json_object_set_new(o, "damage", json_string(sp_reader__error(r)));
		jw_value(o);
	} else {
		printf("file:       %s\n", argv[optind]);
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
		ret = p_err("%s", sp_reader__error(r));
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

static int do_sp_cat(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "hex", no_argument, 0, 'x' }, { "iface", required_argument, 0, 'i' },
		{ "seq", required_argument, 0, 's' }, { 0 },
	};
	const char *iface = NULL;
	uint64_t a = 0, b = UINT64_MAX, idx = 0;
	int64_t want_if = -1;
	bool hex = false;
	struct sp_reader *r;
	struct sp_frame f;
	int c, ret;

	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		switch (c) {
		case 'x': hex = true; break;
		case 'i': iface = optarg; break;
		case 's':
			if (parse_range(optarg, &a, &b))
				return p_usage("bad --seq '%s' (A:B, A:, :B or N)", optarg);
			break;
		default: return EXIT_USAGE;
		}
	}
	if (argc - optind != 1)
		return p_usage("usage: stasis sp cat FILE [--hex] [--iface I] [--seq A:B]");
	if (open_reader(argv[optind], 0, &r))
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
			return p_err("%s: no interface '%s'", argv[optind], iface);
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
	ret = ret < 0 ? p_err("%s", sp_reader__error(r)) : EXIT_OK;
	sp_reader__close(r);
	return ret;
}

/* FILE -o OUT, the shape of both conversions. */
static int in_out_args(int argc, char **argv, const char **in, const char **out,
		       const char **host)
{
	static const struct option opts[] = {
		{ "output", required_argument, 0, 'o' }, { "host", required_argument, 0, 'H' },
		{ 0 },
	};
	int c;

	*out = NULL;
	while ((c = cli_getopt(argc, argv, "o:", opts)) != -1) {
		if (c == 'o')
			*out = optarg;
		else if (c == 'H' && host)
			*host = optarg;
		else
			return c == -2 ? EXIT_USAGE : p_usage("%s: unknown option", argv[0]);
	}
	if (argc - optind != 1 || !*out)
		return p_usage("usage: stasis sp %s IN -o OUT%s", argv[0], host ? " [--host NAME]" : "");
	*in = argv[optind];
	return EXIT_OK;
}

static int report_conversion(const char *out)
{
	struct sp_reader *r;
	struct sp_frame f;
	uint64_t n = 0;
	char err[SP_ERR_MAX];

	/* Read back what was written: the count the user sees is the file's. */
	if (sp_reader__open(&r, out, 0, err))
		return p_err("%s", err);
	while (sp_reader__next(r, &f) == 1)
		n++;
	if (!sp_reader__complete(r)) {
		p_err("%s", sp_reader__error(r));
		sp_reader__close(r);
		return EXIT_FAIL;
	}
	if (json_output)
		jw_value(json_pack("{s:s,s:I,s:i}", "output", out, "frames", (json_int_t)n,
				   "interfaces", sp_reader__iface_count(r)));
	else
		printf("%s: %" PRIu64 " frames, %u interfaces\n", out, n, sp_reader__iface_count(r));
	sp_reader__close(r);
	return EXIT_OK;
}

static int do_sp_to_pcapng(int argc, char **argv)
{
	const char *in, *out;
	char err[SP_ERR_MAX];
	int ret = in_out_args(argc, argv, &in, &out, NULL);

	if (ret)
		return ret;
	if (sp_to_pcapng(in, out, err))
		return p_err("%s", err);
	if (json_output)
		jw_value(json_pack("{s:s,s:s}", "input", in, "output", out));
	else
		printf("%s -> %s\n", in, out);
	return EXIT_OK;
}

static int do_sp_from_pcapng(int argc, char **argv)
{
	const char *in, *out, *host = NULL;
	char err[SP_ERR_MAX], hn[256] = "";
	int ret = in_out_args(argc, argv, &in, &out, &host);

	if (ret)
		return ret;
	if (!host) {
		gethostname(hn, sizeof(hn) - 1);
		host = hn;
	}
	if (sp_from_pcapng(in, out, host, err))
		return p_err("%s", err);
	return report_conversion(out);
}

static const struct cmd sp_cmds[] = {
	{ "info",        do_sp_info,        "FILE" },
	{ "cat",         do_sp_cat,         "FILE [--hex] [--iface I] [--seq A:B]" },
	{ "to-pcapng",   do_sp_to_pcapng,   "FILE -o OUT" },
	{ "from-pcapng", do_sp_from_pcapng, "IN -o FILE [--host NAME]   (pcapng or pcap)" },
	{ "edit",        not_implemented, "FILE -o OUT [--set N:OFF:HEX] [--delete N] [--insert N:HEX] [--fix-checksums]" },
	{ "mutate",      not_implemented, "FILE --frame N --range A:B --cases K --seed S -o DIR" },
	{ "diff",        not_implemented, "A B" },
	{ "merge",       not_implemented, "A B... -o OUT" },
	{ 0 },
};

int do_sp(int argc, char **argv)
{
	return cmd_select(sp_cmds, "sp", argc - 1, argv + 1);
}
