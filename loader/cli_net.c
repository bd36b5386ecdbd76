// SPDX-License-Identifier: MIT
/* stasis net ...: the network hold on this host. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include "cli/cli.h"
#include "bpf/stasis_bpf.h"
#include "loader/loader.h"
#include "sp-format/sp.h"

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
	char rel[128], why[400];
	int err;

	if (argc > 1)
		return p_usage("net probe takes no arguments, not '%s'", argv[1]);
	if (kernel_ok(rel, sizeof(rel)))
		return EXIT_FAIL;
	err = stasis_prog__load(&p, 0, why, sizeof(why));
	if (err)
		return p_err("loading the BPF object failed: %s%s", why,
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
	char err[LOADER_ERR_MAX];

	if (loader__open(l, err))
		return p_err("%s", err);
	return EXIT_OK;
}

static int do_net_attach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "uplink", required_argument, 0, 'u' }, { "ring-mb", required_argument, 0, 'r' },
		{ 0 },
	};
	const char **ups = calloc(argc, sizeof(*ups));
	struct loader_attach_opts o = { 0 };
	char err[LOADER_ERR_MAX];
	uint64_t mb;
	int c, ret;

	if (!ups)
		return p_err("out of memory");
	o.uplinks = ups;
	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		if (c == 'u') {
			ups[o.n_uplinks++] = optarg;
		} else if (c == 'r') {
			if (cli_u64(optarg, &mb) || mb < 1 || mb > 4096 || (mb & (mb - 1))) {
				free(ups);
				return p_usage("bad --ring-mb '%s' (a power of 2, 1..4096)", optarg);
			}
			o.ring_bytes = (uint32_t)(mb << 20);
		} else {
			free(ups);
			return EXIT_USAGE;
		}
	}
	o.taps = (const char *const *)argv + optind;
	o.n_taps = (size_t)(argc - optind);
	if (!o.n_taps && !o.n_uplinks) {
		free(ups);
		return p_usage("usage: stasis net attach DEV... [--uplink DEV...] [--ring-mb N]");
	}
	if (kernel_ok(err, sizeof(err))) {
		free(ups);
		return EXIT_FAIL;
	}
	ret = loader__attach(&o, err);
	if (ret) {
		free(ups);
		return p_err("%s", err);
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

/* The one option of detach and release: 0, or EXIT_USAGE (reported). */
static int force_opt(int argc, char **argv, bool *force)
{
	static const struct option opts[] = { { "force", no_argument, 0, 'f' }, { 0 } };
	int c;

	*force = false;
	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		if (c != 'f')
			return EXIT_USAGE;
		*force = true;
	}
	return 0;
}

static int do_net_detach(int argc, char **argv)
{
	char err[LOADER_ERR_MAX];
	bool force;

	if (force_opt(argc, argv, &force))
		return EXIT_USAGE;
	if (loader__detach((const char *const *)argv + optind, (size_t)(argc - optind), force, err))
		return p_err("%s", err);
	if (json_output)
		jw_value(json_pack("{s:b}", "detached", 1));
	else
		printf("detached %s\n", argc > optind ? "the devices given" : "everything");
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

	(void)argv;
	if (argc > 1)
		return p_usage("net status takes no arguments");
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

static int do_net_hold(int argc, char **argv)
{
	static const struct option opts[] = { { "epoch", required_argument, 0, 'e' }, { 0 } };
	struct loader *l;
	struct stasis_host h;
	uint64_t epoch = 0;
	bool have = false;
	int c;

	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		if (c != 'e')
			return EXIT_USAGE;
		if (cli_u64(optarg, &epoch))
			return p_usage("bad --epoch '%s'", optarg);
		have = true;
	}
	if (optind != argc)
		return p_usage("usage: stasis net hold [--epoch E]");
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
	bool force;

	if (force_opt(argc, argv, &force))
		return EXIT_USAGE;
	if (optind != argc)
		return p_usage("usage: stasis net release [--force]");
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

static int do_net_drain(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, 0, 'o' }, { "follow", no_argument, 0, 'f' }, { 0 },
	};
	struct loader_drain_opts o = { .stop = &stop_flag, .progress = drain_progress };
	const char *out = NULL;
	char err[LOADER_ERR_MAX];
	struct loader *l;
	int64_t n;
	int c;

	while ((c = cli_getopt(argc, argv, "o:", opts)) != -1) {
		if (c == 'o')
			out = optarg;
		else if (c == 'f')
			o.follow = true;
		else
			return EXIT_USAGE;
	}
	if (optind != argc || !out)
		return p_usage("usage: stasis net drain -o FILE.sp [--follow]");
	if (open_loader(&l))
		return EXIT_FAIL;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	n = loader__drain(l, out, &o, err);
	loader__close(l);
	if (n < 0)
		return p_err("%s", err);
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

