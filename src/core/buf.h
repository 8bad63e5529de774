/* Byte rings for the send and receive buffers, and the receive side's out-of-order map.
 *
 * The receive ring holds the readable bytes (head..head+len) and, past them, out-of-order data
 * stored directly at its offset from RCV.NXT; a small fixed array of [start, end) sequence
 * ranges says which of those bytes are filled. Nothing is allocated per segment. */
#ifndef SYNACK_CORE_BUF_H
#define SYNACK_CORE_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/seq.h"

struct synack_ring {
	uint8_t *buf;
	uint32_t cap, head, len;
};

static inline uint32_t ring_free(const struct synack_ring *r) { return r->cap - r->len; }

/* Appends up to n bytes; returns how many fit. */
uint32_t ring_write(struct synack_ring *r, const uint8_t *p, uint32_t n);
/* Writes n bytes at offset off from the start of the readable data (off >= len allowed, for
 * out-of-order data); the caller guarantees off + n <= cap. */
void ring_write_at(struct synack_ring *r, uint32_t off, const uint8_t *p, uint32_t n);
/* Copies n bytes starting at offset off of the readable data into out. */
void ring_peek(const struct synack_ring *r, uint32_t off, uint8_t *out, uint32_t n);
/* A pointer to n contiguous bytes at offset off, or NULL when they wrap. */
const uint8_t *ring_span(const struct synack_ring *r, uint32_t off, uint32_t n);
void ring_consume(struct synack_ring *r, uint32_t n);

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
