// SPDX-License-Identifier: MIT
/* tcp-send / tcp-sink: a stream of a known byte pattern, checked byte by byte. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "sg.h"

static void addr(const char *applet, const char *host, const char *port, struct sockaddr_in *sa)
{
	uint64_t p;

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (sg_parse_u64(port, &p) || p > 65535 ||
	    (host && inet_pton(AF_INET, host, &sa->sin_addr) != 1))
		sg_die(applet, "bad address %s:%s", host ? host : "*", port);
	sa->sin_port = htons((uint16_t)p);
}

int sg_tcp_send(int argc, char **argv)
{
	struct sockaddr_in sa;
	uint64_t total, off = 0, t0, rate = 0;
	static uint8_t buf[1 << 16];
	int fd, tries = 0;

	/* --rate B/s (last): a paced stream, so that it lasts a known time
	 * whatever the machine's speed (a stream across a snapshot). */
	if (argc == 6 && !strcmp(argv[4], "--rate") && !sg_parse_u64(argv[5], &rate))
		argc = 4;
	if (argc != 4 || sg_parse_u64(argv[3], &total))
		sg_die("tcp-send", "usage: tcp-send DST PORT BYTES [--rate BYTES_PER_S]");
	addr("tcp-send", argv[1], argv[2], &sa);
	/* The sink may still be starting: retry the connection for ~10 s. */
	for (;;) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0)
			sg_die("tcp-send", "socket: %s", strerror(errno));
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			break;
		if (++tries > 100)
			sg_die("tcp-send", "connect: %s", strerror(errno));
		close(fd);
		usleep(100000);
	}
	t0 = sg_now_ns();
	while (off < total) {
		size_t n = total - off < sizeof(buf) ? total - off : sizeof(buf);

		if (rate)
			sg_sleep_until(t0 + off * 1000000000ull / rate);
		for (size_t i = 0; i < n; i++)
			buf[i] = sg_pattern(off + i);
		for (size_t done = 0; done < n;) {
			ssize_t w = write(fd, buf + done, n - done);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				sg_die("tcp-send", "write at %llu: %s",
				       (unsigned long long)(off + done), strerror(errno));
			done += w;
		}
		off += n;
	}
	shutdown(fd, SHUT_WR);
	/* Wait for the sink to close: then every byte was read by it. */
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	printf("tcp-send: done bytes=%llu ms=%llu\n", (unsigned long long)off,
	       (unsigned long long)((sg_now_ns() - t0) / 1000000));
	fflush(stdout);
	close(fd);
	return 0;
}

int sg_tcp_sink(int argc, char **argv)
{
	struct sockaddr_in sa;
	static uint8_t buf[1 << 16];
	uint64_t off = 0, errors = 0, first_error = 0;
	int lfd, fd, one = 1;

	if (argc != 2)
		sg_die("tcp-sink", "usage: tcp-sink PORT");
	addr("tcp-sink", NULL, argv[1], &sa);
	sa.sin_addr.s_addr = htonl(INADDR_ANY);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 1))
		sg_die("tcp-sink", "listen: %s", strerror(errno));
	printf("tcp-sink: ready port=%s\n", argv[1]);
	fflush(stdout);
	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		sg_die("tcp-sink", "accept: %s", strerror(errno));
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			sg_die("tcp-sink", "read at %llu: %s", (unsigned long long)off, strerror(errno));
		if (n == 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != sg_pattern(off + i) && !errors++)
				first_error = off + i;
		off += n;
	}
	printf("tcp-sink: done bytes=%llu errors=%llu first_error=%llu\n",
	       (unsigned long long)off, (unsigned long long)errors,
	       (unsigned long long)first_error);
	fflush(stdout);
	close(fd);
	close(lfd);
	return 0;
}
