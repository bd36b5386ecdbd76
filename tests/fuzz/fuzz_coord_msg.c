// SPDX-License-Identifier: MIT
/* libFuzzer target: the coordination message parser, on any bytes (MQTT
 * payloads come from the network). A message it accepts must encode again
 * and parse back to the same fields; a roster it carries, once taken, must
 * encode again to the same hosts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "coordinator/agent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct coord_msg m, m2;
	char *s;
	json_t *j, *hosts;

	if (coord_msg__parse((const char *)data, size, &m, (void **)&j))
		return 0;
	if ((hosts = coord_roster__hosts(j))) {
		char *r = coord_roster__encode(m.experiment, m.from, hosts, NULL);
		json_t *back = r ? json_loads(r, 0, NULL) : NULL;
		json_t *bh = coord_roster__hosts(back);

		/* the same set (duplicates in the input are kept as given) */
		if (!bh || json_array_size(bh) != json_array_size(hosts))
			abort();
		for (size_t i = 0; i < json_array_size(hosts); i++)
			if (!coord_roster__has(bh, json_string_value(json_array_get(hosts, i))))
				abort();
		json_decref(back);
		free(r);
	}
	json_decref(j);
	s = coord_msg__encode(&m, NULL);
	if (!s || coord_msg__parse(s, strlen(s), &m2, NULL) ||
	    m2.epoch != m.epoch || strcmp(m2.op, m.op) || strcmp(m2.from, m.from) ||
	    strcmp(m2.experiment, m.experiment))
		abort();
	free(s);
	return 0;
}
