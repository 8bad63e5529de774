/* The one place where a connection changes state (RFC 9293 §3.3.2, figure 5).
 *
 * tcp_set_state() checks the transition against the RFC's diagram, keeps the state-driven
 * counters (CurrEstab, EstabResets, AttemptFails, as Linux's tcp_set_state()/tcp_done() do),
 * emits SYNACK_TRACE_STATE and wakes the socket. */
#include "core/tcb.h"

#define S(x) SYNACK_##x
#define BIT(x) (1u << SYNACK_##x)

/* legal[from] = the states the RFC's diagram (and its text: "delete the TCB", reset and abort
 * from any state) lets a connection move to. */
static const unsigned legal[SYNACK_STATE_COUNT] = {
	[S(CLOSED)] = BIT(LISTEN) | BIT(SYN_SENT),
	[S(LISTEN)] = BIT(SYN_RECEIVED) | BIT(SYN_SENT) | BIT(CLOSED),
	[S(SYN_SENT)] = BIT(SYN_RECEIVED) | BIT(ESTABLISHED) | BIT(CLOSED),
	[S(SYN_RECEIVED)] = BIT(ESTABLISHED) | BIT(FIN_WAIT_1) | BIT(LISTEN) | BIT(CLOSED) |
			    BIT(CLOSE_WAIT),
	[S(ESTABLISHED)] = BIT(FIN_WAIT_1) | BIT(CLOSE_WAIT) | BIT(CLOSED),
	[S(FIN_WAIT_1)] = BIT(FIN_WAIT_2) | BIT(CLOSING) | BIT(TIME_WAIT) | BIT(CLOSED),
	[S(FIN_WAIT_2)] = BIT(TIME_WAIT) | BIT(CLOSED),
	[S(CLOSE_WAIT)] = BIT(LAST_ACK) | BIT(CLOSED),
	[S(CLOSING)] = BIT(TIME_WAIT) | BIT(CLOSED),
	[S(LAST_ACK)] = BIT(CLOSED),
	[S(TIME_WAIT)] = BIT(CLOSED),
};

bool tcp_transition_legal(enum synack_tcp_state from, enum synack_tcp_state to)
{
	if ((unsigned)from >= SYNACK_STATE_COUNT || (unsigned)to >= SYNACK_STATE_COUNT)
		return false;
	return (legal[from] >> to) & 1u;
}

static bool counts_as_established(enum synack_tcp_state st)
{
	return st == S(ESTABLISHED) || st == S(CLOSE_WAIT);
}

static void state_counters(struct synack_stack *s, enum synack_tcp_state from,
			   enum synack_tcp_state to)
{
	if (!counts_as_established(from) && counts_as_established(to))
		s->ctr.v[SYNACK_CTR_CurrEstab]++;
	if (counts_as_established(from) && !counts_as_established(to))
		s->ctr.v[SYNACK_CTR_CurrEstab]--;
	/* Linux: an established connection that goes straight to CLOSED was reset. */
	if (to == S(CLOSED) && counts_as_established(from))
		stack_count(s, SYNACK_CTR_EstabResets);
	/* An opening that did not complete. */
	if ((to == S(CLOSED) || to == S(LISTEN)) &&
	    (from == S(SYN_SENT) || from == S(SYN_RECEIVED)))
		stack_count(s, SYNACK_CTR_AttemptFails);
}

void tcp_set_state(struct synack_stack *s, struct synack_tcb *c, enum synack_tcp_state to)
{
	enum synack_tcp_state from = c->state;
	if (from == to)
		return;
	SYNACK_ASSERT(tcp_transition_legal(from, to));
	c->state = to;
	state_counters(s, from, to);
	if (to == S(ESTABLISHED) && c->fl->rcvq.cap)
		tcp_rcv_space_init(s, c); /* Linux's tcp_init_buffer_space: the first measurement */
	tcb_flow_arm(s, c);		  /* a state where it may fold, once quiet (tcb_flow.c) */
	stack_trace_state(s, tcb_tuple(c), from, to);
	tcp_wake(s, c);
}

uint32_t tcp_notsent(const struct synack_tcb *c)
{
	if (!c->fl)
		return 0; /* folded: nothing queued */
	uint32_t sent = c->fl->sndq.cap ? (uint32_t)seq_diff(c->snd_nxt, c->fl->snd_buf_seq) : 0;
	return c->fl->sndq.len > sent ? c->fl->sndq.len - sent : 0;
}

/* TCP_NOTSENT_LOWAT (Linux): the socket takes more data only while fewer unsent bytes than
 * the limit are queued. */
