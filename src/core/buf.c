/* Byte rings and the out-of-order range map (see buf.h). */
#include "core/buf.h"

#include <string.h>

#define CHUNK_MASK (SYNACK_CHUNK - 1u)

static struct synack_chunk *pool_get(struct synack_chunk_pool *p, bool first)
{
	if (!first && p->limit && p->used + sizeof(struct synack_chunk) > p->limit) {
		p->refused++;
		return NULL;
	}
	struct synack_chunk *ch = p->free_list;
	if (ch) {
		p->free_list = ch->next;
		p->nfree--;
	} else if (!(ch = p->a.alloc(p->a.ctx, sizeof *ch))) {
		p->refused++;
		return NULL;
	}
	p->used += sizeof *ch;
	return ch;
}

static void pool_put(struct synack_chunk_pool *p, struct synack_chunk *ch)
{
	p->used -= sizeof *ch;
	if (p->nfree < p->free_max) {
		ch->next = p->free_list;
		p->free_list = ch;
		p->nfree++;
		return;
	}
	p->a.free(p->a.ctx, ch, sizeof *ch);
}

void chunk_pool_fini(struct synack_chunk_pool *p)
{
	while (p->free_list) {
		struct synack_chunk *ch = p->free_list;
		p->free_list = ch->next;
		p->a.free(p->a.ctx, ch, sizeof *ch);
	}
	p->nfree = 0;
}

/* The chunk holding position pos; created (in its place in the list) when p is not NULL.
 * Every chunk lies at or after the head's chunk, so distances from it order them. */
static struct synack_chunk *chunk_at(struct synack_ring *r, struct synack_chunk_pool *p,
				     uint32_t pos)
{
	uint32_t hb = r->head & ~CHUNK_MASK, want = pos & ~CHUNK_MASK, w = want - hb;
	struct synack_chunk *from = NULL;
	if (r->last && r->last->base - hb <= w)
		from = r->last;
	else if (r->cur && r->cur->base - hb <= w)
		from = r->cur;
	if (from && from->base == want)
		return r->cur = from;
	struct synack_chunk **pp = from ? &from->next : &r->first;
	while (*pp && (*pp)->base - hb < w)
		pp = &(*pp)->next;
	if (*pp && (*pp)->base == want)
		return r->cur = *pp;
	if (!p)
		return NULL;
	struct synack_chunk *ch = pool_get(p, r->nchunks == 0);
	if (!ch)
		return NULL;
	ch->base = want;
	ch->next = *pp;
	*pp = ch;
	if (!ch->next)
		r->last = ch;
	r->nchunks++;
	return r->cur = ch;
}

static void note_written(struct synack_ring *r, uint32_t end)
{
	if ((int32_t)(end - r->hi) > 0)
		r->hi = end;
}

/* Copies n bytes in at pos into chunks that exist (or are made now, when p is given); returns
 * how many went in. */
static uint32_t copy_in(struct synack_ring *r, struct synack_chunk_pool *p, uint32_t pos,
			const uint8_t *d, uint32_t n)
{
	uint32_t done = 0;
	while (done < n) {
		struct synack_chunk *ch = chunk_at(r, p, pos);
		if (!ch)
			break;
		uint32_t off = pos & CHUNK_MASK, k = SYNACK_CHUNK - off;
		if (k > n - done)
			k = n - done;
		memcpy(ch->data + off, d + done, k);
		done += k;
		pos += k;
	}
	note_written(r, pos);
	return done;
}

uint32_t ring_write(struct synack_ring *r, struct synack_chunk_pool *p, const uint8_t *d,
		    uint32_t n)
{
	if (n > ring_free(r))
		n = ring_free(r);
	if (n == 0)
		return 0;
	uint32_t k = copy_in(r, p, r->head + r->len, d, n);
	r->len += k;
	return k;
}

bool ring_write_at(struct synack_ring *r, struct synack_chunk_pool *p, uint32_t off,
		   const uint8_t *d, uint32_t n)
{
	if (n == 0)
		return true;
	/* Every chunk first, so that a failure leaves no partial write behind. */
	uint32_t pos = r->head + off, end = pos + n;
	for (uint32_t b = pos & ~CHUNK_MASK; b != (((end - 1) & ~CHUNK_MASK) + SYNACK_CHUNK);
	     b += SYNACK_CHUNK)
		if (!chunk_at(r, p, b))
			return false;
	copy_in(r, NULL, pos, d, n);
	return true;
}

