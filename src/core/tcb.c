/* TCB lifetime: creation with the socket defaults, buffers, the connection table, the
 * listener's queues, deferred freeing, and the TCP_INFO view. */
#include <errno.h>
#include <string.h>

#include "core/tcb.h"
#include "core/tcp_req.h"

void tcb_init_defaults(const struct synack_stack *s, struct synack_tcb *c, struct tcb_flow *fl)
{
	memset(c, 0, sizeof *c);
	c->fd = -1;
	c->state = SYNACK_CLOSED;
	c->sndbuf_size = s->cfg.sndbuf;
	c->rcvbuf_size = s->cfg.rcvbuf;
	c->ip_ttl = 64;
	c->pmtudisc = SYNACK_IP_PMTUDISC_WANT;
	c->keep_idle_s = s->cfg.keepalive_time_s;
	c->keep_intvl_s = s->cfg.keepalive_intvl_s;
	c->keep_cnt = s->cfg.keepalive_probes;
	c->rto_us = s->cfg.rto_initial_ms * 1000u;
	c->snd_mss = 536;
	c->last_rx_us = s->now_us;
	c->fl = fl;
	tcb_flow_init(c, fl, s->cc);
	fl->active_us = s->now_us;
	tcp_timers_init(c);
}

struct synack_tcb *tcb_new(struct synack_stack *s)
{
	if (s->nobjs >= s->cfg.max_sockets)
		return NULL;
	struct synack_tcb *c = stack_alloc(s, sizeof *c);
	struct tcb_flow *fl = c ? stack_alloc(s, sizeof *fl) : NULL;
	if (!fl) {
		stack_free(s, c, sizeof *c);
		return NULL;
	}
	tcb_init_defaults(s, c, fl);
	c->ts_offset = (uint32_t)synack_rng_next(&s->rng);
	c->all_next = s->all;
	if (s->all)
		s->all->all_prev = c;
	s->all = c;
	s->nobjs++;
	return c;
}

int tcb_alloc_buffers(struct synack_stack *s, struct synack_tcb *c)
{
	/* The memory comes with the data (buf.h): only the sizes are set here. */
	if (!c->fl->sndq.cap && !c->fl->rcvq.cap)
		s->nbuffered++;
	c->fl->sndq.cap = c->sndbuf_size;
	c->fl->rcvq.cap = c->rcvbuf_size;
	return 0;
}

int tcb_resize_sndq(struct synack_stack *s, struct synack_tcb *c, uint32_t cap)
{
	(void)s;
	if (cap < c->fl->sndq.len || cap == 0)
		return -EINVAL;
	c->fl->sndq.cap = cap;
	c->sndbuf_size = cap;
	return 0;
}

bool tcb_ooo_ready(struct synack_stack *s, struct synack_tcb *c)
{
	if (c->fl->ooo.r)
		return true;
	uint32_t n = s->cfg.ooo_max_segs;
	c->fl->ooo.r = stack_alloc(s, n * sizeof c->fl->ooo.r[0]);
	if (!c->fl->ooo.r)
		return false;
	c->fl->ooo.cap = n;
	c->fl->ooo.n = 0;
	return true;
}

void tcb_rcvq_settle(struct synack_stack *s, struct synack_tcb *c)
{
	if (c->fl->ooo.n > 0 || c->syn_text)
		return;
	if (c->fl->ooo.r) {
		stack_free(s, c->fl->ooo.r, c->fl->ooo.cap * sizeof c->fl->ooo.r[0]);
		c->fl->ooo.r = NULL;
		c->fl->ooo.cap = 0;
	}
	if (c->fl->rcvq.len == 0)
		ring_release(&c->fl->rcvq, &s->bufs);
}

void tcb_free_buffers(struct synack_stack *s, struct synack_tcb *c)
{
	if (c->fl->sndq.cap || c->fl->rcvq.cap)
		s->nbuffered--;
	ring_release(&c->fl->sndq, &s->bufs);
	ring_release(&c->fl->rcvq, &s->bufs);
	stack_free(s, c->fl->ooo.r, c->fl->ooo.cap * sizeof c->fl->ooo.r[0]);
	memset(&c->fl->sndq, 0, sizeof c->fl->sndq);
	memset(&c->fl->rcvq, 0, sizeof c->fl->rcvq);
	memset(&c->fl->ooo, 0, sizeof c->fl->ooo);
	rack_free(s, c);
}

bool tcp_mem_pressure(struct synack_stack *s)
{
	size_t used = s->bufs.used;
	if (!s->mem_pressure && s->cfg.tcp_mem[1] && used > s->cfg.tcp_mem[1]) {
		s->mem_pressure = true;
		stack_count(s, SYNACK_CTR_TCPMemoryPressures);
	} else if (s->mem_pressure && used < s->cfg.tcp_mem[0]) {
		s->mem_pressure = false;
	}
	return s->mem_pressure;
}

