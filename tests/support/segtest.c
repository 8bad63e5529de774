/* segtest: see segtest.h. */
#include "segtest.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void *count_alloc(void *ctx, size_t size)
{
	struct segtest *t = ctx;
	t->nallocs++;
	if (t->fail_at && t->nallocs == t->fail_at)
		return NULL;
	void *p = malloc(size);
	if (p) {
		t->live_bytes += size;
		t->live_allocs++;
	}
	return p;
}

static void count_free(void *ctx, void *p, size_t size)
{
	struct segtest *t = ctx;
	if (!p)
		return;
	t->live_bytes -= size;
	t->live_allocs--;
	free(p);
}

static void capture(void *ctx, const uint8_t *frame, const struct synack_frame_meta *meta)
{
	size_t len = meta->len;
	struct segtest *t = ctx;
	cr_assert_lt(t->nframes, ST_MAX_FRAMES, "segtest: too many frames captured");
	cr_assert_leq(len, ST_FRAME_CAP, "segtest: frame of %zu bytes", len);
	/* Every frame out says what it is, and fits the link. */
	cr_assert_geq(len, 20, "segtest: meta->len %zu", len);
	cr_assert_eq(frame[0] >> 4, meta->family, "segtest: meta->family %u", meta->family);
	if (meta->family == SYNACK_AF_INET)
		cr_assert_eq((size_t)(frame[2] << 8 | frame[3]), len, "meta->len is the IP total length");
	else
		cr_assert_eq((size_t)(frame[4] << 8 | frame[5]) + 40, len,
			     "meta->len is the IPv6 packet length");
	if (meta->gso_type != SYNACK_GSO_NONE) {
		/* A segmented frame: the link declared it, and each piece fits the MTU. */
		cr_assert(t->cfg.caps.max_gso && t->cfg.caps.tx_csum, "segtest: GSO not declared");
		cr_assert_leq(len, t->cfg.caps.max_gso, "segtest: %zu-byte frame over max_gso", len);
		cr_assert_eq(meta->csum, SYNACK_CSUM_NEEDED, "a segmented frame leaves its sum");
		cr_assert_gt(meta->gso_size, 0);
		if (t->cfg.caps.mtu)
			cr_assert_leq((size_t)meta->hdr_len + meta->gso_size, t->cfg.caps.mtu,
				      "segtest: a piece of %u+%u bytes over the MTU", meta->hdr_len,
				      meta->gso_size);
	} else if (t->cfg.caps.mtu) {
		cr_assert_leq(len, t->cfg.caps.mtu, "segtest: %zu-byte frame over the MTU", len);
	}
	if (!t->cfg.caps.tx_csum)
		cr_assert_eq(meta->csum, SYNACK_CSUM_NONE, "no offload asked for, none used");
	struct st_frame *f = &t->frames[t->nframes++];
	memcpy(f->b, frame, len);
	f->len = len;
	f->t_us = t->now;
	f->meta = *meta;
}

static void on_trace(void *ctx, const struct synack_trace_event *e)
{
	struct segtest *t = ctx;
	if (t->nev >= ST_MAX_EVENTS)
		return;
	struct st_event *x = &t->ev[t->nev++];
	memset(x, 0, sizeof *x);
	x->kind = e->kind;
	x->t_us = e->t_us;
	x->from = e->from;
	x->to = e->to;
	x->reason = e->reason;
	x->timer = e->timer;
	x->err = e->err;
	x->retx = e->retx;
	if (e->seg)
		x->flags = e->seg->flags;
	x->has_cc = e->has_cc;
	x->cwnd = e->cwnd;
	x->ssthresh = e->ssthresh;
	x->srtt_us = e->srtt_us;
	x->in_flight = e->in_flight;
}

static void on_wake(void *ctx, int fd, unsigned events)
{
	struct segtest *t = ctx;
	t->wakes++;
	if (fd >= 0 && fd < 64)
		t->wake_mask[fd] = events;
	if (t->wake_hook)
		t->wake_hook(t, fd, events);
}

void st_config(struct synack_config *cfg)
{
	synack_config_default(cfg);
	cfg->name = "stack";
	synack_config_add_addr(cfg, synack_addr_v4(ST_LOCAL), 24);
	cfg->seed = 1;
	for (int i = 0; i < 16; i++)
		cfg->secret[i] = (uint8_t)(i * 7 + 1);
}

