/* "fifth check the ACK field" (RFC 9293 §3.10.7.4), with what hangs off an acknowledgment:
 * RTT samples (RFC 6298, RFC 7323 §4), the retransmission timer (RFC 6298 §5), congestion
 * control (RFC 5681 slow start and congestion avoidance; fast retransmit and NewReno fast
 * recovery, RFC 6582; SACK blocks read into the scoreboard of tcp_sack.c), the send-window
 * update, and the closing states that wait for the acknowledgment of our FIN. */
#include <errno.h>

#include "core/tcp_input.h"

static bool fin_acked(const struct synack_tcb *c)
{
	return c->fin_queued && seq_gt(c->snd_una, c->fin_seq);
}

/* A passive child completes its handshake: from the SYN queue to the accept queue, on the
 * listener's port. */
void tcp_acceptq_push(struct synack_stack *s, struct synack_tcb *l, struct synack_tcb *c)
{
	tcb_unlink_child(c);
	c->fl->parent = l;
	c->in_acceptq = true;
	struct tcb_listen *q = tcb_lq(l);
	if (q->acceptq_tail)
		q->acceptq_tail->fl->q_next = c;
	else
		q->acceptq = c;
	c->fl->q_prev = q->acceptq_tail;
	q->acceptq_tail = c;
	q->acceptq_len++;
	ports_bind_child(s, c);
	stack_count(s, SYNACK_CTR_PassiveOpens);
}

/* SYN-RECEIVED → ESTABLISHED: "If SND.UNA < SEG.ACK =< SND.NXT, then enter ESTABLISHED
 * state and continue processing". A passive child gets its buffers now and moves from the
 * SYN queue to the accept queue (if there is room; if not, the ACK is dropped, as Linux does,
 * and the SYN-ACK retransmission tries again). */
static bool synrcvd_ack(struct synack_stack *s, struct synack_tcb *c, struct rx *rx)
{
	const struct synack_tcp_seg *seg = rx->seg;
	if (!(seq_lt(c->snd_una, seg->ack) && seq_le(seg->ack, c->snd_nxt))) {
		/* "If the segment acknowledgment is not acceptable, form a reset segment
		 * <SEQ=SEG.ACK><CTL=RST> and send it." */
		rx_drop(s, rx, SYNACK_DROP_TCP_NOT_ACCEPTABLE);
		tcp_reply_reset(s, &rx->t, seg);
		return false;
	}
	/* A Fast Open child is in the accept queue (or accepted) already. */
	struct synack_tcb *l = c->in_acceptq ? NULL : c->fl->parent;
	tfo_child_release(s, c);
	if (l && tcb_lq(l)->acceptq_len > (uint32_t)tcb_lq(l)->backlog) {
		stack_count(s, SYNACK_CTR_ListenOverflows);
		stack_count(s, SYNACK_CTR_ListenDrops);
		rx_drop(s, rx, SYNACK_DROP_TCP_LISTEN_OVERFLOW);
		return false;
	}
	if (!c->fl->sndq.cap && tcb_alloc_buffers(s, c) < 0) {
		rx_drop(s, rx, SYNACK_DROP_TCP_NO_MEMORY);
		return false;
	}
	if (c->rtt_timing && c->fl->retries == 0)
		tcp_rtt_sample(s, c, s->now_us - c->fl->rtt_start_us);
	c->rtt_timing = false;
	c->fl->retries = 0;
	if (!c->rtt_valid)
		c->rto_us = s->cfg.rto_initial_ms * 1000u;
	tcp_cancel_rtx(s, c);
	c->snd_wnd = (uint32_t)seg->win << c->snd_wscale;
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = seg->seq;
	c->snd_wl2 = seg->ack;
	if (l)
		tcp_acceptq_push(s, l, c);
	tcp_set_state(s, c, SYNACK_ESTABLISHED);
	tcp_arm_keepalive(s, c);
	if (l)
		tcp_wake(s, l);
	if (c->fin_queued) {
		c->fin_seq = seq_add(c->fl->snd_buf_seq, c->fl->sndq.len);
		tcp_set_state(s, c, SYNACK_FIN_WAIT_1);
	}
	return true;
}

