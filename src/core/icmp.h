/* ICMP (RFC 792) input. For now it only counts what arrives; the real-wire work extends it
 * (echo replies, destination-unreachable handling). */
#ifndef SYNACK_CORE_ICMP_H
#define SYNACK_CORE_ICMP_H

#include <stddef.h>
#include <stdint.h>

#include "core/stack_impl.h"

/* An ICMP message carried by a valid IPv4 packet addressed to us. */
void synack_icmp_input(struct synack_stack *s, const struct synack_ipv4 *ip, const uint8_t *msg,
		       size_t len, const uint8_t *frame, size_t frame_len);

#endif
