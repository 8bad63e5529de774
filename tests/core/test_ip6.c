/* IPv6 and ICMPv6 in the core (RFC 8200, RFC 4443, RFC 6437), driven through the public
 * sans-IO entry points: a dual-stack segtest plays the peer from fd00::1 to the stack's
 * fd00::2. TCP over IPv6 (MSS = MTU - 60, one flow label per connection), the extension header
 * walk, the Parameter Problems RFC 8200 asks for, martian and land sources, link padding,
 * fragments, echo, and the errors a connection hears (unreachable, Packet Too Big). */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "support/segtest.h"

#define ISN 1000u

/* Raw frames the stack sent that are not TCP (ICMPv6): pops the next captured one. */
static const struct st_frame *next_raw(struct segtest *t)
{
	cr_assert_lt(t->next, t->nframes, "a frame was sent");
	return &t->frames[t->next++];
}

/* An IPv6 packet from the peer to the stack: the fixed header (Next Header next), then ext
 * (already chained by the caller), then the TCP segment seg. Returns its length. */
static size_t build6(struct segtest *t, uint8_t *out, uint8_t next, const uint8_t *ext,
		     size_t elen, const struct synack_tcp_seg *seg)
{
	uint8_t tcp[2048];
	int n = synack_tcp_encode(tcp, sizeof tcp, &t->peer, &t->local, seg);
	cr_assert_gt(n, 0);
	struct synack_ipv6 ip = {.next = next, .hop_limit = 64, .src = t->peer, .dst = t->local};
	cr_assert_eq(synack_ipv6_emit(out, 40, &ip, elen + (size_t)n), 40);
	if (elen)
		memcpy(out + 40, ext, elen);
	memcpy(out + 40 + elen, tcp, (size_t)n);
	return 40 + elen + (size_t)n;
}

static struct synack_tcp_seg syn_seg(void)
{
	struct synack_tcp_seg s = {0};
	s.sport = ST_PEER_PORT;
	s.dport = ST_SERVER_PORT;
	s.seq = ISN;
	s.flags = SYNACK_TH_SYN;
	s.win = 65535;
	s.opts.has_mss = true;
	s.opts.mss = 1440;
	return s;
}

static void icmp6_csum_fill(const struct synack_addr *src, const struct synack_addr *dst,
			    uint8_t *m, size_t len)
{
	m[2] = m[3] = 0;
	uint32_t sum = synack_csum_add(0, src->b, 16);
	sum = synack_csum_add(sum, dst->b, 16);
	sum += (uint32_t)len + SYNACK_IPPROTO_ICMPV6;
	uint16_t c = synack_csum_fold(synack_csum_add(sum, m, len));
	m[2] = (uint8_t)(c >> 8);
	m[3] = (uint8_t)c;
}

/* An ICMPv6 message (type, code, param, body) from `from` to the stack. */
static size_t build_icmp6(struct segtest *t, uint8_t *out, const struct synack_addr *from,
			  uint8_t type, uint8_t code, uint32_t param, const uint8_t *body,
			  size_t blen)
{
	struct synack_ipv6 ip = {.next = SYNACK_IPPROTO_ICMPV6, .hop_limit = 64, .src = *from,
				 .dst = t->local};
	cr_assert_eq(synack_ipv6_emit(out, 40, &ip, 8 + blen), 40);
	uint8_t *m = out + 40;
	m[0] = type;
	m[1] = code;
	m[4] = (uint8_t)(param >> 24);
	m[5] = (uint8_t)(param >> 16);
	m[6] = (uint8_t)(param >> 8);
	m[7] = (uint8_t)param;
	memcpy(m + 8, body, blen);
	icmp6_csum_fill(from, &t->local, m, 8 + blen);
	return 48 + blen;
}

/* Asserts the next frame is an ICMPv6 error (type, code, param) from the stack to the peer
 * quoting exactly `quote`, with a valid checksum. */
static void expect_icmp6_error(struct segtest *t, uint8_t type, uint8_t code, uint32_t param,
			       const uint8_t *quote, size_t qlen)
{
	const struct st_frame *f = next_raw(t);
	struct synack_ipv6 ip;
	const uint8_t *m;
	size_t mlen;
	cr_assert_eq(synack_ipv6_parse(f->b, f->len, &ip, &m, &mlen), 0);
	cr_assert_eq(ip.proto, SYNACK_IPPROTO_ICMPV6);
	cr_assert(synack_addr_eq(&ip.src, &t->local));
	cr_assert(synack_addr_eq(&ip.dst, &t->peer));
	cr_assert_eq(mlen, 8 + qlen);
	cr_assert_eq(m[0], type);
	cr_assert_eq(m[1], code);
	cr_assert_eq((uint32_t)m[4] << 24 | (uint32_t)m[5] << 16 | (uint32_t)m[6] << 8 | m[7], param);
	cr_assert_arr_eq(m + 8, quote, qlen);
	uint32_t sum = synack_csum_add(0, ip.src.b, 16);
	sum = synack_csum_add(sum, ip.dst.b, 16);
	sum += (uint32_t)mlen + SYNACK_IPPROTO_ICMPV6;
	cr_assert_eq(synack_csum_fold(synack_csum_add(sum, m, mlen)), 0, "ICMPv6 checksum");
}

/* ---- TCP over IPv6 -------------------------------------------------------------------------- */

