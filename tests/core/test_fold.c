/* Folding (tcb_flow.c): a connection quiet for max(1 s, RTO) gives its active part back and
 * costs only its block; any segment, timer or call takes a new one first, and the connection
 * goes on exactly where it was: the same sequence numbers, windows, RTT and congestion
 * window, its keepalive on time. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "core/tcb.h"
#include "support/segtest.h"

#define SEC 1000000ull
#define MS 1000ull

static struct synack_tcb *tcb_of(struct segtest *t, int fd)
{
	return t->s->fds[fd];
}

static struct synack_tcp_info info(struct segtest *t, int fd)
{
	struct synack_tcp_info o;
	cr_assert_eq(synack_tcp_info(t->s, fd, &o), 0);
	return o;
}

/* An established passive connection that exchanged data both ways, everything acknowledged:
 * the peer sent 100 bytes from 1001, we answered 50 from iss + 1. */
static int exchanged(struct segtest *t, uint32_t *iss)
{
	st_init(t, NULL);
	int fd = st_passive_open(t, 1000, iss);
	char b[128];
	memset(b, 'q', sizeof b);
	ST_IN(t, .flags = F_A | F_P, .seq = 1001, .ack = *iss + 1, .data = b, .len = 100);
	st_expect(t, F_A, *iss + 1, 1101, NULL); /* quick ACK for the first data */
	cr_assert_eq(synack_recv(t->s, fd, b, sizeof b, 0), 100);
	cr_assert_eq(synack_send(t->s, fd, b, 50, 0), 50);
	st_expect_data(t, F_A | F_P, *iss + 1, 1101, 50);
	ST_IN(t, .flags = F_A, .seq = 1101, .ack = *iss + 51);
	st_expect_none(t);
	return fd;
}

Test(fold, a_quiet_connection_folds_and_goes_on_where_it_was)
{
	struct segtest t;
	uint32_t iss;
	int fd = exchanged(&t, &iss);
	struct synack_tcb *c = tcb_of(&t, fd);
	cr_assert_not_null(c->fl);
	struct synack_tcp_info before = info(&t, fd);
	size_t live = synack_stack_live_bytes(t.s);
	/* Quiet for max(1 s, RTO) after the last segment: folded, nothing sent. */
	uint64_t last = t.now;
	st_at(&t, last + SEC - 1);
	cr_assert_not_null(c->fl, "not before a quiet second");
	st_at(&t, last + SEC);
	st_expect_none(&t);
	cr_assert_null(c->fl);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_TCPFlowFolds), 1);
	/* The flow and what it held (RACK's log) went back, with the stack's cache of chunks. */
	cr_assert_leq(synack_stack_live_bytes(t.s) + sizeof(struct tcb_flow), live);
	cr_assert_eq(synack_stack_next_deadline(t.s), SYNACK_TIME_NEVER, "no keepalive: no timer");
	/* The view from outside does not change. */
	struct synack_tcp_info folded = info(&t, fd);
	cr_assert_eq(folded.state, SYNACK_ESTABLISHED);
	cr_assert_eq(folded.snd_cwnd, before.snd_cwnd);
	cr_assert_eq(folded.snd_ssthresh, before.snd_ssthresh);
	cr_assert_eq(folded.rtt_us, before.rtt_us);
	cr_assert_eq(folded.rto_us, before.rto_us);
	cr_assert_eq(folded.snd_nxt, before.snd_nxt);
	cr_assert_eq(folded.rcv_nxt, before.rcv_nxt);
	cr_assert_eq(folded.sndbuf, before.sndbuf);
	cr_assert_eq(folded.rcvbuf, before.rcvbuf);
	cr_assert_eq(synack_events(t.s, fd), SYNACK_EV_WRITABLE);
	/* Nothing to read: answered without unfolding. */
	char b[64];
	cr_assert_eq(synack_recv(t.s, fd, b, sizeof b, 0), -EAGAIN);
	cr_assert_null(c->fl);
	/* A segment unfolds it: data in sequence, acknowledged from where it was. */
	st_at(&t, 30 * SEC);
	ST_IN(&t, .flags = F_A | F_P, .seq = 1101, .ack = iss + 51, .data = "hello", .len = 5);
	cr_assert_not_null(c->fl);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_TCPFlowUnfolds), 1);
	cr_assert_eq(synack_recv(t.s, fd, b, sizeof b, 0), 5);
	cr_assert_eq(memcmp(b, "hello", 5), 0);
	/* Our reply carries the ACK; the window restarted after the idle time (RFC 5681 §4.1). */
	cr_assert_eq(synack_send(t.s, fd, "world", 5, 0), 5);
	st_expect_data(&t, F_A | F_P, iss + 51, 1106, 5);
	struct synack_tcp_info after = info(&t, fd);
	cr_assert_eq(after.rtt_us, before.rtt_us);
	cr_assert_eq(after.snd_ssthresh, before.snd_ssthresh);
	st_fini(&t);
}