/* RFC 5681 §3.1 and RFC 6582 §3.2 on an ACK that acknowledges new data; the controller
 * (cc.h) computes the windows. */
static void cc_on_new_ack(struct synack_stack *s, struct synack_tcb *c, uint32_t acked)
{
	const struct cc_ops *cc = c->fl->cc.ops;
	c->fl->dupacks = 0;
	if (!c->in_recovery) {
		if (acked)
			cc->on_ack(&c->fl->cc, c->snd_mss, acked, false);
		tcp_sndbuf_autotune(s, c);
		return;
	}
	if (seq_ge(c->snd_una, c->fl->recover)) {
		/* Full acknowledgment: leave fast recovery (RFC 6937: cwnd = ssthresh). */
		c->in_recovery = false;
		c->fl->lost_mark = c->snd_una;
		rack_recovery_exit(c);
		cc->on_recovery_exit(&c->fl->cc, c->snd_mss);
		return; /* undo_on stays: a late D-SACK may still undo (tcp_try_undo_dsack) */
	}
	if (c->sack_ok)
		return; /* SACK recovery: PRR and NextSeg() act after the ACK (check_ack) */
	/* Partial acknowledgment: retransmit the first unacknowledged segment. */
	seq_t end = tcp_retransmit_head(s, c);
	if (seq_lt(c->fl->snd_hole, end))
		c->fl->snd_hole = end;
	cc->on_ack(&c->fl->cc, c->snd_mss, acked, true);
}

static void enter_recovery(struct synack_stack *s, struct synack_tcb *c);

void tcp_undo_init(struct synack_tcb *c)
{
	/* Linux's tcp_init_undo, with tcp_current_ssthresh: the windows to go back to. */
	c->undo_on = true;
	c->fl->undo_marker = c->snd_una;
	c->fl->undo_retrans = 0;
	c->fl->retrans_ts = 0;
	c->fl->prior_cwnd = c->fl->cc.cwnd;
	uint32_t cur =
		c->in_recovery ? c->fl->cc.ssthresh : (c->fl->cc.cwnd >> 1) + (c->fl->cc.cwnd >> 2);
	c->fl->prior_ssthresh = c->fl->cc.ssthresh > cur ? c->fl->cc.ssthresh : cur;
}

/* Linux's tcp_undo_cwnd_reduction: the reduction was for nothing (every retransmission was
 * spurious): cwnd and ssthresh go back to what they were before it. unmark: after a
 * timeout, what was marked lost is not, and the go-back stops. */
static void undo_reduction(struct synack_stack *s, struct synack_tcb *c, bool unmark)
{
	if (c->fl->cc.cwnd < c->fl->prior_cwnd)
		c->fl->cc.cwnd = c->fl->prior_cwnd;
	if (c->fl->cc.ssthresh < c->fl->prior_ssthresh)
		c->fl->cc.ssthresh = c->fl->prior_ssthresh;
	c->undo_on = false;
	c->fl->frto = 0;
	/* The episode is over (Linux: tcp_try_keep_open, CA_Open after an undo): leaving it
	 * does not apply the reduction (cwnd = ssthresh) it just took back. */
	c->in_recovery = false;
	if (unmark) {
		for (uint32_t i = 0; i < c->fl->rack.n; i++)
			c->fl->rack.seg[i].flags &= (uint8_t)~RACK_LOST;
		c->rtx_pending = false;
		c->frto_loss = false;
	}
	(void)s;
}

/* RFC 3522 (Eifel, Linux's tcp_packet_delayed): the ACK echoes a timestamp older than the
 * episode's first retransmission, so an original transmission got through. */
static bool packet_delayed(const struct synack_tcb *c, const struct synack_tcp_seg *seg)
{
	return c->undo_on && c->fl->retrans_ts && c->ts_ok && seg->opts.has_ts &&
	       seg->opts.ts_ecr && seq_lt(seg->opts.ts_ecr, c->fl->retrans_ts);
}

