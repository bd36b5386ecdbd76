// SPDX-License-Identifier: MIT
/* stasis agent ...: the per-host agent. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli/cli.h"
#include "coordinator/agent.h"
#include "coordinator/cli_mqtt.h"

static volatile int stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

int do_agent(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_MQTT_OPTS,
		{ "host", required_argument, 0, 'H' }, { "instances", required_argument, 0, 'i' },
		{ "snapshots", required_argument, 0, 's' }, { "actions", required_argument, 0, 'a' }, { 0 },
	};
	struct cli_mqtt cm = { 0 };
	struct coord_agent_opts o = { .stop = &stop };
	struct coord_broker *b = NULL;
	char url[128], err[512], host[64] = "", url_file[256] = "", tmp[300];
	int c, ret;

	if (argc > 1 && !strcmp(argv[1], "help")) {
		printf("Usage: %s agent --host NAME --snapshots DIR [--instances DIR] [--actions DIR] [--experiment NAME]\n"
		       "       [--broker mqtt[s]://[USER[:PASS]@]HOST[:PORT]] [--username U] [--password P]\n"
		       "       [--cafile F] [--cert F] [--key F]\n"
		       "Without --broker, a private mosquitto is started on 127.0.0.1 for this host\n"
		       "(its URL in " BROKER_URL_HELP ").\n", bin_name);
		return EXIT_OK;
	}
	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		int t = cli_mqtt_opt(c, optarg, &cm);

		if (t < 0)
			return EXIT_USAGE;
		if (t)
			continue;
		if (c == 'H')
			o.host = optarg;
		else if (c == 'i')
			o.instances = optarg;
		else if (c == 's')
			o.snapshots = optarg;
		else if (c == 'a')
			o.actions = optarg;
		else
			return EXIT_USAGE;
	}
	if (optind != argc || !o.snapshots)
		return p_usage("usage: stasis agent --host NAME --snapshots DIR [--instances DIR] [--broker URL] ...");
	if (!o.host) {
		gethostname(host, sizeof(host) - 1);
		o.host = host;
	}
	if (!coord_name__ok(o.host))
		return p_usage("bad host name '%s' (--host: 1-63 characters of A-Z a-z 0-9 . _ -)", o.host);
	o.experiment = cm.experiment ? cm.experiment : "default";
	o.mqtt = cm.mo;
	if (!o.mqtt.url) {
		FILE *f;

		if (coord_broker__start(&b, url, sizeof(url), err, sizeof(err)))
			return p_err("%s", err);
		mkdir(BROKER_URL_DIR, 0755);
		if (!cli_mqtt_url_file(o.experiment, url_file, sizeof(url_file))) {
			snprintf(tmp, sizeof(tmp), "%s.%d", url_file, (int)getpid());
			/* Written whole, then renamed: a reader never sees half. */
			f = fopen(tmp, "w");
			bool ok = f && fprintf(f, "%s\n", url) > 0;

			if (f)
				ok = !fclose(f) && ok;
			if (!ok || rename(tmp, url_file)) {
				unlink(tmp);
				url_file[0] = 0;
				p_info("agent: cannot write %s: coord commands here need --broker", tmp);
			}
		}
		o.mqtt.url = url;
		p_info("agent: private broker at %s", url);
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	p_info("agent: host %s, experiment %s, broker %s", o.host, o.experiment, o.mqtt.url);
	ret = coord_agent__run(&o, err, sizeof(err));
	if (b) {
		/* Only our own URL: another agent may have taken the file since. */
		char cur[300] = "";
		FILE *g = url_file[0] ? fopen(url_file, "r") : NULL;

		if (g && fgets(cur, sizeof(cur), g) && !strncmp(cur, url, strlen(url)) && cur[strlen(url)] == '\n')
			unlink(url_file);
		if (g)
			fclose(g);
		coord_broker__stop(b);
	}
	if (ret)
		return p_err("%s", err);
	return EXIT_OK;
}
