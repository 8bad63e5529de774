/* SYN cookies (src/core/cookie.c): the construction round-trips for every MSS index and every
 * timestamp-option combination, and everything a blind forger or a late ACK can produce is
 * rejected: wrong hash, wrong tuple, wrong peer ISN, stale or future counter, MSS index outside
 * the table, another stack's secret. */
#include <criterion/criterion.h>
#include <string.h>

#include "core/cookie.h"
#include "util/rng.h"

#define P SYNACK_COOKIE_PERIOD_US

static const uint8_t key[16] = {0x5a, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
/* local = the listener 10.0.0.2:80, remote = the client 10.0.0.1:40000 */
static const struct synack_tuple tup = {
	.laddr = {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 2}},
	.raddr = {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1}},
	.lport = 80,
	.rport = 40000};

/* What the peer's ACK carries back: seq = its ISN + 1, ack = our ISN (the cookie) + 1. */
static uint16_t check_at(const struct synack_tuple *t, uint32_t peer_isn, uint32_t cookie,
			 uint64_t now)
{
	return synack_cookie_check(key, t, peer_isn + 1, cookie + 1, now);
}

Test(cookie, mss_table_picks_largest_entry_not_above_peer_mss)
{
	static const struct {
		uint16_t peer, idx;
	} cases[] = {{0, 0},	{100, 0},  {535, 0},  {536, 0},	 {1299, 0}, {1300, 1},
		     {1439, 1}, {1440, 2}, {1459, 2}, {1460, 3}, {9000, 3}, {65535, 3}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_assert_eq(synack_cookie_mss_index(cases[i].peer), cases[i].idx, "peer mss %u",
			     cases[i].peer);
	cr_assert_eq(synack_cookie_msstab(0), 536);
	cr_assert_eq(synack_cookie_msstab(1), 1300);
	cr_assert_eq(synack_cookie_msstab(2), 1440);
	cr_assert_eq(synack_cookie_msstab(3), 1460);
	cr_assert_eq(synack_cookie_msstab(4), 0);
}

Test(cookie, counter_ticks_every_64_seconds)
{
	cr_assert_eq(synack_cookie_counter(0), 0u);
	cr_assert_eq(synack_cookie_counter(P - 1), 0u);
	cr_assert_eq(synack_cookie_counter(P), 1u);
	cr_assert_eq(synack_cookie_counter(300 * P + 5), 300u);
}

Test(cookie, round_trip_every_mss_index)
{
	static const uint16_t peer_mss[] = {536, 1300, 1440, 1460};
	static const uint32_t isns[] = {0, 1, 0x7fffffff, 0xfffffffe, 0xffffffff, 0x12345678};
	static const uint64_t made[] = {0, 1, P - 1, P, 1000 * P + 12345};
	for (size_t m = 0; m < 4; m++)
		for (size_t i = 0; i < sizeof(isns) / sizeof(isns[0]); i++)
			for (size_t k = 0; k < sizeof(made) / sizeof(made[0]); k++) {
				uint16_t mss = 0;
				uint32_t c = synack_cookie_make(key, &tup, isns[i], peer_mss[m],
								made[k], &mss);
				cr_assert_eq(mss, peer_mss[m]);
				cr_assert_eq(check_at(&tup, isns[i], c, made[k]), peer_mss[m],
					     "mss %u isn %#x t %llu", peer_mss[m], isns[i],
					     (unsigned long long)made[k]);
			}
}

Test(cookie, peer_mss_is_rounded_down_to_the_table)
{
	uint16_t mss = 0;
	uint32_t c = synack_cookie_make(key, &tup, 77, 1400, 5, &mss);
	cr_assert_eq(mss, 1300);
	cr_assert_eq(check_at(&tup, 77, c, 5), 1300);
	c = synack_cookie_make(key, &tup, 77, 200, 5, &mss);
	cr_assert_eq(mss, 536, "below the table: the smallest entry, as Linux does");
	cr_assert_eq(check_at(&tup, 77, c, 5), 536);
}

Test(cookie, valid_for_one_full_period_after_the_current_one)
{
	/* Made at the very start of period 10: accepted through period 11, rejected from 12. */
	uint32_t c = synack_cookie_make(key, &tup, 4242, 1460, 10 * P, NULL);
	cr_assert_eq(check_at(&tup, 4242, c, 10 * P), 1460);
	cr_assert_eq(check_at(&tup, 4242, c, 12 * P - 1), 1460);
	cr_assert_eq(check_at(&tup, 4242, c, 12 * P), 0, "two periods old: stale");
	cr_assert_eq(check_at(&tup, 4242, c, 13 * P), 0);
	cr_assert_eq(check_at(&tup, 4242, c, 10 * P + 256 * P), 0,
		     "256 periods later the low 8 bits match again, the hash does not");
	cr_assert_eq(check_at(&tup, 4242, c, 9 * P), 0, "a cookie from the future is rejected");
}

Test(cookie, stale_counter_built_explicitly_is_rejected)
{
	for (uint32_t age = 0; age < 8; age++) {
		uint32_t c = synack_cookie_make_raw(key, &tup, 9, 1000 - age, 3);
		uint16_t want = age < SYNACK_COOKIE_MAX_AGE ? 1460 : 0;
		cr_assert_eq(check_at(&tup, 9, c, 1000 * P), want, "age %u", age);
	}
}

Test(cookie, counter_wraps)
{
	/* The top byte holds count mod 256: 255 -> 256 is one period, not -255. */
	uint32_t c = synack_cookie_make(key, &tup, 1, 1440, 255 * P + 7, NULL);
	cr_assert_eq(check_at(&tup, 1, c, 256 * P), 1440);
	cr_assert_eq(check_at(&tup, 1, c, 257 * P), 0);
	/* The 32-bit counter itself wrapping (2^32 periods, some 8,700 years of uptime). */
	uint64_t last = (uint64_t)0xffffffffu * P;
	c = synack_cookie_make(key, &tup, 1, 1440, last, NULL);
	cr_assert_eq(synack_cookie_counter(last + P), 0u);
	cr_assert_eq(check_at(&tup, 1, c, last + P), 1440);
	/* And the sequence space: cookie and peer ISN near 2^32 (ack = cookie + 1 wraps). */
	for (uint32_t isn = 0xfffffff0u; isn != 0x10u; isn++) {
		c = synack_cookie_make(key, &tup, isn, 536, 3 * P, NULL);
		cr_assert_eq(check_at(&tup, isn, c, 3 * P), 536, "isn %#x", isn);
	}
}

Test(cookie, mss_index_outside_the_table_is_rejected)
{
	static const uint32_t bad[] = {4, 5, 7, 8, 255, 0x800000, 0xfffffc, 0xffffff};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint32_t c = synack_cookie_make_raw(key, &tup, 500, 77, bad[i]);
		cr_assert_eq(check_at(&tup, 500, c, 77 * P), 0, "mssind %#x", bad[i]);
	}
	for (uint32_t i = 0; i < 4; i++) {
		uint32_t c = synack_cookie_make_raw(key, &tup, 500, 77, i);
		cr_assert_eq(check_at(&tup, 500, c, 77 * P), synack_cookie_msstab(i));
	}
}

