/* Connection timers, as a table of kinds (OpenBSD's tcp_timer.h: t_timer[] indexed by kind,
 * tcptimers[] names, one handler per kind). Each kind has a name and a handler in
 * tcp_timers[] below; the names are the ones synack_timer_name() returns and traces show.
 *
 *   RETRANSMIT  SYN, SYN-ACK, data, FIN (RFC 6298)
 *   PERSIST     zero-window probe (RFC 9293 §3.8.6.1); never together with RETRANSMIT:
 *               persist runs only when nothing is in flight, arming one disarms the other
 *   KEEPALIVE   RFC 1122 §4.2.3.6
 *   TIME_WAIT   2*MSL (RFC 9293 §3.6)
 *   FIN_WAIT_2  an orphan's timeout (Linux's tcp_fin_timeout); TIME_WAIT replaces it
 *   DELACK      the delayed ACK (tcp_delack.c): in-sequence data not yet acknowledged
 *   TLP         tail loss probe (RFC 8985 §7), armed before the RTO while data is in flight
 *
 * A tcb keeps one absolute deadline per kind (timer_at[], TCP_TIMER_OFF when disarmed) and
 * ONE wheel entry, armed at the earliest of them, both in its flow (c->fl); a folded
 * connection that keeps a timer has a small entry of its own instead (tcb_flow.c), tagged
 * TCP_FOLD_TIMER_KIND + the kept kind. The owner of a fired entry is the flow that embeds it
 * (its conn) or the folded entry's c, and the kind is the index of the earliest due deadline,
 * so a kind can never be run against the wrong slot. One entry per connection
 * instead of one per kind keeps the tcb small (6 deadlines + 1 entry = 80 bytes, against 96
 * for the three shared entries before and 192 for an entry per kind) for the million
 * connections of a later issue. Several kinds due at once fire one per wheel pop, earliest
 * first (ties: lowest kind first), re-arming the entry at the next deadline in between, so
 * they interleave with other connections' timers in deadline order as separate entries did.
 *
 * RTO (RFC 6298 §2): the first sample R sets SRTT = R, RTTVAR = R/2; later ones
 *   RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R|,  SRTT = 7/8 SRTT + 1/8 R;
 * RTO = SRTT + max(G, 4 RTTVAR) with G = 1 ms (the wheel's resolution), kept within
 * [rto_min, rto_max]; "the host MUST set RTO <- RTO * 2 ('back off the timer')" on expiry. */
#include <errno.h>

#include "core/tcb.h"
#include "core/tcp_req.h"

static uint64_t ms_to_us(uint64_t ms) { return ms * 1000u; }

static uint32_t rto_clamp(const struct synack_stack *s, uint64_t rto_us)
{
	uint64_t lo = ms_to_us(s->cfg.rto_min_ms), hi = ms_to_us(s->cfg.rto_max_ms);
	if (rto_us < lo)
		rto_us = lo;
	if (rto_us > hi)
		rto_us = hi;
	return (uint32_t)rto_us;
}

void tcp_rtt_sample(struct synack_stack *s, struct synack_tcb *c, uint64_t rtt_us)
{
	/* A sample over 10 minutes says nothing more (and keeps the sums below in range). */
	uint32_t r = rtt_us > 600000000u ? 600000000u : (uint32_t)rtt_us;
	if (!c->rtt_valid) {
		c->srtt_us = r;
		c->rttvar_us = r / 2;
		c->rtt_valid = true;
	} else {
		uint32_t delta = c->srtt_us > r ? c->srtt_us - r : r - c->srtt_us;
		c->rttvar_us = (3 * c->rttvar_us + delta) / 4;
		c->srtt_us = (7 * (uint64_t)c->srtt_us + r) / 8;
	}
	uint64_t k = 4 * (uint64_t)c->rttvar_us;
	c->rto_us = rto_clamp(s, c->srtt_us + (k > 1000 ? k : 1000));
	if (!c->fl->rack.min_rtt_us ||
	    r < c->fl->rack.min_rtt_us) /* RACK's min_RTT (Linux: all samples) */
		c->fl->rack.min_rtt_us = r ? r : 1;
}

