/* Segment output: SYN and SYN-ACK with their options, data segmentation by MSS, ACKs (with
 * SACK blocks, RFC 2018), probes and resets.
 *
 * RFC 9293 §3.8.6.2.1 (sender SWS avoidance): a segment cut short by the peer's window goes
 * only when nothing is in flight and it is at least half the largest window offered; else the
 * persist timer sends what fits. RFC 1122 §4.2.3.4 / RFC 896 (Nagle): a short segment at the
 * end of the data goes out only when no earlier short one is unacknowledged (or TCP_NODELAY
 * is set, or it carries the FIN). A FIN takes a sequence number of the peer's window. The last segment of what the user queued carries PSH (RFC 9293
 * §3.9.1.2: "the PSH bit ... set in the last TCP segment created from the buffer"). Every
 * segment sent carries the acknowledgment of RCV.NXT, so it ends a delayed ACK (tcp_delack.c).
 * On a link with segmentation offload, new data leaves in frames of several MSS (send_max,
 * split_point below).
 *
 * Resets follow RFC 9293 §3.10.7.1: "If the incoming segment has an ACK field, the reset
 * takes its sequence number from the ACK field of the segment, otherwise the reset has
 * sequence number zero and the ACK field is set to the sum of the sequence number and segment
 * length of the incoming segment." And never a reset in reply to a reset. */
#include <string.h>

#include "core/tcb.h"

uint32_t tcp_ts_now(const struct synack_stack *s, const struct synack_tcb *c)
{
	return (uint32_t)(s->now_us / 1000) + c->ts_offset;
}

uint32_t tcp_rcv_window(const struct synack_tcb *c)
{
	uint32_t wnd = c->fl->rcvq.cap == 0 ? c->rcvbuf_size : ring_free(&c->fl->rcvq);
	uint32_t open = seq_gt(c->rcv_adv, c->rcv_nxt) ? (uint32_t)seq_diff(c->rcv_adv, c->rcv_nxt) : 0;
	return wnd > open ? wnd : open;
}

uint32_t tcp_rcv_window_mem(struct synack_stack *s, const struct synack_tcb *c)
{
	uint32_t wnd = c->fl->rcvq.cap == 0 ? c->rcvbuf_size : ring_free(&c->fl->rcvq);
	/* Memory pressure (Linux's tcp_clamp_window: rcv_ssthresh down to 4 * advmss): no more
	 * than 4 segments, and never less than what is already announced (the right edge does
	 * not move back, RFC 9293 §3.8.6). */
	if (c->fl->rcvq.cap && tcp_mem_pressure(s)) {
		uint32_t mss = c->fl->ack_rcv_mss ? c->fl->ack_rcv_mss : c->snd_mss;
		if (wnd > 4 * mss)
			wnd = 4 * mss;
	}
	uint32_t open = seq_gt(c->rcv_adv, c->rcv_nxt) ? (uint32_t)seq_diff(c->rcv_adv, c->rcv_nxt) : 0;
	return wnd > open ? wnd : open;
}

/* The MSS we announce: the configured one, lowered by TCP_MAXSEG. */
static uint16_t adv_mss(const struct synack_stack *s, const struct synack_tcb *c)
{
	uint16_t m = stack_mss_for(s, &tcb_tuple(c)->raddr);
	if (c->user_mss && c->user_mss < m)
		m = c->user_mss;
	return m;
}

/* The window of a SYN or SYN-ACK (never scaled, RFC 7323 §2.2): like Linux, the largest
 * multiple of the MSS (less the timestamp option when it is in use) that fits in
 * min(rcvbuf, 65535): 64240 for MSS 1460, 65160 with timestamps. */
uint16_t tcp_syn_window(const struct synack_stack *s, const struct synack_tcb *c)
{
	uint32_t mss = adv_mss(s, c) - (c->ts_ok ? 12u : 0u);
	uint32_t lim = c->rcvbuf_size < 65535 ? c->rcvbuf_size : 65535;
	uint32_t w = lim / mss * mss;
	return (uint16_t)(w ? w : lim);
}

static uint16_t window_field(struct synack_stack *s, struct synack_tcb *c)
{
	uint32_t wnd = tcp_rcv_window_mem(s, c);
	uint32_t max = 65535u << c->rcv_wscale;
	if (wnd > max)
		wnd = max;
	uint16_t field = (uint16_t)(wnd >> c->rcv_wscale);
	c->rcv_adv = seq_add(c->rcv_nxt, (uint32_t)field << c->rcv_wscale);
	c->rcv_wnd = (uint32_t)field << c->rcv_wscale;
	return field;
}

