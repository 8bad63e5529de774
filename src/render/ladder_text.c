/* The ladder renderer's text backend: a ladder diagram for a 100-column terminal.
 *
 *      time (s)  client                                                                 server
 *                10.0.0.1                                                             10.0.0.2
 *      0.000000  SYN-SENT     |---------------- S seq=0 win=65535 ----------------->|
 *      0.010000               |<------------- S. seq=0 ack=1 win=65535 ---------------|  SYN-RECEIVED
 *
 * Columns: time (11), the left host's state (12), its lifeline, the arrow field (58), the
 * right host's lifeline and its state. One row per instant and thing drawn; a state change
 * shares the row of its host's send (or note) at the same instant. Arrows are drawn at their
 * send time; an arrival is implied by the arrow unless it is late (....>) or no host here
 * sent the segment (~~~~>). Rows are kept one behind so that a loss reported by the link at
 * the same instant turns the pending arrow into ---X (a frame held back: ---.....).
 *
 * A segment's options go on a line of their own under its arrow: a SYN's and SACK blocks in
 * the compact form (<mss 1460,sackOK,TS,wscale 7>, <TS,sack {1001:2001}>), or every
 * segment's in full with opts.verbose (which may run past the 100th column).
 *
 * With opts.max_rows, the first half of the rows are printed as they come and the last half
 * kept in a ring; the middle is replaced by a marker saying how many rows it held.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "render/ladder_backend.h"

#define TIME_W 11
#define SLOT_W 12
#define FIELD_W 58
#define LEFT_LINE (TIME_W + 2 + SLOT_W + 1) /* 26 */
#define RIGHT_LINE (LEFT_LINE + 1 + FIELD_W) /* 85 */
#define LINE_MAX 160
#define LABEL_MAX 128

enum field_kind { FIELD_NONE, FIELD_ARROW, FIELD_NOTE };

struct row {
	bool used;
	uint64_t t_us;
	char slot[2][SLOT_W + 8];
	enum field_kind kind;
	int actor;       /* the column whose doing the field shows, or OFFSTAGE */
	/* FIELD_ARROW */
	bool ltr;        /* left to right */
	char style;      /* '-' sent, '.' late arrival, '~' off the diagram */
	bool lost;       /* ends in X part-way */
	bool held;       /* the link held it back: dotted from part-way, drawn again on arrival */
	struct synack_endpoint src, dst;
	uint32_t seq, ack, len;
	uint8_t flags;
	/* FIELD_NOTE of a timer: a send of the same host at the same instant replaces it */
	bool timer_note;
	enum synack_timer_kind timer;
	/* FIELD_ARROW label, FIELD_NOTE text */
	char text[LABEL_MAX];
	char alt[LABEL_MAX]; /* FIELD_ARROW: the label without win=, for a shortened arrow */
	char opts[LABEL_MAX]; /* FIELD_ARROW: options, drawn on a line under the arrow */
	int note_side;   /* FIELD_NOTE: LEFT, RIGHT or OFFSTAGE (centred) */
};

struct text_state {
	struct row pending;
	bool header_done;
	bool has_last;
	uint64_t last_t; /* the time of the last row printed, for break marks */
	unsigned printed;    /* rows printed so far (head) */
	unsigned elided;
	char (*ring)[LINE_MAX];
	unsigned ring_cap, ring_len, ring_pos;
};

static int text_open(struct synack_ladder *l, void **state)
{
	struct text_state *ts = calloc(1, sizeof *ts);
	if (!ts)
		return -ENOMEM;
	unsigned max = synack_ladder_opts_of(l)->max_rows;
	if (max) {
		ts->ring_cap = max - max / 2;
		ts->ring = calloc(ts->ring_cap, sizeof *ts->ring);
		if (!ts->ring) {
			free(ts);
			return -ENOMEM;
		}
	}
	*state = ts;
	return 0;
}

