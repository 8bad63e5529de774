/* IPv6 input and output (RFC 8200) for the stack's own addresses.
 *
 * Input: the codec (wire6.c) checks the fixed header and walks the extension headers; this
 * layer checks the addresses, counts under the IPv6 MIB names Linux's nstat shows (Ip6InReceives,
 * Ip6InHdrErrors, ...), answers what RFC 8200 answers with a Parameter Problem, and hands the
 * upper-layer bytes to TCP or ICMPv6. TCP sees only the two addresses: the state machine never
 * looks at the family.
 *
 * Output: a 40-byte header, hop limit 64 (Linux's default, RFC 8200 §3 leaves it to the
 * node), no extension headers, and a flow label per RFC 6437 §3: "the Flow Label value set by
 * the source MUST be ... uniformly distributed" and stable for the flow, so it is a keyed hash
 * (SipHash with the stack's secret) of the addresses, the protocol and, for TCP, the ports:
 * every segment of a connection carries the same label and an observer cannot predict it.
 *
 * Neighbour Discovery (RFC 4861) is not needed: the links synack runs on (TUN, the simulator)
 * carry bare IP packets with no link-layer address to resolve. docs/ipv6.md describes what an
 * Ethernet link would need. Fragments go to reasm.c and come back whole. Not implemented:
 * jumbograms (RFC 2675), forwarding, multicast listeners.
 */
#include <errno.h>
#include <string.h>

#include "core/icmp6.h"
#include "core/reasm.h"
#include "core/siphash.h"
#include "core/stack_impl.h"
#include "core/tcp_input.h"

#define IP6_HOP_LIMIT 64

/* RFC 4291: sources that never appear on the wire: the unspecified address (§2.5.2; it is
 * only for Duplicate Address Detection, which a TUN host never receives), multicast (§2.7),
 * loopback (§2.5.3: "MUST NOT be sent outside of a single node") and IPv4-mapped (§2.5.5.2,
 * dropped by Linux's ip6_rcv_core: an attacker's way past IPv4 filters). */
static bool ip6_src_martian(const struct synack_addr *src)
{
	static const uint8_t loopback[16] = {[15] = 1};
	return synack_addr_is_any(src) || src->b[0] == 0xff || memcmp(src->b, loopback, 16) == 0 ||
	       synack_addr_is_v4(src);
}

/* Counts a packet the codec refused under its MIB name. */
static void count_parse_error(struct synack_stack *s, int reason)
{
	if (reason == SYNACK_DROP_IP_BAD_TOTLEN || reason == SYNACK_DROP_IP_TRUNCATED)
		stack_count(s, SYNACK_CTR_Ip6InTruncatedPkts);
	else
		stack_count(s, SYNACK_CTR_Ip6InHdrErrors);
}

/* The addresses of a packet for us; false (counted and dropped) otherwise. */
static bool ip6_addrs_ok(struct synack_stack *s, const struct synack_ipv6 *ip,
			 const uint8_t *frame, size_t len)
{
	enum synack_drop_reason r = SYNACK_DROP_NONE;
	/* An IPv4-mapped destination is never an IPv6 address of ours, even when its IPv4
	 * address is: the IPv4 address is reached over IPv4 (Linux routes ::ffff:a.b.c.d
	 * nowhere), and taking it would open a connection whose two ends are of two families. */
	if (synack_addr_is_v4(&ip->dst) || !synack_stack_has_addr(s, &ip->dst))
		r = SYNACK_DROP_IP_NOT_FOR_US;
	else if (ip6_src_martian(&ip->src))
		r = SYNACK_DROP_IP_BAD_SRC; /* a martian */
	else if (synack_stack_has_addr(s, &ip->src))
		r = SYNACK_DROP_IP_LAND; /* our own address from the wire: a "land" packet */
	if (r == SYNACK_DROP_NONE)
		return true;
	stack_count(s, SYNACK_CTR_Ip6InAddrErrors);
	stack_drop(s, r, NULL, NULL, frame, len);
	return false;
}

/* A fragment (RFC 8200 §4.5): held by reasm.c until the packet is whole, which then comes
 * through ip6_input again (its Fragment header gone). */
static void ip6_fragment(struct synack_stack *s, const struct synack_ipv6 *ip,
			 const uint8_t *frame, size_t end, const uint8_t *payload, size_t plen)
{
	struct reasm_frag_in f = {.v6 = true, .src = ip->src, .dst = ip->dst, .id = ip->frag_id,
				  .proto = ip->proto, .off = (uint32_t)ip->frag_off * 8,
				  .mf = ip->mf, .data = payload, .len = plen, .hdr = frame,
				  .hdr_len = ip->frag_at, .nh_at = ip->frag_nh_at};
	uint8_t *whole;
	size_t n;
	int r = reasm_add(s, &f, &whole, &n);
	if (r < 0)
		stack_drop(s, SYNACK_DROP_IP_FRAGMENT, NULL, NULL, frame, end);
	if (r <= 0)
		return;
	ip6_input(s, whole, n, false);
	stack_free(s, whole, n);
}

