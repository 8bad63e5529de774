/* The Internet checksum (RFC 1071) and the TCP pseudo-header checksum. */
#include <criterion/criterion.h>
#include <string.h>

#include "synack/wire.h"

/* A pointer to the IPv4 address x (host order) as a synack_addr, for the codec. */
#define ST_V4(x) (&(const struct synack_addr[1]){synack_addr_v4(x)}[0])

/* RFC 1071 §3, "Numerical Examples": bytes 00 01 f2 03 f4 f5 f6 f7 sum (with end-around
 * carry) to ddf2, whose complement 220d is the checksum. */
Test(csum, rfc1071_example)
{
	static const uint8_t b[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
	uint32_t sum = synack_csum_add(0, b, sizeof(b));
	cr_assert_eq(sum, 0x2ddf0u, "unfolded sum 0001+f203+f4f5+f6f7");
	cr_assert_eq(synack_csum_fold(sum), 0x220d);
}

/* RFC 1071 §2(B): the sum may be computed in any grouping; split at even offsets it is equal. */
Test(csum, incremental_equals_whole)
{
	uint8_t b[100];
	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(i * 37 + 11);
	uint32_t whole = synack_csum_add(0, b, sizeof(b));
	for (size_t cut = 0; cut <= sizeof(b); cut += 2) {
		uint32_t part = synack_csum_add(synack_csum_add(0, b, cut), b + cut,
						sizeof(b) - cut);
		cr_assert_eq(synack_csum_fold(part), synack_csum_fold(whole), "cut at %zu", cut);
	}
}

/* RFC 1071 §4.1: an odd final byte is padded with a zero byte on the right. */
Test(csum, odd_length_pads_with_zero)
{
	static const uint8_t odd[] = {0x12, 0x34, 0x56};
	static const uint8_t even[] = {0x12, 0x34, 0x56, 0x00};
	cr_assert_eq(synack_csum_add(0, odd, 3), 0x1234u + 0x5600u);
	cr_assert_eq(synack_csum_fold(synack_csum_add(0, odd, 3)),
		     synack_csum_fold(synack_csum_add(0, even, 4)));
	static const uint8_t one[] = {0xab};
	cr_assert_eq(synack_csum_fold(synack_csum_add(0, one, 1)), (uint16_t)~0xab00);
}

Test(csum, empty_and_all_ones)
{
	cr_assert_eq(synack_csum_fold(synack_csum_add(0, "", 0)), 0xffff);
	static const uint8_t ff[] = {0xff, 0xff, 0xff, 0xff};
	cr_assert_eq(synack_csum_fold(synack_csum_add(0, ff, 4)), 0x0000);
}

/* A carry that overflows 32 bits in a long buffer must still fold correctly. */
Test(csum, long_buffer_carries)
{
	static uint8_t b[200000];
	memset(b, 0xff, sizeof(b));
	/* 100000 words of ffff: in 1's complement, ffff is -0, so the sum stays ffff. */
	cr_assert_eq(synack_csum_fold(synack_csum_add(0, b, sizeof(b))), 0x0000);
	b[0] = 0x00; /* one word 00ff: (ffff*99999 + 00ff) folds to 00ff */
	cr_assert_eq(synack_csum_fold(synack_csum_add(0, b, sizeof(b))), (uint16_t)~0x00ff);
}

/* The well-known IPv4 header 4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7. */
Test(csum, ipv4_header_example)
{
	uint8_t h[] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
		       0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
	cr_assert_eq(synack_csum_fold(synack_csum_add(0, h, sizeof(h))), 0xb861);
	h[10] = 0xb8;
	h[11] = 0x61;
	cr_assert_eq(synack_csum_fold(synack_csum_add(0, h, sizeof(h))), 0, "valid verifies to 0");
}

/* The pseudo-header: src, dst, zero, protocol 6, TCP length. Computed by hand for a bare
 * 20-byte header of zeros between 10.0.0.1 and 10.0.0.2:
 * 0a00+0001+0a00+0002+0006+0014 = 0x141d, complement 0xebe2. */
Test(csum, tcp_pseudo_header)
{
	uint8_t t[20] = {0};
	cr_assert_eq(synack_tcp_csum(ST_V4(0x0a000001), ST_V4(0x0a000002), t, 20), 0xebe2);
	t[16] = 0xeb;
	t[17] = 0xe2;
	cr_assert_eq(synack_tcp_csum(ST_V4(0x0a000001), ST_V4(0x0a000002), t, 20), 0);
	/* Swapping addresses does not change a 1's complement sum; changing one does. */
	cr_assert_eq(synack_tcp_csum(ST_V4(0x0a000002), ST_V4(0x0a000001), t, 20), 0);
	cr_assert_neq(synack_tcp_csum(ST_V4(0x0a000003), ST_V4(0x0a000001), t, 20), 0);
}

/* Odd TCP length: the pseudo-header counts the true length, the data is zero-padded. */
Test(csum, tcp_odd_length)
{
	uint8_t t[21] = {0};
	t[20] = 0x41;
	/* 0x141d - 0x14 + 0x15 + 0x4100 = 0x551e -> ~ = 0xaae1 */
	cr_assert_eq(synack_tcp_csum(ST_V4(0x0a000001), ST_V4(0x0a000002), t, 21), 0xaae1);
}

/* The sum is taken 8 bytes at a time: it must equal, exactly and before folding, the sum of the
 * big-endian 16-bit words one by one, at every length and alignment, and past the 512 KiB
 * blocks after which the wide lanes are emptied. */
static uint32_t csum_reference(uint32_t sum, const uint8_t *p, size_t len)
{
	uint64_t acc = sum;
	size_t i = 0;
	for (; i + 1 < len; i += 2)
		acc += (uint32_t)p[i] << 8 | p[i + 1];
	if (i < len)
		acc += (uint32_t)p[i] << 8;
	while (acc >> 32)
		acc = (acc & 0xffffffffu) + (acc >> 32);
	return (uint32_t)acc;
}

Test(csum, wide_sum_is_exact)
{
	static uint8_t b[(1u << 20) + 64];
	uint32_t x = 12345;
	for (size_t i = 0; i < sizeof(b); i++) {
		x = x * 1103515245u + 12345u;
		b[i] = (uint8_t)(x >> 16);
	}
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; len <= 300; len++)
			cr_assert_eq(synack_csum_add(0xfedcba98u, b + off, len),
				     csum_reference(0xfedcba98u, b + off, len), "off %zu len %zu", off,
				     len);
	cr_assert_eq(synack_csum_add(7, b + 3, sizeof(b) - 3), csum_reference(7, b + 3, sizeof(b) - 3));
	memset(b, 0xff, sizeof(b));
	cr_assert_eq(synack_csum_add(0, b, sizeof(b) - 1), csum_reference(0, b, sizeof(b) - 1));
}

