/* The connection table: lookups by 4-tuple, duplicates, growth by doubling, memory through the
 * injected allocator (sizes matched on free, no leaks), allocation failure on purpose, and a
 * walk whose visitor removes the node it is given. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/conntab.h"

/* A counting allocator that can be told to fail the next allocations. */
struct counting {
	size_t allocs, frees, live_bytes;
	int fail_next; /* number of upcoming allocations to refuse */
};

static void *c_alloc(void *ctx, size_t size)
{
	struct counting *c = ctx;
	if (c->fail_next > 0) {
		c->fail_next--;
		return NULL;
	}
	/* Store the size in front so free can check the caller passes it back unchanged. */
	size_t *p = malloc(size + sizeof(size_t));
	cr_assert_not_null(p);
	*p = size;
	c->allocs++;
	c->live_bytes += size;
	return p + 1;
}

static void c_free(void *ctx, void *ptr, size_t size)
{
	struct counting *c = ctx;
	if (!ptr)
		return;
	size_t *p = (size_t *)ptr - 1;
	cr_assert_eq(*p, size, "free with size %zu, allocated %zu", size, *p);
	c->frees++;
	c->live_bytes -= size;
	free(p);
}

static struct counting cnt;
static const struct synack_allocator alloc = {c_alloc, c_free, &cnt};
static const uint8_t key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

static void reset(void) { memset(&cnt, 0, sizeof(cnt)); }

TestSuite(conntab, .init = reset);

struct conn {
	int id;
	struct synack_conntab_node node;
};

static struct synack_tuple tuple(uint32_t i)
{
	/* Many connections from one client host to one server port: only the port varies, the
	 * pattern a hash must still spread. */
	return (struct synack_tuple){.laddr = synack_addr_v4(0x0a000002),
				     .raddr = synack_addr_v4(0x0a000001 + (i >> 16)),
				     .lport = 80,
				     .rport = (uint16_t)(i & 0xffff)};
}

static struct conn *conn_of(struct synack_conntab_hdr *n)
{
	return (struct conn *)((char *)n - offsetof(struct conn, node));
}

Test(conntab, init_rounds_up_and_frees)
{
	struct synack_conntab t;
	cr_assert_eq(synack_conntab_init(&t, &alloc, key, 100), 0);
	cr_assert_eq(t.nbuckets, 128);
	cr_assert_eq(t.count, 0);
	cr_assert_eq(cnt.live_bytes, 128 * sizeof(void *));
	synack_conntab_fini(&t);
	cr_assert_eq(cnt.live_bytes, 0);
	cr_assert_eq(cnt.frees, 1);
	synack_conntab_fini(&t); /* twice: harmless */
	cr_assert_eq(cnt.frees, 1);

	cr_assert_eq(synack_conntab_init(&t, &alloc, key, 0), 0);
	cr_assert_eq(t.nbuckets, 8, "a minimum of 8 buckets");
	synack_conntab_fini(&t);
	cr_assert_eq(synack_conntab_init(&t, &alloc, key, 64), 0);
	cr_assert_eq(t.nbuckets, 64, "a power of two stays as it is");
	synack_conntab_fini(&t);
}

Test(conntab, init_out_of_memory)
{
	struct synack_conntab t;
	cnt.fail_next = 1;
	cr_assert_eq(synack_conntab_init(&t, &alloc, key, 16), -ENOMEM);
	cr_assert_eq(cnt.live_bytes, 0);
	cr_assert_eq(cnt.allocs, 0);
}

Test(conntab, insert_find_remove)
{
	struct synack_conntab t;
	cr_assert_eq(synack_conntab_init(&t, &alloc, key, 8), 0);
	struct conn a = {.id = 1}, b = {.id = 2};
	a.node.key = tuple(1000);
	b.node.key = tuple(1001);
	cr_assert_eq(synack_conntab_insert(&t, &a.node.h), 0);
	cr_assert_eq(synack_conntab_insert(&t, &b.node.h), 0);
	cr_assert_eq(t.count, 2);
	struct synack_tuple k = tuple(1000);
	cr_assert_eq(synack_conntab_find(&t, &k), &a.node.h);
	k = tuple(1001);
	cr_assert_eq(conn_of(synack_conntab_find(&t, &k))->id, 2);
	k = tuple(1002);
	cr_assert_null(synack_conntab_find(&t, &k));

	synack_conntab_remove(&t, &a.node.h);
	cr_assert_eq(t.count, 1);
	k = tuple(1000);
	cr_assert_null(synack_conntab_find(&t, &k));
	synack_conntab_remove(&t, &a.node.h); /* not in the table any more: harmless */
	cr_assert_eq(t.count, 1);
	cr_assert_eq(synack_conntab_insert(&t, &a.node.h), 0, "re-insert after remove");
	cr_assert_eq(t.count, 2);
	synack_conntab_fini(&t);
	cr_assert_eq(cnt.live_bytes, 0);
}

