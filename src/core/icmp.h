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

/* An ICMP or ICMPv6 error about our connection t (the quoted segment's addresses and ports,
 * seen from our side) whose quoted segment carried sequence number seq: a soft error is
 * remembered, a hard one ends a connection still opening (RFC 1122 §4.2.3.9); mtu != 0 is a
 * path MTU report (RFC 1191, RFC 8201) that lowers the MSS (MTU - 40 for IPv4, - 60 for IPv6)
 * and sends what is in flight again at once. Ignored unless seq is in [SND.UNA, SND.NXT] (RFC 5927 §4.1). */
void icmp_tcp_error(struct synack_stack *s, const struct synack_tuple *t, uint32_t seq, int err,
		    bool hard, uint16_t mtu);
/* Takes a token from the bucket shared by ICMP and ICMPv6 errors (RFC 1812 §4.3.2.8, RFC 4443
 * §2.4(f)): true if an error may be sent now. */
bool icmp_error_token(struct synack_stack *s);

#endif
