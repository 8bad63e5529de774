/* The simulated network: endpoints joined on a virtual clock.
 *
 * A frame sent on an endpoint is routed by its destination address (IPv4: bytes 16..19 of the
 * header, RFC 791 §3.1; IPv6: bytes 24..39, RFC 8200 §3) to the endpoint attached with that
 * address. An endpoint answers to up to SIMNET_ADDRS addresses of either family. Its delivery time is
 *
 *     tx_start = max(now, the sender's busy_until)       (the sender's line is a FIFO)
 *     tx_end   = tx_start + ceil(len * 8 * 10^6 / bandwidth_bps)   (serialisation)
 *     arrive   = tx_end + delay_us + uniform[0, jitter_us]
 *
 * Each destination endpoint keeps a binary min-heap of pending frames ordered by (arrival
 * time, global send number), so frames due at the same microsecond come out in the order they
 * were sent and a run never depends on anything but the seed. Jitter is the only thing that
 * can make one frame overtake another on the same path.
 *
 * A sender may have at most queue_limit frames in the network (sent and not yet received);
 * beyond that send() returns -EAGAIN, which a stack sees as a tail drop.
 *
 * Capabilities: none declared. A frame sent with SYNACK_CSUM_NEEDED has its checksum
 * completed on the way in (the wire carries complete packets), and every frame comes out
 * SYNACK_CSUM_NONE: the receiver verifies.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/rng.h"
#include "synack/link.h"
#include "synack/stack.h"

#define SIMNET_DEFAULT_QUEUE 4096u
#define SIMNET_MAX_FRAME 65535u
#define SIMNET_ADDRS 8

struct simnet_frame {
	uint64_t at;               /* delivery time */
	uint64_t order;            /* global send number: breaks ties */
	struct simnet_ep *from;    /* the sender, for its in-flight count; NULL if none */
	size_t len;
	uint8_t data[];
};

struct simnet_ep {
	struct synack_link link; /* first: the vtable sees this */
	struct synack_simnet *net;
	struct synack_addr addrs[SIMNET_ADDRS];
	size_t n_addrs;
	struct synack_sim_path path;
	uint64_t busy_until;     /* when the sender's line finishes its last frame */
	uint32_t in_flight;      /* frames this endpoint sent that are still in the network */
	struct simnet_frame **heap;
	size_t heap_len, heap_cap;
};

struct synack_simnet {
	struct synack_rng rng;
	uint64_t order;
	uint64_t unroutable;
	struct simnet_ep **eps;
	size_t n_eps, cap_eps;
};

/* ---- the per-endpoint heap ------------------------------------------------------------ */

static bool frame_before(const struct simnet_frame *a, const struct simnet_frame *b)
{
	if (a->at != b->at)
		return a->at < b->at;
	return a->order < b->order;
}

static int heap_push(struct simnet_ep *ep, struct simnet_frame *f)
{
	if (ep->heap_len == ep->heap_cap) {
		size_t cap = ep->heap_cap ? ep->heap_cap * 2 : 64;
		struct simnet_frame **h = realloc(ep->heap, cap * sizeof(*h));
		if (!h)
			return -ENOMEM;
		ep->heap = h;
		ep->heap_cap = cap;
	}
	size_t i = ep->heap_len++;
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!frame_before(f, ep->heap[parent]))
			break;
		ep->heap[i] = ep->heap[parent];
		i = parent;
	}
	ep->heap[i] = f;
	return 0;
}

static struct simnet_frame *heap_pop(struct simnet_ep *ep)
{
	struct simnet_frame *top = ep->heap[0];
	struct simnet_frame *last = ep->heap[--ep->heap_len];
	size_t i = 0, n = ep->heap_len;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && frame_before(ep->heap[c + 1], ep->heap[c]))
			c++;
		if (!frame_before(ep->heap[c], last))
			break;
		ep->heap[i] = ep->heap[c];
		i = c;
	}
	if (n > 0)
		ep->heap[i] = last;
	return top;
}

/* A frame leaves the network: its sender has one fewer in flight. */
static void frame_free(struct simnet_frame *f)
{
	if (f->from)
		f->from->in_flight--;
	free(f);
}

/* ---- routing ------------------------------------------------------------------------------ */

/* The endpoint answering to a, or NULL. */
static struct simnet_ep *owner(const struct synack_simnet *net, const struct synack_addr *a)
{
	for (size_t i = 0; i < net->n_eps; i++)
		for (size_t j = 0; j < net->eps[i]->n_addrs; j++)
			if (synack_addr_eq(&net->eps[i]->addrs[j], a))
				return net->eps[i];
	return NULL;
}

