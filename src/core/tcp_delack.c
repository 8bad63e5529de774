/* Delayed and quick acknowledgments, as Linux does them (tcp_input.c: tcp_event_data_recv,
 * tcp_measure_rcv_mss, __tcp_ack_snd_check; tcp_output.c: tcp_send_delayed_ack; tcp_timer.c:
 * tcp_delack_timer_handler).
 *
 * RFC 9293 §3.8.6.3 (RFC 1122 §4.2.3.2): "A TCP SHOULD implement a delayed ACK, but an ACK
 * should not be excessively delayed; in particular, the delay MUST be less than 0.5 seconds"
 * (MUST-58), and "an ACK SHOULD be generated for at least every second full-sized segment"
 * (SHOULD-19). In-sequence data is acknowledged:
 *
 *   - at once in quick-ACK mode: the first segments of a connection, after an idle time
 *     longer than the RTO, and after out-of-order data (up to 16 ACKs, fewer when the window
 *     holds fewer than 2*16 segments: Linux's tcp_incr_quickack);
 *   - at once when more than one full-sized segment (the receive MSS as measured from the
 *     segments received) is unacknowledged: every second full segment, or one large (GRO'd)
 *     segment -- a stretch ACK for all of it;
 *   - at once while out-of-order data is held, and when a gap is filled (RFC 5681 §4.2);
 *   - at once when less than a segment of window is left (the sender must learn it closed);
 *   - otherwise when the delayed-ACK timer fires, ATO after the data: ATO starts at 40 ms and
 *     follows the inter-arrival time of the data (Linux's estimator), within 40 ms and
 *     min(200 ms, SRTT); a timer that fires with an ACK owed doubles ATO (up to the RTO).
 *
 * Any segment we send carries the acknowledgment and cancels the timer. Out-of-order data,
 * duplicates, data beyond the window, a FIN and the RFC 5961 cases answer at once, as before
 * (tcp_input.c sets rx->ack_now for them).
 *
 * Interactive ("pingpong") mode: when we send data within ATO of the last data received (a
 * reply to a request: Linux's tcp_event_data_sent, whose tcp_pingpong_thresh is 1), no quick
 * ACKs are sent any more, so that the next request's ACK waits for its reply and rides on
 * it. TCP_QUICKACK 0 enters it too. It ends when a delayed-ACK timer fires (the application
 * did not answer in time), as in Linux. Linux also enters it when a FIN arrives in
 * ESTABLISHED, which delays the ACK of that FIN; synack ACKs a FIN at once.
 *
 * A short segment, or a full one with PSH, marks the data "pushed" (Linux's
 * ICSK_ACK_PUSHED); a read that empties the receive buffer then sends the owed ACK at once
 * unless in pingpong mode (two such segments: even then), Linux's tcp_cleanup_rbuf: the
 * sender may be waiting for it at the end of a write.
 *
 * Batches: between synack_stack_input_begin() and _end() (a driver's read of several frames
 * from its link, the software equivalent of GRO), an ACK that in-sequence data owes at once
 * is not sent inside the frame's processing but once at the end, for everything the batch
 * brought: one stretch ACK per batch, but at least one per 64 KB received (BATCH_ACK_MAX: a
 * Linux receiver acknowledges each GRO packet, and GRO merges at most 64 KB; a simulated
 * link that delivers a whole flight at one instant would otherwise get one ACK per round
 * trip, and a sender that limits growth per ACK, as RFC 9406's L does, would then grow
 * linearly). Out-of-order data, duplicates and the other ack_now cases still answer per
 * segment (each duplicate ACK is a signal the sender counts). */
#include "core/tcb.h"

#define ATO_MIN_US 40000u     /* Linux's TCP_ATO_MIN and TCP_DELACK_MIN: HZ/25 */
#define DELACK_MAX_US 200000u /* TCP_DELACK_MAX: HZ/5 */
#define MAX_QUICKACKS 16u     /* TCP_MAX_QUICKACKS */
#define MIN_RCV_MSS 536u      /* TCP_MSS_DEFAULT: the receive MSS before any is measured */
#define BATCH_ACK_MAX 65536u  /* a batch defers its ACK for at most this much data */

/* Linux's tcp_incr_quickack: as many quick ACKs as half the window holds segments (at least
 * 2, at most max). */
