/* Resets (RFC 9293 §3.10.7, RFC 5961, RFC 1337): what gets a RST and with which numbers,
 * which RSTs are believed, and what the user sees. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "support/segtest.h"

#define SEC 1000000ull

Test(rst, syn_to_port_without_listener)
{
	struct segtest t;
	st_init(&t, NULL);
	/* No ACK in the SYN: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, the SYN counting one. */
	ST_IN(&t, .flags = F_S, .seq = 4242);
	struct st_seg r;
	st_expect(&t, F_R | F_A, 0, 4243, &r);
	cr_assert_eq(r.win, 0);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_OutRsts), 1);
	cr_assert_eq(st_drops(&t, SYNACK_DROP_TCP_NO_SOCKET), 1);
	cr_assert_eq(st_count_events(&t, SYNACK_TRACE_DROP), 1);
	st_fini(&t);
}

Test(rst, ack_and_data_to_no_connection)
{
	struct segtest t;
	st_init(&t, NULL);
	/* With an ACK: <SEQ=SEG.ACK><CTL=RST>. */
	ST_IN(&t, .flags = F_A | F_P, .seq = 10, .ack = 777, .data = "abc", .len = 3);
	st_expect(&t, F_R, 777, 0, NULL);
	/* Without: ACK = SEQ + data + FIN. */
	ST_IN(&t, .flags = F_F, .seq = 10, .data = "abc", .len = 3);
	st_expect(&t, F_R | F_A, 0, 14, NULL);
	/* Never a RST for a RST. */
	ST_IN(&t, .flags = F_R, .seq = 10);
	ST_IN(&t, .flags = F_R | F_A, .seq = 10, .ack = 5);
	st_expect_none(&t);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_OutRsts), 2);
	st_fini(&t);
}

Test(rst, connect_refused)
{
	struct segtest t;
	st_init(&t, NULL);
	struct st_seg syn;
	int fd = st_start_connect(&t, &syn);
	struct synack_endpoint to = {synack_addr_v4(ST_PEER), ST_SERVER_PORT};
	ST_IN(&t, .flags = F_R | F_A, .seq = 0, .ack = syn.seq + 1);
	st_expect_none(&t);
	cr_assert_eq(st_state(&t, fd), SYNACK_CLOSED);
	cr_assert(synack_events(t.s, fd) & SYNACK_EV_ERROR);
	cr_assert_eq(synack_connect(t.s, fd, &to), -ECONNREFUSED, "reported once");
	cr_assert_eq(st_counter(&t, SYNACK_CTR_AttemptFails), 1);
	size_t n = 0;
	for (size_t i = 0; i < t.nev; i++)
		if (t.ev[i].kind == SYNACK_TRACE_ERROR && t.ev[i].err == -ECONNREFUSED)
			n++;
	cr_assert_eq(n, 1, "an ERROR trace event");
	st_fini(&t);
}

Test(rst, exact_rst_resets_established)
{
	struct segtest t;
	st_init(&t, NULL);
	uint32_t iss;
	int fd = st_passive_open(&t, 1000, &iss);
	ST_IN(&t, .flags = F_R, .seq = 1001);
	st_expect_none(&t);
	cr_assert_eq(st_state(&t, fd), SYNACK_CLOSED);
	cr_assert(synack_events(t.s, fd) & SYNACK_EV_HUP);
	char b[4];
	cr_assert_eq(synack_recv(t.s, fd, b, sizeof b, 0), -ECONNRESET);
	cr_assert_eq(synack_recv(t.s, fd, b, sizeof b, 0), 0, "then end of stream, like Linux");
	cr_assert_eq(synack_send(t.s, fd, "x", 1, 0), -EPIPE);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_EstabResets), 1);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_CurrEstab), 0);
	st_fini(&t);
}

