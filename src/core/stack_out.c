/* The helpers every file of the TCP engine calls on the way out: tracing (segment received,
 * state change, timer fired, error), drops (counted under their reason and traced) and the
 * one exit of every segment, stack_emit_tcp(). They depend on the stack object only, never
 * on the tcb, so they sit below the TCP files and stack.c's entry points above them. */
#include <string.h>

#include "core/stack_impl.h"

static void trace_init(const struct synack_stack *s, struct synack_trace_event *ev,
		       enum synack_trace_kind kind, const struct synack_tuple *t)
{
	memset(ev, 0, sizeof *ev);
	ev->kind = kind;
	ev->t_us = s->now_us;
	ev->host = s->cfg.name;
	if (t) {
		ev->has_conn = true;
		ev->local.addr = t->laddr;
		ev->local.port = t->lport;
		ev->remote.addr = t->raddr;
		ev->remote.port = t->rport;
	}
}

void stack_drop(struct synack_stack *s, enum synack_drop_reason r, const struct synack_tuple *t,
		const struct synack_tcp_seg *seg, const uint8_t *frame, size_t len)
{
	s->ctr.drops[r]++;
	if (!s->cfg.trace)
		return;
	struct synack_trace_event ev;
	trace_init(s, &ev, SYNACK_TRACE_DROP, t);
	ev.reason = r;
	ev.seg = seg;
	ev.frame = frame;
	ev.frame_len = len;
	s->cfg.trace(s->cfg.trace_ctx, &ev);
}

void stack_trace_rx(struct synack_stack *s, const struct synack_tuple *t,
		    const struct synack_tcp_seg *seg, const uint8_t *frame, size_t len)
{
	if (!s->cfg.trace)
		return;
	struct synack_trace_event ev;
	trace_init(s, &ev, SYNACK_TRACE_RX, t);
	ev.seg = seg;
	ev.frame = frame;
	ev.frame_len = len;
	s->cfg.trace(s->cfg.trace_ctx, &ev);
}

void stack_trace_state(struct synack_stack *s, const struct synack_tuple *t,
		       enum synack_tcp_state from, enum synack_tcp_state to)
{
	if (!s->cfg.trace)
		return;
	struct synack_trace_event ev;
	trace_init(s, &ev, SYNACK_TRACE_STATE, t);
	ev.from = from;
	ev.to = to;
	s->cfg.trace(s->cfg.trace_ctx, &ev);
}

void stack_trace_timer(struct synack_stack *s, const struct synack_tuple *t,
		       enum synack_timer_kind k)
{
	if (!s->cfg.trace)
		return;
	struct synack_trace_event ev;
	trace_init(s, &ev, SYNACK_TRACE_TIMER, t);
	ev.timer = k;
	s->cfg.trace(s->cfg.trace_ctx, &ev);
}

void stack_trace_error(struct synack_stack *s, const struct synack_tuple *t, int err)
{
	if (!s->cfg.trace)
		return;
	struct synack_trace_event ev;
	trace_init(s, &ev, SYNACK_TRACE_ERROR, t);
	ev.err = err;
	s->cfg.trace(s->cfg.trace_ctx, &ev);
}

/* Rewrites TTL, TOS and DF of the IPv4 header just built, and its checksum. */
/* (IPv4 only: ip_output refuses the other family before this runs.) */
static void ip_patch(uint8_t *frame, const struct stack_ip_fields *ip)
{
	size_t ihl = (size_t)(frame[0] & 15) * 4;
	frame[1] = ip->tos;
	frame[6] = (uint8_t)((frame[6] & ~0x40) | (ip->df ? 0x40 : 0));
	frame[8] = ip->ttl;
	frame[10] = frame[11] = 0;
	uint16_t sum = synack_csum_fold(synack_csum_add(0, frame, ihl));
	frame[10] = (uint8_t)(sum >> 8);
	frame[11] = (uint8_t)sum;
}

void stack_emit_tcp(struct synack_stack *s, const struct synack_tuple *t,
		    const struct synack_tcp_seg *seg, bool retx)
{
	stack_emit_tcp_ip(s, t, seg, retx, NULL);
}

void stack_emit_tcp_ip(struct synack_stack *s, const struct synack_tuple *t,
		       const struct synack_tcp_seg *seg, bool retx,
		       const struct stack_ip_fields *ip)
{
	/* The TCP encoder writes behind the room the IP layer asks for; the IP layer then
	 * writes its header in front. A family without an IP codec is refused and counted
	 * (IpOutNoRoutes) by the IP layer, never sent half-built. */
	int room = ip_header_room(&t->raddr);
	if (room < 0) {
		stack_count(s, SYNACK_CTR_IpOutNoRoutes);
		return;
	}
	int tcplen = synack_tcp_encode(s->tx + room, s->tx_cap - (size_t)room, &t->laddr, &t->raddr,
				       seg);
	SYNACK_ASSERT(tcplen > 0);
	if (tcplen <= 0)
		return;
	int n = ip_output(s, &t->laddr, &t->raddr, SYNACK_PROTO_TCP, s->tx, (size_t)tcplen);
	if (n < 0)
		return;
	if (ip)
		ip_patch(s->tx, ip);
	stack_count(s, SYNACK_CTR_OutSegs);
	if (retx)
		stack_count(s, SYNACK_CTR_RetransSegs);
	if (seg->flags & SYNACK_TH_RST)
		stack_count(s, SYNACK_CTR_OutRsts);
	if (s->cfg.trace) {
		struct synack_trace_event ev;
		trace_init(s, &ev, SYNACK_TRACE_TX, t);
		ev.seg = seg;
		ev.frame = s->tx;
		ev.frame_len = (size_t)n;
		ev.retx = retx;
		s->cfg.trace(s->cfg.trace_ctx, &ev);
	}
	s->cfg.output(s->cfg.output_ctx, s->tx, (size_t)n);
}
