// SPDX-License-Identifier: MIT
/* libFuzzer target: the .sp reader, strict and salvage, over any bytes. It
 * must never crash, hang, leak or read out of bounds, and a file it calls
 * complete must have a trailer that matched. */
#include <stdint.h>
#include <stdlib.h>
#include "sp-format/sp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (unsigned flags = 0; flags <= SP_READ_SALVAGE; flags++) {
		struct sp_reader *r;
		struct sp_frame f;
		uint64_t sum = 0;
		int ret;

		if (sp_reader__open_mem(&r, data, size, flags))
			continue;
		for (uint32_t i = 0; i < sp_reader__iface_count(r); i++)
			sum += sp_reader__iface(r, i)->ifindex;
		while ((ret = sp_reader__next(r, &f)) == 1) {
			/* Touch every byte the reader hands out. */
			for (uint32_t k = 0; k < f.cap_len; k++)
				sum += f.data[k];
		}
		if (sp_reader__complete(r) && (ret != 0 || sp_reader__damage(r)))
			abort();
		if (flags == SP_READ_SALVAGE && ret < 0)
			abort();	/* salvage never fails after open */
		for (uint32_t i = 0; i < sp_reader__note_count(r); i++)
			sum += (uint8_t)sp_reader__note(r, i)[0];
		sp_reader__close(r);
		(void)sum;
	}
	return 0;
}
