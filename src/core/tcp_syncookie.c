/* SYN cookies at a listener: see tcp_syncookie.h. Linux's tcp_conn_request (want_cookie),
 * cookie_v4_init_sequence, cookie_v4_check and cookie_timestamp_decode are the reference. */
#include <string.h>

#include "core/cookie.h"
#include "core/tcp_syncookie.h"

/* Linux's TCP_SYNCOOKIE_VALID: ACKs are checked while a cookie sent this long ago may be
 * alive (tcp_synq_no_recent_overflow). */
#define SYNCOOKIE_VALID_US (SYNACK_COOKIE_MAX_AGE * SYNACK_COOKIE_PERIOD_US)

/* The MSS we announce on l's connections: the configured one, lowered by TCP_MAXSEG. */
static uint16_t listener_mss(const struct synack_stack *s, const struct synack_tcb *l,
			     const struct synack_addr *peer)
{
	uint16_t m = stack_mss_for(s, peer);
	return l->user_mss && l->user_mss < m ? l->user_mss : m;
}

/* The window of the SYN-ACK as tcp_output.c computes it: the largest multiple of the MSS (less
 * the timestamp option) within min(rcvbuf, 65535). */
static uint16_t syn_window(const struct synack_stack *s, const struct synack_tcb *l,
			   const struct synack_addr *peer, bool ts)
{
	uint32_t mss = listener_mss(s, l, peer) - (ts ? 12u : 0u);
	uint32_t lim = l->rcvbuf_size < 65535 ? l->rcvbuf_size : 65535;
	uint32_t w = lim / mss * mss;
	return (uint16_t)(w ? w : lim);
}

static bool cookies_recent(const struct synack_stack *s, const struct synack_tcb *l)
{
	return tcb_lq(l)->syncookie_sent_us != 0 &&
	       s->now_us + 1 - tcb_lq(l)->syncookie_sent_us <= SYNCOOKIE_VALID_US;
}

bool syncookie_syn(struct synack_stack *s, struct synack_tcb *l, const struct rx *rx,
		   bool synq_full)
{
	if (s->cfg.syncookies == 0 || (s->cfg.syncookies == 1 && !synq_full))
		return false;
	const struct synack_tcp_seg *syn = rx->seg;
	const struct synack_tcp_opts *in = &syn->opts;
	/* The MSS the cookie remembers is the peer's, clamped by TCP_MAXSEG (Linux's mss_clamp);
	 * RFC 9293 §3.7.1: without the option, 536. */
	uint16_t peer_mss = in->has_mss ? in->mss : 536;
	if (l->user_mss && l->user_mss < peer_mss)
		peer_mss = l->user_mss;

	struct synack_tcp_seg out;
	memset(&out, 0, sizeof out);
	out.sport = rx->t.lport;
	out.dport = rx->t.rport;
	out.seq = synack_cookie_make(s->cfg.secret, &rx->t, syn->seq, peer_mss, s->now_us, NULL);
	out.ack = seq_add(syn->seq, 1);
	out.flags = SYNACK_TH_SYN | SYNACK_TH_ACK;
	out.opts.has_mss = true;
	out.opts.mss = listener_mss(s, l, &rx->t.raddr);
	/* Window scale and SACK-permitted can only be remembered in the timestamp: without one
	 * the SYN-ACK does not offer them (Linux clears the options). */
	bool ts = s->cfg.timestamps && in->has_ts;
	if (ts) {
		struct synack_cookie_opts co = {
			.wscale_ok = s->cfg.window_scaling && in->has_wscale,
			.snd_wscale = in->wscale > 14 ? 14 : in->wscale,
			.sack_ok = s->cfg.sack && in->sack_ok,
			/* Linux (cookie_ecn_ok): the ECN agreement rides in the timestamp */
			.ecn_ok = s->cfg.ecn && (syn->flags & (SYNACK_TH_ECE | SYNACK_TH_CWR)) ==
							(SYNACK_TH_ECE | SYNACK_TH_CWR),
		};
		if (co.ecn_ok)
			out.flags |= SYNACK_TH_ECE;
		uint32_t now_ms = (uint32_t)(s->now_us / 1000);
		out.opts.has_ts = true;
		out.opts.ts_val = synack_cookie_ts_encode(
			now_ms + synack_cookie_ts_offset(s->cfg.secret, &rx->t), &co);
		out.opts.ts_ecr = in->ts_val;
		out.opts.sack_ok = co.sack_ok;
		out.opts.has_wscale = co.wscale_ok;
		/* the shift negotiate() (tcp_input.c) will give the child: it inherits the
		 * listener's buffer settings, so tcp_choose_wscale gives the same */
		out.opts.wscale = tcp_choose_wscale(s, l);
	}
	out.win = syn_window(s, l, &rx->t.raddr, ts);
	stack_emit_tcp(s, &rx->t, &out, false);
	stack_count(s, SYNACK_CTR_SyncookiesSent);
	tcb_lq(l)->syncookie_sent_us = s->now_us + 1; /* 0 means never */
	return true;
}

