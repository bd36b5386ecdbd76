// SPDX-License-Identifier: MIT
/* util_out (util/out.c): what goes in comes out byte for byte, across
 * buffer switches and a tail that is not a whole block, on a disk file
 * system (O_DIRECT) and on tmpfs; nothing is at the path before the commit,
 * and a discard leaves nothing behind. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "util/util.h"
#include "tests/unit/unit.h"

static uint8_t byte_at(uint64_t i)
{
	return (uint8_t)(i * 2654435761u >> 13);
}

static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* ~13 MiB in pieces of odd sizes, some built in place, some copied. */
static void round_trip(const char *base, unsigned int flags)
{
	char dir[256], path[300];
	struct util_out *o = NULL;
	uint64_t total = 0;
	uint8_t *piece = malloc(UTIL_OUT_RESERVE_MAX);
	struct stat st;

	snprintf(dir, sizeof(dir), "%s/stasis-out-XXXXXX", base);
	EXPECT(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/f", dir);
	EXPECT(util_out_open(&o, path, flags) == 0);
	for (uint32_t k = 0; total < 13u << 20; k++) {
		size_t n = (k * 7919u) % 300000 + 1;

		if (k % 3) {
			uint8_t *p = util_out_reserve(o, n);

			EXPECT(p != NULL);
			for (size_t i = 0; i < n; i++)
				p[i] = byte_at(total + i);
			EXPECT(util_out_advance(o, n) == 0);
		} else {
			for (size_t i = 0; i < n; i++)
				piece[i] = byte_at(total + i);
			EXPECT(util_out_write(o, piece, n) == 0);
		}
		total += n;
	}
	EXPECT(total % 4096 != 0);
	EXPECT(access(path, F_OK) != 0);	/* not there before the commit */
	EXPECT(util_out_reserve(o, UTIL_OUT_RESERVE_MAX + 1) == NULL);
	EXPECT(util_out_error(o) == 0);
	EXPECT(util_out_commit(o) == 0);
	EXPECT(stat(path, &st) == 0 && (uint64_t)st.st_size == total);
	EXPECT(entries(dir) == 1);	/* no temporary left */

	FILE *f = fopen(path, "rb");
	uint64_t bad = 0, at = 0;
	size_t got;

	EXPECT(f != NULL);
	while (f && (got = fread(piece, 1, UTIL_OUT_RESERVE_MAX, f)) > 0)
		for (size_t i = 0; i < got; i++, at++)
			bad += piece[i] != byte_at(at);
	if (f)
		fclose(f);
	EXPECT(at == total && bad == 0);

	/* A discarded file leaves nothing, and the old one stays. */
	EXPECT(util_out_open(&o, path, flags) == 0);
	EXPECT(util_out_write(o, piece, 100000) == 0);
	util_out_discard(o);
	EXPECT(stat(path, &st) == 0 && (uint64_t)st.st_size == total);
	EXPECT(entries(dir) == 1);
	unlink(path);
	rmdir(dir);
	free(piece);
}

UNIT_TEST(out_round_trip_disk)
{
	round_trip("/var/tmp", UTIL_OUT_DIRECT);
	round_trip("/var/tmp", 0);
}

UNIT_TEST(out_round_trip_tmpfs)
{
	round_trip("/dev/shm", UTIL_OUT_DIRECT);
	round_trip("/dev/shm", 0);
}

UNIT_TEST(out_missing_folder)
{
	struct util_out *o = (struct util_out *)1;

	EXPECT(util_out_open(&o, "/nonexistent-stasis-dir/f", UTIL_OUT_DIRECT) == -ENOENT);
}