static void text_close(void *state)
{
	struct text_state *ts = state;
	if (!ts)
		return;
	free(ts->ring);
	free(ts);
}

static void put_line(struct synack_ladder *l, const char *line)
{
	if (fputs(line, synack_ladder_opts_of(l)->out) == EOF ||
	    fputc('\n', synack_ladder_opts_of(l)->out) == EOF)
		synack_ladder_io_error(l);
}

/* Copies s into line at column col (no terminator handling: line is pre-filled). */
static void place(char *line, int col, const char *s, int maxw)
{
	int n = (int)strlen(s);
	if (n > maxw)
		n = maxw;
	if (col + n > LINE_MAX - 1)
		n = LINE_MAX - 1 - col;
	if (n > 0)
		memcpy(line + col, s, (size_t)n);
}

static void trim(char *line)
{
	int n = LINE_MAX - 1;
	line[n] = '\0';
	while (n > 0 && line[n - 1] == ' ')
		line[--n] = '\0';
}

static void blank_line(char *line)
{
	memset(line, ' ', LINE_MAX - 1);
	line[LINE_MAX - 1] = '\0';
}

static void header(struct synack_ladder *l)
{
	const struct synack_ladder_opts *o = synack_ladder_opts_of(l);
	char line[LINE_MAX], a[SYNACK_ADDR_STRLEN];
	if (o->title)
		put_line(l, o->title);
	put_line(l, o->absolute ? "seq/ack: absolute, as on the wire"
				: "seq/ack: relative to each direction's first sequence number (its ISN)");
	put_line(l, "----> sent (arrival implied)   --X lost by the link   ....> arrives late"
		    "   ~~~~> spoofed/injected");
	for (int pass = 0; pass < 2; pass++) {
		blank_line(line);
		if (pass == 0)
			place(line, 0, "   time (s)", TIME_W);
		for (int c = 0; c < 2; c++) {
			const char *name = synack_ladder_col_name(l, c);
			struct synack_addr addr = synack_ladder_col_addr(l, c);
			if (pass == 1 && !synack_addr_is_any(&addr)) {
				synack_addr_str(&addr, a, sizeof a);
				name = a;
			} else if (pass == 1) {
				name = NULL;
			}
			if (name)
				place(line, c == 0 ? TIME_W + 2 : RIGHT_LINE + 2, name, 30);
		}
		trim(line);
		put_line(l, line);
	}
}

static void draw_arrow(const struct row *r, char *field)
{
	int span = FIELD_W; /* cells the shaft covers, head included */
	const char *text = r->text;
	if (r->lost || r->held) {
		span = FIELD_W * 2 / 3;
		if ((int)strlen(text) > span - 10 && r->alt[0])
			text = r->alt;
	}
	int n = (int)strlen(text);
	if (r->lost || r->held) {
		if (span < n + 6)
			span = n + 6 < FIELD_W ? n + 6 : FIELD_W;
	}
	int start = r->ltr ? 0 : FIELD_W - span;
	if (r->held)
		memset(field, '.', FIELD_W);
	memset(field + start, r->style, (size_t)span);
	char end = r->lost ? 'X' : r->held ? '.' : r->ltr ? '>' : '<';
	field[r->ltr ? start + span - 1 : start] = end;
	if (n > span - 4)
		n = span - 4 > 0 ? span - 4 : 0;
	int at = start + (span - n) / 2;
	if (n > 0) {
		field[at - 1] = ' ';
		memcpy(field + at, text, (size_t)n);
		field[at + n] = ' ';
	}
}

static void draw_note(const struct row *r, char *field)
{
	int n = (int)strlen(r->text);
	if (n > FIELD_W - 2)
		n = FIELD_W - 2;
	int at = r->note_side == SYNACK_LADDER_LEFT	 ? 1
		 : r->note_side == SYNACK_LADDER_RIGHT ? FIELD_W - 1 - n
						       : (FIELD_W - n) / 2;
	memcpy(field + at, r->text, (size_t)n);
}

