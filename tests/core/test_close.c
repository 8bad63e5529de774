/* Closing (RFC 9293 §3.6): active and passive close, half-close, simultaneous close through
 * CLOSING, TIME-WAIT for exactly 2*MSL with the re-ACK of a retransmitted FIN, the orphaned
 * FIN-WAIT-2 timeout, and the aborts (unread data, SO_LINGER 0, data after close). */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "support/segtest.h"

#define SEC 1000000ull

Test(close, active_close_through_time_wait_exactly_60s)
{
	struct segtest t;
	st_init(&t, NULL);
	uint32_t iss;
	int fd = st_active_open(&t, 5000, &iss);
	st_at(&t, 1 * SEC);
	cr_assert_eq(synack_close(t.s, fd), 0);
	st_expect(&t, F_F | F_A, iss + 1, 5001, NULL);
	cr_assert_eq(st_count_state(&t, SYNACK_FIN_WAIT_1), 1);
	ST_IN(&t, .flags = F_A, .seq = 5001, .ack = iss + 2);
	st_expect_none(&t);
	cr_assert_eq(st_count_state(&t, SYNACK_FIN_WAIT_2), 1);
	st_at(&t, 2 * SEC);
	ST_IN(&t, .flags = F_F | F_A, .seq = 5001, .ack = iss + 2);
	st_expect(&t, F_A, iss + 2, 5002, NULL); /* the FIN consumes one number */
	cr_assert_eq(st_count_state(&t, SYNACK_TIME_WAIT), 1);
	cr_assert_eq(st_state_time(&t, SYNACK_TIME_WAIT), 2 * SEC);
	cr_assert_eq(synack_stack_next_deadline(t.s), 62 * SEC, "2*MSL = 60 s");
	st_at(&t, 62 * SEC - 1);
	cr_assert_eq(st_count_state(&t, SYNACK_TIME_WAIT), 1, "still there 1 us before");
	st_at(&t, 62 * SEC);
	cr_assert_eq(st_count_state(&t, SYNACK_TIME_WAIT), 0);
	cr_assert_eq(st_state_time(&t, SYNACK_CLOSED), 62 * SEC);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_TW), 1);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_CurrEstab), 0);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_EstabResets), 0);
	cr_assert_eq(synack_stack_next_deadline(t.s), SYNACK_TIME_NEVER);
	st_fini(&t);
}

Test(close, passive_close_close_wait_last_ack)
{
	struct segtest t;
	st_init(&t, NULL);
	uint32_t iss;
	int fd = st_passive_open(&t, 1000, &iss);
	ST_IN(&t, .flags = F_F | F_A, .seq = 1001, .ack = iss + 1);
	st_expect(&t, F_A, iss + 1, 1002, NULL);
	cr_assert_eq(st_state(&t, fd), SYNACK_CLOSE_WAIT);
	char b[4];
	cr_assert_eq(synack_recv(t.s, fd, b, sizeof b, 0), 0, "end of stream");
	cr_assert(synack_events(t.s, fd) & SYNACK_EV_READABLE);
	/* CLOSE-WAIT keeps sending. */
	cr_assert_eq(synack_send(t.s, fd, "late", 4, 0), 4);
	st_expect_data(&t, F_A | F_P, iss + 1, 1002, 4);
	cr_assert_eq(synack_close(t.s, fd), 0);
	st_expect(&t, F_F | F_A, iss + 5, 1002, NULL);
	cr_assert_eq(st_count_state(&t, SYNACK_LAST_ACK), 1);
	ST_IN(&t, .flags = F_A, .seq = 1002, .ack = iss + 6);
	cr_assert_eq(st_count_state(&t, SYNACK_LAST_ACK), 0);
	cr_assert(st_saw_state(&t, SYNACK_LAST_ACK, SYNACK_CLOSED));
	cr_assert_eq(synack_stack_next_deadline(t.s), SYNACK_TIME_NEVER);
	st_fini(&t);
}

Test(close, time_wait_reacks_retransmitted_fin_and_restarts_timer)
{
	struct segtest t;
	st_init(&t, NULL);
	uint32_t iss;
	int fd = st_active_open(&t, 5000, &iss);
	synack_close(t.s, fd);
	st_expect(&t, F_F | F_A, iss + 1, 5001, NULL);
	ST_IN(&t, .flags = F_F | F_A, .seq = 5001, .ack = iss + 2);
	st_expect(&t, F_A, iss + 2, 5002, NULL);
	cr_assert_eq(synack_stack_next_deadline(t.s), 60 * SEC);
	/* Our ACK was lost; the peer retransmits its FIN 10 s later. */
	st_at(&t, 10 * SEC);
	ST_IN(&t, .flags = F_F | F_A, .seq = 5001, .ack = iss + 2);
	st_expect(&t, F_A, iss + 2, 5002, NULL);
	cr_assert_eq(synack_stack_next_deadline(t.s), 70 * SEC, "restarted: 2*MSL from now");
	st_at(&t, 60 * SEC);
	cr_assert_eq(st_count_state(&t, SYNACK_TIME_WAIT), 1);
	st_at(&t, 70 * SEC);
	cr_assert_eq(st_count_state(&t, SYNACK_TIME_WAIT), 0);
	st_fini(&t);
}