/* RFC 2018 §4: "The first SACK block ... MUST specify the contiguous block of data
 * containing the segment which triggered this ACK"; the others follow in sequence order. As
 * many as fit: 3 beside timestamps, else 4. */
static void sack_blocks(const struct synack_tcb *c, struct synack_tcp_opts *o)
{
	uint32_t max = c->ts_ok ? 3 : 4, first = 0;
	if (c->dsack) {
		/* RFC 2883 §4: "If the D-SACK block reports a duplicate contiguous sequence from
		 * the receiver's cumulative ACK ... the D-SACK block ... MUST be the first". */
		o->sack[0].left = c->fl->dsack_l;
		o->sack[0].right = c->fl->dsack_r;
		o->sack_count = 1;
		for (uint32_t i = 0; i < c->fl->ooo.n && o->sack_count < max; i++) {
			o->sack[o->sack_count].left = c->fl->ooo.r[i].start;
			o->sack[o->sack_count].right = c->fl->ooo.r[i].end;
			o->sack_count++;
		}
		return;
	}
	for (uint32_t i = 0; i < c->fl->ooo.n; i++)
		if (seq_in(c->fl->sack_recent, c->fl->ooo.r[i].start, c->fl->ooo.r[i].end))
			first = i;
	o->sack[0].left = c->fl->ooo.r[first].start;
	o->sack[0].right = c->fl->ooo.r[first].end;
	o->sack_count = 1;
	for (uint32_t i = 0; i < c->fl->ooo.n && o->sack_count < max; i++) {
		if (i == first)
			continue;
		o->sack[o->sack_count].left = c->fl->ooo.r[i].start;
		o->sack[o->sack_count].right = c->fl->ooo.r[i].end;
		o->sack_count++;
	}
}

/* Options of a synchronized segment: NOP NOP TS, then NOP NOP SACK blocks. */
static void data_opts(const struct synack_stack *s, const struct synack_tcb *c,
		      struct synack_tcp_opts *o)
{
	if (c->ts_ok) {
		o->has_ts = true;
		o->ts_val = tcp_ts_now(s, c);
		o->ts_ecr = c->ts_recent;
	}
	if (c->sack_ok && (c->fl->ooo.n > 0 || c->dsack))
		sack_blocks(c, o);
}

static void seg_init(const struct synack_tcb *c, struct synack_tcp_seg *seg, seq_t seq,
		     uint8_t flags)
{
	memset(seg, 0, sizeof *seg);
	seg->sport = c->key.lport;
	seg->dport = c->key.rport;
	seg->seq = seq;
	seg->flags = flags;
	if (flags & SYNACK_TH_ACK)
		seg->ack = c->rcv_nxt;
	/* RFC 3168 §6.1.3: after a CE mark, every ACK carries ECE until the peer's CWR. */
	if ((flags & SYNACK_TH_ACK) && !(flags & SYNACK_TH_SYN) && c->ece_pending)
		seg->flags |= SYNACK_TH_ECE;
}

/* Every segment of a connection leaves with its IP header fields: IP_TTL, IP_TOS, and DF
 * unless IP_MTU_DISCOVER says DONT or OMIT (ip(7)). */
/* gso_size: a data frame the link cuts into pieces of that many payload bytes (TSO), 0 for
 * one segment. */
static void conn_emit_gso(struct synack_stack *s, struct synack_tcb *c,
			  const struct synack_tcp_seg *seg, bool retx, bool ect, uint16_t gso_size)
{
	struct stack_ip_fields ip = {
		.ttl = c->ip_ttl,
		.tos = (uint8_t)(c->ip_tos | (ect ? 2 : 0)), /* ECT(0), RFC 3168 §5 */
		.df = c->pmtudisc != SYNACK_IP_PMTUDISC_DONT && c->pmtudisc != SYNACK_IP_PMTUDISC_OMIT,
		.gso_size = gso_size,
	};
	stack_emit_tcp_ip(s, tcb_tuple(c), seg, retx, &ip);
}

/* Not-ECT: SYNs, SYN-ACKs, pure ACKs, probes, resets, retransmissions (RFC 3168 §6.1.1,
 * §6.1.4, §6.1.5). */
