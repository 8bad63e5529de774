/* Local ports: the bind table and the listener table.
 *
 * Binding (Linux's rules, simplified): a port is in use for the addresses a socket bound to it
 * hears — one address (bind to it), one family (0.0.0.0; :: with IPV6_V6ONLY) or both (:: or
 * never bound, without IPV6_V6ONLY) — and a second socket may bind the port only for addresses
 * no other socket on it hears, as Linux's inet_rcv_saddr_equal() decides: 10.0.0.1:80 beside
 * 10.0.0.2:80, or 0.0.0.0:80 beside a V6ONLY [::]:80, but not 0.0.0.0:80 beside a dual-stack
 * [::]:80. SO_REUSEADDR on the new socket lets it bind anyway when every overlapping user of
 * the port is in TIME-WAIT (the classic restart of a server whose old connections are still
 * waiting).
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
 * Listeners are found by local port through a small hash, and among those on the port by the
 * destination address they hear (at most one hears any address: listen() refuses a second). */
#include <errno.h>

#include "core/tcp_tw.h"

static unsigned listen_bucket(uint16_t port) { return port % SYNACK_LISTEN_BUCKETS; }
static unsigned bind_bucket(uint16_t port) { return (port * 2654435761u >> 8) % SYNACK_BIND_BUCKETS; }

bool ports_listener_hears(const struct synack_tcb *l, const struct synack_addr *dst)
{
	if (l->addr_bound)
		return synack_addr_eq(&l->key.laddr, dst);
	int family = synack_addr_family(dst);
	if (l->any_family == SYNACK_AF_INET)
		return family == SYNACK_AF_INET; /* 0.0.0.0: IPv4 only */
	return !l->v6only || family == SYNACK_AF_INET6; /* :: or unbound: both, unless V6ONLY */
}

struct synack_tcb *ports_find_listener(const struct synack_stack *s, uint16_t port,
				       const struct synack_addr *dst)
{
	for (struct synack_tcb *c = s->listeners[listen_bucket(port)]; c; c = tcb_lq(c)->listen_next)
		if (c->key.lport == port && ports_listener_hears(c, dst))
			return c;
	return NULL;
}

/* The families a wildcard socket hears: bit 0 IPv4, bit 1 IPv6. */
static unsigned any_families(const struct synack_tcb *c)
{
	if (c->any_family == SYNACK_AF_INET)
		return 1u;
	return c->v6only ? 2u : 3u;
}

/* Has c one local address: bound to it, or connected (connect() chose it, or c is a
 * listener's child)? Else it is a wildcard. */
static bool one_addr(const struct synack_tcb *c)
{
	return c->addr_bound || c->connect_bound ||
	       (c->state != SYNACK_CLOSED && c->state != SYNACK_LISTEN);
}

/* Do a and b hear an address in common (Linux's inet_rcv_saddr_equal())? */
static bool addrs_overlap(const struct synack_tcb *a, const struct synack_tcb *b)
{
	bool a1 = one_addr(a), b1 = one_addr(b);
	if (a1 && b1)
		return synack_addr_eq(&a->key.laddr, &b->key.laddr);
	if (a1)
		return ports_listener_hears(b, &a->key.laddr);
	if (b1)
		return ports_listener_hears(a, &b->key.laddr);
	return (any_families(a) & any_families(b)) != 0;
}

bool ports_listen_conflict(const struct synack_stack *s, const struct synack_tcb *c)
{
	uint16_t port = c->key.lport;
	for (struct synack_tcb *l = s->listeners[listen_bucket(port)]; l; l = tcb_lq(l)->listen_next)
		if (l != c && l->key.lport == port && addrs_overlap(l, c))
			return true;
	return false;
}

void ports_listen_insert(struct synack_stack *s, struct synack_tcb *c)
{
	unsigned b = listen_bucket(c->key.lport);
	tcb_lq(c)->listen_next = s->listeners[b];
	s->listeners[b] = c;
	c->in_listen_hash = true;
}

void ports_listen_remove(struct synack_stack *s, struct synack_tcb *c)
{
	if (!c->in_listen_hash)
		return;
	struct synack_tcb **pp = &s->listeners[listen_bucket(c->key.lport)];
	while (*pp && *pp != c)
		pp = &tcb_lq((*pp))->listen_next;
	if (*pp)
		*pp = tcb_lq(c)->listen_next;
	c->in_listen_hash = false;
}

/* Does binding port conflict with a current user? nc: the new socket, whose addresses (bound
 * address, wildcard family, V6ONLY) are set as they will be; reuse: it has SO_REUSEADDR. */
static bool port_conflict(const struct synack_stack *s, const struct synack_tcb *nc,
			  uint16_t port, bool reuse)
{
	if (!reuse && tw_port_users(s, port) > 0)
		return true;
	for (struct synack_tcb *c = s->bound[bind_bucket(port)]; c; c = c->bind_next) {
		if (c->key.lport != port || c == nc || !addrs_overlap(c, nc))
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
	c->key.lport = port;
	c->bind_next = s->bound[b];
	if (c->bind_next)
		c->bind_next->bind_pprev = &c->bind_next;
	c->bind_pprev = &s->bound[b];
	s->bound[b] = c;
	c->bound = true;
}

int ports_bind(struct synack_stack *s, struct synack_tcb *c, uint16_t port)
{
	if (port_conflict(s, c, port, c->reuseaddr))
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
		if (!port_conflict(s, c, port, false)) {
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
		if (c->key.lport == port && !c->connect_bound)
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
	       synack_flow_queue(port, c->key.rport, s->cfg.steer_queues) == s->cfg.steer_queue;
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
		struct synack_tuple t = c->key;
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
		bind_link(s, c, c->key.lport);
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