/* TCP_USER_TIMEOUT (RFC 5482 §3, with Linux's semantics): once data has been retransmitted,
 * the connection is given up when it has waited user_timeout since that data was first sent —
 * instead of after retries2 retransmissions. */
static uint64_t user_deadline(const struct synack_tcb *c)
{
	return c->fl->rtx_start_us + (uint64_t)c->user_timeout_ms * 1000u;
}

static bool user_timeout_expired(const struct synack_stack *s, const struct synack_tcb *c)
{
	return c->user_timeout_ms && c->fl->retries > 0 && s->now_us >= user_deadline(c);
}

static void timer_sync(struct synack_stack *s, struct synack_tcb *c)
{
	uint64_t first = TCP_TIMER_OFF;
	for (unsigned k = 0; k < TCP_TIMER_KINDS; k++)
		if (c->fl->timer_at[k] < first)
			first = c->fl->timer_at[k];
	struct synack_timer *t = &c->fl->timer;
	if (first == TCP_TIMER_OFF)
		synack_wheel_cancel(&s->wheel, t);
	else if (!synack_timer_armed(t) || t->deadline_us != first)
		synack_wheel_arm(&s->wheel, t, first);
}

void tcp_timers_init(struct synack_tcb *c)
{
	for (unsigned k = 0; k < TCP_TIMER_KINDS; k++)
		c->fl->timer_at[k] = TCP_TIMER_OFF;
	c->fl->timer.kind = SYNACK_TIMER_COUNT; /* the entry stands for every kind */
}

void tcp_timer_arm(struct synack_stack *s, struct synack_tcb *c, enum synack_timer_kind k,
		   uint64_t at_us)
{
	SYNACK_ASSERT(tcp_timer_has_handler(k));
	SYNACK_ASSERT(at_us != TCP_TIMER_OFF);
	c->fl->timer_at[k] = at_us;
	timer_sync(s, c);
}

void tcp_timer_cancel(struct synack_stack *s, struct synack_tcb *c, enum synack_timer_kind k)
{
	if (c->fl->timer_at[k] == TCP_TIMER_OFF)
		return;
	c->fl->timer_at[k] = TCP_TIMER_OFF;
	timer_sync(s, c);
}

void tcp_cancel_rtx(struct synack_stack *s, struct synack_tcb *c)
{
	c->fl->timer_at[SYNACK_TIMER_TLP] = TCP_TIMER_OFF;
	c->fl->timer_at[SYNACK_TIMER_REO] = TCP_TIMER_OFF;
	c->fl->timer_at[SYNACK_TIMER_RETRANSMIT] = TCP_TIMER_OFF;
	c->fl->timer_at[SYNACK_TIMER_PERSIST] = TCP_TIMER_OFF;
	timer_sync(s, c);
}

void tcp_arm_rtx(struct synack_stack *s, struct synack_tcb *c)
{
	uint64_t at = s->now_us + c->rto_us;
	/* Linux (tcp_clamp_rto_to_user_timeout): the timer fires no later than the user
	 * timeout, so the connection is given up on time. */
	if (c->user_timeout_ms && c->fl->retries > 0 && user_deadline(c) < at)
		at = user_deadline(c) > s->now_us ? user_deadline(c) : s->now_us;
	c->fl->timer_at[SYNACK_TIMER_PERSIST] = TCP_TIMER_OFF;
	tcp_timer_arm(s, c, SYNACK_TIMER_RETRANSMIT, at);
}

void tcp_arm_persist(struct synack_stack *s, struct synack_tcb *c)
{
	uint32_t shift = c->fl->retries < 16 ? c->fl->retries : 16;
	c->fl->timer_at[SYNACK_TIMER_RETRANSMIT] = TCP_TIMER_OFF;
	tcp_timer_arm(s, c, SYNACK_TIMER_PERSIST,
		      s->now_us + rto_clamp(s, (uint64_t)c->rto_us << shift));
}

