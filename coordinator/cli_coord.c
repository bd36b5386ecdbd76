// SPDX-License-Identifier: MIT
/* stasis coord ...: the sender, across hosts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli/cli.h"
#include "coordinator/agent.h"
#include "coordinator/cli_mqtt.h"
#include "sp-format/sp.h"
#include "vmctl/vmctl.h"

struct call {
	struct cli_mqtt cm;
	uint64_t epoch;
	char url[256];
	struct coord_sender *s;
};

/* Every verb's options, and those of the verbs that take an epoch. */
static const struct cli_opt call_opts[] = {
	CLI_TABLE_AS(cli_mqtt_opts, struct call, cm, "[MQTT OPTIONS]"),
	CLI_U64("epoch", struct call, epoch, "E", "the request's epoch (default: the time in ms)"),
	{ 0 },
};

/* Parse against @opts; a verb that takes no positional argument says so.
 * Returns the number of positional arguments, or -1 after a usage line. */
static int parse(const struct cli_opt *opts, int argc, char **argv, void *cfg, int max_pos)
{
	int np = cli_parse(opts, argc, argv, cfg, NULL);

	if (np > max_pos) {
		p_usage("coord %s: unexpected argument '%s'; try '%s coord %s --help'", argv[0],
			argv[1 + max_pos], bin_name, argv[0]);
		return -1;
	}
	return np;
}

/* An agent's progress, one line on stderr (JSON with --json). */
static void show_progress(void *ctx, const char *host, json_t *msg)
{
	json_t *vm = json_object_get(msg, "vm");

	(void)ctx;
	if (json_output) {
		char *s = json_dumps(msg, JSON_COMPACT);

		if (s)
			fprintf(stderr, "%s\n", s);
		free(s);
		return;
	}
	fprintf(stderr, "coord: %s: %s: %s", host, json_string_value(json_object_get(msg, "for")) ?: "?",
		json_string_value(json_object_get(msg, "stage")) ?: "?");
	if (json_is_string(vm))
		fprintf(stderr, " %s %.1f of %.1f MB", json_string_value(vm),
			(double)json_integer_value(json_object_get(msg, "done")) / 1e6,
			(double)json_integer_value(json_object_get(msg, "total")) / 1e6);
	fprintf(stderr, "\n");
}

static int connect_sender(struct call *k)
{
	char err[512];

	if (cli_mqtt_default(&k->cm, k->url, sizeof(k->url)))
		return EXIT_USAGE;
	if (cli_coord_err(coord_sender__open(&k->s, &k->cm.mo, k->cm.experiment), err, sizeof(err)))
		return p_err("%s", err);
	coord_sender__on_progress(k->s, show_progress, NULL);
	if (!k->epoch) {	/* a fresh epoch: milliseconds, always growing */
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		k->epoch = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	}
	return EXIT_OK;
}

/* One line for a reply: what matters of it. */
static void summary(json_t *r, char *buf, size_t len)
{
	json_t *man = json_object_get(r, "manifest"), *trig = json_object_get(man, "trigger");
	size_t n = 0;

	if (!json_is_true(json_object_get(r, "ok"))) {
		snprintf(buf, len, "FAILED: %s", json_string_value(json_object_get(r, "error")) ?: "?");
		return;
	}
	n += (size_t)snprintf(buf + n, len - n, "ok");
	if (json_is_true(json_object_get(r, "duplicate")))
		n += (size_t)snprintf(buf + n, len - n, " (duplicate: nothing done again)");
	if (json_object_get(r, "net"))
		n += (size_t)snprintf(buf + n, len - n, " net=%s", json_string_value(json_object_get(r, "net")));
	if (man)
		n += (size_t)snprintf(buf + n, len - n, " frames_held=%lld vms=%zu",
				      (long long)json_integer_value(json_object_get(r, "frames_held")),
				      json_array_size(json_object_get(man, "vms")));
	/* Not a failure (the part is consistent: what the VMs had taken and
	 * what was held), but those frames are in no part: say so on the line
	 * a user reads. */
	if (json_string_value(json_object_get(man, "rx_queue_left")))
		n += (size_t)snprintf(buf + n, len - n, " NOT IN THE SNAPSHOT: frames left in the queue toward a VM (%s)",
				      json_string_value(json_object_get(man, "rx_queue_left")));
	if (json_object_get(trig, "late_ns"))
		n += (size_t)snprintf(buf + n, len - n, " late=%lld ns",
				      (long long)json_integer_value(json_object_get(trig, "late_ns")));
	if (json_object_get(r, "replayed"))
		snprintf(buf + n, len - n, " replayed=%lld", (long long)json_integer_value(json_object_get(r, "replayed")));
}

