// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * stasis BPF programs. Built with clang -target bpf from UAPI headers only (no
 * vmlinux.h), so the object does not depend on the build host's kernel BTF.
 *
 * Foundation state: the maps of the hold and the two hooks, counting what they
 * see and passing it. The hold itself (capture to the ring buffer, triggers)
 * is added on top of these maps.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "bpf/stasis_maps.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stasis_host);
} host SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STASIS_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void count(__u32 reason)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &reason);

	if (c)
		(*c)++;	/* per-CPU slot: no atomics needed */
}

SEC("tc")
int stasis_tc_egress(struct __sk_buff *skb)
{
	(void)skb;
	count(STASIS_CNT_SEEN_EGRESS);
	return TC_ACT_OK;
}

SEC("xdp")
int stasis_xdp(struct xdp_md *ctx)
{
	(void)ctx;
	count(STASIS_CNT_SEEN_XDP);
	return XDP_PASS;
}
