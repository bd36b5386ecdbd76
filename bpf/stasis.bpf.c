// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * stasis BPF programs. Built with clang -target bpf from UAPI headers only (no
 * vmlinux.h), so the object does not depend on the build host's kernel BTF.
 *
 * stasis_tc_egress, on the egress of every tap (toward a guest) and uplink
 * (toward another host): in PASS it lets frames go (after checking
 * to-guest triggers); in HOLD and REPLAY it copies every frame into the ring
 * buffer with a header and drops it, or counts why it could not.
 * stasis_xdp, on every tap (frames a guest sends): checks from-guest
 * triggers, so a trigger frame flips the host to HOLD before it is forwarded
 * and is then itself held at its delivery point.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "bpf/stasis_maps.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Mmapable, so userspace changes state and epoch with plain atomic stores
 * and never writes back a stale copy of seq. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct stasis_host);
} host SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STASIS_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct stasis_dev_stats);
} devstats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct stasis_dev);
} devs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, STASIS_MAX_TRIGGERS);
	__type(key, __u32);
	__type(value, struct stasis_trigger);
} triggers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 1024);
	__type(value, struct stasis_event);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096 * 4);
} evring SEC(".maps");

/* The frame ring; its size is set by the loader before load. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 << 20);
} ring SEC(".maps");

/* Per-CPU scratch for header + frame (per-CPU values are capped at 32 KiB,
 * so a plain array indexed by CPU; entries = possible CPUs, set by the loader). */
struct scratch {
	struct stasis_frame_hdr hdr;
	__u8 data[STASIS_MAX_FRAME];
};
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

static __always_inline void count(__u32 reason)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &reason);

	if (c)
		(*c)++;	/* per-CPU slot: no atomics needed */
}

static __always_inline struct stasis_dev_stats *dev_stats(__u32 ifindex)
{
	return bpf_map_lookup_elem(&devstats, &ifindex);
}

/*
 * A length already checked to be in 1..max (max a power of two), computed
 * again as ((len - 1) & (max - 1)) + 1: the same value, in a form whose
 * range every supported verifier can follow. clang compiles the check
 * `len < 1 || len > max` to `if len == 0 goto skip; if len > max goto skip`,
 * and Linux 6.1's verifier learns nothing from a failed `== 0` (newer ones
 * raise the minimum to 1), so len stays [0, max] for it and a helper that
 * must not read zero bytes is refused ("invalid zero-sized read"). A mask
 * and an add give [1, max] on any verifier. The barrier keeps clang from
 * folding them away (it knows the check made them a no-op). Use it right
 * before each use: between two helper calls 6.1 lost the bound of a
 * length clang had kept on the stack ("unbounded memory access").
 */
_Static_assert((STASIS_MAX_FRAME & (STASIS_MAX_FRAME - 1)) == 0 &&
	       (STASIS_TRIG_BYTES & (STASIS_TRIG_BYTES - 1)) == 0,
	       "verifier_len masks: the limits must be powers of two");

static __always_inline __u32 verifier_len(__u32 len, __u32 max)
{
	barrier_var(len);
	return ((len - 1) & (max - 1)) + 1;
}

static __always_inline int window_match(const struct stasis_trigger *t, const __u8 *w)
{
	for (int j = 0; j < STASIS_TRIG_BYTES; j++) {
		if (j >= t->len)
			break;
		if ((w[j] & t->mask[j]) != (t->bytes[j] & t->mask[j]))
			return 0;
	}
	return 1;
}

