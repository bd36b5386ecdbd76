// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "cli/cli.h"
#include "coordinator/cli_mqtt.h"

static int set_experiment(const char *verb, const struct cli_opt *o, const char *v, void *at)
{
	(void)o;
	if (!coord_name__ok(v))
		return p_usage("%s: bad --experiment '%s' (1-63 characters of A-Z a-z 0-9 . _ -)", verb, v);
	*(const char **)at = v;
	return 0;
}

static int set_timeout(const char *verb, const struct cli_opt *o, const char *v, void *at)
{
	uint64_t s;

	(void)o;
	if (cli_u64(v, &s) || s > 86400)
		return p_usage("%s: bad --timeout '%s' (seconds, at most 86400)", verb, v);
	*(int *)at = (int)(s * 1000);
	return 0;
}

#define MQTT_STR(n, f, a, h) CLI_STR(n, struct cli_mqtt, f, a, h)
const struct cli_opt cli_mqtt_broker_opts[] = {
	MQTT_STR("broker", mo.url, "URL", "the broker: mqtt[s]://[USER[:PASS]@]HOST[:PORT]"),
	MQTT_STR("username", mo.username, "USER", "broker user name"),
	MQTT_STR("password", mo.password, "PASS", "broker password"),
	MQTT_STR("cafile", mo.cafile, "FILE", "CA certificates for mqtts://"),
	MQTT_STR("cert", mo.certfile, "FILE", "client certificate"),
	MQTT_STR("key", mo.keyfile, "FILE", "client key"),
	CLI_FN("experiment", struct cli_mqtt, experiment, "NAME", set_experiment,
	       "the experiment's name (default: default)"),
	{ 0 },
};

const struct cli_opt cli_mqtt_opts[] = {
	{ .name = "", .kind = CLI_OPT_TABLE, .sub = cli_mqtt_broker_opts },	/* same struct */
	CLI_FN("timeout", struct cli_mqtt, timeout_ms, "S", set_timeout, "give up on replies after S seconds"),
	{ 0 },
};

int cli_coord_err(int ret, char *err, size_t len)
{
	if (ret < 0)
		snprintf(err, len, "%s", coord__errmsg());
	return ret;
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

	m->mo.sz = sizeof(m->mo);	/* what the CLI hands the library */
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
