/* Segment arrival, written as RFC 9293 §3.10.7 reads.
 *
 *   §3.10.7.1  CLOSED (no connection)  → no_socket()
 *   §3.10.7.2  LISTEN                  → input_listen()
 *   §3.10.7.3  SYN-SENT                → input_syn_sent()
 *   §3.10.7.4  every other state       → input_synchronized(): "first check sequence
 *              number", "second check the RST bit", "fourth, check the SYN bit", "fifth
 *              check the ACK field", "seventh, process the segment text", "eighth, check the
 *              FIN bit" — one function per step.
 *
 * With RFC 5961 (challenge ACKs for in-window RSTs and for SYNs in synchronized states),
 * RFC 7323 timestamps (TS.Recent and PAWS), RFC 2018 SACK blocks in our ACKs,
 * and RFC 5681/6582 congestion control on the ACK path. Out-of-order data (and FIN) is kept
 * until the gap fills. Data on a SYN is queued until the handshake completes, or, with a
 * valid TCP Fast Open cookie (RFC 7413, tcp_fastopen.c), delivered at once; data on a SYN-ACK
 * is taken with it. */
#include <errno.h>
#include <string.h>

#include "core/tcp_input.h"
#include "core/tcp_req.h"
#include "core/tcp_syncookie.h"
#include "core/tcp_tw.h"

void rx_drop(struct synack_stack *s, const struct rx *rx, enum synack_drop_reason r)
{
	stack_drop(s, r, &rx->t, rx->seg, rx->frame, rx->frame_len);
}

/* ---- options negotiated on the SYN --------------------------------------------------------- */

static void negotiate(struct synack_stack *s, struct synack_tcb *c, const struct synack_tcp_opts *o)
{
	c->ws_ok = s->cfg.window_scaling && o->has_wscale;
	c->snd_wscale = c->ws_ok ? (o->wscale > 14 ? 14 : o->wscale) : 0;
	c->rcv_wscale = c->ws_ok ? tcp_choose_wscale(s, c) : 0;
	c->ts_ok = s->cfg.timestamps && o->has_ts;
	if (c->ts_ok)
		c->ts_recent = o->ts_val;
	c->sack_ok = s->cfg.sack && o->sack_ok;
	/* RFC 9293 §3.7.1: without the option, assume 536. */
	c->rcv_mss = o->has_mss ? o->mss : 536;
	uint32_t mss = c->rcv_mss;
	uint32_t cfg_mss = stack_mss_for(s, &tcb_tuple(c)->raddr);
	uint32_t ours = c->user_mss && c->user_mss < cfg_mss ? c->user_mss : cfg_mss;
	if (mss > ours)
		mss = ours;
	if (mss < 48)
		mss = 48; /* Linux's TCP_MIN_SND_MSS: a silly announced MSS is not honoured */
	if (c->ts_ok)
		mss -= 12; /* like Linux: the MSS counts payload, the timestamp option eats 12 */
	c->snd_mss = (uint16_t)mss;
	c->fl->cc.ops->init(&c->fl->cc, c->snd_mss, s->cfg.init_cwnd_segs * (uint32_t)c->snd_mss);
	c->fl->cc_round_end = c->iss; /* the first ACK of our data begins a round */
	c->fl->lost_mark = c->iss;
	c->tlp_out = false;
}

/* RFC 7323 §4.3: "If SEG.TSval >= TS.Recent and SEG.SEQ <= Last.ACK.sent then
 * TS.Recent = SEG.TSval". synack acknowledges every segment that moves RCV.NXT at once (no
 * delayed ACK), so Last.ACK.sent is RCV.NXT. Called from the ACK step (tcp_ack.c) once the
 * segment's acknowledgment is known acceptable: §4.3 takes timestamps only from acceptable
 * segments, and a segment acknowledging data never sent is not one (it would otherwise make
 * the next valid segment look old to PAWS). */
void tcp_update_ts_recent(struct synack_tcb *c, const struct synack_tcp_seg *seg)
{
	if (c->ts_ok && seg->opts.has_ts && seq_le(seg->seq, c->rcv_nxt) &&
	    seq_ge(seg->opts.ts_val, c->ts_recent))
		c->ts_recent = seg->opts.ts_val;
}

/* A segment wholly below RCV.NXT (a retransmission whose acknowledgment was lost) is not
 * acceptable, but when it covers Last.ACK.sent (SEG.SEQ <= Last.ACK.sent <= SEG.SEQ+SEG.LEN),
 * passed PAWS and acknowledges nothing unsent, its newer TSval is recorded, as FreeBSD and
 * Linux do: the ACK we answer with then echoes the retransmission's timestamp, so the peer's
 * RTT sample measures this exchange and not its whole backoff (RFC 7323 §4.3's example of
 * a lost ACK: "the timestamp ... of the segment that filled the hole"). */
static void refresh_ts_recent(struct synack_tcb *c, const struct rx *rx)
{
	const struct synack_tcp_seg *seg = rx->seg;
	if (!c->ts_ok || !seg->opts.has_ts || !has(rx, SYNACK_TH_ACK) ||
	    seq_gt(seg->ack, c->fl->snd_max) || !seq_le(seg->seq, c->rcv_nxt) ||
	    seq_lt(seq_add(seg->seq, rx->seg_len), c->rcv_nxt))
		return;
	tcp_update_ts_recent(c, seg);
}

/* RFC 2883: data that arrived before is reported in a D-SACK block (as Linux's tcp_dsack_set,
 * net.ipv4.tcp_dsack on by default), so the sender can tell a spurious retransmission. */
static void report_dsack(struct synack_tcb *c, seq_t l, seq_t r)
{
	if (!c->sack_ok || !seq_lt(l, r))
		return;
	c->dsack = true;
	c->fl->dsack_l = l;
	c->fl->dsack_r = r;
}

