/* SPDX-License-Identifier: MIT */
/*
 * libstasis_sp: the .sp packet file (docs/sp-format.md): a streaming writer,
 * a validating reader with a salvage mode, pcapng/pcap conversion, and the
 * edit and mutate operations. Negative errno returns; a failure that needs
 * more words than its errno (a file's damage, a bad edit) leaves one line in
 * sp__errmsg(), this thread's.
 */
#ifndef STASIS_SP_H
#define STASIS_SP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The API: visible from the library (everything else is hidden). */
#pragma GCC visibility push(default)

#define SP_STR_MAX	255		/* bytes of a string field */
#define SP_MAX_FRAME	262144		/* cap_len limit */
#define SP_MAX_IFACES	4096
#define SP_MAX_NOTE	65536
#define SP_ERR_MAX	512

const char *sp__errmsg(void);

enum sp_dir  { SP_DIR_OUT = 0, SP_DIR_IN = 1 };	/* out: toward the guest/peer */
enum sp_role { SP_ROLE_OTHER = 0, SP_ROLE_TAP = 1, SP_ROLE_UPLINK = 2 };
enum sp_flag { SP_F_GSO = 1, SP_F_EDITED = 2, SP_F_INJECTED = 4 };

struct sp_header {
	uint64_t epoch;
	uint64_t created_ns;
	char host[SP_STR_MAX + 1];
	char tool[SP_STR_MAX + 1];
};

struct sp_iface {
	uint32_t ifindex;
	uint8_t mac[6];
	uint8_t role;			/* enum sp_role */
	char name[SP_STR_MAX + 1];
	char vm[SP_STR_MAX + 1];
	char host[SP_STR_MAX + 1];	/* empty: the header's host */
};

struct sp_frame {
	uint64_t seq;
	uint64_t ts_ns;
	uint32_t iface;
	uint8_t dir;			/* enum sp_dir */
	uint16_t flags;			/* enum sp_flag */
	uint32_t orig_len;
	uint32_t cap_len;
	const uint8_t *data;		/* reader: valid until the next call */
};

/* CRC32C (Castagnoli). Start with crc = 0; chain pieces by passing the
 * previous result back in. Uses the CPU's crc32 instruction when it has one. */
uint32_t sp__crc32c(uint32_t crc, const void *buf, size_t len);

/* ---- writer ---------------------------------------------------------------
 * Appends are buffered; the file is written under a temporary name in the
 * same folder and renamed to @path by close, after fsync: a crash never
 * leaves a half-written file under the final name. */
struct sp_writer;
int sp_writer__open(struct sp_writer **out, const char *path, const struct sp_header *h,
		    const struct sp_iface *ifaces, uint32_t n_ifaces);
int sp_writer__frame(struct sp_writer *w, const struct sp_frame *f);
int sp_writer__note(struct sp_writer *w, const char *text);
uint64_t sp_writer__frames(const struct sp_writer *w);
/* Trailer, flush, fsync, rename, free. On failure the temporary is removed. */
int sp_writer__close(struct sp_writer *w);
/* Remove the temporary and free; @path is never touched. */
void sp_writer__discard(struct sp_writer *w);

/* ---- reader --------------------------------------------------------------- */
struct sp_reader;
enum { SP_READ_SALVAGE = 1 };	/* damage ends the frames instead of failing */

/* On failure, sp__errmsg() names the file and the byte offset. */
int sp_reader__open(struct sp_reader **out, const char *path, unsigned flags);
/* The same over a buffer that must outlive the reader (fuzzing, tests). */
int sp_reader__open_mem(struct sp_reader **out, const void *buf, size_t len, unsigned flags);
const struct sp_header *sp_reader__header(const struct sp_reader *r);
uint32_t sp_reader__iface_count(const struct sp_reader *r);
const struct sp_iface *sp_reader__iface(const struct sp_reader *r, uint32_t i);
/* 1: @f holds the next frame; 0: end of the frames (see complete/error);
 * negative: damage, described by sp__errmsg() (never in salvage mode). */
int sp_reader__next(struct sp_reader *r, struct sp_frame *f);
/* After next() returned 0: true when the trailer matched. */
bool sp_reader__complete(const struct sp_reader *r);
/* "FILE: frame N at byte OFF: what" for the first damage (where a salvage
 * stopped), or NULL. */
const char *sp_reader__damage(const struct sp_reader *r);
uint64_t sp_reader__damage_offset(const struct sp_reader *r);
/* NOTE records seen so far, in order (at most 4096 are kept). */
uint32_t sp_reader__note_count(const struct sp_reader *r);
const char *sp_reader__note(const struct sp_reader *r, uint32_t i);
void sp_reader__close(struct sp_reader *r);