/* One stage's table: every agent, its status, what it said. */
static void print_stage(const char *what, uint64_t epoch, json_t *agents, json_t *expected, json_t *replies)
{
	const char *host;
	char line[512];
	json_t *st;

	printf("%s, epoch %llu:\n", what, (unsigned long long)epoch);
	json_object_foreach(agents, host, st) {
		json_t *r = json_object_get(replies, host);

		if (r)
			summary(r, line, sizeof(line));
		else
			snprintf(line, sizeof(line), "%s", json_object_get(expected, host) ? "NO REPLY" : "");
		printf("  %-16s %-8s %s\n", host, json_string_value(st), line);
	}
}

/* Format a round (the library did the work and the judging); the exit
 * status says whether every host the request went to reported success. */
static json_t *round_json(struct coord_round *r, int ret)
{
	return json_pack("{s:s,s:s,s:I,s:O,s:O,s:O?,s:b,s:s?}", "op", r->op, "stage", r->stage ? r->stage : r->op,
			 "epoch", (json_int_t)r->epoch, "agents", r->agents, "replies", r->replies,
			 "verdict", r->verdict, "ok", !ret, "error", ret ? r->error : NULL);
}

/* @rounds (may be NULL): with -j, the round is added there instead of
 * printed (a command of several rounds prints one document). */
static int report_into(struct coord_round *r, int ret, json_t *rounds)
{
	if (json_output && rounds) {
		json_array_append_new(rounds, round_json(r, ret));
	} else if (json_output) {
		jw_value(round_json(r, ret));
	} else {
		print_stage(r->stage && !strcmp(r->stage, "arm") ? "arm" : r->op, r->epoch, r->agents,
			    r->expected, r->replies);
		if (r->stage && !strcmp(r->stage, "commit"))
			print_stage("commit", r->epoch, r->agents, r->expected, r->verdict);
		if (!ret && !strcmp(r->op, "snapshot"))
			printf("snapshot %llu complete on every host\n", (unsigned long long)r->epoch);
	}
	if (!ret)
		return EXIT_OK;
	if (json_output && rounds)
		return p_info("stasis: %s", r->error), EXIT_FAIL;
	return p_err("%s", r->error);
}

static int report(struct coord_round *r, int ret)
{
	return report_into(r, ret, NULL);
}

static int do_coord_status(int argc, char **argv)
{
	struct call k = { 0 };
	int ret;

	if (parse(call_opts, argc, argv, &k, 0) < 0)
		return EXIT_USAGE;
	if ((ret = connect_sender(&k)))
		return ret;
	struct coord_round r;

	ret = coord_round__call(k.s, "ping", k.epoch, NULL, k.cm.timeout_ms ? k.cm.timeout_ms : 3000, &r);
	r.op = "status";
	if (r.stage && !strcmp(r.stage, "ping"))
		r.stage = "status";
	ret = report(&r, ret);
	coord_round__clear(&r);
	coord_sender__close(k.s);
	return ret;
}

/* A snapshot round (the library's), formatted. */
static int snapshot_round(struct call *k, const char *op, json_t *extra, int timeout_ms)
{
	struct coord_round r;
	int ret = coord_round__snapshot(k->s, op, k->epoch, extra, timeout_ms, &r);

	ret = report(&r, ret);
	coord_round__clear(&r);
	return ret;
}

