/* SPDX-License-Identifier: MIT */
/*
 * The layout shared by the BPF programs (bpf/stasis.bpf.c) and userspace.
 * Fixed-width types only: this header is compiled by clang for the BPF target
 * and by gcc for the host, and both must agree byte for byte.
 */
#ifndef STASIS_MAPS_H
#define STASIS_MAPS_H

#include <linux/types.h>

/* Host state: one entry in the `host` array map. */
enum stasis_state {
	STASIS_PASS   = 0,	/* deliver everything */
	STASIS_HOLD   = 1,	/* capture at egress instead of delivering */
	STASIS_REPLAY = 2,	/* held frames are being put back; new ones wait */
	STASIS_REPLAY_LAST = 3,	/* the file is out: the first frame that finds no
				 * frame held during the replay pending goes to PASS */
};

/* One to add to `gate` to count a frame held during a replay (little-endian:
 * pending is the high half). */
#define STASIS_PENDING_ONE	(1ull << 32)

struct stasis_host {
	/* State and pending share one word, so that "nothing pending: go to
	 * PASS" and "count one more held frame" are single atomic operations
	 * on it, in BPF and in userspace alike: no frame can pass one that is
	 * still waiting to be replayed. */
	union {
		struct {
			__u32 state;	/* enum stasis_state */
			__u32 pending;	/* held in REPLAY*, not yet replayed */
		};
		__u64 gate;
	};
	__u64 epoch;		/* names the snapshot being taken */
	__u64 seq;		/* next global sequence number of a captured frame */
	__u64 hold_ns;		/* ktime when the host last went to HOLD */
	/* Counted by userspace (replay, drain, release --force), with atomic
	 * adds through the mmapped entry: a per-CPU slot cannot be added to
	 * safely by two processes at once. The programs never touch them. */
	__u64 replayed, discarded, drop_drain;
};

/* Per-CPU counters, one array slot per reason, summed by userspace. */
enum stasis_counter {
	STASIS_CNT_SEEN_EGRESS = 0,	/* frames seen at TC egress */
	STASIS_CNT_SEEN_XDP,		/* frames seen at XDP (sent by a guest) */
	STASIS_CNT_HELD,		/* captured into the ring */
	STASIS_CNT_REPLAYED,		/* userspace: stasis_host.replayed */
	STASIS_CNT_DROP_RING_FULL,
	STASIS_CNT_DROP_TOO_BIG,
	STASIS_CNT_DROP_LOAD,		/* bpf_skb_load_bytes failed */
	STASIS_CNT_DROP_EVENT,		/* event queue full */
	STASIS_CNT_TRIGGERS,		/* triggers fired */
	STASIS_CNT_DISCARDED,		/* userspace: held, then let go by --force */
	STASIS_CNT_DROP_DRAIN,		/* userspace: taken by a drain that failed to store them */
	STASIS_CNT_MAX,
};

/* Per-device counters (per-CPU hash keyed by ifindex). */
struct stasis_dev_stats {
	__u64 seen_egress;
	__u64 seen_xdp;
	__u64 held;
	__u64 dropped;
};

#define STASIS_MAX_FRAME	65536	/* GSO super-frames are held whole */
#define STASIS_MAX_TRIGGERS	16
#define STASIS_TRIG_BYTES	64

/* Directions a trigger applies to (a mask). */
enum {
	STASIS_TDIR_TO_GUEST   = 1,	/* at TC egress of a tap or uplink */
	STASIS_TDIR_FROM_GUEST = 2,	/* at XDP of a tap */
};
enum { STASIS_TRIG_ONCE = 1 };

struct stasis_trigger {
	__u32 active;
	__u32 flags;		/* STASIS_TRIG_ONCE */
	__u32 dirs;		/* STASIS_TDIR_* mask */
	__u32 ifindex;		/* 0: any device */
	__u32 offset;		/* from the Ethernet header */
	__u32 len;		/* 1..STASIS_TRIG_BYTES */
	__u8 bytes[STASIS_TRIG_BYTES];
	__u8 mask[STASIS_TRIG_BYTES];	/* all 0xff when none was given */
	__u64 hits;
};

/* A trigger that fired (queue map `events`; also written to `evring` to wake
 * whoever waits). */
struct stasis_event {
	__u64 ts_ns;		/* ktime (CLOCK_MONOTONIC) */
	__u64 epoch;		/* the epoch the hold was given */
	__u32 trigger;
	__u32 ifindex;
	__u32 dir;		/* STASIS_TDIR_* */
	__u32 held;		/* 1 when this event moved the host to HOLD */
};

/* The frame ring wakes its drain once it is this much full: 1/16. */
#define STASIS_WAKE_SHIFT	4

/* A frame in the ring buffer: this header, then cap_len bytes. */
struct stasis_frame_hdr {
	__u64 seq;
	__u64 ts_ns;		/* ktime (CLOCK_MONOTONIC) */
	__u32 ifindex;
	__u32 orig_len;
	__u32 cap_len;
	__u16 gso_size;		/* > 0: a GSO super-frame of segments this size */
	__u8 dir;		/* 0: out of the device (toward its peer) */
	__u8 flags;		/* STASIS_FRAME_* */
};
enum { STASIS_FRAME_COUNTED = 1 };	/* counted in stasis_host.pending */

/* Attached devices (hash keyed by ifindex), written by the loader. */
enum { STASIS_ROLE_TAP = 1, STASIS_ROLE_UPLINK = 2 };
struct stasis_dev {
	__u32 role;
	__u32 flags;		/* STASIS_DEV_* */
};
#define STASIS_DEV_XDP		1	/* the XDP program is attached too */
#define STASIS_DEV_CLSACT	2	/* stasis made the device's clsact qdisc */

#endif
