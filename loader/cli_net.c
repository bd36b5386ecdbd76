// SPDX-License-Identifier: MIT
/* stasis net ...: the network hold on this host. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include "cli/cli.h"
#include "bpf/stasis_bpf.h"
#include "loader/loader.h"
#include "sp-format/sp.h"

static const struct cli_opt no_opts[] = { { 0 } };

/* A verb of no arguments: 0, or EXIT_USAGE (reported). */
static int no_args(const struct cli_opt *opts, int argc, char **argv, void *cfg)
{
	int np = cli_parse(opts, argc, argv, cfg, NULL);

	if (np > 0)
		p_usage("net %s: unexpected argument '%s'", argv[0], argv[1]);
	return np ? EXIT_USAGE : 0;
}

/* The running kernel (its release into @rel) is new enough: 0, or the
 * error reported. */
static int kernel_ok(char *rel, size_t len)
{
	int err = loader__kernel_check(rel, len);

	if (err == -ENOTSUP)
		return p_err("kernel %s is too old: stasis needs Linux %d.%d or newer",
			     rel, LOADER_MIN_KERNEL_MAJOR, LOADER_MIN_KERNEL_MINOR);
	if (err)
		return p_err("cannot read the kernel version: %s", strerror(-err));
	return 0;
}

/*
 * net probe: can this host run the hold? Checks the kernel version and loads
 * the embedded BPF object (nothing is attached or pinned), then unloads it.
 */
static int do_net_probe(int argc, char **argv)
{
	struct stasis_prog *p;
	char rel[128];
	int err;

	if (no_args(no_opts, argc, argv, NULL))
		return EXIT_USAGE;
	if (kernel_ok(rel, sizeof(rel)))
		return EXIT_FAIL;
	err = stasis_prog__load(&p, 0);
	if (err)
		return p_err("loading the BPF object failed: %s%s", stasis_bpf__errmsg(),
			     err == -EPERM ? " (run as root: CAP_BPF and CAP_NET_ADMIN)" : "");
	if (json_output) {
		json_t *progs = json_array(), *maps = json_array();

		for (int i = 0; i < stasis_prog__prog_count(p); i++)
			json_array_append_new(progs, json_string(stasis_prog__prog_name(p, i)));
		for (int i = 0; i < stasis_prog__map_count(p); i++)
			json_array_append_new(maps, json_string(stasis_prog__map_name(p, i)));
		jw_value(json_pack("{s:s,s:b,s:b,s:o,s:o}", "kernel", rel, "supported", 1, "loaded", 1,
				   "programs", progs, "maps", maps));
	} else {
		printf("kernel %s: supported (stasis needs %d.%d or newer)\n", rel,
		       LOADER_MIN_KERNEL_MAJOR, LOADER_MIN_KERNEL_MINOR);
		printf("BPF object loaded: %d programs, %d maps\n",
		       stasis_prog__prog_count(p), stasis_prog__map_count(p));
		for (int i = 0; i < stasis_prog__prog_count(p); i++)
			printf("  program %s\n", stasis_prog__prog_name(p, i));
		for (int i = 0; i < stasis_prog__map_count(p); i++)
			printf("  map %s\n", stasis_prog__map_name(p, i));
	}
	stasis_prog__destroy(p);
	return EXIT_OK;
}

static int open_loader(struct loader **l)
{
	if (loader__open(l))
		return p_err("%s", loader__errmsg());
	return EXIT_OK;
}

struct attach_cfg {
	struct loader_attach_opts o;
	const char **ups;
};

static int add_uplink(const char *verb, const struct cli_opt *opt, const char *v, void *at)
{
	struct attach_cfg *c = at;

	(void)verb, (void)opt;
	c->ups[c->o.n_uplinks++] = v;
	return 0;
}

static int set_ring_mb(const char *verb, const struct cli_opt *opt, const char *v, void *at)
{
	uint64_t mb;

	(void)opt;
	if (cli_u64(v, &mb) || mb < 1 || mb > 4096 || (mb & (mb - 1)))
		return p_usage("%s: bad --ring-mb '%s' (a power of 2, 1..4096)", verb, v);
	*(uint32_t *)at = (uint32_t)(mb << 20);
	return 0;
}

