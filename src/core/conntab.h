/* The connection table: connections found by a keyed hash (SipHash) of their 4-tuple, so a
 * remote peer cannot aim for one bucket. Intrusive chaining: nodes live inside their owners,
 * and the table grows (doubling) through the injected allocator only when connections are
 * added, never per segment. */
#ifndef SYNACK_CONNTAB_H
#define SYNACK_CONNTAB_H

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

struct synack_conntab_node {
	struct synack_conntab_node *next;
	struct synack_tuple key;
	uint64_t hash;
};

struct synack_conntab {
	struct synack_conntab_node **buckets;
	size_t nbuckets; /* a power of two */
	size_t count;
	uint8_t key[16];
	const struct synack_allocator *alloc;
};

/* Errors: -ENOMEM. */
int synack_conntab_init(struct synack_conntab *t, const struct synack_allocator *a,
			const uint8_t key[16], size_t initial_buckets);
void synack_conntab_fini(struct synack_conntab *t);
/* Inserts node (its key must be set). Grows when count > nbuckets; a failed growth is not an
 * error (chains just get longer). Errors: -EEXIST (same tuple present). */
int synack_conntab_insert(struct synack_conntab *t, struct synack_conntab_node *n);
void synack_conntab_remove(struct synack_conntab *t, struct synack_conntab_node *n);
struct synack_conntab_node *synack_conntab_find(const struct synack_conntab *t,
						const struct synack_tuple *key);
/* Calls fn for every node; fn may not insert or remove. */
void synack_conntab_foreach(const struct synack_conntab *t,
			    void (*fn)(void *ctx, struct synack_conntab_node *n), void *ctx);

#endif
