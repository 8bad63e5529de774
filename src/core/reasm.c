/* IP reassembly for both families: IPv4 (RFC 791 §3.2, RFC 815) and IPv6 (RFC 8200 §4.5).
 *
 * A datagram is identified by (source, destination, identification, protocol) for IPv4 and
 * (source, destination, identification) for IPv6. Its fragments are copied and kept, sorted by
 * offset, until they cover it from 0 to the end the last fragment (M clear) gives; then the
 * whole datagram is rebuilt (the first fragment's header, or for IPv6 its unfragmentable part,
 * in front of the data) and goes through IP input again as if it had arrived whole.
 *
 *  - Overlaps: RFC 5722 §4 (for IPv6; synack applies it to IPv4 too, as the issue of
 *    overlapping-fragment attacks is the same): "if any of the fragments being reassembled
 *    overlap with any other fragments being reassembled for the same packet, reassembly of
 *    that packet must be abandoned and all the fragments that have been received for that
 *    packet must be discarded". An exact duplicate of a fragment already held is dropped alone
 *    (RFC 8200 §4.5 allows it; a duplicating link must not cost whole datagrams).
 *  - Timeouts: 30 s for IPv4 and 60 s for IPv6, Linux's net.ipv4.ipfrag_time and
 *    net.ipv6.ip6frag_time (RFC 8200 §4.5: "within 60 seconds"). The stack's next deadline
 *    includes the earliest; what expires is counted (ReasmTimeout, ReasmFails).
 *  - Memory: at most REASM_MEM_MAX bytes of fragment data and REASM_MAX datagrams at once;
 *    a fragment that does not fit evicts the oldest datagrams (as Linux's ipfrag_high_thresh
 *    evicts), each counted in ReasmFails. Memory never grows past the bound.
 *  - Not sent: ICMP Time Exceeded (code 1) on a timeout, and the Parameter Problems RFC 8200
 *    §4.5 asks for a fragment whose length is not a multiple of 8 or that ends past 65535
 *    bytes: such fragments are dropped and counted.
 */
#include "core/reasm.h"

#include <errno.h>
#include <string.h>

#include "core/bytes.h"

#define REASM_V4_TIMEOUT_US (30ull * 1000000)
#define REASM_V6_TIMEOUT_US (60ull * 1000000)

struct reasm_frag {
	uint16_t off, len; /* bytes of the fragmentable part */
	uint8_t *data;
};

struct reasm_entry {
	struct synack_addr src, dst;
	uint32_t id;
	uint8_t proto;   /* IPv4: the protocol; IPv6: the Next Header after the fragment header */
	bool v6;
	uint64_t expires_us;
	uint32_t total;  /* the fragmentable part's length once the last fragment came; else 0 */
	uint8_t *hdr;    /* the first fragment's header (IPv6: the part before the fragment header) */
	uint16_t hdr_len;
	uint16_t nh_at;  /* IPv6: offset of the Next Header field naming the fragment header */
	uint8_t nfrags;
	struct reasm_frag frags[REASM_FRAGS_MAX];
};

static void count(struct synack_stack *s, bool v6, enum synack_counter c4, enum synack_counter c6)
{
	stack_count(s, v6 ? c6 : c4);
}

static void entry_free(struct synack_stack *s, size_t i)
{
	struct reasm_entry *e = s->reasm[i];
	for (unsigned k = 0; k < e->nfrags; k++) {
		stack_free(s, e->frags[k].data, e->frags[k].len);
		s->reasm_mem -= e->frags[k].len;
	}
	if (e->hdr)
		stack_free(s, e->hdr, e->hdr_len);
	stack_free(s, e, sizeof *e);
	s->reasm[i] = NULL;
}

/* Abandons datagram i: counted as a failure. */
static void entry_fail(struct synack_stack *s, size_t i)
{
	count(s, s->reasm[i]->v6, SYNACK_CTR_IpReasmFails, SYNACK_CTR_Ip6ReasmFails);
	entry_free(s, i);
}

void reasm_expire(struct synack_stack *s)
{
	for (size_t i = 0; i < REASM_MAX; i++) {
		if (!s->reasm[i] || s->reasm[i]->expires_us > s->now_us)
			continue;
		count(s, s->reasm[i]->v6, SYNACK_CTR_IpReasmTimeout, SYNACK_CTR_Ip6ReasmTimeout);
		entry_fail(s, i);
	}
}

