// SPDX-License-Identifier: MIT
/*
 * Replay: held frames back onto their own devices with AF_XDP (copy mode),
 * which bypasses TC egress, so a replayed frame is not held again. The host
 * is in REPLAY meanwhile: new frames are held behind the replayed ones and
 * sent after them. Then REPLAY_LAST: the BPF program itself lets the first
 * frame that finds no held frame unsent switch the host to PASS, or we do
 * when no frame comes, so no frame overtakes one that waits (see
 * stasis_host.gate).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/xsk.h>
#include "loader/internal.h"
#include "sp-format/sp.h"

#define FRAME_SIZE	4096		/* umem chunk: AF_XDP's largest aligned frame */
#define NUM_FRAMES	1024		/* > XTX_INFLIGHT + a batch: a chunk is reused only once completed */
#define RING_SIZE	2048
#define XTX_BATCH	32	/* frames a kick */
#define XTX_INFLIGHT	256	/* handed to the kernel, not yet completed */

struct xtx {
	uint32_t ifindex;
	char name[IF_NAMESIZE];
	void *area;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill, tx;
	struct xsk_ring_cons comp;
	uint32_t next, outstanding, mtu;
	uint32_t batched;	/* frames submitted since the last kick */
	uint64_t dropped0;
	uint64_t retried;	/* packet socket: sends the device refused, sent again */
};

/*
 * Frames for a tun device (a VM's tap), and every frame of a replay of few
 * (a fuzz case: one frame and what the VMs sent meanwhile), go out through
 * one AF_PACKET socket with PACKET_QDISC_BYPASS instead: its frames take
 * the same direct path to the driver as AF_XDP's copy mode (no qdisc, no
 * TC egress: they are not held again), and the socket, bound to no device
 * and receiving nothing (protocol 0), is opened once and kept: no
 * per-replay set-up and tear-down (a UMEM registered and released, each
 * close waiting for an RCU grace period), and nothing bound to a tap whose
 * QEMU restarts.
 *
 * Above all, a send on it tells when the device could not take the frame:
 * a tap whose queue is full (its QEMU has not read the frames before: the
 * guest's receive ring is full, or the VM is paused) drops it and says so
 * (NET_XMIT_DROP, ENOBUFS here), where an AF_XDP send completes the frame
 * all the same. The frame is sent again until the device takes it, so a
 * replay into a guest goes as fast as the guest takes frames, none lost,
 * with no pace to guess.
 */
#define SMALL_REPLAY 256	/* file frames */
#define DEVICE_FULL_LIMIT_NS 10000000000ull	/* a device that takes nothing this long */

/* Kept with the loader from its first replay to loader__close, for the
 * next (the fuzz loop replays once per case): the ring's mapping and the
 * host entry's. The AF_XDP sockets live for one replay (see the end of
 * loader__replay). */
