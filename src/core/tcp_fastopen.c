/* TCP Fast Open (RFC 7413): cookies, the client's cache, and the server's and client's
 * handshake steps. See tcp_fastopen.h for the design. */
#include <string.h>

#include "core/conntab.h"
#include "core/siphash.h"
#include "core/tcp_fastopen.h"
#include "core/tcp_input.h"

/* ---- cookies (RFC 7413 §4.1.2) --------------------------------------------------------------- */

/* The key of generation gen: 16 bytes of SipHash under the stack's secret, so the secret itself
 * never keys a cookie and each generation's key is unrelated to the last. */
static void tfo_key(const uint8_t secret[16], uint64_t gen, uint8_t key[16])
{
	uint8_t m[12] = {'T', 'F', 'O', 0};
	for (int i = 0; i < 8; i++)
		m[4 + i] = (uint8_t)(gen >> (8 * i));
	for (int half = 0; half < 2; half++) {
		m[3] = (uint8_t)half;
		uint64_t h = synack_siphash24(secret, m, sizeof m);
		for (int i = 0; i < 8; i++)
			key[8 * half + i] = (uint8_t)(h >> (8 * i));
	}
}

void tfo_cookie_gen(const uint8_t secret[16], const struct synack_addr *peer, uint64_t gen,
		    uint8_t out[SYNACK_TFO_COOKIE_LEN])
{
	uint8_t key[16], a[16];
	tfo_key(secret, gen, key);
	size_t n = synack_tuple_addr_bytes(peer, a); /* IPv4: 4 bytes; IPv6: all 16 */
	uint64_t h = synack_siphash24(key, a, n);
	for (int i = 0; i < SYNACK_TFO_COOKIE_LEN; i++)
		out[i] = (uint8_t)(h >> (8 * i));
}

int tfo_cookie_check(const uint8_t secret[16], const struct synack_addr *peer, uint64_t now_us,
		     const uint8_t *cookie, size_t len)
{
	if (len != SYNACK_TFO_COOKIE_LEN)
		return 0;
	uint64_t gen = tfo_generation(now_us);
	uint8_t want[SYNACK_TFO_COOKIE_LEN];
	tfo_cookie_gen(secret, peer, gen, want);
	if (!memcmp(want, cookie, len))
		return 1;
	if (gen == 0)
		return 0;
	tfo_cookie_gen(secret, peer, gen - 1, want);
	return memcmp(want, cookie, len) ? 0 : 2;
}

/* ---- the client's cache ---------------------------------------------------------------------- */

static struct tfo_cache_entry *cache_find(struct tfo_cache *tc, const struct synack_addr *addr)
{
	for (size_t i = 0; i < SYNACK_TFO_CACHE_SIZE; i++)
		if (tc->e[i].used && synack_addr_eq(&tc->e[i].addr, addr))
			return &tc->e[i];
	return NULL;
}

size_t tfo_cache_get(struct tfo_cache *tc, const struct synack_addr *addr, uint8_t cookie[16])
{
	struct tfo_cache_entry *e = cache_find(tc, addr);
	if (!e)
		return 0;
	e->used = ++tc->tick;
	memcpy(cookie, e->cookie, e->len);
	return e->len;
}

void tfo_cache_put(struct tfo_cache *tc, const struct synack_addr *addr, const uint8_t *cookie,
		   size_t len)
{
	if (len == 0 || len > sizeof tc->e[0].cookie)
		return;
	struct tfo_cache_entry *e = cache_find(tc, addr);
	if (!e) { /* an empty slot (used 0) or the least recently used one */
		e = &tc->e[0];
		for (size_t i = 1; i < SYNACK_TFO_CACHE_SIZE; i++)
			if (tc->e[i].used < e->used)
				e = &tc->e[i];
	}
	e->addr = *addr;
	e->used = ++tc->tick;
	e->len = (uint8_t)len;
	memcpy(e->cookie, cookie, len);
}

/* ---- server ---------------------------------------------------------------------------------- */

/* Linux's tcp_fastopen_queue_check: the listener takes TFO children (TCP_FASTOPEN, or every
 * listener with SERVER_ALL, the backlog as limit) and has fewer pending than its limit. */
