// SPDX-License-Identifier: MIT
/* stasis fuzz ...: the packet-triggered fuzz loop (coordinator/fuzz.h). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/cli.h"
#include "coordinator/cli_mqtt.h"
#include "coordinator/fuzz.h"

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

static int do_fuzz_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "snapshot", required_argument, 0, 's' }, { "frame", required_argument, 0, 'f' },
		{ "range", required_argument, 0, 'r' }, { "cases", required_argument, 0, 'k' },
		{ "cases-dir", required_argument, 0, 'K' }, { "seed", required_argument, 0, 'S' },
		{ "watch", required_argument, 0, 'w' }, { "timeout", required_argument, 0, 't' },
		{ "out", required_argument, 0, 'o' }, { "raw", no_argument, 0, 'R' },
		{ "rate", required_argument, 0, 'p' }, { "host", required_argument, 0, 'H' }, CLI_MQTT_BROKER_OPTS, { 0 },
	};
	struct cli_mqtt cm = { 0 };
	char url[512];
	const char *watch[WATCH_MAX];
	struct fuzz_opts o = { .cases = 100, .timeout_s = 10, .watch = watch, .stop = &stop,
			       .progress = progress };
	bool have_range = false, have_cases = false;
	char err[1024];
	json_t *summary;
	uint64_t u;
	int c, ret;

	while ((c = cli_getopt(argc, argv, "o:", opts)) != -1) {
		switch (c) {
		case 's': o.snapshot = optarg; break;
		case 'f': o.frame = optarg; break;
		case 'K': o.cases_dir = optarg; break;
		case 'o': o.out = optarg; break;
		case 'R': o.raw = true; break;
		case 'H':
			if (!coord_name__ok(optarg))
				return p_usage("bad --host '%s' (a host name)", optarg);
			o.host = optarg;
			break;
		case 'r':
			if (parse_range(optarg, &o.from, &o.to))
				return p_usage("bad --range '%s' (A:B, byte offsets in the frame, A <= B)", optarg);
			have_range = true;
			break;
		case 'k':
			if (cli_u64(optarg, &u) || u < 1 || u > 1000000)
				return p_usage("bad --cases '%s' (1-1000000)", optarg);
			o.cases = (uint32_t)u;
			have_cases = true;
			break;
		case 'S':
			if (cli_u64(optarg, &o.seed))
				return p_usage("bad --seed '%s'", optarg);
			break;
		case 'p':
			if (cli_u64(optarg, &o.rate_pps))
				return p_usage("bad --rate '%s' (frames per second)", optarg);
			break;
		case 't':
			if (parse_seconds(optarg, &o.timeout_s))
				return p_usage("bad --timeout '%s' (seconds, > 0)", optarg);
			break;
		case 'w':
			if (o.n_watch == WATCH_MAX)
				return p_usage("at most %d --watch", WATCH_MAX);
			watch[o.n_watch++] = optarg;
			break;
		default: {
			int t = cli_mqtt_opt(c, optarg, &cm);

			if (t != 1)
				return EXIT_USAGE;
		}
		}
	}
	o.across_hosts = mqtt_settle(&cm, url, sizeof(url));
	o.mqtt = &cm.mo;
	o.experiment = cm.experiment;
	if (optind != argc || !o.snapshot || !o.out || !o.n_watch)
		return p_usage("usage: stasis fuzz run --snapshot DIR [--frame SEL] [--host HOST] --range A:B "
			       "[--cases K | --cases-dir DIR] [--seed S] --watch SPEC... [--timeout S] "
			       "[--broker URL --experiment NAME] -o RESULTS_DIR");
	if (o.cases_dir && (have_cases || have_range))
		return p_usage("--cases-dir takes the cases as they are: no --cases or --range with it");
	if (!o.cases_dir && !have_range)
		return p_usage("--range A:B is needed (the bytes of the frame to mutate)");
	for (size_t i = 0; i < o.n_watch; i++) {
		struct fuzz_watch *w;

		if (fuzz_watch__parse(watch[i], &w, err, sizeof(err)))
			return p_usage("%s", err);
		fuzz_watch__free(w);
	}
	catch_signals();
	ret = fuzz__run(&o, &summary, err, sizeof(err));
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

static int do_fuzz_repro(int argc, char **argv)
{
	static const struct option opts[] = { { "quit", no_argument, 0, 'q' }, CLI_MQTT_BROKER_OPTS, { 0 } };
	struct cli_mqtt cm = { 0 };
	struct fuzz_repro_opts ro = { .stop = &stop, .mqtt = &cm.mo };
	bool quit = false;
	char err[1024], url[512];
	json_t *r;
	uint32_t id;
	int c;

	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		if (c == 'q')
			quit = true;
		else if (cli_mqtt_opt(c, optarg, &cm) != 1)
			return EXIT_USAGE;
	}
	mqtt_settle(&cm, url, sizeof(url));
	ro.quit = quit;
	ro.experiment = cm.experiment;
	if (argc - optind != 2)
		return p_usage("usage: stasis fuzz repro RESULTS_DIR CASE [--quit] [--broker URL --experiment NAME]");
	if (case_arg(argv[optind + 1], &id))
		return p_usage("bad case '%s' (a case number)", argv[optind + 1]);
	catch_signals();
	if (fuzz__repro(argv[optind], id, &ro, &r, err, sizeof(err)))
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

static int do_fuzz_report(int argc, char **argv)
{
	char err[1024];
	json_t *r;

	if (cli_getopt(argc, argv, "", NULL) != -1)
		return EXIT_USAGE;
	if (argc - optind != 1)
		return p_usage("usage: stasis fuzz report RESULTS_DIR");
	if (fuzz__report(argv[optind], &r, err, sizeof(err)))
		return p_err("%s", err);
	if (json_output) {
		jw_value(r);
	} else {
		print_summary(r);
		json_decref(r);
	}
	return EXIT_OK;
}

static const struct cmd fuzz_cmds[] = {
	CLI_CMD("run",    do_fuzz_run,    "--snapshot DIR [--frame trigger|N|match:OFF:HEX] [--host HOST] --range A:B "
				    "[--cases K | --cases-dir DIR] [--seed S] --watch SPEC... [--timeout S] [--raw] "
				    "[--rate PPS] [--broker URL --experiment NAME] -o RESULTS_DIR"),
	CLI_CMD("report", do_fuzz_report, "RESULTS_DIR: counts, mean times, every case that did not pass"),
	CLI_CMD("repro",  do_fuzz_repro,  "RESULTS_DIR CASE [--quit] [--broker URL --experiment NAME]: restore the snapshot and run that one case again"),
	{ 0 },
};

int do_fuzz(int argc, char **argv)
{
	return cmd_select(fuzz_cmds, "fuzz", argc - 1, argv + 1);
}
