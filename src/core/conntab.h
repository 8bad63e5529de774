/* The connection table: connections found by a keyed hash (SipHash) of their 4-tuple, so a
 * remote peer cannot aim for one bucket. Intrusive chaining: nodes live inside their owners,
 * and the table grows (doubling) through the injected allocator only when connections are
 * added, never per segment. */
#ifndef SYNACK_CONNTAB_H
#define SYNACK_CONNTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "synack/addr.h"
#include "synack/stack.h"

struct synack_tuple {
	struct synack_addr laddr, raddr;
	uint16_t lport, rport;
};

/* The bytes of an address that the keyed hashes (connection table, ISN, SYN cookies) take:
 * the four of an IPv4 address, in network order (exactly what they hashed when addresses were
 * IPv4 only, so ISNs, cookies and bucket order are unchanged), all sixteen of an IPv6 one.
 * Returns how many bytes were written to out (room for 16). */
static inline size_t synack_tuple_addr_bytes(const struct synack_addr *a, uint8_t *out)
{
	size_t n = synack_addr_is_v4(a) ? 4 : 16;
	memcpy(out, a->b + 16 - n, n);
	return n;
}

/* The 4-tuple of an IPv4 connection in 12 bytes (addresses in network byte order, as the
 * last four bytes of their synack_addr): the key of compact entries (TIME-WAIT). */
struct synack_tuple4 {
	uint8_t laddr[4], raddr[4];
	uint16_t lport, rport;
};

/* Every node of the table starts with this header. kind is the owner's type tag (the table
 * never reads it): a connection block or a compact entry. flags say where the key is. */
struct synack_conntab_hdr {
	struct synack_conntab_hdr *next;
	/* The tuple's hash, kept for nodes without SYNACK_CONNTAB_NOHASH; the owner's 32 bits
	 * otherwise (the table computes the hash again when it needs it: on removal and when
	 * it grows, never on lookup). */
	uint32_t hash;
	uint8_t kind;
	uint8_t flags;   /* SYNACK_CONNTAB_KEY4, SYNACK_CONNTAB_NOHASH */
	uint8_t owner[2]; /* free for the owner */
};
#define SYNACK_CONNTAB_KEY4 1u   /* a struct synack_conntab_node4: the key is a synack_tuple4 */
#define SYNACK_CONNTAB_NOHASH 2u /* hash is the owner's */

/* A node with the full tuple (either family). */
struct synack_conntab_node {
	struct synack_conntab_hdr h;
	struct synack_tuple key;
};

/* A node with an IPv4 tuple in 12 bytes (flags has SYNACK_CONNTAB_KEY4). An owner that packs
 * its own fields right after the key (the struct pads to 32) lays out a header and a
 * synack_tuple4 itself: the key is always right after the header. */
struct synack_conntab_node4 {
	struct synack_conntab_hdr h;
	struct synack_tuple4 key;
};

/* The key of a node, right after its header. */
static inline const struct synack_tuple *synack_conntab_full_key(const struct synack_conntab_hdr *n)
{
	return (const struct synack_tuple *)(const void *)((const char *)n + sizeof *n);
}
static inline const struct synack_tuple4 *synack_conntab_key4(const struct synack_conntab_hdr *n)
{
	return (const struct synack_tuple4 *)(const void *)((const char *)n + sizeof *n);
}

/* t as a synack_tuple4 (t must be IPv4 on both ends). */
static inline void synack_tuple4_from(struct synack_tuple4 *o, const struct synack_tuple *t)
{
	memcpy(o->laddr, t->laddr.b + 12, 4);
	memcpy(o->raddr, t->raddr.b + 12, 4);
	o->lport = t->lport;
	o->rport = t->rport;
}

static inline bool synack_tuple_is_v4(const struct synack_tuple *t)
{
	return synack_addr_is_v4(&t->laddr) && synack_addr_is_v4(&t->raddr);
}

/* The full tuple of any node. */
void synack_conntab_key(const struct synack_conntab_hdr *n, struct synack_tuple *out);

struct synack_conntab {
	struct synack_conntab_hdr **buckets;
	size_t nbuckets; /* a power of two */
	size_t count;
	uint8_t key[16];
	const struct synack_allocator *alloc;
	/* The one-entry cache in front of the hash (synack_conntab_lookup): the node the last
	 * lookup found. Removing that node clears it, so it never names a node out of the
	 * table (a closed connection, one turned into a TIME-WAIT entry, memory reused). */
	struct synack_conntab_hdr *last;
	uint64_t cache_hits; /* lookups the cache answered (tests) */
};

/* Errors: -ENOMEM. */
int synack_conntab_init(struct synack_conntab *t, const struct synack_allocator *a,
			const uint8_t key[16], size_t initial_buckets);
void synack_conntab_fini(struct synack_conntab *t);
/* Inserts node n (its key and flags must be set). Grows when count > nbuckets; a failed growth
 * is not an error (chains just get longer). Errors: -EEXIST (same tuple present, whatever the
 * kind of node holding it). */
int synack_conntab_insert(struct synack_conntab *t, struct synack_conntab_hdr *n);
void synack_conntab_remove(struct synack_conntab *t, struct synack_conntab_hdr *n);
struct synack_conntab_hdr *synack_conntab_find(const struct synack_conntab *t,
					       const struct synack_tuple *key);
/* The same through the one-entry cache: a run of segments of one flow (a batch read from the
 * link) compares the tuple once instead of hashing it (SipHash) and walking a chain. For the
 * input path; other lookups (port search) use synack_conntab_find and leave the cache. */
struct synack_conntab_hdr *synack_conntab_lookup(struct synack_conntab *t,
						 const struct synack_tuple *key);
/* Calls fn for every node; fn may remove the node it is given, and insert or remove no other. */
void synack_conntab_foreach(const struct synack_conntab *t,
			    void (*fn)(void *ctx, struct synack_conntab_hdr *n), void *ctx);

#endif