void ring_peek(struct synack_ring *r, uint32_t off, uint8_t *out, uint32_t n)
{
	uint32_t pos = r->head + off;
	while (n > 0) {
		struct synack_chunk *ch = chunk_at(r, NULL, pos);
		uint32_t o = pos & CHUNK_MASK, k = SYNACK_CHUNK - o;
		if (k > n)
			k = n;
		if (ch)
			memcpy(out, ch->data + o, k);
		else
			memset(out, 0, k); /* never written: the caller asked past the data */
		out += k;
		pos += k;
		n -= k;
	}
}

const uint8_t *ring_span(struct synack_ring *r, uint32_t off, uint32_t n)
{
	uint32_t pos = r->head + off;
	if ((pos & CHUNK_MASK) + n > SYNACK_CHUNK)
		return NULL;
	struct synack_chunk *ch = chunk_at(r, NULL, pos);
	return ch ? ch->data + (pos & CHUNK_MASK) : NULL;
}

static void ring_drop_first(struct synack_ring *r, struct synack_chunk_pool *p)
{
	struct synack_chunk *ch = r->first;
	r->first = ch->next;
	if (r->cur == ch)
		r->cur = NULL;
	if (r->last == ch)
		r->last = NULL;
	r->nchunks--;
	pool_put(p, ch);
}

void ring_consume(struct synack_ring *r, struct synack_chunk_pool *p, uint32_t n)
{
	if (n > r->len)
		n = r->len;
	uint32_t hb = r->head & ~CHUNK_MASK;
	r->head += n;
	r->len -= n;
	uint32_t gone = r->head - hb; /* chunks ending at or before the head are free */
	while (r->first && r->first->base - hb + SYNACK_CHUNK <= gone)
		ring_drop_first(r, p);
	/* The head is kept when the ring empties: out-of-order data may sit past it. */
	if (r->len == 0 && (int32_t)(r->hi - r->head) <= 0)
		ring_release(r, p);
}

void ring_drop_past(struct synack_ring *r, struct synack_chunk_pool *p)
{
	uint32_t hb = r->head & ~CHUNK_MASK, end = r->head + r->len - hb; /* relative to hb */
	struct synack_chunk **pp = &r->first;
	while (*pp && (*pp)->base - hb < end)
		pp = &(*pp)->next;
	while (*pp) {
		struct synack_chunk *ch = *pp;
		*pp = ch->next;
		r->nchunks--;
		pool_put(p, ch);
	}
	r->cur = NULL;
	r->last = NULL;
	for (struct synack_chunk *ch = r->first; ch; ch = ch->next)
		r->last = ch;
	r->hi = r->head + r->len;
}

void ring_release(struct synack_ring *r, struct synack_chunk_pool *p)
{
	while (r->first)
		ring_drop_first(r, p);
	r->len = 0;
	r->hi = r->head;
}

bool ooo_add(struct synack_ooo *o, seq_t start, seq_t end)
{
	uint32_t i = 0;
	/* Skip ranges that end before the new one starts (not touching it). */
	while (i < o->n && seq_lt(o->r[i].end, start))
		i++;
	if (i == o->n || seq_lt(end, o->r[i].start)) {
		/* Disjoint: insert at i. */
		if (o->n == o->cap)
			return false;
		memmove(&o->r[i + 1], &o->r[i], (o->n - i) * sizeof o->r[0]);
		o->r[i].start = start;
		o->r[i].end = end;
		o->n++;
		return true;
	}
	/* Overlaps or touches range i: widen it, then swallow the ranges it now reaches. */
	o->r[i].start = seq_min(o->r[i].start, start);
	o->r[i].end = seq_max(o->r[i].end, end);
	uint32_t j = i + 1;
	while (j < o->n && seq_le(o->r[j].start, o->r[i].end)) {
		o->r[i].end = seq_max(o->r[i].end, o->r[j].end);
		j++;
	}
	memmove(&o->r[i + 1], &o->r[j], (o->n - j) * sizeof o->r[0]);
	o->n -= j - i - 1;
	return true;
}

seq_t ooo_advance(struct synack_ooo *o, seq_t rcv_nxt)
{
	if (o->n == 0 || seq_gt(o->r[0].start, rcv_nxt))
		return rcv_nxt;
	seq_t end = seq_max(o->r[0].end, rcv_nxt);
	memmove(&o->r[0], &o->r[1], (o->n - 1) * sizeof o->r[0]);
	o->n--;
	return end;
}
