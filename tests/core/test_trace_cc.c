/* Trace events carry the connection's congestion state (include/synack/trace.h: has_cc, cwnd,
 * ssthresh, srtt_us, in_flight): TX as the segment leaves, RX as it arrives (before it is
 * processed), only for a connection whose congestion control has started, and nothing for a
 * listener's segments. The values are the tcb's: RFC 6928's initial window, RFC 5681 §3.1's
 * slow start after an ACK, RFC 6298's smoothed RTT. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "support/segtest.h"

static uint8_t data[6000];

/* The i-th event of kind after index *from (advanced past it). */
static const struct st_event *next_ev(const struct segtest *t, size_t *from,
				      enum synack_trace_kind kind)
{
	for (size_t i = *from; i < t->nev; i++)
		if (t->ev[i].kind == kind) {
			*from = i + 1;
			return &t->ev[i];
		}
	cr_assert_fail("no more %s events", synack_trace_kind_name(kind));
	return NULL;
}

Test(trace_cc, tx_and_rx_events_carry_cwnd_ssthresh_srtt_and_flight)
{
	struct segtest t;
	st_init(&t, NULL);
	uint32_t iss;
	int fd = st_passive_open(&t, 1000, &iss);
	/* The handshake: the listener's SYN has no connection state to report. */
	size_t k = 0;
	const struct st_event *syn = next_ev(&t, &k, SYNACK_TRACE_RX);
	cr_assert_eq(syn->flags, F_S);
	cr_assert_not(syn->has_cc);
	size_t mark = t.nev;
	/* 4000 bytes at MSS 1460: three segments, cwnd the initial window (RFC 6928: 10 MSS;
	 * the handshake's ACK of the SYN's octet does not grow it, as on Linux). */
	cr_assert_eq(synack_send(t.s, fd, data, 4000, 0), 4000);
	st_expect_data(&t, F_A, iss + 1, 1001, 1460);
	st_expect_data(&t, F_A, iss + 1 + 1460, 1001, 1460);
	st_expect_data(&t, F_A | F_P, iss + 1 + 2920, 1001, 1080);
	k = mark;
	uint32_t flights[3] = {0, 1460, 2920}; /* SND.NXT moves once the segment is out */
	for (int i = 0; i < 3; i++) {
		const struct st_event *e = next_ev(&t, &k, SYNACK_TRACE_TX);
		cr_assert(e->has_cc, "TX %d", i);
		cr_assert_eq(e->cwnd, 14600, "TX %d cwnd %u", i, e->cwnd);
		cr_assert_eq(e->ssthresh, UINT32_MAX, "unset before a loss");
		cr_assert_eq(e->srtt_us, 0, "the handshake's sample: 0 us on the test clock");
		cr_assert_eq(e->in_flight, flights[i], "TX %d in flight %u", i, e->in_flight);
	}
	/* 50 ms later the ACK of all of it: the RX event shows the state before it is processed. */
	st_at(&t, 50000);
	mark = t.nev;
	ST_IN(&t, .flags = F_A, .seq = 1001, .ack = iss + 1 + 4000);
	k = mark;
	const struct st_event *rx = next_ev(&t, &k, SYNACK_TRACE_RX);
	cr_assert(rx->has_cc);
	cr_assert_eq(rx->cwnd, 14600);
	cr_assert_eq(rx->in_flight, 4000);
	cr_assert_eq(rx->srtt_us, 0);
	/* The next send shows the ACK's effect: slow start grew cwnd (by the controller's rule:
	 * the event has the tcb's value, as TCP_INFO reports it) and the 50 ms sample moved SRTT
	 * by 1/8 from the handshake's 0 (RFC 6298 §2.3). */
	mark = t.nev;
	cr_assert_eq(synack_send(t.s, fd, data, 1000, 0), 1000);
	st_expect_data(&t, F_A | F_P, iss + 1 + 4000, 1001, 1000);
	struct synack_tcp_info ti;
	cr_assert_eq(synack_tcp_info(t.s, fd, &ti), 0);
	k = mark;
	const struct st_event *tx = next_ev(&t, &k, SYNACK_TRACE_TX);
	cr_assert(tx->has_cc);
	cr_assert_gt(tx->cwnd, 14600, "slow start grew it: %u", tx->cwnd);
	cr_assert_eq(tx->cwnd, ti.snd_cwnd, "cwnd %u, TCP_INFO %u", tx->cwnd, ti.snd_cwnd);
	cr_assert_eq(tx->ssthresh, ti.snd_ssthresh);
	cr_assert_eq(tx->srtt_us, 50000 / 8, "srtt %u", tx->srtt_us);
	cr_assert_eq(tx->in_flight, 0, "all acknowledged, this segment not yet counted");
	cr_assert_eq(tx->ssthresh, UINT32_MAX);
	st_fini(&t);
}

Test(trace_cc, a_reset_to_no_socket_has_no_congestion_state)
{
	struct segtest t;
	st_init(&t, NULL);
	ST_IN(&t, .flags = F_A, .seq = 1, .ack = 77, .dport = 9);
	struct st_seg rst;
	cr_assert(st_next(&t, &rst));
	cr_assert_eq(rst.flags, F_R);
	size_t k = 0;
	const struct st_event *e = next_ev(&t, &k, SYNACK_TRACE_TX);
	cr_assert_eq(e->flags, F_R);
	cr_assert_not(e->has_cc);
	cr_assert_eq(e->cwnd, 0);
	st_fini(&t);
}
