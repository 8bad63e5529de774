/* ICMP in the core, driven through the public sans-IO entry points with crafted packets:
 * echo → reply, protocol unreachable for unknown transports, and destination unreachable
 * delivered to the TCP connection it names (soft while connecting, hard for port/protocol
 * unreachable, fragmentation-needed lowering the MSS, forged quotes ignored). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "synack/synack.h"

/* A pointer to the IPv4 address x (host order) as a synack_addr, for the codec. */
#define ST_V4(x) (&(const struct synack_addr[1]){synack_addr_v4(x)}[0])

#define US 0x0a000002u   /* 10.0.0.2: the stack */
#define PEER 0x0a000001u /* 10.0.0.1 */

struct cap {
	uint8_t f[16][2048];
	size_t len[16];
	int n;
};

static void cap_out(void *ctx, const uint8_t *frame, const struct synack_frame_meta *meta)
{
	size_t len = meta->len;
	struct cap *c = ctx;
	/* Every ICMP frame out: its length and family said, its checksum complete. */
	cr_assert_eq(len, (size_t)(frame[2] << 8 | frame[3]));
	cr_assert_eq(meta->family, SYNACK_AF_INET);
	cr_assert_eq(meta->csum, SYNACK_CSUM_NONE);
	if (c->n < 16 && len <= sizeof c->f[0]) {
		memcpy(c->f[c->n], frame, len);
		c->len[c->n] = len;
	}
	c->n++;
}

static void *t_alloc(void *ctx, size_t n) { (void)ctx; return malloc(n); }
static void t_free(void *ctx, void *p, size_t n) { (void)ctx; (void)n; free(p); }

static struct cap cap;

static struct synack_stack *mk(uint8_t syn_retries)
{
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.name = "t";
	synack_config_add_addr(&cfg, synack_addr_v4(US), 24);
	cfg.seed = 1;
	cfg.secret[0] = 1;
	cfg.output = cap_out;
	cfg.output_ctx = &cap;
	cfg.allocator = (struct synack_allocator){t_alloc, t_free, NULL};
	if (syn_retries)
		cfg.syn_retries = syn_retries;
	memset(&cap, 0, sizeof cap);
	struct synack_stack *s;
	cr_assert_eq(synack_stack_new(&s, &cfg), 0);
	return s;
}

static uint16_t csum(const uint8_t *p, size_t n) { return synack_csum_fold(synack_csum_add(0, p, n)); }

/* An IPv4 packet from src to us carrying proto/payload. */
static size_t ip_pkt(uint8_t *out, uint32_t src, uint8_t proto, const uint8_t *pl, size_t n)
{
	struct synack_ipv4 ip = {.ihl = 20, .id = 99, .ttl = 64, .proto = proto, .src = src, .dst = US};
	synack_ipv4_emit(out, 2048, &ip, n);
	memcpy(out + 20, pl, n);
	return 20 + n;
}

/* An ICMP message with its checksum filled. */
static size_t icmp_msg(uint8_t *m, uint8_t type, uint8_t code, uint32_t rest, const uint8_t *data,
		       size_t n)
{
	m[0] = type, m[1] = code, m[2] = m[3] = 0;
	m[4] = (uint8_t)(rest >> 24), m[5] = (uint8_t)(rest >> 16), m[6] = (uint8_t)(rest >> 8),
	m[7] = (uint8_t)rest;
	memcpy(m + 8, data, n);
	uint16_t c = csum(m, 8 + n);
	m[2] = (uint8_t)(c >> 8), m[3] = (uint8_t)c;
	return 8 + n;
}

static uint64_t ctr(struct synack_stack *s, enum synack_counter c)
{
	struct synack_counters k;
	synack_stack_counters(s, &k);
	return k.v[c];
}

static uint64_t drops(struct synack_stack *s, enum synack_drop_reason r)
{
	struct synack_counters k;
	synack_stack_counters(s, &k);
	return k.drops[r];
}