static const struct cli_opt attach_opts[] = {
	{ .name = "uplink", .kind = CLI_OPT_FN, .repeat = true, .arg = "DEV", .fn = add_uplink,
	  .help = "a device toward other hosts (TC egress only; repeatable)" },
	CLI_FN("ring-mb", struct attach_cfg, o.ring_bytes, "N", set_ring_mb,
	       "the hold's ring, MiB (a power of 2; default 64)"),
	{ 0 },
};

static int do_net_attach(int argc, char **argv)
{
	const char **ups = calloc((size_t)argc, sizeof(*ups));
	struct attach_cfg cfg = { .o = { .sz = sizeof(cfg.o) }, .ups = ups };
	struct loader_attach_opts o;
	char err[LOADER_ERR_MAX];
	int np, ret;

	if (!ups)
		return p_err("out of memory");
	if ((np = cli_parse(attach_opts, argc, argv, &cfg, NULL)) < 0) {
		free(ups);
		return EXIT_USAGE;
	}
	o = cfg.o;
	o.uplinks = ups;
	o.taps = (const char *const *)argv + 1;
	o.n_taps = (size_t)np;
	if (!o.n_taps && !o.n_uplinks) {
		free(ups);
		return p_usage("net attach: which devices? (DEV... or --uplink DEV)");
	}
	if (kernel_ok(err, sizeof(err))) {
		free(ups);
		return EXIT_FAIL;
	}
	ret = loader__attach(&o);
	if (ret) {
		free(ups);
		return p_err("%s", loader__errmsg());
	}
	if (json_output) {
		json_t *t = json_array(), *u = json_array();

		for (size_t i = 0; i < o.n_taps; i++)
			json_array_append_new(t, json_string(o.taps[i]));
		for (size_t i = 0; i < o.n_uplinks; i++)
			json_array_append_new(u, json_string(ups[i]));
		jw_value(json_pack("{s:o,s:o}", "taps", t, "uplinks", u));
	} else {
		for (size_t i = 0; i < o.n_taps; i++)
			printf("attached %s (tap: TC egress + XDP)\n", o.taps[i]);
		for (size_t i = 0; i < o.n_uplinks; i++)
			printf("attached %s (uplink: TC egress)\n", ups[i]);
	}
	free(ups);
	return EXIT_OK;
}

static const struct cli_opt force_opts[] = {
	{ .name = "force", .kind = CLI_OPT_FLAG,
	  .help = "even while holding or with held frames in the ring (they are lost)" },
	{ 0 },
};

static int do_net_detach(int argc, char **argv)
{
	bool force = false;
	int np = cli_parse(force_opts, argc, argv, &force, NULL);

	if (np < 0)
		return EXIT_USAGE;
	if (loader__detach((const char *const *)argv + 1, (size_t)np, force))
		return p_err("%s", loader__errmsg());
	if (json_output)
		jw_value(json_pack("{s:b}", "detached", 1));
	else
		printf("detached %s\n", np ? "the devices given" : "everything");
	return EXIT_OK;
}

static const char *cnt_name[STASIS_CNT_MAX] = {
	[STASIS_CNT_SEEN_EGRESS] = "seen_egress", [STASIS_CNT_SEEN_XDP] = "seen_xdp",
	[STASIS_CNT_HELD] = "held", [STASIS_CNT_REPLAYED] = "replayed",
	[STASIS_CNT_DROP_RING_FULL] = "drop_ring_full", [STASIS_CNT_DROP_TOO_BIG] = "drop_too_big",
	[STASIS_CNT_DROP_LOAD] = "drop_load", [STASIS_CNT_DROP_EVENT] = "drop_event",
	[STASIS_CNT_TRIGGERS] = "triggers", [STASIS_CNT_DISCARDED] = "discarded",
	[STASIS_CNT_DROP_DRAIN] = "drop_drain",
};