static bool init_common(struct segtest *t, const struct synack_config *cfg, size_t fail_at);

void st_init(struct segtest *t, const struct synack_config *cfg)
{
	cr_assert(init_common(t, cfg, 0), "synack_stack_create");
}

bool st_try_init(struct segtest *t, const struct synack_config *cfg, size_t fail_at)
{
	if (init_common(t, cfg, fail_at))
		return true;
	cr_assert_eq(t->live_allocs, 0, "a failed create leaks nothing");
	free(t->frames);
	free(t->ev);
	return false;
}

static bool init_common(struct segtest *t, const struct synack_config *cfg, size_t fail_at)
{
	memset(t, 0, sizeof *t);
	t->frames = calloc(ST_MAX_FRAMES, sizeof t->frames[0]);
	t->ev = calloc(ST_MAX_EVENTS, sizeof t->ev[0]);
	cr_assert(t->frames && t->ev);
	if (cfg)
		t->cfg = *cfg;
	else
		st_config(&t->cfg);
	t->cfg.allocator.alloc = count_alloc;
	t->cfg.allocator.free = count_free;
	t->cfg.allocator.ctx = t;
	t->cfg.output = capture;
	t->cfg.output_ctx = t;
	t->cfg.trace = on_trace;
	t->cfg.trace_ctx = t;
	t->cfg.wake = on_wake;
	t->cfg.wake_ctx = t;
	t->fail_at = fail_at;
	int r = synack_stack_create(&t->s, &t->cfg);
	if (r < 0) {
		cr_assert_eq(r, -ENOMEM);
		return false;
	}
	cr_assert_eq(synack_stack_live_allocs(t->s), t->live_allocs,
		     "the stack's own accounting matches the allocator's");
	t->lport = ST_SERVER_PORT;
	t->rport = ST_PEER_PORT;
	t->local = synack_addr_v4(ST_LOCAL);
	t->peer = synack_addr_v4(ST_PEER);
	return true;
}

void st_init6(struct segtest *t)
{
	struct synack_config cfg;
	st_config(&cfg);
	cr_assert_eq(synack_config_add_addr(&cfg, synack_addr_v6(ST_V6_LOCAL), 64), 0);
	st_init(t, &cfg);
	t->local = synack_addr_v6(ST_V6_LOCAL);
	t->peer = synack_addr_v6(ST_V6_PEER);
}

void st_fini(struct segtest *t)
{
	synack_stack_destroy(t->s);
	t->s = NULL;
	cr_assert_eq(t->live_allocs, 0, "live allocations after destroy: %zu", t->live_allocs);
	cr_assert_eq(t->live_bytes, 0, "live bytes after destroy: %zu", t->live_bytes);
	free(t->frames);
	free(t->ev);
}

void st_send_raw(struct segtest *t, const uint8_t *frame, size_t len)
{
	synack_stack_input(t->s, frame, len, t->now);
}

void st_send(struct segtest *t, const struct st_in *in)
{
	struct synack_tcp_seg seg;
	memset(&seg, 0, sizeof seg);
	seg.sport = in->sport ? in->sport : t->rport;
	seg.dport = in->dport ? in->dport : t->lport;
	seg.seq = in->seq;
	seg.ack = in->ack;
	seg.flags = in->flags;
	seg.win = in->win == 0 ? 65535 : in->win == ST_ZERO_WIN ? 0 : (uint16_t)in->win;
	seg.opts = in->opts;
	seg.payload = in->data;
	seg.len = in->len;
	uint8_t buf[70000];
	int n = synack_tcp_emit(buf, sizeof buf, &t->peer, &t->local, 1, &seg);
	cr_assert_gt(n, 0, "synack_tcp_emit");
	st_send_raw(t, buf, (size_t)n);
}

void st_at(struct segtest *t, uint64_t t_us)
{
	t->now = t_us;
	synack_stack_poll(t->s, t_us);
}

size_t st_pending(const struct segtest *t) { return t->nframes - t->next; }