static void conn_emit(struct synack_stack *s, struct synack_tcb *c,
		      const struct synack_tcp_seg *seg, bool retx)
{
	conn_emit_gso(s, c, seg, retx, false, 0);
}

void tcp_send_syn(struct synack_stack *s, struct synack_tcb *c, bool retx)
{
	bool synack = c->state == SYNACK_SYN_RECEIVED;
	struct synack_tcp_seg seg;
	seg_init(c, &seg, c->iss, synack ? SYNACK_TH_SYN | SYNACK_TH_ACK : SYNACK_TH_SYN);
	/* RFC 3168 §6.1.1: an ECN-setup SYN carries ECE and CWR (tcp_ecn=1), an ECN-setup
	 * SYN-ACK ECE alone (when the SYN asked and we agreed). */
	if (!synack && !retx)
		c->ecn_asked = s->cfg.ecn == 1;
	if (!synack && c->ecn_asked)
		seg.flags |= SYNACK_TH_ECE | SYNACK_TH_CWR;
	if (synack && c->ecn_ok)
		seg.flags |= SYNACK_TH_ECE;
	seg.win = tcp_syn_window(s, c);
	if (synack) /* the window is announced: its right edge does not move back */
		c->rcv_adv = seq_add(c->rcv_nxt, seg.win);
	struct synack_tcp_opts *o = &seg.opts;
	o->has_mss = true;
	o->mss = adv_mss(s, c);
	/* A SYN offers what the stack is configured for; a SYN-ACK only echoes what the SYN
	 * offered (ws_ok/ts_ok/sack_ok were set from it). */
	o->sack_ok = synack ? c->sack_ok : s->cfg.sack;
	o->has_ts = synack ? c->ts_ok : s->cfg.timestamps;
	o->has_wscale = synack ? c->ws_ok : s->cfg.window_scaling;
	o->wscale = c->rcv_wscale;
	if (o->has_ts) {
		o->ts_val = tcp_ts_now(s, c);
		o->ts_ecr = synack ? c->ts_recent : 0;
	}
	tfo_syn_options(s, c, &seg, retx); /* RFC 7413: a cookie (request), data on the SYN */
	if (seq_lt(c->snd_nxt, seq_add(c->iss, 1)))
		c->snd_nxt = seq_add(c->iss, 1);
	c->fl->snd_max = seq_max(c->fl->snd_max, c->snd_nxt);
	if (retx) {
		c->rtt_timing = false;
		c->total_retrans++;
	} else if (!c->rtt_timing) {
		c->rtt_timing = true;
		c->fl->rtt_seq = c->iss;
		c->fl->rtt_start_us = s->now_us;
	}
	conn_emit(s, c, &seg, retx);
	c->fl->rcv_wup = c->rcv_nxt;
	if (synack)
		c->rcv_adv = seq_add(c->rcv_nxt, seg.win); /* what the peer may send */
	tcp_arm_rtx(s, c);
}

static void send_ctl(struct synack_stack *s, struct synack_tcb *c, seq_t seq, uint8_t flags)
{
	struct synack_tcp_seg seg;
	seg_init(c, &seg, seq, flags);
	seg.win = window_field(s, c);
	data_opts(s, c, &seg.opts);
	c->dsack = false; /* reported once */
	conn_emit(s, c, &seg, false);
	tcp_delack_ack_sent(s, c);
}

void tcp_send_ack(struct synack_stack *s, struct synack_tcb *c)
{
	/* <SEQ=SND.NXT>: SND.NXT never moves back (a timeout resends from snd_rtx), so this is
	 * never below the peer's RCV.NXT; two peers answering each other's old-numbered ACKs
	 * would otherwise ACK forever. snd_max == snd_nxt. But never past the right edge of the
	 * window the peer offers by a unit of its scaled window or more (Linux's
	 * tcp_acceptable_seq): a peer that shrank its window (RFC 7323 §2.4) finds SND.NXT beyond
	 * it unacceptable and would drop the ACK. */
	seq_t seq = c->fl->snd_max, edge = seq_add(c->snd_una, c->snd_wnd);
	if (seq_gt(seq, edge) && (uint32_t)seq_diff(seq, edge) >= 1u << c->snd_wscale)
		seq = edge;
	send_ctl(s, c, seq, SYNACK_TH_ACK);
}

