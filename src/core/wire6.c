/* The IPv6 header codec (RFC 8200 §3) and the walk over extension headers (§4).
 *
 * RFC 8200 §4.1: "extension headers ... are not processed, inserted, or deleted by any node
 * along a packet's delivery path, until the packet reaches the node ... identified in the
 * Destination Address field". We are that node, so the walk goes through each header in the
 * order the Next Header fields chain them:
 *
 *  - Hop-by-Hop Options (0): "MUST immediately follow the IPv6 header" — anywhere else it is
 *    "unrecognized Next Header type" (§4, Parameter Problem code 1).
 *  - Destination Options (60) and Hop-by-Hop: each option's type says what to do with an
 *    unknown one (§4.2): 00 skip, 01 discard, 10 discard and send Parameter Problem code 2,
 *    11 the same unless the destination was multicast. Pad1 and PadN are known.
 *  - Routing (43): synack implements no routing type and does not forward. §4.4: "If Segments
 *    Left is zero, the node must ignore the Routing header and proceed"; otherwise "discard
 *    the packet and send an ICMP Parameter Problem, Code 0 ... pointing to the unrecognized
 *    Routing Type". Type 0 is deprecated (RFC 5095 §3) and gets its own drop reason.
 *  - Fragment (44): an atomic fragment (offset 0, M clear) is processed as a whole packet
 *    (RFC 6946 §4); any other ends the walk (the IP layer reassembles or drops it).
 *  - No Next Header (59) and everything else: the upper layer.
 *
 * A header that runs past the payload is malformed (dropped, no ICMP: there is nothing
 * trustworthy to point at). Jumbograms (RFC 2675: payload length 0 with a Jumbo Payload
 * option) are not supported: a link that carries 64 KiB frames at most never needs one.
 */
#include "core/bytes.h"
#include "synack/trace.h"
#include "synack/wire.h"

#define OPT_PAD1 0
#define OPT_PADN 1
#define RH_TYPE0 0
#define FRAG_HDR_LEN 8

/* Records a Parameter Problem (RFC 4443 §3.4) to answer the failure with. */
static int param_problem(struct synack_ipv6 *ip, uint8_t code, size_t ptr, int err)
{
	ip->pp_send = true;
	ip->pp_code = code;
	ip->pp_ptr = (uint32_t)ptr;
	return err;
}

/* The TLV options of a Hop-by-Hop or Destination Options header at buf[off], hlen bytes. */
static int walk_options(const uint8_t *buf, size_t off, size_t hlen, struct synack_ipv6 *ip)
{
	size_t i = off + 2, end = off + hlen;
	while (i < end) {
		uint8_t type = buf[i];
		if (type == OPT_PAD1) {
			i++;
			continue;
		}
		if (i + 2 > end || i + 2 + buf[i + 1] > end)
			return -SYNACK_DROP_IP6_BAD_EXTHDR;
		if (type != OPT_PADN) {
			bool mcast = ip->dst.b[0] == 0xff;
			switch (type >> 6) {
			case 0:
				break; /* "skip over this option and continue processing" */
			case 1:
				return -SYNACK_DROP_IP6_UNKNOWN_OPTION;
			case 2:
				return param_problem(ip, 2, i, -SYNACK_DROP_IP6_UNKNOWN_OPTION);
			default:
				if (mcast)
					return -SYNACK_DROP_IP6_UNKNOWN_OPTION;
				return param_problem(ip, 2, i, -SYNACK_DROP_IP6_UNKNOWN_OPTION);
			}
		}
		i += 2 + (size_t)buf[i + 1];
	}
	return 0;
}

/* A Routing header at buf[off]: ignored when Segments Left is 0, else refused. */
static int walk_routing(const uint8_t *buf, size_t off, struct synack_ipv6 *ip)
{
	uint8_t type = buf[off + 2], left = buf[off + 3];
	if (left == 0)
		return 0;
	int err = type == RH_TYPE0 ? -SYNACK_DROP_IP6_RH0 : -SYNACK_DROP_IP6_BAD_EXTHDR;
	return param_problem(ip, 0, off + 2, err);
}

/* One extension header at buf[off] (end: the end of the payload). Returns its length, 0 when
 * next is the upper layer, or a negative drop reason. */
static int walk_one(const uint8_t *buf, size_t off, size_t end, uint8_t next, size_t next_at,
		    struct synack_ipv6 *ip)
{
	switch (next) {
	case SYNACK_IPPROTO_HOPOPTS:
		if (off != SYNACK_IPV6_HDR_LEN)
			return param_problem(ip, 1, next_at, -SYNACK_DROP_IP6_BAD_EXTHDR);
		/* fall through */
	case SYNACK_IPPROTO_DSTOPTS:
	case SYNACK_IPPROTO_ROUTING: {
		if (off + 2 > end || off + ((size_t)buf[off + 1] + 1) * 8 > end)
			return -SYNACK_DROP_IP6_BAD_EXTHDR;
		size_t hlen = ((size_t)buf[off + 1] + 1) * 8;
		int r = next == SYNACK_IPPROTO_ROUTING ? walk_routing(buf, off, ip)
						       : walk_options(buf, off, hlen, ip);
		return r < 0 ? r : (int)hlen;
	}
	case SYNACK_IPPROTO_FRAGMENT: {
		if (off + FRAG_HDR_LEN > end)
			return -SYNACK_DROP_IP6_BAD_EXTHDR;
		uint16_t fo = get16(buf + off + 2);
		ip->frag_off = fo >> 3;
		ip->mf = fo & 1;
		ip->frag_id = get32(buf + off + 4);
		ip->frag_at = (uint16_t)off;
		ip->frag = ip->frag_off != 0 || ip->mf;
		return FRAG_HDR_LEN;
	}
	default:
		return 0;
	}
}