/* ---- pcapng / pcap ----------------------------------------------------------- */
int sp__to_pcapng(const char *sp_path, const char *out_path);
/* Reads pcapng or classic pcap (detected by magic); @res (optional): what
 * the .sp written holds, as its writer committed it. */
struct sp_conv_result {
	uint64_t frames;
	uint32_t ifaces;
};
int sp__from_pcapng(const char *in_path, const char *sp_path, const char *host,
		    struct sp_conv_result *res);

/* ---- frame operations --------------------------------------------------------- */
/* Recompute the IPv4 header checksum and the TCP or UDP checksum of an
 * Ethernet frame (VLAN tags skipped). Returns a mask of what was rewritten
 * (1 IPv4, 2 TCP, 4 UDP), 0 when nothing applies, -EINVAL for a frame too
 * short for the headers it claims. A UDP checksum of 0 (none) stays 0. */
int sp__fix_checksums(uint8_t *frame, uint32_t len);
/* Complete the TCP or UDP checksum of an IPv4 frame whose field still holds
 * the pseudo-header's sum, as a sender leaves it for the device to finish
 * (CHECKSUM_PARTIAL); any other frame stays as it is, so a checksum a sender
 * got wrong stays wrong. Returns 2 (TCP) or 4 (UDP) when it completed one,
 * else 0. One pass over the frame only where there is work to do. */
int sp__complete_partial(uint8_t *frame, uint32_t len);

/* Cut a TCP/IPv4 GSO super-frame into segments whose IP packets fit @mtu,
 * calling @emit for each (a frame that already fits is emitted whole).
 * -EPROTONOSUPPORT for anything but TCP over IPv4; -EINVAL for a frame too
 * short for its headers; or what @emit returned. */
int sp__segment_tcp(const uint8_t *frame, uint32_t len, uint32_t mtu,
		   int (*emit)(const uint8_t *seg, uint32_t len, void *ctx), void *ctx);

/* Edits address frames by their index in the input (0-based). Set
 * overwrites bytes at an offset (growing the frame when it writes past its
 * end); delete drops the frame; insert puts a new frame before it (index ==
 * frame count appends), with the interface, direction, time and seq of the
 * frame it precedes and the injected flag. Changed frames get the edited
 * flag; with @fix_checksums their IPv4/TCP/UDP checksums are recomputed.
 * With no edits (@n == 0) and @fix_checksums, every frame's checksums are
 * recomputed (frames whose headers do not fit are copied as they are; those
 * whose bytes changed get the edited flag). Each edit is recorded in a NOTE. */
enum sp_edit_op { SP_EDIT_SET, SP_EDIT_DELETE, SP_EDIT_INSERT };
struct sp_edit {
	enum sp_edit_op op;
	uint64_t frame;
	uint32_t offset;		/* set */
	uint32_t len;			/* set, insert */
	const uint8_t *bytes;		/* set, insert */
};
int sp__edit(const char *in, const char *out, const struct sp_edit *edits, size_t n,
	    bool fix_checksums);

/* K fuzz cases of one frame: DIR/case-NNNNNN.sp (the whole file with that
 * frame mutated within bytes [from, to]) and DIR/cases.jsonl, one JSON line
 * per case saying what changed (also a NOTE in each case file). Case i
 * depends only on (seed, i): the same seed gives the same cases. */
struct sp_mutate_opts {
	size_t sz;		/* sizeof(struct sp_mutate_opts) */
	uint64_t frame;
	uint32_t from, to;		/* inclusive; to past the end: the end */
	uint32_t cases;
	uint64_t seed;
	bool fix_checksums;
	void (*progress)(uint32_t done, uint32_t total, void *ctx);	/* optional */
	void *progress_ctx;
};
int sp__mutate(const char *in, const char *dir, const struct sp_mutate_opts *o);

/* Hex bytes ("0a1b", also "0x0a1b", "0a:1b", "0a 1b" or "0a-1b") into @buf.
 * Returns the byte count, or -EINVAL (odd digits, bad character), -E2BIG
 * (more than @max). */
int sp__hex_parse(const char *s, uint8_t *buf, size_t max);

/* Several hosts' files into one, in capture-time order (ties: input order,
 * then file order); interfaces of all inputs, each with its host. */
int sp__merge(const char *const *in, size_t n, const char *out);

#pragma GCC visibility pop

#endif
