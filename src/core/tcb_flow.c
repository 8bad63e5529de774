/* A connection's active part (struct tcb_flow, tcb.h): taken when the connection has
 * something to do, given back ("folded") when it has been quiet for a while, so that an idle
 * connection costs only its block.
 *
 * Quiet means nothing the flow holds is in use: nothing queued, in flight, out of order,
 * SACKed or owed an ACK; no recovery, no urgent data, no record marks; no timer but one of
 * KEEPALIVE, FIN_WAIT_2 and TIME_WAIT (which moves to a small wheel entry of its own); not in
 * a listener's queue nor the wake queue, no pending error; SND.MAX, RCV.WUP and the send
 * queue's start at the values a new flow gets back (tcb_unfold). A flow folds once it has
 * been quiet for max(fold_ms, RTO) (synack_config; 1 s by default, 0: never) since it was
 * taken, since a segment last arrived and since data was last sent — longer than a delayed ACK, a challenge-ACK period, and the idle time
 * after which the congestion window restarts anyway (Linux's tcp_slow_start_after_idle).
 *
 * What folding forgets, and a new flow starts over with: the congestion controller's private
 * state (CUBIC's W_max and epoch; cwnd and ssthresh are kept), the delayed-ACK estimates (ATO,
 * the peer's segment size: Linux also goes back to quick ACKs after an idle RTO), RACK's
 * minimum RTT and reordering window, the receive-buffer measurement (the buffer's size is
 * kept), and the undo of the last reduction (a D-SACK arriving after the quiet spell would
 * have undone it). Everything else of the flow is by definition at its initial value when quiet. */
#include <string.h>

#include "core/tcb.h"

static bool foldable_state(enum synack_tcp_state st)
{
	return st == SYNACK_ESTABLISHED || st == SYNACK_CLOSE_WAIT || st == SYNACK_FIN_WAIT_2 ||
	       st == SYNACK_TIME_WAIT;
}

void tcb_flow_init(struct synack_tcb *c, struct tcb_flow *f, const struct cc_ops *cc)
{
	memset(f, 0, sizeof *f);
	for (unsigned k = 0; k < TCP_TIMER_KINDS; k++)
		f->timer_at[k] = TCP_TIMER_OFF;
	f->timer.kind = SYNACK_TIMER_COUNT;
	f->conn = c;
	cc_set(&f->cc, cc);
	f->snd_sml = f->snd_rtx = c->snd_una;
}

/* When a quiet flow may fold: max(fold_ms, RTO) after its last sign of life. */
static uint64_t fold_due(const struct synack_stack *s, const struct synack_tcb *c)
{
	uint64_t wait = (uint64_t)s->cfg.fold_ms * 1000u;
	uint64_t last = c->fl->active_us;
	if (c->last_rx_us > last)
		last = c->last_rx_us;
	if (c->sent_data && c->last_send_us > last)
		last = c->last_send_us;
	return last + (c->rto_us > wait ? c->rto_us : wait);
}

void tcb_flow_arm(struct synack_stack *s, struct synack_tcb *c)
{
	if (foldable_state(c->state) && s->cfg.fold_ms)
		tcp_timer_arm(s, c, TCP_TIMER_FOLD, fold_due(s, c));
}

/* The one timer a folded connection may keep (TCP_TIMER_KINDS: none), or -1 when the flow's
 * timers say it is busy. */
static int quiet_timer(const struct tcb_flow *f)
{
	int kept = TCP_TIMER_KINDS;
	for (unsigned k = 0; k < SYNACK_TIMER_COUNT; k++) {
		if (f->timer_at[k] == TCP_TIMER_OFF)
			continue;
		if (kept != TCP_TIMER_KINDS ||
		    (k != SYNACK_TIMER_KEEPALIVE && k != SYNACK_TIMER_FIN_WAIT_2 &&
		     k != SYNACK_TIMER_TIME_WAIT))
			return -1;
		kept = (int)k;
	}
	return kept;
}

static bool ring_empty(const struct synack_ring *r)
{
	return r->len == 0 && !r->first;
}

/* Where the send queue starts in a quiet flow: at SND.UNA, or at our FIN once it is
 * acknowledged (the FIN's octet is not in the queue: tcp_ack.c). */
static seq_t quiet_buf_seq(const struct synack_tcb *c)
{
	return c->fin_queued && c->snd_una == seq_add(c->fin_seq, 1) ? c->fin_seq : c->snd_una;
}

bool tcb_flow_quiet(const struct synack_tcb *c)
{
	const struct tcb_flow *f = c->fl;
	static const struct tcp_tfo no_tfo;
	return f && foldable_state(c->state) && !c->dead && !f->parent && !c->in_acceptq &&
	       !f->lq && c->err == 0 && c->snd_una == c->snd_nxt && c->snd_nxt == f->snd_max &&
	       f->rcv_wup == c->rcv_nxt && f->snd_buf_seq == quiet_buf_seq(c) &&
	       ring_empty(&f->sndq) && ring_empty(&f->rcvq) && f->ooo.n == 0 && !f->ooo.r &&
	       f->sacked.n == 0 && !f->sacked.r && f->neor == 0 && f->urg_state == URG_NONE &&
	       !c->snd_urg && !c->in_recovery && !c->rtx_pending && !c->tlp_out &&
	       !c->ack_pending && !c->ack_batched && !c->dsack && !c->ooo_fin && !c->syn_text &&
	       !c->frto_loss && f->frto == 0 && !c->rtt_timing && !c->in_cwr && f->retries == 0 &&
	       f->probes_out == 0 && f->dupacks == 0 && !c->wake_queued &&
	       memcmp(&f->tfo, &no_tfo, sizeof no_tfo) == 0 && quiet_timer(f) >= 0;
}