static int parse_fixed(const uint8_t *buf, size_t len, struct synack_ipv6 *ip, size_t *end)
{
	*ip = (struct synack_ipv6){0};
	if (len < SYNACK_IPV6_HDR_LEN)
		return -SYNACK_DROP_IP_TRUNCATED;
	if (buf[0] >> 4 != 6)
		return -SYNACK_DROP_IP_VERSION;
	ip->tclass = (uint8_t)(get16(buf) >> 4);
	ip->flow = get32(buf) & 0xfffffu;
	ip->payload_len = get16(buf + 4);
	ip->next = buf[6];
	ip->hop_limit = buf[7];
	ip->src = synack_addr_v6(buf + 8);
	ip->dst = synack_addr_v6(buf + 24);
	/* RFC 8200 §3: the Payload Length counts "the rest of the packet following this IPv6
	 * header". Bytes past it are link padding (an Ethernet minimum frame): trimmed. */
	if (ip->payload_len == 0 && len > SYNACK_IPV6_HDR_LEN)
		return -SYNACK_DROP_IP_BAD_TOTLEN; /* a jumbogram (RFC 2675): not supported */
	if (SYNACK_IPV6_HDR_LEN + (size_t)ip->payload_len > len)
		return -SYNACK_DROP_IP_BAD_TOTLEN;
	*end = SYNACK_IPV6_HDR_LEN + (size_t)ip->payload_len;
	return 0;
}

int synack_ipv6_parse(const uint8_t *buf, size_t len, struct synack_ipv6 *ip,
		      const uint8_t **payload, size_t *plen)
{
	size_t end;
	int r = parse_fixed(buf, len, ip, &end);
	if (r < 0)
		return r;
	size_t off = SYNACK_IPV6_HDR_LEN, next_at = 6;
	uint8_t next = ip->next;
	for (;;) {
		r = walk_one(buf, off, end, next, next_at, ip);
		if (r < 0)
			return r;
		if (r == 0)
			break;
		if (next == SYNACK_IPPROTO_FRAGMENT)
			ip->frag_nh_at = (uint16_t)next_at;
		if (ip->frag)
			break;
		next_at = off;
		next = buf[off];
		off += (size_t)r;
	}
	if (ip->frag) { /* the walk stops at a real fragment: the rest is its payload */
		next_at = off;
		next = buf[off];
		off += FRAG_HDR_LEN;
	}
	ip->proto = next;
	ip->proto_at = (uint16_t)next_at;
	ip->hdr_len = (uint16_t)off;
	if (payload)
		*payload = buf + off;
	if (plen)
		*plen = end - off;
	return 0;
}

int synack_ipv6_emit(uint8_t *out, size_t cap, const struct synack_ipv6 *ip, size_t plen)
{
	if (cap < SYNACK_IPV6_HDR_LEN || plen > 0xffff)
		return -1;
	put32(out, 6u << 28 | (uint32_t)ip->tclass << 20 | (ip->flow & 0xfffffu));
	put16(out + 4, (uint16_t)plen);
	out[6] = ip->next;
	out[7] = ip->hop_limit;
	for (int i = 0; i < 16; i++) {
		out[8 + i] = ip->src.b[i];
		out[24 + i] = ip->dst.b[i];
	}
	return SYNACK_IPV6_HDR_LEN;
}

/* ---- either family ------------------------------------------------------------------------ */

int synack_ip_parse(const uint8_t *buf, size_t len, struct synack_ip_hdr *ip,
		    const uint8_t **payload, size_t *plen)
{
	memset(ip, 0, sizeof *ip);
	if (len < 1)
		return -SYNACK_DROP_IP_TRUNCATED;
	int rc;
	switch (buf[0] >> 4) {
	case 4:
		if ((rc = synack_ipv4_parse(buf, len, &ip->v4, payload, plen)) < 0)
			return rc;
		ip->family = SYNACK_AF_INET;
		ip->src = synack_addr_v4(ip->v4.src);
		ip->dst = synack_addr_v4(ip->v4.dst);
		ip->proto = ip->v4.proto;
		ip->fragment = ip->v4.mf || ip->v4.frag_off;
		return 0;
	case 6:
		if ((rc = synack_ipv6_parse(buf, len, &ip->v6, payload, plen)) < 0)
			return rc;
		ip->family = SYNACK_AF_INET6;
		ip->src = ip->v6.src;
		ip->dst = ip->v6.dst;
		ip->proto = ip->v6.proto;
		ip->fragment = ip->v6.frag;
		return 0;
	default:
		return -SYNACK_DROP_IP_VERSION;
	}
}