Test(fold, a_call_that_acts_unfolds)
{
	struct segtest t;
	uint32_t iss;
	int fd = exchanged(&t, &iss);
	st_at(&t, t.now + SEC);
	cr_assert_null(tcb_of(&t, fd)->fl);
	cr_assert_eq(synack_send(t.s, fd, "abc", 3, 0), 3);
	cr_assert_not_null(tcb_of(&t, fd)->fl);
	st_expect_data(&t, F_A | F_P, iss + 51, 1101, 3);
	/* Unacknowledged data keeps it unfolded: the retransmission is the flow's. */
	uint64_t sent = t.now;
	st_at(&t, sent + SEC);
	cr_assert_not_null(tcb_of(&t, fd)->fl);
	st_expect_data(&t, F_A | F_P, iss + 51, 1101, 3);
	ST_IN(&t, .flags = F_A, .seq = 1101, .ack = iss + 54);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_TCPFlowUnfolds), 1);
	st_fini(&t);
}

Test(fold, unread_data_keeps_the_flow)
{
	struct segtest t;
	uint32_t iss;
	st_init(&t, NULL);
	int fd = st_passive_open(&t, 1000, &iss);
	ST_IN(&t, .flags = F_A | F_P, .seq = 1001, .ack = iss + 1, .data = "unread", .len = 6);
	for (uint64_t at = 2; at <= 10; at += 2)
		st_at(&t, at * SEC);
	cr_assert_not_null(tcb_of(&t, fd)->fl, "data waits to be read");
	cr_assert_eq(st_counter(&t, SYNACK_CTR_TCPFlowFolds), 0);
	char b[8];
	cr_assert_eq(synack_recv(t.s, fd, b, sizeof b, 0), 6);
	st_at(&t, 20 * SEC);
	cr_assert_null(tcb_of(&t, fd)->fl, "read, then quiet: folded");
	st_fini(&t);
}

Test(fold, keepalive_fires_on_time_from_a_folded_connection)
{
	struct segtest t;
	uint32_t iss;
	int fd = exchanged(&t, &iss);
	int v = 10;
	cr_assert_eq(
		synack_setsockopt(t.s, fd, SYNACK_IPPROTO_TCP, SYNACK_TCP_KEEPIDLE, &v, sizeof v),
		0);
	v = 5;
	cr_assert_eq(
		synack_setsockopt(t.s, fd, SYNACK_IPPROTO_TCP, SYNACK_TCP_KEEPINTVL, &v, sizeof v),
		0);
	v = 1;
	cr_assert_eq(
		synack_setsockopt(t.s, fd, SYNACK_SOL_SOCKET, SYNACK_SO_KEEPALIVE, &v, sizeof v),
		0);
	uint64_t last = t.now;
	st_at(&t, last + SEC);
	cr_assert_null(tcb_of(&t, fd)->fl);
	cr_assert_eq(synack_stack_next_deadline(t.s), last + 10 * SEC, "the keepalive, kept");
	st_at(&t, last + 10 * SEC - 1);
	st_expect_none(&t);
	st_at(&t, last + 10 * SEC);
	st_expect(&t, F_A, iss + 50, 1101, NULL); /* SEG.SEQ = SND.NXT - 1, no data */
	cr_assert_eq(st_counter(&t, SYNACK_CTR_TCPKeepAlive), 1);
	/* The answer; quiet again, it folds again, the keepalive timer kept where the probe set
	 * it (one interval on, as Linux: it then waits out the idle time from the answer). */
	ST_IN(&t, .flags = F_A, .seq = 1101, .ack = iss + 51);
	uint64_t answered = t.now;
	st_at(&t, answered + SEC);
	cr_assert_null(tcb_of(&t, fd)->fl);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_TCPFlowFolds), 2);
	cr_assert_eq(synack_stack_next_deadline(t.s), last + 15 * SEC);
	st_at(&t, last + 15 * SEC);
	st_expect_none(&t);
	st_at(&t, answered + 10 * SEC);
	st_expect(&t, F_A, iss + 50, 1101, NULL);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_TCPKeepAlive), 2);
	st_fini(&t);
}