/* RFC 5961 §7: challenge ACKs are rate limited; Linux jitters the limit. */
void challenge_ack(struct synack_stack *s, struct synack_tcb *c, const struct rx *rx)
{
	uint32_t lim = s->cfg.challenge_ack_limit;
	if (s->now_us - c->fl->chal_start_us >= 1000000u || c->fl->chal_limit == 0) {
		c->fl->chal_start_us = s->now_us;
		c->fl->chal_count = 0;
		c->fl->chal_limit =
			lim ? lim / 2 + (uint32_t)synack_rng_below(&s->rng, lim) + 1 : 0;
	}
	if (c->fl->chal_count >= c->fl->chal_limit) {
		rx_drop(s, rx, SYNACK_DROP_TCP_CHALLENGE_LIMIT);
		return;
	}
	c->fl->chal_count++;
	stack_count(s, SYNACK_CTR_TCPChallengeACK);
	tcp_send_ack(s, c);
}

/* ---- §3.10.7.2 LISTEN ----------------------------------------------------------------------- */

void tcp_child_init(struct synack_stack *s, struct synack_tcb *l, struct synack_tcb *c,
		    const struct rx *rx)
{
	const struct synack_tcp_seg *seg = rx->seg;
	c->key = rx->t;
	c->passive = true;
	c->nodelay = l->nodelay;
	cc_set(&c->fl->cc, l->fl->cc.ops); /* TCP_CONGESTION is inherited, as Linux */
	c->keepalive = l->keepalive;
	c->keep_idle_s = l->keep_idle_s;
	c->keep_intvl_s = l->keep_intvl_s;
	c->keep_cnt = l->keep_cnt;
	c->sndbuf_size = l->sndbuf_size;
	c->sndbuf_locked = l->sndbuf_locked;
	c->rcvbuf_size = l->rcvbuf_size;
	c->rcvbuf_locked = l->rcvbuf_locked;
	c->oobinline = l->oobinline;
	c->ip_ttl = l->ip_ttl;
	c->ip_tos = l->ip_tos;
	c->pmtudisc = l->pmtudisc;
	c->cork = l->cork;
	c->notsent_lowat = l->notsent_lowat;
	c->user_timeout_ms = l->user_timeout_ms;
	c->user_mss = l->user_mss;
	c->linger_on = l->linger_on;
	c->linger_s = l->linger_s;
	c->irs = seg->seq;
	c->rcv_nxt = seq_add(seg->seq, 1);
	c->rcv_adv = c->rcv_nxt; /* no window announced yet (the SYN-ACK's is not scaled) */
	c->iss = isn_generate(s, &rx->t);
	if (rx->has_min_iss && seq_lt(c->iss, rx->min_iss))
		c->iss = rx->min_iss;
	c->snd_una = c->iss;
	c->snd_nxt = c->iss;
	c->fl->snd_max = c->iss;
	c->fl->snd_sml = c->iss;
	c->fl->snd_buf_seq = seq_add(c->iss, 1);
	negotiate(s, c, &seg->opts);
	/* RFC 3168 §6.1.1: an ECN-setup SYN has ECE and CWR; tcp_ecn 1 or 2 agrees. */
	c->ecn_ok = s->cfg.ecn && (seg->flags & (SYNACK_TH_ECE | SYNACK_TH_CWR)) ==
					   (SYNACK_TH_ECE | SYNACK_TH_CWR);
	c->snd_wnd = seg->win; /* RFC 7323 §2.2: the window of a SYN is never scaled */
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = seg->seq;
	c->snd_wl2 = c->iss;
}

/* A SYN-queue child for the SYN in rx: LISTEN → SYN-RECEIVED, nothing sent yet. NULL when
 * memory ran out (the SYN is dropped and counted). */
static struct synack_tcb *listen_add_child(struct synack_stack *s, struct synack_tcb *l,
					   const struct rx *rx)
{
	/* max_sockets reached (live connections only: TIME-WAIT entries are not sockets) is
	 * told apart from the allocator's refusal. */
	bool full = s->nobjs >= s->cfg.max_sockets;
	struct synack_tcb *c = full ? NULL : tcb_new(s);
	if (!c) {
		stack_count(s, SYNACK_CTR_ListenDrops);
		rx_drop(s, rx, full ? SYNACK_DROP_TCP_TABLE_FULL : SYNACK_DROP_TCP_NO_MEMORY);
		return NULL;
	}
	tcp_child_init(s, l, c, rx);
	if (tcb_conntab_insert(s, c) < 0) {
		tcb_kill(s, c);
		rx_drop(s, rx, SYNACK_DROP_TCP_NO_MEMORY);
		return NULL;
	}
	c->fl->parent = l;
	c->fl->q_next = tcb_lq(l)->synq;
	if (tcb_lq(l)->synq)
		tcb_lq(l)->synq->fl->q_prev = c;
	tcb_lq(l)->synq = c;
	tcb_lq(l)->synq_len++;
	/* The child is the listener's TCB as the RFC tells it: LISTEN → SYN-RECEIVED. */
	c->state = SYNACK_LISTEN;
	tcp_set_state(s, c, SYNACK_SYN_RECEIVED);
	return c;
}

static void conn_input(struct synack_stack *s, struct synack_tcb *c, struct rx *rx);
static void back_to_listen(struct synack_stack *s, struct synack_tcb *c);

/* Data carried on a SYN (without Fast Open). RFC 9293 §3.10.7.2: "Any other control or text
 * should be queued for processing later" — "any other incoming control or data (combined with
 * SYN) will be processed in the SYN-RECEIVED state". It is kept in place in the receive
 * buffer, past RCV.NXT like out-of-order data, so the SYN-ACK acknowledges only the SYN; when
 * the handshake completes it joins the readable bytes and is acknowledged (syn_text_deliver).
 * Buffers are allocated for it (they are otherwise allocated at establishment); without
 * memory the data is left for the peer to send again. */
