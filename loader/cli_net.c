// SPDX-License-Identifier: MIT
/* stasis net ...: the network hold on this host. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"
#include "bpf/stasis_bpf.h"
#include "loader/loader.h"

/*
 * net probe: can this host run the hold? Checks the kernel version and loads
 * the embedded BPF object (nothing is attached or pinned), then unloads it.
 */
static int do_net_probe(int argc, char **argv)
{
	struct stasis_prog *p;
	char rel[128];
	int err;

	if (argc > 1)
		return p_usage("net probe takes no arguments, not '%s'", argv[1]);
	err = loader__kernel_check(rel, sizeof(rel));
	if (err == -ENOTSUP)
		return p_err("kernel %s is too old: stasis needs Linux %d.%d or newer",
			     rel, LOADER_MIN_KERNEL_MAJOR, LOADER_MIN_KERNEL_MINOR);
	if (err)
		return p_err("cannot read the kernel version: %s", strerror(-err));
	err = stasis_prog__load(&p);
	if (err)
		return p_err("loading the BPF object failed: %s%s", strerror(-err),
			     err == -EPERM ? " (run as root: CAP_BPF and CAP_NET_ADMIN)" : "");
	if (json_output) {
		json_t *progs = json_array(), *maps = json_array();

		for (int i = 0; i < stasis_prog__prog_count(p); i++)
			json_array_append_new(progs, json_string(stasis_prog__prog_name(p, i)));
		for (int i = 0; i < stasis_prog__map_count(p); i++)
			json_array_append_new(maps, json_string(stasis_prog__map_name(p, i)));
		jw_value(json_pack("{s:s,s:b,s:o,s:o}", "kernel", rel, "loaded", 1,
				   "programs", progs, "maps", maps));
	} else {
		printf("kernel %s: ok (needs %d.%d+)\n", rel,
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

static const struct cmd net_cmds[] = {
	{ "probe",        do_net_probe,    "                check the kernel and load the BPF object" },
	{ "attach",       not_implemented, "DEV... [--uplink DEV...]" },
	{ "detach",       not_implemented, "" },
	{ "status",       not_implemented, "" },
	{ "trigger",      not_implemented, "add|list|del ..." },
	{ "wait-trigger", not_implemented, "[--timeout S]" },
	{ "hold",         not_implemented, "[--epoch E]" },
	{ "release",      not_implemented, "" },
	{ "drain",        not_implemented, "-o FILE.sp [--follow]" },
	{ "replay",       not_implemented, "FILE.sp [--spacing] [--rate PPS]" },
	{ 0 },
};

int do_net(int argc, char **argv)
{
	return cmd_select(net_cmds, "net", argc - 1, argv + 1);
}
