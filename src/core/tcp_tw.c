/* TIME-WAIT as a compact entry (RFC 9293 §3.6, §3.10.7.4), like Linux's timewait sockets.
 *
 * A connection whose user has closed it and that enters TIME-WAIT needs only what the state
 * does: the 4-tuple, SND.NXT and RCV.NXT, TS.Recent and the timestamp offset, the window, the
 * deadline. tw_adopt() moves that into an entry of 56 bytes (IPv4; 80 for IPv6, whose tuple is
 * 24 bytes longer), which takes the connection's place in the connection table under its own
 * kind tag; the connection block is freed. The entries:
 *
 *   - answer as the connection did: "The only thing that can arrive in this state is a
 *     retransmission of the remote FIN. Acknowledge it, and restart the 2 MSL timeout."
 *     (§3.10.7.4); PAWS (RFC 7323 §5.3); an unacceptable segment draws an ACK; RFC 1337
 *     (a RST is ignored); RFC 5961 challenge ACKs for a SYN, for an ACK of unsent data and
 *     for a too-old ACK (rate limited stack-wide, not per entry); a SYN with a newer
 *     timestamp reopens the connection (RFC 6191, tw_reopen());
 *   - live on one FIFO: every entry lasts 2*MSL from its last (re)start, so appending at
 *     the tail keeps the FIFO in deadline order (unless msl_ms changes while entries wait:
 *     then later ones may expire up to the difference late);
 *   - are not sockets: they do not count against max_sockets but against their own bound,
 *     max_tw_buckets (Linux's tcp_max_tw_buckets). Past it a closing connection skips
 *     TIME-WAIT (it is closed at once) and TcpExtTCPTimeWaitOverflow says so;
 *   - keep their local port in use for bind() without SO_REUSEADDR (tw_port_users()).
 *
 * Slots come from pools of TW_CHUNK slots, so an entry costs exactly its size (no allocator
 * header) and the FIFO links are 32-bit handles. The pools keep their chunks while any entry
 * lives, and give everything back when the last one goes (then no memory is held at all). */
#include <errno.h>
#include <string.h>

#include "core/tcp_tw.h"

#define TW_CHUNK 256u
#define TW_V6 0x80000000u

_Static_assert(sizeof(struct tw4) == 56, "an IPv4 TIME-WAIT entry is 56 bytes");
_Static_assert(sizeof(struct tw6) <= 80, "an IPv6 TIME-WAIT entry is at most 80 bytes");
_Static_assert(2ull * SYNACK_MSL_MAX_MS * 1000 < (1ull << 32), "2*MSL fits expire_lo");

void tw_fini(struct synack_stack *s);

/* ---- slots ----------------------------------------------------------------------------- */

static struct tw_pool *pool_of(struct synack_stack *s, uint32_t h)
{
	return &s->tw.pool[(h & TW_V6) ? 1 : 0];
}

static struct synack_conntab_hdr *slot(const struct synack_stack *s, uint32_t h)
{
	const struct tw_pool *p = &s->tw.pool[(h & TW_V6) ? 1 : 0];
	uint32_t i = h & ~TW_V6;
	return (struct synack_conntab_hdr *)(void *)(p->chunks[i / TW_CHUNK] +
						     (size_t)(i % TW_CHUNK) * p->esize);
}

static struct tw_tail *tail_of(struct synack_conntab_hdr *n)
{
	if (n->flags & SYNACK_CONNTAB_KEY4)
		return &((struct tw4 *)(void *)n)->t;
	return &((struct tw6 *)(void *)n)->t;
}

static bool tw_ts_ok(const struct synack_conntab_hdr *n) { return (n->owner[0] & TW_TS_OK) != 0; }