/* A trigger fired: HOLD (if in PASS), an event in the queue and on evring. */
static __always_inline void fire(struct stasis_host *h, struct stasis_trigger *t, __u32 id,
				 __u32 ifindex, __u32 dir)
{
	struct stasis_event ev = { .ts_ns = bpf_ktime_get_ns(), .trigger = id,
				   .ifindex = ifindex, .dir = dir };

	__sync_fetch_and_add(&t->hits, 1);
	if (t->flags & STASIS_TRIG_ONCE)
		t->active = 0;
	if (__sync_val_compare_and_swap(&h->state, STASIS_PASS, STASIS_HOLD) == STASIS_PASS) {
		ev.epoch = __sync_add_and_fetch(&h->epoch, 1);
		h->hold_ns = ev.ts_ns;
		ev.held = 1;
	} else {
		ev.epoch = h->epoch;
	}
	count(STASIS_CNT_TRIGGERS);
	if (bpf_map_push_elem(&events, &ev, 0))
		count(STASIS_CNT_DROP_EVENT);
	bpf_ringbuf_output(&evring, &ev, sizeof(ev), BPF_RB_FORCE_WAKEUP);
}

static __always_inline void check_triggers_skb(struct stasis_host *h, struct __sk_buff *skb)
{
	__u8 w[STASIS_TRIG_BYTES];

	for (int i = 0; i < STASIS_MAX_TRIGGERS; i++) {
		__u32 key = i;	/* the loop variable stays in a register */
		struct stasis_trigger *t = bpf_map_lookup_elem(&triggers, &key);

		if (!t || !t->active || !(t->dirs & STASIS_TDIR_TO_GUEST) ||
		    (t->ifindex && t->ifindex != skb->ifindex))
			continue;
		__u32 len = t->len;

		if (len < 1 || len > STASIS_TRIG_BYTES)
			continue;
		len = verifier_len(len, STASIS_TRIG_BYTES);
		if (bpf_skb_load_bytes(skb, t->offset & 0xffff, w, len))
			continue;
		if (window_match(t, w))
			fire(h, t, i, skb->ifindex, STASIS_TDIR_TO_GUEST);
	}
}

/* Whether this frame wakes the drain. Held frames wait anyway, so the drain
 * is woken only once the ring is 1/2^STASIS_WAKE_SHIFT full and otherwise
 * finds them when its poll times out (DRAIN_POLL_MS): a wakeup per batch
 * instead of one whenever the drain had caught up, which under a flood was
 * thousands a second, each a switch of the CPU the frames arrive on. */