static void syn_text_queue(struct synack_stack *s, struct synack_tcb *c, const struct rx *rx)
{
	const struct synack_tcp_seg *seg = rx->seg;
	if (seg->len == 0 || (!c->fl->rcvq.cap && tcb_alloc_buffers(s, c) < 0))
		return;
	uint32_t len = (uint32_t)seg->len < c->fl->rcvq.cap ? (uint32_t)seg->len : c->fl->rcvq.cap;
	if (!tcb_ooo_ready(s, c) ||
	    !ring_write_at(&c->fl->rcvq, &s->bufs, c->fl->rcvq.len, seg->payload, len))
		return;
	if (ooo_add(&c->fl->ooo, c->rcv_nxt, seq_add(c->rcv_nxt, len)))
		c->syn_text = true;
}

/* The handshake is complete: the SYN's data joins the readable bytes. Returns true when there
 * was some (it must be acknowledged at once). */
static bool syn_text_deliver(struct synack_tcb *c)
{
	if (!c->syn_text || !tcp_state_receives(c->state) || c->state == SYNACK_SYN_RECEIVED)
		return false;
	c->syn_text = false;
	while (c->fl->ooo.n && seq_le(c->fl->ooo.r[0].start, c->rcv_nxt)) {
		seq_t end = ooo_advance(&c->fl->ooo, c->rcv_nxt);
		c->fl->rcvq.len += (uint32_t)seq_diff(end, c->rcv_nxt);
		c->rcv_nxt = end;
	}
	return true;
}

/* An ACK at a listener may complete a SYN-cookie handshake (tcp_syncookie.c decides). The
 * child is created as if the SYN had been queued and our SYN-ACK had carried the cookie, then
 * the ACK (which may carry data) is processed as by any SYN-RECEIVED connection. Returns
 * false when the ACK is not a cookie's. */
static bool listen_cookie_ack(struct synack_stack *s, struct synack_tcb *l, struct rx *rx)
{
	struct synack_tcp_seg syn;
	enum syncookie_verdict v = syncookie_ack(s, l, rx, &syn);
	if (v != SYNCOOKIE_CHILD)
		return v == SYNCOOKIE_DROP;
	struct rx srx = *rx;
	srx.seg = &syn;
	struct synack_tcb *c = listen_add_child(s, l, &srx);
	if (!c)
		return true;
	syncookie_child(s, c, rx->seg);
	/* The cookie's SYN-ACK announced the window of ours (tcp_syncookie.c computes it alike). */
	c->rcv_adv = seq_add(c->rcv_nxt, tcp_syn_window(s, c));
	conn_input(s, c, rx);
	if (c->state == SYNACK_SYN_RECEIVED)
		back_to_listen(s, c); /* not established (no memory): no half-open entry left */
	return true;
}

static void input_listen(struct synack_stack *s, struct synack_tcb *l, struct rx *rx)
{
	/* "first check for an RST: An incoming RST segment could not be valid since it could
	 * not have been sent in response to anything sent by this incarnation" */
	if (has(rx, SYNACK_TH_RST)) {
		rx_drop(s, rx, SYNACK_DROP_TCP_NOT_ACCEPTABLE);
		return;
	}
	/* "second check for an ACK: ... form a reset segment <SEQ=SEG.ACK><CTL=RST>" */
	if (has(rx, SYNACK_TH_ACK)) {
		if (listen_cookie_ack(s, l, rx))
			return;
		rx_drop(s, rx, SYNACK_DROP_TCP_NOT_ACCEPTABLE);
		tcp_reply_reset(s, &rx->t, rx->seg);
		return;
	}
	/* "third check for a SYN"; Linux discards a SYN that also carries FIN. */
	if (!has(rx, SYNACK_TH_SYN) || has(rx, SYNACK_TH_FIN)) {
		rx_drop(s, rx, SYNACK_DROP_TCP_BAD_FLAGS);
		return;
	}
	/* Linux: a full accept queue drops the SYN (ListenOverflows, ListenDrops); it is full
	 * when it holds more than backlog connections. */
	if (tcb_lq(l)->acceptq_len > (uint32_t)tcb_lq(l)->backlog) {
		stack_count(s, SYNACK_CTR_ListenOverflows);
		stack_count(s, SYNACK_CTR_ListenDrops);
		rx_drop(s, rx, SYNACK_DROP_TCP_LISTEN_OVERFLOW);
		return;
	}
	uint32_t synq_max = tcb_lq(l)->backlog > 0 ? (uint32_t)tcb_lq(l)->backlog : 1;
	bool synq_full = tcb_lq(l)->synq_len >= synq_max;
	/* SYN cookies (tcp_syncookie.c): mode 1 when the SYN queue is full, mode 2 always. */
	if (syncookie_syn(s, l, rx, synq_full))
		return;
	if (synq_full) {
		stack_count(s, SYNACK_CTR_ListenDrops);
		rx_drop(s, rx, SYNACK_DROP_TCP_SYNQ_FULL);
		return;
	}
	/* RFC 7413 §4.2.2: a SYN with a valid Fast Open cookie makes a connection at once. */
	struct tcp_tfo fo;
	bool fast = tfo_server_syn(s, l, rx, &fo);
	struct synack_tcb *c = listen_add_child(s, l, rx);
	if (!c)
		return;
	c->fl->tfo.send_cookie = fo.send_cookie;
	c->fl->tfo.cookie_exp = fo.cookie_exp;
	if (!fast || !tfo_child_accept(s, l, c, rx))
		syn_text_queue(s, c, rx);
	tcp_send_syn(s, c, false);
}

void tcp_input_listen(struct synack_stack *s, struct synack_tcb *l, struct rx *rx)
{
	input_listen(s, l, rx);
}

/* ---- §3.10.7.3 SYN-SENT --------------------------------------------------------------------- */