/* The handle of entry n: its FIFO neighbour knows it. */
static uint32_t handle_of(const struct synack_stack *s, struct synack_conntab_hdr *n)
{
	const struct tw_tail *t = tail_of(n);
	return t->prev == TW_NONE ? s->tw.head : tail_of(slot(s, t->prev))->next;
}
static bool pool_grow(struct synack_stack *s, struct tw_pool *p)
{
	if (p->nchunks == p->chunks_cap) {
		uint32_t cap = p->chunks_cap ? p->chunks_cap * 2 : 8;
		uint8_t **c = stack_alloc(s, cap * sizeof *c);
		if (!c)
			return false;
		if (p->nchunks)
			memcpy(c, p->chunks, p->nchunks * sizeof *c);
		stack_free(s, p->chunks, p->chunks_cap * sizeof *c);
		p->chunks = c;
		p->chunks_cap = cap;
	}
	uint8_t *chunk = stack_alloc(s, (size_t)TW_CHUNK * p->esize);
	if (!chunk)
		return false;
	p->chunks[p->nchunks++] = chunk;
	return true;
}

/* A free slot of the IPv4 (v6 false) or IPv6 pool, or TW_NONE when memory ran out. */
static uint32_t slot_take(struct synack_stack *s, bool v6)
{
	struct tw_pool *p = &s->tw.pool[v6];
	uint32_t tag = v6 ? TW_V6 : 0;
	if (p->free != TW_NONE) {
		uint32_t h = p->free;
		p->free = tail_of(slot(s, h))->next;
		return h;
	}
	if (p->fresh == p->nchunks * TW_CHUNK && !pool_grow(s, p))
		return TW_NONE;
	return tag | p->fresh++;
}

static void slot_give(struct synack_stack *s, uint32_t h)
{
	struct tw_pool *p = pool_of(s, h);
	tail_of(slot(s, h))->next = p->free;
	p->free = h;
}

/* ---- the FIFO -------------------------------------------------------------------------- */

/* An entry's deadline from its low 32 bits. fifo_append() expires the due entries before it
 * appends, so then every entry left has a deadline after now, and the new one, at most 2*MSL
 * (< 2^32 us) after now, is at most latest_us; until the next append entries only go. So
 * every deadline d lies in (latest_us - 2^32, latest_us]: d = latest_us - (latest_us - d)
 * with the difference taken modulo 2^32. */
static uint64_t expire_of(const struct synack_stack *s, const struct tw_tail *t)
{
	uint64_t latest = s->tw.latest_us;
	return latest - (uint32_t)((uint32_t)latest - t->expire_lo);
}

/* Appends h with deadline at_us. The caller has run tw_expire() since the last time the
 * stack's time moved (the invariant of expire_of()). */
static void fifo_append(struct synack_stack *s, uint32_t h, uint64_t at_us)
{
	struct tw_tail *t = tail_of(slot(s, h));
	t->expire_lo = (uint32_t)at_us;
	if (at_us > s->tw.latest_us)
		s->tw.latest_us = at_us;
	t->next = TW_NONE;
	t->prev = s->tw.tail;
	if (s->tw.tail == TW_NONE)
		s->tw.head = h;
	else
		tail_of(slot(s, s->tw.tail))->next = h;
	s->tw.tail = h;
}

static void fifo_unlink(struct synack_stack *s, struct tw_tail *t)
{
	if (t->prev == TW_NONE)
		s->tw.head = t->next;
	else
		tail_of(slot(s, t->prev))->next = t->next;
	if (t->next == TW_NONE)
		s->tw.tail = t->prev;
	else
		tail_of(slot(s, t->next))->prev = t->prev;
}

/* ---- entries per local port (bind conflicts) -------------------------------------------- */

static struct tw_port *port_cell(const struct synack_stack *s, uint16_t port)
{
	if (!s->tw.ports_cap)
		return NULL;
	uint32_t m = s->tw.ports_cap - 1;
	for (uint32_t i = (port * 2654435761u) >> 16 & m;; i = (i + 1) & m) {
		struct tw_port *c = &s->tw.ports[i];
		if (c->port == port || (c->port == 0 && c->n == 0))
			return c;
	}
}