Test(ip6, passive_open_announces_mtu_minus_60_and_one_flow_label)
{
	struct segtest t;
	st_init6(&t);
	int lfd = st_listen(&t, ST_SERVER_PORT, 8);
	ST_IN(&t, .flags = F_S, .seq = ISN, .opts = {.has_mss = true, .mss = 1440});
	struct st_seg sa;
	st_expect_ack(&t, F_S | F_A, ISN + 1, &sa);
	cr_assert(sa.opts.has_mss);
	cr_assert_eq(sa.opts.mss, 1440, "RFC 8200 §8.3: MTU 1500 - 60");
	cr_assert_eq(sa.hop_limit, 64);
	cr_assert_neq(sa.flow, 0, "RFC 6437: a labelled flow");
	cr_assert(synack_addr_eq(&sa.dst, &t.peer));
	ST_IN(&t, .flags = F_A, .seq = ISN + 1, .ack = sa.seq + 1);
	struct synack_endpoint peer;
	int fd = synack_accept(t.s, lfd, &peer);
	cr_assert_geq(fd, 0);
	cr_assert(synack_addr_eq(&peer.addr, &t.peer), "accept reports the IPv6 peer");
	cr_assert_eq(peer.port, ST_PEER_PORT);
	ST_IN(&t, .flags = F_A | F_P, .seq = ISN + 1, .ack = sa.seq + 1, .data = "hello", .len = 5);
	char buf[8];
	cr_assert_eq(synack_recv(t.s, fd, buf, sizeof buf, 0), 5);
	cr_assert_arr_eq(buf, "hello", 5);
	cr_assert_eq(synack_send(t.s, fd, "world", 5, 0), 5);
	struct st_seg d;
	do
		cr_assert(st_next(&t, &d), "the data segment");
	while (d.len == 0); /* an ACK of "hello" may go first */
	cr_assert_eq(d.len, 5);
	cr_assert_arr_eq(d.data, "world", 5);
	cr_assert_eq(d.flow, sa.flow, "every segment of the connection has the same label");
	cr_assert_eq(st_counter(&t, SYNACK_CTR_Ip6InReceives), 3);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_Ip6InDelivers), 3);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_Ip6OutRequests), st_counter(&t, SYNACK_CTR_OutSegs));
	cr_assert_eq(st_counter(&t, SYNACK_CTR_IpInReceives), 0, "nothing counted as IPv4");
	cr_assert_eq(st_counter(&t, SYNACK_CTR_IpOutRequests), 0);
	st_fini(&t);
}

Test(ip6, active_open_keeps_its_label_and_a_second_connection_gets_another)
{
	struct segtest t;
	st_init6(&t);
	struct st_seg syn, syn2, other;
	int fd = st_start_connect(&t, &syn);
	cr_assert_eq(syn.opts.mss, 1440);
	st_at(&t, 1000000); /* the SYN is retransmitted after the initial RTO */
	cr_assert(st_next(&t, &syn2));
	cr_assert_eq(syn2.flags, F_S);
	cr_assert_eq(syn2.flow, syn.flow);
	int maxseg = 0;
	size_t l = sizeof maxseg;
	cr_assert_eq(synack_getsockopt(t.s, fd, SYNACK_IPPROTO_TCP, SYNACK_TCP_MAXSEG, &maxseg, &l),
		     0);
	cr_assert_eq(maxseg, 1460, "TCP_MAXSEG before the handshake reports the configured MSS");
	st_start_connect(&t, &other);
	cr_assert_neq(other.flow, syn.flow, "another port, another flow");
	st_fini(&t);
}

Test(ip6, mss_from_the_peer_is_clamped_to_mtu_minus_60)
{
	struct segtest t;
	st_init6(&t);
	struct st_seg syn;
	int fd = st_start_connect(&t, &syn);
	ST_IN(&t, .flags = F_S | F_A, .seq = ISN, .ack = syn.seq + 1,
	      .opts = {.has_mss = true, .mss = 9000});
	st_expect(&t, F_A, syn.seq + 1, ISN + 1, NULL);
	struct synack_tcp_info ti;
	cr_assert_eq(synack_tcp_info(t.s, fd, &ti), 0);
	cr_assert_eq(ti.snd_mss, 1440);
	st_fini(&t);
}

/* ---- extension headers ---------------------------------------------------------------------- */

/* Hop-by-hop (PadN, a skippable unknown option), destination options, and a routing header
 * with nothing left to do: all walked, and the SYN reaches TCP. */
Test(ip6, walked_extension_headers_reach_tcp)
{
	struct segtest t;
	st_init6(&t);
	st_listen(&t, ST_SERVER_PORT, 8);
	uint8_t ext[24] = {
		SYNACK_IPPROTO_DSTOPTS, 0, 1, 4, 0, 0, 0, 0,          /* HBH: PadN(4) */
		SYNACK_IPPROTO_ROUTING, 0, 0x1e, 2, 0, 0, 1, 0,       /* DST: unknown 00-type, Pad1 */
		SYNACK_PROTO_TCP, 0, 4, 0, 0, 0, 0, 0,                /* RH type 4, segments left 0 */
	};
	uint8_t f[200];
	struct synack_tcp_seg s = syn_seg();
	size_t n = build6(&t, f, SYNACK_IPPROTO_HOPOPTS, ext, sizeof ext, &s);
	st_send_raw(&t, f, n);
	st_expect_ack(&t, F_S | F_A, ISN + 1, NULL);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_Ip6InHdrErrors), 0);
	st_fini(&t);
}

/* RFC 5095 §3: a type 0 routing header with segments left is refused with a Parameter
 * Problem, code 0, pointing at the Routing Type. */
