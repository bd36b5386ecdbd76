// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: a whole QMP conversation from a fake QEMU whose every
 * byte is the fuzzer's: greeting, replies, events, split or joined lines,
 * then end of stream. The client (connect, a call, events, the prepared
 * command path) must end with 0 or a negative errno, never crash or hang.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include "vmctl/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qmp_opts o = { .sz = sizeof(o), .timeout_ms = 50 };
	struct qmp *q = NULL;
	json_t *ret = NULL, *ev;
	int sv[2], r;
	size_t off = 0;

	if (size > 65536 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return 0;
	/* The whole conversation is queued before the client reads. */
	while (off < size) {
		ssize_t w = write(sv[1], data + off, size - off);

		if (w <= 0)
			break;
		off += (size_t)w;
	}
	shutdown(sv[1], SHUT_WR);
	r = qmp__open_fd(sv[0], &o, &q);
	if (r == 0) {
		r = qmp__call(q, "query-status", NULL, &ret);
		if (r > 0 || (r == 0 && !ret))
			abort();
		json_decref(ret);
		while (qmp__next_event(q, &ev) == 0)
			json_decref(ev);
		if (qmp__prepare(q, "stop", NULL) == 0 && qmp__fire(q) == 0) {
			r = qmp__collect(q, 50, NULL);
			if (r > 0)
				abort();
		}
		qmp__close(q);
	} else if (r > 0 || q || !vmctl__errmsg()[0]) {
		abort();
	}
	close(sv[1]);
	return 0;
}
