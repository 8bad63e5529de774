/* The sender's SACK scoreboard (RFC 2018) and loss recovery with it: RFC 6675 (IsLost, the
 * pipe estimate, NextSeg() with the rescue retransmission) paced by Proportional Rate
 * Reduction (RFC 6937). The scoreboard holds the ranges above SND.UNA that the peer reported
 * holding. A retransmission after a timeout skips
 * them instead of sending everything from SND.UNA again. The scoreboard is an array of
 * SYNACK_SACK_RANGES ranges taken from the allocator with the first SACK block and given back
 * when SND.UNA has passed them all (most connections never hold one); when it is full,
 * further blocks are ignored (more is resent). A
 * receiver may renege on SACKed data (RFC 2018 §8), so a second consecutive timeout forgets
 * the scoreboard and resends everything. */
#include "core/tcb.h"

static size_t sack_bytes_of(uint32_t cap) { return cap * sizeof(struct synack_ooo_range); }

void sack_clear(struct synack_stack *s, struct synack_tcb *c)
{
	if (c->fl->sacked.r)
		stack_free(s, c->fl->sacked.r, sack_bytes_of(c->fl->sacked.cap));
	c->fl->sacked.r = NULL;
	c->fl->sacked.n = c->fl->sacked.cap = 0;
}

static bool sack_take(struct synack_stack *s, struct synack_tcb *c)
{
	if (c->fl->sacked.r)
		return true;
	c->fl->sacked.r = stack_alloc(s, sack_bytes_of(SYNACK_SACK_RANGES));
	if (!c->fl->sacked.r)
		return false;
	c->fl->sacked.cap = SYNACK_SACK_RANGES;
	c->fl->sacked.n = 0;
	return true;
}

bool sack_update(struct synack_stack *s, struct synack_tcb *c, const struct synack_tcp_opts *o)
{
	if (!c->sack_ok || o->sack_count == 0)
		return false;
	bool news = false;
	for (uint8_t i = 0; i < o->sack_count && i < 4; i++) {
		seq_t l = o->sack[i].left, r = o->sack[i].right;
		/* Only blocks strictly above SND.UNA and within what was sent (a D-SACK or a bogus
		 * block is ignored). */
		if (!seq_lt(l, r) || !seq_gt(l, c->snd_una) || seq_gt(r, c->fl->snd_max))
			continue;
		uint32_t room;
		if (seq_ge(sack_skip(c, l, &room), r))
			continue; /* nothing new */
		if (!sack_take(s, c))
			break;
		news |= ooo_add(&c->fl->sacked, l, r);
	}
	return news;
}

bool sack_dsack(const struct synack_tcb *c, const struct synack_tcp_opts *o, seq_t *l, seq_t *r)
{
	if (!c->sack_ok || o->sack_count == 0)
		return false;
	*l = o->sack[0].left;
	*r = o->sack[0].right;
	if (!seq_lt(*l, *r))
		return false;
	/* RFC 2883 §4: the first block is a D-SACK when it lies below the cumulative ACK or
	 * inside the second block. */
	if (seq_le(*r, c->snd_una))
		return true;
	return o->sack_count > 1 && seq_ge(*l, o->sack[1].left) && seq_le(*r, o->sack[1].right);
}

void sack_trim(struct synack_stack *s, struct synack_tcb *c)
{
	rack_trim(c);
	while (c->fl->sacked.n && seq_le(c->fl->sacked.r[0].end, c->snd_una))
		ooo_advance(&c->fl->sacked, c->fl->sacked.r[0].start);
	if (c->fl->sacked.n && seq_lt(c->fl->sacked.r[0].start, c->snd_una))
		c->fl->sacked.r[0].start = c->snd_una;
	if (c->fl->sacked.n == 0 && c->fl->sacked.r)
		sack_clear(s, c);
}

seq_t sack_skip(const struct synack_tcb *c, seq_t seq, uint32_t *room)
{
	*room = UINT32_MAX;
	for (uint32_t i = 0; i < c->fl->sacked.n; i++) {
		const struct synack_ooo_range *r = &c->fl->sacked.r[i];
		if (seq_lt(seq, r->start)) {
			*room = (uint32_t)seq_diff(r->start, seq);
			return seq;
		}
		if (seq_lt(seq, r->end))
			seq = r->end;
	}
	return seq;
}