uint64_t reasm_next_deadline(const struct synack_stack *s)
{
	uint64_t d = UINT64_MAX;
	for (size_t i = 0; i < REASM_MAX; i++)
		if (s->reasm[i] && s->reasm[i]->expires_us < d)
			d = s->reasm[i]->expires_us;
	return d;
}

void reasm_fini(struct synack_stack *s)
{
	for (size_t i = 0; i < REASM_MAX; i++)
		if (s->reasm[i])
			entry_free(s, i);
}

/* The oldest datagram (the earliest deadline), or -1. */
static int oldest(const struct synack_stack *s)
{
	int o = -1;
	for (size_t i = 0; i < REASM_MAX; i++)
		if (s->reasm[i] && (o < 0 || s->reasm[i]->expires_us < s->reasm[o]->expires_us))
			o = (int)i;
	return o;
}

static bool same_key(const struct reasm_entry *e, const struct reasm_frag_in *f)
{
	return e->v6 == f->v6 && e->id == f->id && e->proto == f->proto &&
	       synack_addr_eq(&e->src, &f->src) && synack_addr_eq(&e->dst, &f->dst);
}

/* The datagram f belongs to, a new one (evicting the oldest when the table is full), or -1. */
static int find_or_add(struct synack_stack *s, const struct reasm_frag_in *f)
{
	int free_slot = -1;
	for (size_t i = 0; i < REASM_MAX; i++) {
		if (s->reasm[i] && same_key(s->reasm[i], f))
			return (int)i;
		if (!s->reasm[i] && free_slot < 0)
			free_slot = (int)i;
	}
	if (free_slot < 0) {
		free_slot = oldest(s);
		entry_fail(s, (size_t)free_slot);
	}
	struct reasm_entry *e = stack_alloc(s, sizeof *e);
	if (!e)
		return -1;
	memset(e, 0, sizeof *e);
	e->src = f->src;
	e->dst = f->dst;
	e->id = f->id;
	e->proto = f->proto;
	e->v6 = f->v6;
	e->expires_us = s->now_us + (f->v6 ? REASM_V6_TIMEOUT_US : REASM_V4_TIMEOUT_US);
	s->reasm[free_slot] = e;
	return free_slot;
}

/* Where fragment [off, off+len) goes among e's sorted fragments: its index, or -1 for an
 * overlap, -2 for an exact duplicate. */
static int place(const struct reasm_entry *e, uint32_t off, uint32_t len)
{
	unsigned k = 0;
	while (k < e->nfrags && e->frags[k].off < off)
		k++;
	for (unsigned j = 0; j < e->nfrags; j++) {
		uint32_t a = e->frags[j].off, b = a + e->frags[j].len;
		if (a == off && b == off + len)
			return -2;
		if (a < off + len && off < b)
			return -1;
	}
	return (int)k;
}

static bool complete(const struct reasm_entry *e)
{
	if (e->total == 0 || !e->hdr)
		return false;
	uint32_t at = 0;
	for (unsigned k = 0; k < e->nfrags; k++) {
		if (e->frags[k].off != at)
			return false;
		at += e->frags[k].len;
	}
	return at == e->total;
}

/* Rebuilds the whole datagram of a complete entry into a new buffer. */
static uint8_t *rebuild(struct synack_stack *s, const struct reasm_entry *e, size_t *out_len)
{
	size_t n = (size_t)e->hdr_len + e->total;
	uint8_t *b = stack_alloc(s, n);
	if (!b)
		return NULL;
	memcpy(b, e->hdr, e->hdr_len);
	for (unsigned k = 0; k < e->nfrags; k++)
		memcpy(b + e->hdr_len + e->frags[k].off, e->frags[k].data, e->frags[k].len);
	if (e->v6) {
		put16(b + 4, (uint16_t)(n - SYNACK_IPV6_HDR_LEN));
		b[e->nh_at] = e->proto;
	} else {
		put16(b + 2, (uint16_t)n);
		put16(b + 6, 0); /* no more fragments, offset 0 */
		b[10] = b[11] = 0;
		put16(b + 10, synack_csum_fold(synack_csum_add(0, b, e->hdr_len)));
	}
	*out_len = n;
	return b;
}

