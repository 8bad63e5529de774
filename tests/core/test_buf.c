/* The byte rings and the out-of-order range map (src/core/buf.h), across the ring's wrap and
 * the 2^32 sequence wrap. */
#include <criterion/criterion.h>
#include <string.h>

#include "core/buf.h"

Test(ring, write_peek_consume_across_wrap)
{
	uint8_t mem[8];
	struct synack_ring r = {mem, sizeof mem, 0, 0};
	cr_assert_eq(ring_write(&r, (const uint8_t *)"abcdef", 6), 6);
	ring_consume(&r, 4);
	cr_assert_eq(ring_free(&r), 6);
	cr_assert_eq(ring_write(&r, (const uint8_t *)"ghijklmn", 8), 6, "only what fits");
	uint8_t out[8];
	ring_peek(&r, 0, out, 8);
	cr_assert_eq(memcmp(out, "efghijkl", 8), 0);
	cr_assert_null(ring_span(&r, 0, 8), "wraps: no contiguous span");
	cr_assert_not_null(ring_span(&r, 0, 4));
	ring_consume(&r, 8);
	cr_assert_eq(r.len, 0);
	cr_assert_eq(r.head, 4, "head kept: out-of-order data may lie past it");
}

Test(ring, write_at_offset_past_len)
{
	uint8_t mem[8];
	struct synack_ring r = {mem, sizeof mem, 6, 0};
	ring_write_at(&r, 3, (const uint8_t *)"XYZ", 3); /* wraps from 1 to 3 */
	ring_write_at(&r, 0, (const uint8_t *)"abc", 3);
	r.len = 6;
	uint8_t out[6];
	ring_peek(&r, 0, out, 6);
	cr_assert_eq(memcmp(out, "abcXYZ", 6), 0);
}

Test(ooo, add_merge_and_advance)
{
	struct synack_ooo_range mem[3];
	struct synack_ooo o = {mem, 0, 3};
	cr_assert(ooo_add(&o, 20, 30));
	cr_assert(ooo_add(&o, 40, 50));
	cr_assert(ooo_add(&o, 60, 70));
	cr_assert_not(ooo_add(&o, 80, 90), "bounded");
	cr_assert(ooo_add(&o, 30, 40), "fills the gap: merges three into one... two");
	cr_assert_eq(o.n, 2);
	cr_assert_eq(o.r[0].start, 20);
	cr_assert_eq(o.r[0].end, 50);
	cr_assert(ooo_add(&o, 15, 65), "covers everything");
	cr_assert_eq(o.n, 1);
	cr_assert_eq(o.r[0].start, 15);
	cr_assert_eq(o.r[0].end, 70);
	cr_assert_eq(ooo_advance(&o, 10), 10, "not reached yet");
	cr_assert_eq(ooo_advance(&o, 15), 70);
	cr_assert_eq(o.n, 0);
}

Test(ooo, sequence_wrap)
{
	struct synack_ooo_range mem[4];
	struct synack_ooo o = {mem, 0, 4};
	cr_assert(ooo_add(&o, 0x10, 0x20));
	cr_assert(ooo_add(&o, 0xFFFFFFF0u, 0x10), "touches across the wrap");
	cr_assert_eq(o.n, 1);
	cr_assert_eq(o.r[0].start, 0xFFFFFFF0u);
	cr_assert_eq(o.r[0].end, 0x20);
}
