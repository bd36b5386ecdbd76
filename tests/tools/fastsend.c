// SPDX-License-Identifier: MIT
/*
 * fastsend: the benchmarks' own sender. Sends the frames of a .sp file out
 * of one device, in file order, LOOPS times, as fast as the device takes
 * them: AF_XDP in copy mode (raw TX, the ceiling a replay is compared
 * with), or an AF_PACKET socket with PACKET_QDISC_BYPASS (sendmmsg).
 *   fastsend DEV FILE.sp [--loops K] [--packet]
 * Prints one line: "fastsend: done offered=N refused=R ns=T pps=P": N
 * frames handed to the device at P a second, of which R were dropped by
 * it (AF_XDP: EBUSY from the kick, one frame each; AF_PACKET: ENOBUFS,
 * not sent again).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <net/if.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <xdp/xsk.h>
#include "sp-format/sp.h"

#define FRAME_SIZE	4096
#define NUM_FRAMES	4096
#define RING		2048
#define BATCH		64

struct frames {
	uint8_t **data;
	uint32_t *len;
	size_t n;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int load(const char *path, struct frames *fr)
{
	struct sp_reader *r;
	struct sp_frame f;
	size_t cap = 0;
	int ret;

	if (sp_reader__open(&r, path, 0))
		return fprintf(stderr, "fastsend: %s\n", sp__errmsg()), -1;
	while ((ret = sp_reader__next(r, &f)) == 1) {
		if (f.cap_len > FRAME_SIZE)
			return fprintf(stderr, "fastsend: a frame of %u bytes (at most %d)\n", f.cap_len,
				       FRAME_SIZE), -1;
		if (fr->n == cap) {
			cap = cap ? 2 * cap : 1024;
			fr->data = realloc(fr->data, cap * sizeof(*fr->data));
			fr->len = realloc(fr->len, cap * sizeof(*fr->len));
			if (!fr->data || !fr->len)
				return fprintf(stderr, "fastsend: out of memory\n"), -1;
		}
		if (!(fr->data[fr->n] = malloc(f.cap_len)))
			return fprintf(stderr, "fastsend: out of memory\n"), -1;
		memcpy(fr->data[fr->n], f.data, f.cap_len);
		fr->len[fr->n++] = f.cap_len;
	}
	sp_reader__close(r);
	if (ret < 0 || !fr->n)
		return fprintf(stderr, "fastsend: %s: %s\n", path, ret < 0 ? sp__errmsg() : "no frames"), -1;
	return 0;
}

/* AF_XDP copy-mode TX: batches of BATCH descriptors, a kick each, the
 * completions reclaimed as they come. */
