/* ICMP (RFC 792) for the stack's own IPv4 addresses (ICMPv6 comes with IPv6 input).
 *
 *  - Echo request → echo reply: "the source and destination addresses are simply reversed,
 *    the type code changed to 0, and the checksum recomputed" (RFC 792), data and identifier
 *    and sequence number returned unchanged (RFC 1122 §3.2.2.6).
 *  - Destination unreachable → the TCP connection the quoted header names (RFC 1122
 *    §4.2.3.9): "TCP MUST act on an ICMP error message passed up from the IP layer, directing
 *    it to the connection that created the error." Codes 0, 1 and 5 are soft errors ("TCP
 *    MUST NOT abort the connection"); 2, 3 and the administrative ones are hard (as in
 *    Linux) and abort a connection still opening;
 *    4 (fragmentation needed, RFC 1191) carries the next-hop MTU and lowers the MSS;
 *    what is in flight goes again at once at the new size.
 *  - Errors we send: protocol unreachable for transports we do not speak (RFC 1122 §3.2.2.1).
 *
 * Errno values follow Linux's icmp_err_convert table so applications see what they would on
 * Linux. The errors we send are rate limited like Linux's (net.ipv4.icmp_msgs_per_sec 1000,
 * icmp_msgs_burst 50; RFC 1812 §4.3.2.8); echo replies are not. Not implemented: timestamp
 * and other informational messages (dropped, counted in IcmpInMsgs).
 */
#include "core/icmp.h"
#include "core/tcp_req.h"

#include <errno.h>

#include "core/bytes.h"
#include "util/seq.h"
#include "core/tcb.h"

#define ICMP_HDR 8
#define ICMP_ERROR_MAX 576 /* RFC 1812 §4.3.2.3: at most 576 bytes including the IP header */
#define PMTU_MIN 552       /* Linux's min_pmtu: a forged tiny MTU must not cripple a flow */
#define ERR_BURST 50       /* errors sent back to back at most ... */
#define ERR_EVERY_US 1000  /* ... then one per millisecond */


/* Wraps msg (an ICMP message whose checksum field is zero) in an IPv4 header from src (one of
 * the stack's addresses) to dst and sends it. The frame is built in memory from the stack's
 * allocator. */
static void icmp_send(struct synack_stack *s, uint32_t src, uint32_t dst, const uint8_t *msg,
		      size_t len, const uint8_t *quote, size_t qlen)
{
	size_t total = SYNACK_IPV4_HDR_MIN + len + qlen;
	uint8_t *f = stack_alloc(s, total);
	if (!f) {
		stack_drop(s, SYNACK_DROP_TCP_NO_MEMORY, NULL, NULL, NULL, 0);
		return;
	}
	struct synack_ipv4 ip = {.ihl = SYNACK_IPV4_HDR_MIN,
				 .id = s->ip_id++,
				 .ttl = 64,
				 .proto = SYNACK_IPPROTO_ICMP,
				 .src = src,
				 .dst = dst};
	synack_ipv4_emit(f, total, &ip, len + qlen);
	uint8_t *m = f + SYNACK_IPV4_HDR_MIN;
	for (size_t i = 0; i < len; i++)
		m[i] = msg[i];
	for (size_t i = 0; i < qlen; i++)
		m[len + i] = quote[i];
	m[2] = m[3] = 0;
	put16(m + 2, synack_csum_fold(synack_csum_add(0, m, len + qlen)));
	stack_count(s, SYNACK_CTR_IcmpOutMsgs);
	stack_count(s, SYNACK_CTR_IpOutRequests);
	struct synack_frame_meta meta = {.len = (uint32_t)total, .family = SYNACK_AF_INET};
	stack_output(s, f, &meta); /* ICMP's checksum is always complete */
	stack_free(s, f, total);
}

static void echo_reply(struct synack_stack *s, const struct synack_ipv4 *ip, const uint8_t *msg,
		       size_t len)
{
	uint8_t hdr[ICMP_HDR];
	for (int i = 0; i < ICMP_HDR; i++)
		hdr[i] = msg[i];
	hdr[0] = SYNACK_ICMP_ECHO_REPLY;
	hdr[1] = 0;
	/* The reply is as long as the request; we do not fragment, so one that does not fit
	 * the link is not sent (Linux would fragment it; counted as IpFragFails). */
	if (SYNACK_IPV4_HDR_MIN + len > stack_frame_max(s)) {
		stack_count(s, SYNACK_CTR_IpFragFails);
		return;
	}
	icmp_send(s, ip->dst, ip->src, hdr, ICMP_HDR, msg + ICMP_HDR, len - ICMP_HDR);
}