Test(close, fin_and_ack_together_go_straight_to_time_wait)
{
	struct segtest t;
	st_init(&t, NULL);
	uint32_t iss;
	int fd = st_active_open(&t, 5000, &iss);
	synack_close(t.s, fd);
	st_expect(&t, F_F | F_A, iss + 1, 5001, NULL);
	ST_IN(&t, .flags = F_F | F_A, .seq = 5001, .ack = iss + 2);
	st_expect(&t, F_A, iss + 2, 5002, NULL);
	cr_assert(st_saw_state(&t, SYNACK_FIN_WAIT_1, SYNACK_FIN_WAIT_2));
	cr_assert(st_saw_state(&t, SYNACK_FIN_WAIT_2, SYNACK_TIME_WAIT));
	st_fini(&t);
}

Test(close, simultaneous_close_through_closing)
{
	struct segtest t;
	st_init(&t, NULL);
	uint32_t iss;
	int fd = st_active_open(&t, 5000, &iss);
	synack_close(t.s, fd);
	st_expect(&t, F_F | F_A, iss + 1, 5001, NULL);
	/* The peer's FIN crosses ours: it does not acknowledge our FIN. */
	ST_IN(&t, .flags = F_F | F_A, .seq = 5001, .ack = iss + 1);
	st_expect(&t, F_A, iss + 2, 5002, NULL);
	cr_assert_eq(st_count_state(&t, SYNACK_CLOSING), 1);
	ST_IN(&t, .flags = F_A, .seq = 5002, .ack = iss + 2);
	cr_assert_eq(st_count_state(&t, SYNACK_TIME_WAIT), 1);
	cr_assert(st_saw_state(&t, SYNACK_FIN_WAIT_1, SYNACK_CLOSING));
	cr_assert(st_saw_state(&t, SYNACK_CLOSING, SYNACK_TIME_WAIT));
	st_fini(&t);
}

Test(close, half_close_keeps_receiving_in_fin_wait_2_without_timeout)
{
	struct segtest t;
	st_init(&t, NULL);
	uint32_t iss;
	int fd = st_active_open(&t, 5000, &iss);
	cr_assert_eq(synack_shutdown(t.s, fd, SYNACK_SHUT_WR), 0);
	st_expect(&t, F_F | F_A, iss + 1, 5001, NULL);
	cr_assert_eq(synack_send(t.s, fd, "x", 1, 0), -EPIPE, "write half is shut");
	ST_IN(&t, .flags = F_A, .seq = 5001, .ack = iss + 2);
	cr_assert_eq(st_state(&t, fd), SYNACK_FIN_WAIT_2);
	/* Only the fold check (tcb_flow.c) waits: quiet for a second, the connection folds. */
	cr_assert_eq(synack_stack_next_deadline(t.s), t.now + SEC);
	uint64_t folds = st_counter(&t, SYNACK_CTR_TCPFlowFolds);
	st_at(&t, t.now + SEC);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_TCPFlowFolds), folds + 1);
	cr_assert_eq(synack_stack_next_deadline(t.s), SYNACK_TIME_NEVER,
		     "no FIN-WAIT-2 timeout after shutdown(WR): the socket is still open");
	st_at(&t, 600 * SEC);
	ST_IN(&t, .flags = F_A | F_P, .seq = 5001, .ack = iss + 2, .data = "reply", .len = 5);
	st_expect(&t, F_A, iss + 2, 5006, NULL);
	char b[8];
	cr_assert_eq(synack_recv(t.s, fd, b, sizeof b, 0), 5);
	ST_IN(&t, .flags = F_F | F_A, .seq = 5006, .ack = iss + 2);
	st_expect(&t, F_A, iss + 2, 5007, NULL);
	cr_assert_eq(st_state(&t, fd), SYNACK_TIME_WAIT);
	cr_assert_eq(synack_recv(t.s, fd, b, sizeof b, 0), 0);
	cr_assert(synack_events(t.s, fd) & SYNACK_EV_HUP);
	st_fini(&t);
}

Test(close, orphaned_fin_wait_2_times_out_after_fin_timeout)
{
	struct segtest t;
	st_init(&t, NULL);
	uint32_t iss;
	int fd = st_active_open(&t, 5000, &iss);
	st_at(&t, 5 * SEC);
	synack_close(t.s, fd);
	st_expect(&t, F_F | F_A, iss + 1, 5001, NULL);
	ST_IN(&t, .flags = F_A, .seq = 5001, .ack = iss + 2);
	cr_assert_eq(st_count_state(&t, SYNACK_FIN_WAIT_2), 1);
	cr_assert_eq(synack_stack_next_deadline(t.s), 6 * SEC, "the fold check (tcb_flow.c)");
	uint64_t folds = st_counter(&t, SYNACK_CTR_TCPFlowFolds); /* once idle before the close */
	st_at(&t, 6 * SEC);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_TCPFlowFolds), folds + 1, "folded, its timer kept");
	cr_assert_eq(synack_stack_next_deadline(t.s), 65 * SEC, "tcp_fin_timeout 60 s");
	st_at(&t, 65 * SEC);
	cr_assert_eq(st_count_state(&t, SYNACK_FIN_WAIT_2), 0);
	cr_assert(st_saw_state(&t, SYNACK_FIN_WAIT_2, SYNACK_CLOSED));
	st_expect_none(&t);
	st_fini(&t);
}