static void syn_sent_established(struct synack_stack *s, struct synack_tcb *c, struct rx *rx)
{
	const struct synack_tcp_seg *seg = rx->seg;
	if (c->rtt_timing && c->fl->retries == 0)
		tcp_rtt_sample(s, c, s->now_us - c->fl->rtt_start_us);
	c->rtt_timing = false;
	c->fl->retries = 0;
	if (!c->rtt_valid) /* no sample (Karn): the backed-off RTO starts over, as Linux */
		c->rto_us = s->cfg.rto_initial_ms * 1000u;
	tcp_cancel_rtx(s, c);
	c->snd_wnd = seg->win;
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = seg->seq;
	c->snd_wl2 = seg->ack;
	if (c->fin_queued)
		c->fin_seq = seq_add(c->fl->snd_buf_seq, c->fl->sndq.len);
	tcp_set_state(s, c, SYNACK_ESTABLISHED);
	tcp_arm_keepalive(s, c);
	syn_text_deliver(c); /* the SYN-ACK's data: readable now, acknowledged below */
	/* "form an ACK segment <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and send it"; data of our
	 * Fast Open SYN that the SYN-ACK did not acknowledge goes again and carries the ACK. */
	if (c->rtx_pending)
		tcp_output(s, c, true);
	else
		tcp_send_ack(s, c);
	if (c->fin_queued) {
		tcp_set_state(s, c, SYNACK_FIN_WAIT_1);
		tcp_output(s, c, false);
	}
}

static void input_syn_sent(struct synack_stack *s, struct synack_tcb *c, struct rx *rx)
{
	const struct synack_tcp_seg *seg = rx->seg;
	bool ack_ok = false;
	/* "If SEG.ACK =< ISS or SEG.ACK > SND.NXT, send a reset (unless the RST bit is set, if
	 * so drop the segment and return) <SEQ=SEG.ACK><CTL=RST>" */
	if (has(rx, SYNACK_TH_ACK)) {
		if (seq_le(seg->ack, c->iss) || seq_gt(seg->ack, c->snd_nxt)) {
			rx_drop(s, rx, SYNACK_DROP_TCP_BAD_SYNACK);
			tcp_reply_reset(s, &rx->t, seg);
			return;
		}
		ack_ok = true;
	}
	/* "If the ACK was acceptable, then signal to the user 'error: connection reset', drop
	 * the segment, enter CLOSED state ... Otherwise (no ACK), drop the segment." */
	if (has(rx, SYNACK_TH_RST)) {
		if (ack_ok)
			tcp_done(s, c, -ECONNREFUSED);
		else
			rx_drop(s, rx, SYNACK_DROP_TCP_NO_ACK);
		return;
	}
	if (!has(rx, SYNACK_TH_SYN)) {
		rx_drop(s, rx, SYNACK_DROP_TCP_BAD_FLAGS);
		return;
	}
	/* "RCV.NXT is set to SEG.SEQ+1, IRS is set to SEG.SEQ." */
	c->irs = seg->seq;
	c->rcv_nxt = seq_add(seg->seq, 1);
	c->rcv_adv = seq_add(c->rcv_nxt, tcp_syn_window(s, c)); /* what our SYN announced */
	negotiate(s, c, &seg->opts);
	if (ack_ok) {
		c->snd_una = seg->ack;
		/* RFC 3168 §6.1.1: our ECN-setup SYN answered by an ECN-setup SYN-ACK (ECE
		 * without CWR) */
		c->ecn_ok = c->ecn_asked && (seg->flags & (SYNACK_TH_ECE | SYNACK_TH_CWR)) ==
							SYNACK_TH_ECE;
		/* "If SND.UNA > ISS (our SYN has been ACKed), change the connection state to
		 * ESTABLISHED" */
		if (c->ts_ok && seg->opts.ts_ecr && c->fl->retries == 0) {
			uint32_t ms = tcp_ts_now(s, c) - seg->opts.ts_ecr;
			c->rtt_timing = false;
			tcp_rtt_sample(s, c, ms * 1000u);
		}
		/* Data on the SYN-ACK: the connection is established by this segment, so its
		 * text is processed now (RFC 9293 §3.10.7.3: "Data or controls that were queued
		 * for transmission may be included"; the same holds for the peer's). */
		syn_text_queue(s, c, rx);
		tfo_synack(s, c, seg);
		syn_sent_established(s, c, rx);
		return;
	}
	/* "Otherwise, enter SYN-RECEIVED, form a SYN,ACK segment <SEQ=ISS><ACK=RCV.NXT>
	 * <CTL=SYN,ACK> and send it." (simultaneous open) */
	c->snd_wnd = seg->win;
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = seg->seq;
	c->snd_wl2 = c->iss;
	tcp_set_state(s, c, SYNACK_SYN_RECEIVED);
	syn_text_queue(s, c, rx);
	tcp_send_syn(s, c, false);
}

/* ---- §3.10.7.4 the synchronized states (and SYN-RECEIVED) ----------------------------------- */

static bool seq_acceptable(const struct synack_tcb *c, seq_t seq, uint32_t len, uint32_t wnd)
{
	seq_t nxt = c->rcv_nxt, edge = seq_add(c->rcv_nxt, wnd);
	if (len == 0)
		return wnd == 0 ? seq == nxt : seq_in(seq, nxt, edge);
	if (wnd == 0)
		return false;
	return seq_in(seq, nxt, edge) || seq_in(seq_add(seq, len - 1), nxt, edge);
}

static uint32_t acceptance_window(struct synack_stack *s, const struct synack_tcb *c)
{
	uint32_t wnd = tcp_rcv_window_mem(s, c), max = 65535u << c->rcv_wscale;
	return wnd < max ? wnd : max;
}

/* RFC 7323 §5.3 R1, PAWS: "If there is a Timestamps option in the arriving segment,
 * SEG.TSval < TS.Recent, TS.Recent is valid ..., and the RST bit is not set, then treat the
 * arriving segment as not acceptable: Send an acknowledgment in reply ... and drop the
 * segment." (TS.Recent is not invalidated after 24 idle days.) */
