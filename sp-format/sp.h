/* SPDX-License-Identifier: MIT */
/*
 * libstasis_sp: the .sp packet file (docs/sp-format.md).
 */
#ifndef STASIS_SP_H
#define STASIS_SP_H

#include <stddef.h>
#include <stdint.h>

/* CRC32C (Castagnoli, reflected, as iSCSI/ext4 use it). Start with crc = 0;
 * feed pieces by passing the previous result back in. */
uint32_t sp_crc32c(uint32_t crc, const void *buf, size_t len);

#endif
