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
};

struct stasis_host {
	__u32 state;		/* enum stasis_state */
	__u32 flags;
	__u64 epoch;		/* names the snapshot being taken */
	__u64 seq;		/* global sequence number of captured frames */
};

/* Per-CPU counters, one array slot per reason, summed by userspace. */
enum stasis_counter {
	STASIS_CNT_SEEN_EGRESS = 0,	/* frames seen at TC egress */
	STASIS_CNT_SEEN_XDP,		/* frames seen at XDP (sent by a guest) */
	STASIS_CNT_HELD,
	STASIS_CNT_REPLAYED,
	STASIS_CNT_DROP_RING_FULL,
	STASIS_CNT_DROP_TOO_BIG,
	STASIS_CNT_DROP_LOAD,		/* bpf_skb_load_bytes failed */
	STASIS_CNT_MAX,
};

#define STASIS_MAX_FRAME	65536	/* GSO super-frames are held whole */

#endif
