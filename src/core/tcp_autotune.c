/* Send-buffer autotuning, as Linux's tcp_sndbuf_expand (tcp_input.c): the send buffer grows
 * with the congestion window, so that a connection can keep cwnd in flight and as much again
 * queued behind it while the ACKs come back, up to tcp_wmem's max (cfg.sndbuf_max, 4 MiB by
 * default). Linux sizes sk_sndbuf at 2 * max(cwnd, 10 segments) * per-segment truesize;
 * synack's buffer holds payload only, so the target is 2 * max(cwnd, init_cwnd) bytes of
 * payload, rounded up to a power of two times the configured size so that a growing flow
 * is moved a few times, not at every ACK. SO_SNDBUF locks the size (no autotuning), as in
 * Linux.
 *
 * The policy (tcp_sndbuf_target) is apart from the mechanism (tcb_resize_sndq), so that a
 * buffer scheme that allocates in chunks can take the target as its size per direction.
 * The buffer is not given back when the flow slows down (Linux does not shrink sk_sndbuf
 * either, short of memory pressure). It is on by default (cfg.sndbuf_max = 4 MiB, tcp_wmem's
 * max). It used to be off because two lossy simulation profiles stalled with it: RFC 6675's
 * rescue retransmission took "the highest unSACKed data" from the end of the queue instead
 * of below HighData (SND.MAX), so with a queue far longer than the flight it sent never-sent
 * data far beyond the peer's window, SND.NXT jumped there, and from then on every ACK
 * carried a sequence number outside the peer's window: both sides dropped each other's
 * ACKs (tcp_not_acceptable) until ETIMEDOUT. Receive-side dynamic right-sizing is not done: the
 * receive buffer keeps its size (cfg.rcvbuf); only the window scale is chosen from
 * cfg.rcvbuf_max, as Linux does. */
#include "core/tcb.h"

uint32_t tcp_sndbuf_target(const struct synack_stack *s, const struct synack_tcb *c)
{
	uint32_t max = s->cfg.sndbuf_max;
	if (c->sndbuf_locked || max == 0 || c->sndq.cap >= max)
		return c->sndq.cap;
	uint64_t floor = (uint64_t)s->cfg.init_cwnd_segs * c->snd_mss;
	uint64_t want = 2 * (c->cc.cwnd > floor ? c->cc.cwnd : floor);
	uint64_t cap = c->sndq.cap ? c->sndq.cap : s->cfg.sndbuf;
	while (cap < want && cap < max)
		cap *= 2;
	return (uint32_t)(cap < max ? cap : max);
}

void tcp_sndbuf_autotune(struct synack_stack *s, struct synack_tcb *c)
{
	if (!c->sndq.cap)
		return;
	uint32_t target = tcp_sndbuf_target(s, c);
	if (target > c->sndq.cap && tcb_resize_sndq(s, c, target) == 0)
		tcp_wake(s, c); /* room to write: POLLOUT */
}