/* Cells are never emptied (a port's cell keeps n == 0), so probing never breaks; the table
 * holds at most one cell per port that ever had an entry. */
static bool ports_grow(struct synack_stack *s)
{
	uint32_t cap = s->tw.ports_cap ? s->tw.ports_cap * 2 : 64;
	struct tw_port *old = s->tw.ports, *n = stack_alloc(s, cap * sizeof *n);
	uint32_t oldcap = s->tw.ports_cap;
	if (!n)
		return false;
	memset(n, 0, cap * sizeof *n);
	s->tw.ports = n;
	s->tw.ports_cap = cap;
	for (uint32_t i = 0; i < oldcap; i++)
		if (old[i].port)
			*port_cell(s, old[i].port) = old[i];
	stack_free(s, old, oldcap * sizeof *old);
	return true;
}

static bool port_add(struct synack_stack *s, uint16_t port)
{
	struct tw_port *c = port_cell(s, port);
	if (!c || (c->port == 0 && (s->tw.ports_used + 1) * 2 > s->tw.ports_cap)) {
		if (!ports_grow(s))
			return false;
		c = port_cell(s, port);
	}
	if (c->port == 0) {
		c->port = port;
		s->tw.ports_used++;
	}
	c->n++;
	return true;
}

uint32_t tw_port_users(const struct synack_stack *s, uint16_t port)
{
	const struct tw_port *c = port_cell(s, port);
	return c && c->port == port ? c->n : 0;
}

/* ---- life and death -------------------------------------------------------------------- */

static void tw_key(const struct synack_conntab_hdr *n, struct synack_tuple *t)
{
	synack_conntab_key(n, t);
}

/* Removes entry n from every table and frees its slot. trace_close: the connection ends here
 * (TIME-WAIT → CLOSED is traced, as the connection block's tcp_done traced it). */
static void tw_release(struct synack_stack *s, struct synack_conntab_hdr *n, bool trace_close)
{
	struct synack_tuple t;
	tw_key(n, &t);
	if (trace_close)
		stack_trace_state(s, &t, SYNACK_TIME_WAIT, SYNACK_CLOSED);
	struct tw_tail *tl = tail_of(n);
	uint32_t h = handle_of(s, n);
	synack_conntab_remove(&s->conns, n);
	fifo_unlink(s, tl);
	struct tw_port *c = port_cell(s, t.lport);
	if (c && c->port == t.lport && c->n)
		c->n--;
	s->tw.count--;
	slot_give(s, h);
	if (s->tw.count == 0)
		tw_fini(s); /* the last one: the pools and the port counts go back */
}

static void fill_entry(struct synack_conntab_hdr *n, const struct synack_tcb *c)
{
	struct tw_tail *t = tail_of(n);
	n->kind = CONNTAB_KIND_TW;
	n->owner[0] = c->ts_ok ? TW_TS_OK : 0;
	n->owner[1] = (uint8_t)(c->rcv_wscale | c->snd_wscale << 4);
	t->snd_nxt = c->fl->snd_max;
	t->rcv_nxt = c->rcv_nxt;
	t->ts_recent = c->ts_recent;
	t->ts_offset = c->ts_offset;
	/* What the connection announces in TIME-WAIT, its receive buffer gone: the whole of
	 * SO_RCVBUF, as far as the scale can say it (the 16-bit field of its ACKs). */
	uint32_t wnd = c->rcvbuf_size >> c->rcv_wscale;
	if (wnd > 65535)
		wnd = 65535;
	/* MAX.SND.WND, rounded up: the peer's windows are its 16-bit field << the send shift
	 * (only its SYN's is unscaled, and that is below 65536). */
	uint32_t sh = c->snd_wscale;
	uint32_t maxw = (uint32_t)(((uint64_t)c->max_snd_wnd + (1u << sh) - 1) >> sh);
	if (maxw > 65535)
		maxw = 65535;
	n->hash = wnd | maxw << 16;
}