uint32_t sack_bytes(const struct synack_tcb *c)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < c->fl->sacked.n; i++)
		n += (uint32_t)seq_diff(c->fl->sacked.r[i].end, c->fl->sacked.r[i].start);
	return n;
}

/* RFC 6675 §4 IsLost(SeqNum): "DupThresh discontiguous SACKed sequences" above it, or "more
 * than (DupThresh - 1) * SMSS bytes" SACKed above it (DupThresh 3). The unSACKed data below
 * the returned boundary is lost; above it, it may still be in flight. */
static seq_t lost_end(const struct synack_tcb *c)
{
	if (seq_gt(c->fl->lost_mark, c->snd_una) && seq_le(c->fl->lost_mark, c->fl->snd_max))
		return c->fl->lost_mark; /* a delivered tail-loss probe (tcp_ack.c) */
	uint32_t above = 0;
	for (uint32_t i = c->fl->sacked.n; i-- > 0;) {
		above += (uint32_t)seq_diff(c->fl->sacked.r[i].end, c->fl->sacked.r[i].start);
		if (above > 2u * c->snd_mss || c->fl->sacked.n - i >= 3)
			return c->fl->sacked.r[i].start;
	}
	return c->snd_una;
}

/* UnSACKed bytes in [snd_una, end). */
static uint32_t unsacked_below(const struct synack_tcb *c, seq_t end)
{
	if (!seq_gt(end, c->snd_una))
		return 0;
	uint32_t n = (uint32_t)seq_diff(end, c->snd_una);
	for (uint32_t i = 0; i < c->fl->sacked.n && seq_lt(c->fl->sacked.r[i].start, end); i++) {
		seq_t e = seq_lt(c->fl->sacked.r[i].end, end) ? c->fl->sacked.r[i].end : end;
		n -= (uint32_t)seq_diff(e, c->fl->sacked.r[i].start);
	}
	return n;
}

uint32_t tcp_pipe(const struct synack_tcb *c)
{
	uint32_t flight = (uint32_t)seq_diff(c->snd_nxt, c->snd_una);
	if (!c->sack_ok || !c->in_recovery)
		return flight;
	/* RFC 6675 §4 SetPipe: an unSACKed octet counts once unless it is lost, and once more
	 * if it was retransmitted (below HighRxt, snd_hole). */
	uint32_t unsacked = flight - sack_bytes(c);
	if (c->fl->rack.n) {
		/* With the RACK log (as Linux's packets_out - sacked_out - lost_out +
		 * retrans_out): data marked lost and not sent again is not in the network. */
		uint32_t lost = rack_lost_bytes(c);
		return unsacked > lost ? unsacked - lost : 0;
	}
	uint32_t lost = unsacked_below(c, lost_end(c));
	return unsacked - lost + unsacked_below(c, seq_min(c->fl->snd_hole, c->snd_nxt));
}

void sack_recovery_enter(struct synack_tcb *c)
{
	c->fl->prr_delivered = 0;
	c->fl->prr_out = 0;
	c->fl->recover_fs = (uint32_t)seq_diff(c->fl->snd_max, c->snd_una);
	c->fl->snd_hole = c->snd_una; /* HighRxt */
	c->fl->rescue_rxt = c->snd_una;
}

/* RFC 6937 §3: on every ACK in recovery, how much may be sent: proportional to what was
 * delivered while pipe is above ssthresh, then slow start up to ssthresh limited by what was
 * delivered (PRR-SSRB); the first retransmission always goes (as Linux's tcp_cwnd_reduction).
 * The result is cwnd = pipe + sndcnt. */
void sack_prr_ack(struct synack_tcb *c, uint32_t delivered)
{
	c->fl->prr_delivered += delivered;
	uint32_t pipe = tcp_pipe(c), ssthresh = c->fl->cc.ssthresh;
	int64_t sndcnt;
	if (pipe > ssthresh) {
		uint64_t num = (uint64_t)c->fl->prr_delivered * ssthresh;
		uint32_t fs = c->fl->recover_fs ? c->fl->recover_fs : 1;
		sndcnt = (int64_t)((num + fs - 1) / fs) - c->fl->prr_out; /* CEIL() */
	} else {
		int64_t d = (int64_t)c->fl->prr_delivered - c->fl->prr_out;
		int64_t limit = (d > delivered ? d : (int64_t)delivered) + c->snd_mss;
		sndcnt = (int64_t)(ssthresh - pipe) < limit ? (int64_t)(ssthresh - pipe) : limit;
	}
	if (sndcnt < 0)
		sndcnt = 0;
	if (c->fl->prr_out == 0 && sndcnt < c->snd_mss)
		sndcnt = c->snd_mss;
	c->fl->cc.cwnd = pipe + (uint32_t)sndcnt;
}

