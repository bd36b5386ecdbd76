// SPDX-License-Identifier: MIT
/* Hex bytes as users type them (frames, triggers, probes). */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include "sp-format/sp.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int sp__hex_parse(const char *s, uint8_t *buf, size_t max)
{
	size_t n = 0;

	if (!strncmp(s, "0x", 2) || !strncmp(s, "0X", 2))
		s += 2;
	while (*s) {
		int hi, lo;

		if (*s == ':' || *s == ' ' || *s == '-') {
			s++;
			continue;
		}
		hi = hexval(s[0]);
		lo = s[1] ? hexval(s[1]) : -1;
		if (hi < 0 || lo < 0)
			return -EINVAL;
		if (n >= max)
			return -E2BIG;
		buf[n++] = (uint8_t)(hi << 4 | lo);
		s += 2;
	}
	return (int)n;
}