static int do_net_status(int argc, char **argv)
{
	struct loader *l;
	struct stasis_host h;
	uint64_t cnt[STASIS_CNT_MAX], used = 0, size = 0;
	struct loader_dev devs[64];
	size_t n = 64;
	int ret = EXIT_OK;

	if (no_args(no_opts, argc, argv, NULL))
		return EXIT_USAGE;
	if (open_loader(&l))
		return EXIT_FAIL;
	if (loader__host(l, &h) || loader__counters(l, cnt) || loader__devs(l, devs, &n) ||
	    loader__ring_use(l, &used, &size)) {
		loader__close(l);
		return p_err("cannot read the pinned state: %s", strerror(errno));
	}
	if (json_output) {
		json_t *c = json_object(), *d = json_array();

		for (int k = 0; k < STASIS_CNT_MAX; k++)
			json_object_set_new(c, cnt_name[k], json_integer((json_int_t)cnt[k]));
		for (size_t i = 0; i < n; i++)
			json_array_append_new(d, json_pack("{s:s,s:i,s:s,s:b,s:I,s:I,s:I,s:I,s:I}",
				"name", devs[i].name, "ifindex", devs[i].ifindex,
				"role", devs[i].role == STASIS_ROLE_TAP ? "tap" : "uplink", "xdp", devs[i].xdp,
				"seen_egress", (json_int_t)devs[i].stats.seen_egress,
				"seen_xdp", (json_int_t)devs[i].stats.seen_xdp,
				"held", (json_int_t)devs[i].stats.held,
				"dropped", (json_int_t)devs[i].stats.dropped,
				"tx_dropped", (json_int_t)devs[i].tx_dropped));
		jw_value(json_pack("{s:s,s:I,s:I,s:o,s:o,s:{s:I,s:I}}", "state", loader__state_name(h.state),
				   "epoch", (json_int_t)h.epoch, "next_seq", (json_int_t)h.seq,
				   "counters", c, "devices", d, "ring", "used", (json_int_t)used,
				   "size", (json_int_t)size));
	} else {
		printf("state: %s  epoch: %llu  next seq: %llu\n", loader__state_name(h.state),
		       (unsigned long long)h.epoch, (unsigned long long)h.seq);
		printf("ring: %llu of %llu bytes in use\n", (unsigned long long)used, (unsigned long long)size);
		for (int k = 0; k < STASIS_CNT_MAX; k++)
			printf("%s%s %llu", k ? ", " : "counters: ", cnt_name[k], (unsigned long long)cnt[k]);
		printf("\n");
		for (size_t i = 0; i < n; i++)
			printf("  %s (%s%s): seen %llu egress / %llu xdp, held %llu, dropped %llu, tx_dropped %llu\n",
			       devs[i].name, devs[i].role == STASIS_ROLE_TAP ? "tap" : "uplink",
			       devs[i].xdp ? ", xdp" : "",
			       (unsigned long long)devs[i].stats.seen_egress,
			       (unsigned long long)devs[i].stats.seen_xdp,
			       (unsigned long long)devs[i].stats.held,
			       (unsigned long long)devs[i].stats.dropped,
			       (unsigned long long)devs[i].tx_dropped);
	}
	loader__close(l);
	return ret;
}

struct hold_cfg {
	uint64_t epoch;
	bool have;
};

static int set_epoch(const char *verb, const struct cli_opt *opt, const char *v, void *at)
{
	struct hold_cfg *c = at;

	(void)opt;
	if (cli_u64(v, &c->epoch))
		return p_usage("%s: bad --epoch '%s'", verb, v);
	c->have = true;
	return 0;
}

static const struct cli_opt hold_opts[] = {
	{ .name = "epoch", .kind = CLI_OPT_FN, .arg = "E", .fn = set_epoch,
	  .help = "the hold's epoch (default: the last one + 1)" },
	{ 0 },
};

static int do_net_hold(int argc, char **argv)
{
	struct hold_cfg cfg = { 0 };
	struct loader *l;
	struct stasis_host h;
	uint64_t epoch;
	bool have;

	if (no_args(hold_opts, argc, argv, &cfg))
		return EXIT_USAGE;
	epoch = cfg.epoch, have = cfg.have;
	if (open_loader(&l))
		return EXIT_FAIL;
	if (loader__host(l, &h) || loader__set_state(l, STASIS_HOLD, have ? epoch : h.epoch + 1)) {
		loader__close(l);
		return p_err("cannot change the host state: %s", strerror(errno));
	}
	loader__host(l, &h);
	if (json_output)
		jw_value(json_pack("{s:s,s:I}", "state", "hold", "epoch", (json_int_t)h.epoch));
	else
		printf("hold, epoch %llu\n", (unsigned long long)h.epoch);
	loader__close(l);
	return EXIT_OK;
}

