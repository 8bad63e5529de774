/* IPv4 input (RFC 791, RFC 1122 §3.2.1): validate through the codec, count, and hand the
 * transport payload to TCP or ICMP. Every drop is counted under its reason.
 *
 * Not implemented: reassembly (fragments are dropped: IP_FRAGMENT, IpReasmFails), options
 * (the header length is honoured, the options ignored). */
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

void ip_input(struct synack_stack *s, const uint8_t *frame, size_t len)
{
	struct synack_ipv4 ip;
	const uint8_t *payload;
	size_t plen;

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
	if (ip.dst != s->cfg.addr) {
		stack_count(s, SYNACK_CTR_IpInAddrErrors);
		stack_drop(s, SYNACK_DROP_IP_NOT_FOR_US, NULL, NULL, frame, len);
		return;
	}
	if (ip_src_bad(ip.src, s->cfg.addr)) {
		stack_count(s, SYNACK_CTR_IpInAddrErrors);
		stack_drop(s, SYNACK_DROP_IP_BAD_SRC, NULL, NULL, frame, len);
		return;
	}
	switch (ip.proto) {
	case SYNACK_PROTO_TCP:
		stack_count(s, SYNACK_CTR_IpInDelivers);
		tcp_input(s, &ip, payload, plen, frame, len);
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
