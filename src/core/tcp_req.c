/* SYN-RECEIVED as a compact request entry (RFC 9293 §3.10.7.2; Linux's request_sock).
 *
 * A passive open makes its connection block as before: the SYN goes through input_listen(),
 * the block enters SYN-RECEIVED and sends the SYN-ACK. At the end of the call (stack_reap) a
 * block that holds nothing but that — no buffers, no data, no ACK taken, only the
 * retransmission timer armed — is put to sleep: what it needs is copied into a request entry
 * (104 bytes for IPv4, 128 for IPv6, whose tuple is 24 bytes longer) that takes its place in
 * the connection table (kind CONNTAB_KIND_REQ) and in its listener's SYN queue (counted in
 * synq_len), and the block is freed without a trace.
 *
 * Whatever happens to the entry wakes it first: a segment for its tuple, its retransmission
 * deadline, an ICMP error. req_wake() makes the block again from the listener and the entry
 * (the SYN is rebuilt from what the entry kept, as the cookie path rebuilds it) exactly as it
 * was, and the block's own code handles the event as it always did: a retransmitted SYN-ACK,
 * RST in SYN-RECEIVED, the final ACK, data on it. At the end of that call it goes to sleep
 * again if it is still only waiting. So the request keeps every behaviour of the block; only
 * the memory between events changes. Listener options are taken when the block is made again
 * (as Linux takes them from the listener when the final ACK creates the child).
 *
 * Not put to sleep: Fast Open children (a socket at once, as Linux), SYNs with data (their
 * data waits in buffers), simultaneous opens (not passive), and blocks that did anything but
 * wait.
 *
 * The entry is reached two ways only: by its tuple (the table) and by its deadline (the
 * wheel, whose entry leads the struct). A listener does not list its entries, which would
 * cost 16 bytes of links in each: it counts them (tcb_listen.nreqs) and, the two times it
 * needs them — its close (req_kill_all) and ss (req_foreach) — walks the connection table for
 * the entries that name it. */
#include <stddef.h>
#include <string.h>

#include "core/tcp_req.h"

#define REQ_WS_OK 0x01u
#define REQ_TS_OK 0x02u
#define REQ_SACK_OK 0x04u
#define REQ_ECN_OK 0x08u
#define REQ_TFO_COOKIE 0x10u
#define REQ_TFO_COOKIE_EXP 0x20u
#define REQ_RTT_TIMING 0x40u

_Static_assert(sizeof(struct tcp_req4) == 104, "an IPv4 request entry is 104 bytes");
_Static_assert(sizeof(struct tcp_req6) <= 128, "an IPv6 request entry is at most 128 bytes");
/* The table finds the key right after the node header. */
_Static_assert(offsetof(struct tcp_req4, key) == sizeof(struct tcp_req) &&
		       offsetof(struct tcp_req6, key) == sizeof(struct tcp_req) &&
		       offsetof(struct tcp_req, h) + sizeof(struct synack_conntab_hdr) ==
			       sizeof(struct tcp_req),
	       "a request's key follows its node header");

static struct tcp_req *req_of(struct synack_conntab_hdr *n)
{
	return SYNACK_container_of(n, struct tcp_req, h);
}

static bool req_v4(const struct tcp_req *r)
{
	return (r->h.flags & SYNACK_CONNTAB_KEY4) != 0;
}

static size_t req_size(const struct tcp_req *r)
{
	return req_v4(r) ? sizeof(struct tcp_req4) : sizeof(struct tcp_req6);
}

static struct req_tail *tail_of(struct tcp_req *r)
{
	if (req_v4(r))
		return &SYNACK_container_of(r, struct tcp_req4, r)->t;
	return &SYNACK_container_of(r, struct tcp_req6, r)->t;
}

/* Only the retransmission timer is armed. */
static bool only_rtx_armed(const struct synack_tcb *c)
{
	for (unsigned k = 0; k < SYNACK_TIMER_COUNT; k++)
		if ((k == SYNACK_TIMER_RETRANSMIT) != tcp_timer_armed(c, (enum synack_timer_kind)k))
			return false;
	return true;
}

/* A ring as a new block has it: no chunk, nothing queued, no size yet. */
static bool ring_untouched(const struct synack_ring *r)
{
	return !r->first && !r->last && !r->cur && r->head == 0 && r->len == 0 && r->cap == 0 &&
	       r->hi == 0 && r->nchunks == 0;
}