static void incr_quickack(struct synack_tcb *c, uint32_t max)
{
	uint32_t mss = c->fl->ack_rcv_mss ? c->fl->ack_rcv_mss : MIN_RCV_MSS;
	uint32_t q = tcp_rcv_window(c) / (2 * mss);
	if (q == 0)
		q = 2;
	if (q > max)
		q = max;
	if (q > c->fl->ack_quick)
		c->fl->ack_quick = (uint8_t)q;
}

/* Linux's tcp_enter_quickack_mode: it also leaves pingpong mode. */
void tcp_delack_enter_quickack(struct synack_tcb *c)
{
	incr_quickack(c, MAX_QUICKACKS);
	c->ack_pingpong = false;
	c->fl->ato_us = ATO_MIN_US;
}

#define MIN_MSS 88u /* TCP_MIN_MSS */

/* Linux's tcp_measure_rcv_mss: the largest segment (or GRO piece) seen, at most our MSS; a
 * run of equal short segments (at least 536 bytes, or 88 without PSH) lowers it to their
 * size. A short segment otherwise, or a full one with PSH, is "pushed". */
static void measure_rcv_mss(const struct synack_stack *s, struct synack_tcb *c, uint32_t len,
			    bool psh)
{
	uint32_t adv = c->user_mss && c->user_mss < s->cfg.mss ? c->user_mss : s->cfg.mss;
	if (s->rx_gso_size && len > s->rx_gso_size)
		len = s->rx_gso_size;
	if (c->fl->ack_rcv_mss == 0)
		c->fl->ack_rcv_mss = (uint16_t)(adv < MIN_RCV_MSS ? adv : MIN_RCV_MSS);
	if (len >= c->fl->ack_rcv_mss) {
		c->fl->ack_rcv_mss = (uint16_t)(len > adv ? adv : len);
		if (psh && c->fl->ack_pushed == 0)
			c->fl->ack_pushed = 1;
		return;
	}
	if (len >= MIN_RCV_MSS || (len >= MIN_MSS && !psh)) {
		uint32_t lss = c->fl->ack_last_seg;
		c->fl->ack_last_seg = (uint16_t)len;
		if (len == lss) {
			c->fl->ack_rcv_mss = (uint16_t)len;
			return;
		}
	}
	c->fl->ack_pushed = c->fl->ack_pushed ? 2 : 1;
}

void tcp_delack_data_in(struct synack_stack *s, struct synack_tcb *c, uint32_t len, bool psh)
{
	measure_rcv_mss(s, c, len, psh);
	uint64_t now = s->now_us;
	if (c->fl->ato_us == 0) {
		/* The first data: quick-ACK mode, ATO at its minimum. */
		incr_quickack(c, MAX_QUICKACKS);
		c->fl->ato_us = ATO_MIN_US;
	} else {
		uint64_t m = now - c->fl->ack_lrcv_us;
		if (m <= ATO_MIN_US / 2) {
			c->fl->ato_us = c->fl->ato_us / 2 + ATO_MIN_US / 2;
		} else if (m < c->fl->ato_us) {
			c->fl->ato_us = c->fl->ato_us / 2 + (uint32_t)m;
			if (c->fl->ato_us > c->rto_us)
				c->fl->ato_us = c->rto_us;
		} else if (m > c->rto_us) {
			incr_quickack(c, MAX_QUICKACKS); /* idle longer than the RTO: quick again */
		}
	}
	c->fl->ack_lrcv_us = now;
}

/* The delay of the timer: ATO within [40 ms, min(200 ms, SRTT)] (tcp_send_delayed_ack). */
static uint32_t delack_delay(const struct synack_tcb *c)
{
	uint32_t max = DELACK_MAX_US;
	if (c->rtt_valid && c->srtt_us < max)
		max = c->srtt_us > ATO_MIN_US ? c->srtt_us : ATO_MIN_US;
	uint32_t ato = c->fl->ato_us > max ? max : c->fl->ato_us;
	return ato < ATO_MIN_US ? ATO_MIN_US : ato;
}

