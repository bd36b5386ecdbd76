// SPDX-License-Identifier: MIT
/* stasis fuzz ...: the packet-triggered fuzz loop (coordinator/fuzz.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/cli.h"
#include "coordinator/cli_mqtt.h"
#include "coordinator/fuzz.h"
#include "vmctl/vmctl.h"

#define WATCH_MAX 16

/* No --broker: the local agent's private broker, if there is one (only a
 * snapshot of several hosts needs one). True when an option asked for the
 * agents explicitly. */
static bool mqtt_settle(struct cli_mqtt *m, char *buf, size_t len)
{
	bool asked = m->mo.url || m->experiment;

	cli_mqtt_local(m, buf, len, NULL, 0);
	return asked;
}

static volatile int stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static void mutation_text(const json_t *m, char *buf, size_t len)
{
	const json_t *ch = json_object_get(m, "changes"), *l = json_object_get(m, "length");
	size_t off = 0;

	buf[0] = 0;
	if (!m)
		return;
	off += (size_t)snprintf(buf, len, "%s", json_string_value(json_object_get(m, "strategy")) ?: "?");
	for (size_t i = 0; i < json_array_size(ch) && off < len; i++) {
		const json_t *c = json_array_get(ch, i);

		off += (size_t)snprintf(buf + off, len - off, " @%lld %s>%s",
					(long long)json_integer_value(json_object_get(c, "offset")),
					json_string_value(json_object_get(c, "old")) ?: "",
					json_string_value(json_object_get(c, "new")) ?: "");
	}
	if (json_integer_value(json_object_get(l, "old")) != json_integer_value(json_object_get(l, "new")) &&
	    off < len)
		snprintf(buf + off, len - off, " length %lld>%lld",
			 (long long)json_integer_value(json_object_get(l, "old")),
			 (long long)json_integer_value(json_object_get(l, "new")));
}