static struct simnet_ep *route(const struct synack_simnet *net, const uint8_t *frame, size_t len)
{
	struct synack_addr dst;
	if (len >= 20 && (frame[0] >> 4) == 4)
		dst = synack_addr_v4((uint32_t)frame[16] << 24 | (uint32_t)frame[17] << 16 |
				     (uint32_t)frame[18] << 8 | frame[19]);
	else if (len >= 40 && (frame[0] >> 4) == 6)
		dst = synack_addr_v6(frame + 24);
	else
		return NULL;
	return owner(net, &dst);
}

/* Queues a copy of frame (meta->len bytes) for dst at time at, its checksum completed. */
static int enqueue(struct synack_simnet *net, struct simnet_ep *dst, struct simnet_ep *from,
		   const uint8_t *frame, const struct synack_frame_meta *meta, uint64_t at)
{
	size_t len = meta->len;
	struct simnet_frame *f = malloc(sizeof(*f) + len);
	if (!f)
		return -ENOMEM;
	f->at = at;
	f->order = net->order++;
	f->from = from;
	f->len = len;
	memcpy(f->data, frame, len);
	struct synack_frame_meta m = *meta;
	(void)synack_frame_csum_complete(f->data, &m); /* meta was checked: cannot fail */
	int err = heap_push(dst, f);
	if (err) {
		free(f);
		return err;
	}
	if (from)
		from->in_flight++;
	return 0;
}

/* Microseconds to clock len bytes onto a line of bps bits per second, rounded up. */
static uint64_t serialisation_us(size_t len, uint64_t bps)
{
	if (bps == 0)
		return 0;
	uint64_t bits_us = (uint64_t)len * 8u * 1000000u; /* len <= 65535: no overflow */
	return bits_us / bps + (bits_us % bps != 0);
}

/* ---- the link vtable ------------------------------------------------------------------------ */

static int ep_send(struct synack_link *l, const uint8_t *frame,
		   const struct synack_frame_meta *meta, uint64_t now_us)
{
	struct simnet_ep *ep = (struct simnet_ep *)l;
	struct synack_simnet *net = ep->net;
	if (!net)
		return -ENETDOWN;
	if (synack_frame_meta_check(meta) < 0)
		return -EINVAL;
	size_t len = meta->len;
	if (len > SIMNET_MAX_FRAME)
		return -EMSGSIZE;
	uint32_t limit = ep->path.queue_limit ? ep->path.queue_limit : SIMNET_DEFAULT_QUEUE;
	if (ep->in_flight >= limit)
		return -EAGAIN;
	struct simnet_ep *dst = route(net, frame, len);
	if (!dst) {
		net->unroutable++;
		return 0; /* lost on the wire, as on a real network */
	}
	uint64_t start = now_us > ep->busy_until ? now_us : ep->busy_until;
	uint64_t tx_end = start + serialisation_us(len, ep->path.bandwidth_bps);
	uint64_t jitter = ep->path.jitter_us ? synack_rng_below(&net->rng,
								 (uint64_t)ep->path.jitter_us + 1)
					      : 0;
	int err = enqueue(net, dst, ep, frame, meta, tx_end + ep->path.delay_us + jitter);
	if (err)
		return err;
	ep->busy_until = tx_end;
	return 0;
}

static ssize_t ep_recv(struct synack_link *l, uint8_t *buf, size_t cap,
		       struct synack_frame_meta *out, uint64_t now_us)
{
	struct simnet_ep *ep = (struct simnet_ep *)l;
	if (ep->heap_len == 0 || ep->heap[0]->at > now_us)
		return 0;
	struct simnet_frame *f = heap_pop(ep);
	ssize_t n = (ssize_t)f->len;
	if (f->len > cap)
		n = -EMSGSIZE;
	else {
		memcpy(buf, f->data, f->len);
		*out = synack_frame_meta_plain(buf, f->len);
	}
	frame_free(f);
	return n;
}

static uint64_t ep_next_arrival(struct synack_link *l)
{
	struct simnet_ep *ep = (struct simnet_ep *)l;
	return ep->heap_len ? ep->heap[0]->at : SYNACK_TIME_NEVER;
}

static void ep_drain(struct simnet_ep *ep)
{
	while (ep->heap_len)
		frame_free(heap_pop(ep));
	free(ep->heap);
	ep->heap = NULL;
	ep->heap_cap = 0;
}