void tcp_send_probe(struct synack_stack *s, struct synack_tcb *c, seq_t seq)
{
	send_ctl(s, c, seq, SYNACK_TH_ACK);
}

void tcp_send_reset(struct synack_stack *s, struct synack_tcb *c)
{
	struct synack_tcp_seg seg;
	seg_init(c, &seg, c->snd_nxt, SYNACK_TH_RST | SYNACK_TH_ACK);
	if (c->ts_ok) {
		seg.opts.has_ts = true;
		seg.opts.ts_val = tcp_ts_now(s, c);
		seg.opts.ts_ecr = c->ts_recent;
	}
	conn_emit(s, c, &seg, false);
}

void tcp_reply_reset(struct synack_stack *s, const struct synack_tuple *t,
		     const struct synack_tcp_seg *in)
{
	if (in->flags & SYNACK_TH_RST)
		return;
	struct synack_tcp_seg seg;
	memset(&seg, 0, sizeof seg);
	seg.sport = t->lport;
	seg.dport = t->rport;
	if (in->flags & SYNACK_TH_ACK) {
		seg.seq = in->ack;
		seg.flags = SYNACK_TH_RST;
	} else {
		uint32_t len = (uint32_t)in->len + !!(in->flags & SYNACK_TH_SYN) +
			       !!(in->flags & SYNACK_TH_FIN);
		seg.ack = seq_add(in->seq, len);
		seg.flags = SYNACK_TH_RST | SYNACK_TH_ACK;
	}
	stack_emit_tcp(s, t, &seg, false);
}

void tcp_cc_env(const struct synack_stack *s, struct synack_tcb *c, uint32_t rtt_us)
{
	c->fl->cc.now_us = s->now_us;
	c->fl->cc.srtt_us = c->rtt_valid ? c->srtt_us : 0;
	c->fl->cc.rtt_us = rtt_us;
	c->fl->cc.round_start = false;
}

/* Congestion window validation after idle, as Linux (tcp_slow_start_after_idle_check): new
 * data about to go with nothing in flight, more than an RTO after data was last sent. */
static void idle_restart(struct synack_stack *s, struct synack_tcb *c)
{
	if (!c->sent_data || c->snd_una != c->fl->snd_max || c->rtx_pending)
		return;
	uint64_t idle = s->now_us - c->last_send_us;
	if (idle <= c->rto_us)
		return;
	tcp_cc_env(s, c, 0);
	c->fl->cc.ops->on_idle_restart(&c->fl->cc, c->snd_mss,
				       s->cfg.init_cwnd_segs * (uint32_t)c->snd_mss, idle,
				       c->rto_us);
}

/* A data segment must fit the link (caps.mtu). The MSS leaves room for the timestamp option
 * only, so the SACK blocks that would push a full segment past it are left off, last ones
 * first -- the pure ACKs still carry them all. (Linux instead shortens the payload by the
 * SACK blocks' size in tcp_current_mss.) */
static void fit_sack_blocks(const struct synack_stack *s, const struct synack_tcb *c,
			    struct synack_tcp_opts *o, uint32_t len)
{
	if (len > c->snd_mss)
		len = c->snd_mss; /* a segmented frame: each piece carries the options */
	uint8_t buf[SYNACK_TCP_OPT_MAX];
	/* The IP header of the connection's family (20 or 40 bytes) comes off the frame too. */
	int iph = ip_header_room(&tcb_tuple(c)->raddr);
	size_t room = stack_frame_max(s) - (size_t)(iph > 0 ? iph : SYNACK_IPV4_HDR_MIN) -
		      SYNACK_TCP_HDR_MIN;
	while (o->sack_count > 0 && (size_t)synack_tcp_opts_emit(o, false, buf) + len > room)
		o->sack_count--;
}

