/* synack util — a small seeded PRNG (xoshiro256**, seeded through splitmix64). Sans-IO, shared
 * by layers: the core draws every random number from one of these, seeded from
 * synack_config.seed, so a seed replays a run; the simulated network and the fault decorator
 * draw theirs from their own seeds. */
#ifndef SYNACK_UTIL_RNG_H
#define SYNACK_UTIL_RNG_H

#include <stdint.h>

struct synack_rng {
	uint64_t s[4];
};

void synack_rng_seed(struct synack_rng *r, uint64_t seed);
uint64_t synack_rng_next(struct synack_rng *r);
/* Uniform in [0, n) without modulo bias; n == 0 returns 0. */
uint64_t synack_rng_below(struct synack_rng *r, uint64_t n);
/* Uniform in [0, 1). */
double synack_rng_unit(struct synack_rng *r);

#endif
