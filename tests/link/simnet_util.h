/* Helpers shared by the link tests: minimal IPv4 frames that the simulated network can route.
 * (Routing reads only the version nibble and the destination address.) */
#ifndef SYNACK_TEST_SIMNET_UTIL_H
#define SYNACK_TEST_SIMNET_UTIL_H

#include <stdint.h>
#include <string.h>

#define ADDR(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* An IPv4-looking frame of len >= 24 bytes from src to dst whose bytes 20..23 hold tag. */
static inline size_t mkframe(uint8_t *buf, size_t len, uint32_t src, uint32_t dst, uint32_t tag)
{
	memset(buf, 0, len);
	buf[0] = 0x45;
	buf[2] = (uint8_t)(len >> 8);
	buf[3] = (uint8_t)len;
	buf[8] = 64;
	buf[9] = 253; /* experimental protocol number (RFC 3692) */
	put32(buf + 12, src);
	put32(buf + 16, dst);
	put32(buf + 20, tag);
	for (size_t i = 24; i < len; i++)
		buf[i] = (uint8_t)(tag * 31u + i);
	return len;
}

static inline uint32_t frame_tag(const uint8_t *buf)
{
	return (uint32_t)buf[20] << 24 | (uint32_t)buf[21] << 16 | (uint32_t)buf[22] << 8 | buf[23];
}

#endif
