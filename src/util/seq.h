/* synack util — sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4: "all arithmetic
 * dealing with sequence numbers must be performed modulo 2**32"), for the core and the
 * renderers alike. Every comparison of sequence numbers goes through these helpers; a raw `<`
 * on two sequence numbers is a bug. */
#ifndef SYNACK_UTIL_SEQ_H
#define SYNACK_UTIL_SEQ_H

#include <stdbool.h>
#include <stdint.h>

typedef uint32_t seq_t;

static inline int32_t seq_diff(seq_t a, seq_t b) { return (int32_t)(a - b); }
static inline bool seq_lt(seq_t a, seq_t b) { return seq_diff(a, b) < 0; }
static inline bool seq_le(seq_t a, seq_t b) { return seq_diff(a, b) <= 0; }
static inline bool seq_gt(seq_t a, seq_t b) { return seq_diff(a, b) > 0; }
static inline bool seq_ge(seq_t a, seq_t b) { return seq_diff(a, b) >= 0; }
static inline seq_t seq_add(seq_t a, uint32_t n) { return a + n; }
/* lo <= x < hi, modulo 2^32 (an empty range when lo == hi). */
static inline bool seq_in(seq_t x, seq_t lo, seq_t hi) { return seq_le(lo, x) && seq_lt(x, hi); }
/* lo <= x <= hi. */
static inline bool seq_between(seq_t x, seq_t lo, seq_t hi)
{
	return seq_le(lo, x) && seq_le(x, hi);
}
static inline seq_t seq_max(seq_t a, seq_t b) { return seq_gt(a, b) ? a : b; }
static inline seq_t seq_min(seq_t a, seq_t b) { return seq_lt(a, b) ? a : b; }

#endif
