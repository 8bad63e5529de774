/* The stack object's entry points: configuration, creation and destruction, allocator
 * accounting, the input and poll calls, counters, and the end of every call (stack_reap).
 * The helpers every TCP file calls to count, trace, drop and emit live in stack_out.c. */
#include <errno.h>
#include <string.h>

#include "core/stack_impl.h"
#include "core/reasm.h"
#include "core/tcb.h"
#include "core/tcp_req.h"
#include "core/tcp_tw.h"

void synack_config_default(struct synack_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->name = "synack";
	cfg->max_sockets = 1024;
	cfg->max_tw_buckets = 262144;
	cfg->fold_ms = 1000;
	cfg->tw_reuse = 2;
	cfg->mss = 1460;
	cfg->sndbuf = 16384;
	cfg->sndbuf_max = 4194304;
	cfg->rcvbuf = 131072;
	cfg->rcvbuf_max = 6291456;
	cfg->tcp_mem[0] = (size_t)96 << 20;
	cfg->tcp_mem[1] = (size_t)128 << 20;
	cfg->tcp_mem[2] = (size_t)192 << 20;
	cfg->notsent_lowat = UINT32_MAX;
	cfg->ecn = 2;
	cfg->fastopen = SYNACK_TFO_CLIENT; /* Linux's default: client on */
	cfg->ooo_max_segs = 64;
	cfg->init_cwnd_segs = 10;
	cfg->syn_retries = 6;
	cfg->synack_retries = 5;
	cfg->retries2 = 15;
	cfg->rto_initial_ms = 1000;
	cfg->rto_min_ms = 200;
	cfg->rto_max_ms = 120000;
	cfg->msl_ms = 30000;
	cfg->fin_timeout_ms = 60000;
	cfg->keepalive_time_s = 7200;
	cfg->keepalive_intvl_s = 75;
	cfg->keepalive_probes = 9;
	cfg->port_lo = 32768;
	cfg->port_hi = 60999;
	cfg->timestamps = true;
	cfg->sack = true;
	cfg->recovery = 1;
	cfg->frto = 1;
	cfg->window_scaling = true;
	cfg->syncookies = 1;
	cfg->challenge_ack_limit = 1000;
	memcpy(cfg->congestion, "cubic", sizeof "cubic"); /* Linux's default since 2.6.19 */
}

void *stack_alloc(struct synack_stack *s, size_t size)
{
	void *p = s->cfg.allocator.alloc(s->cfg.allocator.ctx, size);
	if (p) {
		s->live_bytes += size;
		s->live_allocs++;
	}
	return p;
}

void stack_free(struct synack_stack *s, void *p, size_t size)
{
	if (!p)
		return;
	s->live_bytes -= size;
	s->live_allocs--;
	s->cfg.allocator.free(s->cfg.allocator.ctx, p, size);
}

/* The allocator handed to sub-modules (the connection table), so that their memory is
 * counted in live_bytes/live_allocs too. */
static void *counted_alloc(void *ctx, size_t size) { return stack_alloc(ctx, size); }
static void counted_free(void *ctx, void *p, size_t size) { stack_free(ctx, p, size); }

int synack_config_add_addr(struct synack_config *cfg, struct synack_addr addr, unsigned prefix_len)
{
	unsigned max = synack_addr_is_v4(&addr) ? 32 : 128;
	if (prefix_len > max || synack_addr_is_any(&addr))
		return -EINVAL;
	for (uint32_t i = 0; i < cfg->naddrs && i < SYNACK_STACK_ADDRS_MAX; i++)
		if (synack_addr_eq(&cfg->addrs[i].addr, &addr))
			return 0;
	if (cfg->naddrs >= SYNACK_STACK_ADDRS_MAX)
		return -ENOSPC;
	cfg->addrs[cfg->naddrs].addr = addr;
	cfg->addrs[cfg->naddrs].prefix_len = (uint8_t)prefix_len;
	cfg->naddrs++;
	return 0;
}

/* strnlen() without libc (the core references only the few symbols check-core-purity
 * allows). */
static size_t strnlen_core(const char *p, size_t max)
{
	size_t n = 0;
	while (n < max && p[n])
		n++;
	return n;
}

