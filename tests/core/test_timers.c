/* Retransmission (RFC 6298, RFC 9293 §3.8.1): SYN retries with exponential backoff and
 * ETIMEDOUT, SYN-ACK retries then the half-open entry freed, the lost third ACK, data
 * retransmission with RTO from measured RTT, backoff, and ETIMEDOUT after retries2. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "support/segtest.h"

#define SEC 1000000ull
#define MS 1000ull

Test(timers, syn_retries_backoff_then_etimedout_at_127s)
{
	struct segtest t;
	st_init(&t, NULL);
	struct st_seg syn;
	int fd = st_start_connect(&t, &syn);
	struct synack_endpoint to = {synack_addr_v4(ST_PEER), ST_SERVER_PORT};
	/* Linux: 1 s initial RTO doubling: retransmissions at 1, 3, 7, 15, 31, 63 s. */
	static const uint64_t at[] = {1, 3, 7, 15, 31, 63};
	for (size_t i = 0; i < 6; i++) {
		st_at(&t, at[i] * SEC - 1);
		st_expect_none(&t);
		st_at(&t, at[i] * SEC);
		st_expect(&t, F_S, syn.seq, 0, NULL);
	}
	st_at(&t, 127 * SEC - 1);
	cr_assert_eq(st_state(&t, fd), SYNACK_SYN_SENT);
	st_at(&t, 127 * SEC);
	st_expect_none(&t);
	cr_assert_eq(st_state(&t, fd), SYNACK_CLOSED);
	cr_assert_eq(synack_connect(t.s, fd, &to), -ETIMEDOUT);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_AttemptFails), 1);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_RetransSegs), 6);
	cr_assert_eq(st_count_events(&t, SYNACK_TRACE_TIMER), 7);
	st_fini(&t);
}

Test(timers, synack_retries_then_half_open_freed_at_63s)
{
	struct segtest t;
	st_init(&t, NULL);
	st_listen(&t, 80, 8);
	ST_IN(&t, .flags = F_S, .seq = 7);
	struct st_seg sa;
	st_expect_ack(&t, F_S | F_A, 8, &sa);
	static const uint64_t at[] = {1, 3, 7, 15, 31};
	for (size_t i = 0; i < 5; i++) {
		st_at(&t, at[i] * SEC);
		st_expect(&t, F_S | F_A, sa.seq, 8, NULL);
	}
	cr_assert_eq(st_count_state(&t, SYNACK_SYN_RECEIVED), 1);
	st_at(&t, 63 * SEC);
	st_expect_none(&t);
	cr_assert_eq(st_count_state(&t, SYNACK_SYN_RECEIVED), 0, "freed after synack_retries");
	cr_assert_eq(synack_stack_next_deadline(t.s), SYNACK_TIME_NEVER);
	st_fini(&t);
}

Test(timers, lost_third_ack_first_data_completes_handshake)
{
	struct segtest t;
	st_init(&t, NULL);
	int lfd = st_listen(&t, 80, 8);
	ST_IN(&t, .flags = F_S, .seq = 100, .opts = {.has_mss = true, .mss = 1460});
	struct st_seg sa;
	st_expect_ack(&t, F_S | F_A, 101, &sa);
	/* The client's ACK is lost; the server retransmits its SYN-ACK after 1 s. */
	st_at(&t, 1 * SEC);
	st_expect(&t, F_S | F_A, sa.seq, 101, NULL);
	/* The client's first data segment carries the ACK and completes the handshake. */
	st_at(&t, 1 * SEC + 300 * MS);
	ST_IN(&t, .flags = F_A | F_P, .seq = 101, .ack = sa.seq + 1, .data = "GET", .len = 3);
	st_expect(&t, F_A, sa.seq + 1, 104, NULL);
	int fd = synack_accept(t.s, lfd, NULL);
	cr_assert_geq(fd, 0);
	char b[8];
	cr_assert_eq(synack_recv(t.s, fd, b, sizeof b, 0), 3);
	struct synack_tcp_info ti;
	synack_tcp_info(t.s, fd, &ti);
	cr_assert_eq(ti.rto_us, 1000000, "no RTT sample from a retransmitted SYN-ACK (Karn)");
	st_fini(&t);
}