Test(icmp, echo_request_gets_an_exact_reply)
{
	struct synack_stack *s = mk(0);
	uint8_t data[56], m[64], pkt[128];
	for (int i = 0; i < 56; i++)
		data[i] = (uint8_t)i;
	size_t ml = icmp_msg(m, 8, 0, 0x12340007u, data, sizeof data);
	size_t pl = ip_pkt(pkt, PEER, 1, m, ml);
	synack_stack_input(s, pkt, pl, 1000);

	cr_assert_eq(cap.n, 1);
	cr_assert_eq(cap.len[0], pl);
	struct synack_ipv4 ip;
	const uint8_t *p;
	size_t n;
	cr_assert_eq(synack_ipv4_parse(cap.f[0], cap.len[0], &ip, &p, &n), 0, "valid IP checksum");
	cr_assert_eq(ip.src, US);
	cr_assert_eq(ip.dst, PEER);
	cr_assert_eq(ip.proto, 1);
	cr_assert_eq(ip.ttl, 64);
	cr_assert_eq(n, ml);
	cr_assert_eq(p[0], 0, "echo reply");
	cr_assert_eq(p[1], 0);
	cr_assert_eq(csum(p, n), 0, "valid ICMP checksum");
	cr_assert_eq(memcmp(p + 4, m + 4, ml - 4), 0, "identifier, sequence and data unchanged");
	cr_assert_eq(ctr(s, SYNACK_CTR_IcmpInMsgs), 1);
	cr_assert_eq(ctr(s, SYNACK_CTR_IcmpOutMsgs), 1);
	synack_stack_destroy(s);
}

Test(icmp, malformed_or_odd_messages_get_no_reply)
{
	struct synack_stack *s = mk(0);
	uint8_t data[8] = {1, 2, 3, 4, 5, 6, 7, 8}, m[64], pkt[128];
	size_t ml = icmp_msg(m, 8, 0, 1, data, sizeof data);
	m[9] ^= 0xff; /* checksum now wrong */
	synack_stack_input(s, pkt, ip_pkt(pkt, PEER, 1, m, ml), 1000);
	cr_assert_eq(drops(s, SYNACK_DROP_ICMP_MALFORMED), 1);
	synack_stack_input(s, pkt, ip_pkt(pkt, PEER, 1, m, 4), 1000); /* shorter than a header */
	cr_assert_eq(drops(s, SYNACK_DROP_ICMP_MALFORMED), 2);
	ml = icmp_msg(m, 8, 1, 1, data, sizeof data); /* echo with a nonzero code */
	synack_stack_input(s, pkt, ip_pkt(pkt, PEER, 1, m, ml), 1000);
	ml = icmp_msg(m, 0, 0, 1, data, sizeof data); /* an unsolicited echo reply */
	synack_stack_input(s, pkt, ip_pkt(pkt, PEER, 1, m, ml), 1000);
	cr_assert_eq(cap.n, 0);
	cr_assert_eq(ctr(s, SYNACK_CTR_IcmpInMsgs), 4);
	synack_stack_destroy(s);
}

Test(icmp, unknown_protocol_gets_protocol_unreachable)
{
	struct synack_stack *s = mk(0);
	uint8_t udp[12] = {0x30, 0x39, 0x00, 0x35, 0x00, 0x0c, 0, 0, 'a', 'b', 'c', 'd'}, pkt[64];
	size_t pl = ip_pkt(pkt, PEER, 17, udp, sizeof udp);
	synack_stack_input(s, pkt, pl, 1000);
	cr_assert_eq(ctr(s, SYNACK_CTR_IpInUnknownProtos), 1);
	cr_assert_eq(cap.n, 1);
	struct synack_ipv4 ip;
	const uint8_t *p;
	size_t n;
	cr_assert_eq(synack_ipv4_parse(cap.f[0], cap.len[0], &ip, &p, &n), 0);
	cr_assert_eq(ip.dst, PEER);
	cr_assert_eq(ip.proto, 1);
	cr_assert_eq(p[0], 3, "destination unreachable");
	cr_assert_eq(p[1], 2, "protocol unreachable");
	cr_assert_eq(csum(p, n), 0);
	cr_assert_eq(n, 8 + pl, "the whole offending datagram is quoted (it is under 576 bytes)");
	cr_assert_eq(memcmp(p + 8, pkt, pl), 0);
	cr_assert_eq(ctr(s, SYNACK_CTR_IcmpOutMsgs), 1);

	/* Never an error about a non-initial fragment. */
	pkt[6] = 0x00, pkt[7] = 0x10; /* fragment offset 16 */
	pkt[10] = pkt[11] = 0;
	uint16_t c = csum(pkt, 20);
	pkt[10] = (uint8_t)(c >> 8), pkt[11] = (uint8_t)c;
	synack_stack_input(s, pkt, pl, 1000);
	cr_assert_eq(cap.n, 1);
	synack_stack_destroy(s);
}

