/* SHA-256 (FIPS 180-4), small and dependency-free: the demo's summary proves the bytes that
 * arrived are the bytes that were sent by printing both digests. */
#ifndef SYNACK_RENDER_SHA256_H
#define SYNACK_RENDER_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SYNACK_SHA256_LEN 32

struct synack_sha256 {
	uint32_t h[8];
	uint64_t total;    /* bytes hashed so far */
	uint8_t block[64];
	size_t used;       /* bytes waiting in block */
};

void synack_sha256_init(struct synack_sha256 *c);
void synack_sha256_update(struct synack_sha256 *c, const void *data, size_t len);
void synack_sha256_final(struct synack_sha256 *c, uint8_t out[SYNACK_SHA256_LEN]);
/* Lower-case hex of a digest (hex must hold 65 bytes). */
void synack_sha256_hex(const uint8_t d[SYNACK_SHA256_LEN], char hex[65]);

#endif