static bool queue_ok(struct synack_stack *s, struct synack_tcb *l)
{
	uint32_t max = l->fl->tfo.qlen;
	if (max == 0 && (s->cfg.fastopen & SYNACK_TFO_SERVER_ALL))
		max = tcb_lq(l)->backlog > 0 ? (uint32_t)tcb_lq(l)->backlog : 1;
	if (max == 0)
		return false;
	if (tcb_lq(l)->tfo_pending >= max) {
		stack_count(s, SYNACK_CTR_TCPFastOpenListenOverflow);
		return false;
	}
	return true;
}

bool tfo_server_syn(struct synack_stack *s, struct synack_tcb *l, const struct rx *rx,
		    struct tcp_tfo *fo)
{
	const struct synack_tcp_opts *o = &rx->seg->opts;
	fo->send_cookie = false;
	fo->cookie_exp = o->fo_exp;
	if (o->has_fo && o->fo_len == 0)
		stack_count(s, SYNACK_CTR_TCPFastOpenCookieReqd);
	if (!(s->cfg.fastopen & SYNACK_TFO_SERVER) || (rx->seg->len == 0 && !o->has_fo) ||
	    !queue_ok(s, l))
		return false;
	if ((s->cfg.fastopen & SYNACK_TFO_SERVER_NO_COOKIE) && rx->seg->len > 0)
		return true;
	if (!o->has_fo)
		return false;
	if (o->fo_len == 0) {
		fo->send_cookie = true; /* §4.2.2: a cookie request gets a cookie */
		return false;
	}
	int v = tfo_cookie_check(s->cfg.secret, &rx->t.raddr, s->now_us, o->fo_cookie, o->fo_len);
	if (v == 0) {
		/* "If the cookie is not valid, the server drops the data and replies with a
		 * SYN-ACK that only acknowledges the SYN" -- with a valid cookie, as Linux. */
		stack_count(s, SYNACK_CTR_TCPFastOpenPassiveFail);
		fo->send_cookie = true;
		return false;
	}
	fo->send_cookie = v == 2; /* the previous key's cookie: here is the current one */
	return true;
}

bool tfo_child_accept(struct synack_stack *s, struct synack_tcb *l, struct synack_tcb *c,
		      const struct rx *rx)
{
	const struct synack_tcp_seg *seg = rx->seg;
	if (!c->fl->rcvq.cap && tcb_alloc_buffers(s, c) < 0) {
		stack_count(s, SYNACK_CTR_TCPFastOpenPassiveFail);
		return false;
	}
	/* §4.2.2: "the server ... MAY deliver the data to the application" at once; the SYN-ACK
	 * acknowledges it (RCV.NXT moves past it). */
	uint32_t n = ring_write(&c->fl->rcvq, &s->bufs, seg->payload, (uint32_t)seg->len);
	c->rcv_nxt = seq_add(c->rcv_nxt, n);
	tcp_acceptq_push(s, l, c);
	c->fl->tfo.child = true;
	tcb_lq(l)->tfo_pending++;
	stack_count(s, SYNACK_CTR_TCPFastOpenPassive);
	tcp_wake(s, l);
	tcp_wake(s, c);
	return true;
}

void tfo_child_release(struct synack_stack *s, struct synack_tcb *c)
{
	if (!c->fl->tfo.child)
		return;
	c->fl->tfo.child = false;
	struct synack_tcb *l = ports_find_listener(s, tcb_tuple(c)->lport, &tcb_tuple(c)->laddr);
	if (l && tcb_lq(l) && tcb_lq(l)->tfo_pending > 0)
		tcb_lq(l)->tfo_pending--;
}

/* ---- client ---------------------------------------------------------------------------------- */

/* The data a SYN may carry: Linux's room, the MSS less the largest option space (40). */
static uint32_t syn_data_room(const struct synack_stack *s, const struct synack_tcb *c)
{
	uint32_t mss = c->user_mss && c->user_mss < s->cfg.mss ? c->user_mss : s->cfg.mss;
	return mss > 40 + 8 ? mss - 40 : 8;
}

uint32_t tfo_connect_prepare(struct synack_stack *s, struct synack_tcb *c, const void *data,
			     size_t len)
{
	uint8_t cookie[16];
	c->fl->tfo.syn = TFO_SYN_NONE;
	c->fl->tfo.syn_len = 0;
	c->fl->tfo.failed = false;
	if (!(s->cfg.fastopen & SYNACK_TFO_CLIENT))
		return 0;
	if (tfo_cache_get(&s->tfo_cache, &tcb_tuple(c)->raddr, cookie) == 0) {
		c->fl->tfo.syn = TFO_SYN_REQUEST; /* §4.2.1: no cookie yet: ask for one */
		return 0;
	}
	c->fl->tfo.syn = TFO_SYN_DATA;
	if (!data || len == 0)
		return 0;
	uint32_t n = len < syn_data_room(s, c) ? (uint32_t)len : syn_data_room(s, c);
	if (n > c->sndbuf_size)
		n = c->sndbuf_size;
	n = ring_write(&c->fl->sndq, &s->bufs, data, n);
	c->fl->tfo.syn_len = (uint16_t)n;
	return n;
}

