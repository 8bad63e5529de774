/* Local ports: the bind table and the listener table.
 *
 * Binding (Linux's rules, simplified): a port is in use while any socket is bound to it;
 * SO_REUSEADDR on the new socket lets it bind anyway when every user of the port is in
 * TIME-WAIT (the classic restart of a server whose old connections are still waiting).
 * Ephemeral ports come from [port_lo, port_hi], searched from a random point drawn from the
 * stack's PRNG so that they are not predictable (RFC 6056 §3.3.1's simple random search).
 * connect() shares them as Linux does: a port that only connect() handed out may serve any
 * number of connections as long as their 4-tuples differ (Linux's bind bucket with fastreuse
 * -1), so outgoing connections to different destinations are not limited by the range; a
 * port bound by bind() or listen() is not shared. The search stops at the first usable port:
 * one chain walk and one table lookup per port tried, so O(1) unless the range is nearly
 * full towards one destination. A stack that is one of several on a multi-queue link
 * (cfg.steer_queues) gives connect() only ports whose flow the link steers to its queue.
 *
 * Listeners are found by local port through a small hash. */
#include <errno.h>

#include "core/tcp_tw.h"

static unsigned listen_bucket(uint16_t port) { return port % SYNACK_LISTEN_BUCKETS; }
static unsigned bind_bucket(uint16_t port) { return (port * 2654435761u >> 8) % SYNACK_BIND_BUCKETS; }

struct synack_tcb *ports_find_listener(const struct synack_stack *s, uint16_t port)
{
	for (struct synack_tcb *c = s->listeners[listen_bucket(port)]; c; c = c->listen_next)
		if (c->node.key.lport == port)
			return c;
	return NULL;
}

bool ports_listener_hears(const struct synack_tcb *l, const struct synack_addr *dst)
{
	if (l->addr_bound)
		return synack_addr_eq(&l->node.key.laddr, dst);
	int family = synack_addr_family(dst);
	if (l->any_family == SYNACK_AF_INET)
		return family == SYNACK_AF_INET; /* 0.0.0.0: IPv4 only */
	return !l->v6only || family == SYNACK_AF_INET6; /* :: or unbound: both, unless V6ONLY */
}

void ports_listen_insert(struct synack_stack *s, struct synack_tcb *c)
{
	unsigned b = listen_bucket(c->node.key.lport);
	c->listen_next = s->listeners[b];
	s->listeners[b] = c;
	c->in_listen_hash = true;
}

void ports_listen_remove(struct synack_stack *s, struct synack_tcb *c)
{
	if (!c->in_listen_hash)
		return;
	struct synack_tcb **pp = &s->listeners[listen_bucket(c->node.key.lport)];
	while (*pp && *pp != c)
		pp = &(*pp)->listen_next;
	if (*pp)
		*pp = c->listen_next;
	c->in_listen_hash = false;
}

/* Does binding port conflict with a current user? reuse: the new socket has SO_REUSEADDR. */
static bool port_conflict(const struct synack_stack *s, uint16_t port, bool reuse)
{
	if (!reuse && tw_port_users(s, port) > 0)
		return true;
	for (struct synack_tcb *c = s->bound[bind_bucket(port)]; c; c = c->bind_next) {
		if (c->node.key.lport != port)
			continue;
		if (reuse && c->state == SYNACK_TIME_WAIT)
			continue;
		return true;
	}
	return false;
}

static void bind_link(struct synack_stack *s, struct synack_tcb *c, uint16_t port)
{
	unsigned b = bind_bucket(port);
	c->node.key.lport = port;
	c->bind_next = s->bound[b];
	if (c->bind_next)
		c->bind_next->bind_pprev = &c->bind_next;
	c->bind_pprev = &s->bound[b];
	s->bound[b] = c;
	c->bound = true;
}

int ports_bind(struct synack_stack *s, struct synack_tcb *c, uint16_t port)
{
	if (port_conflict(s, port, c->reuseaddr))
		return -EADDRINUSE;
	bind_link(s, c, port);
	return 0;
}

int ports_bind_ephemeral(struct synack_stack *s, struct synack_tcb *c)
{
	uint32_t lo = s->cfg.port_lo, n = (uint32_t)s->cfg.port_hi - lo + 1;
	uint32_t start = (uint32_t)synack_rng_below(&s->rng, n);
	for (uint32_t i = 0; i < n; i++) {
		uint16_t port = (uint16_t)(lo + (start + i) % n);
		if (!port_conflict(s, port, false)) {
			bind_link(s, c, port);
			return 0;
		}
	}
	return -EADDRINUSE;
}

/* May connect() put one more connection on port? Only when every socket on it got it from
 * connect() too. */
static bool port_shareable(const struct synack_stack *s, uint16_t port)
{
	for (struct synack_tcb *c = s->bound[bind_bucket(port)]; c; c = c->bind_next)
		if (c->node.key.lport == port && !c->connect_bound)
			return false;
	return true;
}

unsigned synack_flow_queue(uint16_t a, uint16_t b, unsigned nqueues)
{
	uint32_t x = (uint32_t)(a ^ b) * SYNACK_FLOW_MIX;
	return nqueues ? (x >> 16) % nqueues : 0;
}

/* Does port's flow to the connection's remote port land on this stack's queue? */
static bool port_steers_here(const struct synack_stack *s, const struct synack_tcb *c,
			     uint16_t port)
{
	return s->cfg.steer_queues < 2 ||
	       synack_flow_queue(port, c->node.key.rport, s->cfg.steer_queues) == s->cfg.steer_queue;
}

int ports_bind_connect(struct synack_stack *s, struct synack_tcb *c, seq_t *iss, bool *reused)
{
	uint32_t lo = s->cfg.port_lo, n = (uint32_t)s->cfg.port_hi - lo + 1;
	uint32_t start = (uint32_t)synack_rng_below(&s->rng, n);
	*reused = false;
	for (uint32_t i = 0; i < n; i++) {
		uint16_t port = (uint16_t)(lo + (start + i) % n);
		if (!port_steers_here(s, c, port) || !port_shareable(s, port))
			continue;
		struct synack_tuple t = c->node.key;
		t.lport = port;
		struct synack_conntab_hdr *x = synack_conntab_find(&s->conns, &t);
		if (x && !(x->kind == CONNTAB_KIND_TW && tw_reuse(s, x, iss))) 
			continue;
		*reused = x != NULL;
		bind_link(s, c, port);
		c->connect_bound = true;
		return 0;
	}
	return -EADDRINUSE;
}

void ports_bind_child(struct synack_stack *s, struct synack_tcb *c)
{
	if (!c->bound)
		bind_link(s, c, c->node.key.lport);
}

void ports_unbind(struct synack_stack *s, struct synack_tcb *c)
{
	if (!c->bound)
		return;
	(void)s;
	*c->bind_pprev = c->bind_next;
	if (c->bind_next)
		c->bind_next->bind_pprev = c->bind_pprev;
	c->bind_next = NULL;
	c->bind_pprev = NULL;
	c->bound = false;
	c->bound_by_user = false;
	c->connect_bound = false;
}
