/* Addresses of both families: the representation, text out (dotted quad, RFC 5952) and text in
 * (dotted quad, RFC 4291 §2.2), with malformed input refused. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "synack/addr.h"

static struct synack_addr v6(const uint8_t b[16])
{
	return synack_addr_v6(b);
}

static const char *str(const struct synack_addr *a)
{
	static char buf[SYNACK_ADDR_STRLEN];
	return synack_addr_str(a, buf, sizeof buf);
}

/* ---- the representation ------------------------------------------------------------------ */

Test(addr, ipv4_is_held_mapped)
{
	struct synack_addr a = synack_addr_v4(0x0a000002u);
	static const uint8_t want[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 2};
	cr_assert_eq(memcmp(a.b, want, 16), 0);
	cr_assert(synack_addr_is_v4(&a));
	cr_assert_eq(synack_addr_family(&a), SYNACK_AF_INET);
	cr_assert_eq(synack_addr_get_v4(&a), 0x0a000002u);
	cr_assert_not(synack_addr_is_any(&a));
}

Test(addr, unspecified_of_both_families)
{
	struct synack_addr a4 = synack_addr_any(SYNACK_AF_INET);
	struct synack_addr a6 = synack_addr_any(SYNACK_AF_INET6);
	cr_assert(synack_addr_is_any(&a4));
	cr_assert(synack_addr_is_any(&a6));
	cr_assert(synack_addr_is_v4(&a4));
	cr_assert_eq(synack_addr_family(&a6), SYNACK_AF_INET6);
	cr_assert_not(synack_addr_eq(&a4, &a6), "0.0.0.0 and :: are different addresses");
	static const uint8_t one[16] = {[15] = 1};
	struct synack_addr lo = v6(one);
	cr_assert_not(synack_addr_is_any(&lo));
	cr_assert_not(synack_addr_is_v4(&lo), "::1 is not IPv4-mapped");
}

/* ---- text out ----------------------------------------------------------------------------- */

Test(addr, str_ipv4_dotted_quad)
{
	struct synack_addr a = synack_addr_v4(0xc0000201u);
	cr_assert_str_eq(str(&a), "192.0.2.1");
	a = synack_addr_v4(0);
	cr_assert_str_eq(str(&a), "0.0.0.0");
	a = synack_addr_v4(0xffffffffu);
	cr_assert_str_eq(str(&a), "255.255.255.255");
	a = synack_addr_v4(0x0a00640au);
	cr_assert_str_eq(str(&a), "10.0.100.10");
}