/* An ICMP error about our connection t whose quoted segment carried sequence number seq.
 * RFC 5927 §4.1: act only if seq is one we sent and is not yet acknowledged
 * (SND.UNA <= seq <= SND.NXT), so a blind attacker must guess it. */
void icmp_tcp_error(struct synack_stack *s, const struct synack_tuple *t, uint32_t seq, int err,
		    bool hard, uint16_t mtu)
{
	struct synack_tcb *c = tcb_of_node_wake(s, synack_conntab_find(&s->conns, t));
	if (!c || c->state == SYNACK_LISTEN || c->state == SYNACK_CLOSED ||
	    c->state == SYNACK_TIME_WAIT || !seq_between(seq, c->snd_una, c->snd_nxt))
		return;
	if (mtu) {
		/* RFC 1191 §6.3: segments must now fit the path MTU, less the IP and TCP headers
		 * and the timestamp option we put in each. Retransmissions use the new size. */
		bool v6 = !synack_addr_is_v4(&t->raddr);
		uint32_t mss = (uint32_t)mtu - (v6 ? 60u : 40u) - (c->ts_ok ? 12u : 0u);
		if (mss < c->snd_mss) {
			c->snd_mss = (uint16_t)mss;
			/* As Linux's tcp_v4_mtu_reduced and tcp_v6_mtu_reduced (RFC 8201 §4 for
			 * IPv6): what is in flight was too large to arrive; send it again now at the
			 * new size, not after an RTO. */
			tcp_retransmit_all(s, c);
		}
		return;
	}
	/* Linux's tcp_v4_err: a hard error ends an opening connection at once; anything else
	 * is remembered as a soft error and reported if the connection then times out. */
	if (hard && c->state == SYNACK_SYN_SENT) {
		tcp_done(s, c, err);
		return;
	}
	c->soft_err = err;
}

/* Linux's icmp_err_convert: the errno and whether the error is fatal (hard). */
static int unreach_errno(uint8_t code, bool *hard)
{
	static const int map[16] = {
		ENETUNREACH, EHOSTUNREACH, ENOPROTOOPT, ECONNREFUSED, EMSGSIZE, EOPNOTSUPP,
		ENETUNREACH, EHOSTDOWN,    ENONET,      ENETUNREACH,  EHOSTUNREACH, ENETUNREACH,
		EHOSTUNREACH, EHOSTUNREACH, EHOSTUNREACH, EHOSTUNREACH,
	};
	/* fatal in Linux: protocol/port unreachable, unknown net/host, isolated, administratively
	 * prohibited, filtered, precedence; net/host unreachable (0, 1) stay soft as RFC 1122
	 * §4.2.3.9 requires ("TCP MUST NOT abort the connection"). */
	static const uint16_t fatal = 1u << 2 | 1u << 3 | 1u << 6 | 1u << 7 | 1u << 8 | 1u << 9 |
				      1u << 10 | 1u << 13 | 1u << 14 | 1u << 15;
	*hard = code < 16 && (fatal >> code & 1u);
	return code < 16 ? -map[code] : -EHOSTUNREACH;
}

/* The quoted datagram: "the internet header plus the first 64 bits of the original
 * datagram's data" (RFC 792). Ours, TCP, with enough bytes for the ports and sequence. */