/* The window we announce and accept in, and MAX.SND.WND, in bytes. */
static uint32_t tw_rcv_wnd(const struct synack_conntab_hdr *n)
{
	return (n->hash & 0xffffu) << (n->owner[1] & 15);
}
static uint32_t tw_max_snd_wnd(const struct synack_conntab_hdr *n)
{
	return (n->hash >> 16) << (n->owner[1] >> 4);
}

static void overflow(struct synack_stack *s, struct synack_tcb *c)
{
	stack_count(s, SYNACK_CTR_TCPTimeWaitOverflow);
	tcp_done(s, c, 0);
}

void tw_adopt(struct synack_stack *s, struct synack_tcb *c)
{
	const struct synack_tuple *k = tcb_tuple(c);
	bool v6 = !synack_tuple_is_v4(k);
	tw_expire(s); /* fifo_append's precondition (and room for the new entry) */
	if (s->tw.count >= s->cfg.max_tw_buckets) {
		overflow(s, c);
		return;
	}
	if (!s->tw.pool[v6].esize)
		s->tw.pool[v6].esize = v6 ? sizeof(struct tw6) : sizeof(struct tw4);
	uint32_t h = slot_take(s, v6);
	if (h == TW_NONE || !port_add(s, k->lport)) {
		if (h != TW_NONE)
			slot_give(s, h);
		overflow(s, c);
		return;
	}
	struct synack_conntab_hdr *n = slot(s, h);
	memset(n, 0, s->tw.pool[v6].esize);
	if (v6) {
		((struct tw6 *)(void *)n)->key = *k;
	} else {
		synack_tuple4_from(&((struct tw4 *)(void *)n)->key, k);
		n->flags = SYNACK_CONNTAB_KEY4;
	}
	n->flags |= SYNACK_CONNTAB_NOHASH;
	fill_entry(n, c);
	uint64_t at = c->fl->timer_at[SYNACK_TIMER_TIME_WAIT];
	tcb_conntab_remove(s, c);
	tcb_kill(s, c); /* the connection goes on in the entry: no state change to trace */
	if (synack_conntab_insert(&s->conns, n) < 0) { /* cannot happen: the tuple was c's */
		SYNACK_ASSERT(0);
	}
	fifo_append(s, h, at == TCP_TIMER_OFF ? s->now_us + 2 * (uint64_t)s->cfg.msl_ms * 1000 : at);
	s->tw.count++;
}

void tw_expire(struct synack_stack *s)
{
	while (s->tw.head != TW_NONE) {
		struct synack_conntab_hdr *n = slot(s, s->tw.head);
		if (expire_of(s, tail_of(n)) > s->now_us)
			return;
		struct synack_tuple t;
		tw_key(n, &t);
		stack_trace_timer(s, &t, SYNACK_TIMER_TIME_WAIT);
		stack_count(s, SYNACK_CTR_TW);
		tw_release(s, n, true);
	}
}

uint64_t tw_next_deadline(const struct synack_stack *s)
{
	if (s->tw.head == TW_NONE)
		return UINT64_MAX;
	return expire_of(s, tail_of(slot(s, s->tw.head)));
}

void tw_fini(struct synack_stack *s)
{
	for (int i = 0; i < 2; i++) {
		struct tw_pool *p = &s->tw.pool[i];
		for (uint32_t c = 0; c < p->nchunks; c++)
			stack_free(s, p->chunks[c], (size_t)TW_CHUNK * p->esize);
		stack_free(s, p->chunks, p->chunks_cap * sizeof p->chunks[0]);
		memset(p, 0, sizeof *p);
		p->free = TW_NONE;
	}
	stack_free(s, s->tw.ports, s->tw.ports_cap * sizeof s->tw.ports[0]);
	s->tw.ports = NULL;
	s->tw.ports_cap = s->tw.ports_used = 0;
	s->tw.head = s->tw.tail = TW_NONE;
	s->tw.count = 0;
	s->tw.latest_us = 0;
}