/* The options line under an arrow: lifelines, the options centred between them. */
static void format_opts_line(const struct row *r, char *line)
{
	blank_line(line);
	line[LEFT_LINE] = '|';
	line[RIGHT_LINE] = '|';
	int n = (int)strlen(r->opts);
	int at = n > FIELD_W - 2 ? LEFT_LINE + 2 : LEFT_LINE + 1 + (FIELD_W - n) / 2;
	place(line, at, r->opts, n);
	trim(line);
}

static void format_row(const struct row *r, char *line)
{
	char t[32];
	blank_line(line);
	snprintf(t, sizeof t, "%*llu.%06llu", TIME_W - 7, (unsigned long long)(r->t_us / 1000000),
		 (unsigned long long)(r->t_us % 1000000));
	place(line, 0, t, (int)strlen(t));
	place(line, TIME_W + 2, r->slot[0], SLOT_W);
	line[LEFT_LINE] = '|';
	line[RIGHT_LINE] = '|';
	if (r->kind == FIELD_ARROW)
		draw_arrow(r, line + LEFT_LINE + 1);
	else if (r->kind == FIELD_NOTE)
		draw_note(r, line + LEFT_LINE + 1);
	place(line, RIGHT_LINE + 2, r->slot[1], SLOT_W + 4);
	trim(line);
}

static void emit_line(struct synack_ladder *l, struct text_state *ts, const char *line)
{
	unsigned max = synack_ladder_opts_of(l)->max_rows;
	if (!max || ts->printed < max / 2) {
		put_line(l, line);
		ts->printed++;
		return;
	}
	if (ts->ring_len == ts->ring_cap)
		ts->elided++;
	else
		ts->ring_len++;
	snprintf(ts->ring[ts->ring_pos], LINE_MAX, "%s", line);
	ts->ring_pos = (ts->ring_pos + 1) % ts->ring_cap;
}

/* Rows are evenly spaced whatever the time between them: a long gap gets a line of its own
 * saying how long, with the lifelines broken, so a 60 s TIME-WAIT does not pass for 10 ms. */
static void break_mark(struct synack_ladder *l, struct text_state *ts, uint64_t t)
{
	uint64_t min = synack_ladder_opts_of(l)->break_us;
	if (!min)
		min = 1000000;
	bool gap = ts->has_last && t > ts->last_t && t - ts->last_t >= min;
	uint64_t d = gap ? t - ts->last_t : 0;
	ts->has_last = true;
	ts->last_t = t;
	if (!gap)
		return;
	char line[LINE_MAX], mark[64];
	blank_line(line);
	line[LEFT_LINE] = '~';
	line[RIGHT_LINE] = '~';
	snprintf(mark, sizeof mark, " ~ ~ ~  %.6g s later  ~ ~ ~ ", (double)d / 1e6);
	place(line, LEFT_LINE + 1 + (FIELD_W - (int)strlen(mark)) / 2, mark, FIELD_W);
	trim(line);
	emit_line(l, ts, line);
}

static void flush(struct synack_ladder *l, struct text_state *ts)
{
	char line[LINE_MAX];
	if (!ts->pending.used)
		return;
	if (!ts->header_done) {
		header(l);
		ts->header_done = true;
	}
	break_mark(l, ts, ts->pending.t_us);
	format_row(&ts->pending, line);
	emit_line(l, ts, line);
	if (ts->pending.kind == FIELD_ARROW && ts->pending.opts[0]) {
		format_opts_line(&ts->pending, line);
		emit_line(l, ts, line);
	}
	memset(&ts->pending, 0, sizeof ts->pending);
}