/* RFC 5681 §3.2 / RFC 6582: the third duplicate ACK starts fast retransmit and recovery;
 * further ones are reported to the controller (NewReno inflates cwnd by one segment). */
static void cc_on_dupack(struct synack_stack *s, struct synack_tcb *c)
{
	c->fl->dupacks++;
	tcp_cc_env(s, c, 0);
	if (c->in_recovery) {
		if (!c->sack_ok) /* NewReno inflates; with SACK, PRR sets cwnd */
			c->fl->cc.ops->on_dupack(&c->fl->cc, c->snd_mss);
		return;
	}
	if (c->fl->dupacks == 3)
		enter_recovery(s, c);
}

/* Fast retransmit and the start of fast recovery (RFC 5681 §3.2, RFC 6675 §5, RFC 6582). */
static void enter_recovery(struct synack_stack *s, struct synack_tcb *c)
{
	tcp_cc_env(s, c, 0);
	tcp_timer_cancel(s, c, SYNACK_TIMER_TLP);
	c->tlp_out = false;
	uint32_t flight = (uint32_t)seq_diff(c->fl->snd_max, c->snd_una);
	tcp_undo_init(c);
	c->fl->recover = c->fl->snd_max;
	c->in_recovery = true;
	c->fl->cc.ops->on_congestion(&c->fl->cc, c->snd_mss, flight);
	if (c->sack_ok) {
		/* RFC 6675 §5 (4.3): "Retransmit the first data segment presumed dropped" and set
		 * HighRxt and RescueRxt to its end; RFC 6937: it counts in prr_out. */
		sack_recovery_enter(c);
		sack_mark_lost(c);
		seq_t end = tcp_retransmit_head(s, c);
		c->fl->prr_out = (uint32_t)seq_diff(end, c->snd_una);
		c->fl->snd_hole = end;
		c->fl->rescue_rxt = end;
		return;
	}
	c->fl->snd_hole = tcp_retransmit_head(s, c);
}

/* The RTT sample an ACK of new data gives, in microseconds (at least 1), or 0. */
static uint32_t rtt_from_ack(struct synack_stack *s, struct synack_tcb *c,
			     const struct synack_tcp_seg *seg, bool ts_stale)
{
	/* RFC 7323 §4.1: with timestamps every ACK of new data gives a sample (retransmissions
	 * included: the echoed value says which transmission is acknowledged). */
	if (c->ts_ok && seg->opts.has_ts && seg->opts.ts_ecr) {
		uint32_t ms = tcp_ts_now(s, c) - seg->opts.ts_ecr;
		c->rtt_timing = false;
		if (ms >= 600000u || ts_stale)
			return 0;
		tcp_rtt_sample(s, c, ms * 1000u);
		return ms ? ms * 1000u : 1;
	}
	/* Otherwise one timed segment at a time, never a retransmitted one (Karn). */
	if (c->rtt_timing && seq_gt(seg->ack, c->fl->rtt_seq)) {
		uint64_t us = s->now_us - c->fl->rtt_start_us;
		tcp_rtt_sample(s, c, us);
		c->rtt_timing = false;
		return us == 0 ? 1 : us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
	}
	return 0;
}