static bool paws_reject(struct synack_stack *s, struct synack_tcb *c, const struct rx *rx)
{
	const struct synack_tcp_seg *seg = rx->seg;
	if (!c->ts_ok || !seg->opts.has_ts || has(rx, SYNACK_TH_RST) ||
	    !seq_lt(seg->opts.ts_val, c->ts_recent))
		return false;
	rx_drop(s, rx, SYNACK_DROP_TCP_NOT_ACCEPTABLE);
	tcp_send_ack(s, c);
	return true;
}

/* "first check sequence number": the four cases of segment length and receive window. */
static bool check_sequence(struct synack_stack *s, struct synack_tcb *c, struct rx *rx)
{
	const struct synack_tcp_seg *seg = rx->seg;
	uint32_t wnd = acceptance_window(s, c);
	if (seq_acceptable(c, seg->seq, rx->seg_len, wnd))
		return true;
	/* "If the RCV.WND is zero, no segments will be acceptable, but special allowance should
	 * be made to accept valid ACKs, URGs, and RSTs." */
	if (wnd == 0 && seg->seq == c->rcv_nxt) {
		rx->text_dropped = true;
		rx->ack_now = true;
		return true;
	}
	/* "If an incoming segment is not acceptable, an acknowledgment should be sent in reply
	 * (unless the RST bit is set, if so drop the segment and return)" */
	if (has(rx, SYNACK_TH_RST)) {
		rx_drop(s, rx, SYNACK_DROP_TCP_NOT_ACCEPTABLE);
		return false;
	}
	if (!has(rx, SYNACK_TH_SYN))
		refresh_ts_recent(c, rx);
	if (seg->len > 0 && !has(rx, SYNACK_TH_SYN) &&
	    seq_le(seq_add(seg->seq, (uint32_t)seg->len), c->rcv_nxt))
		report_dsack(c, seg->seq, seq_add(seg->seq, (uint32_t)seg->len));
	if (c->state == SYNACK_TIME_WAIT && has(rx, SYNACK_TH_FIN)) {
		/* A retransmitted FIN: our last ACK was lost. "Acknowledge it, and restart the
		 * 2 MSL timeout." */
		tcp_send_ack(s, c);
		tcp_enter_time_wait(s, c);
		return false;
	}
	if (has(rx, SYNACK_TH_SYN) && tcp_state_synchronized(c->state)) {
		/* RFC 5961 §4.2: a SYN, "irrespective of the sequence number", draws a
		 * challenge ACK. */
		stack_count(s, SYNACK_CTR_TCPSYNChallenge);
		rx_drop(s, rx, SYNACK_DROP_TCP_SYN_IN_WINDOW);
		challenge_ack(s, c, rx);
		return false;
	}
	rx_drop(s, rx, SYNACK_DROP_TCP_NOT_ACCEPTABLE);
	tcp_send_ack(s, c);
	return false;
}

/* A passive SYN-RECEIVED entry goes back to LISTEN: the listener keeps listening and this
 * half-open TCB is deleted. */
static void back_to_listen(struct synack_stack *s, struct synack_tcb *c)
{
	tcp_cancel_timers(s, c);
	tcb_conntab_remove(s, c);
	tcp_set_state(s, c, SYNACK_LISTEN);
	tcb_kill(s, c);
}

/* "second check the RST bit", with RFC 5961 §3.2 and RFC 1337. */
static bool check_rst(struct synack_stack *s, struct synack_tcb *c, struct rx *rx)
{
	if (!has(rx, SYNACK_TH_RST))
		return true;
	/* RFC 1337: TIME-WAIT assassination hazards; ignore the RST. */
	if (c->state == SYNACK_TIME_WAIT) {
		rx_drop(s, rx, SYNACK_DROP_TCP_RST_IN_TIME_WAIT);
		return false;
	}
	/* RFC 5961 §3.2: "If the RST bit is set and the sequence number exactly matches the next
	 * expected sequence number (RCV.NXT), then TCP MUST reset the connection ... Otherwise
	 * ... TCP MUST send an ACK (challenge ACK)". */
	if (rx->seg->seq != c->rcv_nxt) {
		rx_drop(s, rx, SYNACK_DROP_TCP_RST_NOT_EXACT);
		challenge_ack(s, c, rx);
		return false;
	}
	switch (c->state) {
	case SYNACK_SYN_RECEIVED:
		if (c->passive && c->fd < 0)
			back_to_listen(s, c);
		else if (c->passive)
			tcp_done(s, c, -ECONNRESET); /* an accepted Fast Open child */
		else
			tcp_done(s, c, -ECONNREFUSED);
		break;
	case SYNACK_CLOSE_WAIT:
		c->reset = true;
		tcp_done(s, c, -EPIPE); /* Linux: the peer had already finished sending */
		break;
	default:
		c->reset = true;
		tcp_done(s, c, -ECONNRESET);
		break;
	}
	return false;
}

/* "fourth, check the SYN bit" */
static bool check_syn(struct synack_stack *s, struct synack_tcb *c, struct rx *rx)
{
	if (!has(rx, SYNACK_TH_SYN))
		return true;
	/* "SYN-RECEIVED STATE: If the connection was initiated with a passive OPEN, then return
	 * this connection to the LISTEN state and return." */
	if (c->state == SYNACK_SYN_RECEIVED && c->passive) {
		rx_drop(s, rx, SYNACK_DROP_TCP_SYN_IN_WINDOW);
		if (c->fd >= 0) /* an accepted Fast Open connection: the application hears */
			tcp_done(s, c, -ECONNRESET);
		else
			back_to_listen(s, c);
		return false;
	}
	/* RFC 5961 §4.2: challenge ACK. */
	stack_count(s, SYNACK_CTR_TCPSYNChallenge);
	rx_drop(s, rx, SYNACK_DROP_TCP_SYN_IN_WINDOW);
	challenge_ack(s, c, rx);
	return false;
}

/* Data beyond RCV.NXT, already written at its place in the ring: recorded in the range map
 * (or dropped when the map is full), its FIN kept for when the gap fills. */
