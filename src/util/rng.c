/* xoshiro256** (Blackman & Vigna, "Scrambled linear pseudorandom number generators", 2018),
 * seeded by running splitmix64 over the 64-bit seed, as its authors recommend, so that every
 * seed (0 included) gives a well-mixed, non-zero state. Not cryptographic: ISNs and cookies
 * come from SipHash with a secret key, this only drives ports, jitter and simulations. */
#include "util/rng.h"

static uint64_t rotl(uint64_t x, int k) { return x << k | x >> (64 - k); }

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

void synack_rng_seed(struct synack_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

uint64_t synack_rng_next(struct synack_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* Rejection sampling: 2^64 mod n values at the bottom of the range would make the low
 * residues more likely, so draws below that threshold are thrown away (fewer than one in two
 * draws for any n, almost none for small n). */
uint64_t synack_rng_below(struct synack_rng *r, uint64_t n)
{
	if (n == 0)
		return 0;
	uint64_t threshold = (0 - n) % n; /* == 2^64 mod n */
	for (;;) {
		uint64_t x = synack_rng_next(r);
		if (x >= threshold)
			return x % n;
	}
}

/* The top 53 bits as a fraction: every double in [0, 1) spaced 2^-53 apart, never 1.0. */
double synack_rng_unit(struct synack_rng *r)
{
	return (double)(synack_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}