/* Each field of the tuple matters: tuples differing in one field only are different keys,
 * the same tuple twice is -EEXIST. */
Test(conntab, every_field_is_part_of_the_key)
{
	struct synack_conntab t;
	cr_assert_eq(synack_conntab_init(&t, &alloc, key, 8), 0);
	struct synack_tuple base = {synack_addr_v4(0x0a000002), synack_addr_v4(0x0a000001), 80,
				    40000};
	struct conn c[5] = {0};
	for (int i = 0; i < 5; i++)
		c[i].node.key = base;
	c[1].node.key.laddr.b[15]++;
	c[2].node.key.raddr.b[15]++;
	c[3].node.key.lport++;
	c[4].node.key.rport++;
	for (int i = 0; i < 5; i++)
		cr_assert_eq(synack_conntab_insert(&t, &c[i].node.h), 0, "tuple %d", i);
	/* Swapping local and remote is a different connection too. */
	struct conn sw = {0};
	sw.node.key = (struct synack_tuple){base.raddr, base.laddr, base.rport, base.lport};
	cr_assert_eq(synack_conntab_insert(&t, &sw.node.h), 0);

	struct conn dup = {0};
	dup.node.key = base;
	cr_assert_eq(synack_conntab_insert(&t, &dup.node.h), -EEXIST);
	cr_assert_eq(t.count, 6);
	for (int i = 0; i < 5; i++)
		cr_assert_eq(synack_conntab_find(&t, &c[i].node.key), &c[i].node.h, "tuple %d", i);
	synack_conntab_fini(&t);
}

static void count_visit(void *ctx, struct synack_conntab_hdr *n)
{
	int *seen = ctx;
	seen[conn_of(n)->id]++;
}

#define MANY 5000

Test(conntab, grows_by_doubling)
{
	struct synack_conntab t;
	cr_assert_eq(synack_conntab_init(&t, &alloc, key, 8), 0);
	struct conn *c = calloc(MANY, sizeof(*c));
	size_t growths = 0, nb = t.nbuckets;
	for (int i = 0; i < MANY; i++) {
		c[i].id = i;
		c[i].node.key = tuple((uint32_t)i * 7919u);
		cr_assert_eq(synack_conntab_insert(&t, &c[i].node.h), 0);
		cr_assert_leq(t.count, t.nbuckets, "grows when count > nbuckets");
		if (t.nbuckets != nb) {
			cr_assert_eq(t.nbuckets, nb * 2);
			nb = t.nbuckets;
			growths++;
		}
	}
	cr_assert_eq(t.nbuckets, 8192);
	cr_assert_eq(growths, 10);
	cr_assert_eq(cnt.allocs, 11);
	cr_assert_eq(cnt.frees, 10);
	cr_assert_eq(cnt.live_bytes, 8192 * sizeof(void *));

	for (int i = 0; i < MANY; i++) {
		struct synack_tuple k = tuple((uint32_t)i * 7919u);
		cr_assert_eq(synack_conntab_find(&t, &k), &c[i].node.h, "conn %d", i);
	}
	int *seen = calloc(MANY, sizeof(int));
	synack_conntab_foreach(&t, count_visit, seen);
	for (int i = 0; i < MANY; i++)
		cr_assert_eq(seen[i], 1, "conn %d visited once", i);

	/* The keyed hash spreads even this regular pattern: no long chains. */
	size_t longest = 0;
	for (size_t b = 0; b < t.nbuckets; b++) {
		size_t len = 0;
		for (struct synack_conntab_hdr *n = t.buckets[b]; n; n = n->next)
			len++;
		if (len > longest)
			longest = len;
	}
	cr_assert_leq(longest, 8, "longest chain %zu", longest);

	for (int i = 0; i < MANY; i += 2)
		synack_conntab_remove(&t, &c[i].node.h);
	cr_assert_eq(t.count, MANY / 2);
	for (int i = 0; i < MANY; i++) {
		struct synack_tuple k = tuple((uint32_t)i * 7919u);
		struct synack_conntab_hdr *want = i % 2 ? &c[i].node.h : NULL;
		cr_assert_eq(synack_conntab_find(&t, &k), want, "conn %d", i);
	}
	synack_conntab_fini(&t);
	cr_assert_eq(cnt.live_bytes, 0);
	free(seen);
	free(c);
}