/* Is c a passive child that has done nothing but send its SYN-ACK (and retransmit it)? */
static bool sleepy(const struct synack_tcb *c)
{
	seq_t iss1 = seq_add(c->iss, 1);
	return !c->dead && c->state == SYNACK_SYN_RECEIVED && c->passive && c->fd < 0 &&
	       c->fl->parent && !c->in_acceptq && c->in_conntab && !c->fl->tfo.child && !c->syn_text &&
	       ring_untouched(&c->fl->sndq) && ring_untouched(&c->fl->rcvq) && !c->fl->ooo.r && !c->fl->sacked.r &&
	       !c->fl->eor && !tcb_lq(c) && !c->fl->rack.seg && c->fl->rack.n == 0 && !c->fl->rack.valid &&
	       !c->undo_on && !c->frto_loss && c->fl->rcvq_space == 0 && c->fl->rcv_rtt_us == 0 &&
	       only_rtx_armed(c) && c->snd_una == c->iss &&
	       c->snd_nxt == iss1 && c->fl->snd_max == iss1 && c->fl->snd_sml == c->iss &&
	       c->rcv_nxt == seq_add(c->irs, 1) && c->fl->rcv_wup == c->rcv_nxt && c->rcv_wnd == 0 &&
	       c->snd_wl1 == c->irs && c->snd_wl2 == c->iss && c->snd_wnd <= 65535 &&
	       c->max_snd_wnd == c->snd_wnd && seq_diff(c->rcv_adv, c->rcv_nxt) >= 0 &&
	       seq_diff(c->rcv_adv, c->rcv_nxt) <= 65535 && c->fl->retries <= 255 &&
	       c->total_retrans <= 255 && (!c->rtt_timing || c->fl->rtt_seq == c->iss) &&
	       c->err == 0 && c->soft_err == 0 && c->fl->chal_limit == 0 && !c->rcvd_fin &&
	       !c->fin_queued && !c->dsack && !c->rtx_pending && !c->reset && !c->shut_rd &&
	       c->fl->urg_state == URG_NONE && !c->ece_pending && !c->cwr_pending && !c->in_cwr &&
	       !c->ack_pending && c->fl->ato_us == 0 && c->fl->dupacks == 0 && c->fl->probes_out == 0 &&
	       c->keep_probes == 0 && !c->wake_queued && c->snd_mss == (uint16_t)c->snd_mss;
}

/* A new entry of the size its tuple needs, the key set; NULL when memory ran out. */
static struct tcp_req *req_new(struct synack_stack *s, const struct synack_tuple *key)
{
	bool v4 = synack_tuple_is_v4(key);
	size_t size = v4 ? sizeof(struct tcp_req4) : sizeof(struct tcp_req6);
	struct tcp_req *r = stack_alloc(s, size);
	if (!r)
		return NULL;
	memset(r, 0, size);
	r->h.kind = CONNTAB_KIND_REQ;
	if (v4) {
		r->h.flags = SYNACK_CONNTAB_KEY4;
		synack_tuple4_from(&SYNACK_container_of(r, struct tcp_req4, r)->key, key);
	} else {
		SYNACK_container_of(r, struct tcp_req6, r)->key = *key;
	}
	return r;
}

