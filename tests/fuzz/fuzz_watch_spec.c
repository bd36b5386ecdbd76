// SPDX-License-Identifier: MIT
/* libFuzzer target: the --watch spec parser of `stasis fuzz`, on any text.
 * A spec it accepts keeps its text and names a valid VM when it names one;
 * one it rejects says why. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "coordinator/fuzz.h"
#include "vmctl/vmctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *spec = malloc(size + 1);
	struct fuzz_watch *w;

	if (!spec)
		return 0;
	memcpy(spec, data, size);
	spec[size] = 0;
	if (fuzz_watch__parse(spec, &w)) {
		if (!coord__errmsg()[0])
			abort();
	} else {
		const char *vm = fuzz_watch__vm(w);

		if (strcmp(fuzz_watch__spec(w), spec) || (vm && vmctl__name_valid(vm)))
			abort();
		fuzz_watch__free(w);
	}
	free(spec);
	return 0;
}