static int send_xdp(const char *dev, const struct frames *fr, uint64_t total, uint64_t *refused)
{
	struct xsk_socket_config cfg = {
		.rx_size = XSK_RING_CONS__DEFAULT_NUM_DESCS, .tx_size = RING,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD, .bind_flags = XDP_COPY,
	};
	struct xsk_umem_config ucfg = {
		.fill_size = XSK_RING_PROD__DEFAULT_NUM_DESCS, .comp_size = RING,
		.frame_size = FRAME_SIZE, .frame_headroom = 0,
	};
	/* Zeroed: libxdp leaves a ring's cached indexes as it finds them. */
	struct xsk_ring_prod fill = { 0 }, tx = { 0 };
	struct xsk_ring_cons comp = { 0 };
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	uint64_t sent = 0, done = 0, next = 0;
	void *area = mmap(NULL, (size_t)NUM_FRAMES * FRAME_SIZE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int ret;

	if (area == MAP_FAILED)
		return -ENOMEM;
	if ((ret = xsk_umem__create(&umem, area, (uint64_t)NUM_FRAMES * FRAME_SIZE, &fill, &comp, &ucfg)) ||
	    (ret = xsk_socket__create(&xsk, dev, 0, umem, NULL, &tx, &cfg)))
		return fprintf(stderr, "fastsend: %s: AF_XDP socket: %s\n", dev, strerror(-ret)), ret;
	while (done < total) {
		uint32_t idx, n = 0;

		if (sent < total && sent - done < RING - BATCH) {
			n = (uint32_t)(total - sent < BATCH ? total - sent : BATCH);
			n = xsk_ring_prod__reserve(&tx, n, &idx);
		}
		for (uint32_t i = 0; i < n; i++, sent++) {
			size_t k = sent % fr->n;
			uint64_t addr = (next++ % NUM_FRAMES) * FRAME_SIZE;

			memcpy((uint8_t *)area + addr, fr->data[k], fr->len[k]);
			xsk_ring_prod__tx_desc(&tx, idx + i)->addr = addr;
			xsk_ring_prod__tx_desc(&tx, idx + i)->len = fr->len[k];
		}
		if (n)
			xsk_ring_prod__submit(&tx, n);
		if (sendto(xsk_socket__fd(xsk), NULL, 0, MSG_DONTWAIT, NULL, 0) < 0) {
			if (errno == EBUSY)
				(*refused)++;	/* the device dropped one; its slot completes */
			else if (errno != EAGAIN && errno != ENOBUFS)
				return fprintf(stderr, "fastsend: send: %s\n", strerror(errno)), -errno;
		}
		uint32_t c = xsk_ring_cons__peek(&comp, RING, &idx);

		if (c) {
			xsk_ring_cons__release(&comp, c);
			done += c;
		}
	}
	xsk_socket__delete(xsk);
	xsk_umem__delete(umem);
	munmap(area, (size_t)NUM_FRAMES * FRAME_SIZE);
	return 0;
}

/* AF_PACKET, qdisc bypassed, sendmmsg of BATCH frames. */
static int send_packet(const char *dev, const struct frames *fr, uint64_t total, uint64_t *refused)
{
	struct sockaddr_ll sa = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
				  .sll_ifindex = (int)if_nametoindex(dev) };
	struct mmsghdr msg[BATCH];
	struct iovec iov[BATCH];
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0), one = 1;

	if (!sa.sll_ifindex)
		return fprintf(stderr, "fastsend: no device '%s'\n", dev), -ENODEV;
	if (fd < 0 || setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		return fprintf(stderr, "fastsend: packet socket: %s\n", strerror(errno)), -errno;
	for (uint64_t sent = 0; sent < total;) {
		int n = (int)(total - sent < BATCH ? total - sent : BATCH), got;

		for (int i = 0; i < n; i++) {
			size_t k = (sent + (uint64_t)i) % fr->n;

			iov[i] = (struct iovec){ fr->data[k], fr->len[k] };
			msg[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
		}
		got = sendmmsg(fd, msg, (unsigned)n, 0);
		if (got < 0) {
			if (errno != ENOBUFS)
				return fprintf(stderr, "fastsend: sendmmsg: %s\n", strerror(errno)), -errno;
			(*refused)++;	/* the first of the batch was dropped */
			got = 1;
		}
		sent += (uint64_t)got;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct frames fr = { 0 };
	uint64_t loops = 1, refused = 0, t0, t1, total;
	int packet = 0, ret;

	if (argc < 3)
		return fprintf(stderr, "usage: fastsend DEV FILE.sp [--loops K] [--packet]\n"), 2;
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--loops") && i + 1 < argc)
			loops = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--packet"))
			packet = 1;
		else
			return fprintf(stderr, "fastsend: bad argument '%s'\n", argv[i]), 2;
	}
	if (!loops || load(argv[2], &fr))
		return 1;
	total = loops * fr.n;
	t0 = now_ns();
	ret = packet ? send_packet(argv[1], &fr, total, &refused) : send_xdp(argv[1], &fr, total, &refused);
	t1 = now_ns();
	if (ret)
		return 1;
	printf("fastsend: done offered=%llu refused=%llu ns=%llu pps=%.0f\n", (unsigned long long)total,
	       (unsigned long long)refused, (unsigned long long)(t1 - t0), (double)total * 1e9 / (double)(t1 - t0));
	return 0;
}