static void new_ack(struct synack_stack *s, struct synack_tcb *c, const struct synack_tcp_seg *seg)
{
	uint32_t acked = (uint32_t)seq_diff(seg->ack, c->snd_una);
	/* The echoed timestamp may be older than the latest retransmission of what this ACK
	 * covers: the peer's TS.Recent did not move because that retransmission fell below
	 * RCV.NXT (its earlier ACK was lost). Such an echo measures the whole backoff, not a
	 * round trip (RFC 7323 §4.1's caution): no sample from it. */
	uint64_t newest_rtx;
	bool ts_stale = c->ts_ok && seg->opts.has_ts &&
			rack_any_rtx_below(c, seg->ack, &newest_rtx) &&
			seq_lt(seg->opts.ts_ecr, (uint32_t)(newest_rtx / 1000) + c->ts_offset);
	/* The SYN's octet is not data: the ACK that completes the handshake leaves cwnd at the
	 * initial window (Linux sets it after that ACK, tcp_init_transfer). */
	if (c->snd_una == c->iss && acked)
		acked--;
	if (seq_gt(seg->ack, c->fl->snd_buf_seq)) {
		uint32_t data = (uint32_t)seq_diff(seg->ack, c->fl->snd_buf_seq);
		if (data > c->fl->sndq.len)
			data = c->fl->sndq.len;
		uint32_t held = c->fl->sndq.nchunks;
		ring_consume(&c->fl->sndq, &s->bufs, data);
		if (c->snd_nomem && c->fl->sndq.nchunks < held) {
			c->snd_nomem = false; /* chunks came back: writable again */
			tcp_wake(s, c);
		}
		c->fl->snd_buf_seq = seq_add(c->fl->snd_buf_seq, data);
	}
	c->snd_una = seg->ack;
	sack_trim(s, c);
	if (c->rtx_pending && seq_lt(c->fl->snd_rtx, c->snd_una))
		c->fl->snd_rtx = c->snd_una; /* the peer already has these */
	if (c->rtx_pending && !seq_lt(c->fl->snd_rtx, c->snd_nxt))
		c->rtx_pending = false;
	uint32_t rtt_us = rtt_from_ack(s, c, seg, ts_stale);
	c->fl->retries = 0;
	tcp_cc_env(s, c, rtt_us);
	/* A round (RFC 9406's windowEnd) ends when SND.UNA passes the SND.NXT of its start. */
	c->fl->cc.round_start = seq_ge(c->snd_una, c->fl->cc_round_end);
	if (c->fl->cc.round_start)
		c->fl->cc_round_end = c->fl->snd_max;
	cc_on_new_ack(s, c, acked);
	/* RFC 6298 §5.2/5.3: all acknowledged → stop the timer, else restart it. */
	if (c->snd_una == c->fl->snd_max) {
		tcp_cancel_rtx(s, c);
		if (c->fl->sndq.len ==
		    0) /* nothing in flight or queued: an idle sender holds no log */
			rack_free(s, c);
	} else {
		tcp_arm_rtx(s, c);
		tcp_arm_tlp(s, c);
	}
}

/* RFC 8985 §7.4: the tail-loss probe was delivered (acknowledged or SACKed). UnSACKed data
 * sent before it is then lost, as RACK would mark it (synack keeps no per-segment send
 * times, so the probe stands in for RACK.xmit_ts with a reordering window of zero): SACK
 * recovery starts with everything below the probe counted lost (lost_mark). */
static void tlp_delivered(struct synack_stack *s, struct synack_tcb *c)
{
	uint32_t room;
	bool sacked = sack_skip(c, c->fl->tlp_seq, &room) != c->fl->tlp_seq;
	if (!c->tlp_out || !(seq_gt(c->snd_una, c->fl->tlp_seq) || sacked))
		return;
	c->tlp_out = false;
	if (!c->sack_ok || !seq_lt(sack_skip(c, c->snd_una, &room), c->fl->tlp_seq))
		return; /* nothing below the probe is missing: the tail alone was lost */
	c->fl->lost_mark = c->fl->tlp_seq;
	rack_mark_lost(c, c->fl->tlp_seq, false);
	if (!c->in_recovery)
		enter_recovery(s, c);
}

