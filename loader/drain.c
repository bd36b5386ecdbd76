// SPDX-License-Identifier: MIT
/* The frame ring into a .sp file, while the host holds: capacity is disk. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "loader/internal.h"
#include "sp-format/sp.h"

struct drain_ctx {
	struct sp_writer *w;
	uint32_t ifindex[1024];
	uint32_t n_if;
	uint64_t frames, bytes;
	uint64_t taken;		/* from the ring, stored or not */
	uint64_t discarded;	/* of devices detached with --force */
	int64_t real_off;	/* CLOCK_REALTIME - CLOCK_MONOTONIC, read per batch */
	int err;
	uint8_t buf[STASIS_MAX_FRAME];
};

static int on_frame(void *ctx, void *data, size_t size)
{
	struct drain_ctx *c = ctx;
	const struct stasis_frame_hdr *h = data;
	struct sp_frame f;
	uint32_t i;

	c->taken++;
	if (size < sizeof(*h) || h->cap_len > size - sizeof(*h)) {
		c->err = -EBADMSG;
		return -EBADMSG;
	}
	for (i = 0; i < c->n_if && c->ifindex[i] != h->ifindex; i++)
		;
	if (i == c->n_if) {
		/* Its device was detached with --force, which lets its held
		 * frames go (a plain detach is refused while frames are held). */
		c->discarded++;
		return 0;
	}
	/* Frames at egress may carry a partial checksum that the device (or
	 * the peer) would complete (CHECKSUM_PARTIAL; BPF cannot tell): store
	 * them as they would leave the host, those checksums completed. */
	uint8_t *bytes = c->buf;	/* the ring is mapped read-only */

	if (h->cap_len > sizeof(c->buf)) {
		c->err = -E2BIG;
		return -E2BIG;
	}
	memcpy(bytes, (const uint8_t *)data + sizeof(*h), h->cap_len);
	sp__complete_partial(bytes, h->cap_len);
	f = (struct sp_frame){
		.seq = h->seq, .ts_ns = (uint64_t)((int64_t)h->ts_ns + c->real_off), .iface = i,
		.dir = h->dir ? SP_DIR_IN : SP_DIR_OUT, .flags = h->gso_size ? SP_F_GSO : 0,
		.orig_len = h->orig_len, .cap_len = h->cap_len, .data = bytes,
	};
	c->err = sp_writer__frame(c->w, &f);
	if (c->err)
		return c->err;
	c->frames++;
	c->bytes += h->cap_len;
	return 0;
}

static int on_discard(void *ctx, void *data, size_t size)
{
	(void)data;
	(void)size;
	(*(uint64_t *)ctx)++;
	return 0;
}

int64_t loader__discard(struct loader *l)
{
	struct ring_buffer *rb;
	uint64_t n = 0;
	int r;

	if (!(rb = ring_buffer__new(l->ring, on_discard, &n, NULL)))
		return -errno;
	r = ring_buffer__consume(rb);
	ring_buffer__free(rb);
	counter_add(l, STASIS_CNT_DISCARDED, n);
	return r < 0 ? r : (int64_t)n;
}

int64_t loader__drain(struct loader *l, const char *path, const struct loader_drain_opts *opts)
{
	char *err = loader_err();
	struct loader_drain_opts o;
	struct drain_ctx *c = NULL;
	struct loader_dev *devs = calloc(1024, sizeof(*devs));
	struct sp_iface *ifs = calloc(1024, sizeof(*ifs));
	struct sp_header h = { 0 };
	struct stasis_host host;
	struct ring_buffer *rb = NULL;
	size_t n = 1024;
	int64_t ret;

	if (UTIL_OPTS_LOAD(o, opts)) {
		free(devs);
		free(ifs);
		snprintf(err, LOADER_ERR_MAX, "loader_drain_opts: bad sz %zu", opts->sz);
		return -EINVAL;
	}
	if (!(c = calloc(1, sizeof(*c))) || !devs || !ifs) {
		ret = -ENOMEM;
		goto out;
	}
	if ((ret = loader__devs(l, devs, &n)) || (ret = loader__host(l, &host)))
		goto out;
	for (size_t i = 0; i < n; i++) {
		c->ifindex[i] = devs[i].ifindex;
		ifs[i].ifindex = devs[i].ifindex;
		memcpy(ifs[i].mac, devs[i].mac, 6);
		ifs[i].role = devs[i].role == STASIS_ROLE_TAP ? SP_ROLE_TAP : SP_ROLE_UPLINK;
		snprintf(ifs[i].name, sizeof(ifs[i].name), "%s", devs[i].name);
	}
	c->n_if = (uint32_t)n;
	h.epoch = o.epoch ? o.epoch : host.epoch;
	h.created_ns = loader__ktime_to_real(host.hold_ns);
	if (o.host)
		snprintf(h.host, sizeof(h.host), "%s", o.host);
	else
		gethostname(h.host, sizeof(h.host) - 1);
	snprintf(h.tool, sizeof(h.tool), "stasis %s", STASIS_VERSION);
	if ((ret = sp_writer__open(&c->w, path, &h, ifs, c->n_if))) {
		snprintf(err, LOADER_ERR_MAX, "%s: %s", path, strerror((int)-ret));
		goto out;
	}
	rb = ring_buffer__new(l->ring, on_frame, c, NULL);
	if (!rb) {
		ret = -errno;
		snprintf(err, LOADER_ERR_MAX, "cannot read the frame ring: %s", strerror(errno));
		goto out;
	}
	for (;;) {
		int r;

		/* The clocks' offset once a batch, not twice a frame: it moves
		 * only when the wall clock is set or slewed. */
		c->real_off = loader__real_offset();
		r = o.follow ? ring_buffer__poll(rb, DRAIN_POLL_MS) : ring_buffer__consume(rb);

		if (r < 0 && r != -EINTR) {
			ret = c->err ? c->err : r;
			snprintf(err, LOADER_ERR_MAX, "draining the ring into %s: %s (%llu frames taken "
				 "from the ring are lost: counted as drop_drain)", path,
				 strerror((int)-ret), (unsigned long long)(c->taken - c->discarded));
			goto out;
		}
		if (o.progress && r > 0)
			o.progress(c->frames, c->bytes, o.ctx);
		if (!o.follow)
			break;
		if ((o.stop && *o.stop) || (!loader__host(l, &host) && host.state == STASIS_PASS)) {
			ring_buffer__consume(rb);	/* what came in before the stop */
			break;
		}
	}
	if ((ret = sp_writer__close(c->w))) {
		c->w = NULL;
		snprintf(err, LOADER_ERR_MAX, "%s: %s (%llu frames taken from the ring are lost: "
			 "counted as drop_drain)", path, strerror((int)-ret),
			 (unsigned long long)(c->taken - c->discarded));
		goto out;
	}
	c->w = NULL;
	ret = (int64_t)c->frames;
out:
	/* Every frame taken from the ring is stored, or counted. */
	if (c && ret < 0)
		counter_add(l, STASIS_CNT_DROP_DRAIN, c->taken - c->discarded);
	if (c)
		counter_add(l, STASIS_CNT_DISCARDED, c->discarded);
	if (c && c->w)
		sp_writer__discard(c->w);
	ring_buffer__free(rb);
	free(c);
	free(devs);
	free(ifs);
	return ret;
}