static void dest_unreach(struct synack_stack *s, const uint8_t *msg, size_t len,
			 const uint8_t *frame, size_t frame_len)
{
	const uint8_t *q = msg + ICMP_HDR;
	size_t qlen = len - ICMP_HDR;
	if (qlen < SYNACK_IPV4_HDR_MIN || (q[0] >> 4) != 4) {
		stack_drop(s, SYNACK_DROP_ICMP_MALFORMED, NULL, NULL, frame, frame_len);
		return;
	}
	size_t ihl = (size_t)(q[0] & 0xF) * 4;
	struct synack_addr quoted_src = synack_addr_v4(get32(q + 12));
	if (ihl < SYNACK_IPV4_HDR_MIN || qlen < ihl + 8 || !synack_stack_has_addr(s, &quoted_src)) {
		stack_drop(s, SYNACK_DROP_ICMP_MALFORMED, NULL, NULL, frame, frame_len);
		return;
	}
	if (q[9] != SYNACK_PROTO_TCP)
		return; /* about something we sent that is not TCP (an ICMP reply): nothing to do */
	const uint8_t *th = q + ihl;
	struct synack_tuple t = {.laddr = quoted_src,
				 .raddr = synack_addr_v4(get32(q + 16)),
				 .lport = get16(th),
				 .rport = get16(th + 2)};
	bool hard;
	int err = unreach_errno(msg[1], &hard);
	uint16_t mtu = 0;
	if (msg[1] == SYNACK_ICMP_FRAG_NEEDED) {
		/* RFC 1191 §4: the next-hop MTU is in the low 16 bits of the unused field; 0 from
		 * an old router: take the next plateau below the quoted datagram's length. */
		mtu = get16(msg + 6);
		if (mtu == 0)
			mtu = get16(q + 2) > 1006 ? 1006 : 576;
		if (mtu < PMTU_MIN)
			mtu = PMTU_MIN;
	}
	icmp_tcp_error(s, &t, get32(th + 4), err, hard, mtu);
}

void synack_icmp_input(struct synack_stack *s, const struct synack_ipv4 *ip, const uint8_t *msg,
		       size_t len, const uint8_t *frame, size_t frame_len)
{
	stack_count(s, SYNACK_CTR_IcmpInMsgs);
	if (len < ICMP_HDR || synack_csum_fold(synack_csum_add(0, msg, len)) != 0) {
		stack_drop(s, SYNACK_DROP_ICMP_MALFORMED, NULL, NULL, frame, frame_len);
		return;
	}
	switch (msg[0]) {
	case SYNACK_ICMP_ECHO_REQUEST:
		if (msg[1] == 0)
			echo_reply(s, ip, msg, len);
		return;
	case SYNACK_ICMP_DEST_UNREACH:
		stack_count(s, SYNACK_CTR_IcmpInDestUnreachs);
		dest_unreach(s, msg, len, frame, frame_len);
		return;
	default:
		return; /* replies, time exceeded, ...: counted, nothing to do */
	}
}

bool icmp_error_token(struct synack_stack *s)
{
	uint64_t now = s->now_us;
	if (s->icmp_refill_us == 0 || now < s->icmp_refill_us) {
		s->icmp_refill_us = now ? now : 1;
		s->icmp_tokens = ERR_BURST;
	}
	uint64_t earned = (now - s->icmp_refill_us) / ERR_EVERY_US;
	if (earned) {
		uint64_t t = s->icmp_tokens + earned;
		s->icmp_tokens = t > ERR_BURST ? ERR_BURST : (uint32_t)t;
		s->icmp_refill_us += earned * ERR_EVERY_US;
	}
	if (s->icmp_tokens == 0)
		return false;
	s->icmp_tokens--;
	return true;
}

void synack_icmp_send_error(struct synack_stack *s, const struct synack_ipv4 *ip, uint8_t type,
			    uint8_t code, const uint8_t *frame, size_t frame_len)
{
	struct synack_addr dst = synack_addr_v4(ip->dst);
	if (ip->frag_off != 0 || !synack_stack_has_addr(s, &dst))
		return;
	if (ip->proto == SYNACK_IPPROTO_ICMP) {
		/* Never an error about an error: only echo requests and other queries qualify. */
		size_t ihl = ip->ihl;
		if (frame_len < ihl + 1)
			return;
		uint8_t t = frame[ihl];
		if (t != SYNACK_ICMP_ECHO_REQUEST && t != 13 && t != 15 && t != 17)
			return;
	}
	if (!icmp_error_token(s))
		return;
	/* RFC 1812 §4.3.2.3: as much of the datagram as fits 576 bytes -- and the link. */
	size_t max = stack_frame_max(s) < ICMP_ERROR_MAX ? stack_frame_max(s) : ICMP_ERROR_MAX;
	size_t qlen = frame_len < ip->total_len ? frame_len : ip->total_len;
	if (qlen > max - SYNACK_IPV4_HDR_MIN - ICMP_HDR)
		qlen = max - SYNACK_IPV4_HDR_MIN - ICMP_HDR;
	uint8_t hdr[ICMP_HDR] = {type, code, 0, 0, 0, 0, 0, 0};
	icmp_send(s, ip->dst, ip->src, hdr, ICMP_HDR, frame, qlen);
}
