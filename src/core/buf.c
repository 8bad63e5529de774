/* Byte rings and the out-of-order range map (see buf.h). */
#include "core/buf.h"

#include <string.h>

static void ring_copy_in(struct synack_ring *r, uint32_t pos, const uint8_t *p, uint32_t n)
{
	uint32_t first = r->cap - pos < n ? r->cap - pos : n;
	memcpy(r->buf + pos, p, first);
	memcpy(r->buf, p + first, n - first);
}

uint32_t ring_write(struct synack_ring *r, const uint8_t *p, uint32_t n)
{
	if (n > ring_free(r))
		n = ring_free(r);
	if (n == 0)
		return 0;
	ring_copy_in(r, (r->head + r->len) % r->cap, p, n);
	r->len += n;
	return n;
}

void ring_write_at(struct synack_ring *r, uint32_t off, const uint8_t *p, uint32_t n)
{
	if (n == 0)
		return;
	ring_copy_in(r, (uint32_t)(((uint64_t)r->head + off) % r->cap), p, n);
}

void ring_peek(const struct synack_ring *r, uint32_t off, uint8_t *out, uint32_t n)
{
	if (n == 0)
		return;
	uint32_t pos = (uint32_t)(((uint64_t)r->head + off) % r->cap);
	uint32_t first = r->cap - pos < n ? r->cap - pos : n;
	memcpy(out, r->buf + pos, first);
	memcpy(out + first, r->buf, n - first);
}

const uint8_t *ring_span(const struct synack_ring *r, uint32_t off, uint32_t n)
{
	uint32_t pos = (uint32_t)(((uint64_t)r->head + off) % r->cap);
	if (r->cap - pos < n)
		return NULL;
	return r->buf + pos;
}

void ring_consume(struct synack_ring *r, uint32_t n)
{
	if (n > r->len)
		n = r->len;
	r->head = (r->head + n) % r->cap;
	r->len -= n;
	/* head is not reset when the ring empties: out-of-order data may sit past it. */
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
