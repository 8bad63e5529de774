/* IP reassembly for both families (src/core/reasm.c): a SYN cut into fragments reaches TCP
 * whatever their order; overlaps abandon the datagram (RFC 5722), exact duplicates are dropped
 * alone; datagrams time out after 30 s (IPv4) and 60 s (IPv6); memory stays bounded and what
 * is evicted is counted. */
#include <criterion/criterion.h>
#include <string.h>

#include "support/segtest.h"

#define ISN 5000u

/* A SYN's TCP bytes: a 40-byte header (MSS, timestamps, window scale), which cuts into
 * 8-byte-aligned pieces. */
static size_t syn_bytes(struct segtest *t, uint8_t *tcp)
{
	struct synack_tcp_seg s = {0};
	s.sport = ST_PEER_PORT;
	s.dport = ST_SERVER_PORT;
	s.seq = ISN;
	s.flags = SYNACK_TH_SYN;
	s.win = 65535;
	s.opts.has_mss = true;
	s.opts.mss = 1400;
	s.opts.has_ts = true;
	s.opts.ts_val = 7;
	s.opts.has_wscale = true;
	s.opts.wscale = 7;
	int n = synack_tcp_encode(tcp, 100, &t->peer, &t->local, &s);
	cr_assert_eq(n, 40);
	return (size_t)n;
}

/* An IPv4 fragment of tcp: bytes [off, off+len), MF as given, identification id. */
static void frag4(struct segtest *t, const uint8_t *tcp, size_t off, size_t len, bool mf,
		  uint16_t id)
{
	uint8_t f[128];
	struct synack_ipv4 ip = {.ttl = 64, .proto = SYNACK_PROTO_TCP, .id = id, .mf = mf,
				 .frag_off = (uint16_t)(off / 8), .src = ST_PEER, .dst = ST_LOCAL};
	synack_ipv4_emit(f, 20, &ip, len);
	memcpy(f + 20, tcp + off, len);
	st_send_raw(t, f, 20 + len);
}

/* An IPv6 fragment, after a destination options header (unfragmentable part: 40 + 8). */
static void frag6(struct segtest *t, const uint8_t *tcp, size_t off, size_t len, bool mf,
		  uint32_t id)
{
	uint8_t f[160];
	struct synack_ipv6 ip = {.next = SYNACK_IPPROTO_DSTOPTS, .hop_limit = 64, .src = t->peer,
				 .dst = t->local};
	synack_ipv6_emit(f, 40, &ip, 8 + 8 + len);
	uint8_t dst[8] = {SYNACK_IPPROTO_FRAGMENT, 0, 1, 4, 0, 0, 0, 0};
	memcpy(f + 40, dst, 8);
	uint16_t fo = (uint16_t)(off | (mf ? 1 : 0));
	uint8_t fh[8] = {SYNACK_PROTO_TCP, 0, (uint8_t)(fo >> 8), (uint8_t)fo,
			 (uint8_t)(id >> 24), (uint8_t)(id >> 16), (uint8_t)(id >> 8), (uint8_t)id};
	memcpy(f + 48, fh, 8);
	memcpy(f + 56, tcp + off, len);
	st_send_raw(t, f, 56 + len);
}

typedef void (*frag_fn)(struct segtest *t, const uint8_t *tcp, size_t off, size_t len, bool mf,
			uint16_t id);

static void frag6_16(struct segtest *t, const uint8_t *tcp, size_t off, size_t len, bool mf,
		     uint16_t id)
{
	frag6(t, tcp, off, len, mf, 0x10000u + id);
}

static void setup(struct segtest *t, bool v6)
{
	if (v6)
		st_init6(t);
	else
		st_init(t, NULL);
	st_listen(t, ST_SERVER_PORT, 8);
}

static void in_order_and_reversed(bool v6)
{
	frag_fn fr = v6 ? frag6_16 : frag4;
	struct segtest t;
	setup(&t, v6);
	uint8_t tcp[100];
	syn_bytes(&t, tcp);
	fr(&t, tcp, 0, 16, true, 1);
	fr(&t, tcp, 16, 16, true, 1);
	st_expect_none(&t);
	fr(&t, tcp, 32, 8, false, 1);
	st_expect_ack(&t, F_S | F_A, ISN + 1, NULL);
	/* the same SYN again, pieces in reverse order, another identification */
	t.rport = ST_PEER_PORT;
	fr(&t, tcp, 32, 8, false, 2);
	fr(&t, tcp, 16, 16, true, 2);
	fr(&t, tcp, 0, 16, true, 2);
	st_expect_ack(&t, F_S | F_A, ISN + 1, NULL); /* the SYN-ACK again */
	enum synack_counter oks = v6 ? SYNACK_CTR_Ip6ReasmOKs : SYNACK_CTR_IpReasmOKs,
			    reqds = v6 ? SYNACK_CTR_Ip6ReasmReqds : SYNACK_CTR_IpReasmReqds;
	cr_assert_eq(st_counter(&t, oks), 2);
	cr_assert_eq(st_counter(&t, reqds), 6);
	st_fini(&t);
}

Test(reasm, ipv4_whatever_the_order) { in_order_and_reversed(false); }
Test(reasm, ipv6_whatever_the_order) { in_order_and_reversed(true); }