void tw_init(struct synack_stack *s)
{
	memset(&s->tw, 0, sizeof s->tw);
	s->tw.head = s->tw.tail = TW_NONE;
	s->tw.pool[0].free = s->tw.pool[1].free = TW_NONE;
}

void tw_foreach(const struct synack_stack *s, synack_conn_visitor visit, void *ctx)
{
	struct synack_tcp_info o;
	for (uint32_t h = s->tw.head; h != TW_NONE;) {
		struct synack_conntab_hdr *n = slot(s, h);
		const struct tw_tail *t = tail_of(n);
		struct synack_tuple k;
		tw_key(n, &k);
		memset(&o, 0, sizeof o);
		o.state = SYNACK_TIME_WAIT;
		o.local.addr = k.laddr;
		o.local.port = k.lport;
		o.remote.addr = k.raddr;
		o.remote.port = k.rport;
		o.rcv_wscale = n->owner[1] & 0xf; /* fill_entry packs both shifts in one byte */
		o.snd_wscale = n->owner[1] >> 4;
		o.ts_ok = (n->owner[0] & TW_TS_OK) != 0;
		o.rcv_wnd = tw_rcv_wnd(n);
		o.snd_una = o.snd_nxt = t->snd_nxt;
		o.rcv_nxt = t->rcv_nxt;
		h = t->next;
		visit(ctx, -1, &o);
	}
}

/* Linux's "loopback only" of tcp_tw_reuse 2: a stack has no loopback device, so its own
 * addresses (and 127/8) play that part. */
static bool towards_self(const struct synack_stack *s, const struct synack_addr *a)
{
	return synack_stack_has_addr(s, a) ||
	       (synack_addr_is_v4(a) && (synack_addr_get_v4(a) >> 24) == 127);
}

bool tw_reuse(struct synack_stack *s, struct synack_conntab_hdr *n, seq_t *iss)
{
	struct synack_tuple k;
	tw_key(n, &k);
	uint8_t mode = s->cfg.tw_reuse;
	if (mode == 0 || (mode != 1 && !towards_self(s, &k.raddr)) || !tw_ts_ok(n))
		return false;
	uint64_t began = expire_of(s, tail_of(n)) - 2 * (uint64_t)s->cfg.msl_ms * 1000;
	if (s->now_us < began + 1000000u)
		return false;
	seq_t next = seq_add(tail_of(n)->snd_nxt, 65535 + 2);
	*iss = next ? next : 1;
	stack_count(s, SYNACK_CTR_TWRecycled);
	tw_release(s, n, true);
	return true;
}

/* ---- segment arrival (RFC 9293 §3.10.7.4 in TIME-WAIT) ---------------------------------- */

/* <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, with the timestamp option when in use. */
static void tw_send_ack(struct synack_stack *s, struct synack_conntab_hdr *n)
{
	const struct tw_tail *t = tail_of(n);
	struct synack_tuple k;
	tw_key(n, &k);
	struct synack_tcp_seg seg;
	memset(&seg, 0, sizeof seg);
	seg.sport = k.lport;
	seg.dport = k.rport;
	seg.seq = t->snd_nxt;
	seg.ack = t->rcv_nxt;
	seg.flags = SYNACK_TH_ACK;
	seg.win = (uint16_t)n->hash;
	if (n->owner[0] & TW_TS_OK) {
		seg.opts.has_ts = true;
		seg.opts.ts_val = (uint32_t)(s->now_us / 1000) + t->ts_offset;
		seg.opts.ts_ecr = t->ts_recent;
	}
	stack_emit_tcp(s, &k, &seg, false);
}