Test(cookie, wrong_hash_bits_are_rejected)
{
	/* mssind 0: flipping any bit but the two lowest moves the residue outside 0..3 or the
	 * counter outside its window. (Flipping bit 0 or 1 gives a neighbouring index: the
	 * index is only as secret as the cookie, which the honest peer already holds.) */
	uint32_t c = synack_cookie_make_raw(key, &tup, 31337, 50, 0);
	cr_assert_eq(check_at(&tup, 31337, c, 50 * P), 536);
	for (int bit = 2; bit < 32; bit++)
		cr_assert_eq(check_at(&tup, 31337, c ^ (1u << bit), 50 * P), 0, "bit %d", bit);
	for (uint32_t d = 4; d < 4096; d += 4)
		cr_assert_eq(check_at(&tup, 31337, c + d, 50 * P), 0, "cookie + %u", d);
}

Test(cookie, wrong_tuple_peer_isn_or_secret_is_rejected)
{
	uint32_t c = synack_cookie_make(key, &tup, 1000, 1460, 3 * P, NULL);
	struct synack_tuple t = tup;
	t.raddr.b[15] ^= 1;
	cr_assert_eq(check_at(&t, 1000, c, 3 * P), 0, "other client address");
	t = tup;
	t.rport++;
	cr_assert_eq(check_at(&t, 1000, c, 3 * P), 0, "other client port");
	t = tup;
	t.lport = 81;
	cr_assert_eq(check_at(&t, 1000, c, 3 * P), 0, "other listener port");
	t = tup;
	t.laddr = synack_addr_v4(0x0a000003);
	cr_assert_eq(check_at(&t, 1000, c, 3 * P), 0, "other local address");
	t = (struct synack_tuple){tup.raddr, tup.laddr, tup.rport, tup.lport};
	cr_assert_eq(check_at(&t, 1000, c, 3 * P), 0, "reversed tuple");
	cr_assert_eq(check_at(&tup, 1000 + 4096, c, 3 * P), 0, "other peer ISN");
	cr_assert_eq(check_at(&tup, 1000 - (1u << 24), c, 3 * P), 0, "peer ISN off by 2^24");
	uint8_t other[16];
	memcpy(other, key, 16);
	other[7] ^= 0x80;
	cr_assert_eq(synack_cookie_check(other, &tup, 1001, c + 1, 3 * P), 0, "other secret");
}