/* The row to draw into at t: the pending one when `fits` says so, else a fresh one. */
static struct row *row_at(struct synack_ladder *l, struct text_state *ts, uint64_t t, bool fits)
{
	if (ts->pending.used && ts->pending.t_us == t && fits)
		return &ts->pending;
	flush(l, ts);
	ts->pending.used = true;
	ts->pending.t_us = t;
	ts->pending.actor = SYNACK_LADDER_OFFSTAGE;
	return &ts->pending;
}

static void add_state(struct synack_ladder *l, struct text_state *ts,
		      const struct synack_ladder_item *it)
{
	int c = it->col;
	if (c < 0)
		return;
	/* A state change starts a row that the host's next send at the same instant joins
	 * (stacks trace the change before the segment that goes with it: SYN-SENT, then the
	 * SYN); it joins a row only if it holds nothing yet, or a note of the same host (an
	 * error, a timer). It never joins a send already drawn: the ACK sent just before a
	 * FIN does not belong to FIN-WAIT-1. */
	const struct row *p = &ts->pending;
	bool fits = !p->slot[c][0] && ((p->kind == FIELD_NONE && !p->slot[!c][0]) ||
				       (p->kind == FIELD_NOTE && p->actor == c));
	struct row *r = row_at(l, ts, it->ev->t_us, fits);
	/* A state inferred from a capture that did not show how it began gets a "?". */
	snprintf(r->slot[c], sizeof r->slot[c], "%s%s", synack_state_name(it->ev->to),
		 it->ev->uncertain ? "?" : "");
}

/* A field (arrow or note) done by column `actor` joins a pending row of the same instant that
 * has no field yet and no state change on the other side. */
static struct row *field_row(struct synack_ladder *l, struct text_state *ts, uint64_t t,
			     int actor)
{
	const struct row *p = &ts->pending;
	bool fits = p->kind == FIELD_NONE && actor >= 0 && !p->slot[!actor][0];
	struct row *r = row_at(l, ts, t, fits);
	r->actor = actor;
	return r;
}

static void add_note(struct synack_ladder *l, struct text_state *ts, uint64_t t, int side,
		     const char *text)
{
	struct row *r = field_row(l, ts, t, side);
	r->kind = FIELD_NOTE;
	r->note_side = side;
	snprintf(r->text, sizeof r->text, "%s", text);
}

/* The row for a send: a timer's note of the same host at the same instant gives way to the
 * send the timer caused (the label says "(retx)", or names the timer: "(keepalive)"). */
static struct row *send_row(struct synack_ladder *l, struct text_state *ts, uint64_t t,
			    int actor, char *why, size_t cap)
{
	struct row *p = &ts->pending;
	if (p->used && p->t_us == t && p->kind == FIELD_NOTE && p->timer_note &&
	    p->actor == actor && actor >= 0 && !p->slot[!actor][0]) {
		if (p->timer != SYNACK_TIMER_RETRANSMIT)
			snprintf(why, cap, " (%s)", synack_timer_name(p->timer));
		p->kind = FIELD_NONE;
		p->timer_note = false;
		return p;
	}
	return field_row(l, ts, t, actor);
}