/* RFC 5961 §7: challenge ACKs rate limited, here for all entries together. */
static void tw_challenge(struct synack_stack *s, struct synack_conntab_hdr *n, const struct rx *rx)
{
	struct tw_table *w = &s->tw;
	uint32_t lim = s->cfg.challenge_ack_limit;
	if (s->now_us - w->chal_start_us >= 1000000u || w->chal_limit == 0) {
		w->chal_start_us = s->now_us;
		w->chal_count = 0;
		w->chal_limit = lim ? lim / 2 + (uint32_t)synack_rng_below(&s->rng, lim) + 1 : 0;
	}
	if (w->chal_count >= w->chal_limit) {
		rx_drop(s, rx, SYNACK_DROP_TCP_CHALLENGE_LIMIT);
		return;
	}
	w->chal_count++;
	stack_count(s, SYNACK_CTR_TCPChallengeACK);
	tw_send_ack(s, n);
}

/* "restart the 2 MSL time-wait timeout": to the tail of the FIFO. */
static void tw_restart(struct synack_stack *s, struct synack_conntab_hdr *n)
{
	struct tw_tail *t = tail_of(n);
	uint32_t h = handle_of(s, n);
	fifo_unlink(s, t);
	tw_expire(s); /* fifo_append's precondition (n, unlinked, is not expired) */
	fifo_append(s, h, s->now_us + 2 * (uint64_t)s->cfg.msl_ms * 1000);
}

/* RFC 9293 §3.6 (MAY-2, from RFC 1122 §4.2.2.13): a TCP "MAY accept a new SYN from the
 * remote TCP endpoint to reopen the connection directly from TIME-WAIT state, if it: (1)
 * assigns its initial sequence number for the new connection to be larger than the largest
 * sequence number it used on the previous connection incarnation, and (2) returns to
 * TIME-WAIT state if the SYN turns out to be an old duplicate." synack does it only with the
 * improved test of RFC 6191: both incarnations use timestamps and the SYN's TSval is newer
 * than TS.Recent (Linux also reopens on a higher sequence number alone; synack answers such a
 * SYN with a challenge ACK). Returns true when the SYN went to the listener. */
static bool tw_reopen(struct synack_stack *s, struct synack_conntab_hdr *n, struct rx *rx)
{
	const struct synack_tcp_seg *seg = rx->seg;
	const struct tw_tail *t = tail_of(n);
	if ((seg->flags & (SYNACK_TH_SYN | SYNACK_TH_ACK | SYNACK_TH_RST)) != SYNACK_TH_SYN ||
	    !tw_ts_ok(n) || !seg->opts.has_ts || !seq_gt(seg->opts.ts_val, t->ts_recent))
		return false;
	struct synack_tcb *l = ports_find_listener(s, rx->t.lport, &rx->t.laddr);
	if (!l)
		return false;
	rx->min_iss = seq_add(t->snd_nxt, 65535 + 2); /* Linux: tw_snd_nxt + 65535 + 2 */
	rx->has_min_iss = true;
	tw_release(s, n, true);
	tcp_input_listen(s, l, rx);
	return true;
}

static bool seg_acceptable(const struct synack_conntab_hdr *n, seq_t seq, uint32_t len)
{
	const struct tw_tail *t = tail_of((struct synack_conntab_hdr *)(uintptr_t)n);
	uint32_t wnd = tw_rcv_wnd(n);
	seq_t nxt = t->rcv_nxt, edge = seq_add(t->rcv_nxt, wnd);
	if (len == 0)
		return wnd == 0 ? seq == nxt : seq_in(seq, nxt, edge);
	if (wnd == 0)
		return false;
	return seq_in(seq, nxt, edge) || seq_in(seq_add(seq, len - 1), nxt, edge);
}