Test(rst, send_sees_econnreset_first)
{
	struct segtest t;
	st_init(&t, NULL);
	uint32_t iss;
	int fd = st_passive_open(&t, 1000, &iss);
	ST_IN(&t, .flags = F_R | F_A, .seq = 1001, .ack = iss + 1);
	cr_assert_eq(synack_send(t.s, fd, "x", 1, 0), -ECONNRESET);
	cr_assert_eq(synack_send(t.s, fd, "x", 1, 0), -EPIPE);
	st_fini(&t);
}

Test(rst, in_window_not_exact_draws_challenge_ack)
{
	struct segtest t;
	st_init(&t, NULL);
	uint32_t iss;
	int fd = st_passive_open(&t, 1000, &iss);
	ST_IN(&t, .flags = F_R, .seq = 1001 + 500);
	st_expect(&t, F_A, iss + 1, 1001, NULL);
	cr_assert_eq(st_state(&t, fd), SYNACK_ESTABLISHED);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_TCPChallengeACK), 1);
	cr_assert_eq(st_drops(&t, SYNACK_DROP_TCP_RST_NOT_EXACT), 1);
	/* Out of the window altogether: silently dropped. */
	ST_IN(&t, .flags = F_R, .seq = 1001 + 1000000);
	st_expect_none(&t);
	cr_assert_eq(st_state(&t, fd), SYNACK_ESTABLISHED);
	st_fini(&t);
}

Test(rst, challenge_acks_are_rate_limited)
{
	struct synack_config cfg;
	st_config(&cfg);
	cfg.challenge_ack_limit = 2;
	struct segtest t;
	st_init(&t, &cfg);
	uint32_t iss;
	st_passive_open(&t, 1000, &iss);
	for (int i = 0; i < 10; i++)
		ST_IN(&t, .flags = F_R, .seq = 1001 + 100 + (uint32_t)i);
	size_t acks = st_pending(&t);
	/* Linux jitters the limit: limit/2 + random(limit) (+1 here): 2 or 3. */
	cr_assert(acks >= 2 && acks <= 3, "challenge ACKs sent: %zu", acks);
	cr_assert_eq(st_drops(&t, SYNACK_DROP_TCP_CHALLENGE_LIMIT), 10 - acks);
	st_fini(&t);
}

Test(rst, rst_in_time_wait_is_ignored)
{
	struct segtest t;
	st_init(&t, NULL);
	uint32_t iss;
	int fd = st_active_open(&t, 5000, &iss);
	synack_close(t.s, fd);
	st_expect(&t, F_F | F_A, iss + 1, 5001, NULL);
	ST_IN(&t, .flags = F_F | F_A, .seq = 5001, .ack = iss + 2);
	st_expect(&t, F_A, iss + 2, 5002, NULL);
	ST_IN(&t, .flags = F_R, .seq = 5002);
	st_expect_none(&t);
	cr_assert_eq(st_count_state(&t, SYNACK_TIME_WAIT), 1, "RFC 1337");
	cr_assert_eq(st_drops(&t, SYNACK_DROP_TCP_RST_IN_TIME_WAIT), 1);
	st_fini(&t);
}

Test(rst, rst_in_syn_sent_without_ack_is_ignored)
{
	struct segtest t;
	st_init(&t, NULL);
	struct st_seg syn;
	int fd = st_start_connect(&t, &syn);
	ST_IN(&t, .flags = F_R, .seq = 0);
	st_expect_none(&t);
	cr_assert_eq(st_state(&t, fd), SYNACK_SYN_SENT);
	st_fini(&t);
}

Test(rst, rst_in_close_wait_reports_epipe)
{
	struct segtest t;
	st_init(&t, NULL);
	uint32_t iss;
	int fd = st_passive_open(&t, 1000, &iss);
	ST_IN(&t, .flags = F_F | F_A, .seq = 1001, .ack = iss + 1);
	st_expect(&t, F_A, iss + 1, 1002, NULL);
	ST_IN(&t, .flags = F_R, .seq = 1002);
	cr_assert_eq(st_state(&t, fd), SYNACK_CLOSED);
	cr_assert_eq(synack_send(t.s, fd, "x", 1, 0), -EPIPE, "Linux: EPIPE in CLOSE-WAIT");
	st_fini(&t);
}