void ip6_input(struct synack_stack *s, const uint8_t *frame, size_t len, bool csum_ok)
{
	struct synack_ipv6 ip = {0};
	const uint8_t *payload;
	size_t plen;

	stack_count(s, SYNACK_CTR_Ip6InReceives);
	int r = synack_ipv6_parse(frame, len, &ip, &payload, &plen);
	if (r < 0) {
		count_parse_error(s, -r);
		stack_drop(s, (enum synack_drop_reason)-r, NULL, NULL, frame, len);
		/* The Parameter Problem goes only where an answer is safe: to a valid source,
		 * about a packet that was for us. */
		if (ip.pp_send && synack_stack_has_addr(s, &ip.dst) && !ip6_src_martian(&ip.src))
			icmp6_send_error(s, &ip, SYNACK_ICMP6_PARAM_PROB, ip.pp_code, ip.pp_ptr,
					 frame, len);
		return;
	}
	if (!ip6_addrs_ok(s, &ip, frame, len))
		return;
	size_t end = SYNACK_IPV6_HDR_LEN + (size_t)ip.payload_len; /* link padding trimmed */
	if (ip.frag) {
		ip6_fragment(s, &ip, frame, end, payload, plen);
		return;
	}
	switch (ip.proto) {
	case SYNACK_PROTO_TCP:
		stack_count(s, SYNACK_CTR_Ip6InDelivers);
		tcp_input(s, &ip.src, &ip.dst, payload, plen, frame, end, csum_ok);
		return;
	case SYNACK_IPPROTO_ICMPV6:
		stack_count(s, SYNACK_CTR_Ip6InDelivers);
		icmp6_input(s, &ip, payload, plen, frame, end);
		return;
	case SYNACK_IPPROTO_NONE:
		/* RFC 8200 §4.7: "there is nothing following that header" — nothing to do. */
		stack_count(s, SYNACK_CTR_Ip6InDelivers);
		return;
	default:
		/* RFC 8200 §4: an unrecognized Next Header: discard, and send a Parameter Problem
		 * "with an ICMP Code value of 1 ... and the ICMP Pointer field containing the
		 * offset of the unrecognized value within the original packet". */
		stack_count(s, SYNACK_CTR_Ip6InUnknownProtos);
		stack_drop(s, SYNACK_DROP_IP_UNKNOWN_PROTO, NULL, NULL, frame, end);
		icmp6_send_error(s, &ip, SYNACK_ICMP6_PARAM_PROB, 1, ip.proto_at, frame, end);
		return;
	}
}

uint32_t ip6_flow_label(const struct synack_stack *s, const struct synack_addr *src,
			const struct synack_addr *dst, uint8_t proto, const uint8_t *ports)
{
	uint8_t id[1 + 32 + 1 + 4];
	size_t n = 0;
	id[n++] = 'F'; /* not the ISN's or the cookies' input, though the key is the same */
	memcpy(id + n, src->b, 16);
	memcpy(id + n + 16, dst->b, 16);
	n += 32;
	id[n++] = proto;
	if (ports) {
		memcpy(id + n, ports, 4);
		n += 4;
	}
	uint32_t label = (uint32_t)synack_siphash24(s->cfg.secret, id, n) & 0xfffffu;
	return label ? label : 1; /* 0 would mean "not labelled" (RFC 6437 §2) */
}

int ip6_output(struct synack_stack *s, const struct synack_addr *src, const struct synack_addr *dst,
	       uint8_t proto, uint8_t *pkt, size_t tlen)
{
	const uint8_t *t = pkt + SYNACK_IPV6_HDR_LEN;
	struct synack_ipv6 ip = {
		.next = proto,
		.hop_limit = IP6_HOP_LIMIT,
		.src = *src,
		.dst = *dst,
		.flow = ip6_flow_label(s, src, dst, proto,
				       proto == SYNACK_PROTO_TCP && tlen >= 4 ? t : NULL),
	};
	if (synack_ipv6_emit(pkt, SYNACK_IPV6_HDR_LEN, &ip, tlen) < 0)
		return -EMSGSIZE;
	stack_count(s, SYNACK_CTR_Ip6OutRequests);
	return (int)(SYNACK_IPV6_HDR_LEN + tlen);
}