static void text_out_of_order(struct synack_stack *s, struct synack_tcb *c, struct rx *rx,
			      seq_t seq, uint32_t len)
{
	bool fin = has(rx, SYNACK_TH_FIN) && !rx->text_dropped;
	rx->text_dropped = true;
	if (!ooo_add(&c->fl->ooo, seq, seq_add(seq, len))) {
		stack_count(s, SYNACK_CTR_TCPOFODrop);
		rx_drop(s, rx, SYNACK_DROP_TCP_OOO_FULL);
		return;
	}
	stack_count(s, SYNACK_CTR_TCPOFOQueue);
	c->fl->sack_recent = seq; /* RFC 2018 §4: its block goes first in the next SACK */
	if (fin) {
		c->ooo_fin = true;
		c->fl->ooo_fin_seq = seq_add(seq, len);
	}
}

/* Out of memory for data in sequence while out-of-order data holds chunks: that data goes
 * (the peer sends it again; RFC 2018 §8 lets a receiver renege on what it SACKed), so that
 * no set of connections can wait on each other's gaps forever. */
static void prune_ooo(struct synack_stack *s, struct synack_tcb *c)
{
	stack_count(s, SYNACK_CTR_OfoPruned);
	c->fl->ooo.n = 0;
	c->ooo_fin = false;
	ring_drop_past(&c->fl->rcvq, &s->bufs);
	tcb_rcvq_settle(s, c);
}

/* "seventh, process the segment text" */
static bool process_text(struct synack_stack *s, struct synack_tcb *c, struct rx *rx)
{
	const struct synack_tcp_seg *seg = rx->seg;
	if (seg->len == 0 || rx->text_dropped)
		return true;
	if (!tcp_state_receives(c->state))
		return true; /* "This should not occur since a FIN has been received" */
	seq_t seq = seg->seq;
	const uint8_t *data = seg->payload;
	uint32_t len = (uint32_t)seg->len;
	if (c->orphan && seq_gt(seq_add(seq, len), c->rcv_nxt)) {
		/* Linux: new data for a socket the user has closed cannot be delivered: reset. */
		stack_count(s, SYNACK_CTR_TCPAbortOnData);
		tcp_send_reset(s, c);
		tcp_done(s, c, 0);
		return false;
	}
	if (seq_lt(seq, c->rcv_nxt)) {
		uint32_t skip = (uint32_t)seq_diff(c->rcv_nxt, seq);
		report_dsack(c, seq, skip < len ? c->rcv_nxt : seq_add(seq, len));
		if (skip >= len) {
			/* A duplicate: acknowledged at once, in quick-ACK mode (Linux). */
			tcp_delack_enter_quickack(c);
			rx->ack_now = true;
			return true;
		}
		seq = c->rcv_nxt;
		data += skip;
		len -= skip;
	}
	uint32_t wnd = acceptance_window(s, c), off = (uint32_t)seq_diff(seq, c->rcv_nxt);
	if (off >= wnd) {
		rx->text_dropped = true;
		rx->ack_now = true;
		return true;
	}
	if (off + len > wnd) {
		len = wnd - off;
		rx->text_dropped = true;
		rx->ack_now = true;
	}
	bool stored = (off == 0 || tcb_ooo_ready(s, c)) &&
		      ring_write_at(&c->fl->rcvq, &s->bufs, c->fl->rcvq.len + off, data, len);
	if (!stored && off == 0 && c->fl->ooo.n > 0) {
		prune_ooo(s, c); /* data in sequence comes first (Linux's tcp_prune_ofo_queue) */
		stored = ring_write_at(&c->fl->rcvq, &s->bufs, c->fl->rcvq.len, data, len);
	}
	if (!stored) {
		/* No buffer memory (tcp_mem[2], or the allocator): dropped, the peer sends it
		 * again; nothing accepted before is touched. */
		stack_count(s, SYNACK_CTR_TCPRcvQDrop);
		rx_drop(s, rx, SYNACK_DROP_TCP_NO_MEMORY);
		rx->text_dropped = true;
		rx->ack_now = true;
		return true;
	}
	if (off > 0) {
		rx->ack_now = true; /* out of order: a duplicate ACK at once (RFC 5681 §4.2) */
		text_out_of_order(s, c, rx, seq, len);
		return true;
	}
	/* RFC 5681 §4.2: "an immediate ACK ... when the segment fills in all or part of a gap" */
	if (c->fl->ooo.n > 0)
		rx->ack_now = true;
	rx->data_in = true;
	tcp_delack_data_in(s, c, (uint32_t)seg->len, (seg->flags & SYNACK_TH_PSH) != 0);
	c->fl->rcvq.len += len;
	c->rcv_nxt = seq_add(c->rcv_nxt, len);
	/* Out-of-order data now in sequence joins the readable bytes. */
	while (c->fl->ooo.n && seq_le(c->fl->ooo.r[0].start, c->rcv_nxt)) {
		seq_t end = ooo_advance(&c->fl->ooo, c->rcv_nxt);
		c->fl->rcvq.len += (uint32_t)seq_diff(end, c->rcv_nxt);
		c->rcv_nxt = end;
	}
	if (c->fl->ooo.r && c->fl->ooo.n == 0)
		tcb_rcvq_settle(s, c); /* the gap is filled: the range map goes back */
	tcp_rcv_rtt_measure(s, c, seg);
	return true;
}

/* Is there a FIN to take now: this segment's, in sequence, or one kept out of order that the
 * data has now reached? A FIN beyond RCV.NXT without data is remembered. */
static bool fin_in_sequence(struct synack_tcb *c, struct rx *rx)
{
	const struct synack_tcp_seg *seg = rx->seg;
	if (has(rx, SYNACK_TH_FIN) && !rx->text_dropped) {
		seq_t fin = seq_add(seg->seq, (uint32_t)seg->len);
		if (c->rcvd_fin || fin == c->rcv_nxt)
			return true;
		if (seq_gt(fin, c->rcv_nxt) && seg->len == 0 && tcp_state_receives(c->state)) {
			c->ooo_fin = true;
			c->fl->ooo_fin_seq = fin;
			rx->ack_now = true; /* a duplicate ACK: the gap before it */
		}
	}
	return !c->rcvd_fin && c->ooo_fin && c->fl->ooo_fin_seq == c->rcv_nxt;
}

