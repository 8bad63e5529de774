/* RACK (RFC 8985): loss detection by time. Every transmission of data is logged with its
 * moment (the log, `struct rack_log` in the tcb: ranges of sequence space sent together, in
 * sequence order, covering [SND.UNA, SND.MAX)); when an ACK or a SACK delivers data, any
 * unSACKed data sent before the delivered data's latest transmission is lost once it has
 * been out longer than RACK.rtt plus a reordering window:
 *
 *   "Segment.xmit_ts + RACK.rtt + RACK.reo_wnd - Now() <= 0" (RFC 8985 §6.2, step 5)
 *
 * The reordering window is Linux's (tcp_rack_reo_wnd): zero in recovery, or once DupThresh
 * segments are SACKed, while no reordering has been seen; otherwise min_RTT/4 times a step
 * count that grows by one for every round in which a D-SACK arrives (RFC 8985 §6.2 step 4,
 * Linux's tcp_rack_update_reo_wnd), back to one after 16 recoveries without one; never more
 * than SRTT. Data not yet past its window arms the REO timer at the moment it will be.
 *
 * Unlike RFC 6675's IsLost, RACK also finds a retransmission that was lost again: it was
 * sent before the data whose delivery now shows it missing. The log marks such data LOST
 * until it is sent again (tcp_sack.c then retransmits it before anything else).
 *
 * The log is allocated with the first data sent, grows by doubling up to RACK_LOG_MAX
 * ranges, and is freed with the buffers; past the limit (or without memory) new data joins
 * the last range, taking its later moment (a later loss mark, never an earlier one). */
#include "core/tcb.h"

#define RACK_LOG_MIN 32
#define RACK_LOG_MAX 8192

void rack_free(struct synack_stack *s, struct synack_tcb *c)
{
	stack_free(s, c->fl->rack.seg, c->fl->rack.cap * sizeof c->fl->rack.seg[0]);
	c->fl->rack.seg = NULL;
	c->fl->rack.n = c->fl->rack.cap = 0;
}

static bool rack_grow(struct synack_stack *s, struct synack_tcb *c)
{
	struct rack_log *r = &c->fl->rack;
	uint32_t cap = r->cap ? 2 * r->cap : RACK_LOG_MIN;
	if (cap > RACK_LOG_MAX)
		return false;
	struct rack_seg *p = stack_alloc(s, cap * sizeof *p);
	if (!p)
		return false;
	for (uint32_t i = 0; i < r->n; i++)
		p[i] = r->seg[i];
	stack_free(s, r->seg, r->cap * sizeof r->seg[0]);
	r->seg = p;
	r->cap = cap;
	return true;
}

/* Room for k more ranges; false when there is none (the caller coarsens). */
static bool rack_room(struct synack_stack *s, struct synack_tcb *c, uint32_t k)
{
	while (c->fl->rack.n + k > c->fl->rack.cap)
		if (!rack_grow(s, c))
			return false;
	return true;
}

/* The index of the range holding seq, or n. */
/* The index of the first range that ends after seq (n: none). The ranges are in sequence
 * order and contiguous: a binary search. */