static int do_net_replay(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "spacing", no_argument, 0, 's' }, { "rate", required_argument, 0, 'r' }, { 0 },
	};
	struct loader_replay_opts o = { .rate_pps = 5000, .progress = replay_progress };
	struct loader_replay_result res;
	char err[LOADER_ERR_MAX];
	struct loader *l;
	int c, ret;

	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		if (c == 's') {
			o.spacing = true;
		} else if (c == 'r') {
			if (cli_u64(optarg, &o.rate_pps))
				return p_usage("bad --rate '%s' (frames per second, 0: no limit)", optarg);
		} else {
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1)
		return p_usage("usage: stasis net replay FILE.sp [--spacing] [--rate PPS]");
	if (open_loader(&l))
		return EXIT_FAIL;
	ret = loader__replay(l, argv[optind], &o, &res, err);
	loader__close(l);
	if (ret)
		return p_err("%s", err);
	if (json_output)
		jw_value(json_pack("{s:I,s:I,s:I}", "file_frames", (json_int_t)res.file_frames,
				   "ring_frames", (json_int_t)res.ring_frames,
				   "tx_dropped", (json_int_t)res.tx_dropped));
	else
		printf("replayed %llu frames from %s and %llu held meanwhile; tx_dropped +%llu; state pass\n",
		       (unsigned long long)res.file_frames, argv[optind],
		       (unsigned long long)res.ring_frames, (unsigned long long)res.tx_dropped);
	if (res.tx_dropped)
		return p_err("the devices dropped %llu frames while replaying: lower --rate",
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

static int do_trigger_add(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "offset", required_argument, 0, 'O' }, { "hex", required_argument, 0, 'x' },
		{ "mask", required_argument, 0, 'm' }, { "dev", required_argument, 0, 'd' },
		{ "dir", required_argument, 0, 'D' }, { "once", no_argument, 0, '1' }, { 0 },
	};
	struct stasis_trigger t = { .dirs = STASIS_TDIR_TO_GUEST | STASIS_TDIR_FROM_GUEST };
	const char *hex = NULL, *mask = NULL, *dev = NULL;
	uint64_t off = UINT64_MAX;
	struct loader *l;
	int c, n, id, ret;

	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		switch (c) {
		case 'O':
			if (cli_u64(optarg, &off) || off > 65535)
				return p_usage("bad --offset '%s' (0..65535)", optarg);
			break;
		case 'x': hex = optarg; break;
		case 'm': mask = optarg; break;
		case 'd': dev = optarg; break;
		case '1': t.flags |= STASIS_TRIG_ONCE; break;
		case 'D':
			if (!strcmp(optarg, "to-guest"))
				t.dirs = STASIS_TDIR_TO_GUEST;
			else if (!strcmp(optarg, "from-guest"))
				t.dirs = STASIS_TDIR_FROM_GUEST;
			else if (strcmp(optarg, "any"))
				return p_usage("bad --dir '%s' (to-guest, from-guest or any)", optarg);
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind != argc || off == UINT64_MAX || !hex)
		return p_usage("usage: stasis net trigger add --offset N --hex BYTES [--mask HEX] "
			       "[--dev DEV] [--dir to-guest|from-guest|any] [--once]");
	n = sp_hex_parse(hex, t.bytes, STASIS_TRIG_BYTES);
	if (n == -E2BIG)
		return p_usage("trigger of more than %d bytes: '%s'", STASIS_TRIG_BYTES, hex);
	if (n <= 0)
		return p_usage("bad --hex '%s' (pairs of hex digits)", hex);
	t.len = (uint32_t)n;
	t.offset = (uint32_t)off;
	memset(t.mask, 0xff, sizeof(t.mask));
	if (mask) {
		int m = sp_hex_parse(mask, t.mask, STASIS_TRIG_BYTES);

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

	(void)argv;
	if (argc > 1)
		return p_usage("trigger list takes no arguments");
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

	if (argc != 2 || cli_u64(argv[1], &id))
		return p_usage("usage: stasis net trigger del ID");
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

static const struct cmd trigger_cmds[] = {
	CLI_CMD("add",  do_trigger_add,  "--offset N --hex BYTES [--mask HEX] [--dev DEV] [--dir to-guest|from-guest|any] [--once]"),
	CLI_CMD("list", do_trigger_list, ""),
	CLI_CMD("del",  do_trigger_del,  "ID"),
	{ 0 },
};

static int do_net_trigger(int argc, char **argv)
{
	return cmd_select(trigger_cmds, "net trigger", argc - 1, argv + 1);
}

static int do_net_wait_trigger(int argc, char **argv)
{
	static const struct option opts[] = { { "timeout", required_argument, 0, 't' }, { 0 } };
	struct stasis_event ev;
	struct loader *l;
	uint64_t secs = 0;
	bool have = false;
	char name[32] = "?";
	int c, ret;

	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		if (c != 't')
			return EXIT_USAGE;
		if (cli_u64(optarg, &secs) || secs > 86400 * 365)
			return p_usage("bad --timeout '%s' (seconds)", optarg);
		have = true;
	}
	if (optind != argc)
		return p_usage("usage: stasis net wait-trigger [--timeout S]");
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

static const struct cmd net_cmds[] = {
	CLI_CMD("probe",        do_net_probe,    "                check the kernel and load the BPF object"),
	CLI_CMD("attach",       do_net_attach,       "DEV... [--uplink DEV...] [--ring-mb N]"),
	CLI_CMD("detach",       do_net_detach,       "[DEV...] [--force]"),
	CLI_CMD("status",       do_net_status,       ""),
	CLI_CMD("trigger",      do_net_trigger,      "add|list|del ..."),
	CLI_CMD("wait-trigger", do_net_wait_trigger, "[--timeout S]"),
	CLI_CMD("hold",         do_net_hold,         "[--epoch E]"),
	CLI_CMD("release",      do_net_release,      "[--force]"),
	CLI_CMD("drain",        do_net_drain,        "-o FILE.sp [--follow]"),
	CLI_CMD("replay",       do_net_replay,       "FILE.sp [--spacing] [--rate PPS]   (default rate 5000)"),
	{ 0 },
};

int do_net(int argc, char **argv)
{
	return cmd_select(net_cmds, "net", argc - 1, argv + 1);
}
