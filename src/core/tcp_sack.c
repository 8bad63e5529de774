/* The sender's SACK scoreboard (RFC 2018, used as RFC 6675 §4 intends, simplified): the
 * ranges above SND.UNA that the peer reported holding. A retransmission after a timeout skips
 * them instead of sending everything from SND.UNA again. The scoreboard is a fixed array in
 * the TCB (no allocation); when it is full, further blocks are ignored (more is resent). A
 * receiver may renege on SACKed data (RFC 2018 §8), so a second consecutive timeout forgets
 * the scoreboard and resends everything. */
#include "core/tcb.h"

bool sack_update(struct synack_tcb *c, const struct synack_tcp_opts *o)
{
	if (!c->sack_ok)
		return false;
	bool news = false;
	for (uint8_t i = 0; i < o->sack_count && i < 4; i++) {
		seq_t l = o->sack[i].left, r = o->sack[i].right;
		/* Only blocks strictly above SND.UNA and within what was sent (a D-SACK or a bogus
		 * block is ignored). */
		if (!seq_lt(l, r) || !seq_gt(l, c->snd_una) || seq_gt(r, c->snd_max))
			continue;
		uint32_t room;
		if (seq_ge(sack_skip(c, l, &room), r))
			continue; /* nothing new */
		news |= ooo_add(&c->sacked, l, r);
	}
	return news;
}

void sack_trim(struct synack_tcb *c)
{
	while (c->sacked.n && seq_le(c->sacked.r[0].end, c->snd_una))
		ooo_advance(&c->sacked, c->sacked.r[0].start);
	if (c->sacked.n && seq_lt(c->sacked.r[0].start, c->snd_una))
		c->sacked.r[0].start = c->snd_una;
}

seq_t sack_skip(const struct synack_tcb *c, seq_t seq, uint32_t *room)
{
	*room = UINT32_MAX;
	for (uint32_t i = 0; i < c->sacked.n; i++) {
		const struct synack_ooo_range *r = &c->sacked.r[i];
		if (seq_lt(seq, r->start)) {
			*room = (uint32_t)seq_diff(r->start, seq);
			return seq;
		}
		if (seq_lt(seq, r->end))
			seq = r->end;
	}
	return seq;
}

/* RFC 6675 §5, simplified: during fast recovery each arriving ACK lets one more hole go, the
 * first data after the last one sent that the peer has not SACKed, below the highest SACKed
 * sequence number (data above it may simply still be in flight). */
void sack_recovery_step(struct synack_stack *s, struct synack_tcb *c)
{
	if (!c->in_recovery || c->sacked.n == 0)
		return;
	seq_t high = c->sacked.r[c->sacked.n - 1].end;
	if (seq_lt(c->snd_hole, c->snd_una))
		c->snd_hole = c->snd_una;
	uint32_t room;
	seq_t seq = sack_skip(c, c->snd_hole, &room);
	if (!seq_lt(seq, high))
		return;
	uint32_t len = (uint32_t)seq_diff(high, seq);
	if (len > room)
		len = room;
	c->snd_hole = tcp_retransmit_at(s, c, seq, len);
}