bool st_next(struct segtest *t, struct st_seg *out)
{
	if (t->next >= t->nframes)
		return false;
	struct st_frame *f = &t->frames[t->next++];
	const uint8_t *p;
	size_t plen;
	static uint8_t b[ST_FRAME_CAP]; /* the frame as the wire carries it */
	memcpy(b, f->b, f->len);
	if (f->meta.csum == SYNACK_CSUM_NEEDED) { /* do what the device would: finish the sum */
		struct synack_frame_meta m = f->meta;
		cr_assert_eq(synack_frame_csum_complete(b, &m), 0);
	}
	struct synack_addr src, dst;
	memset(out, 0, sizeof *out);
	if (synack_addr_is_v4(&t->local)) {
		struct synack_ipv4 ip;
		cr_assert_eq(synack_ipv4_parse(b, f->len, &ip, &p, &plen), 0,
			     "outbound IPv4 parses");
		cr_assert_eq(ip.proto, SYNACK_PROTO_TCP);
		src = synack_addr_v4(ip.src);
		dst = synack_addr_v4(ip.dst);
		out->hop_limit = ip.ttl;
	} else {
		struct synack_ipv6 ip;
		cr_assert_eq(synack_ipv6_parse(b, f->len, &ip, &p, &plen), 0,
			     "outbound IPv6 parses");
		cr_assert_eq(ip.proto, SYNACK_PROTO_TCP);
		cr_assert_eq(ip.hdr_len, SYNACK_IPV6_HDR_LEN, "no extension headers");
		src = ip.src;
		dst = ip.dst;
		out->hop_limit = ip.hop_limit;
		out->flow = ip.flow;
	}
	cr_assert(synack_addr_eq(&src, &t->local), "from the stack's address");
	struct synack_tcp_seg seg;
	cr_assert_eq(synack_tcp_parse(p, plen, &src, &dst, true, &seg), 0,
		     "outbound TCP parses with a valid checksum");
	out->src = src;
	out->dst = dst;
	out->flags = seg.flags;
	out->seq = seg.seq;
	out->ack = seg.ack;
	out->win = seg.win;
	out->len = seg.len;
	out->opts = seg.opts;
	memcpy(out->data, seg.payload, seg.len);
	out->t_us = f->t_us;
	return true;
}

void st_expect(struct segtest *t, uint8_t flags, uint32_t seq, uint32_t ack, struct st_seg *out)
{
	struct st_seg tmp, *o = out ? out : &tmp;
	char want[16], got[16];
	cr_assert(st_next(t, o), "expected a segment %s seq %u ack %u, got none",
		  synack_tcp_flags_str(flags, want, sizeof want), seq, ack);
	cr_assert_eq(o->flags, flags, "flags: want %s got %s (seq %u ack %u)",
		     synack_tcp_flags_str(flags, want, sizeof want),
		     synack_tcp_flags_str(o->flags, got, sizeof got), o->seq, o->ack);
	cr_assert_eq(o->seq, seq, "seq: want %u got %u", seq, o->seq);
	if (flags & SYNACK_TH_ACK)
		cr_assert_eq(o->ack, ack, "ack: want %u got %u", ack, o->ack);
}

void st_expect_ack(struct segtest *t, uint8_t flags, uint32_t ack, struct st_seg *out)
{
	struct st_seg tmp, *o = out ? out : &tmp;
	char want[16], got[16];
	cr_assert(st_next(t, o), "expected a segment %s ack %u, got none",
		  synack_tcp_flags_str(flags, want, sizeof want), ack);
	cr_assert_eq(o->flags, flags, "flags: want %s got %s",
		     synack_tcp_flags_str(flags, want, sizeof want),
		     synack_tcp_flags_str(o->flags, got, sizeof got));
	cr_assert_eq(o->ack, ack, "ack: want %u got %u", ack, o->ack);
}

void st_expect_data(struct segtest *t, uint8_t flags, uint32_t seq, uint32_t ack, size_t len)
{
	struct st_seg o;
	st_expect(t, flags, seq, ack, &o);
	cr_assert_eq(o.len, len, "payload length: want %zu got %zu", len, o.len);
}

void st_expect_none(struct segtest *t)
{
	struct st_seg o;
	char f[16];
	if (st_next(t, &o))
		cr_assert_fail("expected no segment, got %s seq %u ack %u len %zu",
			       synack_tcp_flags_str(o.flags, f, sizeof f), o.seq, o.ack, o.len);
}

uint64_t st_counter(const struct segtest *t, enum synack_counter c)
{
	struct synack_counters k;
	synack_stack_counters(t->s, &k);
	return k.v[c];
}

uint64_t st_drops(const struct segtest *t, enum synack_drop_reason r)
{
	struct synack_counters k;
	synack_stack_counters(t->s, &k);
	return k.drops[r];
}