static int config_check(const struct synack_config *c)
{
	if (!c->allocator.alloc || !c->allocator.free || !c->output)
		return -EINVAL;
	if (c->naddrs > SYNACK_STACK_ADDRS_MAX)
		return -EINVAL;
	if (c->max_sockets == 0 || c->mss < 64 || c->mss > 65495 || c->sndbuf == 0 ||
	    c->rcvbuf == 0 || c->ooo_max_segs == 0 || c->init_cwnd_segs == 0)
		return -EINVAL;
	if (c->port_lo == 0 || c->port_lo > c->port_hi || c->rto_min_ms == 0 ||
	    c->rto_min_ms > c->rto_max_ms || c->msl_ms > SYNACK_MSL_MAX_MS)
		return -EINVAL;
	/* Linux's limits (TCP_KEEPINTVL, TCP_KEEPCNT): a connection keeps them narrow (tcb.h). */
	if (c->keepalive_intvl_s > 32767 || c->keepalive_probes > 127)
		return -EINVAL;
	if (c->steer_queues > 1 && c->steer_queue >= c->steer_queues)
		return -EINVAL;
	/* A frame must hold the IPv4 and TCP headers and the smallest MSS we accept. */
	if (c->caps.mtu != 0 && (c->caps.mtu < 40 + 64 || c->caps.mtu > SYNACK_FRAME_MAX))
		return -EINVAL;
	if (strnlen_core(c->congestion, sizeof c->congestion) == sizeof c->congestion)
		return -EINVAL; /* not a string */
	return 0;
}

/* The MSS we announce fits the link: at most mtu - 40, the largest segment we can take less
 * the fixed IPv4 and TCP headers (RFC 9293 §3.7.1, RFC 6691), as Linux derives it from the
 * device MTU. Options are paid for out of it (tcp_output.c) so no frame exceeds the MTU. */
static uint16_t link_mss(const struct synack_config *c)
{
	if (c->caps.mtu && c->mss > c->caps.mtu - 40)
		return (uint16_t)(c->caps.mtu - 40);
	return c->mss;
}

/* The controller cfg names; "" is the default, CUBIC. NULL when there is none by that name. */
static const struct cc_ops *config_cc(const struct synack_config *c)
{
	return c->congestion[0] ? cc_find(c->congestion) : &cc_cubic;
}

int synack_stack_create(struct synack_stack **out, const struct synack_config *cfg)
{
	*out = NULL;
	int err = config_check(cfg);
	if (err)
		return err;
	const struct cc_ops *cc = config_cc(cfg);
	if (!cc)
		return -ENOENT;
	struct synack_stack *s = cfg->allocator.alloc(cfg->allocator.ctx, sizeof *s);
	if (!s)
		return -ENOMEM;
	memset(s, 0, sizeof *s);
	s->cfg = *cfg;
	s->cfg.mss = link_mss(cfg);
	s->cc = cc;
	memcpy(s->cfg.congestion, cc->name, strlen(cc->name) + 1);
	s->live_bytes = sizeof *s;
	s->live_allocs = 1;
	synack_rng_seed(&s->rng, cfg->seed);
	synack_wheel_init(&s->wheel, 0);
	tw_init(s);
	s->ip_id = (uint16_t)synack_rng_next(&s->rng);
	s->counted.alloc = counted_alloc;
	s->counted.free = counted_free;
	s->counted.ctx = s;
	s->bufs.a = s->counted;
	/* As many free chunks as one connection's largest buffers hold (a bulk flow frees and
	 * takes that many between two calls), at least SYNACK_CHUNK_CACHE. */
	uint64_t most = ((uint64_t)cfg->sndbuf_max + cfg->rcvbuf_max) / SYNACK_CHUNK;
	s->bufs.free_max = most > SYNACK_CHUNK_CACHE ? (uint32_t)most : SYNACK_CHUNK_CACHE;
	s->bufs.limit = cfg->tcp_mem[2];
	s->nfds = cfg->max_sockets;
	/* One frame: the headers and an MSS, or a whole segmented frame when the link takes
	 * them (TSO); the scratch copy holds the payload of either. */
	size_t gso = stack_gso_max(s, SYNACK_AF_INET) > stack_gso_max(s, SYNACK_AF_INET6)
			     ? stack_gso_max(s, SYNACK_AF_INET)
			     : stack_gso_max(s, SYNACK_AF_INET6);
	s->tx_cap = 20 + 60 + (size_t)cfg->mss;
	if (gso > s->tx_cap)
		s->tx_cap = gso;
	s->scratch_cap = gso > cfg->mss ? gso : cfg->mss;
	s->fds = stack_alloc(s, s->nfds * sizeof s->fds[0]);
	s->tx = stack_alloc(s, s->tx_cap);
	s->scratch = stack_alloc(s, s->scratch_cap);
	if (!s->fds || !s->tx || !s->scratch ||
	    synack_conntab_init(&s->conns, &s->counted, cfg->secret, 64) < 0) {
		stack_free(s, s->fds, s->nfds * sizeof s->fds[0]);
		stack_free(s, s->tx, s->tx_cap);
		stack_free(s, s->scratch, s->scratch_cap);
		cfg->allocator.free(cfg->allocator.ctx, s, sizeof *s);
		return -ENOMEM;
	}
	memset(s->fds, 0, s->nfds * sizeof s->fds[0]);
	*out = s;
	return 0;
}

