/* SipHash-2-4 (Aumasson & Bernstein): the keyed hash behind the ISN (RFC 6528), the
 * connection table's bucket choice, ephemeral port choice and SYN cookies. */
#ifndef SYNACK_SIPHASH_H
#define SYNACK_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t synack_siphash24(const uint8_t key[16], const void *data, size_t len);

#endif
