/* The fault decorator: loss, duplication, reordering and corruption on any link.
 *
 * Faults apply to frames *sent* through the decorator; received frames pass untouched (wrap
 * the other end to disturb the other direction). For every frame offered to send() the
 * decorator draws four uniform numbers from its own seeded PRNG — loss, duplication,
 * reordering, corruption, always in that order and always all four — so changing one rate
 * does not shift the others' decisions, and a seed replays a run exactly. Then:
 *
 *   1. drop_if(frame) true, or the loss draw hits  -> the frame is not sent (LOST);
 *   2. the corruption draw hits -> 1 to 3 random bits anywhere in the frame are flipped
 *      (CORRUPT), in distinct bit lanes so that the receiver's checksums (RFC 791, RFC 9293
 *      §3.1) always catch it (see flip_clashes; corrupt_raw lifts that);
 *   3. the duplication draw hits -> the frame is sent twice (DUP);
 *   4. the reordering draw hits -> the frame (and its duplicate) is held back for
 *      reorder_delay_us, so frames sent after it overtake it (REORDER).
 *
 * A decorator cannot delay anything by itself: nobody calls it when time passes. So held
 * frames wait in a queue ordered by release time, next_arrival() reports the earliest release
 * time (the simulator's clock therefore stops there), and every send(), recv() and the
 * simulator's recv() at that time pushes the due frames into the wrapped link, stamped with
 * their release time.
 *
 * Every fault is reported to params.trace as a synack_trace_event carrying the frame as the
 * sender sent it and, when it parses, its TCP segment.
 *
 * Capabilities: the wrapped link's, passed through, and frames keep their metadata -- except
 * a corrupted one. Corruption models the wire, which comes after the device has summed the
 * frame: a SYNACK_CSUM_NEEDED frame has its checksum completed before the bits flip and goes
 * on as SYNACK_CSUM_NONE, so the damage is there for the receiver to find (completed after
 * the flips, the checksum would vouch for it; marked VERIFIED, nobody would look). A large
 * frame the device segments (GSO) has its pieces summed by the device after any flip, so a
 * corruption draw that hits one drops it instead, as the receiver would have dropped the
 * damaged piece.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/rng.h"
#include "synack/link.h"
#include "synack/stack.h"
#include "synack/wire.h"

#define FAULT_DEFAULT_REORDER_US 1000u

struct fault_held {
	uint64_t at;    /* release time */
	uint64_t order; /* hold number: frames held at the same time leave in order */
	struct synack_frame_meta meta;
	uint8_t data[];
};

struct fault_link {
	struct synack_link link; /* first: the vtable sees this */
	struct synack_link *inner;
	struct synack_fault_params p;
	struct synack_rng rng;
	struct fault_held **held; /* sorted by (at, order) */
	size_t n_held, cap_held;
	uint64_t order;
	uint8_t *scratch; /* the corrupted copy */
	size_t scratch_cap;
	struct synack_fault_stats stats;
};

static const struct synack_link_ops fault_ops;

/* ---- trace ------------------------------------------------------------------------------ */

static void emit(struct fault_link *f, enum synack_trace_kind kind, const uint8_t *frame,
		 size_t len, uint64_t now_us)
{
	if (!f->p.trace)
		return;
	struct synack_trace_event ev = {
		.kind = kind, .t_us = now_us, .host = f->p.host, .frame = frame, .frame_len = len,
	};
	struct synack_ip_hdr ip;
	struct synack_tcp_seg seg;
	const uint8_t *payload;
	size_t plen;
	if (synack_ip_parse(frame, len, &ip, &payload, &plen) == 0 &&
	    ip.proto == SYNACK_PROTO_TCP && !ip.fragment &&
	    synack_tcp_parse(payload, plen, &ip.src, &ip.dst, false, &seg) == 0) {
		ev.seg = &seg;
		ev.has_conn = true;
		ev.local = (struct synack_endpoint){ip.src, seg.sport};
		ev.remote = (struct synack_endpoint){ip.dst, seg.dport};
	}
	f->p.trace(f->p.trace_ctx, &ev);
}

/* ---- the held queue ---------------------------------------------------------------------- */