static int do_net_release(int argc, char **argv)
{
	struct loader *l;
	struct stasis_host h;
	uint64_t used = 0, size;
	bool force = false;

	if (no_args(force_opts, argc, argv, &force))
		return EXIT_USAGE;
	if (open_loader(&l))
		return EXIT_FAIL;
	if (loader__host(l, &h) || loader__ring_use(l, &used, &size)) {
		loader__close(l);
		return p_err("cannot read the pinned state: %s", strerror(errno));
	}
	if (used && !force) {
		loader__close(l);
		return p_err("%llu bytes of held frames are still in the ring: drain or replay "
			     "them, or release --force to let them go", (unsigned long long)used);
	}
	if (loader__set_state(l, STASIS_PASS, h.epoch)) {
		loader__close(l);
		return p_err("cannot change the host state: %s", strerror(errno));
	}
	/* In pass nothing more comes into the ring (but a frame a CPU was
	 * copying at the switch); what is there was let go and must not be
	 * replayed later as if it were still held. */
	int64_t gone = loader__discard(l);

	if (gone < 0) {
		loader__close(l);
		return p_err("cannot empty the frame ring: %s", strerror((int)-gone));
	}
	if (json_output)
		jw_value(json_pack("{s:s,s:I,s:I}", "state", "pass", "epoch", (json_int_t)h.epoch,
				   "discarded", (json_int_t)gone));
	else
		printf("pass, epoch %llu%s\n", (unsigned long long)h.epoch,
		       gone ? ", held frames let go" : "");
	loader__close(l);
	return EXIT_OK;
}

static volatile int stop_flag;
static void on_signal(int sig) { (void)sig; stop_flag = 1; }

static void drain_progress(uint64_t frames, uint64_t bytes, void *ctx)
{
	static uint64_t last;

	(void)ctx;
	if (frames >= last + 100000 || (last == 0 && frames)) {
		p_info("drain: %llu frames, %llu bytes", (unsigned long long)frames, (unsigned long long)bytes);
		last = frames;
	}
}

struct drain_cfg {
	struct loader_drain_opts o;
	const char *out;
};

static const struct cli_opt drain_opts[] = {
	{ .name = "output", .short_name = 'o', .kind = CLI_OPT_STR, .off = offsetof(struct drain_cfg, out),
	  .arg = "FILE.sp", .help = "where the held frames go", .required = true },
	CLI_FLAG("follow", struct drain_cfg, o.follow, "go on taking frames as they are held, until a signal"),
	{ 0 },
};

static int do_net_drain(int argc, char **argv)
{
	struct drain_cfg cfg = { .o = { .sz = sizeof(cfg.o), .stop = &stop_flag, .progress = drain_progress } };
	struct loader_drain_opts o;
	const char *out;
	struct loader *l;
	int64_t n;

	if (no_args(drain_opts, argc, argv, &cfg))
		return EXIT_USAGE;
	o = cfg.o, out = cfg.out;
	if (open_loader(&l))
		return EXIT_FAIL;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	n = loader__drain(l, out, &o);
	loader__close(l);
	if (n < 0)
		return p_err("%s", loader__errmsg());
	if (json_output)
		jw_value(json_pack("{s:s,s:I}", "output", out, "frames", (json_int_t)n));
	else
		printf("%s: %lld frames\n", out, (long long)n);
	return EXIT_OK;
}

static void replay_progress(uint64_t sent, uint64_t total, void *ctx)
{
	(void)ctx;
	/* Past the file's frames come those held meanwhile: their number is
	 * not known ahead. */
	if (sent <= total)
		p_info("replay: %llu of %llu frames", (unsigned long long)sent, (unsigned long long)total);
	else
		p_info("replay: %llu frames (the file's %llu and %llu held meanwhile)",
		       (unsigned long long)sent, (unsigned long long)total,
		       (unsigned long long)(sent - total));
}

static const struct cli_opt replay_opts[] = {
	CLI_FLAG("spacing", struct loader_replay_opts, spacing, "keep the frames' recorded spacing"),
	CLI_U64("rate", struct loader_replay_opts, rate_pps, "PPS", "frames per second at most (default: as fast as each device takes them)"),
	{ 0 },
};