/* Sends the data at [seq, seq+len) of the send queue, with FIN when fin is set. */
static void send_data(struct synack_stack *s, struct synack_tcb *c, seq_t seq, uint32_t len,
		      bool fin)
{
	uint32_t off = (uint32_t)seq_diff(seq, c->fl->snd_buf_seq);
	uint8_t flags = SYNACK_TH_ACK;
	if (len > 0 &&
	    (off + len == c->fl->sndq.len || (c->fl->neor && seq_add(seq, len) == c->fl->eor[0])))
		flags |= SYNACK_TH_PSH; /* the end of the data, or of a record (MSG_EOR) */
	if (fin)
		flags |= SYNACK_TH_FIN;
	struct synack_tcp_seg seg;
	seg_init(c, &seg, seq, flags);
	seg.win = window_field(s, c);
	data_opts(s, c, &seg.opts);
	c->dsack = false;
	fit_sack_blocks(s, c, &seg.opts, len);
	const uint8_t *p = ring_span(&c->fl->sndq, off, len);
	if (!p && len) {
		ring_peek(&c->fl->sndq, off, s->scratch, len);
		p = s->scratch;
	}
	seg.payload = p;
	seg.len = len;
	bool retx = seq_lt(seq, c->fl->snd_max);
	seq_t end = seq_add(seq, len + fin);
	/* RFC 3168 §6.1.2/§6.1.5: new data of an ECN connection is ECT(0), and the first new
	 * data after a reduction carries CWR. */
	bool ect = c->ecn_ok && len > 0 && !retx;
	/* Linux (tcp_transmit_skb): while SND.UP is ahead, segments before it carry URG and the
	 * distance to it (at most 0xFFFF). */
	if (c->snd_urg && !seq_lt(c->snd_una, c->fl->snd_up))
		c->snd_urg = false;
	if (c->snd_urg && seq_lt(seq, c->fl->snd_up)) {
		uint32_t up = (uint32_t)seq_diff(c->fl->snd_up, seq);
		seg.flags |= SYNACK_TH_URG;
		seg.urp = (uint16_t)(up < 0xFFFF ? up : 0xFFFF);
	}
	if (ect && c->cwr_pending) {
		seg.flags |= SYNACK_TH_CWR;
		c->cwr_pending = false;
	}
	rack_on_send(s, c, seq, end, retx);
	if (retx && c->undo_on) {
		if (!c->fl->undo_retrans && !c->fl->retrans_ts)
			c->fl->retrans_ts = c->ts_ok ? tcp_ts_now(s, c) : 0;
		c->fl->undo_retrans++;
	}
	if (retx) {
		c->total_retrans++;
		c->rtt_timing = false; /* Karn: no sample from a retransmitted segment */
	} else if (!c->rtt_timing && (len || fin)) {
		c->rtt_timing = true;
		c->fl->rtt_seq = seq;
		c->fl->rtt_start_us = s->now_us;
	}
	conn_emit_gso(s, c, &seg, retx, ect, len > c->snd_mss ? c->snd_mss : 0);
	if (len)
		tcp_delack_data_sent(s, c);
	tcp_delack_ack_sent(s, c);
	if (len || fin) {
		c->last_send_us = s->now_us;
		c->sent_data = true;
	}
	/* Minshall (Linux's tcp_minshall_update): a frame whose last piece is short. */
	if (len < c->snd_mss || len % c->snd_mss)
		c->fl->snd_sml = seq_max(c->fl->snd_sml, end);
	if (seq_gt(end, c->snd_nxt))
		c->snd_nxt = end;
	c->fl->snd_max = seq_max(c->fl->snd_max, c->snd_nxt);
	if (!tcp_timer_armed(c, SYNACK_TIMER_RETRANSMIT))
		tcp_arm_rtx(s, c);
}

/* Has our FIN been sent (SND.NXT past it)? */
static bool fin_sent(const struct synack_tcb *c)
{
	return c->fin_queued && seq_gt(c->snd_nxt, c->fin_seq);
}

/* The most new data one frame may carry: one MSS, or as many whole MSS as a segmented
 * frame of the link's max_gso holds with the largest IP and TCP headers (TSO; Linux's
 * tcp_tso_segs without its pacing-based autosizing). New data only: retransmissions go one
 * MSS at a time, as Linux's tcp_retransmit_skb cuts them. */
static uint32_t send_max(const struct synack_stack *s, const struct synack_tcb *c)
{
	size_t gso = stack_gso_max(s, synack_addr_family(&c->key.raddr));
	size_t hdr = (synack_addr_is_v4(&c->key.raddr) ? 20 : 40) + 60;
	if (gso <= hdr + 2u * c->snd_mss)
		return c->snd_mss;
	return (uint32_t)((gso - hdr) / c->snd_mss * c->snd_mss);
}