/* The request's own fields plus the bandwidth, if one was given. */
static json_t *with_bw(json_t *extra, uint64_t bw)
{
	if (!extra)
		extra = json_object();
	if (bw)
		json_object_set_new(extra, "max_bandwidth", json_integer((json_int_t)bw));
	return extra;
}

/* --max-bandwidth B (snapshot, trigger): each VM's state written at most
 * that fast (QEMU's max-bandwidth), for a host that must stay responsive. */
#define OPT_BW(st) CLI_BYTES("max-bandwidth", st, bw, "BYTES", \
			     "per second: each VM's state written at most that fast")

struct snap_cfg {
	struct call k;
	uint64_t bw;
};

static const struct cli_opt snapshot_opts[] = {
	CLI_TABLE(call_opts, struct snap_cfg, k),
	OPT_BW(struct snap_cfg),
	{ 0 },
};

static int do_coord_snapshot(int argc, char **argv)
{
	struct snap_cfg cfg = { 0 };
	struct call k;
	uint64_t bw;
	int ret;

	if (parse(snapshot_opts, argc, argv, &cfg, 0) < 0)
		return EXIT_USAGE;
	k = cfg.k, bw = cfg.bw;
	if ((ret = connect_sender(&k)))
		return ret;
	ret = snapshot_round(&k, "snapshot", with_bw(NULL, bw), k.cm.timeout_ms ? k.cm.timeout_ms : 600000);
	coord_sender__close(k.s);
	return ret;
}

struct trig {
	struct call k;
	uint64_t at_ns, in_ms;
	bool have_at, have_in, packet;
	const char *hex;
	int offset;		/* -1: not given */
	uint64_t bw;
};

static int set_at(const char *verb, const struct cli_opt *o, const char *v, void *at)
{
	struct trig *t = (struct trig *)((char *)at - offsetof(struct trig, at_ns));
	char *end;
	double d = strtod(v, &end);

	(void)o;
	if (*end || end == v || d <= 0)
		return p_usage("%s: bad --at '%s' (seconds since the Unix epoch, e.g. 1795000000.5)", verb, v);
	t->at_ns = (uint64_t)(d * 1e9);
	t->have_at = true;
	return 0;
}

static int set_in(const char *verb, const struct cli_opt *o, const char *v, void *at)
{
	struct trig *t = (struct trig *)((char *)at - offsetof(struct trig, in_ms));
	char *end;
	double d = strtod(v, &end);

	(void)o;
	if (end == v || d < 0 || (strcmp(end, "") && strcmp(end, "s") && strcmp(end, "ms")))
		return p_usage("%s: bad --in '%s' (e.g. 2s, 500ms)", verb, v);
	t->in_ms = (uint64_t)(strcmp(end, "ms") ? d * 1000 : d);
	t->have_in = true;
	return 0;
}

static const struct cli_opt trigger_opts[] = {
	CLI_TABLE(call_opts, struct trig, k),
	{ .name = "at", .kind = CLI_OPT_FN, .off = offsetof(struct trig, at_ns), .arg = "TIME", .fn = set_at,
	  .help = "snapshot every host at this time (seconds since the Unix epoch)", .group = "when" },
	{ .name = "in", .kind = CLI_OPT_FN, .off = offsetof(struct trig, in_ms), .arg = "DURATION", .fn = set_in,
	  .help = "or this long from now (2s, 500ms)", .group = "when" },
	{ .name = "packet", .kind = CLI_OPT_FLAG, .off = offsetof(struct trig, packet),
	  .help = "or when a frame matches --hex at --offset on any host", .group = "when" },
	CLI_INT("offset", struct trig, offset, "N", 0, 65535, "the packet trigger's offset in the frame"),
	CLI_STR("hex", struct trig, hex, "BYTES", "the bytes it matches (1-64, in hex)"),
	OPT_BW(struct trig),
	{ 0 },
};

