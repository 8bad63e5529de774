/* IP reassembly for IPv4 and IPv6 (reasm.c). */
#ifndef SYNACK_CORE_REASM_H
#define SYNACK_CORE_REASM_H

#include "core/stack_impl.h"

/* One fragment, as the IP layer parsed it. */
struct reasm_frag_in {
	bool v6;
	struct synack_addr src, dst;
	uint32_t id;
	uint8_t proto;      /* IPv4: protocol; IPv6: the fragment header's Next Header */
	uint32_t off;       /* bytes into the fragmentable part */
	bool mf;
	const uint8_t *data; /* the fragment's data */
	size_t len;
	const uint8_t *hdr; /* what goes in front of the data when rebuilt: IPv4's header, IPv6's */
	size_t hdr_len;     /* fixed header and extension headers before the fragment header */
	uint16_t nh_at;     /* IPv6: offset of the Next Header field naming the fragment header */
};

/* Adds a fragment. Returns 1 with *out (stack_alloc'ed, *out_len bytes, freed by the caller
 * with stack_free) holding the whole datagram when this fragment completed it; 0 when it is
 * held (or was an exact duplicate); a negative errno when it was dropped (-EINVAL: malformed
 * or overlapping, the datagram abandoned; -ENOMEM), counted in (Ip|Ip6)ReasmFails. */
int reasm_add(struct synack_stack *s, const struct reasm_frag_in *f, uint8_t **out,
	      size_t *out_len);
/* Abandons the datagrams whose time is up (counted as timeouts and failures). */
void reasm_expire(struct synack_stack *s);
/* The earliest reassembly deadline, or UINT64_MAX. */
uint64_t reasm_next_deadline(const struct synack_stack *s);
/* Frees everything (stack destroy). */
void reasm_fini(struct synack_stack *s);

#endif