static int do_net_replay(int argc, char **argv)
{
	struct loader_replay_opts o = { .sz = sizeof(o), .progress = replay_progress };
	struct loader_replay_result res;
	struct loader *l;
	int np = cli_parse(replay_opts, argc, argv, &o, NULL), ret;

	if (np < 0)
		return EXIT_USAGE;
	if (np != 1)
		return p_usage("net replay: one FILE.sp, not %d arguments", np);
	if (open_loader(&l))
		return EXIT_FAIL;
	ret = loader__replay(l, argv[1], &o, &res);
	loader__close(l);
	if (ret)
		return p_err("%s", loader__errmsg());
	if (json_output)
		jw_value(json_pack("{s:I,s:I,s:I,s:I}", "file_frames", (json_int_t)res.file_frames,
				   "ring_frames", (json_int_t)res.ring_frames,
				   "tx_dropped", (json_int_t)res.tx_dropped, "resent", (json_int_t)res.resent));
	else
		printf("replayed %llu frames from %s and %llu held meanwhile; tx_dropped +%llu "
		       "(%llu sends refused by a full device and sent again); state pass\n",
		       (unsigned long long)res.file_frames, argv[1], (unsigned long long)res.ring_frames,
		       (unsigned long long)res.tx_dropped, (unsigned long long)res.resent);
	if (res.tx_dropped)
		return p_err("the devices dropped %llu frames while replaying: give a pace (--rate)",
			     (unsigned long long)res.tx_dropped);
	return EXIT_OK;
}

static const char *dir_str(uint32_t d)
{
	return d == STASIS_TDIR_TO_GUEST ? "to-guest" : d == STASIS_TDIR_FROM_GUEST ? "from-guest" : "any";
}

static json_t *trigger_json(uint32_t id, const struct stasis_trigger *t, char *hex, char *mask)
{
	char name[32] = "";

	for (uint32_t i = 0; i < t->len; i++) {
		sprintf(hex + 2 * i, "%02x", t->bytes[i]);
		sprintf(mask + 2 * i, "%02x", t->mask[i]);
	}
	if (t->ifindex)
		loader__dev_name(t->ifindex, name, sizeof(name));
	return json_pack("{s:i,s:i,s:s,s:s,s:s,s:s,s:b,s:b,s:I}", "id", id, "offset", t->offset,
			 "hex", hex, "mask", mask, "dir", dir_str(t->dirs), "dev", name,
			 "once", (t->flags & STASIS_TRIG_ONCE) != 0, "active", t->active != 0,
			 "hits", (json_int_t)t->hits);
}

static const char *const dir_words[] = { "any", "to-guest", "from-guest", NULL };

struct trig_cfg {
	int offset;
	const char *hex, *mask, *dev;
	int dir;		/* index in dir_words */
	bool once;
};

static const struct cli_opt trigger_add_opts[] = {
	{ .name = "offset", .kind = CLI_OPT_INT, .off = offsetof(struct trig_cfg, offset), .arg = "N",
	  .lo = 0, .hi = 65535, .help = "where in the frame the bytes are", .required = true },
	{ .name = "hex", .kind = CLI_OPT_STR, .off = offsetof(struct trig_cfg, hex), .arg = "BYTES",
	  .help = "the bytes to match, in hex", .required = true },
	CLI_STR("mask", struct trig_cfg, mask, "HEX", "which bits count (as long as --hex; default all)"),
	CLI_STR("dev", struct trig_cfg, dev, "DEV", "only on this attached device"),
	CLI_ENUM("dir", struct trig_cfg, dir, dir_words, "which way the frame goes (default any)"),
	CLI_FLAG("once", struct trig_cfg, once, "fire once, then stay spent"),
	{ 0 },
};

