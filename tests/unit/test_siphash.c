/* SipHash-2-4 against the reference vectors of the paper (Appendix A and vectors.h): key
 * 00 01 .. 0f, message 00 01 .. (n-1), output read as a little-endian 64-bit integer. */
#include <criterion/criterion.h>
#include <string.h>

#include "core/siphash.h"

static void ref_key(uint8_t k[16])
{
	for (int i = 0; i < 16; i++)
		k[i] = (uint8_t)i;
}

static uint64_t ref_hash(size_t n)
{
	uint8_t k[16], m[64] = {0};
	ref_key(k);
	for (size_t i = 0; i < n; i++)
		m[i] = (uint8_t)i;
	return synack_siphash24(k, m, n);
}

Test(siphash, reference_vectors)
{
	static const uint64_t want[] = {
		0x726fdb47dd0e0e31u, 0x74f839c593dc67fdu, 0x0d6c8009d9a94f5au,
		0x85676696d7fb7e2du, 0xcf2794e0277187b7u, 0x18765564cd99a68du,
		0xcbc9466e58fee3ceu, 0xab0200f58b01d137u, 0x93f5f5799a932462u,
	};
	for (size_t n = 0; n < sizeof(want) / sizeof(want[0]); n++)
		cr_assert_eq(ref_hash(n), want[n], "message of %zu bytes: %016llx", n,
			     (unsigned long long)ref_hash(n));
}

/* The paper's worked example (Appendix A): 15 bytes 00..0e give a129ca6149be45e5. */
Test(siphash, paper_example_15_bytes)
{
	cr_assert_eq(ref_hash(15), 0xa129ca6149be45e5u);
}

Test(siphash, last_vector_63_bytes)
{
	cr_assert_eq(ref_hash(63), 0x958a324ceb064572u);
}

/* Every length crosses the word boundary differently; results must all differ and must not
 * depend on the buffer's alignment. */
Test(siphash, lengths_and_alignment)
{
	uint8_t k[16];
	ref_key(k);
	uint64_t h[64];
	for (size_t n = 0; n < 64; n++) {
		h[n] = ref_hash(n);
		for (size_t j = 0; j < n; j++)
			cr_assert_neq(h[n], h[j], "lengths %zu and %zu collide", n, j);
	}
	uint8_t buf[80];
	for (size_t off = 0; off < 8; off++) {
		for (size_t i = 0; i < 40; i++)
			buf[off + i] = (uint8_t)i;
		cr_assert_eq(synack_siphash24(k, buf + off, 40), h[40], "offset %zu", off);
	}
}

Test(siphash, key_matters)
{
	uint8_t k[16];
	ref_key(k);
	uint64_t a = synack_siphash24(k, "tuple", 5);
	k[15] ^= 1;
	cr_assert_neq(synack_siphash24(k, "tuple", 5), a);
	k[15] ^= 1;
	cr_assert_eq(synack_siphash24(k, "tuple", 5), a);
}