void tcp_arm_tlp(struct synack_stack *s, struct synack_tcb *c)
{
	bool ok = c->sack_ok && c->rtt_valid && tcp_state_transmits(c->state) && c->fl->sndq.cap &&
		  !c->in_recovery && !c->rtx_pending && !c->tlp_out && c->snd_una != c->fl->snd_max &&
		  c->fl->retries == 0 && tcp_timer_armed(c, SYNACK_TIMER_RETRANSMIT) &&
		  c->fl->dupacks == 0 && c->fl->sacked.n == 0; /* Linux: only in the Open state */
	if (!ok) {
		tcp_timer_cancel(s, c, SYNACK_TIMER_TLP);
		return;
	}
	/* "PTO = 2 * SRTT; if FlightSize is one segment, PTO += WCDelAckT" (200 ms); "PTO =
	 * min(RTO, PTO)" — the probe must come before the timeout. */
	uint64_t pto = 2 * (uint64_t)c->srtt_us;
	if (seq_diff(c->fl->snd_max, c->snd_una) <= c->snd_mss)
		pto += 200000u;
	uint64_t at = s->now_us + pto;
	if (at >= c->fl->timer_at[SYNACK_TIMER_RETRANSMIT]) {
		tcp_timer_cancel(s, c, SYNACK_TIMER_TLP);
		return;
	}
	tcp_timer_arm(s, c, SYNACK_TIMER_TLP, at);
}

void tcp_arm_keepalive(struct synack_stack *s, struct synack_tcb *c)
{
	if (!c->keepalive) {
		tcp_timer_cancel(s, c, SYNACK_TIMER_KEEPALIVE);
		return;
	}
	tcp_timer_arm(s, c, SYNACK_TIMER_KEEPALIVE,
		      c->last_rx_us + (uint64_t)c->keep_idle_s * 1000000u);
}

/* TIME_WAIT and FIN_WAIT_2 share the close of a connection: arming one disarms the other. */
void tcp_arm_close(struct synack_stack *s, struct synack_tcb *c, enum synack_timer_kind k,
		   uint64_t after_us)
{
	SYNACK_ASSERT(k == SYNACK_TIMER_TIME_WAIT || k == SYNACK_TIMER_FIN_WAIT_2);
	c->fl->timer_at[SYNACK_TIMER_TIME_WAIT] = TCP_TIMER_OFF;
	c->fl->timer_at[SYNACK_TIMER_FIN_WAIT_2] = TCP_TIMER_OFF;
	tcp_timer_arm(s, c, k, s->now_us + after_us);
}

void tcp_cancel_timers(struct synack_stack *s, struct synack_tcb *c)
{
	if (c->fl) {
		tcp_timers_init(c);
		synack_wheel_cancel(&s->wheel, &c->fl->timer);
	}
	tcb_fold_timer_free(s, c);
}

void tcp_enter_time_wait(struct synack_stack *s, struct synack_tcb *c)
{
	if (c->state == SYNACK_TIME_WAIT) {
		if (c->fd < 0)
			tcb_free_buffers(s, c);
		c->fl->timer_at[SYNACK_TIMER_RETRANSMIT] = TCP_TIMER_OFF;
		c->fl->timer_at[SYNACK_TIMER_PERSIST] = TCP_TIMER_OFF;
		c->fl->timer_at[SYNACK_TIMER_KEEPALIVE] = TCP_TIMER_OFF;
		tcp_arm_close(s, c, SYNACK_TIMER_TIME_WAIT, 2 * ms_to_us(s->cfg.msl_ms));
		return;
	}
	/* FIN-WAIT-2: only an orphan times out; after shutdown(WR) the user still reads. */
	if (c->state == SYNACK_FIN_WAIT_2 && c->orphan)
		tcp_arm_close(s, c, SYNACK_TIMER_FIN_WAIT_2, ms_to_us(s->cfg.fin_timeout_ms));
}

static void backoff(struct synack_stack *s, struct synack_tcb *c)
{
	c->fl->retries++;
	c->rto_us = rto_clamp(s, 2 * (uint64_t)c->rto_us);
}

/* The error a timeout reports: the last ICMP soft error if there was one (RFC 1122
 * §4.2.3.9, and Linux's sk_err_soft), else ETIMEDOUT. */
static int timeout_err(const struct synack_tcb *c)
{
	return c->soft_err ? c->soft_err : -ETIMEDOUT;
}