/* "eighth, check the FIN bit" */
static void check_fin(struct synack_stack *s, struct synack_tcb *c, struct rx *rx)
{
	if (!fin_in_sequence(c, rx))
		return;
	c->ooo_fin = false;
	if (!c->rcvd_fin) {
		/* "advance RCV.NXT over the FIN, and send an acknowledgment for the FIN" */
		c->rcv_nxt = seq_add(c->rcv_nxt, 1);
		c->rcvd_fin = true;
	}
	rx->ack_now = true;
	switch (c->state) {
	case SYNACK_SYN_RECEIVED:
	case SYNACK_ESTABLISHED:
		tcp_set_state(s, c, SYNACK_CLOSE_WAIT);
		break;
	case SYNACK_FIN_WAIT_1:
		/* "If our FIN has been ACKed (perhaps in this segment), then enter TIME-WAIT ...
		 * otherwise, enter the CLOSING state." (FIN-WAIT-2 already covers the first.) */
		tcp_set_state(s, c, SYNACK_CLOSING);
		break;
	case SYNACK_FIN_WAIT_2:
		tcp_set_state(s, c, SYNACK_TIME_WAIT);
		tcp_enter_time_wait(s, c);
		break;
	case SYNACK_TIME_WAIT:
		tcp_enter_time_wait(s, c); /* "restart the 2 MSL time-wait timeout" */
		break;
	default:
		break; /* CLOSE-WAIT, CLOSING, LAST-ACK: "Remain in the ... state." */
	}
}

/* RFC 9293 figure 7, line 6 (and Linux's tcp_validate_incoming): in a simultaneous open the
 * peer's SYN,ACK <SEQ=IRS><ACK=ISS+1> completes the connection. Read literally, the text's
 * sequence test would find it unacceptable (it starts below RCV.NXT) and answer with an ACK;
 * the figure, and Linux, take its acknowledgment. Its SYN is old news and is skipped. */
static bool simultaneous_synack(struct synack_stack *s, struct synack_tcb *c, struct rx *rx)
{
	const struct synack_tcp_seg *seg = rx->seg;
	if (c->state != SYNACK_SYN_RECEIVED || c->passive || seg->len != 0 ||
	    seg->flags != (SYNACK_TH_SYN | SYNACK_TH_ACK) || seg->seq != c->irs ||
	    seg->ack != c->snd_nxt)
		return false;
	struct synack_tcp_seg ack = *seg;
	ack.flags = SYNACK_TH_ACK;
	ack.seq = c->rcv_nxt;
	struct rx rx2 = *rx;
	rx2.seg = &ack;
	rx2.seg_len = 0;
	if (check_ack(s, c, &rx2)) {
		c->snd_wnd = seg->win; /* a SYN's window is never scaled */
		c->max_snd_wnd = c->snd_wnd;
		tcp_output(s, c, false);
		tcp_wake(s, c);
	}
	return true;
}

/* "sixth, check the URG bit" (RFC 9293 §3.10.7.4), as Linux's tcp_check_urg: the pointer marks
 * the byte before it (SEG.UP points past the urgent data); a mark already read past, or not
 * newer than the one pending, changes nothing. */
static void urg_input(struct synack_tcb *c, const struct rx *rx)
{
	const struct synack_tcp_seg *seg = rx->seg;
	if (!has(rx, SYNACK_TH_URG) || !tcp_state_receives(c->state) || c->rcvd_fin)
		return;
	seq_t ptr = seq_add(seg->seq, seg->urp ? seg->urp - 1u : 0u);
	if (seq_lt(ptr, tcp_read_seq(c)))
		return;
	if (c->fl->urg_state != URG_NONE && !seq_gt(ptr, c->fl->urg_seq))
		return;
	c->fl->urg_state = URG_NOTYET;
	c->fl->urg_seq = ptr;
}

/* The urgent byte has arrived in sequence: keep it for recv(MSG_OOB). */
static void urg_arrived(struct synack_tcb *c)
{
	if (c->fl->urg_state != URG_NOTYET || !seq_lt(c->fl->urg_seq, c->rcv_nxt))
		return;
	uint32_t off = (uint32_t)seq_diff(c->fl->urg_seq, tcp_read_seq(c));
	ring_peek(&c->fl->rcvq, off, &c->fl->urg_byte, 1);
	c->fl->urg_state = URG_VALID;
}

/* RFC 3168 §6.1.3: a CE mark makes every ACK carry ECE (and go at once), until a segment with
 * CWR says the sender has reduced its window. */
static void ecn_input(struct synack_stack *s, struct synack_tcb *c, struct rx *rx)
{
	if (rx->ecn == 3)
		stack_count(s, SYNACK_CTR_InCEPkts);
	else if (rx->ecn == 2)
		stack_count(s, SYNACK_CTR_InECT0Pkts);
	if (!c->ecn_ok)
		return;
	if (has(rx, SYNACK_TH_CWR))
		c->ece_pending = false;
	if (rx->ecn == 3) {
		c->ece_pending = true;
		rx->ack_now = true;
	}
}