/* "first check sequence number", as for a connection block in TIME-WAIT. */
static bool tw_check_sequence(struct synack_stack *s, struct synack_conntab_hdr *n, struct rx *rx)
{
	const struct tw_tail *t = tail_of(n);
	const struct synack_tcp_seg *seg = rx->seg;
	if (seg_acceptable(n, seg->seq, rx->seg_len))
		return true;
	if (tw_rcv_wnd(n) == 0 && seg->seq == t->rcv_nxt) {
		rx->text_dropped = true;
		rx->ack_now = true;
		return true;
	}
	if (has(rx, SYNACK_TH_RST)) {
		rx_drop(s, rx, SYNACK_DROP_TCP_NOT_ACCEPTABLE);
		return false;
	}
	if (has(rx, SYNACK_TH_FIN)) {
		/* A retransmitted FIN: our last ACK was lost. */
		tw_send_ack(s, n);
		tw_restart(s, n);
		return false;
	}
	if (has(rx, SYNACK_TH_SYN)) {
		stack_count(s, SYNACK_CTR_TCPSYNChallenge);
		rx_drop(s, rx, SYNACK_DROP_TCP_SYN_IN_WINDOW);
		tw_challenge(s, n, rx);
		return false;
	}
	rx_drop(s, rx, SYNACK_DROP_TCP_NOT_ACCEPTABLE);
	tw_send_ack(s, n);
	return false;
}

/* RST (RFC 1337), SYN (RFC 5961 §4.2) and the ACK field. */
static bool tw_check_ctl(struct synack_stack *s, struct synack_conntab_hdr *n, struct rx *rx)
{
	const struct tw_tail *t = tail_of(n);
	const struct synack_tcp_seg *seg = rx->seg;
	if (has(rx, SYNACK_TH_RST)) {
		rx_drop(s, rx, SYNACK_DROP_TCP_RST_IN_TIME_WAIT);
		return false;
	}
	if (has(rx, SYNACK_TH_SYN)) {
		stack_count(s, SYNACK_CTR_TCPSYNChallenge);
		rx_drop(s, rx, SYNACK_DROP_TCP_SYN_IN_WINDOW);
		tw_challenge(s, n, rx);
		return false;
	}
	if (!has(rx, SYNACK_TH_ACK)) {
		rx_drop(s, rx, SYNACK_DROP_TCP_NO_ACK);
		return false;
	}
	if (seq_gt(seg->ack, t->snd_nxt)) {
		rx_drop(s, rx, SYNACK_DROP_TCP_ACK_UNSENT);
		tw_challenge(s, n, rx);
		return false;
	}
	if (seq_lt(seg->ack, t->snd_nxt - tw_max_snd_wnd(n)) && seq_lt(seg->ack, t->snd_nxt)) {
		rx_drop(s, rx, SYNACK_DROP_TCP_ACK_OLD);
		tw_challenge(s, n, rx);
		return false;
	}
	return true;
}

void tw_input(struct synack_stack *s, struct synack_conntab_hdr *n, struct rx *rx)
{
	struct tw_tail *t = tail_of(n);
	const struct synack_tcp_seg *seg = rx->seg;
	if (tw_reopen(s, n, rx))
		return;
	/* PAWS (RFC 7323 §5.3 R1). */
	if (tw_ts_ok(n) && seg->opts.has_ts && !has(rx, SYNACK_TH_RST) &&
	    seq_lt(seg->opts.ts_val, t->ts_recent)) {
		rx_drop(s, rx, SYNACK_DROP_TCP_NOT_ACCEPTABLE);
		tw_send_ack(s, n);
		return;
	}
	if (!tw_check_sequence(s, n, rx))
		return;
	if (tw_ts_ok(n) && seg->opts.has_ts && seq_le(seg->seq, t->rcv_nxt) &&
	    seq_ge(seg->opts.ts_val, t->ts_recent))
		t->ts_recent = seg->opts.ts_val;
	if (!tw_check_ctl(s, n, rx))
		return;
	/* Text is not taken in TIME-WAIT; "eighth, check the FIN bit": "TIME-WAIT STATE:
	 * Remain in the TIME-WAIT state. Restart the 2 MSL time-wait timeout." */
	if (has(rx, SYNACK_TH_FIN) && !rx->text_dropped) {
		rx->ack_now = true;
		tw_restart(s, n);
	}
	if (rx->ack_now)
		tw_send_ack(s, n);
}
