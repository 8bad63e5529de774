/* SipHash-2-4 (Aumasson & Bernstein, "SipHash: a fast short-input PRF", 2012): two compression
 * rounds per 8-byte word, four finalization rounds, a 128-bit key and a 64-bit output. Words
 * are read little-endian byte by byte, so the result does not depend on the host. */
#include "core/siphash.h"

static uint64_t rotl(uint64_t x, int b) { return x << b | x >> (64 - b); }

static uint64_t load64_le(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

struct sip {
	uint64_t v0, v1, v2, v3;
};

/* One SipRound (paper §2, Figure 2.1). */
static void sipround(struct sip *s)
{
	s->v0 += s->v1;
	s->v1 = rotl(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = rotl(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = rotl(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = rotl(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = rotl(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = rotl(s->v2, 32);
}

static void compress(struct sip *s, uint64_t m)
{
	s->v3 ^= m;
	sipround(s);
	sipround(s);
	s->v0 ^= m;
}

uint64_t synack_siphash24(const uint8_t key[16], const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t k0 = load64_le(key), k1 = load64_le(key + 8);
	/* Initialization: the key XORed with "somepseudorandomlygeneratedbytes". */
	struct sip s = {
		.v0 = k0 ^ 0x736f6d6570736575u,
		.v1 = k1 ^ 0x646f72616e646f6du,
		.v2 = k0 ^ 0x6c7967656e657261u,
		.v3 = k1 ^ 0x7465646279746573u,
	};
	size_t full = len - len % 8;
	for (size_t i = 0; i < full; i += 8)
		compress(&s, load64_le(p + i));

	/* The last word holds the remaining 0..7 bytes and, in its top byte, len mod 256. */
	uint64_t last = (uint64_t)(len & 0xff) << 56;
	for (size_t i = 0; i < len % 8; i++)
		last |= (uint64_t)p[full + i] << (8 * i);
	compress(&s, last);

	s.v2 ^= 0xff;
	for (int i = 0; i < 4; i++)
		sipround(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}
