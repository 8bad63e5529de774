/* TCP Fast Open (src/core/tcp_fastopen.c, RFC 7413): the cookie is 8 bytes of a keyed hash over
 * the client's address (all 16 bytes of an IPv6 one), valid under the current key generation
 * and the previous one and no older, and under no other secret; the client's cache keeps one
 * cookie per destination, bounded, the least recently used replaced; the option codec reads
 * and writes kinds 34 and 254/0xF989 as Linux lays them out. The handshakes themselves are
 * tested by tests/drill/fastopen/. */
#include <criterion/criterion.h>
#include <string.h>

#include "core/tcp_fastopen.h"
#include "synack/wire.h"

#define P SYNACK_TFO_KEY_PERIOD_US

static const uint8_t key[16] = {0x5a, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

static struct synack_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct synack_addr x = {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d}};
	return x;
}

Test(tfo_cookie, same_inputs_same_cookie_and_it_checks)
{
	struct synack_addr a = v4(192, 0, 2, 1);
	uint8_t c1[8], c2[8];
	tfo_cookie_gen(key, &a, 5, c1);
	tfo_cookie_gen(key, &a, 5, c2);
	cr_assert(!memcmp(c1, c2, 8));
	cr_assert_eq(tfo_cookie_check(key, &a, 5 * P, c1, 8), 1);
	cr_assert_eq(tfo_cookie_check(key, &a, 6 * P - 1, c1, 8), 1);
}

Test(tfo_cookie, keyed_over_the_client_address)
{
	struct synack_addr a = v4(192, 0, 2, 1), b = v4(192, 0, 2, 2);
	uint8_t ca[8], cb[8];
	tfo_cookie_gen(key, &a, 0, ca);
	tfo_cookie_gen(key, &b, 0, cb);
	cr_assert(memcmp(ca, cb, 8));
	cr_assert_eq(tfo_cookie_check(key, &b, 0, ca, 8), 0, "a's cookie is not b's");
	cr_assert_eq(tfo_cookie_check(key, &a, 0, ca, 8), 1);
}