void synack_stack_destroy(struct synack_stack *s)
{
	if (!s)
		return;
	while (s->all)
		tcb_kill(s, s->all);
	stack_reap(s);
	tw_fini(s);
	reasm_fini(s);
	chunk_pool_fini(&s->bufs);
	synack_conntab_fini(&s->conns);
	stack_free(s, s->fds, s->nfds * sizeof s->fds[0]);
	stack_free(s, s->tx, s->tx_cap);
	stack_free(s, s->scratch, s->scratch_cap);
	struct synack_allocator a = s->cfg.allocator;
	a.free(a.ctx, s, sizeof *s);
}

static void stack_advance(struct synack_stack *s, uint64_t now_us)
{
	/* The caller's clock may start anywhere (a monotonic clock, a simulation at 0): the
	 * wheel starts at the first time we see, as long as nothing is armed yet. */
	if (!s->clock_started && s->wheel.count == 0)
		synack_wheel_init(&s->wheel, now_us);
	s->clock_started = true;
	if (now_us > s->now_us)
		s->now_us = now_us;
}

void synack_stack_input(struct synack_stack *s, const uint8_t *frame, size_t len, uint64_t now_us)
{
	stack_advance(s, now_us);
	ip_input(s, frame, len, false);
	stack_reap(s);
}

int synack_stack_input_frame(struct synack_stack *s, const uint8_t *frame,
			     const struct synack_frame_meta *meta, uint64_t now_us)
{
	if (!frame || synack_frame_meta_check(meta) < 0)
		return -EINVAL;
	bool csum_ok = meta->csum == SYNACK_CSUM_VERIFIED || meta->csum == SYNACK_CSUM_NEEDED;
	stack_advance(s, now_us);
	s->rx_gso_size = meta->gso_type != SYNACK_GSO_NONE ? meta->gso_size : 0;
	ip_input(s, frame, meta->len, csum_ok);
	s->rx_gso_size = 0;
	stack_reap(s);
	return 0;
}

void synack_stack_input_begin(struct synack_stack *s) { s->batching = true; }

void synack_stack_input_end(struct synack_stack *s, uint64_t now_us)
{
	stack_advance(s, now_us);
	s->batching = false;
	tcp_delack_flush_batch(s);
	stack_reap(s);
}

uint64_t synack_stack_poll(struct synack_stack *s, uint64_t now_us)
{
	stack_advance(s, now_us);
	struct synack_timer *t;
	reasm_expire(s);
	while ((t = synack_wheel_expire(&s->wheel, s->now_us)) != NULL)
		tcp_timer_fire(s, t);
	tw_expire(s);
	stack_reap(s);
	return synack_stack_next_deadline(s);
}

uint64_t synack_stack_next_deadline(const struct synack_stack *s)
{
	uint64_t d = synack_wheel_next_deadline(&s->wheel), tw = tw_next_deadline(s);
	uint64_t r = reasm_next_deadline(s);
	if (tw < d)
		d = tw;
	if (r < d)
		d = r;
	return d == UINT64_MAX ? SYNACK_TIME_NEVER : d;
}

uint64_t synack_stack_now(const struct synack_stack *s) { return s->now_us; }

size_t synack_stack_addrs(const struct synack_stack *s, struct synack_ifaddr *out, size_t cap)
{
	for (size_t i = 0; i < s->cfg.naddrs && i < cap; i++)
		out[i] = s->cfg.addrs[i];
	return s->cfg.naddrs;
}