Test(ip6, type0_routing_header_is_refused_with_a_parameter_problem)
{
	struct segtest t;
	st_init6(&t);
	st_listen(&t, ST_SERVER_PORT, 8);
	uint8_t ext[24] = {SYNACK_PROTO_TCP, 2, 0, 1};
	memcpy(ext + 8, ST_V6_PEER, 16);
	uint8_t f[200];
	struct synack_tcp_seg s = syn_seg();
	size_t n = build6(&t, f, SYNACK_IPPROTO_ROUTING, ext, sizeof ext, &s);
	st_send_raw(&t, f, n);
	expect_icmp6_error(&t, 4, 0, 42, f, n);
	st_expect_none(&t);
	cr_assert_eq(st_drops(&t, SYNACK_DROP_IP6_RH0), 1);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_Ip6InHdrErrors), 1);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_Icmp6OutParmProblems), 1);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_PassiveOpens), 0);
	/* with segments left 0 the same header is ignored */
	ext[3] = 0;
	n = build6(&t, f, SYNACK_IPPROTO_ROUTING, ext, sizeof ext, &s);
	st_send_raw(&t, f, n);
	st_expect_ack(&t, F_S | F_A, ISN + 1, NULL);
	st_fini(&t);
}

/* RFC 8200 §4.2: the two high bits of an unknown option's type choose the action. */
Test(ip6, unknown_options_follow_their_action_bits)
{
	struct segtest t;
	st_init6(&t);
	st_listen(&t, ST_SERVER_PORT, 8);
	struct synack_tcp_seg s = syn_seg();
	uint8_t f[200];
	uint8_t ext[8] = {SYNACK_PROTO_TCP, 0, 0x5e, 1, 0, 1, 1, 0}; /* 01: discard silently */
	size_t n = build6(&t, f, SYNACK_IPPROTO_DSTOPTS, ext, sizeof ext, &s);
	st_send_raw(&t, f, n);
	st_expect_none(&t);
	ext[2] = 0x9e; /* 10: discard and send a Parameter Problem code 2 at the option */
	n = build6(&t, f, SYNACK_IPPROTO_DSTOPTS, ext, sizeof ext, &s);
	st_send_raw(&t, f, n);
	expect_icmp6_error(&t, 4, 2, 42, f, n);
	ext[2] = 0xde; /* 11: the same for a unicast destination */
	n = build6(&t, f, SYNACK_IPPROTO_DSTOPTS, ext, sizeof ext, &s);
	st_send_raw(&t, f, n);
	expect_icmp6_error(&t, 4, 2, 42, f, n);
	st_expect_none(&t);
	cr_assert_eq(st_drops(&t, SYNACK_DROP_IP6_UNKNOWN_OPTION), 3);
	st_fini(&t);
}

/* RFC 8200 §4.1: Hop-by-Hop anywhere but first is an unrecognized Next Header (code 1,
 * pointing at the Next Header field that named it). */
Test(ip6, hop_by_hop_after_another_header_is_a_parameter_problem)
{
	struct segtest t;
	st_init6(&t);
	uint8_t ext[16] = {SYNACK_IPPROTO_HOPOPTS, 0, 1, 4, 0, 0, 0, 0,
			   SYNACK_PROTO_TCP,       0, 1, 4, 0, 0, 0, 0};
	uint8_t f[200];
	struct synack_tcp_seg s = syn_seg();
	size_t n = build6(&t, f, SYNACK_IPPROTO_DSTOPTS, ext, sizeof ext, &s);
	st_send_raw(&t, f, n);
	expect_icmp6_error(&t, 4, 1, 40, f, n);
	cr_assert_eq(st_drops(&t, SYNACK_DROP_IP6_BAD_EXTHDR), 1);
	st_fini(&t);
}

/* RFC 8200 §4: an upper layer we do not speak gets code 1 at the fixed header's Next Header. */
Test(ip6, unknown_next_header_is_a_parameter_problem_at_offset_6)
{
	struct segtest t;
	st_init6(&t);
	uint8_t f[200];
	struct synack_ipv6 ip = {.next = 17, .hop_limit = 64, .src = t.peer, .dst = t.local};
	synack_ipv6_emit(f, 40, &ip, 8);
	memset(f + 40, 0xab, 8);
	st_send_raw(&t, f, 48);
	expect_icmp6_error(&t, 4, 1, 6, f, 48);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_Ip6InUnknownProtos), 1);
	cr_assert_eq(st_drops(&t, SYNACK_DROP_IP_UNKNOWN_PROTO), 1);
	/* No Next Header (59): nothing follows, nothing to answer */
	ip.next = SYNACK_IPPROTO_NONE;
	synack_ipv6_emit(f, 40, &ip, 0);
	st_send_raw(&t, f, 40);
	st_expect_none(&t);
	st_fini(&t);
}

Test(ip6, errors_are_rate_limited)
{
	struct segtest t;
	st_init6(&t);
	uint8_t f[48];
	struct synack_ipv6 ip = {.next = 17, .hop_limit = 64, .src = t.peer, .dst = t.local};
	synack_ipv6_emit(f, 40, &ip, 8);
	memset(f + 40, 0, 8);
	st_at(&t, 5000000);
	for (int i = 0; i < 60; i++)
		st_send_raw(&t, f, sizeof f);
	cr_assert_eq(st_pending(&t), 50, "a burst of 50 (net.ipv4.icmp_msgs_burst)");
	cr_assert_eq(st_counter(&t, SYNACK_CTR_Icmp6OutRateLimitHost), 10);
	st_at(&t, 5000000 + 3000);
	st_send_raw(&t, f, sizeof f);
	cr_assert_eq(st_pending(&t), 51, "then one per millisecond");
	st_fini(&t);
}

/* ---- header validation ---------------------------------------------------------------------- */

