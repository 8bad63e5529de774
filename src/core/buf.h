/* Chunked byte rings for the send and receive buffers, the stack's pool of chunks, and the
 * receive side's out-of-order map.
 *
 * A ring is a byte queue addressed by offset from its first byte (head..head+len), with a
 * capacity (cap) that is only a number: its memory is a sorted list of fixed chunks of
 * SYNACK_CHUNK bytes, taken from the stack's pool when bytes are written where no chunk is,
 * and given back as soon as the head leaves a chunk. An empty ring holds no chunk, so an idle
 * connection holds no buffer memory; growing a buffer (autotuning) is raising cap.
 *
 * Chunk positions are absolute (head + offset, modulo 2^32, a chunk starting at a multiple of
 * SYNACK_CHUNK), and the list may have holes: out-of-order data past len is stored at its
 * offset from RCV.NXT in the chunk that position falls in, and a small array of [start, end)
 * sequence ranges says which of those bytes are filled. A cursor (the chunk last touched) and
 * the last chunk make sequential access O(1).
 *
 * The pool keeps up to free_max chunks on a free list, so the steady state takes chunks from
 * and returns them to it without an allocator call (the stack trims it when idle), and enforces the stack-wide limit: no
 * chunk past limit bytes in use, except a ring's first (every connection can make progress).
 * Nothing is allocated per segment. */
#ifndef SYNACK_CORE_BUF_H
#define SYNACK_CORE_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "synack/stack.h"
#include "util/seq.h"

#define SYNACK_CHUNK 16384u /* payload bytes per chunk: a power of two */

struct synack_chunk {
	struct synack_chunk *next; /* the ring's next chunk (higher positions), or the free list */
	uint32_t base;             /* the position of data[0], a multiple of SYNACK_CHUNK */
	uint8_t data[SYNACK_CHUNK];
};

struct synack_chunk_pool {
	struct synack_allocator a; /* where chunks come from */
	struct synack_chunk *free_list;
	uint32_t nfree, free_max;
	size_t used;    /* bytes of the chunks rings hold (sizeof(struct synack_chunk) each) */
	size_t limit;   /* used stays at or below it (0: no limit), a ring's first chunk aside */
	uint64_t refused; /* chunks not given: over the limit, or the allocator failed */
};

/* Frees the chunks on the free list (the rings must have given theirs back). */
void chunk_pool_fini(struct synack_chunk_pool *p);

struct synack_ring {
	struct synack_chunk *first, *last, *cur;
	uint32_t head;    /* the position of the first byte */
	uint32_t len;     /* bytes from head on (readable, or queued to send) */
	uint32_t cap;     /* the most len (and out-of-order data past it) may reach */
	uint32_t hi;      /* the end of the highest bytes ever written (out-of-order included) */
	uint32_t nchunks;
};

static inline uint32_t ring_free(const struct synack_ring *r)
{
	return r->cap > r->len ? r->cap - r->len : 0;
}
/* The memory the ring holds, in bytes. */
static inline size_t ring_mem(const struct synack_ring *r)
{
	return (size_t)r->nchunks * sizeof(struct synack_chunk);
}

/* Appends up to n bytes; returns how many fit (in cap, and in the chunks the pool gave). */
uint32_t ring_write(struct synack_ring *r, struct synack_chunk_pool *p, const uint8_t *d,
		    uint32_t n);
/* Writes n bytes at offset off from the head (off >= len allowed, for out-of-order data); the
 * caller guarantees off + n <= cap. All or nothing: false when a chunk could not be had. */
bool ring_write_at(struct synack_ring *r, struct synack_chunk_pool *p, uint32_t off,
		   const uint8_t *d, uint32_t n);
/* Copies n bytes starting at offset off (bytes that were written) into out. */
void ring_peek(struct synack_ring *r, uint32_t off, uint8_t *out, uint32_t n);
/* A pointer to n contiguous bytes at offset off, or NULL when they cross a chunk's end. */
const uint8_t *ring_span(struct synack_ring *r, uint32_t off, uint32_t n);
/* Drops n bytes from the head; chunks the head has left go back to the pool, and all of them
 * when the ring is empty and nothing was written past the head. */
void ring_consume(struct synack_ring *r, struct synack_chunk_pool *p, uint32_t n);
/* Gives back every chunk that holds nothing of head..head+len (out-of-order data dropped). */
void ring_drop_past(struct synack_ring *r, struct synack_chunk_pool *p);
/* Gives every chunk back and empties the ring (cap kept). */
void ring_release(struct synack_ring *r, struct synack_chunk_pool *p);

/* Out-of-order ranges, sorted, disjoint, non-adjacent. */
struct synack_ooo_range {
	seq_t start, end;
};
struct synack_ooo {
	struct synack_ooo_range *r;
	uint32_t n, cap;
};

/* Records [start, end), merging with neighbours. Returns false when a new range would exceed
 * cap (the data must then be dropped). */
bool ooo_add(struct synack_ooo *o, seq_t start, seq_t end);
/* If the first range begins at or before rcv_nxt, removes it and returns its end (the new
 * RCV.NXT); else returns rcv_nxt. */
seq_t ooo_advance(struct synack_ooo *o, seq_t rcv_nxt);

#endif