/* A growth that cannot allocate leaves the table as it was: inserts still succeed, every node
 * is still found, and the next growth that can allocate catches up. */
Test(conntab, failed_growth_keeps_table_correct)
{
	struct synack_conntab t;
	cr_assert_eq(synack_conntab_init(&t, &alloc, key, 8), 0);
	struct conn c[100] = {0};
	for (int i = 0; i < 8; i++) {
		c[i].node.key = tuple((uint32_t)i);
		cr_assert_eq(synack_conntab_insert(&t, &c[i].node.h), 0);
	}
	cr_assert_eq(t.nbuckets, 8);
	cnt.fail_next = 1000;
	for (int i = 8; i < 100; i++) {
		c[i].node.key = tuple((uint32_t)i);
		cr_assert_eq(synack_conntab_insert(&t, &c[i].node.h), 0, "insert %d", i);
	}
	cr_assert_eq(t.nbuckets, 8, "no memory: chains just get longer");
	cr_assert_eq(t.count, 100);
	cr_assert_eq(cnt.allocs, 1);
	for (int i = 0; i < 100; i++)
		cr_assert_eq(synack_conntab_find(&t, &c[i].node.key), &c[i].node.h, "conn %d", i);
	struct conn dup = {0};
	dup.node.key = tuple(50);
	cr_assert_eq(synack_conntab_insert(&t, &dup.node.h), -EEXIST);

	cnt.fail_next = 0;
	struct conn more = {0};
	more.node.key = tuple(100);
	cr_assert_eq(synack_conntab_insert(&t, &more.node.h), 0);
	cr_assert_eq(t.nbuckets, 16, "one doubling per insert once memory is back");
	for (int i = 0; i < 100; i++)
		cr_assert_eq(synack_conntab_find(&t, &c[i].node.key), &c[i].node.h, "conn %d", i);
	synack_conntab_fini(&t);
	cr_assert_eq(cnt.live_bytes, 0);
}

/* The bucket depends on the secret key: the same tuples land differently under another key. */
Test(conntab, key_changes_placement)
{
	struct synack_conntab t1, t2;
	uint8_t key2[16] = {0};
	cr_assert_eq(synack_conntab_init(&t1, &alloc, key, 64), 0);
	cr_assert_eq(synack_conntab_init(&t2, &alloc, key2, 64), 0);
	struct conn a[32] = {0}, b[32] = {0};
	int differ = 0;
	for (int i = 0; i < 32; i++) {
		a[i].node.key = b[i].node.key = tuple((uint32_t)i);
		synack_conntab_insert(&t1, &a[i].node.h);
		synack_conntab_insert(&t2, &b[i].node.h);
		differ += (a[i].node.h.hash & 63) != (b[i].node.h.hash & 63);
	}
	cr_assert_geq(differ, 24, "only %d of 32 moved", differ);
	synack_conntab_fini(&t1);
	synack_conntab_fini(&t2);
	cr_assert_eq(cnt.live_bytes, 0);
}

/* The one-entry cache in front of the hash: a repeated lookup is answered by it; removing the
 * cached node (a close, a connection turned into a TIME-WAIT entry) clears it, so neither the
 * removed node nor its memory reused for another tuple is ever returned for the old key. */