static int do_trigger_add(int argc, char **argv)
{
	static const uint32_t dirs[] = { STASIS_TDIR_TO_GUEST | STASIS_TDIR_FROM_GUEST,
					 STASIS_TDIR_TO_GUEST, STASIS_TDIR_FROM_GUEST };
	struct trig_cfg cfg = { 0 };
	struct stasis_trigger t = { 0 };
	const char *hex, *mask, *dev;
	struct loader *l;
	int n, id, ret;

	if (cli_parse(trigger_add_opts, argc, argv, &cfg, NULL) != 0)
		return EXIT_USAGE;	/* an option missing or bad, or an argument (reported) */
	hex = cfg.hex, mask = cfg.mask, dev = cfg.dev;
	t.dirs = dirs[cfg.dir];
	if (cfg.once)
		t.flags |= STASIS_TRIG_ONCE;
	n = sp__hex_parse(hex, t.bytes, STASIS_TRIG_BYTES);
	if (n == -E2BIG)
		return p_usage("trigger of more than %d bytes: '%s'", STASIS_TRIG_BYTES, hex);
	if (n <= 0)
		return p_usage("bad --hex '%s' (pairs of hex digits)", hex);
	t.len = (uint32_t)n;
	t.offset = (uint32_t)cfg.offset;
	memset(t.mask, 0xff, sizeof(t.mask));
	if (mask) {
		int m = sp__hex_parse(mask, t.mask, STASIS_TRIG_BYTES);

		if (m != n)
			return p_usage("--mask '%s' must be hex of the same length as --hex (%d bytes)", mask, n);
	}
	if (open_loader(&l))
		return EXIT_FAIL;
	/* A trigger on a device without stasis's hooks could never fire. */
	if (dev && (ret = loader__dev_index(l, dev, &t.ifindex))) {
		loader__close(l);
		return p_err(ret == -ENODEV ? "no device '%s' in this network namespace" :
			     "'%s' is not attached (stasis net attach %s)", dev, dev);
	}
	id = loader__trigger_add(l, &t);
	loader__close(l);
	if (id == -ENOSPC)
		return p_err("all %d trigger slots are used (stasis net trigger del ID)", STASIS_MAX_TRIGGERS);
	if (id < 0)
		return p_err("adding the trigger failed: %s", strerror(-id));
	if (json_output)
		jw_value(json_pack("{s:i}", "id", id));
	else
		printf("trigger %d: offset %u, %u bytes, %s%s\n", id, t.offset, t.len, dir_str(t.dirs),
		       t.flags & STASIS_TRIG_ONCE ? ", once" : "");
	return EXIT_OK;
}

static int do_trigger_list(int argc, char **argv)
{
	char hex[2 * STASIS_TRIG_BYTES + 1], mask[2 * STASIS_TRIG_BYTES + 1];
	struct loader *l;

	if (no_args(no_opts, argc, argv, NULL))
		return EXIT_USAGE;
	if (open_loader(&l))
		return EXIT_FAIL;
	if (json_output)
		jw_array_begin();
	for (uint32_t id = 0; id < STASIS_MAX_TRIGGERS; id++) {
		struct stasis_trigger t;

		if (loader__trigger_get(l, id, &t))
			continue;
		json_t *j = trigger_json(id, &t, hex, mask);

		if (json_output) {
			jw_array_item(j);
		} else {
			printf("%u: offset %u hex %s mask %s dir %s%s%s%s hits %llu%s\n", id, t.offset, hex,
			       mask, dir_str(t.dirs), t.ifindex ? " dev " : "",
			       t.ifindex ? json_string_value(json_object_get(j, "dev")) : "",
			       t.flags & STASIS_TRIG_ONCE ? " once" : "", (unsigned long long)t.hits,
			       t.active ? "" : " (spent)");
			json_decref(j);
		}
	}
	if (json_output)
		jw_array_end();
	loader__close(l);
	return EXIT_OK;
}

static int do_trigger_del(int argc, char **argv)
{
	struct loader *l;
	uint64_t id;
	int ret;

	int np = cli_parse(no_opts, argc, argv, NULL, NULL);

	if (np < 0)
		return EXIT_USAGE;
	if (np != 1 || cli_u64(argv[1], &id))
		return p_usage("net trigger del: one trigger ID");
	if (open_loader(&l))
		return EXIT_FAIL;
	ret = loader__trigger_del(l, id > UINT32_MAX ? UINT32_MAX : (uint32_t)id);
	loader__close(l);
	if (ret)
		return p_err("no trigger %llu", (unsigned long long)id);
	if (json_output)
		jw_value(json_pack("{s:I}", "deleted", (json_int_t)id));
	else
		printf("trigger %llu deleted\n", (unsigned long long)id);
	return EXIT_OK;
}