Test(ip6, payload_length_longer_than_the_frame_is_dropped_padding_is_trimmed)
{
	struct segtest t;
	st_init6(&t);
	st_listen(&t, ST_SERVER_PORT, 8);
	uint8_t f[200];
	struct synack_tcp_seg s = syn_seg();
	size_t n = build6(&t, f, SYNACK_PROTO_TCP, NULL, 0, &s);
	st_send_raw(&t, f, n - 1);
	st_expect_none(&t);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_Ip6InTruncatedPkts), 1);
	cr_assert_eq(st_drops(&t, SYNACK_DROP_IP_BAD_TOTLEN), 1);
	memset(f + n, 0, 10); /* an Ethernet pad: not part of the packet */
	st_send_raw(&t, f, n + 10);
	st_expect_ack(&t, F_S | F_A, ISN + 1, NULL);
	cr_assert_eq(st_drops(&t, SYNACK_DROP_TCP_BAD_CSUM), 0);
	/* a version that is not 6 in a frame that starts like one goes to IPv4 and fails there */
	f[0] = 0x70;
	st_send_raw(&t, f, n);
	cr_assert_eq(st_drops(&t, SYNACK_DROP_IP_VERSION), 1);
	st_fini(&t);
}

static void send_from(struct segtest *t, const uint8_t src[16], const uint8_t dst[16])
{
	struct synack_addr keep_p = t->peer, keep_l = t->local;
	t->peer = synack_addr_v6(src);
	t->local = synack_addr_v6(dst);
	uint8_t f[200];
	struct synack_tcp_seg s = syn_seg();
	st_send_raw(t, f, build6(t, f, SYNACK_PROTO_TCP, NULL, 0, &s));
	t->peer = keep_p;
	t->local = keep_l;
}

/* RFC 4291 sources that never come from the wire, our own address ("land"), and a
 * destination that is not ours (an IPv4-mapped one included, even of our own IPv4 address):
 * dropped and counted, no SYN-ACK, no ICMP. */
Test(ip6, martian_land_and_foreign_packets_are_dropped)
{
	struct segtest t;
	st_init6(&t);
	st_listen(&t, ST_SERVER_PORT, 8);
	static const uint8_t unspec[16], loop[16] = {[15] = 1}, mcast[16] = {0xff, 2, [15] = 1},
			     mapped[16] = {[10] = 0xff, [11] = 0xff, 10, 0, 0, 1},
			     other[16] = {0xfd, [15] = 9},
			     our_v4[16] = {[10] = 0xff, [11] = 0xff, 10, 0, 0, 2};
	cr_assert(synack_stack_has_addr(t.s, &(struct synack_addr[1]){synack_addr_v4(ST_LOCAL)}[0]),
		  "the stack has 10.0.0.2 too");
	send_from(&t, unspec, ST_V6_LOCAL);
	send_from(&t, loop, ST_V6_LOCAL);
	send_from(&t, mcast, ST_V6_LOCAL);
	send_from(&t, mapped, ST_V6_LOCAL);
	cr_assert_eq(st_drops(&t, SYNACK_DROP_IP_BAD_SRC), 4);
	send_from(&t, ST_V6_LOCAL, ST_V6_LOCAL);
	cr_assert_eq(st_drops(&t, SYNACK_DROP_IP_LAND), 1);
	send_from(&t, ST_V6_PEER, other);
	send_from(&t, ST_V6_PEER, our_v4);
	cr_assert_eq(st_drops(&t, SYNACK_DROP_IP_NOT_FOR_US), 2);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_Ip6InAddrErrors), 7);
	st_expect_none(&t);
	cr_assert_eq(st_count_state(&t, SYNACK_SYN_RECEIVED), 0, "no half-open entry");
	st_fini(&t);
}

Test(ip6, fragments_wait_for_reassembly_atomic_fragments_are_whole)
{
	struct segtest t;
	st_init6(&t);
	st_listen(&t, ST_SERVER_PORT, 8);
	uint8_t ext[8] = {SYNACK_PROTO_TCP, 0, 0, 1, 0, 0, 0, 7}; /* offset 0, M set */
	uint8_t f[200];
	struct synack_tcp_seg s = syn_seg();
	size_t n = build6(&t, f, SYNACK_IPPROTO_FRAGMENT, ext, sizeof ext, &s);
	st_send_raw(&t, f, n);
	st_expect_none(&t);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_Ip6ReasmReqds), 1);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_Ip6ReasmFails), 0, "held, not dropped");
	ext[3] = 0; /* RFC 6946: offset 0 and M clear is the whole packet */
	n = build6(&t, f, SYNACK_IPPROTO_FRAGMENT, ext, sizeof ext, &s);
	st_send_raw(&t, f, n);
	st_expect_ack(&t, F_S | F_A, ISN + 1, NULL);
	st_fini(&t);
}

/* ---- ICMPv6 --------------------------------------------------------------------------------- */

Test(ip6, echo_request_is_answered_byte_for_byte)
{
	struct segtest t;
	st_init6(&t);
	uint8_t f[100], body[20];
	for (int i = 0; i < 20; i++)
		body[i] = (uint8_t)(i * 13);
	size_t n = build_icmp6(&t, f, &t.peer, 128, 0, 0x12340007, body, sizeof body);
	st_send_raw(&t, f, n);
	const struct st_frame *r = next_raw(&t);
	cr_assert_eq(r->len, n);
	struct synack_ipv6 ip;
	const uint8_t *m;
	size_t mlen;
	cr_assert_eq(synack_ipv6_parse(r->b, r->len, &ip, &m, &mlen), 0);
	cr_assert(synack_addr_eq(&ip.dst, &t.peer));
	cr_assert(synack_addr_eq(&ip.src, &t.local));
	cr_assert_eq(m[0], 129);
	cr_assert_eq(m[1], 0);
	cr_assert_arr_eq(m + 4, f + 44, 4 + sizeof body, "identifier, sequence and data");
	uint8_t want[28];
	memcpy(want, m, 28);
	icmp6_csum_fill(&ip.src, &ip.dst, want, 28);
	cr_assert_arr_eq(m, want, 4, "checksum");
	cr_assert_eq(st_counter(&t, SYNACK_CTR_Icmp6InMsgs), 1);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_Icmp6InEchos), 1);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_Icmp6OutEchoReplies), 1);
	/* a bad checksum: counted, no reply */
	f[45] ^= 1;
	st_send_raw(&t, f, n);
	st_expect_none(&t);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_Icmp6InErrors), 1);
	st_fini(&t);
}

