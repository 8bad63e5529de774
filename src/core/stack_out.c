/* The helpers every file of the TCP engine calls on the way out: tracing (segment received,
 * state change, timer fired, error), drops (counted under their reason and traced) and the
 * one exit of every segment, stack_emit_tcp() (through stack_output(), every frame's). They depend on the stack object only, never
 * on the tcb (a TX/RX event's congestion fields come from tcb_trace_cc(), in tcb.c), so they
 * sit below the TCP files and stack.c's entry points above them. */
#include <string.h>

#include "core/stack_impl.h"
#include "core/wire_enc.h"

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
	tcb_trace_cc(s, t, &ev);
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

/* The same fields in an IPv6 header: the traffic class (with the ECN bits) and the hop limit.
 * IPv6 has no DF (routers never fragment) and no header checksum. Linux keeps IPV6_TCLASS and
 * IPV6_UNICAST_HOPS apart from IP_TOS and IP_TTL; synack has one pair for both families. */
static void ip6_patch(uint8_t *frame, const struct stack_ip_fields *ip)
{
	frame[0] = (uint8_t)(0x60 | ip->tos >> 4);
	frame[1] = (uint8_t)((ip->tos & 0x0f) << 4 | (frame[1] & 0x0f));
	frame[7] = ip->ttl;
}

size_t stack_frame_max(const struct synack_stack *s)
{
	return s->cfg.caps.mtu ? s->cfg.caps.mtu : SYNACK_FRAME_MAX;
}

size_t stack_gso_max(const struct synack_stack *s, int family)
{
	const struct synack_link_caps *k = &s->cfg.caps;
	unsigned type = family == SYNACK_AF_INET6 ? SYNACK_GSO_TCPV6 : SYNACK_GSO_TCPV4;
	if (!k->max_gso || !k->tx_csum || !(k->gso_types & (1u << type)))
		return 0;
	return k->max_gso < SYNACK_FRAME_MAX ? k->max_gso : SYNACK_FRAME_MAX;
}

void stack_output(struct synack_stack *s, const uint8_t *frame,
		  const struct synack_frame_meta *meta)
{
	/* Every frame fits the link: the MSS (link_mss in stack.c) and the SACK blocks trimmed
	 * to it (tcp_output.c) see to TCP, icmp.c to ICMP; a segmented frame fits max_gso and
	 * each of its pieces the MTU (tcp_output.c). */
	SYNACK_ASSERT(meta->len <= stack_frame_max(s) ||
		      (meta->gso_type != SYNACK_GSO_NONE && meta->len <= s->cfg.caps.max_gso));
	s->cfg.output(s->cfg.output_ctx, frame, meta);
}

/* Leaves the TCP checksum of the frame in s->tx to the link (caps.tx_csum): only the
 * pseudo-header sum goes in the field, and the metadata says where to finish it. The IPv4
 * header checksum stays complete: links offload only the transport's. */
static void tx_csum_offload(struct synack_stack *s, const struct synack_tuple *t,
			    struct synack_frame_meta *meta)
{
	size_t ihl = synack_addr_is_v4(&t->raddr) ? (size_t)(s->tx[0] & 0xF) * 4
						    : SYNACK_IPV6_HDR_LEN;
	size_t tcp_len = meta->len - ihl;
	uint16_t pseudo = synack_tcp_pseudo_csum(&t->laddr, &t->raddr, tcp_len);
	s->tx[ihl + 16] = (uint8_t)(pseudo >> 8);
	s->tx[ihl + 17] = (uint8_t)pseudo;
	meta->csum = SYNACK_CSUM_NEEDED;
	meta->csum_start = (uint16_t)ihl;
	meta->csum_offset = 16; /* RFC 9293 §3.1: Checksum is bytes 16-17 of the header */
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
	/* With checksum offload the sum is the link's; it is computed here only for a trace,
	 * which sees the segment as the wire will carry it. */
	bool csum = !s->cfg.caps.tx_csum || s->cfg.trace;
	int tcplen = tcp_encode(s->tx + room, s->tx_cap - (size_t)room, &t->laddr, &t->raddr, seg,
				csum);
	SYNACK_ASSERT(tcplen > 0);
	if (tcplen <= 0)
		return;
	int n = ip_output(s, &t->laddr, &t->raddr, SYNACK_PROTO_TCP, s->tx, (size_t)tcplen);
	if (n < 0)
		return;
	if (ip && synack_addr_is_v4(&t->raddr))
		ip_patch(s->tx, ip);
	else if (ip)
		ip6_patch(s->tx, ip);
	/* Linux counts a segmented frame's pieces (tcp_skb_pcount) in OutSegs. */
	uint16_t gso_size = ip ? ip->gso_size : 0;
	bool gso = gso_size && seg->len > gso_size;
	s->ctr.v[SYNACK_CTR_OutSegs] += gso ? (seg->len + gso_size - 1) / gso_size : 1;
	if (retx)
		stack_count(s, SYNACK_CTR_RetransSegs);
	if (seg->flags & SYNACK_TH_RST)
		stack_count(s, SYNACK_CTR_OutRsts);
	if (s->cfg.trace) {
		struct synack_trace_event ev;
		trace_init(s, &ev, SYNACK_TRACE_TX, t);
		tcb_trace_cc(s, t, &ev);
		ev.seg = seg;
		ev.frame = s->tx;
		ev.frame_len = (size_t)n;
		ev.retx = retx;
		s->cfg.trace(s->cfg.trace_ctx, &ev);
	}
	/* The trace saw the segment as it will be on the wire; offload, if any, comes after. */
	struct synack_frame_meta meta = {.len = (uint32_t)n, .family = (uint8_t)synack_addr_family(&t->raddr)};
	if (s->cfg.caps.tx_csum)
		tx_csum_offload(s, t, &meta);
	if (gso) {
		/* virtio-net: a segmented frame's checksum is always partial (NEEDS_CSUM); the
		 * device finishes it in every piece. hdr_len: IP and TCP headers with options. */
		SYNACK_ASSERT(meta.csum == SYNACK_CSUM_NEEDED);
		meta.gso_type = (uint8_t)(synack_addr_is_v4(&t->raddr) ? SYNACK_GSO_TCPV4
									 : SYNACK_GSO_TCPV6);
		meta.gso_size = gso_size;
		meta.hdr_len = (uint16_t)(meta.len - seg->len);
	}
	stack_output(s, s->tx, &meta);
}
