/* State inference and segment marks from a capture: see infer.h for the rules and why they are
 * evidence-based. Sequence numbers only through core/seq.h.
 */
#include "render/infer.h"

#include <stdio.h>
#include <string.h>

#include "util/seq.h"

#define OOO_MIN_US 1000 /* a gap filled sooner than max(RTT, this) is reordering, not loss */

void synack_infer_init(struct synack_infer *inf)
{
	memset(inf, 0, sizeof *inf);
	inf->st[0] = inf->st[1] = SYNACK_CLOSED;
}

static bool done_state(enum synack_tcp_state s)
{
	return s == SYNACK_CLOSED || s == SYNACK_TIME_WAIT;
}

bool synack_infer_closed(const struct synack_infer *inf)
{
	return inf->started && (inf->reset || (done_state(inf->st[0]) && done_state(inf->st[1])));
}

bool synack_infer_is_new_syn(const struct synack_infer *inf, int dir,
			     const struct synack_tcp_seg *seg)
{
	if (!inf->started || (seg->flags & (SYNACK_TH_SYN | SYNACK_TH_ACK)) != SYNACK_TH_SYN)
		return false;
	if (synack_infer_closed(inf) || inf->uncertain)
		return true;
	const struct synack_infer_dir *d = &inf->d[dir];
	return d->has_isn && d->isn != seg->seq;
}

uint64_t synack_infer_window(const struct synack_infer *inf, int dir, uint16_t raw_win, bool syn)
{
	/* RFC 7323 §2.2: "The window field in a segment where the SYN bit is set ... MUST NOT
	 * be scaled"; scaling applies only when both sides sent the option. */
	const struct synack_infer_dir *d = &inf->d[dir];
	if (syn || !d->wscale_ok || !inf->d[!dir].wscale_ok)
		return raw_win;
	return (uint64_t)raw_win << (d->wscale > 14 ? 14 : d->wscale);
}

static void change(struct synack_infer *inf, struct synack_infer_result *res, int ep,
		   enum synack_tcp_state to, bool before)
{
	enum synack_tcp_state from = inf->st[ep];
	if (from == to || res->nchanges >= SYNACK_INFER_MAX_CHANGES)
		return;
	inf->st[ep] = to;
	res->ch[res->nchanges++] = (struct synack_infer_change){
		.ep = (uint8_t)ep,
		.before = before,
		.uncertain = inf->uncertain && to != SYNACK_CLOSED,
		.from = from,
		.to = to,
	};
}

/* The closing states follow from three facts per side (RFC 9293 §3.6): whether it sent its FIN,
 * whether that FIN was acknowledged, and whether it received the peer's FIN (and which came
 * first: closing first leads through FIN-WAIT to TIME-WAIT, closing second through CLOSE-WAIT
 * to LAST-ACK and CLOSED). */
static enum synack_tcp_state closing_state(const struct synack_infer_dir *d)
{
	if (!d->fin_sent)
		return d->peer_fin_rcvd ? SYNACK_CLOSE_WAIT : SYNACK_ESTABLISHED;
	if (!d->peer_fin_rcvd)
		return d->fin_acked ? SYNACK_FIN_WAIT_2 : SYNACK_FIN_WAIT_1;
	if (!d->fin_first)
		return d->fin_acked ? SYNACK_CLOSED : SYNACK_LAST_ACK;
	return d->fin_acked ? SYNACK_TIME_WAIT : SYNACK_CLOSING;
}

static bool synchronized(enum synack_tcp_state s)
{
	return s != SYNACK_CLOSED && s != SYNACK_LISTEN && s != SYNACK_SYN_SENT &&
	       s != SYNACK_SYN_RECEIVED;
}

static void settle(struct synack_infer *inf, struct synack_infer_result *res, int ep, bool before)
{
	if (synchronized(inf->st[ep]) || inf->d[ep].fin_sent)
		change(inf, res, ep, closing_state(&inf->d[ep]), before);
}

/* The first segment of a connection sets the starting states. */
static void first_segment(struct synack_infer *inf, int dir, const struct synack_tcp_seg *seg,
			  uint64_t t_us, struct synack_infer_result *res)
{
	inf->started = true;
	uint8_t f = seg->flags & (SYNACK_TH_SYN | SYNACK_TH_ACK);
	if (f == SYNACK_TH_SYN) {
		inf->syn_t_us = t_us;
		/* a passive opener, as far as anyone can tell */
		change(inf, res, !dir, SYNACK_LISTEN, true);
	} else if (f == (SYNACK_TH_SYN | SYNACK_TH_ACK)) {
		change(inf, res, dir, SYNACK_LISTEN, true);
		change(inf, res, !dir, SYNACK_SYN_SENT, true); /* its SYN was not captured */
		inf->d[!dir].has_isn = true;
		inf->d[!dir].isn = seg->ack - 1;
		inf->d[!dir].has_nxt = true;
		inf->d[!dir].nxt = seg->ack;
	} else if (seg->flags & SYNACK_TH_RST) {
		inf->uncertain = true; /* a lone RST: nothing to say about before */
	} else {
		inf->uncertain = true;
		change(inf, res, dir, SYNACK_ESTABLISHED, true);
		change(inf, res, !dir, SYNACK_ESTABLISHED, true);
	}
}