/* The quote of an error about our segment: the IPv6 header and 8 bytes of TCP. */
static size_t quote_of(struct segtest *t, uint8_t *q, const struct st_seg *seg, uint16_t lport,
		       uint16_t rport)
{
	struct synack_ipv6 ip = {.next = SYNACK_PROTO_TCP, .hop_limit = 64, .src = t->local,
				 .dst = t->peer};
	synack_ipv6_emit(q, 40, &ip, 20);
	uint8_t *th = q + 40;
	th[0] = (uint8_t)(lport >> 8);
	th[1] = (uint8_t)lport;
	th[2] = (uint8_t)(rport >> 8);
	th[3] = (uint8_t)rport;
	th[4] = (uint8_t)(seg->seq >> 24);
	th[5] = (uint8_t)(seg->seq >> 16);
	th[6] = (uint8_t)(seg->seq >> 8);
	th[7] = (uint8_t)seg->seq;
	return 48;
}

Test(ip6, port_unreachable_is_hard_no_route_is_soft)
{
	struct segtest t;
	st_init6(&t);
	struct st_seg syn;
	int fd = st_start_connect(&t, &syn);
	uint8_t q[48], f[200];
	quote_of(&t, q, &syn, t.lport, t.rport);
	static const uint8_t router[16] = {0xfd, [14] = 0xff, [15] = 1};
	struct synack_addr r = synack_addr_v6(router);
	size_t n = build_icmp6(&t, f, &r, 1, 0, 0, q, sizeof q); /* no route: soft */
	st_send_raw(&t, f, n);
	cr_assert_eq(st_state(&t, fd), SYNACK_SYN_SENT);
	n = build_icmp6(&t, f, &r, 1, 4, 0, q, sizeof q); /* port unreachable: hard */
	st_send_raw(&t, f, n);
	cr_assert_eq(st_state(&t, fd), SYNACK_CLOSED);
	int err = 0;
	size_t l = sizeof err;
	cr_assert_eq(synack_getsockopt(t.s, fd, SYNACK_SOL_SOCKET, SYNACK_SO_ERROR, &err, &l), 0);
	cr_assert_eq(err, ECONNREFUSED);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_Icmp6InDestUnreachs), 2);
	st_fini(&t);
}

/* RFC 8201 §4: Packet Too Big lowers the MSS to MTU - 60 (never below 1280 - 60) and what is
 * in flight goes again at once at the new size. A quote outside the window is ignored. */
Test(ip6, packet_too_big_lowers_the_mss_and_resends_at_once)
{
	struct segtest t;
	st_init6(&t);
	int fd = st_active_open(&t, ISN, NULL);
	static uint8_t data[3000];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 7);
	cr_assert_eq(synack_send(t.s, fd, data, sizeof data, 0), (ssize_t)sizeof data);
	struct st_seg s1, s2, s3, re;
	cr_assert(st_next(&t, &s1));
	cr_assert(st_next(&t, &s2));
	cr_assert(st_next(&t, &s3));
	cr_assert_eq(s1.len, 1440);
	cr_assert_eq(s2.len, 1440);
	cr_assert_eq(s3.len, 120);
	uint8_t q[48], f[200];
	static const uint8_t router[16] = {0xfd, [14] = 0xff, [15] = 1};
	struct synack_addr r = synack_addr_v6(router);
	struct st_seg bogus = s1;
	bogus.seq = s1.seq - 100000;
	quote_of(&t, q, &bogus, t.lport, t.rport);
	size_t n = build_icmp6(&t, f, &r, 2, 0, 1300, q, sizeof q);
	st_send_raw(&t, f, n);
	st_expect_none(&t);
	quote_of(&t, q, &s1, t.lport, t.rport);
	n = build_icmp6(&t, f, &r, 2, 0, 1000, q, sizeof q); /* below the minimum: 1280 */
	st_send_raw(&t, f, n);
	/* everything in flight goes again at once, cut to 1280 - 60 */
	static const size_t want[3] = {1220, 1220, 560};
	size_t at = 0;
	for (int i = 0; i < 3; i++) {
		cr_assert(st_next(&t, &re), "resent at once");
		cr_assert_eq(re.seq, s1.seq + at);
		cr_assert_eq(re.len, want[i]);
		cr_assert_arr_eq(re.data, data + at, want[i]);
		at += want[i];
	}
	struct synack_tcp_info ti;
	synack_tcp_info(t.s, fd, &ti);
	cr_assert_eq(ti.snd_mss, 1220);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_Icmp6InPktTooBigs), 2);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_RetransSegs), 3);
	st_fini(&t);
}

/* A half-open IPv6 connection sleeps as a request entry (tcp_req.c): Packet Too Big quoting
 * its SYN-ACK wakes it and lowers its MSS (nothing goes again: no data is in flight, and the
 * SYN-ACK is small), which the entry keeps until the final ACK makes the connection. */