static void window_update(struct synack_stack *s, struct synack_tcb *c,
			  const struct synack_tcp_seg *seg, bool advanced)
{
	/* "If SND.WL1 < SEG.SEQ or (SND.WL1 = SEG.SEQ and SND.WL2 =< SEG.ACK), set SND.WND <-
	 * SEG.WND, set SND.WL1 <- SEG.SEQ, and set SND.WL2 <- SEG.ACK." And, as Linux does
	 * (tcp_may_update_window), whenever the ACK moves SND.UNA: the peer's retransmission of
	 * data that fills a hole has a SEQ below SND.WL1 but its ACK and window are current. The
	 * right edge is SND.UNA + SND.WND, so moving SND.UNA with the old window would move the
	 * edge past what the peer offered; Linux 6.18 drops a segment beyond its window whole,
	 * ACK included, and a connection stalled so. */
	if (!advanced && !(seq_lt(c->snd_wl1, seg->seq) ||
			   (c->snd_wl1 == seg->seq && seq_le(c->snd_wl2, seg->ack))))
		return;
	c->snd_wnd = (uint32_t)seg->win << c->snd_wscale;
	c->snd_wl1 = seg->seq;
	c->snd_wl2 = seg->ack;
	if (c->snd_wnd > c->max_snd_wnd)
		c->max_snd_wnd = c->snd_wnd;
	if (c->snd_wnd > 0 && tcp_timer_armed(c, SYNACK_TIMER_PERSIST)) {
		tcp_timer_cancel(s, c, SYNACK_TIMER_PERSIST);
		c->fl->retries = 0;
	}
}

static bool is_dupack(const struct synack_tcb *c, const struct rx *rx)
{
	const struct synack_tcp_seg *seg = rx->seg;
	return seg->ack == c->snd_una && seg->len == 0 && !has(rx, SYNACK_TH_FIN) &&
	       c->snd_una != c->fl->snd_max && ((uint32_t)seg->win << c->snd_wscale) == c->snd_wnd;
}

/* The states waiting for the acknowledgment of our FIN. Returns false when the connection
 * is gone. */
static bool closing_states(struct synack_stack *s, struct synack_tcb *c)
{
	if (!fin_acked(c))
		return true;
	switch (c->state) {
	case SYNACK_FIN_WAIT_1:
		/* "if the FIN segment is now acknowledged, then enter FIN-WAIT-2" */
		tcp_set_state(s, c, SYNACK_FIN_WAIT_2);
		tcp_enter_time_wait(s, c);
		return true;
	case SYNACK_CLOSING:
		/* "if the ACK acknowledges our FIN, then enter the TIME-WAIT state" */
		tcp_set_state(s, c, SYNACK_TIME_WAIT);
		tcp_enter_time_wait(s, c);
		return true;
	case SYNACK_LAST_ACK:
		/* "If our FIN is now acknowledged, delete the TCB, enter the CLOSED state" */
		tcp_done(s, c, 0);
		return false;
	default:
		return true;
	}
}

/* RFC 3168 §6.1.2: an ECN-Echo is answered by one reduction per window of data (none while
 * one is in progress, or in fast recovery, which has reduced already). */
static bool ecn_should_reduce(struct synack_tcb *c, const struct rx *rx)
{
	if (c->in_cwr && !seq_lt(rx->seg->ack, c->fl->cwr_high))
		c->in_cwr = false;
	return c->ecn_ok && has(rx, SYNACK_TH_ECE) && !has(rx, SYNACK_TH_SYN) && !c->in_cwr &&
	       !c->in_recovery && c->snd_una != c->fl->snd_max;
}

/* "the TCP source halves the congestion window" (through the controller) and sets CWR on the
 * next new data it sends. */
static void ecn_reduce(struct synack_stack *s, struct synack_tcb *c, uint32_t flight)
{
	c->fl->cc.ops->on_ecn(&c->fl->cc, c->snd_mss, flight);
	c->in_cwr = true;
	c->fl->cwr_high = c->fl->snd_max;
	c->cwr_pending = true;
	stack_count(s, SYNACK_CTR_TCPECNEchoReduce);
}

/* RFC 2883 D-SACK: the reordering window widens (RACK), and a retransmission of this
 * episode that arrived twice was spurious (Linux's tcp_check_dsack: undo_retrans); when
 * none is left, the reduction is undone (tcp_try_undo_dsack). */