size_t st_count_events(const struct segtest *t, enum synack_trace_kind kind)
{
	size_t n = 0;
	for (size_t i = 0; i < t->nev; i++)
		n += t->ev[i].kind == kind;
	return n;
}

bool st_saw_state(const struct segtest *t, enum synack_tcp_state from, enum synack_tcp_state to)
{
	for (size_t i = 0; i < t->nev; i++)
		if (t->ev[i].kind == SYNACK_TRACE_STATE && t->ev[i].from == from && t->ev[i].to == to)
			return true;
	return false;
}

enum synack_tcp_state st_state(const struct segtest *t, int fd)
{
	struct synack_tcp_info info;
	cr_assert_eq(synack_tcp_info(t->s, fd, &info), 0, "tcp_info(%d)", fd);
	return info.state;
}

int st_listen(struct segtest *t, uint16_t port, int backlog)
{
	int fd = synack_socket(t->s);
	cr_assert_geq(fd, 0);
	struct synack_endpoint ep = {synack_addr_any(synack_addr_family(&t->local)), port};
	cr_assert_eq(synack_bind(t->s, fd, &ep), 0);
	cr_assert_eq(synack_listen(t->s, fd, backlog), 0);
	return fd;
}

static struct synack_tcp_opts mss_only(void)
{
	struct synack_tcp_opts o;
	memset(&o, 0, sizeof o);
	o.has_mss = true;
	o.mss = 1460;
	return o;
}

int st_passive_open(struct segtest *t, uint32_t peer_isn, uint32_t *iss)
{
	int lfd = st_listen(t, ST_SERVER_PORT, 16);
	t->lport = ST_SERVER_PORT;
	t->rport = ST_PEER_PORT;
	ST_IN(t, .flags = F_S, .seq = peer_isn, .opts = mss_only());
	struct st_seg sa;
	cr_assert(st_next(t, &sa), "a SYN-ACK");
	cr_assert_eq(sa.flags, F_S | F_A);
	cr_assert_eq(sa.ack, peer_isn + 1);
	ST_IN(t, .flags = F_A, .seq = peer_isn + 1, .ack = sa.seq + 1);
	int fd = synack_accept(t->s, lfd, NULL);
	cr_assert_geq(fd, 0, "accept: %d", fd);
	if (iss)
		*iss = sa.seq;
	return fd;
}

int st_start_connect(struct segtest *t, struct st_seg *syn)
{
	int fd = synack_socket(t->s);
	cr_assert_geq(fd, 0);
	struct synack_endpoint to = {t->peer, ST_SERVER_PORT};
	cr_assert_eq(synack_connect(t->s, fd, &to), -EINPROGRESS);
	struct synack_endpoint me;
	synack_getsockname(t->s, fd, &me);
	t->lport = me.port;
	t->rport = ST_SERVER_PORT;
	cr_assert(st_next(t, syn), "a SYN");
	cr_assert_eq(syn->flags, F_S);
	return fd;
}

int st_active_open(struct segtest *t, uint32_t peer_isn, uint32_t *iss)
{
	struct st_seg syn;
	int fd = st_start_connect(t, &syn);
	ST_IN(t, .flags = F_S | F_A, .seq = peer_isn, .ack = syn.seq + 1, .opts = mss_only());
	st_expect(t, F_A, syn.seq + 1, peer_isn + 1, NULL);
	cr_assert_eq(st_state(t, fd), SYNACK_ESTABLISHED);
	if (iss)
		*iss = syn.seq;
	return fd;
}

struct count_ctx {
	enum synack_tcp_state st;
	size_t n;
};

static void count_visit(void *ctx, int fd, const struct synack_tcp_info *info)
{
	struct count_ctx *c = ctx;
	(void)fd;
	c->n += info->state == c->st;
}

size_t st_count_state(const struct segtest *t, enum synack_tcp_state st)
{
	struct count_ctx c = {st, 0};
	synack_stack_foreach(t->s, count_visit, &c);
	return c.n;
}

uint64_t st_state_time(const struct segtest *t, enum synack_tcp_state to)
{
	uint64_t r = UINT64_MAX;
	for (size_t i = 0; i < t->nev; i++)
		if (t->ev[i].kind == SYNACK_TRACE_STATE && t->ev[i].to == to)
			r = t->ev[i].t_us;
	return r;
}