Test(ip6, packet_too_big_reaches_a_half_open_entry)
{
	struct segtest t;
	st_init6(&t);
	int lfd = st_listen(&t, ST_SERVER_PORT, 8);
	ST_IN(&t, .flags = F_S, .seq = ISN, .opts = {.has_mss = true, .mss = 1440});
	struct st_seg sa, re;
	st_expect_ack(&t, F_S | F_A, ISN + 1, &sa);
	uint8_t q[48], f[200];
	static const uint8_t router[16] = {0xfd, [14] = 0xff, [15] = 1};
	struct synack_addr r = synack_addr_v6(router);
	quote_of(&t, q, &sa, t.lport, t.rport);
	st_send_raw(&t, f, build_icmp6(&t, f, &r, 2, 0, 1300, q, sizeof q));
	st_expect_none(&t);
	st_at(&t, 1000000); /* the SYN-ACK's retransmission, from the entry */
	st_expect(&t, F_S | F_A, sa.seq, ISN + 1, &re);
	cr_assert_eq(re.opts.mss, 1440, "the MSS we announce is ours to receive");
	cr_assert_eq(re.flow, sa.flow);
	ST_IN(&t, .flags = F_A, .seq = ISN + 1, .ack = sa.seq + 1);
	st_expect_none(&t);
	int fd = synack_accept(t.s, lfd, NULL);
	cr_assert_geq(fd, 0);
	struct synack_tcp_info ti;
	synack_tcp_info(t.s, fd, &ti);
	cr_assert_eq(ti.state, SYNACK_ESTABLISHED);
	cr_assert_eq(ti.snd_mss, 1240, "1300 - 60");
	cr_assert_eq(ti.total_retrans, 1);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_Icmp6InPktTooBigs), 1);
	st_fini(&t);
}

/* An error quoting a packet that is not ours (a forged source) is malformed. */
Test(ip6, an_error_quoting_someone_elses_packet_is_dropped)
{
	struct segtest t;
	st_init6(&t);
	struct st_seg syn;
	int fd = st_start_connect(&t, &syn);
	uint8_t q[48], f[200];
	quote_of(&t, q, &syn, t.lport, t.rport);
	q[23] = 0x77; /* the quoted source is no longer us */
	size_t n = build_icmp6(&t, f, &t.peer, 1, 4, 0, q, sizeof q);
	st_send_raw(&t, f, n);
	cr_assert_eq(st_state(&t, fd), SYNACK_SYN_SENT);
	cr_assert_eq(st_drops(&t, SYNACK_DROP_ICMP_MALFORMED), 1);
	st_fini(&t);
}

/* An ICMPv6 error whose quoted header carries IPv4-mapped addresses names no IPv6 packet of
 * ours; read as a tuple it would be an IPv4 connection's (a synack_addr holds IPv4 as
 * ::ffff:a.b.c.d), so an IPv6 host could abort it. Dropped as malformed. */
Test(ip6, an_error_quoting_ipv4_mapped_addresses_is_dropped)
{
	struct segtest t;
	st_init6(&t);
	struct synack_addr l6 = t.local, p6 = t.peer;
	t.local = synack_addr_v4(ST_LOCAL);
	t.peer = synack_addr_v4(ST_PEER);
	struct st_seg syn;
	int fd = st_start_connect(&t, &syn); /* an IPv4 connection */
	uint8_t q[48], f[200];
	quote_of(&t, q, &syn, t.lport, t.rport); /* its addresses as ::ffff:10.0.0.x */
	t.local = l6;
	t.peer = p6;
	size_t n = build_icmp6(&t, f, &t.peer, 1, 4, 0, q, sizeof q); /* port unreachable: hard */
	st_send_raw(&t, f, n);
	cr_assert_eq(st_state(&t, fd), SYNACK_SYN_SENT, "the IPv4 connection lives on");
	cr_assert_eq(st_drops(&t, SYNACK_DROP_ICMP_MALFORMED), 1);
	st_fini(&t);
}

/* Checksum offload over IPv6: the segment leaves with the pseudo-header sum and the offsets of
 * a 40-byte header; completing it as a device would gives a segment that verifies. */
Test(ip6, checksum_offload_points_past_the_ipv6_header)
{
	struct synack_config cfg;
	st_config(&cfg);
	cfg.caps.tx_csum = 1;
	cr_assert_eq(synack_config_add_addr(&cfg, synack_addr_v6(ST_V6_LOCAL), 64), 0);
	struct segtest t;
	st_init(&t, &cfg);
	t.local = synack_addr_v6(ST_V6_LOCAL);
	t.peer = synack_addr_v6(ST_V6_PEER);
	struct st_seg syn;
	st_start_connect(&t, &syn); /* st_next completes the sum and verifies it */
	const struct st_frame *f = &t.frames[0];
	cr_assert_eq(f->meta.csum, SYNACK_CSUM_NEEDED);
	cr_assert_eq(f->meta.csum_start, 40);
	cr_assert_eq(f->meta.family, SYNACK_AF_INET6);
	st_fini(&t);
}

/* ---- dual stack ------------------------------------------------------------------------------ */

/* Sends a SYN to port 80 from the peer address of the family of `to`. */
static void syn_to(struct segtest *t, bool v6)
{
	t->local = v6 ? synack_addr_v6(ST_V6_LOCAL) : synack_addr_v4(ST_LOCAL);
	t->peer = v6 ? synack_addr_v6(ST_V6_PEER) : synack_addr_v4(ST_PEER);
	ST_IN(t, .flags = F_S, .seq = ISN, .opts = {.has_mss = true, .mss = 1400});
}