static int do_coord_trigger(int argc, char **argv)
{
	struct trig t = { .offset = -1 };
	struct call k;
	json_t *extra;
	uint8_t bytes[64];
	int ret;

	if (parse(trigger_opts, argc, argv, &t, 0) < 0)
		return EXIT_USAGE;
	k = t.k;
	if (t.have_at + t.have_in + t.packet != 1)
		return p_usage("coord trigger: when? --at TIME, --in DURATION or --packet");
	if (t.packet) {
		int n = t.hex ? sp__hex_parse(t.hex, bytes, sizeof(bytes)) : -EINVAL;

		if (t.offset < 0 || n <= 0)
			return p_usage("--packet needs --offset N and --hex BYTES (1-64 bytes)");
		char hex[129];

		for (int i = 0; i < n; i++)
			sprintf(hex + 2 * i, "%02x", bytes[i]);
		extra = json_pack("{s:I,s:s}", "offset", (json_int_t)t.offset, "hex", hex);
	} else {
		if (t.have_in)
			t.at_ns = coord__now_ns() + t.in_ms * 1000000ull;
		if (t.at_ns <= coord__now_ns())
			return p_err("the time %.3f is past", (double)t.at_ns / 1e9);
		extra = json_pack("{s:I}", "at_ns", (json_int_t)t.at_ns);
	}
	if ((ret = connect_sender(&k))) {
		json_decref(extra);
		return ret;
	}
	if (!t.packet)
		p_info("coord: every agent snapshots at %.9f", (double)t.at_ns / 1e9);
	ret = snapshot_round(&k, t.packet ? "arm-packet" : "arm-time", with_bw(extra, t.bw),
			     k.cm.timeout_ms ? k.cm.timeout_ms : 600000);
	coord_sender__close(k.s);
	return ret;
}

struct go_on {
	struct call k;
	bool paused;
	int prefault;		/* VM_PREFAULT_* (restore) */
	json_t *frames;		/* host -> .sp path on that host */
};

/* --frames HOST=FILE: that host puts back FILE (an edited copy of its
 * net.sp) instead of the frames held at the freeze, for this request only. */
static int set_frames(const char *verb, const struct cli_opt *o, const char *v, void *at)
{
	const char *eq = strchr(v, '=');
	char host[COORD_NAME_MAX];

	(void)o;
	if (!eq || eq == v || (size_t)(eq - v) >= sizeof(host) || !eq[1] || eq[1] != '/')
		return p_usage("%s: bad --frames '%s' (HOST=/ABSOLUTE/PATH.sp, the path on that host)", verb, v);
	snprintf(host, sizeof(host), "%.*s", (int)(eq - v), v);
	json_object_set_new(*(json_t **)at, host, json_string(eq + 1));
	return 0;
}

#define OPT_FRAMES { .name = "frames", .kind = CLI_OPT_FN, .off = offsetof(struct go_on, frames), \
		     .arg = "HOST=FILE", .fn = set_frames, .repeat = true, \
		     .help = "that host replays FILE (a path there) instead of its held frames" }
static const struct cli_opt restore_opts[] = {
	CLI_TABLE_AS(cli_mqtt_opts, struct go_on, k.cm, "[MQTT OPTIONS]"),
	CLI_FLAG("paused", struct go_on, paused, "leave every VM paused and the network held"),
	CLI_ENUM("prefault", struct go_on, prefault, vmctl__prefault_words,
		 "how each host maps its VMs' memory images: none (default), cache or all"),
	OPT_FRAMES,
	{ 0 },
};
static const struct cli_opt resume_opts[] = {
	CLI_TABLE_AS(cli_mqtt_opts, struct go_on, k.cm, "[MQTT OPTIONS]"),
	OPT_FRAMES,
	{ 0 },
};