static void overlap_and_duplicate(bool v6)
{
	frag_fn fr = v6 ? frag6_16 : frag4;
	enum synack_counter fails = v6 ? SYNACK_CTR_Ip6ReasmFails : SYNACK_CTR_IpReasmFails;
	struct segtest t;
	setup(&t, v6);
	uint8_t tcp[100];
	syn_bytes(&t, tcp);
	fr(&t, tcp, 0, 16, true, 3);
	fr(&t, tcp, 0, 16, true, 3); /* an exact duplicate: dropped alone */
	cr_assert_eq(st_counter(&t, fails), 0);
	fr(&t, tcp, 8, 16, true, 3); /* overlaps [0, 16): the datagram is abandoned */
	cr_assert_eq(st_counter(&t, fails), 1);
	cr_assert_eq(st_drops(&t, SYNACK_DROP_IP_FRAGMENT), 1);
	fr(&t, tcp, 16, 16, true, 3);
	fr(&t, tcp, 32, 8, false, 3);
	st_expect_none(&t); /* the first piece went with the abandoned datagram */
	st_fini(&t);
}

Test(reasm, ipv4_overlap_abandons_the_datagram) { overlap_and_duplicate(false); }
Test(reasm, ipv6_overlap_abandons_the_datagram) { overlap_and_duplicate(true); }

/* 30 s for IPv4, 60 s for IPv6 (Linux's ipfrag_time, ip6frag_time): the deadline is the
 * stack's, and what times out is counted. */
static void times_out(bool v6, uint64_t timeout_us)
{
	frag_fn fr = v6 ? frag6_16 : frag4;
	struct segtest t;
	setup(&t, v6);
	uint8_t tcp[100];
	syn_bytes(&t, tcp);
	st_at(&t, 1000000);
	fr(&t, tcp, 0, 16, true, 4);
	cr_assert_eq(synack_stack_next_deadline(t.s), 1000000 + timeout_us);
	st_at(&t, 1000000 + timeout_us - 1);
	cr_assert_eq(st_counter(&t, v6 ? SYNACK_CTR_Ip6ReasmTimeout : SYNACK_CTR_IpReasmTimeout), 0);
	st_at(&t, 1000000 + timeout_us);
	cr_assert_eq(st_counter(&t, v6 ? SYNACK_CTR_Ip6ReasmTimeout : SYNACK_CTR_IpReasmTimeout), 1);
	cr_assert_eq(st_counter(&t, v6 ? SYNACK_CTR_Ip6ReasmFails : SYNACK_CTR_IpReasmFails), 1);
	fr(&t, tcp, 16, 24, false, 4); /* the rest, too late */
	st_expect_none(&t);
	st_fini(&t);
}

Test(reasm, ipv4_times_out_after_30s) { times_out(false, 30000000); }
Test(reasm, ipv6_times_out_after_60s) { times_out(true, 60000000); }

/* Many unfinished datagrams: the table and the memory stay bounded, the oldest are evicted
 * and counted, and a fresh datagram still completes. */
Test(reasm, memory_is_bounded_and_evictions_counted)
{
	struct segtest t;
	setup(&t, false);
	static uint8_t big[1480];
	size_t before = t.live_bytes;
	for (uint16_t id = 100; id < 400; id++) {
		uint8_t f[1500];
		struct synack_ipv4 ip = {.ttl = 64, .proto = SYNACK_PROTO_TCP, .id = id, .mf = true,
					 .src = ST_PEER, .dst = ST_LOCAL};
		synack_ipv4_emit(f, 20, &ip, sizeof big);
		memcpy(f + 20, big, sizeof big);
		st_send_raw(&t, f, 20 + sizeof big);
		cr_assert_leq(t.live_bytes - before, 256 * 1024 + 16 * 2048 + 4096,
			      "bounded after %u datagrams", id - 100u);
	}
	uint64_t fails = st_counter(&t, SYNACK_CTR_IpReasmFails);
	cr_assert_geq(fails, 300 - 256 * 1024 / 1480 - 1);
	uint8_t tcp[100];
	syn_bytes(&t, tcp);
	frag4(&t, tcp, 0, 16, true, 7);
	frag4(&t, tcp, 16, 24, false, 7);
	st_expect_ack(&t, F_S | F_A, ISN + 1, NULL);
	st_fini(&t);
}

/* The pieces must be 8-byte multiples except the last, and the datagram within 65535 bytes. */
Test(reasm, malformed_fragments_are_dropped)
{
	struct segtest t;
	setup(&t, false);
	uint8_t tcp[100];
	syn_bytes(&t, tcp);
	frag4(&t, tcp, 0, 12, true, 9);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_IpReasmFails), 1);
	uint8_t f[64];
	struct synack_ipv4 ip = {.ttl = 64, .proto = SYNACK_PROTO_TCP, .id = 9, .mf = false,
				 .frag_off = 8189, .src = ST_PEER, .dst = ST_LOCAL};
	synack_ipv4_emit(f, 20, &ip, 16);
	memset(f + 20, 0, 16);
	st_send_raw(&t, f, 36); /* ends at 20 + 65512 + 16 > 65535 */
	cr_assert_eq(st_counter(&t, SYNACK_CTR_IpReasmFails), 2);
	st_expect_none(&t);
	st_fini(&t);
}