static int listen_on(struct segtest *t, const struct synack_addr *a, bool v6only)
{
	int fd = synack_socket(t->s);
	int v = v6only;
	if (v6only)
		cr_assert_eq(synack_setsockopt(t->s, fd, SYNACK_IPPROTO_IPV6, SYNACK_IPV6_V6ONLY, &v,
					       sizeof v), 0);
	struct synack_endpoint ep = {*a, ST_SERVER_PORT};
	cr_assert_eq(synack_bind(t->s, fd, &ep), 0);
	cr_assert_eq(synack_listen(t->s, fd, 8), 0);
	return fd;
}

/* A listener on :: hears both families (IPv4 peers as ::ffff:a.b.c.d), as on Linux with
 * net.ipv6.bindv6only = 0. */
Test(ip6, wildcard_v6_listener_accepts_both_families)
{
	struct segtest t;
	st_init6(&t);
	struct synack_addr any6 = synack_addr_any(SYNACK_AF_INET6);
	int lfd = listen_on(&t, &any6, false);
	syn_to(&t, true);
	st_expect_ack(&t, F_S | F_A, ISN + 1, NULL);
	t.rport = ST_PEER_PORT + 1;
	syn_to(&t, false);
	struct st_seg sa;
	st_expect_ack(&t, F_S | F_A, ISN + 1, &sa);
	cr_assert_eq(sa.opts.mss, 1460, "the IPv4 peer gets the IPv4 MSS");
	ST_IN(&t, .flags = F_A, .seq = ISN + 1, .ack = sa.seq + 1);
	struct synack_endpoint peer;
	int fd = synack_accept(t.s, lfd, &peer);
	cr_assert_geq(fd, 0);
	static const uint8_t mapped[16] = {[10] = 0xff, [11] = 0xff, 10, 0, 0, 1};
	cr_assert_arr_eq(peer.addr.b, mapped, 16, "the IPv4 peer as ::ffff:10.0.0.1");
	st_fini(&t);
}

Test(ip6, v6only_listener_ignores_ipv4_and_v4_wildcard_ignores_ipv6)
{
	struct segtest t;
	st_init6(&t);
	struct synack_addr any6 = synack_addr_any(SYNACK_AF_INET6);
	int lfd = listen_on(&t, &any6, true);
	int v = 0;
	size_t l = sizeof v;
	cr_assert_eq(synack_getsockopt(t.s, lfd, SYNACK_IPPROTO_IPV6, SYNACK_IPV6_V6ONLY, &v, &l), 0);
	cr_assert_eq(v, 1);
	cr_assert_eq(synack_setsockopt(t.s, lfd, SYNACK_IPPROTO_IPV6, SYNACK_IPV6_V6ONLY, &v,
				       sizeof v), -EINVAL, "too late once bound");
	syn_to(&t, false);
	struct st_seg rst;
	st_expect(&t, F_R | F_A, 0, ISN + 1, &rst); /* nobody listens for IPv4 on :80 */
	syn_to(&t, true);
	st_expect_ack(&t, F_S | F_A, ISN + 1, NULL);
	st_fini(&t);

	st_init6(&t);
	struct synack_addr any4 = synack_addr_any(SYNACK_AF_INET);
	listen_on(&t, &any4, false);
	syn_to(&t, true);
	st_expect(&t, F_R | F_A, 0, ISN + 1, NULL);
	syn_to(&t, false);
	st_expect_ack(&t, F_S | F_A, ISN + 1, NULL);
	st_fini(&t);
}

Test(ip6, v6only_refuses_ipv4_binds_and_connects)
{
	struct segtest t;
	st_init6(&t);
	int fd = synack_socket(t.s), v = 1;
	cr_assert_eq(synack_setsockopt(t.s, fd, SYNACK_IPPROTO_IPV6, SYNACK_IPV6_V6ONLY, &v,
				       sizeof v), 0);
	struct synack_endpoint v4 = {synack_addr_v4(ST_LOCAL), 0};
	cr_assert_eq(synack_bind(t.s, fd, &v4), -EINVAL);
	struct synack_endpoint to = {synack_addr_v4(ST_PEER), 80};
	cr_assert_eq(synack_connect(t.s, fd, &to), -ENETUNREACH);
	cr_assert_eq(synack_setsockopt(t.s, fd, SYNACK_IPPROTO_IPV6, 99, &v, sizeof v),
		     -ENOPROTOOPT);
	st_fini(&t);
}

/* Sockets split by family share a port, as on Linux: a V6ONLY [::]:80 beside 0.0.0.0:80, each
 * hearing its own family; a dual-stack [::]:80 beside either is EADDRINUSE. */
