// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the QMP message parser on arbitrary bytes, whole and
 * split into lines as the client splits its input. It must return 0 or
 * -EPROTO, never crash, leak or leave a half-filled message behind.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "vmctl/internal.h"

static void one(const char *p, size_t n)
{
	struct qmp_msg m;
	char err[200];
	int r = qmp_msg__parse(p, n, &m, err, sizeof(err));

	if (r == 0) {
		if (!m.root || m.kind > QMP_EVENT)
			abort();
		if (m.kind == QMP_ERROR && !m.errdesc[0])
			abort();
		if (m.kind == QMP_EVENT && !m.event)
			abort();
		if (strchr(m.errdesc, '\n'))
			abort();
		qmp_msg__release(&m);
	} else if (r != -EPROTO || m.root || !err[0]) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;

	one(p, size);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);

		one(p, n);
		p += n;
	}
	return 0;
}
