// SPDX-License-Identifier: MIT
/*
 * stasis OBJECT VERB [ARGS]: the entry point. Global options (-j, -p, -h, -V)
 * may stand anywhere before a lone "--"; they are taken out of argv here so
 * that every verb gets them without declaring them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include <mosquitto.h>
#include <netlink/version.h>
#include "cli/cli.h"

bool json_output;
bool pretty_output;
const char *bin_name = "stasis";

static int do_help(int argc, char **argv);
static int do_version(int argc, char **argv);

struct help_cfg {
	bool man, completion;
};

static const struct cli_opt help_opts[] = {
	{ .name = "man", .kind = CLI_OPT_FLAG, .off = offsetof(struct help_cfg, man), .group = "out",
	  .help = "the man page (roff): stasis(8), or stasis-OBJECT(8) with an OBJECT" },
	{ .name = "completion", .kind = CLI_OPT_FLAG, .off = offsetof(struct help_cfg, completion), .group = "out",
	  .help = "the bash completion script" },
	{ 0 },
};

const struct cmd cli_objects[] = {
	{ .name = "net", .fn = do_net, .verbs = cli_net_verbs, .help = "VERB ...  network hold: attach, triggers, hold, drain, replay" },
	{ .name = "vm", .fn = do_vm, .verbs = cli_vm_verbs, .help = "VERB ...  QEMU VMs over QMP: stop, save, restore, fork" },
	{ .name = "sp", .fn = do_sp, .verbs = cli_sp_verbs, .help = "VERB ...  .sp packet files: info, cat, pcapng, edit, mutate" },
	{ .name = "agent", .fn = do_agent, .opts = cli_agent_opts, .args = "",
	  .help = "the per-host agent (MQTT)\n"
		  "It answers the experiment's requests (coord, fuzz). Without --broker, a private\n"
		  "mosquitto is started on 127.0.0.1 for this host (its URL in\n"
		  "/run/stasis/broker-NETNS-EXPERIMENT.url, where coord commands here find it)." },
	{ .name = "coord", .fn = do_coord, .verbs = cli_coord_verbs, .help = "VERB ...  the sender: triggers, snapshot, restore across hosts" },
	{ .name = "fuzz", .fn = do_fuzz, .verbs = cli_fuzz_verbs, .help = "VERB ...  packet-triggered fuzz loop over a snapshot" },
	{ .name = "help", .fn = do_help, .opts = help_opts, .args = "[OBJECT]",
	  .help = "          this text; --man and --completion: the man pages and bash completion" },
	CLI_CMD("version", do_version, "          versions of stasis and the libraries it uses"),
	{ 0 },
};

static int do_help(int argc, char **argv)
{
	struct help_cfg cfg = { 0 };
	int np = cli_parse(help_opts, argc, argv, &cfg, NULL);

	if (np < 0)
		return EXIT_USAGE;
	if (np > (cfg.man ? 1 : 0))
		return p_usage("help: unexpected argument '%s'", argv[np]);
	if (cfg.man)
		return cli_gen_man(np ? argv[1] : NULL);
	if (cfg.completion)
		return cli_gen_completion();
	printf("Usage: %s [-j|--json] [-p|--pretty] [--debug] OBJECT VERB [ARGS]\n"
	       "       %s OBJECT help\n\nObjects (unique prefixes accepted):\n",
	       bin_name, bin_name);
	for (const struct cmd *c = cli_objects; c->name; c++)
		printf("  %s %-8s %s%.*s\n", bin_name, c->name, c->opts ? "OPTS ...  " : "",
		       (int)strcspn(c->help, "\n"), c->help);
	printf("\nExit status: 0 done, 1 the operation failed, 2 usage error.\n");
	return EXIT_OK;
}

static int do_version(int argc, char **argv)
{
	char nl[16], mq[16];
	int mmaj, mmin, mrev;

	if (argc > 1)
		return p_usage("version takes no arguments");
	(void)argv;
	/* Runtime versions where the library tells them, build-time otherwise. */
	mosquitto_lib_version(&mmaj, &mmin, &mrev);
	snprintf(mq, sizeof(mq), "%d.%d.%d", mmaj, mmin, mrev);
	snprintf(nl, sizeof(nl), "%d.%d.%d", nl_ver_maj, nl_ver_min, nl_ver_mic);
	if (json_output) {
		jw_value(json_pack("{s:s,s:{s:s,s:s,s:s,s:s,s:s}}",
			"version", STASIS_VERSION, "libraries",
			"libbpf", libbpf_version_string(), "libxdp", LIBXDP_BUILD_VERSION,
			"libnl", nl, "jansson", jansson_version_str(),
			"libmosquitto", mq));
	} else {
		printf("%s %s\n", bin_name, STASIS_VERSION);
		printf("libbpf %s, libxdp %s, libnl %s, jansson %s, libmosquitto %s\n",
		       libbpf_version_string(), LIBXDP_BUILD_VERSION, nl,
		       jansson_version_str(), mq);
	}
	return EXIT_OK;
}

/* Take the global options out of argv; returns the new argc. */
static int strip_global_opts(int argc, char **argv, bool *want_help)
{
	int out = 1;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0) {
			while (i < argc)
				argv[out++] = argv[i++];
			break;
		}
		if (!strcmp(a, "-j") || !strcmp(a, "--json")) {
			json_output = true;
		} else if (!strcmp(a, "-p") || !strcmp(a, "--pretty") ||
			   !strcmp(a, "-jp") || !strcmp(a, "-pj")) {
			json_output = pretty_output = true;
		} else if (!strcmp(a, "--debug")) {
			/* The libraries read it: libbpf's and libxdp's output,
			 * the whole log of a program the verifier refuses. */
			setenv("STASIS_DEBUG", "1", 1);
		} else if (out == 1 && (!strcmp(a, "-h") || !strcmp(a, "--help"))) {
			*want_help = true;
		} else if (out == 1 && (!strcmp(a, "-V") || !strcmp(a, "--version"))) {
			argv[out++] = "version";
		} else {
			argv[out++] = argv[i];
		}
	}
	argv[out] = NULL;
	return out;
}

int main(int argc, char **argv)
{
	bool want_help = false;
	int ret;

	argc = strip_global_opts(argc, argv, &want_help);
	if (want_help || argc < 2) {
		/* do_help parses its own argv: give it one, "help" alone. */
		char *help_argv[] = { "help", NULL };

		ret = do_help(1, help_argv);
		return want_help ? ret : EXIT_USAGE;
	}
	/* Silence libbpf's own chatter unless asked: errors come through p_err. */
	if (!getenv("STASIS_DEBUG")) {
		libbpf_set_print(NULL);
		libxdp_set_print(NULL);
	}
	ret = cmd_select(cli_objects, NULL, argc - 1, argv + 1);
	if (fflush(stdout) && ret == EXIT_OK)
		ret = EXIT_FAIL;	/* e.g. stdout on a full disk */
	return ret;
}