/* A frame of several MSS whose last piece would be short (Linux's tcp_mss_split_point):
 * the short tail goes only at the end of the queued data, and only when Nagle would let a
 * short segment go (nothing short unacknowledged, or TCP_NODELAY; never while TCP_CORK);
 * else the frame ends at
 * the last whole MSS and the tail waits like any short segment. */
static uint32_t split_point(const struct synack_tcb *c, uint32_t len, uint32_t unsent,
			    uint32_t inflight)
{
	uint32_t partial = len % c->snd_mss;
	if (len <= c->snd_mss || partial == 0)
		return len;
	bool tail = len == unsent;
	bool nagle = c->cork || (!c->nodelay && !c->snd_urg && inflight > 0 &&
				 seq_gt(c->fl->snd_sml, c->snd_una));
	return tail && !nagle ? len : len - partial;
}

/* Does our FIN fit the peer's window after len more bytes from SND.NXT? A FIN occupies a
 * sequence number, so it waits for room like data (Linux's tcp_snd_wnd_test; the persist
 * timer probes meanwhile). cwnd does not hold it back (Linux's tcp_cwnd_test lets it pass). */
static bool fin_fits(const struct synack_tcb *c, uint32_t len)
{
	uint32_t inflight = (uint32_t)seq_diff(c->snd_nxt, c->snd_una);
	return (uint64_t)inflight + len < c->snd_wnd;
}

/* One step of the send loop: how much may go now. Returns false when nothing may. */
static bool next_segment(const struct synack_stack *s, struct synack_tcb *c,
			 uint32_t *len_out, bool *fin_out)
{
	if (fin_sent(c))
		return false;
	while (c->fl->neor && !seq_gt(c->fl->eor[0], c->snd_nxt)) { /* records already sent */
		memmove(c->fl->eor, c->fl->eor + 1, (c->fl->neor - 1) * sizeof c->fl->eor[0]);
		c->fl->neor--;
	}
	uint32_t off = (uint32_t)seq_diff(c->snd_nxt, c->fl->snd_buf_seq);
	uint32_t unsent = c->fl->sndq.len - off;
	/* RFC 3042 limited transmit: the first two duplicate ACKs each let one new segment
	 * beyond cwnd go, so that a small window still collects three of them. */
	uint32_t cwnd = c->fl->cc.cwnd;
	if (!c->in_recovery && c->fl->dupacks > 0 && c->fl->dupacks < 3)
		cwnd += c->fl->dupacks * (uint32_t)c->snd_mss;
	uint32_t sent = (uint32_t)seq_diff(c->snd_nxt, c->snd_una), inflight = sent;
	uint32_t cwnd_room = cwnd > inflight ? cwnd - inflight : 0;
	uint32_t rwnd_room = c->snd_wnd > sent ? c->snd_wnd - sent : 0;
	uint32_t max = send_max(s, c);
	uint32_t want = unsent < max ? unsent : max;
	/* MSG_EOR (Linux): no segment carries bytes of two records; one that ends a record is
	 * a whole segment to the checks below. */
	bool record_end = false;
	if (c->fl->neor && seq_diff(c->fl->eor[0], c->snd_nxt) <= (int32_t)want) {
		want = (uint32_t)seq_diff(c->fl->eor[0], c->snd_nxt);
		record_end = true;
	}
	uint32_t len = want;
	if (len > cwnd_room)
		len = cwnd_room;
	if (len > rwnd_room)
		len = rwnd_room;
	if (len > c->snd_mss) {
		/* A segmented frame (TSO): cut by a window, whole segments only; at the end of
		 * the data its short tail goes as Nagle allows (split_point). The rest waits and
		 * is judged below like any short segment. */
		if (len < want)
			len -= len % c->snd_mss;
		else if (!record_end)
			len = split_point(c, len, unsent, inflight);
		want = len;
	}
	bool fin = c->fin_queued && off + len == c->fl->sndq.len && fin_fits(c, len);
	if (len == 0 && !fin)
		return false;
	/* TCP_CORK (Linux): only full segments leave while corked, and the FIN's. */
	if (c->cork && len < c->snd_mss && !fin)
		return false;
	if (len < want) {
		/* Cut by a window. While data is in flight its ACKs will open room: wait. With
		 * nothing in flight only the peer's window can cut (cwnd is at least one
		 * segment), and RFC 9293 §3.8.6.2.1 (sender SWS avoidance) sends only "if at
		 * least a fraction Fs of the maximum window can be sent" (Fs = 1/2); else the
		 * persist timer (the "override timeout") sends what fits (tcp_output_probe). */
		if (sent > 0 || len < c->max_snd_wnd / 2)
			return false;
	} else if (len < c->snd_mss && sent > 0 && !fin) {
		/* Nagle with Minshall's refinement (as Linux): a short segment at the end of
		 * the data (or of a record) waits only while an earlier short segment is
		 * unacknowledged. */
		if (!c->nodelay && !c->snd_urg && seq_gt(c->fl->snd_sml, c->snd_una))
			return false;
	}
	*len_out = len;
	*fin_out = fin;
	return true;
}

