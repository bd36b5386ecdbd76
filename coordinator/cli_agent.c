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

struct agent_cfg {
	struct cli_mqtt cm;
	struct coord_agent_opts o;
};

#define AGENT_STR(n, f, a, h) CLI_STR(n, struct agent_cfg, o.f, a, h)
const struct cli_opt cli_agent_opts[] = {
	AGENT_STR("host", host, "NAME", "this host's name in the experiment (default: the hostname)"),
	{ .name = "snapshots", .kind = CLI_OPT_STR, .off = offsetof(struct agent_cfg, o.snapshots), .arg = "DIR",
	  .help = "where this host's parts of snapshots are kept", .required = true },
	AGENT_STR("instances", instances, "DIR", "the VM instances this agent drives (default $STASIS_VM_ROOT)"),
	AGENT_STR("actions", actions, "DIR", "user actions (.so) run at each stage"),
	CLI_TABLE_AS(cli_mqtt_broker_opts, struct agent_cfg, cm, "[MQTT OPTIONS]"),
	{ 0 },
};

int do_agent(int argc, char **argv)
{
	struct agent_cfg cfg = { .o = { .stop = &stop } };
	struct coord_agent_opts o;
	struct cli_mqtt cm;
	struct coord_broker *b = NULL;
	char url[128], err[512], host[64] = "", url_file[256] = "", tmp[300];
	int np, ret;

	if (argc > 1 && !strcmp(argv[1], "help"))
		return cli_help(cli_cmd(cli_objects, "agent"), NULL), EXIT_OK;
	if ((np = cli_parse(cli_agent_opts, argc, argv, &cfg, NULL)) < 0)
		return EXIT_USAGE;
	if (np)
		return p_usage("agent: unexpected argument '%s'", argv[1]);
	o = cfg.o, cm = cfg.cm;
	if (!o.host) {
		gethostname(host, sizeof(host) - 1);
		o.host = host;
	}
	if (!coord_name__ok(o.host))
		return p_usage("bad host name '%s' (--host: 1-63 characters of A-Z a-z 0-9 . _ -)", o.host);
	o.experiment = cm.experiment ? cm.experiment : "default";
	o.sz = sizeof(o);
	o.mqtt = cm.mo;
	o.mqtt.sz = sizeof(o.mqtt);
	if (!o.mqtt.url) {
		FILE *f;

		if (cli_coord_err(coord_broker__start(&b, url, sizeof(url)), err, sizeof(err)))
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
	ret = cli_coord_err(coord_agent__run(&o), err, sizeof(err));
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
