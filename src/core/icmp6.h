/* ICMPv6 (RFC 4443) for the stack's own IPv6 addresses: echo, the errors a connection hears
 * (destination unreachable, packet too big, time exceeded, parameter problem) and the errors
 * synack sends (parameter problem). */
#ifndef SYNACK_CORE_ICMP6_H
#define SYNACK_CORE_ICMP6_H

#include <stddef.h>
#include <stdint.h>

#include "core/stack_impl.h"

#define SYNACK_ICMP6_DEST_UNREACH 1
#define SYNACK_ICMP6_PKT_TOO_BIG 2
#define SYNACK_ICMP6_TIME_EXCEEDED 3
#define SYNACK_ICMP6_PARAM_PROB 4
#define SYNACK_ICMP6_ECHO_REQUEST 128
#define SYNACK_ICMP6_ECHO_REPLY 129
#define SYNACK_IPV6_MIN_MTU 1280 /* RFC 8200 §5 */

/* An ICMPv6 message msg (len bytes) carried by the valid packet ip addressed to us. */
void icmp6_input(struct synack_stack *s, const struct synack_ipv6 *ip, const uint8_t *msg,
		 size_t len, const uint8_t *frame, size_t frame_len);
/* Sends an ICMPv6 error (type, code, the 32-bit parameter: pointer or MTU) about the packet
 * `frame` (addressed to us), quoting as much of it as fits in the minimum MTU (RFC 4443
 * §2.4(c)). Never about an ICMPv6 error (§2.4(e.1)) nor to a multicast or unspecified source
 * (§2.4(e.3-6)); rate limited (§2.4(f)). */
void icmp6_send_error(struct synack_stack *s, const struct synack_ipv6 *ip, uint8_t type,
		      uint8_t code, uint32_t param, const uint8_t *frame, size_t frame_len);

#endif
