/* SPDX-License-Identifier: MIT */
/* Internal to sp-format/: the on-disk constants of docs/sp-format.md and
 * little-endian field access. */
#ifndef SP_FORMAT_H
#define SP_FORMAT_H

#include <stdint.h>
#include <string.h>

#define SP_MAGIC		"\x89SPK\r\n\x1a\n"
#define SP_VERSION_MAJOR	1
#define SP_VERSION_MINOR	0
#define SP_PROLOGUE_LEN		16
#define SP_REC_HEAD		8	/* type + length */
#define SP_REC_MIN		16
#define SP_REC_MAX		(1u << 20)
#define SP_FRAME_HEAD		32

enum sp_rec_type {
	SP_REC_HEADER  = 1,
	SP_REC_IFACE   = 2,
	SP_REC_FRAME   = 3,
	SP_REC_NOTE    = 4,
	SP_REC_TRAILER = 255,
};
#define SP_REC_CRITICAL 0x80000000u
#define SP_TRAILER_BODY 32

static inline uint32_t sp_rec_len(uint32_t body)
{
	return (SP_REC_HEAD + body + 4 + 7) & ~7u;
}

static inline uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }
static inline void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }

#endif