/* The sender's own transitions, before its segment leaves. */
static void sender_moves(struct synack_infer *inf, int dir, const struct synack_tcp_seg *seg,
			 struct synack_infer_result *res)
{
	struct synack_infer_dir *d = &inf->d[dir], *p = &inf->d[!dir];
	bool syn = seg->flags & SYNACK_TH_SYN, ack = seg->flags & SYNACK_TH_ACK;
	if (syn && !ack) {
		/* A SYN to a side already in SYN-SENT: a simultaneous open (RFC 9293 §3.5). */
		change(inf, res, dir, SYNACK_SYN_SENT, true);
		return;
	}
	if (syn && ack) {
		enum synack_tcp_state st = inf->st[dir];
		if (st == SYNACK_CLOSED || st == SYNACK_LISTEN || st == SYNACK_SYN_SENT)
			change(inf, res, dir, SYNACK_SYN_RECEIVED, true);
		return;
	}
	/* An ACK covering the peer's FIN proves the FIN arrived before this was sent. */
	if (ack && p->fin_sent && !d->peer_fin_rcvd && seq_ge(seg->ack, p->fin_seq + 1)) {
		d->peer_fin_rcvd = true;
		d->fin_first = d->fin_sent;
		settle(inf, res, dir, true);
	}
	if ((seg->flags & SYNACK_TH_FIN) && !d->fin_sent) {
		if (inf->st[dir] == SYNACK_SYN_SENT || inf->st[dir] == SYNACK_SYN_RECEIVED)
			change(inf, res, dir, SYNACK_ESTABLISHED, true);
		d->fin_sent = true;
		d->fin_seq = seg->seq + (uint32_t)seg->len + (syn ? 1 : 0);
		d->fin_first = !d->peer_fin_rcvd;
		settle(inf, res, dir, true);
	}
}

/* The receiver's transitions on the segment's arrival (taken to be when it is seen). */
static void receiver_moves(struct synack_infer *inf, int dir, const struct synack_tcp_seg *seg,
			   struct synack_infer_result *res)
{
	int rx = !dir;
	struct synack_infer_dir *r = &inf->d[rx], *s = &inf->d[dir];
	/* A segment sent after the sender's FIN arrives after it (one path keeps order): the FIN
	 * is in. This is what shows a simultaneous close: each side's FIN-WAIT-1 becomes
	 * CLOSING when the other's FIN arrives before the ACK of its own. */
	if (s->fin_sent && !r->peer_fin_rcvd && seq_ge(seg->seq, s->fin_seq + 1)) {
		r->peer_fin_rcvd = true;
		r->fin_first = r->fin_sent;
		settle(inf, res, rx, false);
	}
	if (!(seg->flags & SYNACK_TH_ACK))
		return;
	enum synack_tcp_state st = inf->st[rx];
	/* SYN-SENT: "If the state is SYN-SENT ... If the ACK bit is set ... and SND.UNA > ISS
	 * (our SYN has been ACKed), change the connection state to ESTABLISHED". */
	if (st == SYNACK_SYN_SENT && (seg->flags & SYNACK_TH_SYN) && r->has_isn &&
	    seg->ack == r->isn + 1) {
		if (!s->bare_syn) {
			change(inf, res, rx, SYNACK_ESTABLISHED, false);
			return;
		}
		/* A simultaneous open (RFC 9293 §3.5, Figure 7): the peer's own SYN came first
		 * and moved this side to SYN-RECEIVED; the SYN-ACK's ACK finishes it below. */
		change(inf, res, rx, SYNACK_SYN_RECEIVED, false);
		st = SYNACK_SYN_RECEIVED;
	}
	/* SYN-RECEIVED: "If SND.UNA < SEG.ACK =< SND.NXT, then enter ESTABLISHED" (after a
	 * simultaneous open the acknowledging segment is the peer's SYN-ACK). */
	if (st == SYNACK_SYN_RECEIVED && r->has_isn && seq_gt(seg->ack, r->isn)) {
		change(inf, res, rx, SYNACK_ESTABLISHED, false);
		st = SYNACK_ESTABLISHED;
	}
	if (r->fin_sent && !r->fin_acked && seq_ge(seg->ack, r->fin_seq + 1)) {
		r->fin_acked = true;
		settle(inf, res, rx, false);
	}
}

