/* The Internet checksum (RFC 1071) and the TCP pseudo-header (RFC 9293 §3.1).
 *
 * RFC 1071 §1: "Adjacent octets to be checksummed are paired to form 16-bit integers, and the
 * 1's complement sum of these 16-bit integers is formed." The sum is kept as a wide integer and
 * folded (end-around carry) only at the end, which RFC 1071 §2(B) shows is equivalent. */
#include "synack/wire.h"

/* Adds len bytes, read as big-endian 16-bit words, to a running sum. An odd trailing byte is
 * the high byte of a word whose low byte is zero (RFC 1071 §4.1), so only the last chunk of a
 * multi-chunk sum may have an odd length. */
/* The next 8 bytes as a big-endian integer (compilers turn this into one load and a byte
 * swap). */
static uint64_t load_be64(const uint8_t *p)
{
	return (uint64_t)p[0] << 56 | (uint64_t)p[1] << 48 | (uint64_t)p[2] << 40 |
	       (uint64_t)p[3] << 32 | (uint64_t)p[4] << 24 | (uint64_t)p[5] << 16 |
	       (uint64_t)p[6] << 8 | p[7];
}

/* The exact sum of the big-endian 16-bit words of n*8 bytes, four words per step: words 0 and
 * 2 of each 8 bytes go to the two 32-bit lanes of one accumulator, words 1 and 3 to the other.
 * A lane gains at most 0xffff per step, so n <= 65536 steps cannot carry out of it. */
static uint64_t sum_words8(const uint8_t *p, size_t n)
{
	const uint64_t lanes = 0x0000ffff0000ffffull;
	uint64_t even = 0, odd = 0;
	for (size_t k = 0; k < n; k++, p += 8) {
		uint64_t x = load_be64(p);
		even += x >> 16 & lanes;
		odd += x & lanes;
	}
	return (even >> 32) + (even & 0xffffffffu) + (odd >> 32) + (odd & 0xffffffffu);
}

uint32_t synack_csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t acc = sum;
	size_t i = 0;

	/* The hot part of every segment sent and received: 8 bytes per step, same exact sum. */
	while (len - i >= 8) {
		size_t n = (len - i) / 8 < 65536 ? (len - i) / 8 : 65536;
		acc += sum_words8(p + i, n);
		i += n * 8;
	}
	for (; i + 1 < len; i += 2)
		acc += (uint32_t)p[i] << 8 | p[i + 1];
	if (i < len)
		acc += (uint32_t)p[i] << 8;
	/* Fold into 32 bits so the caller can keep adding; the 1's complement sum is unchanged. */
	while (acc >> 32)
		acc = (acc & 0xffffffffu) + (acc >> 32);
	return (uint32_t)acc;
}

/* Folds the carries back in and returns the 1's complement of the 16-bit sum. */
uint16_t synack_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffffu) + (sum >> 16);
	return (uint16_t)~sum;
}

/* RFC 9293 §3.1: "The checksum also covers a pseudo-header conceptually prefixed to the TCP
 * header": source address, destination address, zero, PTCL (6), TCP length.
 * RFC 8200 §8.1 for IPv6: source address, destination address, the 32-bit upper-layer packet
 * length, three zero bytes and the next header (6). Either sums to the same 16-bit words
 * apart from the addresses' width, so one function serves both. */
static uint32_t tcp_pseudo_sum(const struct synack_addr *src, const struct synack_addr *dst,
			       size_t len)
{
	uint32_t sum = 0;

	if (synack_addr_is_v4(src) && synack_addr_is_v4(dst)) {
		sum = synack_csum_add(sum, src->b + 12, 4);
		sum = synack_csum_add(sum, dst->b + 12, 4);
		sum += (uint32_t)(len & 0xffffu);
	} else {
		sum = synack_csum_add(sum, src->b, 16);
		sum = synack_csum_add(sum, dst->b, 16);
		sum += (uint32_t)(len >> 16 & 0xffffu);
		sum += (uint32_t)(len & 0xffffu);
	}
	sum += SYNACK_PROTO_TCP;
	return sum;
}

uint16_t synack_tcp_csum(const struct synack_addr *src, const struct synack_addr *dst,
			 const uint8_t *tcp, size_t len)
{
	return synack_csum_fold(synack_csum_add(tcp_pseudo_sum(src, dst, len), tcp, len));
}

/* The pseudo-header alone, folded and not complemented: what a sender that leaves the rest
 * to checksum offload puts in the checksum field (frame.h, SYNACK_CSUM_NEEDED). */
uint16_t synack_tcp_pseudo_csum(const struct synack_addr *src, const struct synack_addr *dst,
				size_t len)
{
	return (uint16_t)~synack_csum_fold(tcp_pseudo_sum(src, dst, len));
}