static bool below_lowat(const struct synack_tcb *c, uint32_t stack_lowat)
{
	uint32_t lowat = c->notsent_lowat ? c->notsent_lowat : stack_lowat;
	return tcp_notsent(c) < lowat;
}

unsigned tcp_events_lowat(const struct synack_tcb *c, uint32_t stack_lowat)
{
	unsigned ev = tcp_events(c);
	if ((ev & SYNACK_EV_WRITABLE) && tcp_state_can_send(c->state) && !c->fin_queued &&
	    !below_lowat(c, stack_lowat))
		ev &= ~SYNACK_EV_WRITABLE;
	return ev;
}

unsigned tcp_events(const struct synack_tcb *c)
{
	unsigned ev = 0;
	if (c->state == S(LISTEN))
		return tcb_lq(c) && tcb_lq(c)->acceptq_len ? SYNACK_EV_READABLE : 0;
	if (c->err)
		ev |= SYNACK_EV_ERROR;
	/* A folded connection (tcb_flow.c) has nothing to read, no urgent data, and all of its
	 * send buffer free. */
	const struct tcb_flow *f = c->fl;
	uint32_t rlen = f ? f->rcvq.len : 0;
	uint32_t sfree = f ? ring_free(&f->sndq) : c->sized ? c->sndbuf_size : 0;
	int urg = f ? (int)f->urg_state : URG_NONE;
	/* Linux: an out-of-band byte alone at the mark is not readable data */
	bool oob_only = rlen == 1 && tcp_at_mark(c) && !c->oobinline && urg != URG_NOTYET;
	if ((rlen && !oob_only) || c->rcvd_fin || c->shut_rd || c->err)
		ev |= SYNACK_EV_READABLE;
	if (urg == URG_VALID && !c->oobinline)
		ev |= SYNACK_EV_PRI;
	if (tcp_state_can_send(c->state) && !c->fin_queued && sfree > 0 && !c->snd_nomem)
		ev |= SYNACK_EV_WRITABLE;
	/* Linux: a deferred TCP_FASTOPEN_CONNECT is writable: its first write sends the SYN. */
	if (c->state == S(SYN_SENT) && f && f->tfo.deferred)
		ev |= SYNACK_EV_WRITABLE;
	/* Linux: after shutdown(SHUT_WR) a socket polls writable, so that the application
	 * learns EPIPE from its next write instead of waiting forever. */
	if (c->fin_queued && c->ever_connected)
		ev |= SYNACK_EV_WRITABLE;
	if (c->state == S(CLOSED)) {
		/* Linux: a closed socket is writable (the write fails at once) and hung up. */
		ev |= SYNACK_EV_HUP | SYNACK_EV_WRITABLE;
		if (c->ever_connected)
			ev |= SYNACK_EV_READABLE;
	}
	if (c->rcvd_fin && c->fin_queued)
		ev |= SYNACK_EV_HUP;
	return ev;
}

/* Readiness is recomputed and reported at the end of the current call (stack_reap), not in
 * the middle of processing: the wake callback may then call the socket API. */
void tcp_wake(struct synack_stack *s, struct synack_tcb *c)
{
	if (c->dead || c->wake_queued)
		return;
	/* The queue's link is the flow's (a folded block is never queued: tcb_flow_quiet). */
	if (!tcb_unfold(s, c))
		return;
	c->wake_queued = true;
	c->fl->wake_next = NULL;
	if (s->wake_tail)
		s->wake_tail->fl->wake_next = c;
	else
		s->wake_head = c;
	s->wake_tail = c;
}

void tcp_deliver_wake(struct synack_stack *s, struct synack_tcb *c)
{
	unsigned ev = tcp_events_lowat(c, s->cfg.notsent_lowat);
	if (ev == c->events)
		return;
	c->events = ev;
	if (c->fd >= 0 && s->cfg.wake)
		s->cfg.wake(s->cfg.wake_ctx, c->fd, ev);
	else if (c->fl->parent && c->in_acceptq)
		tcp_wake(s, c->fl->parent);
}

void tcp_done(struct synack_stack *s, struct synack_tcb *c, int err)
{
	if (err) {
		c->err = err;
		stack_trace_error(s, tcb_tuple(c), err);
	}
	tfo_child_release(s, c);
	tcp_cancel_timers(s, c);
	tcb_conntab_remove(s, c);
	tcp_set_state(s, c, S(CLOSED));
	if (c->fd < 0)
		tcb_kill(s, c);
	else
		tcp_wake(s, c);
}