bool req_sleep(struct synack_stack *s, struct synack_tcb *c)
{
	if (!sleepy(c))
		return false;
	struct tcp_req *r = req_new(s, tcb_tuple(c));
	if (!r)
		return false; /* it stays a block */
	r->h.owner[0] = (uint8_t)((c->ws_ok ? REQ_WS_OK : 0) | (c->ts_ok ? REQ_TS_OK : 0) |
				  (c->sack_ok ? REQ_SACK_OK : 0) | (c->ecn_ok ? REQ_ECN_OK : 0) |
				  (c->fl->tfo.send_cookie ? REQ_TFO_COOKIE : 0) |
				  (c->fl->tfo.cookie_exp ? REQ_TFO_COOKIE_EXP : 0) |
				  (c->rtt_timing ? REQ_RTT_TIMING : 0));
	r->h.owner[1] = (uint8_t)(c->rcv_wscale | c->snd_wscale << 4);
	struct req_tail *t = tail_of(r);
	t->iss = c->iss;
	t->irs = c->irs;
	t->ts_recent = c->ts_recent;
	t->ts_offset = c->ts_offset;
	t->rto_us = c->rto_us;
	t->sent_lo = (uint32_t)c->fl->rtt_start_us;
	t->snd_wnd = (uint16_t)c->snd_wnd;
	t->rcv_mss = c->rcv_mss;
	t->snd_mss = c->snd_mss;
	t->win_sent = (uint16_t)seq_diff(c->rcv_adv, c->rcv_nxt);
	t->retries = (uint8_t)c->fl->retries;
	t->total_retrans = (uint8_t)c->total_retrans;
	r->listener = c->fl->parent;
	uint64_t at = c->fl->timer_at[SYNACK_TIMER_RETRANSMIT];
	struct tcb_listen *lq = tcb_lq(c->fl->parent);
	tcb_conntab_remove(s, c);
	tcb_kill(s, c); /* out of the SYN queue, freed at the end of this call */
	s->nobjs++;     /* the entry takes the block's place among the stack's objects */
	synack_conntab_insert(&s->conns, &r->h); /* the block's tuple: cannot collide */
	lq->nreqs++;
	lq->synq_len++;
	r->timer.kind = TCP_REQ_TIMER_KIND;
	synack_wheel_arm(&s->wheel, &r->timer, at);
	return true;
}

/* Frees r, which is out of the table already. */
static void req_free(struct synack_stack *s, struct tcp_req *r)
{
	synack_wheel_cancel(&s->wheel, &r->timer);
	tcb_lq(r->listener)->nreqs--;
	tcb_lq(r->listener)->synq_len--;
	s->nobjs--;
	stack_free(s, r, req_size(r));
}

/* The block of r as it was when it went to sleep (c has the defaults of a new block). */
static void req_fill(struct synack_stack *s, struct tcp_req *r, struct synack_tcb *c)
{
	uint8_t f = r->h.owner[0];
	const struct req_tail *t = tail_of(r);
	struct synack_tcp_seg syn;
	memset(&syn, 0, sizeof syn);
	syn.seq = t->irs;
	syn.flags = SYNACK_TH_SYN;
	syn.win = t->snd_wnd;
	struct rx rx;
	memset(&rx, 0, sizeof rx);
	rx.seg = &syn;
	synack_conntab_key(&r->h, &rx.t);
	c->ts_offset = t->ts_offset;
	tcp_child_init(s, r->listener, c, &rx);
	/* What the SYN negotiated then, whatever the listener or the stack says now. */
	c->ws_ok = (f & REQ_WS_OK) != 0;
	c->ts_ok = (f & REQ_TS_OK) != 0;
	c->sack_ok = (f & REQ_SACK_OK) != 0;
	c->ecn_ok = (f & REQ_ECN_OK) != 0;
	c->rcv_wscale = r->h.owner[1] & 15;
	c->snd_wscale = r->h.owner[1] >> 4;
	c->ts_recent = t->ts_recent;
	c->rcv_mss = t->rcv_mss;
	c->snd_mss = t->snd_mss;
	c->fl->cc.ops->init(&c->fl->cc, c->snd_mss, s->cfg.init_cwnd_segs * (uint32_t)c->snd_mss);
	c->iss = c->snd_una = c->fl->snd_sml = c->snd_wl2 = c->fl->cc_round_end = c->fl->lost_mark = t->iss;
	c->snd_nxt = c->fl->snd_max = c->fl->snd_buf_seq = seq_add(t->iss, 1);
	/* What sending the SYN-ACK (tcp_send_syn) left. */
	c->fl->rcv_wup = c->rcv_nxt;
	c->rcv_adv = seq_add(c->rcv_nxt, t->win_sent);
	c->rtt_timing = (f & REQ_RTT_TIMING) != 0;
	c->fl->rtt_seq = t->iss;
	c->fl->rtt_start_us = s->now_us - (uint32_t)((uint32_t)s->now_us - t->sent_lo);
	c->rto_us = t->rto_us;
	c->fl->retries = t->retries;
	c->total_retrans = t->total_retrans;
	c->fl->tfo.send_cookie = (f & REQ_TFO_COOKIE) != 0;
	c->fl->tfo.cookie_exp = (f & REQ_TFO_COOKIE_EXP) != 0;
	c->passive = true;
	c->fl->parent = r->listener;
	c->state = SYNACK_SYN_RECEIVED;
}

