// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * A program every verifier refuses, for the test that a refusal is reported
 * as one line (tests/tools/bpfload.c): it reads the first byte of the frame
 * without checking it against data_end.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

SEC("xdp")
int refused_xdp(struct xdp_md *ctx)
{
	const __u8 *data = (const void *)(long)ctx->data;

	return data[0] == 0xff ? XDP_DROP : XDP_PASS;
}