Test(icmp, errors_we_send_are_rate_limited_like_linux)
{
	struct synack_stack *s = mk(0);
	uint8_t udp[8] = {0x30, 0x39, 0x00, 0x35, 0x00, 0x08, 0, 0}, pkt[64];
	size_t pl = ip_pkt(pkt, PEER, 17, udp, sizeof udp);
	for (int i = 0; i < 80; i++)
		synack_stack_input(s, pkt, pl, 5000000);
	cr_assert_eq(ctr(s, SYNACK_CTR_IcmpOutMsgs), 50, "a burst of 50");
	synack_stack_input(s, pkt, pl, 5000999);
	cr_assert_eq(ctr(s, SYNACK_CTR_IcmpOutMsgs), 50, "no token before a millisecond");
	for (int i = 0; i < 20; i++)
		synack_stack_input(s, pkt, pl, 5010000);
	cr_assert_eq(ctr(s, SYNACK_CTR_IcmpOutMsgs), 60, "one more per millisecond");
	cr_assert_eq(ctr(s, SYNACK_CTR_IpInUnknownProtos), 101, "all of them counted");
	/* Echo replies are not limited. */
	uint8_t m[16], data[8] = {0};
	size_t ml = icmp_msg(m, 8, 0, 1, data, sizeof data);
	pl = ip_pkt(pkt, PEER, 1, m, ml);
	for (int i = 0; i < 100; i++)
		synack_stack_input(s, pkt, pl, 5010000);
	cr_assert_eq(ctr(s, SYNACK_CTR_IcmpOutMsgs), 160);
	synack_stack_destroy(s);
}

/* Starts a connect to PEER:80 and returns the socket; the SYN is cap.f[0]. */
static int start_connect(struct synack_stack *s, struct synack_tcp_seg *syn)
{
	int fd = synack_socket(s);
	cr_assert_geq(fd, 0);
	struct synack_endpoint ep = {synack_addr_v4(PEER), 80};
	cr_assert_eq(synack_connect(s, fd, &ep), -EINPROGRESS);
	cr_assert_eq(cap.n, 1);
	struct synack_ipv4 ip;
	const uint8_t *p;
	size_t n;
	cr_assert_eq(synack_ipv4_parse(cap.f[0], cap.len[0], &ip, &p, &n), 0);
	cr_assert_eq(synack_tcp_parse(p, n, ST_V4(ip.src), ST_V4(ip.dst), true, syn), 0);
	return fd;
}

/* Delivers destination unreachable (code, mtu) quoting our frame `q` (with seq altered by
 * seq_delta). */
static void unreach(struct synack_stack *s, uint8_t code, uint16_t mtu, const uint8_t *q,
		    int32_t seq_delta, uint64_t now)
{
	uint8_t quote[28], m[64], pkt[128];
	memcpy(quote, q, 28);
	uint32_t seq = (uint32_t)quote[24] << 24 | (uint32_t)quote[25] << 16 |
		       (uint32_t)quote[26] << 8 | quote[27];
	seq += (uint32_t)seq_delta;
	quote[24] = (uint8_t)(seq >> 24), quote[25] = (uint8_t)(seq >> 16);
	quote[26] = (uint8_t)(seq >> 8), quote[27] = (uint8_t)seq;
	size_t ml = icmp_msg(m, 3, code, mtu, quote, sizeof quote);
	synack_stack_input(s, pkt, ip_pkt(pkt, 0x0a000063u, 1, m, ml), now);
}

static int so_error(struct synack_stack *s, int fd)
{
	int e = 0;
	size_t l = sizeof e;
	cr_assert_eq(synack_getsockopt(s, fd, SYNACK_SOL_SOCKET, SYNACK_SO_ERROR, &e, &l), 0);
	return e;
}

static enum synack_tcp_state state(struct synack_stack *s, int fd)
{
	struct synack_tcp_info i;
	cr_assert_eq(synack_tcp_info(s, fd, &i), 0);
	return i.state;
}

Test(icmp, host_unreachable_is_soft_then_reported_when_connect_times_out)
{
	struct synack_stack *s = mk(1);
	struct synack_tcp_seg syn;
	int fd = start_connect(s, &syn);
	unreach(s, 1, 0, cap.f[0], 0, 1000);
	cr_assert_eq(ctr(s, SYNACK_CTR_IcmpInDestUnreachs), 1);
	cr_assert_eq(state(s, fd), SYNACK_SYN_SENT, "RFC 1122: a soft error must not abort");
	cr_assert_eq(so_error(s, fd), 0, "not reported while still trying");
	/* syn_retries 1: one retransmission at 1 s, give up at 3 s. */
	for (uint64_t t = 1000; t <= 10000000; t += 100000)
		synack_stack_poll(s, t);
	cr_assert_eq(cap.n, 2, "the SYN and one retransmission");
	cr_assert_eq(synack_connect(s, fd, &(struct synack_endpoint){synack_addr_v4(PEER), 80}),
		     -EHOSTUNREACH, "the soft error, not ETIMEDOUT");
	synack_stack_destroy(s);
}