static void reset(struct synack_infer *inf, int dir, struct synack_infer_result *res)
{
	res->marks |= SYNACK_MARK_RST;
	inf->reset = true;
	/* A RST from a side that never sent anything is the answer of a port without a
	 * listener: that side never had a connection to leave. */
	if (!inf->d[dir].has_nxt && inf->st[dir] == SYNACK_LISTEN)
		inf->st[dir] = SYNACK_CLOSED;
	change(inf, res, dir, SYNACK_CLOSED, true);
	if (inf->st[!dir] == SYNACK_TIME_WAIT)
		return; /* RFC 1337: TIME-WAIT ignores RSTs (Linux does too) */
	change(inf, res, !dir, SYNACK_CLOSED, false);
}

static void hole_add(struct synack_infer_dir *d, uint32_t lo, uint32_t hi, uint64_t t_us)
{
	if (d->nholes == SYNACK_INFER_HOLES) { /* forget the oldest gap */
		memmove(&d->holes[0], &d->holes[1], sizeof d->holes[0] * (SYNACK_INFER_HOLES - 1));
		d->nholes--;
	}
	d->holes[d->nholes++] = (struct synack_infer_hole){lo, hi, t_us};
}

/* Does [lo, hi) fall into a gap? Then it fills (part of) it: returns the gap's age, else -1. */
static int64_t hole_fill(struct synack_infer_dir *d, uint32_t lo, uint32_t hi, uint64_t t_us)
{
	for (uint8_t i = 0; i < d->nholes; i++) {
		struct synack_infer_hole *h = &d->holes[i];
		if (!seq_in(lo, h->lo, h->hi))
			continue;
		int64_t age = (int64_t)(t_us - h->t_us);
		if (lo == h->lo && seq_ge(hi, h->hi)) {
			memmove(h, h + 1, sizeof *h * (size_t)(d->nholes - i - 1));
			d->nholes--;
		} else if (lo == h->lo) {
			h->lo = hi;
		} else if (seq_ge(hi, h->hi)) {
			h->hi = lo;
		} else if (d->nholes < SYNACK_INFER_HOLES) { /* split */
			uint32_t old_hi = h->hi;
			h->hi = lo;
			hole_add(d, hi, old_hi, h->t_us);
		}
		return age;
	}
	return -1;
}

/* Retransmission, reordering, keep-alive and window probe marks for a segment that occupies
 * sequence space, and the sender's SND.MAX. */
static void mark_sequence(struct synack_infer *inf, int dir, const struct synack_tcp_seg *seg,
			  uint64_t t_us, struct synack_infer_result *res)
{
	struct synack_infer_dir *d = &inf->d[dir], *p = &inf->d[!dir];
	bool syn = seg->flags & SYNACK_TH_SYN, fin = seg->flags & SYNACK_TH_FIN;
	uint32_t span = (uint32_t)seg->len + syn + fin;
	uint32_t end = seg->seq + span;
	if (seg->flags & SYNACK_TH_RST)
		return;
	if (p->has_ack && p->last_win == 0 && seg->len > 0 && !syn && seg->seq == p->last_ack)
		res->marks |= SYNACK_MARK_PROBE;
	/* RFC 9293 §3.8.4: a keep-alive carries SEG.SEQ = SND.NXT-1 and zero or one byte. */
	if (d->has_nxt && seg->seq == d->nxt - 1 && seg->len <= 1 && !syn && !fin &&
	    (seg->flags & SYNACK_TH_ACK) && !(res->marks & SYNACK_MARK_PROBE)) {
		res->marks |= SYNACK_MARK_KEEPALIVE;
		return;
	}
	if (span == 0)
		return;
	if (!d->has_nxt) {
		d->has_nxt = true;
		d->nxt = end;
		return;
	}
	/* Data resuming after a window probe re-sends the probed byte: that is not a loss. */
	bool after_probe = d->probed && seg->seq == d->nxt - 1 && seq_gt(end, d->nxt);
	d->probed = (res->marks & SYNACK_MARK_PROBE) != 0;
	if (seq_lt(seg->seq, d->nxt) && !after_probe) {
		int64_t age = hole_fill(d, seg->seq, end, t_us);
		uint64_t limit = inf->rtt_us > OOO_MIN_US ? inf->rtt_us : OOO_MIN_US;
		if (age >= 0 && (uint64_t)age < limit)
			res->marks |= SYNACK_MARK_OOO;
		else if (!(res->marks & SYNACK_MARK_PROBE))
			res->marks |= SYNACK_MARK_RETX;
	} else if (seq_gt(seg->seq, d->nxt)) {
		hole_add(d, d->nxt, seg->seq, t_us);
	}
	d->nxt = seq_max(d->nxt, end);
}