Test(ip6, listeners_split_by_family_share_a_port)
{
	struct segtest t;
	st_init6(&t);
	struct synack_addr any6 = synack_addr_any(SYNACK_AF_INET6);
	struct synack_addr any4 = synack_addr_any(SYNACK_AF_INET);
	int l6 = listen_on(&t, &any6, true);
	int l4 = listen_on(&t, &any4, false);
	syn_to(&t, false);
	struct st_seg sa;
	st_expect_ack(&t, F_S | F_A, ISN + 1, &sa);
	cr_assert_eq(sa.opts.mss, 1460);
	ST_IN(&t, .flags = F_A, .seq = ISN + 1, .ack = sa.seq + 1);
	struct synack_endpoint peer;
	cr_assert_eq(synack_accept(t.s, l6, &peer), -EAGAIN, "the IPv4 peer is not the V6ONLY one's");
	int c4 = synack_accept(t.s, l4, &peer);
	cr_assert_geq(c4, 0);
	struct synack_addr want = synack_addr_v4(ST_PEER);
	cr_assert(synack_addr_eq(&peer.addr, &want));
	t.rport = ST_PEER_PORT + 1;
	syn_to(&t, true);
	st_expect_ack(&t, F_S | F_A, ISN + 1, &sa);
	cr_assert_eq(sa.opts.mss, 1440);
	ST_IN(&t, .flags = F_A, .seq = ISN + 1, .ack = sa.seq + 1);
	cr_assert_eq(synack_accept(t.s, l4, &peer), -EAGAIN, "the IPv6 peer is not 0.0.0.0's");
	int c6 = synack_accept(t.s, l6, &peer);
	cr_assert_geq(c6, 0);
	want = synack_addr_v6(ST_V6_PEER);
	cr_assert(synack_addr_eq(&peer.addr, &want));

	/* A dual-stack socket overlaps both: refused on the port, whichever family it names. */
	int d = synack_socket(t.s);
	struct synack_endpoint ep = {any6, ST_SERVER_PORT};
	cr_assert_eq(synack_bind(t.s, d, &ep), -EADDRINUSE);
	ep.addr = synack_addr_v4(ST_LOCAL);
	cr_assert_eq(synack_bind(t.s, d, &ep), -EADDRINUSE, "10.0.0.2 is heard by 0.0.0.0:80");
	ep.addr = synack_addr_v6(ST_V6_LOCAL);
	cr_assert_eq(synack_bind(t.s, d, &ep), -EADDRINUSE, "the IPv6 address by [::]:80");
	ep.port = ST_SERVER_PORT + 1;
	cr_assert_eq(synack_bind(t.s, d, &ep), 0, "a failed bind leaves the socket as it was");
	st_fini(&t);

	/* Two addresses of the stack's on one port, a listener each: each hears its own. */
	st_init6(&t);
	struct synack_addr own4 = synack_addr_v4(ST_LOCAL), own6 = synack_addr_v6(ST_V6_LOCAL);
	l4 = listen_on(&t, &own4, false);
	l6 = listen_on(&t, &own6, false);
	d = synack_socket(t.s);
	ep = (struct synack_endpoint){any4, ST_SERVER_PORT};
	cr_assert_eq(synack_bind(t.s, d, &ep), -EADDRINUSE, "0.0.0.0 would hear 10.0.0.2");
	syn_to(&t, true);
	st_expect_ack(&t, F_S | F_A, ISN + 1, &sa);
	ST_IN(&t, .flags = F_A, .seq = ISN + 1, .ack = sa.seq + 1);
	cr_assert_eq(synack_accept(t.s, l4, &peer), -EAGAIN);
	cr_assert_geq(synack_accept(t.s, l6, &peer), 0);
	st_fini(&t);

	/* The other way round: a dual-stack listener first refuses both split ones. */
	st_init6(&t);
	listen_on(&t, &any6, false);
	d = synack_socket(t.s);
	ep = (struct synack_endpoint){any4, ST_SERVER_PORT};
	cr_assert_eq(synack_bind(t.s, d, &ep), -EADDRINUSE);
	int v = 1;
	cr_assert_eq(synack_setsockopt(t.s, d, SYNACK_IPPROTO_IPV6, SYNACK_IPV6_V6ONLY, &v, sizeof v), 0);
	ep.addr = any6;
	cr_assert_eq(synack_bind(t.s, d, &ep), -EADDRINUSE);
	/* SO_REUSEADDR does not share a port with a listener (only with TIME-WAIT). */
	cr_assert_eq(synack_setsockopt(t.s, d, SYNACK_SOL_SOCKET, SYNACK_SO_REUSEADDR, &v, sizeof v), 0);
	cr_assert_eq(synack_bind(t.s, d, &ep), -EADDRINUSE);
	st_fini(&t);
}

/* ---- IPv4 input validation ------------------------------------------------------------------ */

static void syn4_from(struct segtest *t, uint32_t src)
{
	t->peer = synack_addr_v4(src);
	ST_IN(t, .flags = F_S, .seq = ISN, .opts = {.has_mss = true, .mss = 1460});
	t->peer = synack_addr_v4(ST_PEER);
}

/* A SYN from our own address (a "land" attack) or from our subnet's broadcast address makes
 * no half-open entry and no SYN-ACK. */
Test(ip4, land_and_subnet_broadcast_sources_are_dropped)
{
	struct segtest t;
	st_init(&t, NULL);
	st_listen(&t, ST_SERVER_PORT, 8);
	syn4_from(&t, ST_LOCAL);
	cr_assert_eq(st_drops(&t, SYNACK_DROP_IP_LAND), 1);
	syn4_from(&t, 0x0a0000ffu); /* 10.0.0.255: the /24's broadcast */
	cr_assert_eq(st_drops(&t, SYNACK_DROP_IP_BAD_SRC), 1);
	st_expect_none(&t);
	cr_assert_eq(st_count_state(&t, SYNACK_SYN_RECEIVED), 0);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_IpInAddrErrors), 2);
	syn4_from(&t, 0x0a0001ffu); /* 10.0.1.255 is another subnet's host: fine */
	st_expect_ack(&t, F_S | F_A, ISN + 1, NULL);
	st_fini(&t);
}

/* An Ethernet-padded datagram: the bytes after Total Length are trimmed, the SYN taken. */
Test(ip4, padding_after_total_length_is_trimmed)
{
	struct segtest t;
	st_init(&t, NULL);
	st_listen(&t, ST_SERVER_PORT, 8);
	struct synack_tcp_seg s = syn_seg();
	uint8_t f[120];
	int n = synack_tcp_emit(f, sizeof f, &t.peer, &t.local, 1, &s);
	cr_assert_gt(n, 0);
	memset(f + n, 0xee, 20);
	st_send_raw(&t, f, (size_t)n + 20);
	st_expect_ack(&t, F_S | F_A, ISN + 1, NULL);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_IpInHdrErrors), 0);
	st_fini(&t);
}
