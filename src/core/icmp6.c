/* ICMPv6 (RFC 4443) for the stack's own IPv6 addresses.
 *
 *  - Echo Request → Echo Reply (§4.2): "The data received in the ICMPv6 Echo Request message
 *    MUST be returned entirely and unmodified in the ICMPv6 Echo Reply message", identifier
 *    and sequence number too. Requests to our unicast addresses only.
 *  - Destination Unreachable (§3.1) → the TCP connection the quoted packet names, a soft or
 *    hard error as Linux's icmpv6_err_convert: no route, beyond scope and address unreachable
 *    are soft (RFC 1122 §4.2.3.9's rule, as for IPv4); administratively prohibited, port
 *    unreachable, failed policy and reject route are hard.
 *  - Packet Too Big (§3.2) → RFC 8201 §4: the path MTU becomes the reported MTU ("MUST NOT
 *    reduce its estimate ... below the IPv6 minimum link MTU": 1280 at least); the MSS drops
 *    to MTU - 60 and what is in flight is sent again at once.
 *  - Time Exceeded (§3.3): a soft error. Parameter Problem (§3.4): hard (EPROTO), as Linux.
 *  - Errors sent: Parameter Problem for what RFC 8200 answers with one (an unknown Next Header,
 *    a routing header we do not process, an option whose type bits ask for it). TCP answers
 *    a closed port with a RST, so no Port Unreachable is ever needed.
 *
 * §2.4(f): errors are rate-limited, by the same token bucket as ICMP's (Linux shares
 * icmp_msgs_per_sec between the families too); what the bucket refuses is counted in
 * Icmp6OutRateLimitHost. Echo replies are not limited. Neighbour Discovery messages
 * (133-137) are counted and ignored: see ip6.c.
 */
#include "core/icmp6.h"

#include <errno.h>
#include <string.h>

#include "core/bytes.h"
#include "core/icmp.h"
#include "core/tcb.h"

#define ICMP6_HDR 8

/* The ICMPv6 checksum (§2.3): over the IPv6 pseudo-header (RFC 8200 §8.1) with Next Header
 * 58 and the message. */
static uint16_t icmp6_csum(const struct synack_addr *src, const struct synack_addr *dst,
			   const uint8_t *msg, size_t len)
{
	uint32_t sum = synack_csum_add(0, src->b, 16);
	sum = synack_csum_add(sum, dst->b, 16);
	sum += (uint32_t)(len >> 16) + (uint32_t)(len & 0xffffu) + SYNACK_IPPROTO_ICMPV6;
	return synack_csum_fold(synack_csum_add(sum, msg, len));
}

/* Sends hdr (8 bytes, checksum zero) followed by body from src to dst. */
static void icmp6_send(struct synack_stack *s, const struct synack_addr *src,
		       const struct synack_addr *dst, const uint8_t hdr[ICMP6_HDR],
		       const uint8_t *body, size_t blen)
{
	size_t tlen = ICMP6_HDR + blen, total = SYNACK_IPV6_HDR_LEN + tlen;
	uint8_t *f = stack_alloc(s, total);
	if (!f) {
		stack_drop(s, SYNACK_DROP_TCP_NO_MEMORY, NULL, NULL, NULL, 0);
		return;
	}
	uint8_t *m = f + SYNACK_IPV6_HDR_LEN;
	memcpy(m, hdr, ICMP6_HDR);
	if (blen)
		memcpy(m + ICMP6_HDR, body, blen);
	m[2] = m[3] = 0;
	put16(m + 2, icmp6_csum(src, dst, m, tlen));
	int n = ip6_output(s, src, dst, SYNACK_IPPROTO_ICMPV6, f, tlen);
	if (n > 0) {
		stack_count(s, SYNACK_CTR_Icmp6OutMsgs);
		struct synack_frame_meta meta = {.len = (uint32_t)n, .family = SYNACK_AF_INET6};
		stack_output(s, f, &meta); /* ICMPv6's checksum is always complete */
	}
	stack_free(s, f, total);
}

