/* Helpers shared by the libFuzzer targets in fuzz/ (and by tests/fuzz/test_regress.c, which
 * replays their corpora and every crash ever found through the same harness functions).
 *
 * A target defines `int synack_fuzz_<name>(const uint8_t *data, size_t len)` and, unless
 * SYNACK_FUZZ_NO_MAIN is defined, LLVMFuzzerTestOneInput calling it. A broken invariant prints
 * one "fuzz-invariant:" line and aborts, so libFuzzer keeps the input as a crash artifact. */
#ifndef SYNACK_FUZZ_H
#define SYNACK_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(cond, ...)                                                                     \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz-invariant: %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* A counting allocator for a stack under test: cfg.allocator =
 * (struct synack_allocator){fuzz_count_alloc, fuzz_count_free, &counts}. After destroy both
 * counts must be zero; a free of more than was taken breaks an invariant. */
struct fuzz_alloc_count {
	size_t blocks, bytes;
};

static inline void *fuzz_count_alloc(void *ctx, size_t n)
{
	struct fuzz_alloc_count *a = ctx;
	void *p = malloc(n);
	if (p) {
		a->blocks++;
		a->bytes += n;
	}
	return p;
}

static inline void fuzz_count_free(void *ctx, void *p, size_t n)
{
	struct fuzz_alloc_count *a = ctx;
	if (!p)
		return;
	FUZZ_ASSERT(a->blocks > 0 && a->bytes >= n, "free of %zu bytes not allocated", n);
	a->blocks--;
	a->bytes -= n;
	free(p);
}

/* Consumes fuzzer bytes front to back; past the end everything reads as zero. */
struct fuzz_input {
	const uint8_t *p;
	size_t n;
};

static inline bool fuzz_empty(const struct fuzz_input *in)
{
	return in->n == 0;
}

static inline uint8_t fuzz_u8(struct fuzz_input *in)
{
	if (in->n == 0)
		return 0;
	in->n--;
	return *in->p++;
}

static inline uint16_t fuzz_u16(struct fuzz_input *in)
{
	uint16_t hi = fuzz_u8(in);
	return (uint16_t)(hi << 8 | fuzz_u8(in));
}

static inline uint32_t fuzz_u32(struct fuzz_input *in)
{
	uint32_t hi = fuzz_u16(in);
	return hi << 16 | fuzz_u16(in);
}

/* Up to max bytes (the count is read first); *out points into the input. */
static inline size_t fuzz_bytes(struct fuzz_input *in, size_t max, const uint8_t **out)
{
	size_t want = fuzz_u16(in) % (max + 1);
	if (want > in->n)
		want = in->n;
	*out = in->p;
	in->p += want;
	in->n -= want;
	return want;
}

#endif