static void add_arrow(struct synack_ladder *l, struct text_state *ts,
		      const struct synack_ladder_item *it, bool ltr, char style, const char *suffix)
{
	char label[96], ep[SYNACK_ADDR_STRLEN + 8], why[24] = "";
	const struct synack_ladder_opts *o = synack_ladder_opts_of(l);
	struct row *r = send_row(l, ts, it->ev->t_us, it->col, why, sizeof why);
	r->kind = FIELD_ARROW;
	r->ltr = ltr;
	r->style = style;
	r->src = it->src;
	r->dst = it->dst;
	r->seq = it->seg.seq;
	r->ack = it->seg.ack;
	r->len = (uint32_t)it->seg.len;
	r->flags = it->seg.flags;
	/* Name the far end when it is not on the diagram (a spoofed source, say). */
	const struct synack_endpoint *far = it->ev->kind == SYNACK_TRACE_TX ? &it->dst : &it->src;
	int far_col = it->ev->kind == SYNACK_TRACE_TX ? it->dst_col : it->src_col;
	char note[104] = "";
	/* the timer that caused the send already says what it is (a keepalive, a probe) */
	if (it->note[0] && !(why[0] && !it->ev->note))
		snprintf(note, sizeof note, " (%s)", it->note);
	/* Everything, and everything but the window: for when the arrow is too short. */
	for (int with_win = 1; with_win >= 0; with_win--) {
		char *out = with_win ? r->text : r->alt;
		synack_ladder_seg_label(it, o, with_win, label, sizeof label);
		snprintf(out, LABEL_MAX, "%s%s%s%s%s%s%s", label, it->retx ? " (retx)" : "", why,
			 note, suffix,
			 far_col < 0 ? (it->ev->kind == SYNACK_TRACE_TX ? " to " : " from ") : "",
			 far_col < 0 ? synack_endpoint_str(far, ep, sizeof ep) : "");
	}
	/* Leave a visible shaft on both sides of a full arrow. */
	if ((int)strlen(r->text) > FIELD_W - 10 && !o->verbose)
		memcpy(r->text, r->alt, sizeof r->text);
	r->opts[0] = '\0';
	if (o->verbose || (it->seg.flags & SYNACK_TH_SYN) || it->seg.opts.sack_count)
		synack_ladder_opts_label(it, o, false, r->opts, sizeof r->opts);
}

static bool same_segment(const struct row *r, const struct synack_ladder_item *it)
{
	return r->kind == FIELD_ARROW && synack_addr_eq(&r->src.addr, &it->src.addr) &&
	       r->src.port == it->src.port && synack_addr_eq(&r->dst.addr, &it->dst.addr) &&
	       r->dst.port == it->dst.port && r->seq == it->seg.seq && r->ack == it->seg.ack &&
	       r->flags == it->seg.flags && r->len == it->seg.len;
}

static void short_label(const struct synack_ladder_item *it, bool absolute, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s seq=%u", it->flags, absolute ? it->seg.seq : it->rel_seq);
}

static void add_send(struct synack_ladder *l, struct text_state *ts,
		     const struct synack_ladder_item *it)
{
	if (it->col < 0)
		return; /* a third host's sends are drawn when they arrive */
	add_arrow(l, ts, it, it->col == SYNACK_LADDER_LEFT, it->dst_col < 0 ? '~' : '-', "");
}

static void add_arrival(struct synack_ladder *l, struct text_state *ts,
			const struct synack_ladder_item *it)
{
	bool absolute = synack_ladder_opts_of(l)->absolute;
	char text[LABEL_MAX], lab[48];
	if (it->col < 0)
		return;
	bool ltr = it->col == SYNACK_LADDER_RIGHT;
	if (it->arrival == SYNACK_ARRIVAL_DELAYED)
		add_arrow(l, ts, it, ltr, '.', " (late)");
	else if (it->arrival == SYNACK_ARRIVAL_UNSENT)
		add_arrow(l, ts, it, ltr, '~', "");
	else if (it->arrival == SYNACK_ARRIVAL_PEER)
		add_arrow(l, ts, it, ltr, '-', "");
	if (it->ev->kind != SYNACK_TRACE_DROP)
		return;
	const char *reason = synack_drop_reason_name(it->ev->reason);
	if (it->has_seg) {
		short_label(it, absolute, lab, sizeof lab);
		snprintf(text, sizeof text, "drop %s: %s", lab, reason);
	} else {
		snprintf(text, sizeof text, "drop: %s", reason);
	}
	add_note(l, ts, it->ev->t_us, it->col, text);
}

