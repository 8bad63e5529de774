/* The connection table: an intrusive chained hash table keyed by the 4-tuple.
 *
 * The bucket is chosen by SipHash-2-4 of the tuple under a secret key, so a remote peer that
 * picks its addresses and ports cannot aim all its connections at one chain (hash flooding).
 * Nodes live inside their owners (connection blocks and compact TIME-WAIT entries, told apart
 * by the owner's kind tag in the node header); an IPv4 compact entry keeps its key in 12 bytes
 * and no cached hash. The table itself only allocates its bucket array, through the injected
 * allocator, when it is created and when it doubles. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "core/conntab.h"
#include "core/siphash.h"

#define MIN_BUCKETS 8

/* The tuple as bytes in a fixed (network) order: local address, remote address (4 bytes
 * each for IPv4, 16 for IPv6), local port, remote port. No padding bytes reach the hash. */
static uint32_t tuple_hash(const uint8_t key[16], const struct synack_tuple *k)
{
	uint8_t b[36];
	size_t n = synack_tuple_addr_bytes(&k->laddr, b);
	n += synack_tuple_addr_bytes(&k->raddr, b + n);
	b[n++] = (uint8_t)(k->lport >> 8);
	b[n++] = (uint8_t)k->lport;
	b[n++] = (uint8_t)(k->rport >> 8);
	b[n++] = (uint8_t)k->rport;
	return (uint32_t)synack_siphash24(key, b, n);
}

void synack_conntab_key(const struct synack_conntab_hdr *n, struct synack_tuple *out)
{
	if (!(n->flags & SYNACK_CONNTAB_KEY4)) {
		*out = *synack_conntab_full_key(n);
		return;
	}
	const struct synack_tuple4 *k = synack_conntab_key4(n);
	out->laddr = synack_addr_v4(0);
	memcpy(out->laddr.b + 12, k->laddr, 4);
	out->raddr = synack_addr_v4(0);
	memcpy(out->raddr.b + 12, k->raddr, 4);
	out->lport = k->lport;
	out->rport = k->rport;
}

static uint32_t node_hash(const struct synack_conntab *t, const struct synack_conntab_hdr *n)
{
	if (!(n->flags & SYNACK_CONNTAB_NOHASH))
		return n->hash;
	struct synack_tuple k;
	synack_conntab_key(n, &k);
	return tuple_hash(t->key, &k);
}

static bool tuple_eq(const struct synack_tuple *a, const struct synack_tuple *b)
{
	return synack_addr_eq(&a->laddr, &b->laddr) && synack_addr_eq(&a->raddr, &b->raddr) &&
	       a->lport == b->lport && a->rport == b->rport;
}

static bool node_key_is(const struct synack_conntab_hdr *n, const struct synack_tuple *key)
{
	if (!(n->flags & SYNACK_CONNTAB_KEY4))
		return tuple_eq(synack_conntab_full_key(n), key);
	const struct synack_tuple4 *k = synack_conntab_key4(n);
	return k->lport == key->lport && k->rport == key->rport && synack_tuple_is_v4(key) &&
	       memcmp(k->laddr, key->laddr.b + 12, 4) == 0 &&
	       memcmp(k->raddr, key->raddr.b + 12, 4) == 0;
}

/* Does node n hold key (whose hash is h)? */
static bool node_is(const struct synack_conntab_hdr *n, const struct synack_tuple *key, uint32_t h)
{
	if (!(n->flags & SYNACK_CONNTAB_NOHASH) && n->hash != h)
		return false;
	return node_key_is(n, key);
}

static struct synack_conntab_hdr **alloc_buckets(const struct synack_allocator *a, size_t n)
{
	if (n > SIZE_MAX / sizeof(struct synack_conntab_hdr *))
		return NULL;
	struct synack_conntab_hdr **b = a->alloc(a->ctx, n * sizeof(*b));
	if (b)
		memset(b, 0, n * sizeof(*b));
	return b;
}