static uint32_t rack_lower(const struct rack_log *r, seq_t seq)
{
	uint32_t lo = 0, hi = r->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (seq_lt(seq, r->seg[mid].end))
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static uint32_t rack_find(const struct rack_log *r, seq_t seq)
{
	uint32_t i = rack_lower(r, seq);
	return i < r->n && seq_ge(seq, r->seg[i].start) ? i : r->n;
}

/* Splits the range holding seq so that a range starts at seq (when there is room). */
static void rack_split(struct synack_stack *s, struct synack_tcb *c, seq_t seq)
{
	struct rack_log *r = &c->fl->rack;
	uint32_t i = rack_find(r, seq);
	if (i == r->n || r->seg[i].start == seq || !rack_room(s, c, 1))
		return;
	for (uint32_t j = r->n; j > i; j--)
		r->seg[j] = r->seg[j - 1];
	r->n++;
	r->seg[i].end = seq;
	r->seg[i + 1].start = seq;
}

void rack_on_send(struct synack_stack *s, struct synack_tcb *c, seq_t seq, seq_t end, bool retx)
{
	struct rack_log *r = &c->fl->rack;
	if (!seq_lt(seq, end) || !(s->cfg.recovery & 1) || !c->sack_ok)
		return;
	if (!retx || r->n == 0 || !seq_lt(seq, r->seg[r->n - 1].end)) {
		/* New data (after SND.MAX). Sent in the same call as the last range: joins it. */
		struct rack_seg *last = r->n ? &r->seg[r->n - 1] : NULL;
		if (last && last->xmit_us == s->now_us && !last->flags && last->end == seq) {
			last->end = end;
			return;
		}
		if (!rack_room(s, c, 1)) {
			if (last) {
				last->end = end;
				last->xmit_us = s->now_us;
			}
			return;
		}
		r->seg[r->n++] = (struct rack_seg){.start = seq, .end = end, .xmit_us = s->now_us};
		return;
	}
	/* A retransmission: [seq, end) gets this moment, RTX, and is no longer LOST. */
	rack_split(s, c, seq);
	rack_split(s, c, end);
	for (uint32_t i = rack_find(r, seq); i < r->n && seq_lt(r->seg[i].start, end); i++) {
		r->seg[i].xmit_us = s->now_us;
		r->seg[i].flags = (uint8_t)((r->seg[i].flags & RACK_SACKED) | RACK_RTX);
	}
}

void rack_trim(struct synack_tcb *c)
{
	struct rack_log *r = &c->fl->rack;
	uint32_t k = 0;
	while (k < r->n && seq_le(r->seg[k].end, c->snd_una))
		k++;
	if (k) {
		for (uint32_t i = k; i < r->n; i++)
			r->seg[i - k] = r->seg[i];
		r->n -= k;
	}
	if (r->n && seq_lt(r->seg[0].start, c->snd_una))
		r->seg[0].start = c->snd_una;
}

/* RFC 8985 §6.2 step 2 (RACK_update) for one delivered range. */
static void rack_deliver(struct synack_stack *s, struct synack_tcb *c, const struct rack_seg *g,
			 uint32_t ecr)
{
	struct rack_log *r = &c->fl->rack;
	uint64_t rtt = s->now_us - g->xmit_us;
	/* "If Segment.retransmitted is TRUE and ACK.ts_option.echo_reply < Segment.xmit_ts
	 * [or] RACK.rtt < RACK.min_RTT": the ACK is (or may be) for the original
	 * transmission; it says nothing about this one. */
	if ((g->flags & RACK_RTX) && r->min_rtt_us && rtt < r->min_rtt_us)
		return;
	if ((g->flags & RACK_RTX) && ecr &&
	    seq_lt(ecr, (uint32_t)(g->xmit_us / 1000) + c->ts_offset))
		return;
	if (!(g->flags & RACK_RTX) && (!r->min_rtt_us || rtt < r->min_rtt_us))
		r->min_rtt_us = rtt ? (uint32_t)(rtt < UINT32_MAX ? rtt : UINT32_MAX) : 1;
	/* RACK_sent_after(Segment.xmit_ts, Segment.end_seq, RACK.xmit_ts, RACK.end_seq) */
	if (g->xmit_us > r->xmit_us || (g->xmit_us == r->xmit_us && seq_gt(g->end, r->end_seq))) {
		r->xmit_us = g->xmit_us;
		r->end_seq = g->end;
		r->rtt_us = rtt < UINT32_MAX ? (uint32_t)rtt : UINT32_MAX;
		r->valid = true;
	}
	/* Step 3: data delivered below the highest delivered, never retransmitted, came out of
	 * order. */
	if (!(g->flags & RACK_RTX) && r->fack_valid && seq_lt(g->end, r->fack))
		r->reord_seen = true;
	if (!r->fack_valid || seq_gt(g->end, r->fack)) {
		r->fack = g->end;
		r->fack_valid = true;
	}
}

void rack_on_ack(struct synack_stack *s, struct synack_tcb *c, seq_t ack, uint32_t ecr)
{
	struct rack_log *r = &c->fl->rack;
	/* Ranges split at the scoreboard's edges, so each is wholly SACKed or not. */
	for (uint32_t i = 0; i < c->fl->sacked.n; i++) {
		rack_split(s, c, c->fl->sacked.r[i].start);
		rack_split(s, c, c->fl->sacked.r[i].end);
	}
	/* What the cumulative ACK covers (a prefix), then what each SACKed range covers. */
	uint32_t i = 0;
	for (; i < r->n && seq_le(r->seg[i].end, ack); i++)
		if (!(r->seg[i].flags & RACK_SACKED))
			rack_deliver(s, c, &r->seg[i], ecr);
	for (uint32_t k = 0; k < c->fl->sacked.n; k++) {
		seq_t end = c->fl->sacked.r[k].end;
		for (uint32_t j = rack_lower(r, c->fl->sacked.r[k].start); j < r->n; j++) {
			struct rack_seg *g = &r->seg[j];
			if (j < i || seq_lt(g->start, c->fl->sacked.r[k].start))
				continue;
			if (seq_gt(g->end, end))
				break;
			if (g->flags & RACK_SACKED)
				continue;
			g->flags = (uint8_t)(g->flags | RACK_SACKED);
			rack_deliver(s, c, g, ecr);
		}
	}
}

void rack_on_dsack(struct synack_tcb *c, seq_t l)
{
	struct rack_log *r = &c->fl->rack;
	/* Data received twice below the highest delivered: the retransmission was not needed,
	 * the original came out of order (Linux: a D-SACKed retransmission moves state->reord,
	 * tcp_check_sack_reordering). */
	if (r->fack_valid && seq_lt(l, r->fack))
		r->reord_seen = true;
	/* One step per round trip with D-SACKs (Linux: dsack_seen, rack.last_delivered). */
	if (r->dsack_round_on && seq_lt(c->snd_una, r->dsack_round))
		return;
	r->dsack_round = c->fl->snd_max;
	r->dsack_round_on = true;
	if (r->steps == 0)
		r->steps = 1; /* a new connection's multiplier (tcb_new zeroes it) */
	if (r->steps < 255)
		r->steps++;
	r->persist = 16;
}

void rack_recovery_exit(struct synack_tcb *c)
{
	struct rack_log *r = &c->fl->rack;
	if (r->persist && --r->persist == 0)
		r->steps = 1;
}

uint32_t rack_reo_wnd(const struct synack_tcb *c)
{
	const struct rack_log *r = &c->fl->rack;
	if (!r->reord_seen) {
		if (c->in_recovery)
			return 0;
		uint32_t sacked = sack_bytes(c);
		if (c->snd_mss && sacked >= 3u * c->snd_mss)
			return 0;
	}
	uint64_t w = (uint64_t)(r->min_rtt_us / 4) * (r->steps ? r->steps : 1);
	return (uint32_t)(w < c->srtt_us ? w : c->srtt_us);
}

bool rack_detect_loss(struct synack_stack *s, struct synack_tcb *c, uint64_t *timeout_us)
{
	struct rack_log *r = &c->fl->rack;
	bool marked = false;
	*timeout_us = 0;
	if (!r->valid || !c->sack_ok)
		return false;
	uint64_t reo = rack_reo_wnd(c);
	/* New data goes out in sequence order, so without retransmissions in the log the
	 * first range sent after the latest delivered one ends the search (Linux walks its
	 * time-ordered list the same way). */
	bool any_rtx = false;
	for (uint32_t i = 0; i < r->n && !any_rtx; i++)
		any_rtx = (r->seg[i].flags & RACK_RTX) != 0;
	for (uint32_t i = 0; i < r->n; i++) {
		struct rack_seg *g = &r->seg[i];
		/* Only data sent before the latest delivered transmission. */
		if (g->xmit_us > r->xmit_us || (g->xmit_us == r->xmit_us && !seq_lt(g->end, r->end_seq))) {
			if (!any_rtx)
				break;
			continue;
		}
		if (g->flags & (RACK_SACKED | RACK_LOST))
			continue;
		uint64_t due = g->xmit_us + r->rtt_us + reo;
		if (due <= s->now_us) {
			g->flags = (uint8_t)((g->flags & ~RACK_RTX) | RACK_LOST);
			marked = true;
		} else if (due - s->now_us > *timeout_us) {
			*timeout_us = due - s->now_us;
		}
	}
	return marked;
}

void rack_mark_lost(struct synack_tcb *c, seq_t end, bool all)
{
	struct rack_log *r = &c->fl->rack;
	for (uint32_t i = 0; i < r->n && seq_lt(r->seg[i].start, end); i++) {
		struct rack_seg *g = &r->seg[i];
		if (g->flags & RACK_SACKED)
			continue;
		if (!all && (g->flags & (RACK_RTX | RACK_LOST)))
			continue;
		g->flags = (uint8_t)((g->flags & ~RACK_RTX) | RACK_LOST);
	}
}

bool rack_first_lost(const struct synack_tcb *c, seq_t *seq, uint32_t *len)
{
	const struct rack_log *r = &c->fl->rack;
	for (uint32_t i = 0; i < r->n; i++) {
		const struct rack_seg *g = &r->seg[i];
		if ((g->flags & (RACK_LOST | RACK_SACKED)) != RACK_LOST)
			continue;
		uint32_t room;
		seq_t at = sack_skip(c, seq_max(g->start, c->snd_una), &room);
		if (!seq_lt(at, g->end))
			continue;
		uint32_t n = (uint32_t)seq_diff(g->end, at);
		*seq = at;
		*len = n < room ? n : room;
		return true;
	}
	return false;
}

uint32_t rack_lost_bytes(const struct synack_tcb *c)
{
	const struct rack_log *r = &c->fl->rack;
	uint32_t n = 0;
	for (uint32_t i = 0; i < r->n; i++)
		if ((r->seg[i].flags & (RACK_LOST | RACK_SACKED)) == RACK_LOST)
			n += (uint32_t)seq_diff(r->seg[i].end, seq_max(r->seg[i].start, c->snd_una));
	return n;
}

bool rack_any_rtx_below(const struct synack_tcb *c, seq_t end, uint64_t *newest_us)
{
	const struct rack_log *r = &c->fl->rack;
	bool any = false;
	*newest_us = 0;
	for (uint32_t i = 0; i < r->n && seq_lt(r->seg[i].start, end); i++) {
		if (!(r->seg[i].flags & RACK_RTX))
			continue;
		any = true;
		if (r->seg[i].xmit_us > *newest_us)
			*newest_us = r->seg[i].xmit_us;
	}
	return any;
}
