/* The stack object and IPv4 input: creation, configuration errors, accounting, and every
 * kind of malformed or unwanted packet counted and dropped with its reason. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "support/segtest.h"

static size_t make_tcp(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t flags)
{
	struct synack_tcp_seg seg;
	memset(&seg, 0, sizeof seg);
	seg.sport = 1234;
	seg.dport = 80;
	seg.seq = 1;
	seg.flags = flags;
	seg.win = 1000;
	int n = synack_tcp_emit(buf, 2048, ST_V4(src), ST_V4(dst), 7, &seg);
	cr_assert_gt(n, 0);
	return (size_t)n;
}

Test(stack, defaults_follow_linux)
{
	struct synack_config c;
	synack_config_default(&c);
	cr_assert_eq(c.mss, 1460);
	cr_assert_eq(c.syn_retries, 6);
	cr_assert_eq(c.synack_retries, 5);
	cr_assert_eq(c.retries2, 15);
	cr_assert_eq(c.rto_initial_ms, 1000);
	cr_assert_eq(c.rto_min_ms, 200);
	cr_assert_eq(c.msl_ms, 30000);
	cr_assert_eq(c.init_cwnd_segs, 10);
	cr_assert_eq(c.port_lo, 32768);
	cr_assert_eq(c.port_hi, 60999);
}

Test(stack, create_rejects_bad_config)
{
	struct synack_config c;
	st_config(&c);
	struct synack_stack *s = (void *)1;
	cr_assert_eq(synack_stack_create(&s, &c), -EINVAL, "no allocator, no output");
	cr_assert_null(s);
}

Test(stack, new_without_allocator_uses_malloc)
{
	struct synack_config c;
	st_config(&c);
	c.output = (void (*)(void *, const uint8_t *, const struct synack_frame_meta *))1;
	struct synack_stack *s;
	cr_assert_eq(synack_stack_new(&s, &c), 0);
	cr_assert_gt(synack_stack_live_allocs(s), 0);
	struct synack_ifaddr ia[2];
	cr_assert_eq(synack_stack_addrs(s, ia, 2), 1);
	cr_assert(synack_addr_eq(&ia[0].addr, ST_V4(ST_LOCAL)));
	cr_assert_eq(ia[0].prefix_len, 24);
	cr_assert(synack_stack_has_addr(s, ST_V4(ST_LOCAL)));
	cr_assert_not(synack_stack_has_addr(s, ST_V4(ST_PEER)));
	cr_assert_str_eq(synack_stack_name(s), "stack");
	synack_stack_destroy(s);
}

Test(stack, ip_drops_are_counted_with_reasons)
{
	struct segtest t;
	st_init(&t, NULL);
	uint8_t b[2048];
	size_t n = make_tcp(b, ST_PEER, ST_LOCAL, F_A);
	/* bad IP checksum */
	b[10] ^= 0xFF;
	st_send_raw(&t, b, n);
	b[10] ^= 0xFF;
	cr_assert_eq(st_drops(&t, SYNACK_DROP_IP_BAD_CSUM), 1);
	/* truncated */
	st_send_raw(&t, b, 10);
	cr_assert_eq(st_drops(&t, SYNACK_DROP_IP_TRUNCATED), 1);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_IpInHdrErrors), 2);
	/* not for us */
	n = make_tcp(b, ST_PEER, 0x0A000009u, F_A);
	st_send_raw(&t, b, n);
	cr_assert_eq(st_drops(&t, SYNACK_DROP_IP_NOT_FOR_US), 1);
	/* a fragment that cannot be one: MF set but 20 bytes of data, not a multiple of 8 (RFC
	 * 791): dropped by reassembly (recompute the header checksum by re-emitting) */
	struct synack_ipv4 ip = {.ihl = 20, .ttl = 64, .proto = 6, .src = ST_PEER, .dst = ST_LOCAL,
				 .mf = true};
	uint8_t f[64];
	memset(f, 0, sizeof f);
	synack_ipv4_emit(f, sizeof f, &ip, 20);
	st_send_raw(&t, f, 40);
	cr_assert_eq(st_drops(&t, SYNACK_DROP_IP_FRAGMENT), 1);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_IpReasmFails), 1);
	/* unknown protocol (17, UDP) */
	ip.mf = false;
	ip.proto = 17;
	synack_ipv4_emit(f, sizeof f, &ip, 8);
	st_send_raw(&t, f, 28);
	cr_assert_eq(st_drops(&t, SYNACK_DROP_IP_UNKNOWN_PROTO), 1);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_IpInUnknownProtos), 1);
	/* ... and answered with ICMP protocol unreachable (RFC 1122 §3.2.2.1) */
	cr_assert_eq(st_pending(&t), 1);
	cr_assert_eq(t.frames[t.next].b[9], 1, "ICMP");
	cr_assert_eq(t.frames[t.next].b[20], 3, "destination unreachable");
	cr_assert_eq(t.frames[t.next].b[21], 2, "protocol unreachable");
	t.next++;
	/* ICMP is counted (an echo reply with a valid checksum: nothing to do) */
	ip.proto = 1;
	synack_ipv4_emit(f, sizeof f, &ip, 8);
	f[22] = f[23] = 0xFF;
	st_send_raw(&t, f, 28);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_IcmpInMsgs), 1);
	cr_assert_eq(st_count_events(&t, SYNACK_TRACE_DROP), 5);
	st_expect_none(&t);
	st_fini(&t);
}

Test(stack, tcp_bad_checksum_counted)
{
	struct segtest t;
	st_init(&t, NULL);
	uint8_t b[2048];
	size_t n = make_tcp(b, ST_PEER, ST_LOCAL, F_S);
	b[20 + 16] ^= 0x55; /* TCP checksum field */
	st_send_raw(&t, b, n);
	cr_assert_eq(st_drops(&t, SYNACK_DROP_TCP_BAD_CSUM), 1);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_InCsumErrors), 1);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_InErrs), 1);
	st_expect_none(&t);
	st_fini(&t);
}

Test(stack, garbage_never_crashes)
{
	struct segtest t;
	st_init(&t, NULL);
	uint8_t b[256];
	for (int round = 0; round < 2000; round++) {
		for (size_t i = 0; i < sizeof b; i++)
			b[i] = (uint8_t)((i * 2654435761u + (unsigned)round * 40503u) >> 7);
		b[0] = 0x45;
		st_send_raw(&t, b, (size_t)(round % 256));
	}
	st_fini(&t);
}

Test(stack, next_deadline_and_poll)
{
	struct segtest t;
	st_init(&t, NULL);
	cr_assert_eq(synack_stack_next_deadline(t.s), SYNACK_TIME_NEVER);
	cr_assert_eq(synack_stack_poll(t.s, 5), SYNACK_TIME_NEVER);
	cr_assert_eq(synack_stack_now(t.s), 5);
	st_fini(&t);
}