/* RFC 8200 §8.1: the IPv6 pseudo-header is the two 16-byte addresses, the 32-bit upper-layer
 * length, three zero bytes and the next header. Values computed independently (by hand, from
 * the words): 2001:db8::1 -> 2001:db8::2, 20 zero bytes, then 21 bytes ending in 0x41. */
Test(csum, tcp_ipv6_pseudo_header)
{
	static const uint8_t s6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	static const uint8_t d6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
	struct synack_addr src = synack_addr_v6(s6), dst = synack_addr_v6(d6);
	uint8_t t[21] = {0};
	cr_assert_eq(synack_tcp_csum(&src, &dst, t, 20), 0xa470);
	t[16] = 0xa4;
	t[17] = 0x70;
	cr_assert_eq(synack_tcp_csum(&src, &dst, t, 20), 0);
	t[16] = t[17] = 0;
	t[20] = 0x41;
	cr_assert_eq(synack_tcp_csum(&src, &dst, t, 21), 0x636f);
	/* An IPv4 pair sums the 4-byte addresses only: not the same as the mapped 16 bytes. */
	uint8_t z[20] = {0};
	uint16_t v4 = synack_tcp_csum(ST_V4(0x0a000001), ST_V4(0x0a000002), z, 20);
	cr_assert_eq(v4, 0xebe2);
}
