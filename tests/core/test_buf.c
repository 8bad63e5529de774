/* The byte rings and the out-of-order range map (src/core/buf.h), across the ring's wrap and
 * the 2^32 sequence wrap. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

/* A pool over a counting malloc: chunks live, chunks ever allocated. */
struct counting {
	long live, allocs;
	long fail_after; /* allocations left before failing (-1: never) */
};
static void *c_alloc(void *ctx, size_t n)
{
	struct counting *k = ctx;
	if (k->fail_after == 0)
		return NULL;
	if (k->fail_after > 0)
		k->fail_after--;
	k->live++;
	k->allocs++;
	return malloc(n);
}
static void c_free(void *ctx, void *p, size_t n)
{
	(void)n;
	((struct counting *)ctx)->live--;
	free(p);
}
static struct synack_chunk_pool pool_of(struct counting *k, uint32_t free_max, size_t limit)
{
	*k = (struct counting){.fail_after = -1};
	return (struct synack_chunk_pool){.a = {c_alloc, c_free, k}, .free_max = free_max,
					  .limit = limit};
}

static uint8_t pat(uint32_t i) { return (uint8_t)(i * 7 + (i >> 8)); }

Test(ring, an_empty_ring_holds_no_chunk_and_memory_follows_the_data)
{
	struct counting k;
	struct synack_chunk_pool p = pool_of(&k, 0, 0);
	struct synack_ring r = {.cap = 5 * SYNACK_CHUNK, .head = SYNACK_CHUNK - 10};
	r.hi = r.head;
	static uint8_t in[3 * SYNACK_CHUNK], out[3 * SYNACK_CHUNK];
	for (uint32_t i = 0; i < sizeof in; i++)
		in[i] = pat(i);
	cr_assert_eq(ring_write(&r, &p, in, 20), 20);
	cr_assert_eq(r.nchunks, 2, "10 bytes in one chunk, 10 in the next");
	cr_assert_eq(p.used, 2 * sizeof(struct synack_chunk));
	cr_assert_eq(ring_write(&r, &p, in + 20, 2 * SYNACK_CHUNK), 2 * SYNACK_CHUNK);
	cr_assert_eq(r.nchunks, 4, "10 + 16384 + 16384 + 10 bytes");
	ring_peek(&r, 0, out, r.len);
	cr_assert_eq(memcmp(in, out, r.len), 0, "byte-exact across chunks");
	cr_assert_null(ring_span(&r, 5, 10), "crosses a chunk's end");
	cr_assert_eq(ring_span(&r, 10, 100)[0], in[10]);
	ring_consume(&r, &p, 15);
	cr_assert_eq(r.nchunks, 3, "the head left the first chunk: it went back");
	ring_consume(&r, &p, r.len);
	cr_assert_eq(r.nchunks, 0, "empty: nothing held");
	cr_assert_eq(p.used, 0);
	cr_assert_eq(k.live, 0, "no free list: back to the allocator");
}

Test(ring, out_of_order_data_takes_only_its_own_chunks)
{
	struct counting k;
	struct synack_chunk_pool p = pool_of(&k, 8, 0);
	struct synack_ring r = {.cap = 64 * SYNACK_CHUNK, .head = 0xFFFFFFFFu - 100};
	r.hi = r.head;
	static uint8_t in[8 * SYNACK_CHUNK], out[8 * SYNACK_CHUNK];
	for (uint32_t i = 0; i < sizeof in; i++)
		in[i] = pat(i);
	/* 6 chunks ahead, across the 2^32 wrap of positions. */
	cr_assert(ring_write_at(&r, &p, 6 * SYNACK_CHUNK, in + 6 * SYNACK_CHUNK, 100));
	cr_assert_eq(r.nchunks, 1, "a hole before it holds nothing");
	cr_assert(ring_write_at(&r, &p, 0, in, 6 * SYNACK_CHUNK));
	r.len = 6 * SYNACK_CHUNK + 100;
	ring_peek(&r, 0, out, r.len);
	cr_assert_eq(memcmp(in, out, r.len), 0);
	ring_consume(&r, &p, r.len);
	cr_assert_eq(r.nchunks, 0);
	cr_assert_eq(k.live, 7, "the free list keeps them (up to free_max)");
	cr_assert_eq(ring_write(&r, &p, in, 10), 10);
	cr_assert_eq(k.allocs, 7, "taken from the free list: no allocator call");
	ring_release(&r, &p);
	chunk_pool_fini(&p);
	cr_assert_eq(k.live, 0);
}

Test(ring, the_limit_refuses_chunks_but_not_a_rings_first)
{
	struct counting k;
	struct synack_chunk_pool p = pool_of(&k, 0, sizeof(struct synack_chunk));
	struct synack_ring a = {.cap = 4 * SYNACK_CHUNK}, b = {.cap = 4 * SYNACK_CHUNK};
	static uint8_t in[2 * SYNACK_CHUNK];
	cr_assert_eq(ring_write(&a, &p, in, 2 * SYNACK_CHUNK), SYNACK_CHUNK,
		     "one chunk: the limit stops the second");
	cr_assert_eq(p.refused, 1);
	cr_assert_eq(ring_write(&b, &p, in, 10), 10, "a ring's first chunk is always given");
	cr_assert_not(ring_write_at(&b, &p, SYNACK_CHUNK + 5, in, 2 * SYNACK_CHUNK),
		      "all or nothing");
	cr_assert_eq(b.nchunks, 1);
	ring_release(&a, &p);
	ring_release(&b, &p);
	k.fail_after = 0;
	cr_assert_eq(ring_write(&a, &p, in, 10), 0, "the allocator failed: nothing written");
	cr_assert_eq(a.len, 0);
	cr_assert_eq(k.live, 0);
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
