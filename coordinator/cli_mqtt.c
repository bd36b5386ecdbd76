// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <string.h>
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
	case 1006: m->experiment = arg; return 1;
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

int cli_mqtt_default(struct cli_mqtt *m, char *buf, size_t len)
{
	FILE *f;

	if (!m->experiment)
		m->experiment = "default";
	if (m->mo.url)
		return 0;
	f = fopen(BROKER_URL_FILE, "r");
	if (!f || !fgets(buf, (int)len, f)) {
		if (f)
			fclose(f);
		return p_usage("no --broker, and no local agent's private broker (%s)", BROKER_URL_FILE);
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	m->mo.url = buf;
	return 0;
}