#define VERB(n, f, a, o, h) { .name = n, .fn = f, .args = a, .opts = o, .help = h }
static const struct cmd trigger_cmds[] = {
	VERB("add", do_trigger_add, "", trigger_add_opts, "Hold the network when a frame matches."),
	VERB("list", do_trigger_list, "", no_opts, "The triggers, their hits, spent or not."),
	VERB("del", do_trigger_del, "ID", no_opts, "Remove a trigger."),
	{ 0 },
};

static int do_net_trigger(int argc, char **argv)
{
	return cmd_select(trigger_cmds, "net trigger", argc - 1, argv + 1);
}

struct wait_cfg {
	uint64_t secs;
	bool have;
};

static int set_wait_timeout(const char *verb, const struct cli_opt *opt, const char *v, void *at)
{
	struct wait_cfg *c = at;

	(void)opt;
	if (cli_u64(v, &c->secs) || c->secs > 86400 * 365)
		return p_usage("%s: bad --timeout '%s' (seconds)", verb, v);
	c->have = true;
	return 0;
}

static const struct cli_opt wait_opts[] = {
	{ .name = "timeout", .kind = CLI_OPT_FN, .arg = "S", .fn = set_wait_timeout,
	  .help = "give up after S seconds (default: wait for good)" },
	{ 0 },
};

static int do_net_wait_trigger(int argc, char **argv)
{
	struct wait_cfg cfg = { 0 };
	struct stasis_event ev;
	struct loader *l;
	uint64_t secs;
	bool have;
	char name[32] = "?";
	int ret;

	if (no_args(wait_opts, argc, argv, &cfg))
		return EXIT_USAGE;
	secs = cfg.secs, have = cfg.have;
	if (open_loader(&l))
		return EXIT_FAIL;
	ret = loader__wait_event(l, have ? (int)(secs * 1000) : -1, &ev);
	loader__close(l);
	if (ret == 0)
		return p_err("no trigger fired within %llu s", (unsigned long long)secs);
	if (ret < 0)
		return p_err("waiting for a trigger: %s", strerror(-ret));
	loader__dev_name(ev.ifindex, name, sizeof(name));
	uint64_t real = loader__ktime_to_real(ev.ts_ns);

	if (json_output)
		jw_value(json_pack("{s:i,s:s,s:i,s:s,s:I,s:I,s:b}", "trigger", ev.trigger, "dev", name,
				   "ifindex", ev.ifindex, "dir", dir_str(ev.dir), "time_ns", (json_int_t)real,
				   "epoch", (json_int_t)ev.epoch, "held", ev.held));
	else
		printf("trigger %u fired on %s (%s) at %llu.%09llu, epoch %llu%s\n", ev.trigger, name,
		       dir_str(ev.dir), (unsigned long long)(real / 1000000000ull),
		       (unsigned long long)(real % 1000000000ull), (unsigned long long)ev.epoch,
		       ev.held ? ": host now in hold" : "");
	return EXIT_OK;
}

const struct cmd cli_net_verbs[] = {
	VERB("probe", do_net_probe, "", no_opts, "Check the kernel and load the BPF object (nothing attached)."),
	VERB("attach", do_net_attach, "DEV...", attach_opts, "Attach the hold to taps (TC egress + XDP) and uplinks."),
	VERB("detach", do_net_detach, "[DEV...]", force_opts, "Detach the devices given, or everything."),
	VERB("status", do_net_status, "", no_opts, "State, epoch, counters, devices, ring use."),
	{ .name = "trigger", .fn = do_net_trigger, .verbs = trigger_cmds,
	  .help = "add|list|del ...  packet triggers (stasis net trigger help)" },
	VERB("wait-trigger", do_net_wait_trigger, "", wait_opts, "Wait until a trigger fires; tell which."),
	VERB("hold", do_net_hold, "", hold_opts, "Hold every frame from now on."),
	VERB("release", do_net_release, "", force_opts, "Back to pass without a replay (refused while frames are held, unless --force)."),
	VERB("drain", do_net_drain, "", drain_opts, "Write the held frames to a .sp file."),
	VERB("replay", do_net_replay, "FILE.sp", replay_opts,
	     "Send FILE's frames back where they were going, then those held meanwhile; then pass."),
	{ 0 },
};

int do_net(int argc, char **argv)
{
	return cmd_select(cli_net_verbs, "net", argc - 1, argv + 1);
}
