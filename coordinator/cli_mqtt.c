// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "cli/cli.h"
#include "coordinator/cli_mqtt.h"

int cli_mqtt_opt(int c, const char *arg, struct cli_mqtt *m)
{
	uint64_t v;

	switch (c) {
	case 1000: m->mo.url = arg; return 1;
	case 1001: m->mo.username = arg; return 1;
	case 1002: m->mo.password = arg; return 1;
	case 1003: m->mo.cafile = arg; return 1;
	case 1004: m->mo.certfile = arg; return 1;
	case 1005: m->mo.keyfile = arg; return 1;
	case 1006:
		if (!coord_name__ok(arg)) {
			p_usage("bad --experiment '%s' (1-63 characters of A-Z a-z 0-9 . _ -)", arg);
			return -2;
		}
		m->experiment = arg;
		return 1;
	case 1007:
		if (cli_u64(arg, &v) || v > 86400) {
			p_usage("bad --timeout '%s' (seconds)", arg);
			return -2;
		}
		m->timeout_ms = (int)(v * 1000);
		return 1;
	}
	return 0;
}

int cli_mqtt_url_file(const char *experiment, char *buf, size_t len)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st))
		return -errno;
	snprintf(buf, len, "%s/broker-%llu-%s.url", BROKER_URL_DIR, (unsigned long long)st.st_ino, experiment);
	return 0;
}

int cli_mqtt_local(struct cli_mqtt *m, char *buf, size_t len, char *path, size_t plen)
{
	char own[256] = "";
	FILE *f = NULL;

	if (!path)
		path = own, plen = sizeof(own);
	path[0] = 0;
	if (!m->experiment)
		m->experiment = "default";
	if (m->mo.url)
		return 0;
	if (!cli_mqtt_url_file(m->experiment, path, plen))
		f = fopen(path, "r");
	if (!f || !fgets(buf, (int)len, f)) {
		if (f)
			fclose(f);
		return -ENOENT;
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	m->mo.url = buf;
	return 0;
}

int cli_mqtt_default(struct cli_mqtt *m, char *buf, size_t len)
{
	char path[256];

	if (cli_mqtt_local(m, buf, len, path, sizeof(path)))
		return p_usage("no --broker, and no private broker of a local agent of experiment %s "
			       "in this network namespace (%s)", m->experiment, path);
	return 0;
}