/* A kept timer's wheel entry is memory of its own: without it the flow stays (and tries to
 * fold again a quiet time later); a kept timer due without memory for the flow tries again
 * 200 ms later. Either way the keepalive goes out, exactly once. */
Test(fold, a_kept_timer_without_memory_waits_and_is_not_lost)
{
	struct segtest t;
	uint32_t iss;
	int fd = exchanged(&t, &iss);
	int v = 10;
	cr_assert_eq(
		synack_setsockopt(t.s, fd, SYNACK_IPPROTO_TCP, SYNACK_TCP_KEEPIDLE, &v, sizeof v),
		0);
	v = 1;
	cr_assert_eq(
		synack_setsockopt(t.s, fd, SYNACK_SOL_SOCKET, SYNACK_SO_KEEPALIVE, &v, sizeof v),
		0);
	uint64_t last = t.now;
	t.fail_at = t.nallocs + 1; /* the kept timer's entry */
	st_at(&t, last + SEC);
	t.fail_at = 0;
	cr_assert_not_null(tcb_of(&t, fd)->fl, "no entry for the keepalive: not folded");
	cr_assert_eq(st_counter(&t, SYNACK_CTR_TCPFlowFolds), 0);
	st_at(&t, last + 2 * SEC);
	cr_assert_null(tcb_of(&t, fd)->fl, "a quiet time later, with memory");
	cr_assert_eq(synack_stack_next_deadline(t.s), last + 10 * SEC, "the keepalive, kept");
	t.fail_at = t.nallocs + 1; /* the flow, when the keepalive is due */
	st_at(&t, last + 10 * SEC);
	t.fail_at = 0;
	st_expect_none(&t);
	cr_assert_null(tcb_of(&t, fd)->fl);
	cr_assert_eq(synack_stack_next_deadline(t.s), last + 10 * SEC + 200 * MS);
	st_at(&t, last + 10 * SEC + 200 * MS);
	st_expect(&t, F_A, iss + 50, 1101, NULL);
	st_expect_none(&t);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_TCPKeepAlive), 1);
	st_fini(&t);
}

Test(fold, without_memory_for_a_flow_the_segment_is_dropped_and_nothing_lost)
{
	struct segtest t;
	uint32_t iss;
	int fd = exchanged(&t, &iss);
	st_at(&t, t.now + SEC);
	cr_assert_null(tcb_of(&t, fd)->fl);
	t.fail_at = t.nallocs + 1; /* the flow's allocation fails */
	ST_IN(&t, .flags = F_A | F_P, .seq = 1101, .ack = iss + 51, .data = "lost", .len = 4);
	st_expect_none(&t);
	cr_assert_eq(st_drops(&t, SYNACK_DROP_TCP_NO_MEMORY), 1);
	cr_assert_null(tcb_of(&t, fd)->fl);
	char b[8];
	t.fail_at = t.nallocs + 1;
	cr_assert_eq(synack_send(t.s, fd, "x", 1, 0), -ENOMEM, "no flow: the call says so");
	cr_assert_eq(synack_recv(t.s, fd, b, sizeof b, 0), -EAGAIN);
	/* The peer retransmits; with memory again, the data arrives whole. */
	t.fail_at = 0;
	ST_IN(&t, .flags = F_A | F_P, .seq = 1101, .ack = iss + 51, .data = "lost", .len = 4);
	cr_assert_eq(synack_recv(t.s, fd, b, sizeof b, 0), 4);
	cr_assert_eq(memcmp(b, "lost", 4), 0);
	st_fini(&t);
}

Test(fold, close_without_memory_for_a_flow_resets)
{
	struct segtest t;
	uint32_t iss;
	int fd = exchanged(&t, &iss);
	st_at(&t, t.now + SEC);
	cr_assert_null(tcb_of(&t, fd)->fl);
	t.fail_at = t.nallocs + 1;
	cr_assert_eq(synack_close(t.s, fd), 0, "close always closes");
	st_expect(&t, F_R | F_A, iss + 51, 1101, NULL);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_TCPAbortOnMemory), 1);
	cr_assert_eq(st_count_state(&t, SYNACK_ESTABLISHED), 0);
	cr_assert_eq(synack_close(t.s, fd), -EBADF);
	t.fail_at = 0;
	st_fini(&t);
}