int synack_conntab_init(struct synack_conntab *t, const struct synack_allocator *a,
			const uint8_t key[16], size_t initial_buckets)
{
	size_t n = MIN_BUCKETS;
	while (n < initial_buckets && n <= SIZE_MAX / 2)
		n *= 2;
	memset(t, 0, sizeof(*t));
	t->buckets = alloc_buckets(a, n);
	if (!t->buckets)
		return -ENOMEM;
	t->nbuckets = n;
	t->alloc = a;
	memcpy(t->key, key, sizeof(t->key));
	return 0;
}

void synack_conntab_fini(struct synack_conntab *t)
{
	if (t->buckets)
		t->alloc->free(t->alloc->ctx, t->buckets, t->nbuckets * sizeof(*t->buckets));
	t->buckets = NULL;
	t->nbuckets = 0;
	t->count = 0;
	t->last = NULL;
}

/* Doubles the bucket array. Each node keeps its hash, so rehashing is one pass of pointer
 * moves. On allocation failure the table is left exactly as it was. */
static void grow(struct synack_conntab *t)
{
	if (t->nbuckets > SIZE_MAX / 2)
		return;
	size_t n = t->nbuckets * 2;
	struct synack_conntab_hdr **b = alloc_buckets(t->alloc, n);
	if (!b)
		return;
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct synack_conntab_hdr *node = t->buckets[i];
		while (node) {
			struct synack_conntab_hdr *next = node->next;
			size_t j = (size_t)(node_hash(t, node) & (n - 1));
			node->next = b[j];
			b[j] = node;
			node = next;
		}
	}
	t->alloc->free(t->alloc->ctx, t->buckets, t->nbuckets * sizeof(*t->buckets));
	t->buckets = b;
	t->nbuckets = n;
}

static struct synack_conntab_hdr **bucket_of(const struct synack_conntab *t, uint32_t hash)
{
	return &t->buckets[hash & (t->nbuckets - 1)];
}

int synack_conntab_insert(struct synack_conntab *t, struct synack_conntab_hdr *n)
{
	struct synack_tuple key;
	synack_conntab_key(n, &key);
	uint32_t h = tuple_hash(t->key, &key);
	if (!(n->flags & SYNACK_CONNTAB_NOHASH))
		n->hash = h;
	struct synack_conntab_hdr **b = bucket_of(t, h);
	for (struct synack_conntab_hdr *x = *b; x; x = x->next)
		if (node_is(x, &key, h))
			return -EEXIST;
	n->next = *b;
	*b = n;
	t->count++;
	if (t->count > t->nbuckets)
		grow(t);
	return 0;
}

/* Unlinks n; a node that is not in the table is left alone. */
void synack_conntab_remove(struct synack_conntab *t, struct synack_conntab_hdr *n)
{
	if (t->last == n)
		t->last = NULL;
	for (struct synack_conntab_hdr **p = bucket_of(t, node_hash(t, n)); *p; p = &(*p)->next) {
		if (*p == n) {
			*p = n->next;
			n->next = NULL;
			t->count--;
			return;
		}
	}
}

struct synack_conntab_hdr *synack_conntab_find(const struct synack_conntab *t,
						const struct synack_tuple *key)
{
	uint32_t h = tuple_hash(t->key, key);
	for (struct synack_conntab_hdr *x = *bucket_of(t, h); x; x = x->next)
		if (node_is(x, key, h))
			return x;
	return NULL;
}

struct synack_conntab_hdr *synack_conntab_lookup(struct synack_conntab *t,
						 const struct synack_tuple *key)
{
	if (t->last && node_key_is(t->last, key)) {
		t->cache_hits++;
		return t->last;
	}
	struct synack_conntab_hdr *x = synack_conntab_find(t, key);
	if (x)
		t->last = x;
	return x;
}

void synack_conntab_foreach(const struct synack_conntab *t,
			    void (*fn)(void *ctx, struct synack_conntab_hdr *n), void *ctx)
{
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct synack_conntab_hdr *x = t->buckets[i];
		while (x) {
			struct synack_conntab_hdr *next = x->next;
			fn(ctx, x);
			x = next;
		}
	}
}