/* SYN or SYN-ACK timed out: retry, or give up after syn_retries / synack_retries. */
static void rtx_opening(struct synack_stack *s, struct synack_tcb *c)
{
	uint32_t max = c->state == SYNACK_SYN_SENT || !c->passive ? s->cfg.syn_retries
								  : s->cfg.synack_retries;
	if (c->fl->retries >= max) {
		/* A half-open passive entry just goes away; an active open fails, and so does
		 * an accepted Fast Open connection whose handshake never completed. */
		tcp_done(s, c, c->passive && c->fd < 0 ? 0 : timeout_err(c));
		return;
	}
	stack_count(s, SYNACK_CTR_TCPTimeouts);
	backoff(s, c);
	tcp_send_syn(s, c, true);
}

/* Data or FIN timed out (RFC 6298 §5.4–5.6, RFC 5681 §3.1 eq. 4): retransmit the earliest
 * unacknowledged segment, back off, and restart from one segment of window. */
static void rtx_data(struct synack_stack *s, struct synack_tcb *c)
{
	if (c->snd_una == c->fl->snd_max)
		return;
	if (c->fl->retries == 0) /* the timer was armed when this data went out */
		c->fl->rtx_start_us = s->now_us - c->rto_us;
	bool give_up =
		c->user_timeout_ms ? user_timeout_expired(s, c) : c->fl->retries >= s->cfg.retries2;
	if (give_up) {
		stack_count(s, SYNACK_CTR_TCPAbortOnTimeout);
		tcp_done(s, c, timeout_err(c));
		return;
	}
	stack_count(s, SYNACK_CTR_TCPTimeouts);
	uint32_t flight = (uint32_t)seq_diff(c->fl->snd_max, c->snd_una);
	/* As Linux's tcp_enter_loss: ssthresh is set by the first timeout of an episode only;
	 * a backed-off one finds cwnd already at one segment and must not halve ssthresh
	 * again (the flight then is the same data, sent once more). */
	tcp_cc_env(s, c, 0);
	c->fl->frto = 0;
	if (c->fl->retries == 0 && !c->frto_loss && !c->in_recovery) {
		tcp_undo_init(c); /* a first timeout may prove spurious (tcp_ack.c) */
		c->fl->frto = s->cfg.frto ? 1 : 0; /* RFC 5682: watch the next two ACKs */
	} else if (c->fl->retries == 0) {
		c->undo_on = false; /* an episode already under way: nothing to go back to */
	}
	c->frto_loss = true;
	c->fl->recover = c->fl->snd_max;
	/* Linux's tcp_enter_loss: everything not SACKed is lost (RACK's log). */
	rack_mark_lost(c, c->fl->snd_max, true);
	tcp_timer_cancel(s, c, SYNACK_TIMER_REO);
	if (c->fl->retries == 0)
		c->fl->cc.ops->on_rto(&c->fl->cc, c->snd_mss, flight);
	else
		c->fl->cc.cwnd = c->snd_mss;
	c->fl->dupacks = 0;
	c->in_recovery = false;
	c->tlp_out = false;
	c->fl->lost_mark = c->snd_una;
	tcp_timer_cancel(s, c, SYNACK_TIMER_TLP);
	backoff(s, c);
	if (c->fl->retries >= 2)
		sack_clear(s, c); /* the peer may have reneged on what it SACKed (RFC 2018 §8) */
	/* Go back: after the first segment, the rest follows again as the window opens. */
	c->fl->snd_rtx = tcp_retransmit_head(s, c);
	c->rtx_pending = seq_lt(c->fl->snd_rtx, c->snd_nxt);
	tcp_arm_rtx(s, c);
}

/* The persist timer (Linux's tcp_probe_timer). A window too small for tcp_output (sender SWS
 * avoidance, RFC 9293 §3.8.6.2.1's "override timeout") gets what fits. A zero window gets a
 * probe: an ACK below the window that makes the peer announce its window again. RFC 1122
 * §4.2.2.17 (MUST-37): the window may stay zero indefinitely "as long as the receiving TCP
 * continues to send acknowledgments in response to the probe segments", so only probes_out,
 * the probes since the peer last answered (reset by every acceptable ACK, as Linux's
 * icsk_probes_out), counts toward retries2; the interval keeps backing off either way. */