static int hold(struct fault_link *f, const uint8_t *frame, const struct synack_frame_meta *meta,
		uint64_t at)
{
	size_t len = meta->len;
	if (f->n_held == f->cap_held) {
		size_t cap = f->cap_held ? f->cap_held * 2 : 16;
		struct fault_held **h = realloc(f->held, cap * sizeof(*h));
		if (!h)
			return -ENOMEM;
		f->held = h;
		f->cap_held = cap;
	}
	struct fault_held *e = malloc(sizeof(*e) + len);
	if (!e)
		return -ENOMEM;
	e->at = at;
	e->order = f->order++;
	e->meta = *meta;
	memcpy(e->data, frame, len);
	/* Insert after every entry due no later: release times only grow with the clock, so
	 * this is nearly always an append. */
	size_t i = f->n_held;
	while (i > 0 && f->held[i - 1]->at > at) {
		f->held[i] = f->held[i - 1];
		i--;
	}
	f->held[i] = e;
	f->n_held++;
	return 0;
}

/* Sends every held frame due by now into the wrapped link, stamped with its release time. */
static void release_due(struct fault_link *f, uint64_t now_us)
{
	size_t n = 0;
	while (n < f->n_held && f->held[n]->at <= now_us) {
		struct fault_held *e = f->held[n++];
		(void)synack_link_send(f->inner, e->data, &e->meta, e->at);
		free(e);
	}
	if (n == 0)
		return;
	memmove(f->held, f->held + n, (f->n_held - n) * sizeof(*f->held));
	f->n_held -= n;
}

/* ---- corruption ------------------------------------------------------------------------- */

/* Would flipping bit b collide with an earlier flip? Unless the caller asked for raw
 * corruption, two flips may not share a "lane" (bit position modulo 16). The Internet
 * checksum (RFC 1071) is a ones' complement sum of 16-bit words, so a flip changes it by
 * +-2^lane; flips in distinct lanes change it by a signed sum of distinct powers of two,
 * which is never 0 and never +-0xffff -- the receiver's checksum always catches them. Two
 * flips in one lane in opposite directions cancel, and about 1 corrupted frame in 100 would
 * pass unnoticed: real, but no transport survives it, so it is opt-in (corrupt_raw). The
 * IPv4 header and the TCP segment both start at even offsets, so lanes line up with both
 * checksums' words. */
static bool flip_clashes(const uint64_t *bits, size_t n, uint64_t b, bool raw)
{
	for (size_t j = 0; j < n; j++)
		if (bits[j] == b || (!raw && bits[j] % 16 == b % 16))
			return true;
	return false;
}

/* Copies frame into scratch, completes its checksum if it was left to offload (*meta
 * becomes SYNACK_CSUM_NONE), and flips 1..3 distinct random bits of it. */
static const uint8_t *corrupt(struct fault_link *f, const uint8_t *frame,
			      struct synack_frame_meta *meta)
{
	size_t len = meta->len;
	if (len > f->scratch_cap) {
		uint8_t *b = realloc(f->scratch, len);
		if (!b)
			return NULL;
		f->scratch = b;
		f->scratch_cap = len;
	}
	memcpy(f->scratch, frame, len);
	(void)synack_frame_csum_complete(f->scratch, meta); /* meta was checked: cannot fail */
	uint64_t bits[3];
	size_t nbits = 1 + (size_t)synack_rng_below(&f->rng, 3);
	if (len < 2)
		nbits = 1; /* a single byte has only 8 lanes' worth of room: keep it simple */
	for (size_t i = 0; i < nbits; i++) {
		/* len >= 2 gives 16 lanes for at most 3 flips: this ends. */
		do
			bits[i] = synack_rng_below(&f->rng, (uint64_t)len * 8);
		while (flip_clashes(bits, i, bits[i], f->p.corrupt_raw));
		f->scratch[bits[i] / 8] ^= (uint8_t)(1u << (bits[i] % 8));
	}
	return f->scratch;
}

/* ---- the link vtable ---------------------------------------------------------------------- */