static void echo_reply(struct synack_stack *s, const struct synack_ipv6 *ip, const uint8_t *msg,
		       size_t len)
{
	stack_count(s, SYNACK_CTR_Icmp6InEchos);
	if (len < ICMP6_HDR)
		return;
	uint8_t hdr[ICMP6_HDR];
	memcpy(hdr, msg, ICMP6_HDR);
	hdr[0] = SYNACK_ICMP6_ECHO_REPLY;
	hdr[1] = 0;
	/* As for IPv4: we do not fragment, so a reply that does not fit the link is not sent. */
	if (SYNACK_IPV6_HDR_LEN + len > stack_frame_max(s)) {
		stack_count(s, SYNACK_CTR_Ip6FragFails);
		return;
	}
	stack_count(s, SYNACK_CTR_Icmp6OutEchoReplies);
	icmp6_send(s, &ip->dst, &ip->src, hdr, msg + ICMP6_HDR, len - ICMP6_HDR);
}

/* icmpv6_err_convert: errno and whether it is fatal, for the error messages. */
static int err6_errno(uint8_t type, uint8_t code, bool *hard)
{
	static const int unreach[7] = {ENETUNREACH, EACCES, EHOSTUNREACH, EHOSTUNREACH,
				       ECONNREFUSED, EACCES, EACCES};
	*hard = false;
	switch (type) {
	case SYNACK_ICMP6_DEST_UNREACH:
		if (code >= 7)
			return -EPROTO;
		*hard = code == 1 || code >= 4;
		return -unreach[code];
	case SYNACK_ICMP6_PARAM_PROB:
		*hard = true;
		return -EPROTO;
	case SYNACK_ICMP6_PKT_TOO_BIG:
		return -EMSGSIZE;
	default:
		return -EHOSTUNREACH; /* time exceeded */
	}
}

/* An error message (types 1-4) quoting a packet we sent: the IPv6 header (we send no extension
 * headers) and at least the first 8 bytes of TCP, for the ports and the sequence number. */
static void error_input(struct synack_stack *s, const uint8_t *msg, size_t len,
			const uint8_t *frame, size_t frame_len)
{
	const uint8_t *q = msg + ICMP6_HDR;
	size_t qlen = len - ICMP6_HDR;
	struct synack_addr qsrc = {{0}}, qdst = {{0}};
	if (qlen >= SYNACK_IPV6_HDR_LEN) {
		qsrc = synack_addr_v6(q + 8);
		qdst = synack_addr_v6(q + 24);
	}
	/* IPv4-mapped quoted addresses name no IPv6 packet of ours, and as a tuple they would
	 * name an IPv4 connection: an IPv6 host could abort it. */
	if (qlen < SYNACK_IPV6_HDR_LEN + 8 || (q[0] >> 4) != 6 || synack_addr_is_v4(&qsrc) ||
	    synack_addr_is_v4(&qdst) || !synack_stack_has_addr(s, &qsrc)) {
		stack_count(s, SYNACK_CTR_Icmp6InErrors);
		stack_drop(s, SYNACK_DROP_ICMP_MALFORMED, NULL, NULL, frame, frame_len);
		return;
	}
	if (q[6] != SYNACK_PROTO_TCP)
		return; /* about something we sent that is not TCP (an echo reply): nothing to do */
	const uint8_t *th = q + SYNACK_IPV6_HDR_LEN;
	struct synack_tuple t = {.laddr = qsrc, .raddr = qdst, .lport = get16(th),
				 .rport = get16(th + 2)};
	bool hard;
	int err = err6_errno(msg[0], msg[1], &hard);
	uint16_t mtu = 0;
	if (msg[0] == SYNACK_ICMP6_PKT_TOO_BIG) {
		uint32_t m = get32(msg + 4);
		mtu = m < SYNACK_IPV6_MIN_MTU ? SYNACK_IPV6_MIN_MTU : m > 0xffff ? 0xffff : (uint16_t)m;
	}
	icmp_tcp_error(s, &t, get32(th + 4), err, hard, mtu);
}