static void on_persist(struct synack_stack *s, struct synack_tcb *c)
{
	if (tcp_output_probe(s, c))
		return;
	if (!tcp_send_pending(c) || c->snd_una != c->fl->snd_max)
		return;
	if (c->fl->probes_out >= s->cfg.retries2) {
		stack_count(s, SYNACK_CTR_TCPAbortOnTimeout);
		tcp_done(s, c, -ETIMEDOUT);
		return;
	}
	tcp_send_probe(s, c, c->snd_una - 1);
	c->fl->probes_out++;
	c->fl->retries++;
	tcp_arm_persist(s, c);
}

/* RFC 8985 §7.3: the probe is a segment of new data if the peer's window allows, else the
 * most recently sent segment again; then the RTO is restarted. */
static void on_tlp(struct synack_stack *s, struct synack_tcb *c)
{
	if (c->in_recovery || c->rtx_pending || c->tlp_out || c->snd_una == c->fl->snd_max ||
	    !tcp_state_transmits(c->state) || c->fl->dupacks || c->fl->sacked.n)
		return;
	c->tlp_out = true;
	c->fl->tlp_seq = c->snd_nxt;
	if (!tcp_output_one(s, c)) {
		seq_t data_end = seq_add(c->fl->snd_buf_seq, c->fl->sndq.len);
		uint32_t n = (uint32_t)seq_diff(data_end, c->snd_una);
		n = n < c->snd_mss ? n : c->snd_mss;
		c->fl->tlp_seq = data_end - n;
		tcp_retransmit_at(s, c, c->fl->tlp_seq, n ? n : 1);
	}
	tcp_arm_rtx(s, c);
}

/* RFC 8985 §6.3: the reordering window of data sent before the latest delivered ran out. */
static void on_reo(struct synack_stack *s, struct synack_tcb *c)
{
	if (!tcp_state_transmits(c->state) || c->snd_una == c->fl->snd_max)
		return;
	bool was = c->in_recovery;
	tcp_rack_check(s, c);
	if (was && c->in_recovery)
		sack_recovery_send(s, c);
}

/* RFC 1122 §4.2.3.6 with Linux's timing: after keep_idle_s of silence a probe, then one each
 * keep_intvl_s; keep_cnt unanswered probes end the connection (Linux sends a RST first). */
static void on_keepalive(struct synack_stack *s, struct synack_tcb *c)
{
	if (!c->keepalive || !tcp_state_synchronized(c->state) || c->state == SYNACK_TIME_WAIT)
		return;
	uint64_t idle_us = (uint64_t)c->keep_idle_s * 1000000u;
	if (c->snd_una != c->fl->snd_max || c->fl->sndq.len > 0) {
		/* Linux: no probes while data is outstanding; look again after another idle. */
		tcp_timer_arm(s, c, SYNACK_TIMER_KEEPALIVE, s->now_us + idle_us);
		return;
	}
	if (c->keep_probes == 0 && s->now_us - c->last_rx_us < idle_us) {
		tcp_arm_keepalive(s, c); /* the peer spoke since: not idle long enough yet */
		return;
	}
	stack_trace_timer(s, tcb_tuple(c), SYNACK_TIMER_KEEPALIVE);
	/* Linux: with TCP_USER_TIMEOUT, unanswered probes end the connection once the peer has
	 * been silent that long, whatever keep_cnt says. */
	bool silent = c->user_timeout_ms
			      ? c->keep_probes > 0 &&
					s->now_us - c->last_rx_us >= (uint64_t)c->user_timeout_ms * 1000u
			      : c->keep_probes >= c->keep_cnt;
	if (silent) {
		tcp_send_reset(s, c);
		tcp_done(s, c, -ETIMEDOUT);
		return;
	}
	/* "the probe ... with SEG.SEQ = SND.NXT-1" (RFC 1122 §4.2.3.6). */
	tcp_send_probe(s, c, c->snd_nxt - 1);
	if (c->keep_probes < UINT8_MAX) /* past keep_cnt (<= 127) only with TCP_USER_TIMEOUT */
		c->keep_probes++;
	stack_count(s, SYNACK_CTR_TCPKeepAlive);
	tcp_timer_arm(s, c, SYNACK_TIMER_KEEPALIVE,
		      s->now_us + (uint64_t)c->keep_intvl_s * 1000000u);
}

