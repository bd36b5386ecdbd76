// SPDX-License-Identifier: GPL-2.0 OR MIT
/* The baseline of bench_net.sh: a TC egress program that only drops. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

SEC("tc")
int drop_all(struct __sk_buff *skb)
{
	(void)skb;
	return TC_ACT_SHOT;
}
