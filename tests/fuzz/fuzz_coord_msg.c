// SPDX-License-Identifier: MIT
/* libFuzzer target: the coordination message parser, on any bytes (MQTT
 * payloads come from the network). A message it accepts must encode again
 * and parse back to the same fields. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "coordinator/coord.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct coord_msg m, m2;
	char err[256];
	char *s;

	if (coord_msg__parse((const char *)data, size, &m, NULL, err, sizeof(err)))
		return 0;
	s = coord_msg__encode(&m, NULL);
	if (!s || coord_msg__parse(s, strlen(s), &m2, NULL, err, sizeof(err)) ||
	    m2.epoch != m.epoch || strcmp(m2.op, m.op) || strcmp(m2.from, m.from) ||
	    strcmp(m2.experiment, m.experiment))
		abort();
	free(s);
	return 0;
}