/* RETRANSMIT: the opening handshake's retries, or data. */
static void on_retransmit(struct synack_stack *s, struct synack_tcb *c)
{
	if (c->state == SYNACK_SYN_SENT || c->state == SYNACK_SYN_RECEIVED)
		rtx_opening(s, c);
	else
		rtx_data(s, c);
}

static void on_time_wait(struct synack_stack *s, struct synack_tcb *c)
{
	stack_count(s, SYNACK_CTR_TW);
	tcp_done(s, c, 0);
}

static void on_fin_wait_2(struct synack_stack *s, struct synack_tcb *c) { tcp_done(s, c, 0); }

/* The table of kinds. `traced`: the firing is traced before the handler runs; the keepalive
 * timer is re-armed lazily (not on every segment) and traces itself only when it acts. */
static const struct {
	const char *name;
	void (*fire)(struct synack_stack *s, struct synack_tcb *c);
	bool traced;
} tcp_timers[TCP_TIMER_KINDS] = {
	[SYNACK_TIMER_RETRANSMIT] = {"retransmit", on_retransmit, true},
	[SYNACK_TIMER_PERSIST] = {"persist", on_persist, true},
	[SYNACK_TIMER_KEEPALIVE] = {"keepalive", on_keepalive, false},
	[SYNACK_TIMER_TIME_WAIT] = {"time-wait", on_time_wait, true},
	[SYNACK_TIMER_FIN_WAIT_2] = {"fin-wait-2", on_fin_wait_2, true},
	[SYNACK_TIMER_DELACK] = {"delack", tcp_on_delack, true},
	[SYNACK_TIMER_TLP] = {"tlp", on_tlp, true},
	[SYNACK_TIMER_REO] = {"rack", on_reo, true},
	[TCP_TIMER_FOLD] = {"fold", tcb_flow_on_fold_timer, false},
};

bool tcp_timer_has_handler(enum synack_timer_kind k)
{
	return (unsigned)k < TCP_TIMER_KINDS && tcp_timers[k].fire != NULL;
}

const char *synack_timer_name(enum synack_timer_kind k)
{
	return (unsigned)k < SYNACK_TIMER_COUNT && tcp_timers[k].name ? tcp_timers[k].name : "?";
}

/* The earliest due kind (ties: the lowest), or TCP_TIMER_KINDS when none is due. */
static unsigned timer_due(const struct synack_tcb *c, uint64_t now_us)
{
	const uint64_t *at = c->fl->timer_at;
	unsigned due = TCP_TIMER_KINDS;
	for (unsigned k = 0; k < TCP_TIMER_KINDS; k++)
		if (at[k] <= now_us && (due == TCP_TIMER_KINDS || at[k] < at[due]))
			due = k;
	return due;
}

void tcp_timer_fire(struct synack_stack *s, struct synack_timer *t)
{
	if (t->kind == TCP_REQ_TIMER_KIND) {
		req_timer_fire(s, t);
		return;
	}
	/* The flow's entry, or a folded connection's (tcb_flow.c), which the unfold gives back. */
	struct synack_tcb *c = t->kind >= TCP_FOLD_TIMER_KIND
				       ? SYNACK_container_of(t, struct tcb_fold_timer, t)->c
				       : SYNACK_container_of(t, struct tcb_flow, timer)->conn;
	if (!tcb_unfold(s, c)) {
		/* No memory for the flow: the folded entry (its kind kept) tries again later. */
		synack_wheel_arm(&s->wheel, t, s->now_us + 200000u);
		return;
	}
	unsigned k = timer_due(c, s->now_us);
	SYNACK_ASSERT(k < TCP_TIMER_KINDS); /* the entry sits at the earliest deadline */
	if (k == TCP_TIMER_KINDS)
		return;
	c->fl->timer_at[k] = TCP_TIMER_OFF;
	timer_sync(s, c); /* the next kind's deadline, before the handler may re-arm */
	if (c->dead)
		return;
	if (tcp_timers[k].traced)
		stack_trace_timer(s, tcb_tuple(c), (enum synack_timer_kind)k);
	tcp_timers[k].fire(s, c);
}