/* RFC 6675 §4 NextSeg(): (1) the first unSACKed data above HighRxt that IsLost; (2) new
 * data (the caller sends it: returns false with *new_data); (3) any unSACKed data above
 * HighRxt below the highest SACKed byte; (4) once per recovery, the rescue retransmission of
 * the segment holding the highest unSACKed byte. *len: at most this many bytes. */
static bool next_seg(const struct synack_tcb *c, seq_t *seq, uint32_t *len, bool *rescue)
{
	*rescue = false;
	seq_t high = c->fl->sacked.n ? c->fl->sacked.r[c->fl->sacked.n - 1].end : c->snd_una;
	uint32_t room;
	seq_t s2 = sack_skip(c, seq_max(c->fl->snd_hole, c->snd_una), &room);
	if (c->fl->rack.n && rack_first_lost(c, seq, len)) /* rule 1, RACK's marks */
		return true;
	if (!c->fl->rack.n && seq_lt(s2, lost_end(c))) { /* rule 1 */
		*seq = s2;
		*len = room;
		return true;
	}
	if (tcp_new_data_room(c))
		return false; /* rule 2 */
	if (seq_lt(s2, high)) { /* rule 3 */
		*seq = s2;
		*len = room;
		return true;
	}
	/* Below HighData (SND.MAX): the queue may hold much more than was ever sent (a send
	 * buffer that grew with cwnd), and none of that may go out as a "retransmission". */
	seq_t data_end = seq_add(c->fl->snd_buf_seq, c->fl->sndq.len);
	if (seq_gt(data_end, c->fl->snd_max))
		data_end = c->fl->snd_max;
	if (!seq_gt(high, c->fl->rescue_rxt) || !seq_lt(high, c->fl->snd_max) ||
	    seq_lt(data_end, seq_max(high, c->snd_una)))
		return false;
	uint32_t n = (uint32_t)seq_diff(data_end, seq_max(high, c->snd_una));
	n = n < c->snd_mss ? n : c->snd_mss;
	*seq = data_end - n; /* rule 4: the highest unSACKed data (with the FIN, if sent) */
	*len = n ? n : 1;
	*rescue = true;
	return true;
}

void sack_mark_lost(struct synack_tcb *c)
{
	if (c->fl->rack.n)
		rack_mark_lost(c, lost_end(c), false);
}

void sack_recovery_send(struct synack_stack *s, struct synack_tcb *c)
{
	if (!c->in_recovery || !c->sack_ok)
		return;
	sack_mark_lost(c);
	/* RFC 6675 §5 (C.4): "incrementing pipe by the number of octets transmitted". */
	uint32_t pipe = tcp_pipe(c);
	while (pipe < c->fl->cc.cwnd) {
		seq_t seq, before = c->snd_nxt;
		uint32_t len;
		bool rescue;
		if (!next_seg(c, &seq, &len, &rescue)) {
			if (!tcp_output_one(s, c))
				return;
			uint32_t sent = (uint32_t)seq_diff(c->snd_nxt, before);
			c->fl->prr_out += sent;
			pipe += sent;
			continue;
		}
		seq_t end = tcp_retransmit_at(s, c, seq, len);
		if (end == seq)
			return;
		c->fl->prr_out += (uint32_t)seq_diff(end, seq);
		pipe += (uint32_t)seq_diff(end, seq);
		if (rescue) /* "RescueRxt = RecoveryPoint"; SND.MAX here, since data sent during
			     * recovery and SACKed would lift HighACK past RecoveryPoint and allow
			     * a rescue on every ACK: one per recovery, as the RFC means it. */
			c->fl->rescue_rxt = c->fl->snd_max;
		else if (seq_lt(c->fl->snd_hole, end))
			c->fl->snd_hole = end;
	}
}