/* Gives the flow back; c must be quiet. False when there is no memory for the wheel entry
 * of a timer it keeps (nothing changed then). */
static bool fold(struct synack_stack *s, struct synack_tcb *c)
{
	struct tcb_flow *f = c->fl;
	int kept = quiet_timer(f);
	struct tcb_fold_timer *ft = NULL;
	if (kept < TCP_TIMER_KINDS && !(ft = stack_alloc(s, sizeof *ft)))
		return false;
	c->fold_cc = cc_index(f->cc.ops);
	c->fold_cwnd = f->cc.cwnd;
	c->fold_ssthresh = f->cc.ssthresh;
	if (f->sndq.cap || f->rcvq.cap) {
		c->sndbuf_size = f->sndq.cap;
		c->rcvbuf_size = f->rcvq.cap;
		c->sized = true;
		s->nbuffered--;
	} else {
		c->sized = false;
	}
	rack_free(s, c);
	c->undo_on = false; /* a D-SACK later than a quiet spell undoes nothing */
	stack_free(s, f->eor, SYNACK_EOR_MAX * sizeof f->eor[0]);
	/* The kept timer's entry takes the flow's place on the wheel, armed at its deadline
	 * (tcp_timer_fire unfolds). */
	if (ft) {
		*ft = (struct tcb_fold_timer){.t.kind = TCP_FOLD_TIMER_KIND + (uint32_t)kept, .c = c};
		synack_wheel_move(&s->wheel, &ft->t, &f->timer);
		if (!synack_timer_armed(&ft->t) || ft->t.deadline_us != f->timer_at[kept])
			synack_wheel_arm(&s->wheel, &ft->t, f->timer_at[kept]);
	} else {
		synack_wheel_cancel(&s->wheel, &f->timer);
	}
	c->fold_timer = ft;
	stack_free(s, f, sizeof *f);
	c->fl = NULL;
	stack_count(s, SYNACK_CTR_TCPFlowFolds);
	return true;
}

void tcb_flow_on_fold_timer(struct synack_stack *s, struct synack_tcb *c)
{
	if (!foldable_state(c->state) || !s->cfg.fold_ms)
		return; /* armed again when it enters one (tcp_set_state) */
	uint64_t at = fold_due(s, c);
	if (tcb_flow_quiet(c) && s->now_us >= at && fold(s, c))
		return;
	tcp_timer_arm(s, c, TCP_TIMER_FOLD,
		      at > s->now_us ? at : s->now_us + (uint64_t)s->cfg.fold_ms * 1000u);
}

bool tcb_unfold(struct synack_stack *s, struct synack_tcb *c)
{
	if (c->fl)
		return true;
	struct tcb_flow *f = stack_alloc(s, sizeof *f);
	if (!f)
		return false;
	tcb_flow_init(c, f, cc_at(c->fold_cc));
	f->cc.cwnd = c->fold_cwnd;
	f->cc.ssthresh = c->fold_ssthresh;
	f->active_us = s->now_us;
	/* What quiet implied (tcb_flow_quiet). */
	f->snd_max = c->snd_nxt;
	f->rcv_wup = c->rcv_nxt;
	f->snd_buf_seq = quiet_buf_seq(c);
	if (c->sized) {
		f->sndq.cap = c->sndbuf_size;
		f->rcvq.cap = c->rcvbuf_size;
		s->nbuffered++;
	}
	/* The kept timer (fold): its deadline is its entry's, which may have just fired; the
	 * flow's entry takes its place on the wheel. */
	struct tcb_fold_timer *ft = c->fold_timer;
	if (ft) {
		f->timer_at[ft->t.kind - TCP_FOLD_TIMER_KIND] = ft->t.deadline_us;
		synack_wheel_move(&s->wheel, &f->timer, &ft->t);
		stack_free(s, ft, sizeof *ft);
		c->fold_timer = NULL;
	}
	c->fl = f;
	tcp_rcv_space_init(s, c);
	tcb_flow_arm(s, c);
	stack_count(s, SYNACK_CTR_TCPFlowUnfolds);
	return true;
}

void tcb_flow_free(struct synack_stack *s, struct synack_tcb *c)
{
	struct tcb_flow *f = c->fl;
	if (!f)
		return;
	synack_wheel_cancel(&s->wheel, &f->timer);
	stack_free(s, f->eor, SYNACK_EOR_MAX * sizeof f->eor[0]);
	stack_free(s, f, sizeof *f);
	c->fl = NULL;
}

void tcb_fold_timer_free(struct synack_stack *s, struct synack_tcb *c)
{
	struct tcb_fold_timer *ft = c->fold_timer;
	if (!ft)
		return;
	synack_wheel_cancel(&s->wheel, &ft->t);
	stack_free(s, ft, sizeof *ft);
	c->fold_timer = NULL;
}
