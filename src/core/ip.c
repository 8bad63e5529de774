/* The IP layer. IPv4 input (RFC 791, RFC 1122 §3.2.1): validate through the codec, count, and
 * hand the transport payload to TCP or ICMP. Every drop is counted under its reason. Output:
 * the transport encoder writes its bytes behind the room this layer asks for, and this layer
 * writes the IP header in front of them. A packet whose version nibble is 6 goes to ip6.c,
 * and so does output to an IPv6 address (RFC 8200).
 *
 * Fragments go to reasm.c and come back whole. Not implemented: options (the header length
 * is honoured, the options ignored). */
#include <errno.h>

#include "core/icmp.h"
#include "core/reasm.h"
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

/* The broadcast address of one of our IPv4 subnets (prefixes up to /30; /31 and /32 have
 * none, RFC 3021). */
static bool ip_subnet_broadcast(const struct synack_stack *s, uint32_t a)
{
	for (uint32_t i = 0; i < s->cfg.naddrs; i++) {
		const struct synack_ifaddr *ifa = &s->cfg.addrs[i];
		if (!synack_addr_is_v4(&ifa->addr) || ifa->prefix_len == 0 || ifa->prefix_len > 30)
			continue;
		uint32_t host = 0xffffffffu >> ifa->prefix_len;
		if ((a & host) == host && ((a ^ synack_addr_get_v4(&ifa->addr)) & ~host) == 0)
			return true;
	}
	return false;
}

/* Linux's martian and land checks (ip_route_input_slow, tcp_v4_rcv): a bogus source
 * (ip_src_bad), the broadcast address of one of our subnets, or one of our own addresses (a
 * "land" packet: answering it would talk to ourselves, a SYN would leave a half-open entry
 * sending SYN-ACKs to itself). */
static enum synack_drop_reason ip_src_check(const struct synack_stack *s, uint32_t src,
					    uint32_t dst)
{
	if (ip_src_bad(src, dst) || ip_subnet_broadcast(s, src))
		return SYNACK_DROP_IP_BAD_SRC;
	struct synack_addr a = synack_addr_v4(src);
	if (synack_stack_has_addr(s, &a))
		return SYNACK_DROP_IP_LAND;
	return SYNACK_DROP_NONE;
}

/* A fragment (RFC 791 §3.2) of a datagram for us: held by reasm.c until the datagram is
 * whole, which then comes through here again. */
static void ip_fragment(struct synack_stack *s, const struct synack_ipv4 *ip,
			const uint8_t *frame, const uint8_t *payload, size_t plen)
{
	struct synack_addr dst = synack_addr_v4(ip->dst);
	if (!synack_stack_has_addr(s, &dst)) {
		stack_count(s, SYNACK_CTR_IpInAddrErrors);
		stack_drop(s, SYNACK_DROP_IP_NOT_FOR_US, NULL, NULL, frame, ip->total_len);
		return;
	}
	struct reasm_frag_in f = {.src = synack_addr_v4(ip->src), .dst = dst, .id = ip->id,
				  .proto = ip->proto, .off = (uint32_t)ip->frag_off * 8, .mf = ip->mf,
				  .data = payload, .len = plen, .hdr = frame, .hdr_len = ip->ihl};
	uint8_t *whole;
	size_t n;
	int r = reasm_add(s, &f, &whole, &n);
	if (r < 0)
		stack_drop(s, SYNACK_DROP_IP_FRAGMENT, NULL, NULL, frame, ip->total_len);
	if (r <= 0)
		return;
	ip_input(s, whole, n, false);
	stack_free(s, whole, n);
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
	len = ip.total_len; /* link padding trimmed: the datagram is what Total Length says */
	if (ip.mf || ip.frag_off != 0) {
		ip_fragment(s, &ip, frame, payload, plen);
		return;
	}
	struct synack_addr src = synack_addr_v4(ip.src), dst = synack_addr_v4(ip.dst);
	if (!synack_stack_has_addr(s, &dst)) {
		stack_count(s, SYNACK_CTR_IpInAddrErrors);
		stack_drop(s, SYNACK_DROP_IP_NOT_FOR_US, NULL, NULL, frame, len);
		return;
	}
	enum synack_drop_reason bad = ip_src_check(s, ip.src, ip.dst);
	if (bad != SYNACK_DROP_NONE) {
		stack_count(s, SYNACK_CTR_IpInAddrErrors);
		stack_drop(s, bad, NULL, NULL, frame, len);
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
