/* ICMP (RFC 792, RFC 1122 §3.2.2 and §4.2.3.9, RFC 1191): echo, destination unreachable,
 * and the errors synack sends itself. */
#ifndef SYNACK_CORE_ICMP_H
#define SYNACK_CORE_ICMP_H

#include <stddef.h>
#include <stdint.h>

#include "core/stack_impl.h"

#define SYNACK_ICMP_ECHO_REPLY 0
#define SYNACK_ICMP_DEST_UNREACH 3
#define SYNACK_ICMP_ECHO_REQUEST 8
#define SYNACK_ICMP_PROTO_UNREACH 2 /* a code of DEST_UNREACH */
#define SYNACK_ICMP_FRAG_NEEDED 4   /* a code of DEST_UNREACH */

/* An ICMP message carried by a valid IPv4 packet addressed to us. */
void synack_icmp_input(struct synack_stack *s, const struct synack_ipv4 *ip, const uint8_t *msg,
		       size_t len, const uint8_t *frame, size_t frame_len);

/* Sends an ICMP error (type, code) about the datagram `frame` (which was addressed to us),
 * quoting its header and as much of its data as fits in 576 bytes (RFC 1812 §4.3.2.3).
 * Never about an ICMP error, a fragment other than the first, or a datagram from a
 * non-unicast source (RFC 1122 §3.2.2). */
void synack_icmp_send_error(struct synack_stack *s, const struct synack_ipv4 *ip, uint8_t type,
			    uint8_t code, const uint8_t *frame, size_t frame_len);

#endif