/* Removes ep from the network: its pending frames go, and frames it sent that are still
 * travelling forget their sender. */
static void ep_detach(struct simnet_ep *ep)
{
	struct synack_simnet *net = ep->net;
	ep_drain(ep);
	if (!net)
		return;
	for (size_t i = 0; i < net->n_eps; i++) {
		struct simnet_ep *o = net->eps[i];
		for (size_t j = 0; j < o->heap_len; j++)
			if (o->heap[j]->from == ep)
				o->heap[j]->from = NULL;
	}
	for (size_t i = 0; i < net->n_eps; i++) {
		if (net->eps[i] != ep)
			continue;
		memmove(&net->eps[i], &net->eps[i + 1], (net->n_eps - i - 1) * sizeof(*net->eps));
		net->n_eps--;
		break;
	}
	ep->net = NULL;
}

static void ep_destroy(struct synack_link *l)
{
	struct simnet_ep *ep = (struct simnet_ep *)l;
	ep_detach(ep);
	free(ep);
}

static const struct synack_link_ops simnet_ops = {
	.send = ep_send,
	.recv = ep_recv,
	.next_arrival = ep_next_arrival,
	.destroy = ep_destroy,
};

/* ---- the network -------------------------------------------------------------------------- */

int synack_simnet_new(struct synack_simnet **out, uint64_t seed)
{
	struct synack_simnet *net = calloc(1, sizeof(*net));
	if (!net)
		return -ENOMEM;
	synack_rng_seed(&net->rng, seed);
	*out = net;
	return 0;
}

void synack_simnet_destroy(struct synack_simnet *net)
{
	if (!net)
		return;
	/* Endpoints still attached are orphaned: they stay valid objects that send nothing. */
	while (net->n_eps)
		ep_detach(net->eps[0]);
	free(net->eps);
	free(net);
}

int synack_simnet_attach(struct synack_simnet *net, uint32_t addr,
			 const struct synack_sim_path *path, struct synack_link **out)
{
	struct synack_addr a = synack_addr_v4(addr);
	return synack_simnet_attach_addrs(net, &a, 1, path, out);
}

int synack_simnet_attach_addrs(struct synack_simnet *net, const struct synack_addr *addrs,
			       size_t n, const struct synack_sim_path *path,
			       struct synack_link **out)
{
	if (n > SIMNET_ADDRS)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (owner(net, &addrs[i]))
			return -EADDRINUSE;
	if (net->n_eps == net->cap_eps) {
		size_t cap = net->cap_eps ? net->cap_eps * 2 : 8;
		struct simnet_ep **eps = realloc(net->eps, cap * sizeof(*eps));
		if (!eps)
			return -ENOMEM;
		net->eps = eps;
		net->cap_eps = cap;
	}
	struct simnet_ep *ep = calloc(1, sizeof(*ep));
	if (!ep)
		return -ENOMEM;
	ep->link.ops = &simnet_ops;
	ep->link.fd = -1;
	ep->link.caps = (struct synack_link_caps){0}; /* no offload (see the top of the file) */
	ep->net = net;
	memcpy(ep->addrs, addrs, n * sizeof(*addrs));
	ep->n_addrs = n;
	if (path)
		ep->path = *path;
	net->eps[net->n_eps++] = ep;
	*out = &ep->link;
	return 0;
}

uint64_t synack_simnet_next_arrival(const struct synack_simnet *net)
{
	uint64_t t = SYNACK_TIME_NEVER;
	for (size_t i = 0; i < net->n_eps; i++) {
		const struct simnet_ep *ep = net->eps[i];
		if (ep->heap_len && ep->heap[0]->at < t)
			t = ep->heap[0]->at;
	}
	return t;
}

uint64_t synack_simnet_unroutable(const struct synack_simnet *net)
{
	return net->unroutable;
}

int synack_simnet_inject(struct synack_simnet *net, const uint8_t *frame, size_t len,
			 uint64_t now_us)
{
	if (len > SIMNET_MAX_FRAME)
		return -EMSGSIZE;
	struct simnet_ep *dst = route(net, frame, len);
	if (!dst) {
		net->unroutable++;
		return -EHOSTUNREACH;
	}
	struct synack_frame_meta m = synack_frame_meta_plain(frame, len);
	return enqueue(net, dst, NULL, frame, &m, now_us);
}

int synack_simnet_set_path(struct synack_link *l, const struct synack_sim_path *path)
{
	if (!l || l->ops != &simnet_ops || !path)
		return -EINVAL;
	((struct simnet_ep *)l)->path = *path;
	return 0;
}