struct replay {
	struct loader *l;
	/* One allocation per device: libxdp keeps pointers to the rings in
	 * struct xtx (umem fill/comp, socket tx) until they are deleted, so
	 * an xtx must never move (a realloc'd array did: libxdp then unmapped
	 * the wrong addresses, the socket lived on in its leaked mappings,
	 * and the next bind on that device failed with EBUSY). */
	struct xtx **tx;
	size_t n_tx;
	struct loader_replay_opts o;	/* this replay's */
	uint64_t t0, sent, total, first_ts, start_ns;
	uint64_t counted;		/* sent frames counted in host->pending */
	uint64_t seq0;			/* first sequence number of this replay */
	uint32_t attached[1024];	/* the devices attached when it began */
	size_t n_attached;
	uint64_t discarded;		/* ring frames of devices detached since */
	struct stasis_host *host;	/* mapped */
	struct ring_buffer *rb;
	char *err;
	bool small;			/* this replay on the packet socket */
	int pkt_fd;			/* that socket, -1 until opened */
	uint8_t buf[STASIS_MAX_FRAME];
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_until(uint64_t t)
{
	struct timespec ts = { .tv_sec = (time_t)(t / 1000000000ull), .tv_nsec = (long)(t % 1000000000ull) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static int xtx_open(struct xtx *x, char *err)
{
	struct xsk_socket_config cfg = {
		.rx_size = XSK_RING_CONS__DEFAULT_NUM_DESCS, .tx_size = RING_SIZE,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,	/* TX only: no XDP program */
		.bind_flags = XDP_COPY,
	};
	struct xsk_umem_config ucfg = {
		.fill_size = XSK_RING_PROD__DEFAULT_NUM_DESCS, .comp_size = RING_SIZE,
		.frame_size = FRAME_SIZE, .frame_headroom = 0,
	};
	int ret;

	x->area = mmap(NULL, (size_t)NUM_FRAMES * FRAME_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (x->area == MAP_FAILED) {
		x->area = NULL;
		return -ENOMEM;
	}
	ret = xsk_umem__create(&x->umem, x->area, (uint64_t)NUM_FRAMES * FRAME_SIZE, &x->fill,
			       &x->comp, &ucfg);
	if (!ret)
		ret = xsk_socket__create(&x->xsk, x->name, 0, x->umem, NULL, &x->tx, &cfg);
	if (ret)
		snprintf(err, LOADER_ERR_MAX, "%s: AF_XDP socket: %s", x->name, strerror(-ret));
	return ret;
}

static void xtx_close(struct xtx *x)
{
	if (x->xsk)
		xsk_socket__delete(x->xsk);
	if (x->umem)
		xsk_umem__delete(x->umem);
	if (x->area)
		munmap(x->area, (size_t)NUM_FRAMES * FRAME_SIZE);
}

static void reclaim(struct xtx *x)
{
	uint32_t idx, n = xsk_ring_cons__peek(&x->comp, RING_SIZE, &idx);

	if (n) {
		xsk_ring_cons__release(&x->comp, n);
		x->outstanding -= n;
	}
}

static int kick(struct xtx *x)
{
	if (sendto(xsk_socket__fd(x->xsk), NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 &&
	    errno != EAGAIN && errno != EBUSY && errno != ENOBUFS)
		return -errno;
	return 0;
}

/* Kick and collect completions until fewer than @limit frames handed to
 * the kernel are not completed yet. */
static int wait_below(struct xtx *x, uint32_t limit)
{
	for (int spins = 0; x->outstanding >= limit; spins++) {
		int err = kick(x);

		if (err)
			return err;
		reclaim(x);
		if (spins > 100000)
			return -ETIMEDOUT;
		if (x->outstanding >= limit && spins > 100)
			usleep(50);
	}
	return 0;
}

/* Wait until every frame handed to the kernel is completed. */
static int flush(struct xtx *x)
{
	return wait_below(x, 1);
}

static int pkt_open(struct replay *r)
{
	int fd, one = 1;

	if (r->pkt_fd >= 0)
		return 0;
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	r->pkt_fd = fd;
	return 0;
}

/* One frame through the packet socket. A full device queue refuses it
 * (ENOBUFS, counted in tx_dropped): it is sent again once the device has
 * had a moment to take frames, and the refusal is not reported as a loss.
 * A device that takes nothing for DEVICE_FULL_LIMIT_NS fails the send. */
static int pkt_send(struct replay *r, struct xtx *x, const uint8_t *data, uint32_t len)
{
	struct sockaddr_ll sa = { .sll_family = AF_PACKET, .sll_ifindex = (int)x->ifindex,
				  .sll_halen = ETH_ALEN };
	uint64_t since = 0;

	if (len >= ETH_HLEN) {
		memcpy(sa.sll_addr, data, ETH_ALEN);
		memcpy(&sa.sll_protocol, data + 12, 2);
	}
	for (;;) {
		if (sendto(r->pkt_fd, data, len, 0, (struct sockaddr *)&sa, sizeof(sa)) ==
		    (ssize_t)len)
			return 0;
		if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (errno == ENOBUFS)
			x->retried++;
		if (!since)
			since = now_ns();
		else if (now_ns() - since > DEVICE_FULL_LIMIT_NS) {
			snprintf(r->err, LOADER_ERR_MAX, "%s: the device took no frame for %llu s (its "
				 "queue stayed full: is the VM behind it running?)", x->name,
				 DEVICE_FULL_LIMIT_NS / 1000000000ull);
			return -ENOBUFS;
		}
		usleep(50);
	}
}

static int xtx_send(struct xtx *x, const uint8_t *data, uint32_t len)
{
	uint32_t idx;

	while (x->outstanding >= NUM_FRAMES - 1 || xsk_ring_prod__reserve(&x->tx, 1, &idx) != 1) {
		int err = kick(x);

		if (err)
			return err;
		reclaim(x);
	}
	uint64_t addr = (uint64_t)(x->next++ % NUM_FRAMES) * FRAME_SIZE;

	memcpy((uint8_t *)x->area + addr, data, len);
	xsk_ring_prod__tx_desc(&x->tx, idx)->addr = addr;
	xsk_ring_prod__tx_desc(&x->tx, idx)->len = len;
	xsk_ring_prod__submit(&x->tx, 1);
	x->outstanding++;
	/* A kick a batch (copy mode sends at most 32 a call), and never more
	 * than XTX_INFLIGHT frames handed over and not yet completed: the
	 * next batch is queued while the kernel sends this one, yet a peer's
	 * backlog (1000 frames) never sees a longer burst than that. */
	if (++x->batched < XTX_BATCH)
		return 0;
	x->batched = 0;
	int err = kick(x);

	reclaim(x);
	return err ? err : wait_below(x, XTX_INFLIGHT);
}

static struct xtx *tx_for(struct replay *r, uint32_t ifindex, const char *name)
{
	for (size_t i = 0; i < r->n_tx; i++)
		if (r->tx[i]->ifindex == ifindex)
			return r->tx[i];
	struct xtx **n = realloc(r->tx, (r->n_tx + 1) * sizeof(*n));

	if (!n)
		return NULL;
	r->tx = n;
	struct xtx *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	x->ifindex = ifindex;
	/* The device is looked up once, when its socket opens. */
	struct link_info li;

	if (link_info(ifindex, &li))
		snprintf(li.name, sizeof(li.name), "ifindex %u", ifindex);
	snprintf(x->name, sizeof(x->name), "%s", name ? name : li.name);
	x->dropped0 = li.tx_dropped;
	x->mtu = li.mtu;
	/* A tun device, not what it was attached as: a veth (attached as a
	 * tap or not) rarely drops, its peer's backlog being taken by the
	 * sending CPU itself, and AF_XDP's batches cost less a frame than
	 * one send each. */
	if (r->small || li.tun) {
		int e = pkt_open(r);

		if (e) {
			snprintf(r->err, LOADER_ERR_MAX, "packet socket: %s", strerror(-e));
			free(x);
			return NULL;
		}
	} else if (xtx_open(x, r->err)) {
		xtx_close(x);
		free(x);
		return NULL;
	}
	r->tx[r->n_tx] = x;
	r->n_tx++;
	return x;
}

static int send_one(struct replay *r, uint32_t ifindex, const char *name, const uint8_t *data,
		    uint32_t len, uint64_t ts);
static int flush_all(struct replay *r);

struct seg_ctx {
	struct replay *r;
	uint32_t ifindex;
	const char *name;
	uint64_t ts;
};

static int send_seg(const uint8_t *seg, uint32_t len, void *ctx)
{
	struct seg_ctx *c = ctx;

	return send_one(c->r, c->ifindex, c->name, seg, len, c->ts);
}

static int send_one(struct replay *r, uint32_t ifindex, const char *name, const uint8_t *data,
		    uint32_t len, uint64_t ts)
{
	struct xtx *x = tx_for(r, ifindex, name);
	int err;

	if (!x)
		return r->err[0] ? -EIO : -ENOMEM;
	name = x->name;
	if (len > FRAME_SIZE || len > x->mtu + 18) {
		/* A GSO super-frame, held before the stack cut it: cut it here,
		 * to the device's MTU (and AF_XDP's frame size). */
		struct seg_ctx c = { r, ifindex, name, ts };
		uint32_t mtu = x->mtu < FRAME_SIZE - 18 ? x->mtu : FRAME_SIZE - 18;

		err = sp__segment_tcp(data, len, mtu, send_seg, &c);
		if (err == -EPROTONOSUPPORT || err == -EINVAL)
			snprintf(r->err, LOADER_ERR_MAX, "frame of %u bytes for %s (MTU %u): only TCP/IPv4 "
				 "super-frames can be cut into segments", len, name, x->mtu);
		return err;
	}
	uint64_t due = 0;

	if (r->o.spacing && ts) {
		if (!r->first_ts)
			r->first_ts = ts, r->start_ns = now_ns();
		else if (ts > r->first_ts)
			due = r->start_ns + (ts - r->first_ts);
	} else if (r->o.rate_pps) {
		due = r->t0 + r->sent * 1000000000ull / r->o.rate_pps;
	}
	/* Before waiting, what is queued goes out: sends are batched (a kick
	 * every 32 frames), and a batch held back across the waits would
	 * leave all at once at the end, gaps gone. */
	if (due && due > now_ns()) {	/* no clock read for an unpaced frame */
		if ((err = flush_all(r)))
			return err;
		sleep_until(due);
	}
	if ((err = x->xsk ? xtx_send(x, data, len) : pkt_send(r, x, data, len))) {
		if (!r->err[0])
			snprintf(r->err, LOADER_ERR_MAX, "%s: transmit failed: %s", name, strerror(-err));
		return err;
	}
	r->sent++;
	if (r->o.progress && r->sent % 10000 == 0)
		r->o.progress(r->sent, r->total, r->o.ctx);
	return 0;
}

static int on_ring_frame(void *ctx, void *data, size_t size)
{
	struct replay *r = ctx;
	const struct stasis_frame_hdr *h = data;

	if (size < sizeof(*h) || h->cap_len > size - sizeof(*h))
		return -EBADMSG;
	if (h->cap_len > sizeof(r->buf))
		return -E2BIG;
	/* A device detached with --force let its held frames go (drain skips
	 * them too); the uncounting of pending still applies. */
	bool attached = false;

	for (size_t i = 0; i < r->n_attached && !attached; i++)
		attached = r->attached[i] == h->ifindex;
	if (!attached) {
		r->discarded++;
		if ((h->flags & STASIS_FRAME_COUNTED) && h->seq >= r->seq0)
			r->counted++;
		return 0;
	}
	/* As at drain: complete the checksums the device would have completed
	 * (on a copy: the ring is mapped read-only). */
	memcpy(r->buf, (const uint8_t *)data + sizeof(*h), h->cap_len);
	sp__complete_partial(r->buf, h->cap_len);
	int err = send_one(r, h->ifindex, NULL, r->buf, h->cap_len, 0);

	/* Counted by this replay: not a frame left in the ring by one that
	 * failed (its count was cleared when this one began). */
	if (!err && (h->flags & STASIS_FRAME_COUNTED) && h->seq >= r->seq0)
		r->counted++;
	return err;
}

/* Frames are uncounted only once they are on the wire (flushed). */
static int flush_all(struct replay *r)
{
	int err = 0;

	for (size_t i = 0; i < r->n_tx; i++) {
		int e = flush(r->tx[i]);

		if (e && !err)
			err = e;
	}
	if (!err && r->counted) {
		__atomic_fetch_sub(&r->host->gate, r->counted * STASIS_PENDING_ONE, __ATOMIC_ACQ_REL);
		r->counted = 0;
	}
	return err;
}

static int drain_ring(struct replay *r, struct ring_buffer *rb, uint64_t *count)
{
	for (;;) {
		uint64_t before = r->sent;
		int n = ring_buffer__consume(rb), err = flush_all(r);

		if (n < 0)
			return n;
		if (err)
			return err;
		*count += r->sent - before;
		if (n == 0)
			return 0;
	}
}

/* REPLAY_LAST, keeping the count of what is pending. */
static void set_last(struct stasis_host *h)
{
	uint64_t g = __atomic_load_n(&h->gate, __ATOMIC_ACQUIRE);

	while (!__atomic_compare_exchange_n(&h->gate, &g, (g & ~0xffffffffull) | STASIS_REPLAY_LAST,
					    false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		;
}

/* Send what is pending until the host is in PASS: switched by a frame in
 * BPF, or here when nothing is pending and no frame came. A frame counted
 * but not yet in the ring is waited for (it is being copied on another
 * CPU); one that never shows up within the limit is reported. */
static int finish(struct replay *r, struct ring_buffer *rb, uint64_t *count)
{
	uint64_t idle_since;
	int err;

	/* First what the ring holds from before this replay (frames held
	 * after a drain without --follow ended): they are not counted in
	 * pending, so in REPLAY_LAST the next new frame would find nothing
	 * pending and pass them. */
	if ((err = drain_ring(r, rb, count)))
		return err;
	idle_since = now_ns();
	set_last(r->host);
	for (;;) {
		uint64_t before = *count, g;

		if ((err = drain_ring(r, rb, count)))
			return err;
		g = __atomic_load_n(&r->host->gate, __ATOMIC_ACQUIRE);
		if ((uint32_t)g == STASIS_PASS)
			return 0;
		if ((uint32_t)g != STASIS_REPLAY_LAST) {
			snprintf(r->err, LOADER_ERR_MAX, "replay: the host state was changed to %u "
				 "meanwhile", (uint32_t)g);
			return -ECANCELED;
		}
		if (g == STASIS_REPLAY_LAST &&
		    __atomic_compare_exchange_n(&r->host->gate, &g, (uint64_t)STASIS_PASS, false,
						__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			return 0;
		if (*count != before)
			idle_since = now_ns();
		else if (now_ns() - idle_since > 5000000000ull) {
			snprintf(r->err, LOADER_ERR_MAX, "replay: %u held frames never reached the "
				 "ring", (uint32_t)(g >> 32));
			return -ETIMEDOUT;
		}
		ring_buffer__poll(rb, 1);
	}
}

static void close_sockets(struct replay *r)
{
	for (size_t i = 0; i < r->n_tx; i++) {
		xtx_close(r->tx[i]);
		free(r->tx[i]);
	}
	free(r->tx);
	r->tx = NULL;
	r->n_tx = 0;
}

void replay_free(struct replay *r)
{
	if (!r)
		return;
	close_sockets(r);
	if (r->pkt_fd >= 0)
		close(r->pkt_fd);
	ring_buffer__free(r->rb);
	host_unmap(r->host);
	free(r);
}

int loader__replay(struct loader *l, const char *path, const struct loader_replay_opts *opts,
		   struct loader_replay_result *res)
{
	char *err = loader_err();
	struct loader_replay_opts o;
	struct replay *r = l->replay;
	struct sp_reader *rd = NULL;
	struct stasis_host h;
	struct sp_frame f;
	uint32_t *ifmap = NULL;
	uint64_t total = 0;
	int ret;

	memset(res, 0, sizeof(*res));
	err[0] = 0;
	if (UTIL_OPTS_LOAD(o, opts)) {
		snprintf(err, LOADER_ERR_MAX, "loader_replay_opts: bad sz %zu", opts->sz);
		return -EINVAL;
	}
	/* Validate the whole file before the host changes state. */
	if ((ret = sp_reader__open(&rd, path, 0)))
		return snprintf(err, LOADER_ERR_MAX, "%s", sp__errmsg()), ret;
	while ((ret = sp_reader__next(rd, &f)) == 1)
		total++;
	if (ret < 0) {
		snprintf(err, LOADER_ERR_MAX, "%s", sp__errmsg());
		sp_reader__close(rd);
		return ret;
	}
	sp_reader__close(rd);
	if ((ret = sp_reader__open(&rd, path, 0)))
		return snprintf(err, LOADER_ERR_MAX, "%s", sp__errmsg()), ret;
	ifmap = calloc(sp_reader__iface_count(rd) + 1, sizeof(*ifmap));
	if (!ifmap) {
		ret = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < sp_reader__iface_count(rd); i++) {
		const char *name = sp_reader__iface(rd, i)->name;

		if (link_by_name(name, &ifmap[i], NULL)) {
			snprintf(err, LOADER_ERR_MAX, "%s: device '%s' of the file is not in this "
				 "network namespace", path, name);
			ret = -ENODEV;
			goto out;
		}
	}
	if (!r) {
		if (!(r = calloc(1, sizeof(*r)))) {
			ret = -ENOMEM;
			goto out;
		}
		r->l = l;
		r->pkt_fd = -1;
		l->replay = r;
	}
	r->o = o;
	r->err = err;
	r->total = total;
	r->small = total <= SMALL_REPLAY;
	r->sent = r->counted = r->first_ts = r->start_ns = r->discarded = 0;
	r->n_attached = 0;
	for (uint32_t key, next, *prev = NULL; r->n_attached < 1024 &&
	     !bpf_map_get_next_key(l->devs, prev, &next); prev = &key) {
		key = next;
		r->attached[r->n_attached++] = key;
	}
	if (!r->host && !(r->host = host_map(l))) {
		ret = -errno;
		goto out;
	}
	if (!r->rb && !(r->rb = ring_buffer__new(l->ring, on_ring_frame, r, NULL))) {
		ret = -errno;
		goto out;
	}
	/* tx_dropped is counted from here, on the sockets kept from before too. */
	for (size_t i = 0; i < r->n_tx; i++)
		link_by_index(r->tx[i]->ifindex, NULL, 0, NULL, &r->tx[i]->dropped0);
	if ((ret = loader__host(l, &h)))
		goto out;
	r->seq0 = h.seq;
	if ((ret = loader__set_state(l, STASIS_REPLAY, h.epoch)))
		goto out;
	r->t0 = now_ns();
	while ((ret = sp_reader__next(rd, &f)) == 1) {
		ret = send_one(r, ifmap[f.iface], sp_reader__iface(rd, f.iface)->name, f.data,
			       f.cap_len, f.ts_ns);
		if (ret)
			goto out;
	}
	if (ret < 0) {
		snprintf(err, LOADER_ERR_MAX, "%s", sp__errmsg());
		goto out;
	}
	if ((ret = flush_all(r)))
		goto out;
	res->file_frames = r->sent;
	/* What arrived meanwhile, then the switch to PASS. */
	ret = finish(r, r->rb, &res->ring_frames);
out:
	if (ret && !err[0])
		snprintf(err, LOADER_ERR_MAX, "replay: %s", strerror(-ret));
	for (size_t i = 0; r && i < r->n_tx; i++) {
		uint64_t d = 0;

		if (r->tx[i]->xsk)
			flush(r->tx[i]);
		if (!link_by_index(r->tx[i]->ifindex, NULL, 0, NULL, &d) &&
		    d - r->tx[i]->dropped0 > r->tx[i]->retried)
			res->tx_dropped += d - r->tx[i]->dropped0 - r->tx[i]->retried;
		res->resent += r->tx[i]->retried;
	}
	if (r && r->sent)
		counter_add(l, STASIS_CNT_REPLAYED, r->sent);
	if (r && r->discarded)
		counter_add(l, STASIS_CNT_DISCARDED, r->discarded);
	/* AF_XDP sockets are not kept: with one left bound to a tap,
	 * restarting the QEMU behind that tap took ~50 ms longer here, more
	 * than the socket's set-up and close (~60 ms a replay) saved in the
	 * fuzz loop; a small replay has used the kept packet socket instead. */
	if (r)
		close_sockets(r);
	sp_reader__close(rd);
	free(ifmap);
	return ret;
}