/* Checks a fragment on its own: the data of all but the last is a multiple of 8 bytes, and
 * the datagram stays within 65535 bytes. */
static bool frag_sane(const struct reasm_frag_in *f)
{
	if (f->len == 0 || (f->mf && f->len % 8 != 0))
		return false;
	return (size_t)f->hdr_len + f->off + f->len <= 0xffff;
}

/* Makes room for len more bytes of fragment data, evicting the oldest datagrams but never
 * the one being added to (keep). */
static bool make_room(struct synack_stack *s, size_t len, int keep)
{
	while (s->reasm_mem + len > REASM_MEM_MAX) {
		int o = -1;
		for (size_t i = 0; i < REASM_MAX; i++)
			if (s->reasm[i] && (int)i != keep &&
			    (o < 0 || s->reasm[i]->expires_us < s->reasm[o]->expires_us))
				o = (int)i;
		if (o < 0)
			return false;
		entry_fail(s, (size_t)o);
	}
	return true;
}

static bool keep_header(struct synack_stack *s, struct reasm_entry *e,
			const struct reasm_frag_in *f)
{
	if (f->off != 0 || e->hdr)
		return true;
	e->hdr = stack_alloc(s, f->hdr_len);
	if (!e->hdr)
		return false;
	memcpy(e->hdr, f->hdr, f->hdr_len);
	e->hdr_len = f->hdr_len;
	e->nh_at = f->nh_at;
	return true;
}

/* Stores the fragment in e at index k; false on failure (entry then abandoned by caller). */
static bool store(struct synack_stack *s, struct reasm_entry *e, int k,
		  const struct reasm_frag_in *f)
{
	if (e->nfrags == REASM_FRAGS_MAX || !keep_header(s, e, f))
		return false;
	uint8_t *d = stack_alloc(s, f->len);
	if (!d)
		return false;
	memcpy(d, f->data, f->len);
	memmove(&e->frags[k + 1], &e->frags[k], (e->nfrags - (unsigned)k) * sizeof e->frags[0]);
	e->frags[k] = (struct reasm_frag){(uint16_t)f->off, (uint16_t)f->len, d};
	e->nfrags++;
	s->reasm_mem += f->len;
	if (!f->mf)
		e->total = f->off + f->len;
	return true;
}

int reasm_add(struct synack_stack *s, const struct reasm_frag_in *f, uint8_t **out,
	      size_t *out_len)
{
	count(s, f->v6, SYNACK_CTR_IpReasmReqds, SYNACK_CTR_Ip6ReasmReqds);
	reasm_expire(s);
	if (!frag_sane(f)) {
		count(s, f->v6, SYNACK_CTR_IpReasmFails, SYNACK_CTR_Ip6ReasmFails);
		return -EINVAL;
	}
	int i = find_or_add(s, f);
	if (i < 0) {
		count(s, f->v6, SYNACK_CTR_IpReasmFails, SYNACK_CTR_Ip6ReasmFails);
		return -ENOMEM;
	}
	struct reasm_entry *e = s->reasm[i];
	uint32_t end = f->off + f->len;
	int k = place(e, f->off, f->len);
	if (k == -2)
		return 0; /* an exact duplicate: dropped alone */
	bool bad_end = (e->total && (end > e->total || (!f->mf && end != e->total))) ||
		       (!f->mf && e->nfrags && e->frags[e->nfrags - 1].off +
						       e->frags[e->nfrags - 1].len > end);
	if (k < 0 || bad_end || !make_room(s, f->len, i) || !store(s, e, k, f)) {
		entry_fail(s, (size_t)i); /* RFC 5722: the whole datagram goes */
		return -EINVAL;
	}
	if (!complete(e))
		return 0;
	*out = rebuild(s, e, out_len);
	entry_free(s, (size_t)i);
	if (!*out) {
		count(s, f->v6, SYNACK_CTR_IpReasmFails, SYNACK_CTR_Ip6ReasmFails);
		return -ENOMEM;
	}
	count(s, f->v6, SYNACK_CTR_IpReasmOKs, SYNACK_CTR_Ip6ReasmOKs);
	return 1;
}
