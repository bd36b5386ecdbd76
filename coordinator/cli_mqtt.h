/* SPDX-License-Identifier: MIT */
/* Internal to the coordinator's CLI: the broker options every verb takes. */
#ifndef COORD_CLI_MQTT_H
#define COORD_CLI_MQTT_H

#include "cli/cli.h"
#include "coordinator/coord.h"

/* Where an agent's private broker leaves its URL: one file per network
 * namespace and experiment (the broker listens on that namespace's
 * loopback), so agents in two namespaces never overwrite each other's. */
#define BROKER_URL_DIR "/run/stasis"
#define BROKER_URL_HELP BROKER_URL_DIR "/broker-NETNS-EXPERIMENT.url"
/* The file's path for @experiment in this network namespace. */
int cli_mqtt_url_file(const char *experiment, char *buf, size_t len);
/* @ret of a libstasis_coord call; on failure its coord__errmsg() copied into
 * @err (a message kept past later calls). */
int cli_coord_err(int ret, char *err, size_t len);

struct cli_mqtt {
	struct coord_mqtt_opts mo;
	const char *experiment;
	int timeout_ms;
};
/* The options of struct cli_mqtt (CLI_TABLE them into a
 * verb's): the broker options, and those with --timeout. */
extern const struct cli_opt cli_mqtt_broker_opts[];
extern const struct cli_opt cli_mqtt_opts[];
/* No --broker: the URL the local agent's private broker left, if any (for
 * the experiment of --experiment, in this network namespace). */
int cli_mqtt_default(struct cli_mqtt *m, char *buf, size_t len);
/* The same without a message: 0 when a URL was given or found, else
 * -ENOENT (@path, when not NULL, gets the file looked for). */
int cli_mqtt_local(struct cli_mqtt *m, char *buf, size_t len, char *path, size_t plen);

#endif