static int fault_send(struct synack_link *l, const uint8_t *frame,
		      const struct synack_frame_meta *meta, uint64_t now_us)
{
	struct fault_link *f = (struct fault_link *)l;
	if (synack_frame_meta_check(meta) < 0)
		return -EINVAL;
	size_t len = meta->len;
	struct synack_frame_meta m = *meta; /* what goes on: the corrupted copy's differs */
	release_due(f, now_us);
	f->stats.frames++;
	double u_loss = synack_rng_unit(&f->rng);
	double u_dup = synack_rng_unit(&f->rng);
	double u_reorder = synack_rng_unit(&f->rng);
	double u_corrupt = synack_rng_unit(&f->rng);

	if ((f->p.drop_if && f->p.drop_if(f->p.drop_ctx, frame, len, now_us)) ||
	    u_loss < f->p.loss) {
		f->stats.lost++;
		emit(f, SYNACK_TRACE_LOST, frame, len, now_us);
		return 0;
	}
	const uint8_t *out = frame;
	if (u_corrupt < f->p.corrupt && len > 0 && m.gso_type != SYNACK_GSO_NONE) {
		/* A frame the device segments (GSO) cannot be damaged as the wire would damage
		 * it: the device sums each piece after the flips, so the damage would pass as
		 * good data. The receiver would have discarded the damaged piece: the frame is
		 * dropped instead (counted and traced as corrupted). */
		f->stats.corrupt++;
		emit(f, SYNACK_TRACE_CORRUPT, frame, len, now_us);
		return 0;
	}
	if (u_corrupt < f->p.corrupt && len > 0) {
		out = corrupt(f, frame, &m);
		if (!out)
			return -ENOMEM;
		f->stats.corrupt++;
		emit(f, SYNACK_TRACE_CORRUPT, frame, len, now_us);
	}
	int copies = 1;
	if (u_dup < f->p.dup) {
		copies = 2;
		f->stats.dup++;
		emit(f, SYNACK_TRACE_DUP, frame, len, now_us);
	}
	if (u_reorder < f->p.reorder) {
		uint32_t d = f->p.reorder_delay_us ? f->p.reorder_delay_us : FAULT_DEFAULT_REORDER_US;
		f->stats.reorder++;
		emit(f, SYNACK_TRACE_REORDER, frame, len, now_us);
		for (int i = 0; i < copies; i++) {
			int err = hold(f, out, &m, now_us + d);
			if (err)
				return err;
		}
		return 0;
	}
	int rc = synack_link_send(f->inner, out, &m, now_us);
	if (copies == 2)
		(void)synack_link_send(f->inner, out, &m, now_us);
	return rc;
}

static ssize_t fault_recv(struct synack_link *l, uint8_t *buf, size_t cap,
			  struct synack_frame_meta *out, uint64_t now_us)
{
	struct fault_link *f = (struct fault_link *)l;
	release_due(f, now_us);
	return synack_link_recv(f->inner, buf, cap, out, now_us);
}

static uint64_t fault_next_arrival(struct synack_link *l)
{
	struct fault_link *f = (struct fault_link *)l;
	uint64_t t = synack_link_next_arrival(f->inner);
	if (f->n_held && f->held[0]->at < t)
		t = f->held[0]->at;
	return t;
}

static void fault_destroy(struct synack_link *l)
{
	struct fault_link *f = (struct fault_link *)l;
	for (size_t i = 0; i < f->n_held; i++)
		free(f->held[i]);
	free(f->held);
	free(f->scratch);
	synack_link_destroy(f->inner);
	free(f);
}

static void fault_flush(struct synack_link *l, uint64_t now_us)
{
	synack_link_flush(((struct fault_link *)l)->inner, now_us);
}

static const struct synack_link_ops fault_ops = {
	.flush = fault_flush,
	.send = fault_send,
	.recv = fault_recv,
	.next_arrival = fault_next_arrival,
	.destroy = fault_destroy,
};

/* ---- public ------------------------------------------------------------------------------- */

static bool prob_ok(double p)
{
	return p >= 0.0 && p <= 1.0; /* false for NaN too */
}

static int check_params(const struct synack_fault_params *p)
{
	if (!p || !prob_ok(p->loss) || !prob_ok(p->dup) || !prob_ok(p->reorder) ||
	    !prob_ok(p->corrupt))
		return -EINVAL;
	return 0;
}

int synack_fault_wrap(struct synack_link *inner, const struct synack_fault_params *p,
		      uint64_t seed, struct synack_link **out)
{
	if (!inner || !out)
		return -EINVAL;
	int err = check_params(p);
	if (err)
		return err;
	struct fault_link *f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->link.ops = &fault_ops;
	f->link.fd = inner->fd;
	f->link.caps = inner->caps; /* corruption keeps its promises: see the top of the file */
	f->inner = inner;
	f->p = *p;
	synack_rng_seed(&f->rng, seed);
	*out = &f->link;
	return 0;
}

int synack_fault_stats(const struct synack_link *l, struct synack_fault_stats *out)
{
	if (!l || l->ops != &fault_ops || !out)
		return -EINVAL;
	*out = ((const struct fault_link *)l)->stats;
	return 0;
}

int synack_fault_set_params(struct synack_link *l, const struct synack_fault_params *p)
{
	if (!l || l->ops != &fault_ops)
		return -EINVAL;
	int err = check_params(p);
	if (err)
		return err;
	((struct fault_link *)l)->p = *p;
	return 0;
}