static __always_inline __u64 ring_wakeup(void)
{
	__u64 avail = bpf_ringbuf_query(&ring, BPF_RB_AVAIL_DATA);

	return avail >= bpf_ringbuf_query(&ring, BPF_RB_RING_SIZE) >> STASIS_WAKE_SHIFT ?
	       BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

/* Copies the frame into the ring: 0, or -1 when it could not (counted). */
static __always_inline int hold_frame(struct stasis_host *h, struct __sk_buff *skb,
				      struct stasis_dev_stats *ds, __u8 flags)
{
	__u32 cpu = bpf_get_smp_processor_id(), len = skb->len;
	struct scratch *s = bpf_map_lookup_elem(&scratch, &cpu);

	if (len > STASIS_MAX_FRAME) {
		count(STASIS_CNT_DROP_TOO_BIG);
		goto dropped;
	}
	if (!s || len < 1) {
		count(STASIS_CNT_DROP_LOAD);
		goto dropped;
	}
	/* The scratch slot of this CPU: the program is not re-entered on a
	 * CPU while it runs (TC egress runs with bottom halves off). */
	s->hdr.seq = __sync_fetch_and_add(&h->seq, 1);
	s->hdr.ts_ns = bpf_ktime_get_ns();
	s->hdr.ifindex = skb->ifindex;
	s->hdr.orig_len = len;
	s->hdr.cap_len = len;
	s->hdr.gso_size = (__u16)skb->gso_size;
	s->hdr.dir = 0;
	s->hdr.flags = flags;
	len = verifier_len(len, STASIS_MAX_FRAME);
	if (bpf_skb_load_bytes(skb, 0, s->data, len)) {
		count(STASIS_CNT_DROP_LOAD);
		goto dropped;
	}
	len = verifier_len(len, STASIS_MAX_FRAME);	/* again: len was kept across a call */
	if (bpf_ringbuf_output(&ring, s, sizeof(s->hdr) + len, ring_wakeup())) {
		count(STASIS_CNT_DROP_RING_FULL);
		goto dropped;
	}
	count(STASIS_CNT_HELD);
	if (ds)
		__sync_fetch_and_add(&ds->held, 1);
	return 0;
dropped:
	if (ds)
		__sync_fetch_and_add(&ds->dropped, 1);
	return -1;
}

/* REPLAY and REPLAY_LAST. A frame is counted in `pending` by the same atomic
 * add that tells it the state, and userspace uncounts it once it has sent
 * it. In REPLAY_LAST the first frame that finds nothing pending switches to
 * PASS and goes on: every frame held before it has already been sent. */
static __always_inline int replay_frame(struct stasis_host *h, struct __sk_buff *skb,
					struct stasis_dev_stats *ds)
{
	__u64 old = *(volatile __u64 *)&h->gate;

	if (old == STASIS_REPLAY_LAST &&
	    __sync_val_compare_and_swap(&h->gate, old, (__u64)STASIS_PASS) == old)
		return TC_ACT_OK;
	old = __sync_fetch_and_add(&h->gate, STASIS_PENDING_ONE);
	/* Switched meanwhile; the stray count is cleared by the next change
	 * of state, which sets the whole word. */
	if ((__u32)old == STASIS_PASS)
		return TC_ACT_OK;
	if (hold_frame(h, skb, ds, STASIS_FRAME_COUNTED))
		__sync_fetch_and_sub(&h->gate, STASIS_PENDING_ONE);
	return TC_ACT_SHOT;
}

SEC("tc")
int stasis_tc_egress(struct __sk_buff *skb)
{
	__u32 zero = 0;
	struct stasis_host *h = bpf_map_lookup_elem(&host, &zero);
	struct stasis_dev_stats *ds = dev_stats(skb->ifindex);

	count(STASIS_CNT_SEEN_EGRESS);
	if (ds)
		ds->seen_egress++;	/* per-CPU value */
	if (!h)
		return TC_ACT_OK;
	if (h->state == STASIS_PASS)
		check_triggers_skb(h, skb);
	if (h->state == STASIS_PASS)
		return TC_ACT_OK;
	if (h->state != STASIS_HOLD)
		return replay_frame(h, skb, ds);
	hold_frame(h, skb, ds, 0);
	return TC_ACT_SHOT;
}

SEC("xdp")
int stasis_xdp(struct xdp_md *ctx)
{
	__u32 zero = 0;
	struct stasis_host *h = bpf_map_lookup_elem(&host, &zero);
	struct stasis_dev_stats *ds = dev_stats(ctx->ingress_ifindex);

	count(STASIS_CNT_SEEN_XDP);
	if (ds)
		ds->seen_xdp++;
	if (!h || h->state != STASIS_PASS)
		return XDP_PASS;
	for (int i = 0; i < STASIS_MAX_TRIGGERS; i++) {
		__u32 key = i;
		struct stasis_trigger *t = bpf_map_lookup_elem(&triggers, &key);
		__u8 w[STASIS_TRIG_BYTES];
		__u32 off, len;

		if (!t || !t->active || !(t->dirs & STASIS_TDIR_FROM_GUEST) ||
		    (t->ifindex && t->ifindex != ctx->ingress_ifindex))
			continue;
		off = t->offset & 0xffff;
		len = t->len;
		if (len < 1 || len > STASIS_TRIG_BYTES)
			continue;
		len = verifier_len(len, STASIS_TRIG_BYTES);
		/* Fails when the frame is shorter than offset + len: no match. */
		if (bpf_xdp_load_bytes(ctx, off, w, len))
			continue;
		if (window_match(t, w))
			fire(h, t, i, ctx->ingress_ifindex, STASIS_TDIR_FROM_GUEST);
		if (h->state != STASIS_PASS)
			break;
	}
	return XDP_PASS;
}
