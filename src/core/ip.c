/* The IP layer. IPv4 input (RFC 791, RFC 1122 §3.2.1): validate through the codec, count, and
 * hand the transport payload to TCP or ICMP. Every drop is counted under its reason. Output:
 * the transport encoder writes its bytes behind the room this layer asks for, and this layer
 * writes the IP header in front of them. A packet whose version nibble is 6 goes to ip6.c,
 * and so does output to an IPv6 address (RFC 8200).
 *
 * Not implemented: reassembly (fragments are dropped: IP_FRAGMENT, IpReasmFails), options
 * (the header length is honoured, the options ignored). */
#include <errno.h>

#include "core/icmp.h"
#include "core/stack_impl.h"
#include "core/tcp_input.h"

/* RFC 1122 §3.2.1.3: a source address of 0, broadcast, multicast (class D), class E or
 * loopback from the wire is bogus. */
static bool ip_src_bad(uint32_t src, uint32_t self)
{
	bool loopback = (src >> 24) == 127 && (self >> 24) != 127;
	return src == 0 || src == 0xFFFFFFFFu || (src >> 28) == 0xE || (src >> 28) == 0xF ||
	       loopback;
}

void ip_input(struct synack_stack *s, const uint8_t *frame, size_t len, bool csum_ok)
{
	struct synack_ipv4 ip;
	const uint8_t *payload;
	size_t plen;

	if (len > 0 && frame[0] >> 4 == 6) {
		ip6_input(s, frame, len, csum_ok);
		return;
	}
	stack_count(s, SYNACK_CTR_IpInReceives);
	int r = synack_ipv4_parse(frame, len, &ip, &payload, &plen);
	if (r < 0) {
		stack_count(s, SYNACK_CTR_IpInHdrErrors);
		stack_drop(s, (enum synack_drop_reason)-r, NULL, NULL, frame, len);
		return;
	}
	if (ip.mf || ip.frag_off != 0) {
		stack_count(s, SYNACK_CTR_IpReasmFails);
		stack_drop(s, SYNACK_DROP_IP_FRAGMENT, NULL, NULL, frame, len);
		return;
	}
	struct synack_addr src = synack_addr_v4(ip.src), dst = synack_addr_v4(ip.dst);
	if (!synack_stack_has_addr(s, &dst)) {
		stack_count(s, SYNACK_CTR_IpInAddrErrors);
		stack_drop(s, SYNACK_DROP_IP_NOT_FOR_US, NULL, NULL, frame, len);
		return;
	}
	if (ip_src_bad(ip.src, ip.dst)) {
		stack_count(s, SYNACK_CTR_IpInAddrErrors);
		stack_drop(s, SYNACK_DROP_IP_BAD_SRC, NULL, NULL, frame, len);
		return;
	}
	switch (ip.proto) {
	case SYNACK_PROTO_TCP:
		stack_count(s, SYNACK_CTR_IpInDelivers);
		tcp_input(s, &src, &dst, payload, plen, frame, len, csum_ok);
		return;
	case SYNACK_IPPROTO_ICMP:
		stack_count(s, SYNACK_CTR_IpInDelivers);
		synack_icmp_input(s, &ip, payload, plen, frame, len);
		return;
	default:
		/* RFC 1122 §3.2.2.1: protocol unreachable for a transport we do not speak. */
		stack_count(s, SYNACK_CTR_IpInUnknownProtos);
		stack_drop(s, SYNACK_DROP_IP_UNKNOWN_PROTO, NULL, NULL, frame, len);
		synack_icmp_send_error(s, &ip, 3, 2, frame, len);
		return;
	}
}

int ip_header_room(const struct synack_addr *dst)
{
	return synack_addr_is_v4(dst) ? SYNACK_IPV4_HDR_MIN : SYNACK_IPV6_HDR_LEN;
}

/* RFC 1122 §3.2.1.7: TTL 64 (Linux's default); DF set, as Linux's path-MTU discovery does
 * (RFC 1191). The identification field counts per stack. */
int ip_output(struct synack_stack *s, const struct synack_addr *src, const struct synack_addr *dst,
	      uint8_t proto, uint8_t *pkt, size_t tlen)
{
	if (synack_addr_is_v4(src) != synack_addr_is_v4(dst)) {
		stack_count(s, SYNACK_CTR_IpOutNoRoutes);
		return -EAFNOSUPPORT; /* no packet carries one address of each family */
	}
	if (!synack_addr_is_v4(dst))
		return ip6_output(s, src, dst, proto, pkt, tlen);
	struct synack_ipv4 ip = {
		.df = true,
		.ttl = 64,
		.proto = proto,
		.id = s->ip_id++,
		.src = synack_addr_get_v4(src),
		.dst = synack_addr_get_v4(dst),
	};
	if (synack_ipv4_emit(pkt, SYNACK_IPV4_HDR_MIN, &ip, tlen) < 0)
		return -EMSGSIZE;
	stack_count(s, SYNACK_CTR_IpOutRequests);
	return (int)(SYNACK_IPV4_HDR_MIN + tlen);
}