Test(cookie, random_acks_never_validate)
{
	/* A blind forger's odds are about 2^-29 per ACK: a million tries find nothing. */
	struct synack_rng r;
	synack_rng_seed(&r, 6);
	int accepted = 0;
	for (int i = 0; i < 1000000; i++) {
		uint64_t v = synack_rng_next(&r);
		accepted += synack_cookie_check(key, &tup, (uint32_t)v, (uint32_t)(v >> 32),
						40 * P) != 0;
	}
	cr_assert_eq(accepted, 0);
}

Test(cookie, timestamp_round_trip_every_option_combination)
{
	static const uint32_t clocks[] = {0,  1,    5,	       63,	    64,
					  65, 1000, 123456789, 0xffffffc0u, 0xffffffffu};
	for (unsigned ws = 0; ws <= 15; ws++)
		for (unsigned flags = 0; flags < 4; flags++)
			for (size_t k = 0; k < sizeof(clocks) / sizeof(clocks[0]); k++) {
				struct synack_cookie_opts o = {.wscale_ok = ws != 15,
							       .snd_wscale =
								       ws == 15 ? 0 : (uint8_t)ws,
							       .sack_ok = flags & 1,
							       .ecn_ok = flags & 2};
				uint32_t now = clocks[k];
				uint32_t ts = synack_cookie_ts_encode(now, &o);
				cr_assert_lt(now - ts, 64u, "never ahead, at most one step back");
				struct synack_cookie_opts b;
				cr_assert(synack_cookie_ts_decode(ts, true, true, &b));
				cr_assert_eq(b.wscale_ok, o.wscale_ok, "ws %u", ws);
				cr_assert_eq(b.snd_wscale, o.snd_wscale, "ws %u", ws);
				cr_assert_eq(b.sack_ok, o.sack_ok);
				cr_assert_eq(b.ecn_ok, o.ecn_ok);
			}
}

Test(cookie, timestamp_encoding_matches_linux_layout)
{
	/* wscale 7, SACK, no ECN: low 6 bits 0b010111; clock 1000 = 0b1111101000. */
	struct synack_cookie_opts o = {.wscale_ok = true, .snd_wscale = 7, .sack_ok = true};
	cr_assert_eq(synack_cookie_ts_encode(1000, &o), 960u + 0x17u);
	/* No wscale (15), ECN: 0b101111 = 47 > 1000 % 64 = 40, so one step back: 896 + 47. */
	o = (struct synack_cookie_opts){.ecn_ok = true};
	cr_assert_eq(synack_cookie_ts_encode(1000, &o), 943u);
	/* At the start of the clock the step back wraps. */
	cr_assert_eq(synack_cookie_ts_encode(3, &o), 0xffffffefu);
}

Test(cookie, timestamp_options_we_disabled_are_rejected)
{
	struct synack_cookie_opts o = {.wscale_ok = true, .snd_wscale = 2, .sack_ok = true};
	uint32_t ts = synack_cookie_ts_encode(5000, &o);
	struct synack_cookie_opts b;
	cr_assert(!synack_cookie_ts_decode(ts, false, true, &b), "SACK claimed, SACK off");
	cr_assert(!synack_cookie_ts_decode(ts, true, false, &b), "wscale claimed, scaling off");
	o = (struct synack_cookie_opts){0};
	ts = synack_cookie_ts_encode(5000, &o);
	cr_assert(synack_cookie_ts_decode(ts, false, false, &b), "nothing claimed: fine");
	cr_assert(!b.wscale_ok && !b.sack_ok && !b.ecn_ok);
}

Test(cookie, timestamp_offset_is_per_tuple_and_stable)
{
	uint32_t a = synack_cookie_ts_offset(key, &tup);
	cr_assert_eq(synack_cookie_ts_offset(key, &tup), a, "the ACK finds the SYN-ACK's clock");
	struct synack_tuple t = tup;
	t.rport++;
	cr_assert_neq(synack_cookie_ts_offset(key, &t), a);
	uint8_t other[16];
	memcpy(other, key, 16);
	other[0] ^= 1;
	cr_assert_neq(synack_cookie_ts_offset(other, &tup), a);
}