/* Rebuilds the SYN a valid cookie ACK stands for. Returns false when its timestamp claims
 * options this stack has switched off since (cookie_timestamp_decode). */
static bool rebuild_syn(const struct synack_stack *s, const struct synack_tcp_seg *ack,
			uint16_t mss, struct synack_tcp_seg *syn)
{
	memset(syn, 0, sizeof *syn);
	syn->sport = ack->sport;
	syn->dport = ack->dport;
	syn->seq = ack->seq - 1u;
	syn->flags = SYNACK_TH_SYN;
	syn->win = ack->win;
	syn->opts.has_mss = true;
	syn->opts.mss = mss;
	if (!ack->opts.has_ts)
		return true; /* no options beyond the MSS survive a cookie without timestamps */
	if (!s->cfg.timestamps)
		return false;
	struct synack_cookie_opts co;
	if (!synack_cookie_ts_decode(ack->opts.ts_ecr, s->cfg.sack, s->cfg.window_scaling, &co))
		return false;
	syn->opts.has_ts = true;
	syn->opts.ts_val = ack->opts.ts_val;
	syn->opts.sack_ok = co.sack_ok;
	syn->opts.has_wscale = co.wscale_ok;
	syn->opts.wscale = co.snd_wscale;
	if (co.ecn_ok) /* the SYN was ECN-setup and we agreed: child_init agrees again */
		syn->flags |= SYNACK_TH_ECE | SYNACK_TH_CWR;
	return true;
}

enum syncookie_verdict syncookie_ack(struct synack_stack *s, struct synack_tcb *l,
				     const struct rx *rx, struct synack_tcp_seg *syn)
{
	const struct synack_tcp_seg *ack = rx->seg;
	if (s->cfg.syncookies == 0 || !(ack->flags & SYNACK_TH_ACK) ||
	    (ack->flags & (SYNACK_TH_SYN | SYNACK_TH_RST)))
		return SYNCOOKIE_NONE;
	/* Linux checks only while a cookie it sent may still be alive: an ACK at a listener
	 * that never sent one is a plain stray segment. */
	if (!cookies_recent(s, l))
		return SYNCOOKIE_NONE;
	uint16_t mss = synack_cookie_check(s->cfg.secret, &rx->t, ack->seq, ack->ack, s->now_us);
	if (mss == 0) {
		stack_count(s, SYNACK_CTR_SyncookiesFailed);
		return SYNCOOKIE_NONE;
	}
	stack_count(s, SYNACK_CTR_SyncookiesRecv);
	if (!rebuild_syn(s, ack, mss, syn))
		return SYNCOOKIE_NONE;
	/* Linux: a full accept queue drops the completing ACK (the peer will retransmit). */
	if (tcb_lq(l)->acceptq_len > (uint32_t)tcb_lq(l)->backlog) {
		stack_count(s, SYNACK_CTR_ListenOverflows);
		stack_count(s, SYNACK_CTR_ListenDrops);
		rx_drop(s, rx, SYNACK_DROP_TCP_LISTEN_OVERFLOW);
		return SYNCOOKIE_DROP;
	}
	return SYNCOOKIE_CHILD;
}

void syncookie_child(struct synack_stack *s, struct synack_tcb *c, const struct synack_tcp_seg *ack)
{
	seq_t iss = ack->ack - 1u;
	c->iss = iss;
	c->snd_una = iss;
	c->snd_nxt = seq_add(iss, 1);
	c->fl->snd_max = c->snd_nxt;
	c->fl->snd_sml = iss;
	c->fl->snd_buf_seq = seq_add(iss, 1);
	c->snd_wl2 = iss;
	c->ts_offset = synack_cookie_ts_offset(s->cfg.secret, tcb_tuple(c));
}
