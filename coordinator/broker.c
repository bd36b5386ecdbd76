// SPDX-License-Identifier: MIT
/* The embedded default broker: a private mosquitto on 127.0.0.1 and a free
 * port, started for one command or agent and stopped by its PID after. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include "coordinator/internal.h"
#include "coordinator/coord.h"

struct coord_broker {
	pid_t pid;
	char dir[64];
};

static int free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd < 0)
		return -1;
	if (!bind(fd, (struct sockaddr *)&sa, sizeof(sa)) && !getsockname(fd, (struct sockaddr *)&sa, &len))
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static int reachable(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	if (fd < 0)
		return 0;
	ok = !connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return ok;
}

int coord_broker__start(struct coord_broker **out, char *url, size_t len)
{
	char *err = coord_err();
	size_t errlen = coord_err_len();
	struct coord_broker *b = calloc(1, sizeof(*b));
	char conf[128];
	FILE *f;
	int port = free_port();

	if (!b)
		return -ENOMEM;
	snprintf(b->dir, sizeof(b->dir), "/tmp/stasis-broker.XXXXXX");
	if (port < 0 || !mkdtemp(b->dir)) {
		snprintf(err, errlen, "cannot prepare a private broker: %s", strerror(errno));
		free(b);
		return -errno;
	}
	snprintf(conf, sizeof(conf), "%s/mosquitto.conf", b->dir);
	f = fopen(conf, "w");
	if (!f) {
		snprintf(err, errlen, "%s: %s", conf, strerror(errno));
		coord_broker__stop(b);
		return -EIO;
	}
	fprintf(f, "listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n", port);
	fclose(f);
	b->pid = fork();
	if (b->pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execlp("mosquitto", "mosquitto", "-c", conf, (char *)NULL);
		_exit(127);
	}
	if (b->pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		coord_broker__stop(b);
		return -errno;
	}
	for (int i = 0; i < 100 && !reachable(port); i++) {
		int st;

		if (waitpid(b->pid, &st, WNOHANG) == b->pid) {
			b->pid = 0;
			snprintf(err, errlen, "mosquitto did not start (is it installed? make deps)");
			coord_broker__stop(b);
			return -ENOENT;
		}
		usleep(50000);
	}
	snprintf(url, len, "mqtt://127.0.0.1:%d", port);
	*out = b;
	return 0;
}

void coord_broker__stop(struct coord_broker *b)
{
	char path[128];

	if (!b)
		return;
	if (b->pid > 0) {
		kill(b->pid, SIGTERM);
		waitpid(b->pid, NULL, 0);
	}
	snprintf(path, sizeof(path), "%s/mosquitto.conf", b->dir);
	unlink(path);
	rmdir(b->dir);
	free(b);
}