static void on_dsack(struct synack_stack *s, struct synack_tcb *c, seq_t l, seq_t r)
{
	stack_count(s, SYNACK_CTR_TCPDSACKRecv);
	rack_on_dsack(c, l);
	if (!c->undo_on || !c->fl->undo_retrans || seq_lt(l, c->fl->undo_marker))
		return;
	uint32_t segs = (uint32_t)((seq_diff(r, l) + c->snd_mss - 1) / c->snd_mss);
	c->fl->undo_retrans = c->fl->undo_retrans > segs ? c->fl->undo_retrans - segs : 0;
	if (c->fl->undo_retrans == 0) {
		undo_reduction(s, c, c->frto_loss);
		stack_count(s, SYNACK_CTR_TCPDSACKUndo);
	}
}

/* RFC 5682 F-RTO (§2.1, as Linux's tcp_process_loss): after a first timeout has resent the
 * head, the first ACK that acknowledges part (not all) of the outstanding data lets up to two
 * NEW segments go instead of the go-back (step 2b); if the next ACK acknowledges more, data
 * that was never retransmitted arrived: the timeout was spurious and is undone (step 3b);
 * if it does not, the loss was real and the go-back resumes (step 3a). advanced: this ACK
 * moved SND.UNA. */
static void frto_ack(struct synack_stack *s, struct synack_tcb *c, bool advanced)
{
	if (c->fl->frto == 1) {
		/* Step 2a: a duplicate, or everything acknowledged: the conventional way. */
		if (!advanced || !seq_lt(c->snd_una, c->fl->recover)) {
			c->fl->frto = 0;
			return;
		}
		uint32_t sent = 0;
		bool pending = c->rtx_pending;
		c->rtx_pending = false;
		while (sent < 2 && tcp_output_one(s, c))
			sent++;
		if (!sent) { /* no new data may go: step 2b's "otherwise", the go-back */
			c->rtx_pending = pending;
			c->fl->frto = 0;
			return;
		}
		c->fl->frto = 2;
		return;
	}
	/* Step 3. */
	c->fl->frto = 0;
	if (advanced) {
		undo_reduction(s, c, true);
		stack_count(s, SYNACK_CTR_TCPLossUndo);
		stack_count(s, SYNACK_CTR_TCPSpuriousRTOs);
		return;
	}
	c->fl->snd_rtx = c->snd_una; /* 3a: the loss was real; the go-back resumes */
	c->rtx_pending = seq_lt(c->fl->snd_rtx, c->snd_nxt);
}

/* RACK after an ACK (RFC 8985 §6.2): loss marking; a loss starts recovery (not during a
 * timeout's go-back, which resends in order); what waits out its window arms REO. */
void tcp_rack_check(struct synack_stack *s, struct synack_tcb *c)
{
	uint64_t timeout;
	bool lost = rack_detect_loss(s, c, &timeout);
	if (lost && !c->in_recovery && !c->rtx_pending && c->snd_una != c->fl->snd_max)
		enter_recovery(s, c);
	if (timeout && c->snd_una != c->fl->snd_max)
		tcp_timer_arm(s, c, SYNACK_TIMER_REO, s->now_us + timeout);
	else
		tcp_timer_cancel(s, c, SYNACK_TIMER_REO);
}

