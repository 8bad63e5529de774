/* The seeded PRNG: reference outputs, determinism per seed, bounds and rough uniformity. */
#include <criterion/criterion.h>

#include "util/rng.h"

/* xoshiro256** from the state {1, 2, 3, 4}, worked by hand from the algorithm: the first
 * output is rotl(2*5, 7)*9 = 11520, the second 0 (s[1] became 0), the third 1509978240. */
Test(rng, xoshiro_reference_state)
{
	struct synack_rng r = {{1, 2, 3, 4}};
	cr_assert_eq(synack_rng_next(&r), 11520u);
	cr_assert_eq(synack_rng_next(&r), 0u);
	cr_assert_eq(synack_rng_next(&r), 1509978240u);
	cr_assert_eq(synack_rng_next(&r), 1215971899390074240u);
}

/* splitmix64's first output from state 0 is the published e220a8397b1dcdaf. */
Test(rng, seeded_by_splitmix64)
{
	struct synack_rng r;
	synack_rng_seed(&r, 0);
	cr_assert_eq(r.s[0], 0xe220a8397b1dcdafu);
	cr_assert_eq(r.s[1], 0x6e789e6aa1b965f4u);
	cr_assert_eq(r.s[2], 0x06c45d188009454fu);
	cr_assert_eq(r.s[3], 0xf88bb8a8724c81ecu);
}

Test(rng, same_seed_same_sequence)
{
	struct synack_rng a, b, c;
	synack_rng_seed(&a, 42);
	synack_rng_seed(&b, 42);
	synack_rng_seed(&c, 43);
	int differ = 0;
	for (int i = 0; i < 1000; i++) {
		uint64_t x = synack_rng_next(&a);
		cr_assert_eq(x, synack_rng_next(&b), "draw %d", i);
		differ += x != synack_rng_next(&c);
	}
	cr_assert_geq(differ, 999, "seeds 42 and 43 give different sequences");
	/* The derived draws are deterministic too. */
	synack_rng_seed(&a, 7);
	synack_rng_seed(&b, 7);
	for (int i = 0; i < 100; i++) {
		cr_assert_eq(synack_rng_below(&a, 1000), synack_rng_below(&b, 1000));
		cr_assert_eq(synack_rng_unit(&a), synack_rng_unit(&b));
	}
}

Test(rng, below_bounds)
{
	struct synack_rng r;
	synack_rng_seed(&r, 1);
	cr_assert_eq(synack_rng_below(&r, 0), 0u);
	for (int i = 0; i < 100; i++)
		cr_assert_eq(synack_rng_below(&r, 1), 0u);
	static const uint64_t ns[] = {2, 3, 7, 1000, 28232, (1ull << 63) + 1, UINT64_MAX};
	for (size_t k = 0; k < sizeof(ns) / sizeof(ns[0]); k++)
		for (int i = 0; i < 10000; i++)
			cr_assert_lt(synack_rng_below(&r, ns[k]), ns[k]);
}

/* For n = 3 * 2^62, 2^64 = n + 2^62: plain modulo would make values below 2^62 twice as
 * likely as the rest and the upper half [n/2, n) would get only 3/8 of the draws. */
Test(rng, below_large_n_unbiased)
{
	struct synack_rng r;
	synack_rng_seed(&r, 2);
	uint64_t n = (1ull << 63) + (1ull << 62);
	int upper = 0, draws = 20000;
	for (int i = 0; i < draws; i++)
		upper += synack_rng_below(&r, n) >= n / 2;
	cr_assert(upper > draws * 46 / 100 && upper < draws * 54 / 100, "upper share %d", upper);
}

Test(rng, below_small_n_uniform)
{
	struct synack_rng r;
	synack_rng_seed(&r, 3);
	int count[6] = {0};
	for (int i = 0; i < 60000; i++)
		count[synack_rng_below(&r, 6)]++;
	for (int k = 0; k < 6; k++)
		cr_assert(count[k] > 9500 && count[k] < 10500, "face %d: %d", k, count[k]);
}

Test(rng, unit_in_half_open_interval)
{
	struct synack_rng r;
	synack_rng_seed(&r, 4);
	double sum = 0;
	for (int i = 0; i < 100000; i++) {
		double u = synack_rng_unit(&r);
		cr_assert(u >= 0.0 && u < 1.0, "%f", u);
		sum += u;
	}
	cr_assert(sum / 100000 > 0.49 && sum / 100000 < 0.51, "mean %f", sum / 100000);
	/* The largest possible draw is still below 1. */
	cr_assert_lt((double)(UINT64_MAX >> 11) * (1.0 / 9007199254740992.0), 1.0);
}