Test(addr, str_rfc5952_canonical)
{
	static const struct {
		uint8_t b[16];
		const char *want;
	} cases[] = {
		/* §4.1 leading zeros suppressed, §4.3 lowercase */
		{{0x20, 0x01, 0x0d, 0xb8, [15] = 1}, "2001:db8::1"},
		{{0xfe, 0x80, [13] = 0xab, [14] = 0xcd, [15] = 0xef}, "fe80::ab:cdef"},
		/* §4.2.2: one zero group is not shortened */
		{{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1},
		 "2001:db8:0:1:1:1:1:1"},
		/* §4.2.3: the longest run is shortened ... */
		{{0x20, 0x01, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1}, "2001:0:0:1::1"},
		/* ... the first of two equal runs */
		{{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1}, "2001:db8::1:0:0:1"},
		{{0, 1, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3}, "1:0:0:2::3"},
		/* runs at either end, and everything */
		{{0}, "::"},
		{{[15] = 1}, "::1"},
		{{0, 1}, "1::"},
		{{[5] = 1}, "0:0:1::"},
		{{[3] = 1}, "0:1::"},
		{{0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8}, "1:2:3:4:5:6:7:8"},
		{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		  0xff, 0xff, 0xff},
		 "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
		/* only ::ffff:0:0/96 is IPv4; the NAT64 prefix is plain IPv6 */
		{{0, 0x64, 0xff, 0x9b, [12] = 1, 2, 3, 4}, "64:ff9b::102:304"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct synack_addr a = v6(cases[i].b);
		cr_assert_str_eq(str(&a), cases[i].want, "case %zu", i);
	}
}

Test(addr, str_longest_fits_and_small_buffers_truncate)
{
	static const uint8_t b[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
				      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	struct synack_addr a = v6(b);
	char buf[SYNACK_ADDR_STRLEN];
	cr_assert_eq(strlen(synack_addr_str(&a, buf, sizeof buf)), 39);
	char small[5];
	memset(small, 'x', sizeof small);
	cr_assert_str_eq(synack_addr_str(&a, small, sizeof small), "ffff");
	char none = 'x';
	cr_assert_eq(synack_addr_str(&a, &none, 0), &none);
	cr_assert_eq(none, 'x', "cap 0 writes nothing");
}

/* ---- text in ------------------------------------------------------------------------------ */

Test(addr, parse_dotted_quad)
{
	struct synack_addr a;
	cr_assert_eq(synack_addr_parse("10.0.0.2", &a), 0);
	cr_assert(synack_addr_is_v4(&a));
	cr_assert_eq(synack_addr_get_v4(&a), 0x0a000002u);
	cr_assert_eq(synack_addr_parse("0.0.0.0", &a), 0);
	cr_assert(synack_addr_is_v4(&a) && synack_addr_is_any(&a));
	cr_assert_eq(synack_addr_parse("255.255.255.255", &a), 0);
	cr_assert_eq(synack_addr_get_v4(&a), 0xffffffffu);
}

Test(addr, parse_ipv6_forms)
{
	static const struct {
		const char *text;
		uint8_t b[16];
	} cases[] = {
		{"::", {0}},
		{"::1", {[15] = 1}},
		{"1::", {0, 1}},
		{"2001:DB8::1", {0x20, 0x01, 0x0d, 0xb8, [15] = 1}},
		{"2001:0db8:0000:0000:0000:0000:0000:0001", {0x20, 0x01, 0x0d, 0xb8, [15] = 1}},
		{"1:2:3:4:5:6:7:8", {0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8}},
		{"1:2:3:4:5:6:7::", {0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0}},
		{"::2:3:4:5:6:7:8", {0, 0, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8}},
		{"1:2::7:8", {0, 1, 0, 2, [12] = 0, 7, 0, 8}},
		/* RFC 4291 §2.2 (3): a dotted quad for the low 32 bits */
		{"::ffff:192.0.2.1", {[10] = 0xff, 0xff, 192, 0, 2, 1}},
		{"64:ff9b::1.2.3.4", {0, 0x64, 0xff, 0x9b, [12] = 1, 2, 3, 4}},
		{"1:2:3:4:5:6:1.2.3.4", {0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 1, 2, 3, 4}},
		{"::1.2.3.4", {[12] = 1, 2, 3, 4}},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct synack_addr a;
		cr_assert_eq(synack_addr_parse(cases[i].text, &a), 0, "%s", cases[i].text);
		cr_assert_eq(memcmp(a.b, cases[i].b, 16), 0, "%s", cases[i].text);
	}
	/* The mapped form is the IPv4 address itself, and prints as a dotted quad. */
	struct synack_addr a;
	cr_assert_eq(synack_addr_parse("::FFFF:10.0.0.2", &a), 0);
	cr_assert(synack_addr_is_v4(&a));
	cr_assert_str_eq(str(&a), "10.0.0.2");
}

Test(addr, parse_malformed_is_einval_and_leaves_out_alone)
{
	static const char *const bad[] = {
		"", "1", "1.2.3", "1.2.3.4.5", "1.2.3.256", "01.2.3.4", "1.2.3.04", "1..3.4",
		"1.2.3.4.", ".1.2.3.4", " 1.2.3.4", "1.2.3.4 ", "1.2.3.-4", "1.2.3.4x",
		"1234.1.1.1",
		":", ":::", ":1::2", "1:", "1::2:", "1::2::3", "1:2:3:4:5:6:7:8:9",
		"1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8", "12345::", "g::",
		"1:2:3:4:5:6:7:1.2.3.4", "::1.2.3", "::1.2.3.4:5", "::1.2.3.4.5", "1.2.3.4::",
		"::01.2.3.4", "::256.1.1.1", "[::1]", "::1%eth0", "::-1", "0x1::", "1: :2",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct synack_addr a = synack_addr_v4(0x01020304u);
		cr_assert_eq(synack_addr_parse(bad[i], &a), -EINVAL, "\"%s\"", bad[i]);
		cr_assert_eq(synack_addr_get_v4(&a), 0x01020304u, "\"%s\" left out alone", bad[i]);
		cr_assert(synack_addr_is_v4(&a));
	}
	struct synack_addr a;
	cr_assert_eq(synack_addr_parse(NULL, &a), -EINVAL);
	cr_assert_eq(synack_addr_parse("::1", NULL), -EINVAL);
}

/* Text out, then in, gives the same address; canonical text in, then out, the same text. */
Test(addr, round_trip)
{
	uint8_t b[16];
	uint32_t x = 12345;
	for (int n = 0; n < 20000; n++) {
		for (int i = 0; i < 16; i++) {
			x = x * 1103515245u + 12345u;
			uint8_t r = (uint8_t)(x >> 16);
			/* many zero groups, so that every run placement is tried */
			b[i] = (x >> 8 & 3) ? 0 : r;
		}
		if (n % 4 == 0)
			memcpy(b, (const uint8_t[12]){[10] = 0xff, 0xff}, 12); /* IPv4 */
		struct synack_addr a = v6(b), back;
		char t1[SYNACK_ADDR_STRLEN], t2[SYNACK_ADDR_STRLEN];
		synack_addr_str(&a, t1, sizeof t1);
		cr_assert_eq(synack_addr_parse(t1, &back), 0, "%s", t1);
		cr_assert(synack_addr_eq(&a, &back), "%s", t1);
		cr_assert_str_eq(synack_addr_str(&back, t2, sizeof t2), t1);
	}
}