struct synack_tcb *req_wake(struct synack_stack *s, struct synack_conntab_hdr *n)
{
	struct tcp_req *r = req_of(n);
	struct synack_tcb *l = r->listener;
	/* The block takes the entry's place: it must not count twice against max_sockets, nor
	 * draw a timestamp offset the first block did not. */
	s->nobjs--;
	struct synack_rng rng = s->rng;
	struct synack_tcb *c = tcb_new(s);
	s->rng = rng;
	if (!c) {
		s->nobjs++;
		return NULL; /* the entry stays as it is */
	}
	synack_conntab_remove(&s->conns, n);
	req_fill(s, r, c);
	uint64_t at = r->timer.deadline_us;
	synack_wheel_cancel(&s->wheel, &r->timer);
	tcb_lq(l)->nreqs--;
	tcb_lq(l)->synq_len--;
	stack_free(s, r, req_size(r));
	if (tcb_conntab_insert(s, c) < 0)
		SYNACK_ASSERT(0); /* the entry's tuple */
	c->fl->q_prev = NULL;
	c->fl->q_next = tcb_lq(l)->synq;
	if (tcb_lq(l)->synq)
		tcb_lq(l)->synq->fl->q_prev = c;
	tcb_lq(l)->synq = c;
	tcb_lq(l)->synq_len++;
	tcp_timer_arm(s, c, SYNACK_TIMER_RETRANSMIT, at);
	c->events = tcp_events_lowat(c, s->cfg.notsent_lowat);
	tcp_wake(s, c); /* looked at again at the end of the call: back to sleep if it can */
	return c;
}

struct synack_tcb *tcb_of_node_wake(struct synack_stack *s, struct synack_conntab_hdr *n)
{
	if (n && n->kind == CONNTAB_KIND_REQ)
		return req_wake(s, n);
	struct synack_tcb *c = tcb_of_node(n);
	return c && tcb_unfold(s, c) ? c : NULL;
}

void req_timer_fire(struct synack_stack *s, struct synack_timer *t)
{
	struct tcp_req *r = SYNACK_container_of(t, struct tcp_req, timer);
	/* The block's timer is armed at the same (due) deadline: the wheel hands it out next.
	 * Without memory for the block the half-open entry goes (the peer may send its SYN
	 * again). */
	if (!req_wake(s, &r->h)) {
		synack_conntab_remove(&s->conns, &r->h);
		req_free(s, r);
	}
}

struct kill_all {
	struct synack_stack *s;
	const struct tcb_listen *lq;
};

static void kill_if_child(void *ctx, struct synack_conntab_hdr *n)
{
	struct kill_all *k = ctx;
	if (n->kind != CONNTAB_KIND_REQ || tcb_lq(req_of(n)->listener) != k->lq)
		return;
	synack_conntab_remove(&k->s->conns, n);
	req_free(k->s, req_of(n));
}

void req_kill_all(struct synack_stack *s, struct tcb_listen *lq)
{
	if (lq->nreqs == 0)
		return;
	struct kill_all k = {s, lq};
	synack_conntab_foreach(&s->conns, kill_if_child, &k);
	SYNACK_ASSERT(lq->nreqs == 0);
}

struct list_all {
	const struct synack_stack *s;
	synack_conn_visitor visit;
	void *ctx;
};

/* A request's block is made in a local block as req_wake would (req_fill changes nothing in
 * the stack, whose const is dropped for its helpers). */
static void list_one(void *ctx, struct synack_conntab_hdr *n)
{
	struct list_all *a = ctx;
	if (n->kind != CONNTAB_KIND_REQ)
		return;
	struct tcp_req *r = req_of(n);
	struct synack_tcb c;
	struct tcb_flow fl;
	struct synack_tcp_info o;
	tcb_init_defaults(a->s, &c, &fl);
	req_fill((struct synack_stack *)(uintptr_t)a->s, r, &c);
	c.fl->timer_at[SYNACK_TIMER_RETRANSMIT] = r->timer.deadline_us;
	tcb_fill_info(a->s, &c, &o);
	a->visit(a->ctx, -1, &o);
}

void req_foreach(const struct synack_stack *s, synack_conn_visitor visit, void *ctx)
{
	struct list_all a = {s, visit, ctx};
	synack_conntab_foreach(&s->conns, list_one, &a);
}