bool check_ack(struct synack_stack *s, struct synack_tcb *c, struct rx *rx)
{
	const struct synack_tcp_seg *seg = rx->seg;
	/* "if the ACK bit is off, drop the segment and return" */
	if (!has(rx, SYNACK_TH_ACK)) {
		rx_drop(s, rx, SYNACK_DROP_TCP_NO_ACK);
		return false;
	}
	if (c->state == SYNACK_SYN_RECEIVED && !synrcvd_ack(s, c, rx))
		return false;
	/* "If the ACK acks something not yet sent (SEG.ACK > SND.NXT), then send an ACK, drop
	 * the segment, and return." (SND.NXT here is the highest ever sent: after a timeout we
	 * send again from SND.UNA.) */
	if (seq_gt(seg->ack, c->fl->snd_max)) {
		rx_drop(s, rx, SYNACK_DROP_TCP_ACK_UNSENT);
		challenge_ack(s, c, rx); /* throttled (RFC 5961 §7): spoofed data cannot farm ACKs */
		return false;
	}
	/* RFC 5961 §5.2: an ACK older than SND.UNA - MAX.SND.WND is dropped with an ACK (a
	 * challenge ACK, rate limited, as Linux's tcp_ack sends for a too-old ACK). */
	if (seq_lt(seg->ack, c->snd_una - c->max_snd_wnd) && seq_lt(seg->ack, c->snd_una)) {
		rx_drop(s, rx, SYNACK_DROP_TCP_ACK_OLD);
		challenge_ack(s, c, rx);
		return false;
	}
	tcp_update_ts_recent(c, seg); /* RFC 7323 §4.3: the segment is acceptable */
	seq_t una_before = c->snd_una;
	uint32_t sacked_before = sack_bytes(c);
	c->fl->probes_out = 0; /* the peer answers (persist, RFC 1122 §4.2.2.17) */
	bool dup = is_dupack(c, rx);
	bool ece = ecn_should_reduce(c, rx);
	uint32_t flight = (uint32_t)seq_diff(c->fl->snd_max, c->snd_una);
	/* With SACK, an ACK that reports newly received data beyond a hole is a duplicate
	 * whatever its window says (the window moves as the application reads). */
	if (sack_update(s, c, &seg->opts) && seg->ack == c->snd_una && c->snd_una != c->fl->snd_max &&
	    !has(rx, SYNACK_TH_FIN))
		dup = true;
	seq_t dl, dr;
	if (sack_dsack(c, &seg->opts, &dl, &dr))
		on_dsack(s, c, dl, dr);
	rack_on_ack(s, c, seg->ack, c->ts_ok && seg->opts.has_ts ? seg->opts.ts_ecr : 0);
	bool advanced = seq_gt(seg->ack, c->snd_una);
	if (advanced && c->frto_loss && packet_delayed(c, seg)) {
		/* A spurious timeout (Linux's tcp_try_undo_loss with RFC 3522's test): the
		 * original flight was only delayed. The timer keeps its backoff until a valid
		 * sample (RFC 6298 §5.7): RFC 4015's response would take the echo's age, which
		 * at heavy loss includes the time ACKs were lost (loss30: p90 85 s -> 300 s). */
		undo_reduction(s, c, true);
		stack_count(s, SYNACK_CTR_TCPLossUndo);
		stack_count(s, SYNACK_CTR_TCPSpuriousRTOs);
	}
	if (advanced && c->in_recovery && seq_ge(seg->ack, c->fl->recover) &&
	    packet_delayed(c, seg)) {
		undo_reduction(s, c, false); /* tcp_try_undo_recovery: a spurious fast retransmit */
		stack_count(s, SYNACK_CTR_TCPFullUndo);
	}
	if (advanced)
		new_ack(s, c, seg);
	if (seq_le(c->snd_una, seg->ack))
		window_update(s, c, seg, advanced);
	if (c->fl->frto && c->frto_loss)
		frto_ack(s, c, advanced);
	if (c->frto_loss && !c->fl->frto && !c->rtx_pending && seq_ge(c->snd_una, c->fl->recover))
		c->frto_loss = false; /* the timeout's episode is over (undo_on stays) */
	if (dup)
		cc_on_dupack(s, c);
	tlp_delivered(s, c);
	tcp_rack_check(s, c);
	if (ece)
		ecn_reduce(s, c, flight);
	if (c->in_recovery && c->sack_ok) {
		/* RFC 6937 DeliveredData: the change in SND.UNA plus the change in SACKed bytes. */
		int64_t delivered = (int64_t)seq_diff(c->snd_una, una_before) + sack_bytes(c) -
				    (int64_t)sacked_before;
		sack_prr_ack(c, delivered > 0 ? (uint32_t)delivered : 0);
		sack_recovery_send(s, c);
	}
	tcp_wake(s, c);
	return closing_states(s, c);
}