/* restore (coord_round__restore: two rounds) and resume. */
static int go_on_round(struct call *k, const char *op, struct go_on *g)
{
	int timeout = k->cm.timeout_ms ? k->cm.timeout_ms : 600000, ret;
	bool restore = !strcmp(op, "restore");
	struct coord_round r, go;

	json_t *rounds = json_output && restore && !g->paused ? json_array() : NULL;

	if ((ret = connect_sender(k)))
		return ret;
	if (restore) {
		json_t *extra = json_pack("{s:O,s:s}", "frames", g->frames,
					  "prefault", vmctl__prefault_words[g->prefault]);

		ret = coord_round__restore(k->s, k->epoch, extra, g->paused, timeout, &r, &go);
		json_decref(extra);
		/* each round reported as it ended: the load's own outcome first */
		int lret = report_into(&r, go.op ? 0 : ret, rounds);

		if (go.op)
			ret = report_into(&go, ret, rounds);
		else
			ret = lret;
		coord_round__clear(&go);
	} else {
		ret = coord_round__call(k->s, op, k->epoch,
					json_pack("{s:b,s:O}", "paused", g->paused, "frames", g->frames), timeout, &r);
		ret = report_into(&r, ret, rounds);
	}
	coord_round__clear(&r);
	if (rounds)
		jw_value(json_pack("{s:s,s:I,s:b,s:o}", "op", "restore", "epoch", (json_int_t)k->epoch,
				   "ok", !ret, "rounds", rounds));
	coord_sender__close(k->s);
	return ret;
}

static int do_coord_restore(int argc, char **argv)
{
	struct go_on g = { .frames = json_object() };
	const char *s = "";
	uint64_t id;
	int np = parse(restore_opts, argc, argv, &g, 1), ret = EXIT_USAGE;

	if (np == 0)
		p_usage("coord restore: which snapshot? (SNAPID)");
	if (np == 1) {
		s = argv[1];
		if (!strncmp(s, "snap-", 5))
			s += 5;
		if (cli_u64(s, &id) || !id)
			p_usage("coord restore: bad snapshot id '%s' (the epoch, or snap-EPOCH)", argv[1]);
		else
			g.k.epoch = id, ret = go_on_round(&g.k, "restore", &g);
	}
	json_decref(g.frames);
	return ret;
}

static int do_coord_resume(int argc, char **argv)
{
	struct go_on g = { .frames = json_object() };
	int ret = parse(resume_opts, argc, argv, &g, 0) < 0 ? EXIT_USAGE : go_on_round(&g.k, "resume", &g);

	json_decref(g.frames);
	return ret;
}

static int do_coord_list(int argc, char **argv)
{
	struct call k = { 0 };
	int ret;

	if (parse(call_opts, argc, argv, &k, 0) < 0)
		return EXIT_USAGE;
	if ((ret = connect_sender(&k)))
		return ret;
	struct coord_round r;

	ret = coord_round__call(k.s, "list", k.epoch, NULL, k.cm.timeout_ms ? k.cm.timeout_ms : 3000, &r);
	if (!json_output) {
		const char *host, *ep;
		json_t *v, *st;

		json_object_foreach(r.replies, host, v) {
			printf("%s:", host);
			json_object_foreach(json_object_get(v, "snapshots"), ep, st)
				printf(" %s=%s", ep, json_string_value(st));
			printf("\n");
		}
		ret = json_object_size(r.replies) ? EXIT_OK : p_err("no agent answered");
	} else {
		ret = report(&r, ret);
	}
	coord_round__clear(&r);
	coord_sender__close(k.s);
	return ret;
}

#define VERB(n, f, a, o, h) { .name = n, .fn = f, .args = a, .opts = o, .help = h }
const struct cmd cli_coord_verbs[] = {
	VERB("status", do_coord_status, "", call_opts, "Every agent, online or not, and its answer."),
	VERB("snapshot", do_coord_snapshot, "", snapshot_opts, "Snapshot every host now."),
	VERB("trigger", do_coord_trigger, "", trigger_opts,
	     "Arm every host: a snapshot at a time, or when a frame matches on any host."),
	VERB("restore", do_coord_restore, "SNAPID", restore_opts,
	     "Every host restored (VMs paused, network held), then on at once."),
	VERB("resume", do_coord_resume, "", resume_opts, "A frozen experiment goes on, without a restore."),
	VERB("list", do_coord_list, "", call_opts, "Every agent's snapshots and their state."),
	{ 0 },
};

int do_coord(int argc, char **argv)
{
	return cmd_select(cli_coord_verbs, "coord", argc - 1, argv + 1);
}