/* The handshake measures 100 ms: SRTT 100 ms, RTTVAR 50 ms, RTO = 100 + 4*50 = 300 ms. */
Test(timers, data_rto_from_rtt_backoff_and_etimedout)
{
	struct synack_config cfg;
	st_config(&cfg);
	cfg.retries2 = 3;
	struct segtest t;
	st_init(&t, &cfg);
	int lfd = st_listen(&t, 80, 8);
	ST_IN(&t, .flags = F_S, .seq = 0, .opts = {.has_mss = true, .mss = 1460});
	struct st_seg sa;
	st_expect_ack(&t, F_S | F_A, 1, &sa);
	uint32_t iss = sa.seq;
	st_at(&t, 100 * MS);
	ST_IN(&t, .flags = F_A, .seq = 1, .ack = iss + 1);
	int fd = synack_accept(t.s, lfd, NULL);
	struct synack_tcp_info ti;
	synack_tcp_info(t.s, fd, &ti);
	cr_assert_eq(ti.rtt_us, 100000);
	cr_assert_eq(ti.rttvar_us, 50000);
	cr_assert_eq(ti.rto_us, 300000);
	st_at(&t, 1 * SEC);
	synack_send(t.s, fd, "data", 4, 0);
	st_expect_data(&t, F_A | F_P, iss + 1, 1, 4);
	static const uint64_t at[] = {1300, 1900, 3100}; /* +300, +600, +1200 ms */
	for (size_t i = 0; i < 3; i++) {
		st_at(&t, at[i] * MS - 1);
		st_expect_none(&t);
		st_at(&t, at[i] * MS);
		st_expect_data(&t, F_A | F_P, iss + 1, 1, 4);
	}
	synack_tcp_info(t.s, fd, &ti);
	cr_assert_eq(ti.retransmits, 3);
	cr_assert_eq(ti.total_retrans, 3);
	st_at(&t, 5500 * MS); /* + 2400 ms: the fourth timeout gives up */
	st_expect_none(&t);
	cr_assert_eq(st_state(&t, fd), SYNACK_CLOSED);
	char b[4];
	cr_assert_eq(synack_recv(t.s, fd, b, sizeof b, 0), -ETIMEDOUT);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_TCPAbortOnTimeout), 1);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_TCPTimeouts), 3);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_RetransSegs), 3);
	st_fini(&t);
}

/* Without an RTT sample (the SYN was retransmitted), data RTO starts at 1 s and doubles. */
Test(timers, data_rto_backoff_1_2_4_seconds)
{
	struct segtest t;
	st_init(&t, NULL);
	struct st_seg syn;
	int fd = st_start_connect(&t, &syn);
	st_at(&t, 1 * SEC);
	st_expect(&t, F_S, syn.seq, 0, NULL);
	st_at(&t, 1500 * MS);
	ST_IN(&t, .flags = F_S | F_A, .seq = 50, .ack = syn.seq + 1, .opts = {.has_mss = true, .mss = 1460});
	st_expect(&t, F_A, syn.seq + 1, 51, NULL);
	st_at(&t, 2 * SEC);
	synack_send(t.s, fd, "x", 1, 0);
	st_expect_data(&t, F_A | F_P, syn.seq + 1, 51, 1);
	static const uint64_t at[] = {3, 5, 9, 17};
	for (size_t i = 0; i < 4; i++) {
		st_at(&t, at[i] * SEC - 1);
		st_expect_none(&t);
		st_at(&t, at[i] * SEC);
		st_expect_data(&t, F_A | F_P, syn.seq + 1, 51, 1);
	}
	/* An ACK stops the timer: only the fold check (tcb_flow.c) is left, which sends
	 * nothing and leaves nothing armed. */
	ST_IN(&t, .flags = F_A, .seq = 51, .ack = syn.seq + 2);
	uint64_t folds = st_counter(&t, SYNACK_CTR_TCPFlowFolds);
	for (int i = 0; i < 4 && st_counter(&t, SYNACK_CTR_TCPFlowFolds) == folds; i++)
		st_at(&t, synack_stack_next_deadline(t.s));
	st_expect_none(&t);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_TCPFlowFolds), folds + 1);
	cr_assert_eq(synack_stack_next_deadline(t.s), SYNACK_TIME_NEVER);
	st_fini(&t);
}

Test(timers, go_back_after_timeout_resends_in_order)
{
	static uint8_t buf[5000];
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (uint8_t)i;
	struct segtest t;
	st_init(&t, NULL);
	uint32_t iss;
	int fd = st_passive_open(&t, 1000, &iss);
	cr_assert_eq(synack_send(t.s, fd, buf, 4380, 0), 4380);
	st_expect_data(&t, F_A, iss + 1, 1001, 1460);
	st_expect_data(&t, F_A, iss + 1461, 1001, 1460);
	st_expect_data(&t, F_A | F_P, iss + 2921, 1001, 1460);
	/* All three lost: after the RTO (200 ms) the first goes again, with cwnd one segment. */
	st_at(&t, 200 * MS);
	st_expect_data(&t, F_A, iss + 1, 1001, 1460);
	st_expect_none(&t);
	ST_IN(&t, .flags = F_A, .seq = 1001, .ack = iss + 1461);
	/* Slow start: cwnd 2 segments: the next two go out again. */
	st_expect_data(&t, F_A, iss + 1461, 1001, 1460);
	st_expect_data(&t, F_A | F_P, iss + 2921, 1001, 1460);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_RetransSegs), 3);
	size_t retx = 0;
	for (size_t i = 0; i < t.nev; i++)
		retx += t.ev[i].kind == SYNACK_TRACE_TX && t.ev[i].retx;
	cr_assert_eq(retx, 3, "TX trace events mark retransmissions");
	st_fini(&t);
}
