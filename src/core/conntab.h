/* The connection table: connections found by a keyed hash (SipHash) of their 4-tuple, so a
 * remote peer cannot aim for one bucket. Intrusive chaining: nodes live inside their owners,
 * and the table grows (doubling) through the injected allocator only when connections are
 * added, never per segment. */
#ifndef SYNACK_CONNTAB_H
#define SYNACK_CONNTAB_H

#include <stddef.h>
#include <stdint.h>

#include "synack/stack.h"

struct synack_tuple {
	uint32_t laddr, raddr;
	uint16_t lport, rport;
};

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