int tcb_conntab_insert(struct synack_stack *s, struct synack_tcb *c)
{
	int r = synack_conntab_insert(&s->conns, &c->h);
	if (r == 0)
		c->in_conntab = true;
	return r;
}

void tcb_conntab_remove(struct synack_stack *s, struct synack_tcb *c)
{
	if (!c->in_conntab)
		return;
	synack_conntab_remove(&s->conns, &c->h);
	c->in_conntab = false;
}

void tcb_unlink_child(struct synack_tcb *c)
{
	struct tcb_listen *l = c->fl && c->fl->parent ? tcb_lq(c->fl->parent) : NULL;
	if (!l)
		return;
	struct synack_tcb **head = c->in_acceptq ? &l->acceptq : &l->synq;
	if (c->fl->q_prev)
		c->fl->q_prev->fl->q_next = c->fl->q_next;
	else
		*head = c->fl->q_next;
	if (c->fl->q_next)
		c->fl->q_next->fl->q_prev = c->fl->q_prev;
	else if (c->in_acceptq)
		l->acceptq_tail = c->fl->q_prev;
	if (c->in_acceptq)
		l->acceptq_len--;
	else
		l->synq_len--;
	c->fl->q_next = c->fl->q_prev = NULL;
	c->fl->parent = NULL;
	c->in_acceptq = false;
}

void tcb_kill(struct synack_stack *s, struct synack_tcb *c)
{
	if (c->dead)
		return;
	c->dead = true;
	if (c->ack_batched) {
		struct synack_tcb **pp = &s->ack_head;
		while (*pp != c)
			pp = &(*pp)->fl->ack_next;
		*pp = c->fl->ack_next;
		c->ack_batched = false;
	}
	if (c->fl)
		tfo_child_release(s, c);
	tcp_cancel_timers(s, c);
	tcb_conntab_remove(s, c);
	ports_listen_remove(s, c);
	ports_unbind(s, c);
	struct synack_tcb *parent = c->in_acceptq ? c->fl->parent : NULL;
	tcb_unlink_child(c);
	if (parent && !parent->dead)
		tcp_wake(s, parent); /* one fewer connection to accept */
	/* A listener's children die with it. */
	while (tcb_lq(c) && tcb_lq(c)->synq)
		tcb_kill(s, tcb_lq(c)->synq);
	if (tcb_lq(c))
		req_kill_all(s, tcb_lq(c));
	while (tcb_lq(c) && tcb_lq(c)->acceptq)
		tcb_kill(s, tcb_lq(c)->acceptq);
	if (c->fd >= 0) {
		s->fds[c->fd] = NULL;
		if ((uint32_t)c->fd < s->fd_low)
			s->fd_low = (uint32_t)c->fd;
		c->fd = -1;
	}
	if (c->all_prev)
		c->all_prev->all_next = c->all_next;
	else
		s->all = c->all_next;
	if (c->all_next)
		c->all_next->all_prev = c->all_prev;
	c->all_next = c->all_prev = NULL;
	c->all_next = s->reap;
	s->reap = c;
}

void tcb_free(struct synack_stack *s, struct synack_tcb *c)
{
	if (c->fl) {
		stack_free(s, c->fl->lq, sizeof *c->fl->lq);
		tcb_free_buffers(s, c);
		sack_clear(s, c);
		tcb_flow_free(s, c);
	} else if (c->sized) {
		s->nbuffered--; /* folded with its buffers sized (tcb_flow.c) */
	}
	s->nobjs--;
	stack_free(s, c, sizeof *c);
}