/* One line per case, or a bar redrawn in place on a terminal. */
static void progress(const struct fuzz_progress *p, void *ctx)
{
	const char *v = json_string_value(json_object_get(p->last, "verdict"));
	char bar[31], mut[160];
	int fill = p->total ? (int)(30ull * p->done / p->total) : 30;

	(void)ctx;
	for (int i = 0; i < 30; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[30] = 0;
	mutation_text(json_object_get(p->last, "mutation"), mut, sizeof(mut));
	if (isatty(2))
		fprintf(stderr, "\r\033[K");
	fprintf(stderr, "fuzz: [%s] %u/%u  ok %u fail %u hang %u error %u  case %lld %s (%.2f s) %s%s",
		bar, p->done, p->total, p->counts[FUZZ_OK], p->counts[FUZZ_FAIL], p->counts[FUZZ_HANG],
		p->counts[FUZZ_ERROR], (long long)json_integer_value(json_object_get(p->last, "case")),
		v ? v : "?", json_number_value(json_object_get(p->last, "seconds")), mut,
		isatty(2) && p->done < p->total ? "" : "\n");
}

static void print_summary(const json_t *s)
{
	const json_t *v = json_object_get(s, "verdicts"), *m = json_object_get(s, "mean"), *bad;
	size_t i;
	json_t *b;

	printf("%lld of %lld cases ran: ok %lld, fail %lld, hang %lld, error %lld; %.2f cases/s\n",
	       (long long)json_integer_value(json_object_get(s, "ran")),
	       (long long)json_integer_value(json_object_get(s, "cases")),
	       (long long)json_integer_value(json_object_get(v, "ok")),
	       (long long)json_integer_value(json_object_get(v, "fail")),
	       (long long)json_integer_value(json_object_get(v, "hang")),
	       (long long)json_integer_value(json_object_get(v, "error")),
	       json_number_value(json_object_get(s, "cases_per_s")));
	printf("mean per case: %.3f s (restore %.3f, resume %.3f, replay %.3f, verdict %.3f)\n",
	       json_number_value(json_object_get(m, "seconds")), json_number_value(json_object_get(m, "restore_s")),
	       json_number_value(json_object_get(m, "resume_s")), json_number_value(json_object_get(m, "replay_s")),
	       json_number_value(json_object_get(m, "time_to_verdict_s")));
	bad = json_object_get(s, "not_ok");
	json_array_foreach(bad, i, b) {
		char mut[160];

		mutation_text(json_object_get(b, "mutation"), mut, sizeof(mut));
		printf("case %lld: %s: %s [%s]\n", (long long)json_integer_value(json_object_get(b, "case")),
		       json_string_value(json_object_get(b, "verdict")),
		       json_string_value(json_object_get(b, "reason")) ?: "", mut);
	}
}

static int parse_range(const char *s, uint32_t *from, uint32_t *to)
{
	unsigned a, b;
	int n = 0;

	if (sscanf(s, "%u:%u%n", &a, &b, &n) != 2 || s[n] || a > b || b > 65535)
		return -EINVAL;
	*from = a;
	*to = b;
	return 0;
}

static int parse_seconds(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return errno || end == s || *end || !(*out > 0) || *out > 86400 ? -EINVAL : 0;
}

struct run_cfg {
	struct cli_mqtt cm;
	struct fuzz_opts o;
	const char *watch[WATCH_MAX];
	bool have_range, have_cases;
};

/* The callbacks below get the whole struct run_cfg (their offset is 0). */
static int set_host(const char *verb, const struct cli_opt *opt, const char *v, void *at)
{
	(void)opt;
	if (!coord_name__ok(v))
		return p_usage("%s: bad --host '%s' (a host name)", verb, v);
	((struct run_cfg *)at)->o.host = v;
	return 0;
}

static int set_range(const char *verb, const struct cli_opt *opt, const char *v, void *at)
{
	struct run_cfg *c = at;

	(void)opt;
	if (parse_range(v, &c->o.from, &c->o.to))
		return p_usage("%s: bad --range '%s' (A:B, byte offsets in the frame, A <= B)", verb, v);
	c->have_range = true;
	return 0;
}

static int set_cases(const char *verb, const struct cli_opt *opt, const char *v, void *at)
{
	struct run_cfg *c = at;
	uint64_t u;

	(void)opt;
	if (cli_u64(v, &u) || u < 1 || u > 1000000)
		return p_usage("%s: bad --cases '%s' (1-1000000)", verb, v);
	c->o.cases = (uint32_t)u;
	c->have_cases = true;
	return 0;
}

static int set_fuzz_timeout(const char *verb, const struct cli_opt *opt, const char *v, void *at)
{
	(void)opt;
	if (parse_seconds(v, &((struct run_cfg *)at)->o.timeout_s))
		return p_usage("%s: bad --timeout '%s' (seconds, > 0)", verb, v);
	return 0;
}

static int add_watch(const char *verb, const struct cli_opt *opt, const char *v, void *at)
{
	struct run_cfg *c = at;

	(void)opt;
	if (c->o.n_watch == WATCH_MAX)
		return p_usage("%s: at most %d --watch", verb, WATCH_MAX);
	c->watch[c->o.n_watch++] = v;
	return 0;
}

#define RUN_FN(n, a, f, h) { .name = n, .kind = CLI_OPT_FN, .arg = a, .fn = f, .help = h }
#define RUN_STR(n, f, a, h) CLI_STR(n, struct run_cfg, o.f, a, h)
static const struct cli_opt run_opts[] = {
	{ .name = "snapshot", .kind = CLI_OPT_STR, .off = offsetof(struct run_cfg, o.snapshot), .arg = "DIR",
	  .help = "the snapshot the cases start from (a host's part, or the snapshot of every host)",
	  .required = true },
	RUN_STR("frame", frame, "trigger|N|match:OFF:HEX", "the held frame mutated (default: the trigger's)"),
	RUN_FN("host", "HOST", set_host, "the host whose held frame is mutated (across hosts)"),
	RUN_FN("range", "A:B", set_range, "the bytes of the frame to mutate"),
	RUN_FN("cases", "K", set_cases, "how many cases (default 100)"),
	RUN_STR("cases-dir", cases_dir, "DIR", "or run the cases (.sp) of this folder as they are"),
	CLI_U64("seed", struct run_cfg, o.seed, "S", "the mutations' seed"),
	{ .name = "watch", .kind = CLI_OPT_FN, .repeat = true, .arg = "SPEC", .fn = add_watch, .required = true,
	  .help = "what judges a case (repeatable; docs/fuzz.md)" },
	RUN_FN("timeout", "S", set_fuzz_timeout, "a case without a verdict after S seconds hangs (default 10)"),
	{ .name = "out", .short_name = 'o', .kind = CLI_OPT_STR, .off = offsetof(struct run_cfg, o.out),
	  .arg = "RESULTS_DIR", .help = "where the cases and the results go", .required = true },
	CLI_FLAG("raw", struct run_cfg, o.raw, "no checksum fixed after a mutation"),
	CLI_U64("rate", struct run_cfg, o.rate_pps, "PPS", "replay pace, frames per second (default: no pace)"),
	CLI_ENUM("prefault", struct run_cfg, o.prefault, vmctl__prefault_words,
		 "how each case's restore maps the memory images: none (default), cache or all"),
	CLI_TABLE_AS(cli_mqtt_broker_opts, struct run_cfg, cm, "[MQTT OPTIONS]"),
	{ 0 },
};

static int do_fuzz_run(int argc, char **argv)
{
	struct run_cfg cfg = { .o = { .sz = sizeof(cfg.o), .cases = 100, .timeout_s = 10, .stop = &stop, .progress = progress } };
	struct fuzz_opts o;
	struct cli_mqtt cm;
	bool have_range, have_cases;
	const char **watch = cfg.watch;
	char err[1024], url[512];
	json_t *summary;
	int np = cli_parse(run_opts, argc, argv, &cfg, NULL), ret;

	if (np < 0)
		return EXIT_USAGE;
	if (np)
		return p_usage("fuzz run: unexpected argument '%s'; try '%s fuzz run --help'", argv[1], bin_name);
	cfg.o.watch = cfg.watch;
	o = cfg.o, cm = cfg.cm, have_range = cfg.have_range, have_cases = cfg.have_cases;
	o.across_hosts = mqtt_settle(&cm, url, sizeof(url));
	o.mqtt = &cm.mo;
	o.experiment = cm.experiment;
	if (o.cases_dir && (have_cases || have_range))
		return p_usage("--cases-dir takes the cases as they are: no --cases or --range with it");
	if (!o.cases_dir && !have_range)
		return p_usage("--range A:B is needed (the bytes of the frame to mutate)");
	for (size_t i = 0; i < o.n_watch; i++) {
		struct fuzz_watch *w;

		if (cli_coord_err(fuzz_watch__parse(watch[i], &w), err, sizeof(err)))
			return p_usage("%s", err);
		fuzz_watch__free(w);
	}
	catch_signals();
	ret = cli_coord_err(fuzz__run(&o, &summary), err, sizeof(err));
	if (summary) {
		if (json_output)
			jw_value(json_incref(summary));
		else
			print_summary(summary);
		json_decref(summary);
	}
	if (ret)
		return p_err("%s", err);
	return EXIT_OK;
}

static int case_arg(const char *s, uint32_t *id)
{
	uint64_t u;

	if (!strncmp(s, "case-", 5))
		s += 5;
	if (cli_u64(s, &u) || u > UINT32_MAX)
		return -EINVAL;
	*id = (uint32_t)u;
	return 0;
}

struct repro_cfg {
	struct cli_mqtt cm;
	bool quit;
};

static const struct cli_opt repro_opts[] = {
	CLI_FLAG("quit", struct repro_cfg, quit, "quit the VMs once the case has its verdict"),
	CLI_TABLE_AS(cli_mqtt_broker_opts, struct repro_cfg, cm, "[MQTT OPTIONS]"),
	{ 0 },
};

static int do_fuzz_repro(int argc, char **argv)
{
	struct repro_cfg cfg = { 0 };
	struct cli_mqtt cm;
	struct fuzz_repro_opts ro = { .sz = sizeof(ro), .stop = &stop };
	bool quit;
	char err[1024], url[512];
	json_t *r;
	uint32_t id;
	int np = cli_parse(repro_opts, argc, argv, &cfg, NULL);

	if (np < 0)
		return EXIT_USAGE;
	cm = cfg.cm, quit = cfg.quit;
	ro.mqtt = &cm.mo;
	mqtt_settle(&cm, url, sizeof(url));
	ro.quit = quit;
	ro.experiment = cm.experiment;
	if (np != 2)
		return p_usage("fuzz repro: RESULTS_DIR and CASE, not %d arguments", np);
	if (case_arg(argv[2], &id))
		return p_usage("fuzz repro: bad case '%s' (a case number)", argv[2]);
	catch_signals();
	if (cli_coord_err(fuzz__repro(argv[1], id, &ro, &r), err, sizeof(err)))
		return p_err("%s", err);
	if (json_output) {
		jw_value(r);
	} else {
		char mut[160];

		mutation_text(json_object_get(r, "mutation"), mut, sizeof(mut));
		printf("case %u: %s: %s [%s] after %.2f s%s\n", id,
		       json_string_value(json_object_get(r, "verdict")),
		       json_string_value(json_object_get(r, "reason")), mut,
		       json_number_value(json_object_get(r, "time_to_verdict_s")),
		       quit ? "" : "; the VMs are left running");
		json_decref(r);
	}
	return EXIT_OK;
}

static const struct cli_opt report_opts[] = { { 0 } };

static int do_fuzz_report(int argc, char **argv)
{
	char err[1024];
	json_t *r;

	int np = cli_parse(report_opts, argc, argv, NULL, NULL);

	if (np < 0)
		return EXIT_USAGE;
	if (np != 1)
		return p_usage("fuzz report: one RESULTS_DIR, not %d arguments", np);
	if (cli_coord_err(fuzz__report(argv[1], &r), err, sizeof(err)))
		return p_err("%s", err);
	if (json_output) {
		jw_value(r);
	} else {
		print_summary(r);
		json_decref(r);
	}
	return EXIT_OK;
}

const struct cmd cli_fuzz_verbs[] = {
	{ .name = "run", .fn = do_fuzz_run, .opts = run_opts, .args = "",
	  .help = "Mutate a held frame, replay each case from the snapshot, judge it by the watches." },
	{ .name = "report", .fn = do_fuzz_report, .opts = report_opts, .args = "RESULTS_DIR",
	  .help = "Counts, mean times, every case that did not pass." },
	{ .name = "repro", .fn = do_fuzz_repro, .opts = repro_opts, .args = "RESULTS_DIR CASE",
	  .help = "Restore the snapshot and run that one case again." },
	{ 0 },
};

int do_fuzz(int argc, char **argv)
{
	return cmd_select(cli_fuzz_verbs, "fuzz", argc - 1, argv + 1);
}
