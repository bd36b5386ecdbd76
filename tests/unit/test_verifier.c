// SPDX-License-Identifier: MIT
/*
 * The one line stasis prints when the kernel's verifier refuses a program
 * (stasis_bpf__verifier_summary), from logs shaped as Linux 6.1 and 6.18
 * write them. The real thing, on both kernels: tests/system/kernel_matrix.sh.
 */
#include <string.h>
#include "bpf/stasis_bpf.h"
#include "tests/unit/unit.h"

static char out[512];

static const char *sum(const char *prog, const char *log)
{
	stasis_bpf__verifier_summary(prog, log, out, sizeof(out));
	return out;
}

/* What 6.1 said about the trigger window before verifier_len. */
static const char log61[] =
	"func#0 @0\n"
	"0: R1=ctx(off=0,imm=0) R10=fp0\n"
	"; int stasis_tc_egress(struct __sk_buff *skb)\n"
	"0: (bf) r8 = r1                      ; R1=ctx(off=0,imm=0) R8_w=ctx(off=0,imm=0)\n"
	"69: (25) if w4 > 0x40 goto pc-25     ; R4_w=scalar(umax=64,var_off=(0x0; 0x7f))\n"
	"; if (bpf_skb_load_bytes(skb, t->offset & 0xffff, w, len))\n"
	"74: (bf) r1 = r8                      ; R1_w=ctx(off=0,imm=0) R8=ctx(off=0,imm=0)\n"
	"75: (85) call bpf_skb_load_bytes#26\n"
	"invalid zero-sized read\n"
	"processed 187 insns (limit 1000000) max_states_per_insn 1 total_states 14 peak_states 14 mark_read 6\n";

UNIT_TEST(summary_names_program_complaint_and_insn)
{
	EXPECT(!strcmp(sum("stasis_tc_egress", log61),
		       "the kernel's verifier refused program stasis_tc_egress: invalid zero-sized read "
		       "(at 75: call bpf_skb_load_bytes#26); STASIS_DEBUG=1 (or --debug) prints its whole log"));
	EXPECT(!strchr(out, '\n'));
}

UNIT_TEST(summary_two_line_complaint_without_states)
{
	const char *log =
		"0: R1=ctx() R10=fp0\n"
		"0: (61) r1 = *(u32 *)(r1 +0)          ; R1=pkt(r=0)\n"
		"1: (71) r1 = *(u8 *)(r1 +0)\n"
		"invalid access to packet, off=0 size=1, R1(id=0,off=0,r=0)\n"
		"R1 offset is outside of the packet\n"
		"processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n";

	EXPECT(strstr(sum("refused_xdp", log),
		      ": invalid access to packet, off=0 size=1, R1(id=0,off=0,r=0); "
		      "R1 offset is outside of the packet (at 1: r1 = *(u8 *)(r1 +0)); ") != NULL);
}

UNIT_TEST(summary_register_state_cut_from_insn)
{
	const char *log =
		"12: (85) call bpf_ringbuf_output#130   ; R0=scalar()\n"
		"R3 unbounded memory access, make sure to bounds check any such access\n"
		"processed 500 insns (limit 1000000) max_states_per_insn 2 total_states 40 peak_states 40 mark_read 9\n"
		"\n";

	EXPECT(strstr(sum("p", log), "(at 12: call bpf_ringbuf_output#130)") != NULL);
	EXPECT(strstr(out, "R3 unbounded memory access, make sure") != NULL);
}

UNIT_TEST(summary_without_instructions_takes_last_line)
{
	/* A log with no instruction lines (BTF, or a check before the walk). */
	EXPECT(!strcmp(sum("p", "magic\nlast words\nprocessed 0 insns (limit 1000000)\n"),
		       "the kernel's verifier refused program p: last words; "
		       "STASIS_DEBUG=1 (or --debug) prints its whole log"));
}

UNIT_TEST(summary_of_an_empty_log)
{
	EXPECT(strstr(sum("p", ""), "refused program p and its verifier gave no reason") != NULL);
	EXPECT(strstr(sum("p", "processed 3 insns\n"), "gave no reason") != NULL);
}

UNIT_TEST(summary_fits_any_buffer)
{
	char small[24];
	char big[4096];

	memset(big, 'x', sizeof(big) - 2);
	big[sizeof(big) - 2] = '\n';
	big[sizeof(big) - 1] = '\0';
	stasis_bpf__verifier_summary("p", log61, small, sizeof(small));
	EXPECT(strlen(small) == sizeof(small) - 1);
	EXPECT(strstr(sum("p", big), "refused program p: xxxx") != NULL);
	EXPECT(strlen(out) < sizeof(out));
}
