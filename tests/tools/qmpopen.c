// SPDX-License-Identifier: MIT
/*
 * qmpopen SOCKET -- QEMU ARGS...: start a bare QEMU and print the
 * milliseconds from exec until its QMP socket answers (greeting and
 * capabilities negotiated), then quit it. The floor a restore stands on:
 * bench_restore.sh runs it beside `stasis vm restore`.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include "vmctl/vmctl.h"
#include "util/util.h"

int main(int argc, char **argv)
{
	struct qmp_opts o = { .sz = sizeof(o), .timeout_ms = 5000 };
	struct qmp *q = NULL;
	uint64_t t0;
	pid_t pid;
	int r = -1;

	if (argc < 4 || strcmp(argv[2], "--")) {
		fprintf(stderr, "usage: qmpopen SOCKET -- QEMU ARGS...\n");
		return 2;
	}
	unlink(argv[1]);
	t0 = util_now_ns();
	pid = fork();
	if (pid == 0) {
		execvp(argv[3], argv + 3);
		_exit(127);
	}
	for (int i = 0; i < 40000 && r; i++) {	/* 10 s */
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			fprintf(stderr, "qmpopen: QEMU exited\n");
			return 1;
		}
		r = qmp__connect(argv[1], &o, &q);
		if (r)
			usleep(250);
	}
	if (r) {
		kill(pid, SIGKILL);
		fprintf(stderr, "qmpopen: no QMP: %s\n", strerror(-r));
		return 1;
	}
	printf("%.3f\n", (double)(util_now_ns() - t0) / 1e6);
	qmp__call(q, "quit", NULL, NULL);
	qmp__close(q);
	waitpid(pid, NULL, 0);
	return 0;
}