/* After a timeout: the next segment to send again from snd_rtx, within cwnd counted from
 * SND.UNA. Returns false when none may go now. */
static bool next_retransmission(struct synack_tcb *c, uint32_t *len_out, bool *fin_out)
{
	if (!c->rtx_pending)
		return false;
	uint32_t room;
	c->fl->snd_rtx =
		sack_skip(c, c->fl->snd_rtx, &room); /* what the peer holds is not resent */
	if (!seq_lt(c->fl->snd_rtx, c->snd_nxt))
		return false;
	uint32_t off = (uint32_t)seq_diff(c->fl->snd_rtx, c->fl->snd_buf_seq);
	uint32_t data = off < c->fl->sndq.len ? c->fl->sndq.len - off : 0;
	uint32_t wnd = c->snd_wnd < c->fl->cc.cwnd ? c->snd_wnd : c->fl->cc.cwnd;
	uint32_t inflight = (uint32_t)seq_diff(c->fl->snd_rtx, c->snd_una);
	uint32_t avail = wnd > inflight ? wnd - inflight : 0;
	uint32_t len = data < c->snd_mss ? data : c->snd_mss;
	if (len > avail)
		len = avail;
	if (len > room)
		len = room;
	bool fin = fin_sent(c) && off + len == c->fl->sndq.len;
	if (len == 0 && (!fin || avail == 0))
		return false;
	*len_out = len;
	*fin_out = fin;
	return true;
}

void tcp_output(struct synack_stack *s, struct synack_tcb *c, bool force_ack)
{
	bool sent = false;
	if (tcp_state_transmits(c->state) && c->fl->sndq.cap) {
		uint32_t len;
		bool fin;
		while (next_retransmission(c, &len, &fin)) {
			send_data(s, c, c->fl->snd_rtx, len, fin);
			c->fl->snd_rtx = seq_add(c->fl->snd_rtx, len + fin);
			sent = true;
		}
		if (c->rtx_pending && !seq_lt(c->fl->snd_rtx, c->snd_nxt))
			c->rtx_pending = false;
		if (!c->rtx_pending && tcp_send_pending(c))
			idle_restart(s, c);
		/* In SACK recovery, NextSeg() decides between old and new data (tcp_sack.c). */
		bool sack_recovery = c->in_recovery && c->sack_ok;
		bool sent_new = false;
		while (!c->rtx_pending && !sack_recovery && next_segment(s, c, &len, &fin)) {
			send_data(s, c, c->snd_nxt, len, fin);
			sent = sent_new = true;
		}
		if (sent_new)
			tcp_arm_tlp(s, c);
		/* Something waits for the peer's window (zero, or too small to be worth a
		 * segment) with nothing in flight to bring an ACK: the persist timer. */
		if (tcp_send_pending(c) && c->snd_nxt == c->snd_una &&
		    !tcp_timer_armed(c, SYNACK_TIMER_RETRANSMIT) &&
		    !tcp_timer_armed(c, SYNACK_TIMER_PERSIST))
			tcp_arm_persist(s, c);
	}
	if (!sent && force_ack)
		tcp_send_ack(s, c);
}

uint32_t tcp_new_data_room(const struct synack_tcb *c)
{
	if (!tcp_state_transmits(c->state) || !tcp_send_pending(c))
		return 0;
	uint32_t off = (uint32_t)seq_diff(c->snd_nxt, c->fl->snd_buf_seq);
	uint32_t sent = (uint32_t)seq_diff(c->snd_nxt, c->snd_una);
	uint32_t rwnd_room = c->snd_wnd > sent ? c->snd_wnd - sent : 0;
	uint32_t unsent = c->fl->sndq.len - off;
	uint32_t want = unsent < c->snd_mss ? unsent : c->snd_mss;
	uint32_t len = want < rwnd_room ? want : rwnd_room;
	if (len == 0)
		return c->fin_queued && off == c->fl->sndq.len && fin_fits(c, 0) ? 1 : 0;
	return len;
}

