// SPDX-License-Identifier: MIT
/* CRC32C against published check values (RFC 3720 B.4 and the catalogue
 * check "123456789"), and piecewise == one-shot at every alignment. */
#include <string.h>
#include "sp-format/sp.h"
#include "tests/unit/unit.h"

UNIT_TEST(crc32c_check_value)
{
	EXPECT(sp__crc32c(0, "123456789", 9) == 0xe3069283u);
	EXPECT(sp__crc32c(0, "", 0) == 0);
}

UNIT_TEST(crc32c_rfc3720_vectors)
{
	unsigned char b[32];

	memset(b, 0, sizeof(b));
	EXPECT(sp__crc32c(0, b, 32) == 0x8a9136aau);
	memset(b, 0xff, sizeof(b));
	EXPECT(sp__crc32c(0, b, 32) == 0x62a8ab43u);
	for (int i = 0; i < 32; i++)
		b[i] = (unsigned char)i;
	EXPECT(sp__crc32c(0, b, 32) == 0x46dd794eu);
	for (int i = 0; i < 32; i++)
		b[i] = (unsigned char)(31 - i);
	EXPECT(sp__crc32c(0, b, 32) == 0x113fdb5cu);
}

UNIT_TEST(crc32c_piecewise_and_unaligned)
{
	unsigned char buf[1100];
	unsigned int x = 12345;

	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (unsigned char)(x >> 16);
	}
	for (size_t off = 0; off < 9; off++) {
		size_t len = sizeof(buf) - off;
		unsigned int whole = sp__crc32c(0, buf + off, len);

		for (size_t cut = 0; cut <= len; cut += 97)
			EXPECT(sp__crc32c(sp__crc32c(0, buf + off, cut), buf + off + cut,
					 len - cut) == whole);
	}
}