Test(icmp, port_unreachable_aborts_a_connect)
{
	struct synack_stack *s = mk(0);
	struct synack_tcp_seg syn;
	int fd = start_connect(s, &syn);
	unreach(s, 3, 0, cap.f[0], 0, 1000);
	cr_assert_eq(state(s, fd), SYNACK_CLOSED);
	cr_assert_eq(so_error(s, fd), ECONNREFUSED, "SO_ERROR is positive, as on Linux");
	cr_assert_eq(cap.n, 1, "nothing sent in answer");
	synack_stack_destroy(s);
}

Test(icmp, administratively_prohibited_aborts_a_connect_with_ehostunreach)
{
	struct synack_stack *s = mk(0);
	struct synack_tcp_seg syn;
	int fd = start_connect(s, &syn);
	unreach(s, 13, 0, cap.f[0], 0, 1000); /* communication administratively prohibited */
	cr_assert_eq(state(s, fd), SYNACK_CLOSED);
	cr_assert_eq(so_error(s, fd), EHOSTUNREACH);
	synack_stack_destroy(s);
}

Test(icmp, a_quote_with_a_sequence_number_we_did_not_send_is_ignored)
{
	struct synack_stack *s = mk(0);
	struct synack_tcp_seg syn;
	int fd = start_connect(s, &syn);
	unreach(s, 3, 0, cap.f[0], 1000, 1000); /* RFC 5927 §4.1: seq outside SND.UNA..SND.NXT */
	cr_assert_eq(state(s, fd), SYNACK_SYN_SENT);
	cr_assert_eq(so_error(s, fd), 0);
	synack_stack_destroy(s);
}

Test(icmp, unreachable_for_an_unknown_connection_changes_nothing)
{
	struct synack_stack *s = mk(0);
	struct synack_tcp_seg syn;
	int fd = start_connect(s, &syn);
	uint8_t q[28];
	memcpy(q, cap.f[0], 28);
	q[20] ^= 1; /* another source port */
	unreach(s, 3, 0, q, 0, 1000);
	cr_assert_eq(state(s, fd), SYNACK_SYN_SENT);
	synack_stack_destroy(s);
}

Test(icmp, fragmentation_needed_lowers_the_mss)
{
	struct synack_stack *s = mk(0);
	struct synack_tcp_seg syn;
	int fd = start_connect(s, &syn);
	/* The peer's SYN-ACK announcing MSS 1460. */
	struct synack_tcp_seg sa = {.sport = 80, .dport = syn.sport, .seq = 5000, .ack = syn.seq + 1,
				    .flags = SYNACK_TH_SYN | SYNACK_TH_ACK, .win = 65535};
	sa.opts.has_mss = true;
	sa.opts.mss = 1460;
	uint8_t pkt[128];
	int pl = synack_tcp_emit(pkt, sizeof pkt, ST_V4(PEER), ST_V4(US), 1, &sa);
	synack_stack_input(s, pkt, (size_t)pl, 2000);
	cr_assert_eq(state(s, fd), SYNACK_ESTABLISHED);
	struct synack_tcp_info i;
	synack_tcp_info(s, fd, &i);
	cr_assert_eq(i.snd_mss, 1460);
	/* A router says the path MTU is 1280: segments must now fit 1280 - 40. The quote is of
	 * our last frame (the ACK); seq = SND.NXT is inside [SND.UNA, SND.NXT]. */
	unreach(s, 4, 1280, cap.f[cap.n - 1], 0, 3000);
	synack_tcp_info(s, fd, &i);
	cr_assert_eq(i.snd_mss, 1240);
	cr_assert_eq(state(s, fd), SYNACK_ESTABLISHED, "not an error for the application");
	cr_assert_eq(so_error(s, fd), 0);
	/* An MTU under Linux's 552 floor is raised to it. */
	unreach(s, 4, 300, cap.f[cap.n - 1], 0, 4000);
	synack_tcp_info(s, fd, &i);
	cr_assert_eq(i.snd_mss, 512);
	synack_stack_destroy(s);
}