static void input_synchronized(struct synack_stack *s, struct synack_tcb *c, struct rx *rx)
{
	if (simultaneous_synack(s, c, rx))
		return;
	/* Our SYN-ACK was lost and the peer repeats its SYN: send the SYN-ACK again. */
	if (c->state == SYNACK_SYN_RECEIVED && c->passive &&
	    (rx->seg->flags & (SYNACK_TH_SYN | SYNACK_TH_ACK | SYNACK_TH_RST)) == SYNACK_TH_SYN &&
	    rx->seg->seq == c->irs) {
		tcp_send_syn(s, c, true);
		return;
	}
	if (paws_reject(s, c, rx) || !check_sequence(s, c, rx))
		return;
	ecn_input(s, c, rx);
	if (!check_rst(s, c, rx) || !check_syn(s, c, rx) || !check_ack(s, c, rx))
		return;
	if (syn_text_deliver(c))
		rx->ack_now = true;
	urg_input(c, rx);
	if (!process_text(s, c, rx))
		return;
	urg_arrived(c);
	check_fin(s, c, rx);
	if (c->state == SYNACK_CLOSED)
		return;
	/* An ACK the in-sequence data owes goes at the end of the input batch (tcp_delack.c);
	 * the other immediate ACKs answer this segment. */
	bool owe = !rx->ack_now && rx->data_in && tcp_delack_ack_now(c);
	tcp_output(s, c, rx->ack_now || (owe && !s->batching));
	if (owe && s->batching && c->fl->rcv_wup != c->rcv_nxt)
		tcp_delack_owe(s, c);
	if (rx->data_in)
		tcp_delack_schedule(s, c);
	tcp_wake(s, c);
}

static void conn_input(struct synack_stack *s, struct synack_tcb *c, struct rx *rx)
{
	c->last_rx_us = s->now_us; /* any segment restarts the keepalive idle time */
	c->keep_probes = 0;
	if (c->state == SYNACK_SYN_SENT)
		input_syn_sent(s, c, rx);
	else
		input_synchronized(s, c, rx);
}

/* §3.10.7.1: "If the state is CLOSED (i.e., TCB does not exist) ... An incoming segment not
 * containing a RST causes a RST to be sent in response." */
static void no_socket(struct synack_stack *s, struct rx *rx)
{
	rx_drop(s, rx, SYNACK_DROP_TCP_NO_SOCKET);
	tcp_reply_reset(s, &rx->t, rx->seg);
}

/* The ECN field of the IP header the segment came in (RFC 3168 §5): the low two bits of IPv4's
 * TOS byte, or of IPv6's traffic class. */
static uint8_t frame_ecn(const uint8_t *frame, size_t len)
{
	if (!frame || len < 2)
		return 0;
	if (frame[0] >> 4 == 6)
		return (uint8_t)((frame[1] >> 4) & 3);
	return (uint8_t)(frame[1] & 3);
}

void tcp_input(struct synack_stack *s, const struct synack_addr *src, const struct synack_addr *dst,
	       const uint8_t *tcp, size_t tcp_len, const uint8_t *frame, size_t frame_len,
	       bool csum_ok)
{
	struct synack_tcp_seg seg;
	stack_count(s, SYNACK_CTR_InSegs);
	/* MUST-3 ("checked on every segment") by us, or by the link that said so. */
	int r = synack_tcp_parse(tcp, tcp_len, src, dst, !csum_ok, &seg);
	if (r < 0) {
		stack_count(s, SYNACK_CTR_InErrs);
		if (r == -SYNACK_DROP_TCP_BAD_CSUM)
			stack_count(s, SYNACK_CTR_InCsumErrors);
		stack_drop(s, (enum synack_drop_reason)-r, NULL, NULL, frame, frame_len);
		return;
	}
	/* Linux counts a coalesced segment's pieces (gso_segs) in InSegs. */
	uint16_t gso = s->rx_gso_size;
	if (gso && seg.len > gso)
		s->ctr.v[SYNACK_CTR_InSegs] += (seg.len + gso - 1) / gso - 1;
	struct rx rx = {
		.seg = &seg,
		.t = {.laddr = *dst, .raddr = *src, .lport = seg.dport, .rport = seg.sport},
		.frame = frame,
		.frame_len = frame_len,
		.seg_len = (uint32_t)seg.len + !!(seg.flags & SYNACK_TH_SYN) +
			   !!(seg.flags & SYNACK_TH_FIN),
		.ecn = frame_ecn(frame, frame_len),
	};
	if ((seg.flags & (SYNACK_TH_SYN | SYNACK_TH_RST)) == (SYNACK_TH_SYN | SYNACK_TH_RST) ||
	    seg.sport == 0 || seg.dport == 0) {
		stack_count(s, SYNACK_CTR_InErrs);
		rx_drop(s, &rx, SYNACK_DROP_TCP_BAD_FLAGS);
		return;
	}
	struct synack_conntab_hdr *n = synack_conntab_lookup(&s->conns, &rx.t);
	if (n) {
		/* A request entry (tcp_req.c) becomes its block again before anything else, so the
		 * segment is traced and handled as the block's. */
		uint8_t kind = n->kind; /* a woken request's node is freed */
		struct synack_tcb *c = kind == CONNTAB_KIND_REQ ? req_wake(s, n) : tcb_of_node(n);
		if (c && !tcb_unfold(s, c))
			c = NULL; /* no memory for its flow (tcb_flow.c) */
		stack_trace_rx(s, &rx.t, &seg, frame, frame_len);
		if (kind == CONNTAB_KIND_TW) {
			tw_input(s, n, &rx);
			return;
		}
		if (!c) {
			rx_drop(s, &rx, SYNACK_DROP_TCP_NO_MEMORY);
			return;
		}
		conn_input(s, c, &rx);
		/* A closed connection that has just entered TIME-WAIT goes on as a compact
		 * entry (tcp_tw.c). */
		if (c->state == SYNACK_TIME_WAIT && c->orphan && c->fd < 0 && !c->dead)
			tw_adopt(s, c);
		return;
	}
	/* A listener bound to one of our addresses hears only segments sent to it; a wildcard
	 * one the families it was bound for (IPV6_V6ONLY). */
	struct synack_tcb *l = ports_find_listener(s, seg.dport, dst);
	if (l) {
		stack_trace_rx(s, &rx.t, &seg, frame, frame_len);
		input_listen(s, l, &rx);
		return;
	}
	no_socket(s, &rx);
}