Test(close, close_with_unread_data_sends_rst)
{
	struct segtest t;
	st_init(&t, NULL);
	uint32_t iss;
	int fd = st_passive_open(&t, 1000, &iss);
	ST_IN(&t, .flags = F_A, .seq = 1001, .ack = iss + 1, .data = "unread", .len = 6);
	st_expect(&t, F_A, iss + 1, 1007, NULL);
	cr_assert_eq(synack_close(t.s, fd), 0);
	st_expect(&t, F_R | F_A, iss + 1, 1007, NULL);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_TCPAbortOnClose), 1);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_EstabResets), 1);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_CurrEstab), 0);
	st_fini(&t);
}

Test(close, linger_zero_aborts_with_rst)
{
	struct segtest t;
	st_init(&t, NULL);
	uint32_t iss;
	int fd = st_active_open(&t, 5000, &iss);
	struct synack_linger l = {1, 0};
	cr_assert_eq(synack_setsockopt(t.s, fd, SYNACK_SOL_SOCKET, SYNACK_SO_LINGER, &l, sizeof l), 0);
	cr_assert_eq(synack_close(t.s, fd), 0);
	st_expect(&t, F_R | F_A, iss + 1, 5001, NULL);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_TCPAbortOnLinger), 1);
	cr_assert_eq(st_count_state(&t, SYNACK_TIME_WAIT), 0, "an abort leaves no TIME-WAIT");
	st_expect_none(&t);
	st_fini(&t);
}

Test(close, data_after_close_on_orphan_gets_rst)
{
	struct segtest t;
	st_init(&t, NULL);
	uint32_t iss;
	int fd = st_passive_open(&t, 1000, &iss);
	synack_close(t.s, fd);
	st_expect(&t, F_F | F_A, iss + 1, 1001, NULL);
	ST_IN(&t, .flags = F_A | F_P, .seq = 1001, .ack = iss + 2, .data = "more", .len = 4);
	st_expect(&t, F_R | F_A, iss + 2, 1001, NULL);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_TCPAbortOnData), 1);
	cr_assert_eq(st_count_state(&t, SYNACK_FIN_WAIT_2), 0);
	st_fini(&t);
}

Test(close, fin_retransmitted_when_not_acked)
{
	struct segtest t;
	st_init(&t, NULL);
	uint32_t iss;
	int fd = st_passive_open(&t, 1000, &iss);
	synack_close(t.s, fd);
	st_expect(&t, F_F | F_A, iss + 1, 1001, NULL);
	/* The handshake took 0 us: SRTT 0, RTO = rto_min 200 ms. */
	st_at(&t, 200000);
	struct st_seg f;
	st_expect(&t, F_F | F_A, iss + 1, 1001, &f);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_RetransSegs), 1);
	st_fini(&t);
}

Test(close, shut_write_polls_writable_so_the_next_write_sees_epipe)
{
	struct segtest t;
	st_init(&t, NULL);
	uint32_t iss;
	int fd = st_passive_open(&t, 1000, &iss);
	synack_shutdown(t.s, fd, SYNACK_SHUT_WR);
	st_expect(&t, F_F | F_A, iss + 1, 1001, NULL);
	cr_assert(synack_events(t.s, fd) & SYNACK_EV_WRITABLE, "Linux: POLLOUT after SHUT_WR");
	cr_assert_eq(synack_send(t.s, fd, "x", 1, 0), -EPIPE);
	st_fini(&t);
}

/* On the way out: a peer that never acknowledges our FIN is reset, not left half-open. */
Test(close, abort_all_resets_what_has_not_finished_closing)
{
	struct segtest t;
	st_init(&t, NULL);
	uint32_t iss;
	int fd = st_passive_open(&t, 1000, &iss);
	cr_assert_eq(synack_close(t.s, fd), 0);
	st_expect(&t, F_F | F_A, iss + 1, 1001, NULL);
	/* The peer says nothing; our FIN waits for its ACK. */
	cr_assert_eq(st_count_state(&t, SYNACK_FIN_WAIT_1), 1);
	cr_assert_eq(synack_stack_abort_all(t.s), 1);
	st_expect(&t, F_R | F_A, iss + 2, 1001, NULL);
	cr_assert_eq(st_count_state(&t, SYNACK_FIN_WAIT_1), 0);
	cr_assert_eq(st_count_state(&t, SYNACK_LISTEN), 1, "the listener stays");
	cr_assert_eq(synack_stack_abort_all(t.s), 0, "nothing left to abort");
	st_expect_none(&t);
	st_fini(&t);
}