bool synack_stack_has_addr(const struct synack_stack *s, const struct synack_addr *addr)
{
	for (uint32_t i = 0; i < s->cfg.naddrs; i++)
		if (synack_addr_eq(&s->cfg.addrs[i].addr, addr))
			return true;
	return false;
}

const struct synack_addr *stack_source_addr(const struct synack_stack *s, int family)
{
	for (uint32_t i = 0; i < s->cfg.naddrs; i++)
		if (synack_addr_family(&s->cfg.addrs[i].addr) == family)
			return &s->cfg.addrs[i].addr;
	return NULL;
}
const char *synack_stack_name(const struct synack_stack *s) { return s->cfg.name; }
size_t synack_stack_live_bytes(const struct synack_stack *s) { return s->live_bytes; }
size_t synack_stack_live_allocs(const struct synack_stack *s) { return s->live_allocs; }

void synack_stack_set_tunables(struct synack_stack *s, const struct synack_config *c)
{
	struct synack_config *d = &s->cfg;
	d->syn_retries = c->syn_retries;
	d->synack_retries = c->synack_retries;
	d->retries2 = c->retries2;
	if (c->rto_min_ms && c->rto_min_ms <= c->rto_max_ms) {
		d->rto_initial_ms = c->rto_initial_ms ? c->rto_initial_ms : d->rto_initial_ms;
		d->rto_min_ms = c->rto_min_ms;
		d->rto_max_ms = c->rto_max_ms;
	}
	if (c->msl_ms <= SYNACK_MSL_MAX_MS)
		d->msl_ms = c->msl_ms;
	d->fin_timeout_ms = c->fin_timeout_ms;
	d->keepalive_time_s = c->keepalive_time_s;
	d->keepalive_intvl_s = c->keepalive_intvl_s;
	d->keepalive_probes = c->keepalive_probes;
	d->timestamps = c->timestamps;
	d->sack = c->sack;
	d->window_scaling = c->window_scaling;
	d->syncookies = c->syncookies;
	d->max_tw_buckets = c->max_tw_buckets;
	d->fold_ms = c->fold_ms;
	d->tw_reuse = c->tw_reuse;
	d->challenge_ack_limit = c->challenge_ack_limit;
	d->notsent_lowat = c->notsent_lowat;
	d->ecn = c->ecn <= 2 ? c->ecn : d->ecn;
	d->fastopen = c->fastopen;
	if (c->init_cwnd_segs)
		d->init_cwnd_segs = c->init_cwnd_segs;
}

void synack_stack_get_config(const struct synack_stack *s, struct synack_config *out)
{
	*out = s->cfg;
}

void synack_stack_counters(const struct synack_stack *s, struct synack_counters *out)
{
	*out = s->ctr;
	out->v[SYNACK_CTR_TCPMemBytes] = s->bufs.used;
}

void stack_reap(struct synack_stack *s)
{
	if (s->ending)
		return;
	s->ending = true;
	while (s->wake_head) {
		struct synack_tcb *c = s->wake_head;
		s->wake_head = c->fl->wake_next;
		if (!s->wake_head)
			s->wake_tail = NULL;
		c->wake_queued = false;
		if (!c->dead)
			tcp_deliver_wake(s, c);
		/* A passive child only waiting for the peer becomes a request entry. */
		if (!c->dead && c->state == SYNACK_SYN_RECEIVED)
			req_sleep(s, c);
	}
	while (s->reap) {
		struct synack_tcb *c = s->reap;
		s->reap = c->all_next;
		tcb_free(s, c);
	}
	/* The free chunks are a cache for connections moving data: they go back to the
	 * allocator when no connection has buffers, and at the first call a second or more
	 * after no ring held any (no deadline of its own: an idle stack is not woken for it). */
	if (s->bufs.used > 0 || s->bufs.nfree == 0) {
		s->bufs_trim_at = 0;
	} else if (s->nbuffered == 0 || (s->bufs_trim_at && s->now_us >= s->bufs_trim_at)) {
		chunk_pool_fini(&s->bufs);
		s->bufs_trim_at = 0;
	} else if (!s->bufs_trim_at) {
		s->bufs_trim_at = s->now_us + SYNACK_CHUNK_CACHE_IDLE_US;
	}
	s->ending = false;
}