void tcb_fill_info(const struct synack_stack *s, const struct synack_tcb *c,
		   struct synack_tcp_info *o)
{
	(void)s;
	/* A folded connection (tcb_flow.c) has nothing queued or retransmitted. */
	static const struct tcb_flow quiet;
	const struct tcb_flow *f = c->fl ? c->fl : &quiet;
	memset(o, 0, sizeof *o);
	o->state = c->state;
	o->local.addr = c->key.laddr;
	o->local.port = c->key.lport;
	o->remote.addr = c->key.raddr;
	o->remote.port = c->key.rport;
	o->any_local = !c->addr_bound && (c->state == SYNACK_LISTEN || c->state == SYNACK_CLOSED) &&
		       !c->connect_bound;
	if (o->any_local)
		o->any_family = c->any_family == SYNACK_AF_INET ? SYNACK_AF_INET
				: c->v6only			? SYNACK_AF_INET6
								: 0;
	o->rtt_us = c->srtt_us;
	o->rttvar_us = c->rttvar_us;
	o->rto_us = c->rto_us;
	o->retransmits = f->retries;
	o->total_retrans = c->total_retrans;
	o->bytes_in_flight = (uint32_t)seq_diff(c->snd_nxt, c->snd_una);
	o->unacked = c->snd_mss ? (o->bytes_in_flight + c->snd_mss - 1) / c->snd_mss : 0;
	o->snd_mss = c->snd_mss;
	o->rcv_mss = c->rcv_mss;
	o->snd_wnd = c->snd_wnd;
	o->rcv_wnd = c->rcv_wnd;
	o->snd_cwnd = tcb_cwnd(c);
	o->snd_ssthresh = tcb_ssthresh(c) >= CC_CWND_MAX ? UINT32_MAX : tcb_ssthresh(c);
	o->snd_wscale = c->snd_wscale;
	o->rcv_wscale = c->rcv_wscale;
	o->ts_ok = c->ts_ok;
	o->sack_ok = c->sack_ok;
	bool lis = c->state == SYNACK_LISTEN && tcb_lq(c);
	o->recv_q = lis ? tcb_lq(c)->acceptq_len : f->rcvq.len;
	o->send_q = lis ? (uint32_t)tcb_lq(c)->backlog : f->sndq.len;
	o->iss = c->iss;
	o->irs = c->irs;
	o->snd_una = c->snd_una;
	o->snd_nxt = c->snd_nxt;
	o->rcv_nxt = c->rcv_nxt;
	o->rmem_alloc = (uint32_t)ring_mem(&f->rcvq);
	o->wmem_queued = (uint32_t)ring_mem(&f->sndq);
	o->rcvbuf = f->rcvq.cap ? f->rcvq.cap : c->rcvbuf_size;
	o->sndbuf = f->sndq.cap ? f->sndq.cap : c->sndbuf_size;
}

void tcb_trace_cc(const struct synack_stack *s, const struct synack_tuple *t,
		  struct synack_trace_event *ev)
{
	/* A compact TIME-WAIT entry (tcp_tw.c) has no congestion control to show. */
	const struct synack_tcb *c = tcb_of_node(t ? synack_conntab_find(&s->conns, t) : NULL);
	if (!c || tcb_cwnd(c) == 0)
		return; /* congestion control starts with the connection (SYN-SENT has none) */
	ev->has_cc = true;
	ev->cwnd = tcb_cwnd(c);
	ev->ssthresh = tcb_ssthresh(c) >= CC_CWND_MAX ? UINT32_MAX : tcb_ssthresh(c);
	ev->srtt_us = c->srtt_us;
	ev->in_flight = (uint32_t)seq_diff(c->snd_nxt, c->snd_una);
}

void tcb_reset_connection(struct synack_stack *s, struct synack_tcb *c)
{
	ring_release(&c->fl->sndq, &s->bufs);
	ring_release(&c->fl->rcvq, &s->bufs);
	c->fl->ooo.n = 0;
	c->snd_nomem = false;
	sack_clear(s, c);
	c->fl->rack.n = 0;
	struct rack_seg *rs = c->fl->rack.seg;
	uint32_t rcap = c->fl->rack.cap;
	c->fl->rack = (struct rack_log){.seg = rs, .cap = rcap, .steps = 1};
	c->undo_on = c->frto_loss = false;
	c->ooo_fin = false;
	c->fl->neor = 0;
	c->ecn_ok = c->ecn_asked = c->ece_pending = c->cwr_pending = c->in_cwr = false;
	c->fl->urg_state = URG_NONE;
	c->snd_urg = false;
	c->snd_wnd = c->max_snd_wnd = 0;
	c->snd_wl1 = c->snd_wl2 = 0;
	c->rcv_nxt = c->irs = c->rcv_adv = 0;
	c->rcv_wnd = 0;
	c->snd_mss = 536;
	c->rcv_mss = 0;
	c->snd_wscale = c->rcv_wscale = 0;
	c->ws_ok = c->ts_ok = c->sack_ok = false;
	c->ts_recent = 0;
	c->srtt_us = c->rttvar_us = 0;
	c->rtt_valid = c->rtt_timing = false;
	c->rto_us = s->cfg.rto_initial_ms * 1000u;
	c->fl->retries = c->total_retrans = 0;
	c->fl->cc.cwnd = c->fl->cc.ssthresh = c->fl->dupacks = 0;
	cc_set(&c->fl->cc, c->fl->cc.ops); /* the controller's state starts over */
	c->in_recovery = c->rtx_pending = false;
	c->keep_probes = c->fl->probes_out = 0;
	c->sent_data = false;
	c->last_rx_us = s->now_us;
	c->fl->chal_start_us = 0;
	c->fl->chal_count = c->fl->chal_limit = 0;
	c->err = 0;
	c->reset = false;
	c->rcvd_fin = c->fin_queued = c->shut_rd = c->orphan = false;
}