Test(tfo_cookie, ipv6_keyed_over_all_sixteen_bytes)
{
	/* Two IPv6 addresses that share their last four bytes (what an IPv4 key would take). */
	struct synack_addr a = {{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
	struct synack_addr b = a;
	b.b[3] = 0xb9;
	uint8_t ca[8], cb[8];
	tfo_cookie_gen(key, &a, 0, ca);
	tfo_cookie_gen(key, &b, 0, cb);
	cr_assert(memcmp(ca, cb, 8));
	cr_assert_eq(tfo_cookie_check(key, &b, 0, ca, 8), 0);
}

Test(tfo_cookie, rotation_accepts_current_and_previous_generation_only)
{
	struct synack_addr a = v4(10, 0, 0, 1);
	uint8_t c[8];
	tfo_cookie_gen(key, &a, 7, c);
	cr_assert_eq(tfo_cookie_check(key, &a, 7 * P, c, 8), 1, "current");
	cr_assert_eq(tfo_cookie_check(key, &a, 8 * P, c, 8), 2, "previous: valid, renewed");
	cr_assert_eq(tfo_cookie_check(key, &a, 9 * P - 1, c, 8), 2);
	cr_assert_eq(tfo_cookie_check(key, &a, 9 * P, c, 8), 0, "two generations old");
	cr_assert_eq(tfo_cookie_check(key, &a, 6 * P, c, 8), 0, "from the future");
	uint8_t c8[8];
	tfo_cookie_gen(key, &a, 8, c8);
	cr_assert(memcmp(c, c8, 8), "each generation has its own key");
}

Test(tfo_cookie, other_secret_wrong_length_or_altered_rejected)
{
	struct synack_addr a = v4(10, 0, 0, 1);
	uint8_t c[8], other[16];
	memcpy(other, key, 16);
	other[15] ^= 1;
	tfo_cookie_gen(key, &a, 0, c);
	cr_assert_eq(tfo_cookie_check(other, &a, 0, c, 8), 0);
	cr_assert_eq(tfo_cookie_check(key, &a, 0, c, 4), 0);
	cr_assert_eq(tfo_cookie_check(key, &a, 0, c, 0), 0);
	for (int i = 0; i < 8; i++) {
		c[i] ^= 0x80;
		cr_assert_eq(tfo_cookie_check(key, &a, 0, c, 8), 0, "byte %d altered", i);
		c[i] ^= 0x80;
	}
}

Test(tfo_cache, one_cookie_per_destination_replaced_by_newer)
{
	static struct tfo_cache tc;
	memset(&tc, 0, sizeof tc);
	struct synack_addr a = v4(192, 0, 2, 1), b = v4(192, 0, 2, 2);
	uint8_t out[16];
	cr_assert_eq(tfo_cache_get(&tc, &a, out), 0);
	tfo_cache_put(&tc, &a, (const uint8_t *)"ABCDEFGH", 8);
	tfo_cache_put(&tc, &b, (const uint8_t *)"abcd", 4);
	cr_assert_eq(tfo_cache_get(&tc, &a, out), 8);
	cr_assert(!memcmp(out, "ABCDEFGH", 8));
	cr_assert_eq(tfo_cache_get(&tc, &b, out), 4);
	cr_assert(!memcmp(out, "abcd", 4));
	tfo_cache_put(&tc, &a, (const uint8_t *)"12345678", 8);
	cr_assert_eq(tfo_cache_get(&tc, &a, out), 8);
	cr_assert(!memcmp(out, "12345678", 8));
	tfo_cache_put(&tc, &a, (const uint8_t *)"x", 0); /* nothing to cache */
	cr_assert(!memcmp(out, "12345678", 8));
}

Test(tfo_cache, bounded_least_recently_used_goes)
{
	static struct tfo_cache tc;
	memset(&tc, 0, sizeof tc);
	uint8_t out[16], ck[8] = {0};
	for (int i = 0; i < SYNACK_TFO_CACHE_SIZE; i++) {
		struct synack_addr x = v4(10, 0, 1, (uint8_t)i);
		ck[0] = (uint8_t)i;
		tfo_cache_put(&tc, &x, ck, 8);
	}
	struct synack_addr first = v4(10, 0, 1, 0), second = v4(10, 0, 1, 1);
	cr_assert_eq(tfo_cache_get(&tc, &first, out), 8); /* used: now the newest */
	struct synack_addr extra = v4(10, 0, 2, 0);
	tfo_cache_put(&tc, &extra, ck, 8);
	cr_assert_eq(tfo_cache_get(&tc, &second, out), 0, "the least recently used went");
	cr_assert_eq(tfo_cache_get(&tc, &first, out), 8);
	cr_assert_eq(tfo_cache_get(&tc, &extra, out), 8);
	int n = 0;
	for (int i = 0; i < SYNACK_TFO_CACHE_SIZE; i++)
		n += tc.e[i].used != 0;
	cr_assert_eq(n, SYNACK_TFO_CACHE_SIZE);
}

Test(tfo_option, kind_34_request_and_cookie_round_trip_in_linux_layout)
{
	struct synack_tcp_opts o, back;
	memset(&o, 0, sizeof o);
	o.has_mss = true;
	o.mss = 1460;
	o.has_fo = true;
	uint8_t buf[40];
	int n = synack_tcp_opts_emit(&o, true, buf);
	static const uint8_t req[] = {2, 4, 0x05, 0xb4, 34, 2, 1, 1};
	cr_assert_eq(n, 8);
	cr_assert(!memcmp(buf, req, 8));
	o.fo_len = 8;
	memcpy(o.fo_cookie, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	n = synack_tcp_opts_emit(&o, true, buf);
	static const uint8_t ck[] = {2, 4, 0x05, 0xb4, 34, 10, 1, 2, 3, 4, 5, 6, 7, 8, 1, 1};
	cr_assert_eq(n, 16);
	cr_assert(!memcmp(buf, ck, 16));
	cr_assert_eq(synack_tcp_opts_parse(buf, (size_t)n, &back), 0);
	cr_assert(back.has_fo && !back.fo_exp);
	cr_assert_eq(back.fo_len, 8);
	cr_assert(!memcmp(back.fo_cookie, o.fo_cookie, 8));
}

Test(tfo_option, experimental_kind_254_with_magic)
{
	static const uint8_t exp[] = {254, 12, 0xf9, 0x89, 9, 8, 7, 6, 5, 4, 3, 2};
	struct synack_tcp_opts o;
	cr_assert_eq(synack_tcp_opts_parse(exp, sizeof exp, &o), 0);
	cr_assert(o.has_fo && o.fo_exp);
	cr_assert_eq(o.fo_len, 8);
	cr_assert_eq(o.fo_cookie[0], 9);
	uint8_t buf[40];
	cr_assert_eq(synack_tcp_opts_emit(&o, true, buf), 12);
	cr_assert(!memcmp(buf, exp, 12));
	static const uint8_t other_magic[] = {254, 12, 0xf9, 0x88, 9, 8, 7, 6, 5, 4, 3, 2};
	cr_assert_eq(synack_tcp_opts_parse(other_magic, sizeof other_magic, &o), 0);
	cr_assert(!o.has_fo, "another experiment's option is not Fast Open");
}

Test(tfo_option, bad_lengths_ignored_not_fatal)
{
	/* RFC 7413 §4.1.1: a cookie is 4..16 bytes, even; Linux ignores another length. */
	static const uint8_t odd[] = {34, 7, 1, 2, 3, 4, 5, 1};
	static const uint8_t shortc[] = {34, 4, 1, 2};
	struct synack_tcp_opts o;
	cr_assert_eq(synack_tcp_opts_parse(odd, sizeof odd, &o), 0);
	cr_assert(!o.has_fo);
	cr_assert_eq(synack_tcp_opts_parse(shortc, sizeof shortc, &o), 0);
	cr_assert(!o.has_fo);
}