Test(fold, a_folded_connection_closes_and_resets_as_any)
{
	struct segtest t;
	uint32_t iss;
	int fd = exchanged(&t, &iss);
	st_at(&t, t.now + SEC);
	cr_assert_null(tcb_of(&t, fd)->fl);
	cr_assert_eq(synack_close(t.s, fd), 0);
	st_expect(&t, F_F | F_A, iss + 51, 1101, NULL);
	ST_IN(&t, .flags = F_R, .seq = 1101);
	cr_assert_eq(st_count_state(&t, SYNACK_FIN_WAIT_1), 0);
	cr_assert(st_saw_state(&t, SYNACK_FIN_WAIT_1, SYNACK_CLOSED));
	st_fini(&t);
}

Test(fold, fold_ms_sets_the_quiet_time_and_zero_never_folds)
{
	struct synack_config cfg;
	for (int pass = 0; pass < 2; pass++) {
		st_config(&cfg);
		cfg.fold_ms = pass == 0 ? 5000 : 0;
		struct segtest t;
		st_init(&t, &cfg);
		uint32_t iss;
		int fd = st_passive_open(&t, 1000, &iss);
		uint64_t last = t.now;
		st_at(&t, last + 5 * SEC - 1);
		cr_assert_not_null(tcb_of(&t, fd)->fl);
		st_at(&t, last + 5 * SEC);
		if (pass == 0) {
			cr_assert_null(tcb_of(&t, fd)->fl, "folded after fold_ms");
		} else {
			cr_assert_not_null(tcb_of(&t, fd)->fl, "fold_ms 0: never");
			cr_assert_eq(synack_stack_next_deadline(t.s), SYNACK_TIME_NEVER);
		}
		st_fini(&t);
	}
}

/* After our FIN is acknowledged (FIN-WAIT-2 after shutdown(WR)) the folded block keeps no
 * send-queue position: the flow comes back with the queue starting at the FIN (its octet is
 * not queued), SND.MAX = SND.NXT past it, and the last ACK's RCV.NXT. */
Test(fold, after_our_fin_the_flow_comes_back_where_the_queue_ended)
{
	struct segtest t;
	uint32_t iss;
	int fd = exchanged(&t, &iss);
	cr_assert_eq(synack_shutdown(t.s, fd, SYNACK_SHUT_WR), 0);
	st_expect(&t, F_F | F_A, iss + 51, 1101, NULL);
	ST_IN(&t, .flags = F_A, .seq = 1101, .ack = iss + 52);
	struct synack_tcb *c = tcb_of(&t, fd);
	cr_assert_eq(c->state, SYNACK_FIN_WAIT_2);
	seq_t buf_seq = c->fl->snd_buf_seq, snd_max = c->fl->snd_max, wup = c->fl->rcv_wup;
	cr_assert_eq(buf_seq, iss + 51);
	st_at(&t, t.now + SEC);
	cr_assert_null(c->fl);
	cr_assert_eq(synack_events(t.s, fd), SYNACK_EV_WRITABLE, "writable: EPIPE to learn");
	ST_IN(&t, .flags = F_A | F_P, .seq = 1101, .ack = iss + 52, .data = "late", .len = 4);
	cr_assert_not_null(c->fl);
	cr_assert_eq(c->fl->snd_buf_seq, buf_seq);
	cr_assert_eq(c->fl->snd_max, snd_max);
	cr_assert_eq(c->fl->rcv_wup, wup);
	char b[8];
	cr_assert_eq(synack_recv(t.s, fd, b, sizeof b, 0), 4);
	st_expect_none(&t);
	st_at(&t, t.now + 200 * MS); /* the delayed ACK, from SND.NXT past our FIN */
	st_expect(&t, F_A, iss + 52, 1105, NULL);
	cr_assert_eq(c->fl->rcv_wup, 1105);
	cr_assert_eq(synack_send(t.s, fd, "x", 1, 0), -EPIPE);
	st_fini(&t);
}

/* A pending error (SO_ERROR not yet read) keeps the flow: readiness to report. */
Test(fold, a_pending_error_keeps_the_flow)
{
	struct segtest t;
	uint32_t iss;
	int fd = exchanged(&t, &iss);
	struct synack_tcb *c = tcb_of(&t, fd);
	c->err = -ECONNRESET; /* as an ICMP hard error leaves it on a synchronized connection */
	st_at(&t, t.now + 5 * SEC);
	cr_assert_not_null(c->fl);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_TCPFlowFolds), 0);
	st_fini(&t);
}