void icmp6_input(struct synack_stack *s, const struct synack_ipv6 *ip, const uint8_t *msg,
		 size_t len, const uint8_t *frame, size_t frame_len)
{
	stack_count(s, SYNACK_CTR_Icmp6InMsgs);
	if (len < 4 || icmp6_csum(&ip->src, &ip->dst, msg, len) != 0) {
		stack_count(s, SYNACK_CTR_Icmp6InErrors);
		stack_drop(s, SYNACK_DROP_ICMP_MALFORMED, NULL, NULL, frame, frame_len);
		return;
	}
	switch (msg[0]) {
	case SYNACK_ICMP6_ECHO_REQUEST:
		if (msg[1] == 0)
			echo_reply(s, ip, msg, len);
		return;
	case SYNACK_ICMP6_DEST_UNREACH:
	case SYNACK_ICMP6_PKT_TOO_BIG:
	case SYNACK_ICMP6_TIME_EXCEEDED:
	case SYNACK_ICMP6_PARAM_PROB:
		if (msg[0] == SYNACK_ICMP6_DEST_UNREACH)
			stack_count(s, SYNACK_CTR_Icmp6InDestUnreachs);
		else if (msg[0] == SYNACK_ICMP6_PKT_TOO_BIG)
			stack_count(s, SYNACK_CTR_Icmp6InPktTooBigs);
		else if (msg[0] == SYNACK_ICMP6_PARAM_PROB)
			stack_count(s, SYNACK_CTR_Icmp6InParmProblems);
		if (len < ICMP6_HDR) {
			stack_count(s, SYNACK_CTR_Icmp6InErrors);
			stack_drop(s, SYNACK_DROP_ICMP_MALFORMED, NULL, NULL, frame, frame_len);
			return;
		}
		error_input(s, msg, len, frame, frame_len);
		return;
	default:
		return; /* §2.4(b): unknown informational messages are discarded */
	}
}

/* §2.4(e.1): never an error about an error; what follows the quoted headers is its type. */
static bool is_icmp6_error(const struct synack_ipv6 *ip, const uint8_t *frame, size_t len)
{
	if (ip->proto != SYNACK_IPPROTO_ICMPV6 || ip->frag)
		return false;
	/* unknown (hdr_len 0 after a failed walk): be conservative, treat as an error */
	if (ip->hdr_len == 0 || ip->hdr_len >= len)
		return true;
	return frame[ip->hdr_len] < 128;
}

void icmp6_send_error(struct synack_stack *s, const struct synack_ipv6 *ip, uint8_t type,
		      uint8_t code, uint32_t param, const uint8_t *frame, size_t frame_len)
{
	if (!synack_stack_has_addr(s, &ip->dst) || ip->dst.b[0] == 0xff ||
	    synack_addr_is_any(&ip->src) || ip->src.b[0] == 0xff)
		return;
	if (is_icmp6_error(ip, frame, frame_len))
		return;
	if (!icmp_error_token(s)) {
		stack_count(s, SYNACK_CTR_Icmp6OutRateLimitHost);
		return;
	}
	size_t max = stack_frame_max(s) < SYNACK_IPV6_MIN_MTU ? stack_frame_max(s)
							      : SYNACK_IPV6_MIN_MTU;
	size_t room = max - SYNACK_IPV6_HDR_LEN - ICMP6_HDR;
	size_t qlen = frame_len < room ? frame_len : room;
	uint8_t hdr[ICMP6_HDR] = {type, code};
	put32(hdr + 4, param);
	stack_count(s, SYNACK_CTR_Icmp6OutErrors);
	if (type == SYNACK_ICMP6_PARAM_PROB)
		stack_count(s, SYNACK_CTR_Icmp6OutParmProblems);
	icmp6_send(s, &ip->dst, &ip->src, hdr, frame, qlen);
}
