/* Send-buffer autotuning, as Linux's tcp_sndbuf_expand (tcp_input.c): the send buffer grows
 * with the congestion window, so that a connection can keep cwnd in flight and as much again
 * queued behind it while the ACKs come back, up to tcp_wmem's max (cfg.sndbuf_max, 4 MiB by
 * default). Linux sizes sk_sndbuf at 2 * max(cwnd, 10 segments) * per-segment truesize;
 * synack's buffer holds payload only, so the target is 2 * max(cwnd, init_cwnd) bytes of
 * payload, rounded up to a power of two times the configured size so that a growing flow
 * is moved a few times, not at every ACK. SO_SNDBUF locks the size (no autotuning), as in
 * Linux.
 *
 * The policy (tcp_sndbuf_target) is apart from the mechanism: the rings are chunked (buf.h),
 * so a size is only a number, raised by tcb_resize_sndq; memory follows the data. The size
 * is not lowered when the flow slows down (Linux does not shrink sk_sndbuf either, short of
 * memory pressure). It used to be off by default because two lossy simulation profiles
 * stalled with it: RFC 6675's rescue retransmission took "the highest unSACKed data" from
 * the end of the queue instead of below HighData (SND.MAX), so with a queue far longer than
 * the flight it sent never-sent data beyond the peer's window, SND.NXT jumped there, and
 * every ACK from then on carried a sequence number outside the peer's window: both sides
 * dropped each other's ACKs (tcp_not_acceptable) until ETIMEDOUT (tcp_sack.c has the fix).
 *
 * Receive-buffer dynamic right-sizing, as Linux's tcp_rcv_space_adjust (tcp_input.c): once
 * per receiver RTT, the bytes the application read in that RTT are compared with the
 * previous RTT's; when they grew, the receive buffer becomes
 *     rcvwin = 2 * copied + 16 * MSS, plus 2 * rcvwin * (copied - space) / space
 * (room for the sender to double in slow start), at most rcvbuf_max (tcp_rmem's max, 6 MiB);
 * it never shrinks. The receiver's RTT comes from the timestamp echo of in-sequence data
 * (Linux's tcp_rcv_rtt_measure_ts, smoothed 1/8), without timestamps from the time one
 * window of data takes to arrive (tcp_rcv_rtt_measure, the smallest kept). synack's buffers
 * hold payload only, so the buffer is rcvwin itself (Linux adds its per-skb overhead). The
 * window scale is chosen from rcvbuf_max at the handshake (tcp_choose_wscale), as Linux's,
 * so the window can follow. SO_RCVBUF locks the size; neither buffer grows under memory
 * pressure (cfg.tcp_mem). */
#include "core/tcb.h"

uint32_t tcp_sndbuf_target(const struct synack_stack *s, const struct synack_tcb *c)
{
	uint32_t max = s->cfg.sndbuf_max;
	if (c->sndbuf_locked || max == 0 || c->fl->sndq.cap >= max)
		return c->fl->sndq.cap;
	uint64_t floor = (uint64_t)s->cfg.init_cwnd_segs * c->snd_mss;
	uint64_t want = 2 * (c->fl->cc.cwnd > floor ? c->fl->cc.cwnd : floor);
	uint64_t cap = c->fl->sndq.cap ? c->fl->sndq.cap : s->cfg.sndbuf;
	while (cap < want && cap < max)
		cap *= 2;
	return (uint32_t)(cap < max ? cap : max);
}

void tcp_sndbuf_autotune(struct synack_stack *s, struct synack_tcb *c)
{
	if (!c->fl->sndq.cap || tcp_mem_pressure(s))
		return;
	uint32_t target = tcp_sndbuf_target(s, c);
	if (target > c->fl->sndq.cap && tcb_resize_sndq(s, c, target) == 0)
		tcp_wake(s, c); /* room to write: POLLOUT */
}

static void rcv_rtt_sample(struct synack_tcb *c, uint32_t us, bool win_dep)
{
	if (us == 0)
		us = 1;
	if (c->fl->rcv_rtt_us == 0)
		c->fl->rcv_rtt_us = us;
	else if (win_dep)
		c->fl->rcv_rtt_us = us < c->fl->rcv_rtt_us ? us : c->fl->rcv_rtt_us;
	else
		c->fl->rcv_rtt_us = c->fl->rcv_rtt_us - c->fl->rcv_rtt_us / 8 + us / 8;
}

void tcp_rcv_rtt_measure(struct synack_stack *s, struct synack_tcb *c,
			 const struct synack_tcp_seg *seg)
{
	if (c->ts_ok && seg->opts.has_ts && seg->opts.ts_ecr && seg->len > 0) {
		int32_t ms = (int32_t)(tcp_ts_now(s, c) - seg->opts.ts_ecr);
		if (ms >= 0 && ms < 120000)
			rcv_rtt_sample(c, (uint32_t)(ms ? ms : 1) * 1000u, false);
		return;
	}
	if (c->fl->rcv_rtt_start_us && seq_lt(c->rcv_nxt, c->fl->rcv_rtt_seq))
		return;
	if (c->fl->rcv_rtt_start_us) {
		uint64_t us = s->now_us - c->fl->rcv_rtt_start_us;
		rcv_rtt_sample(c, us > UINT32_MAX ? UINT32_MAX : (uint32_t)us, true);
	}
	c->fl->rcv_rtt_seq = seq_add(c->rcv_nxt, c->rcv_wnd);
	c->fl->rcv_rtt_start_us = s->now_us ? s->now_us : 1;
}

void tcp_rcv_space_init(struct synack_stack *s, struct synack_tcb *c)
{
	uint32_t mss = c->fl->ack_rcv_mss ? c->fl->ack_rcv_mss : c->snd_mss;
	uint32_t space = s->cfg.init_cwnd_segs * mss;
	c->fl->rcvq_space = space < c->fl->rcvq.cap ? space : c->fl->rcvq.cap;
	c->fl->rcvq_space_seq = tcp_read_seq(c);
	c->fl->rcvq_space_us = s->now_us;
}

void tcp_rcv_space_adjust(struct synack_stack *s, struct synack_tcb *c)
{
	if (!c->fl->rcvq.cap)
		return;
	if (c->fl->rcvq_space == 0) {
		tcp_rcv_space_init(s, c);
		return;
	}
	if (c->fl->rcv_rtt_us == 0 || s->now_us - c->fl->rcvq_space_us < c->fl->rcv_rtt_us)
		return;
	uint32_t copied = (uint32_t)seq_diff(tcp_read_seq(c), c->fl->rcvq_space_seq);
	if (copied > c->fl->rcvq_space) {
		uint32_t max = s->cfg.rcvbuf_max;
		if (!c->rcvbuf_locked && max > c->fl->rcvq.cap && !tcp_mem_pressure(s)) {
			uint32_t mss = c->fl->ack_rcv_mss ? c->fl->ack_rcv_mss : c->snd_mss;
			uint64_t rcvwin = 2 * (uint64_t)copied + 16 * (uint64_t)mss;
			uint64_t grow = rcvwin * (copied - c->fl->rcvq_space) / c->fl->rcvq_space;
			rcvwin += 2 * grow;
			uint32_t buf = rcvwin < max ? (uint32_t)rcvwin : max;
			if (buf > c->fl->rcvq.cap)
				c->fl->rcvq.cap = c->rcvbuf_size = buf;
		}
		c->fl->rcvq_space = copied;
	}
	c->fl->rcvq_space_seq = tcp_read_seq(c);
	c->fl->rcvq_space_us = s->now_us;
}