/* Duplicate ACKs (as Wireshark's analysis counts them: no data, no SYN/FIN/RST, the same ACK
 * and window as the previous one; RFC 5681 §2 also asks for data outstanding, but the ACK of
 * a duplicate segment that arrives after everything was acknowledged, a rescue
 * retransmission's for instance, is a duplicate ACK to Wireshark too), window updates, zero
 * windows. */
static void mark_ack(struct synack_infer *inf, int dir, const struct synack_tcp_seg *seg,
		     struct synack_infer_result *res)
{
	struct synack_infer_dir *d = &inf->d[dir], *p = &inf->d[!dir];
	if (!(seg->flags & SYNACK_TH_ACK) || (seg->flags & SYNACK_TH_RST))
		return;
	if (seg->win == 0)
		res->marks |= SYNACK_MARK_ZEROWIN;
	bool pure = seg->len == 0 && !(seg->flags & (SYNACK_TH_SYN | SYNACK_TH_FIN));
	bool same = d->has_ack && seg->ack == d->last_ack;
	/* A zero window repeated is the receiver holding the door shut, not a loss signal
	 * (Wireshark does not count it either). */
	if (pure && same && seg->win == d->last_win && seg->win != 0 && p->has_nxt &&
	    !(res->marks & SYNACK_MARK_KEEPALIVE)) {
		res->marks |= SYNACK_MARK_DUPACK;
		res->dupack_n = ++d->dupacks;
	} else {
		if (pure && same && seg->win != d->last_win && seg->win != 0)
			res->marks |= SYNACK_MARK_WINUPD;
		/* Only a new ACK number restarts the count (Wireshark's rule): a FIN or data
		 * with the same ACK in between does not. */
		if (!same)
			d->dupacks = 0;
	}
	d->has_ack = true;
	d->last_ack = seg->ack;
	d->last_win = seg->win;
}

static void learn_syn(struct synack_infer *inf, int dir, const struct synack_tcp_seg *seg,
		      uint64_t t_us)
{
	struct synack_infer_dir *d = &inf->d[dir];
	if (!(seg->flags & SYNACK_TH_SYN))
		return;
	if (!d->has_isn) {
		d->has_isn = true;
		d->isn = seg->seq;
	}
	if (!(seg->flags & SYNACK_TH_ACK))
		d->bare_syn = true;
	d->wscale_ok = seg->opts.has_wscale;
	d->wscale = seg->opts.wscale;
	if ((seg->flags & SYNACK_TH_ACK) && !inf->synack_seen && inf->syn_t_us) {
		inf->synack_seen = true;
		inf->rtt_us = t_us - inf->syn_t_us;
	}
}

void synack_infer_segment(struct synack_infer *inf, int dir, const struct synack_tcp_seg *seg,
			  uint64_t t_us, struct synack_infer_result *res)
{
	memset(res, 0, sizeof *res);
	dir = dir ? 1 : 0;
	if (!inf->started)
		first_segment(inf, dir, seg, t_us, res);
	learn_syn(inf, dir, seg, t_us);
	mark_sequence(inf, dir, seg, t_us, res);
	mark_ack(inf, dir, seg, res);
	if (seg->flags & SYNACK_TH_RST) {
		reset(inf, dir, res);
		return;
	}
	if (inf->reset)
		return; /* segments after a reset change no state */
	sender_moves(inf, dir, seg, res);
	receiver_moves(inf, dir, seg, res);
}

const char *synack_infer_marks_str(unsigned marks, uint32_t dupack_n, char *buf, size_t cap)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{SYNACK_MARK_RETX, "retransmission"},  {SYNACK_MARK_OOO, "out-of-order"},
		{SYNACK_MARK_DUPACK, "dup-ack"},       {SYNACK_MARK_ZEROWIN, "zero-window"},
		{SYNACK_MARK_PROBE, "window-probe"},   {SYNACK_MARK_KEEPALIVE, "keep-alive"},
		{SYNACK_MARK_WINUPD, "window-update"}, {SYNACK_MARK_RST, "reset"},
	};
	size_t n = 0;
	if (cap == 0)
		return buf;
	buf[0] = 0;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (!(marks & names[i].bit) || n >= cap)
			continue;
		int k = snprintf(buf + n, cap - n, "%s%s", n ? "," : "", names[i].name);
		if (k > 0)
			n += (size_t)k;
		if (names[i].bit == SYNACK_MARK_DUPACK && n < cap) {
			k = snprintf(buf + n, cap - n, " #%u", dupack_n);
			n += k > 0 ? (size_t)k : 0;
		}
	}
	return buf;
}

const char *synack_infer_state_str(enum synack_tcp_state st, bool uncertain, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s%s", synack_state_name(st), uncertain ? "?" : "");
	return buf;
}