Test(conntab, lookup_cache_hits_and_is_invalidated_on_remove_and_reuse)
{
	struct synack_conntab t;
	cr_assert_eq(synack_conntab_init(&t, &alloc, key, 8), 0);
	struct conn a = {.id = 1}, b = {.id = 2};
	a.node.key = tuple(1000);
	b.node.key = tuple(1001);
	cr_assert_eq(synack_conntab_insert(&t, &a.node.h), 0);
	cr_assert_eq(synack_conntab_insert(&t, &b.node.h), 0);
	struct synack_tuple ka = tuple(1000), kb = tuple(1001);
	cr_assert_eq(synack_conntab_lookup(&t, &ka), &a.node.h);
	cr_assert_eq(t.cache_hits, 0, "the first lookup hashes");
	cr_assert_eq(synack_conntab_lookup(&t, &ka), &a.node.h);
	cr_assert_eq(t.cache_hits, 1);
	cr_assert_eq(synack_conntab_lookup(&t, &kb), &b.node.h, "another tuple misses the cache");
	cr_assert_eq(t.cache_hits, 1);
	cr_assert_eq(synack_conntab_lookup(&t, &kb), &b.node.h);
	cr_assert_eq(t.cache_hits, 2);
	/* A miss leaves the cache as it was. */
	struct synack_tuple kc = tuple(1002);
	cr_assert_null(synack_conntab_lookup(&t, &kc));
	cr_assert_eq(t.last, &b.node.h);
	/* Removing another node keeps it; removing the cached one clears it. */
	synack_conntab_remove(&t, &a.node.h);
	cr_assert_eq(t.last, &b.node.h);
	synack_conntab_remove(&t, &b.node.h);
	cr_assert_null(t.last);
	cr_assert_null(synack_conntab_lookup(&t, &kb), "a closed connection is not found");
	/* The same memory reused for another tuple: the old key finds nothing. */
	b.node.key = tuple(2000);
	cr_assert_eq(synack_conntab_insert(&t, &b.node.h), 0);
	cr_assert_null(synack_conntab_lookup(&t, &kb));
	struct synack_tuple kn = tuple(2000);
	cr_assert_eq(synack_conntab_lookup(&t, &kn), &b.node.h);
	/* The same tuple in a new node (TIME-WAIT's compact entry, a reused 4-tuple): found,
	 * not the old one. */
	synack_conntab_remove(&t, &b.node.h);
	a.node.key = tuple(2000);
	cr_assert_eq(synack_conntab_insert(&t, &a.node.h), 0);
	cr_assert_eq(synack_conntab_lookup(&t, &kn), &a.node.h);
	/* find() leaves the cache alone. */
	uint64_t hits = t.cache_hits;
	cr_assert_eq(synack_conntab_find(&t, &kn), &a.node.h);
	cr_assert_eq(t.cache_hits, hits);
	synack_conntab_fini(&t);
	cr_assert_null(t.last);
}

struct drop_odd {
	struct synack_conntab *t;
	int seen;
};

static void drop_if_odd(void *ctx, struct synack_conntab_hdr *n)
{
	struct drop_odd *d = ctx;
	d->seen++;
	if (conn_of(n)->id & 1)
		synack_conntab_remove(d->t, n);
}

/* foreach's visitor may remove the node it is given (a listener's close frees its request
 * entries so): every node is still visited once, and only the removed ones are gone. */
Test(conntab, foreach_visitor_may_remove_its_node)
{
	enum { N = 100 };
	static struct conn c[N];
	struct synack_conntab t;
	cr_assert_eq(synack_conntab_init(&t, &alloc, key, 8), 0);
	for (int i = 0; i < N; i++) {
		c[i].id = i;
		c[i].node.key = tuple((uint32_t)i);
		cr_assert_eq(synack_conntab_insert(&t, &c[i].node.h), 0);
	}
	struct drop_odd d = {&t, 0};
	synack_conntab_foreach(&t, drop_if_odd, &d);
	cr_assert_eq(d.seen, N);
	cr_assert_eq(t.count, N / 2);
	for (int i = 0; i < N; i++) {
		struct synack_tuple k = tuple((uint32_t)i);
		cr_assert_eq(synack_conntab_find(&t, &k), (i & 1) ? NULL : &c[i].node.h, "%d", i);
	}
	synack_conntab_fini(&t);
	cr_assert_eq(cnt.live_bytes, 0);
}