static void add_link_event(struct synack_ladder *l, struct text_state *ts,
			   const struct synack_ladder_item *it)
{
	static const char *const what[] = {
		[SYNACK_TRACE_LOST] = "lost",
		[SYNACK_TRACE_DUP] = "duplicated",
		[SYNACK_TRACE_CORRUPT] = "corrupted",
		[SYNACK_TRACE_REORDER] = "held back",
	};
	char text[LABEL_MAX], lab[48] = "a frame";
	struct row *p = &ts->pending;
	bool merge = p->used && p->t_us == it->ev->t_us && same_segment(p, it) && !p->lost &&
		     !p->held;
	if (merge && it->ev->kind == SYNACK_TRACE_LOST) {
		p->lost = true;
		return;
	}
	if (merge && it->ev->kind == SYNACK_TRACE_REORDER) {
		p->held = true;
		return;
	}
	if (it->has_seg)
		short_label(it, synack_ladder_opts_of(l)->absolute, lab, sizeof lab);
	snprintf(text, sizeof text, "link %s %s", what[it->ev->kind], lab);
	add_note(l, ts, it->ev->t_us, SYNACK_LADDER_OFFSTAGE, text);
}

static void text_item(struct synack_ladder *l, void *state, const struct synack_ladder_item *it)
{
	struct text_state *ts = state;
	const struct synack_trace_event *ev = it->ev;
	char text[LABEL_MAX], ebuf[16];
	switch (ev->kind) {
	case SYNACK_TRACE_STATE:
		add_state(l, ts, it);
		break;
	case SYNACK_TRACE_TX:
		if (it->has_seg)
			add_send(l, ts, it);
		break;
	case SYNACK_TRACE_RX:
	case SYNACK_TRACE_DROP:
		add_arrival(l, ts, it);
		break;
	case SYNACK_TRACE_TIMER:
		/* Delayed-ACK timers are routine; the record (jsonl) has them. */
		if (ev->timer == SYNACK_TIMER_DELACK || it->col < 0)
			break;
		snprintf(text, sizeof text, "%s timer", synack_timer_name(ev->timer));
		add_note(l, ts, ev->t_us, it->col, text);
		ts->pending.timer_note = true;
		ts->pending.timer = ev->timer;
		break;
	case SYNACK_TRACE_NOTE:
		add_note(l, ts, ev->t_us, SYNACK_LADDER_OFFSTAGE, ev->note ? ev->note : "");
		break;
	case SYNACK_TRACE_ERROR:
		if (it->col < 0)
			break;
		snprintf(text, sizeof text, "error %s", synack_errno_name(ev->err, ebuf, sizeof ebuf));
		add_note(l, ts, ev->t_us, it->col, text);
		break;
	case SYNACK_TRACE_LOST:
	case SYNACK_TRACE_DUP:
	case SYNACK_TRACE_CORRUPT:
	case SYNACK_TRACE_REORDER:
		add_link_event(l, ts, it);
		break;
	default:
		break;
	}
}

static void text_finish(struct synack_ladder *l, void *state)
{
	struct text_state *ts = state;
	char line[LINE_MAX], mark[64];
	flush(l, ts);
	if (ts->elided) {
		blank_line(line);
		place(line, TIME_W - 3, "...", 3);
		line[LEFT_LINE] = ':';
		line[RIGHT_LINE] = ':';
		snprintf(mark, sizeof mark, " %u rows elided ", ts->elided);
		place(line, LEFT_LINE + 1 + (FIELD_W - (int)strlen(mark)) / 2, mark, FIELD_W);
		trim(line);
		put_line(l, line);
	}
	unsigned first = ts->ring_len == ts->ring_cap ? ts->ring_pos : 0;
	for (unsigned i = 0; i < ts->ring_len; i++)
		put_line(l, ts->ring[(first + i) % ts->ring_cap]);
	ts->ring_len = 0;
}

const struct synack_ladder_backend synack_ladder_text_backend = {
	.name = "text",
	.open = text_open,
	.item = text_item,
	.finish = text_finish,
	.close = text_close,
};