bool tcp_delack_ack_now(const struct synack_tcb *c)
{
	uint32_t unacked = (uint32_t)seq_diff(c->rcv_nxt, c->fl->rcv_wup);
	/* The buffer all but full: the sender learns at once that the window closed (Linux
	 * ACKs at once when the receive memory runs out, ICSK_ACK_NOW). */
	bool closing = tcp_rcv_window(c) < c->fl->ack_rcv_mss;
	bool quick = c->fl->ack_quick > 0 && !c->ack_pingpong;
	return quick || unacked > c->fl->ack_rcv_mss || c->fl->ooo.n > 0 || closing;
}

void tcp_delack_data_sent(struct synack_stack *s, struct synack_tcb *c)
{
	if (c->fl->ato_us && s->now_us - c->fl->ack_lrcv_us < c->fl->ato_us)
		c->ack_pingpong = true;
}

bool tcp_delack_after_read(const struct synack_tcb *c, uint32_t copied)
{
	if (!c->ack_pending)
		return false;
	if ((uint32_t)seq_diff(c->rcv_nxt, c->fl->rcv_wup) > c->fl->ack_rcv_mss)
		return true; /* "once-per-two-segments ACK was not sent" */
	return copied > 0 && c->fl->rcvq.len == 0 &&
	       (c->fl->ack_pushed == 2 || (c->fl->ack_pushed == 1 && !c->ack_pingpong));
}

void tcp_delack_owe(struct synack_stack *s, struct synack_tcb *c)
{
	if (!s->batching || (uint32_t)seq_diff(c->rcv_nxt, c->fl->rcv_wup) >= BATCH_ACK_MAX) {
		tcp_send_ack(s, c);
		return;
	}
	if (!c->ack_batched) {
		c->ack_batched = true;
		c->fl->ack_next = s->ack_head;
		s->ack_head = c;
	}
}

void tcp_delack_flush_batch(struct synack_stack *s)
{
	while (s->ack_head) {
		struct synack_tcb *c = s->ack_head;
		s->ack_head = c->fl->ack_next;
		c->ack_batched = false;
		/* Data sent since (a reply, a window update) carried it already. */
		if (c->fl->rcv_wup != c->rcv_nxt && tcp_state_synchronized(c->state) &&
		    c->state != SYNACK_TIME_WAIT)
			tcp_output(s, c, true);
	}
}

void tcp_delack_schedule(struct synack_stack *s, struct synack_tcb *c)
{
	if (c->fl->rcv_wup == c->rcv_nxt)
		return; /* an ACK went out with what we sent */
	c->ack_pending = true;
	if (!tcp_timer_armed(c, SYNACK_TIMER_DELACK))
		tcp_timer_arm(s, c, SYNACK_TIMER_DELACK, s->now_us + delack_delay(c));
}

void tcp_delack_ack_sent(struct synack_stack *s, struct synack_tcb *c)
{
	/* Linux's tcp_dec_quickack_mode: a quick ACK is used up by an ACK of new data. */
	if (c->fl->rcv_wup != c->rcv_nxt && c->fl->ack_quick > 0 && --c->fl->ack_quick == 0)
		c->fl->ato_us = ATO_MIN_US;
	c->fl->rcv_wup = c->rcv_nxt;
	c->ack_pending = false;
	c->fl->ack_pushed = 0;
	if (tcp_timer_armed(c, SYNACK_TIMER_DELACK))
		tcp_timer_cancel(s, c, SYNACK_TIMER_DELACK);
}

void tcp_delack_set_quickack(struct synack_stack *s, struct synack_tcb *c, bool on)
{
	c->ack_pingpong = !on;
	if (on && c->ack_pending &&
	    (c->state == SYNACK_ESTABLISHED || c->state == SYNACK_CLOSE_WAIT))
		tcp_send_ack(s, c);
}

void tcp_on_delack(struct synack_stack *s, struct synack_tcb *c)
{
	if (!c->ack_pending || !tcp_state_synchronized(c->state) || c->state == SYNACK_TIME_WAIT)
		return;
	/* tcp_delack_timer_handler: "Delayed ACK missed: inflate ATO", or in pingpong mode
	 * "leave pingpong mode and deflate ATO". */
	if (c->ack_pingpong) {
		c->ack_pingpong = false;
		c->fl->ato_us = ATO_MIN_US;
	} else {
		c->fl->ato_us = c->fl->ato_us * 2 < c->rto_us ? c->fl->ato_us * 2 : c->rto_us;
	}
	stack_count(s, SYNACK_CTR_DelayedACKs);
	tcp_send_ack(s, c);
}