bool tcp_output_one(struct synack_stack *s, struct synack_tcb *c)
{
	uint32_t room = tcp_new_data_room(c);
	if (room == 0)
		return false;
	uint32_t off = (uint32_t)seq_diff(c->snd_nxt, c->fl->snd_buf_seq);
	uint32_t len = c->fl->sndq.len - off;
	len = len < room ? len : room;
	bool fin = c->fin_queued && off + len == c->fl->sndq.len && fin_fits(c, len);
	if (len == 0 && !fin)
		return false;
	send_data(s, c, c->snd_nxt, len, fin);
	return true;
}

bool tcp_send_pending(const struct synack_tcb *c)
{
	if (!c->fl->sndq.cap || fin_sent(c))
		return false;
	uint32_t off = (uint32_t)seq_diff(c->snd_nxt, c->fl->snd_buf_seq);
	return off < c->fl->sndq.len || c->fin_queued;
}

bool tcp_output_probe(struct synack_stack *s, struct synack_tcb *c)
{
	if (!tcp_state_transmits(c->state) || !tcp_send_pending(c))
		return false;
	uint32_t off = (uint32_t)seq_diff(c->snd_nxt, c->fl->snd_buf_seq);
	uint32_t sent = (uint32_t)seq_diff(c->snd_nxt, c->snd_una);
	uint32_t room = c->snd_wnd > sent ? c->snd_wnd - sent : 0;
	uint32_t len = c->fl->sndq.len - off;
	if (len > c->snd_mss)
		len = c->snd_mss;
	if (len > room)
		len = room;
	bool fin = c->fin_queued && off + len == c->fl->sndq.len && fin_fits(c, len);
	if (len == 0 && !fin)
		return false;
	send_data(s, c, c->snd_nxt, len, fin);
	return true;
}

void tcp_retransmit_all(struct synack_stack *s, struct synack_tcb *c)
{
	if (!tcp_state_transmits(c->state) || !c->fl->sndq.cap || c->snd_una == c->fl->snd_max)
		return;
	c->fl->snd_rtx = c->snd_una;
	c->rtx_pending = true;
	tcp_output(s, c, false);
}

seq_t tcp_retransmit_head(struct synack_stack *s, struct synack_tcb *c)
{
	uint32_t len = c->fl->sndq.len < c->snd_mss ? c->fl->sndq.len : c->snd_mss;
	bool fin = c->fin_queued && len == c->fl->sndq.len && seq_gt(c->fl->snd_max, c->fin_seq);
	if (len == 0 && !fin)
		return c->snd_una;
	send_data(s, c, c->snd_una, len, fin);
	return seq_add(c->snd_una, len + fin);
}

seq_t tcp_retransmit_at(struct synack_stack *s, struct synack_tcb *c, seq_t seq, uint32_t max)
{
	uint32_t off = (uint32_t)seq_diff(seq, c->fl->snd_buf_seq);
	if (off > c->fl->sndq.len)
		return seq;
	uint32_t len = c->fl->sndq.len - off;
	if (len > c->snd_mss)
		len = c->snd_mss;
	if (len > max)
		len = max;
	bool fin = c->fin_queued && off + len == c->fl->sndq.len && seq_gt(c->fl->snd_max, c->fin_seq);
	if (len == 0 && !fin)
		return seq;
	send_data(s, c, seq, len, fin);
	return seq_add(seq, len + fin);
}

/* RFC 7323 §2.3: "the shift count ... to scale the receive window"; like Linux
 * (tcp_select_initial_window), it is the smallest shift that lets 65535 << shift cover the
 * largest receive buffer (tcp_rmem's max, or the buffer SO_RCVBUF fixed), at most 14. */
uint8_t tcp_choose_wscale(const struct synack_stack *s, const struct synack_tcb *c)
{
	if (!s->cfg.window_scaling)
		return 0;
	uint32_t space = c->rcvbuf_size;
	if (!c->rcvbuf_locked && s->cfg.rcvbuf_max > space)
		space = s->cfg.rcvbuf_max;
	uint8_t ws = 0;
	while (space > 65535 && ws < 14) {
		space >>= 1;
		ws++;
	}
	return ws;
}