static void syn_data(struct synack_stack *s, struct synack_tcb *c, struct synack_tcp_seg *seg)
{
	uint32_t n = c->fl->tfo.syn_len;
	if (n > c->fl->sndq.len)
		n = c->fl->sndq.len;
	const uint8_t *p = ring_span(&c->fl->sndq, 0, n);
	if (!p && n) {
		ring_peek(&c->fl->sndq, 0, s->scratch, n);
		p = s->scratch;
	}
	seg->payload = p;
	seg->len = n;
	seq_t end = seq_add(c->iss, 1 + n);
	if (seq_lt(c->snd_nxt, end))
		c->snd_nxt = end;
}

/* The client's SYN timed out: Linux counts the failure and retransmits a plain SYN. */
static void syn_timeout(struct synack_stack *s, struct synack_tcb *c)
{
	if (c->fl->tfo.syn == TFO_SYN_DATA && c->fl->tfo.syn_len && !c->fl->tfo.failed) {
		c->fl->tfo.failed = true;
		stack_count(s, SYNACK_CTR_TCPFastOpenActiveFail);
	}
}

void tfo_syn_options(struct synack_stack *s, struct synack_tcb *c, struct synack_tcp_seg *seg,
		     bool retx)
{
	struct synack_tcp_opts *o = &seg->opts;
	if (seg->flags & SYNACK_TH_ACK) { /* SYN-ACK: the cookie decided in tfo_server_syn */
		if (retx || !c->fl->tfo.send_cookie)
			return;
		c->fl->tfo.send_cookie = false;
		o->has_fo = true;
		o->fo_exp = c->fl->tfo.cookie_exp;
		o->fo_len = SYNACK_TFO_COOKIE_LEN;
		tfo_cookie_gen(s->cfg.secret, &tcb_tuple(c)->raddr, tfo_generation(s->now_us),
			       o->fo_cookie);
		return;
	}
	if (c->fl->tfo.syn == TFO_SYN_NONE)
		return;
	if (retx) {
		syn_timeout(s, c);
		return;
	}
	o->has_fo = true;
	if (c->fl->tfo.syn == TFO_SYN_REQUEST)
		return;
	o->fo_len = (uint8_t)tfo_cache_get(&s->tfo_cache, &tcb_tuple(c)->raddr, o->fo_cookie);
	syn_data(s, c, seg);
}

bool tfo_synack(struct synack_stack *s, struct synack_tcb *c, const struct synack_tcp_seg *seg)
{
	if (c->fl->tfo.syn == TFO_SYN_NONE)
		return false;
	/* §4.2.1: "the client caches the cookie"; a SYN-ACK without one leaves the cache. */
	if (seg->opts.has_fo && seg->opts.fo_len > 0)
		tfo_cache_put(&s->tfo_cache, &tcb_tuple(c)->raddr, seg->opts.fo_cookie,
			      seg->opts.fo_len);
	uint32_t syn_len = c->fl->tfo.syn_len;
	c->fl->tfo.syn = TFO_SYN_NONE;
	c->fl->tfo.syn_len = 0;
	if (syn_len == 0)
		return false;
	uint32_t acked = (uint32_t)seq_diff(seg->ack, seq_add(c->iss, 1));
	if (acked > syn_len)
		acked = syn_len;
	if (acked > 0) {
		ring_consume(&c->fl->sndq, &s->bufs, acked);
		c->fl->snd_buf_seq = seq_add(c->fl->snd_buf_seq, acked);
		stack_count(s, SYNACK_CTR_TCPFastOpenActive);
	}
	if (acked == syn_len)
		return false;
	/* "If the SYN-ACK only acknowledges the SYN, the client ... retransmits the data". */
	if (!c->fl->tfo.failed)
		stack_count(s, SYNACK_CTR_TCPFastOpenActiveFail);
	c->fl->tfo.failed = true;
	c->fl->snd_rtx = seg->ack;
	c->rtx_pending = true;
	return true;
}
