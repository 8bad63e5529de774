/* The time-sequence graph's companions (tsg.h): bytes in flight, RTT samples and throughput of
 * one direction of a connection, from the records a capture kept, on one time axis.
 *
 *   cwnd        from a trace of a synack stack that is the sender (rec.cc): its congestion
 *               window and slow-start threshold as step lines, with its own bytes in flight
 *               (SND.NXT - SND.UNA); replaces the estimate below when there is one;
 *   in flight   the highest sequence sent minus the highest ACK received, after every
 *               segment: from a capture, the closest one gets to the sender's congestion
 *               window (RFC 5681 §2: "FlightSize");
 *   RTT         a data segment's send to the first ACK at or past its end; Karn's algorithm
 *               (RFC 6298 §3): no sample for a range that was retransmitted;
 *   throughput  bytes newly acknowledged per interval (1/60 of the span), in bit/s.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "render/svg_ladder.h"
#include "render/tsg.h"
#include "util/seq.h"

#define ML 90.0
#define MR 30.0
#define PANEL_H 170.0
#define PANEL_GAP 30.0
#define TOP 40.0
#define BINS 60
#define PENDING 4096

struct point {
	uint64_t t;
	double v;
};

struct series {
	struct point *p;
	size_t n, cap;
};

static int push(struct series *s, uint64_t t, double v)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct point *p = realloc(s->p, cap * sizeof *p);
		if (!p)
			return -ENOMEM;
		s->p = p;
		s->cap = cap;
	}
	s->p[s->n++] = (struct point){t, v};
	return 0;
}

struct sent {
	int64_t end;
	uint64_t t;
	bool retx; /* this range went out again: no sample (Karn) */
};

struct more {
	int dir;
	int64_t seq_last, ack_last;
	uint32_t seq_raw, ack_raw;
	bool has_seq, has_ack;
	int64_t snd_max, acked;
	struct series inflight, rtt, acks; /* acks: (t, bytes newly acknowledged) */
	/* From a trace of the sender's own stack (rec.cc): what it reported, not an estimate.
	 * ssthresh is NAN while unset (infinite): the line has a break there. */
	struct series cwnd, ssthresh, cc_flight;
	struct sent pend[PENDING];
	size_t npend;
	uint64_t t0, t1;
	bool any;
	int err;
};

static int64_t unwrap_seq(int64_t *last, uint32_t *last_raw, bool *has, uint32_t raw)
{
	if (!*has) {
		*has = true;
		*last_raw = raw;
		*last = 0;
		return 0;
	}
	*last += seq_diff(raw, *last_raw);
	*last_raw = raw;
	return *last;
}

static void note_time(struct more *m, uint64_t t)
{
	if (!m->any)
		m->t0 = m->t1 = t, m->any = true;
	m->t0 = t < m->t0 ? t : m->t0;
	m->t1 = t > m->t1 ? t : m->t1;
}

static void on_data(struct more *m, const struct synack_seg_rec *r)
{
	int64_t lo = unwrap_seq(&m->seq_last, &m->seq_raw, &m->has_seq, r->seq);
	int64_t hi = lo + r->len + ((r->flags & (SYNACK_TH_SYN | SYNACK_TH_FIN)) ? 1 : 0);
	if (r->marks & SYNACK_MARK_RETX) /* Karn: what this overlaps gives no sample */
		for (size_t i = 0; i < m->npend; i++)
			if (m->pend[i].end > lo)
				m->pend[i].retx = true;
	if (hi > m->snd_max) {
		m->snd_max = hi;
		if (!(r->marks & SYNACK_MARK_RETX) && m->npend < PENDING)
			m->pend[m->npend++] = (struct sent){hi, r->t_us, false};
	}
	if (m->has_ack && !m->err)
		m->err = push(&m->inflight, r->t_us, (double)(m->snd_max - m->acked));
}

static void on_ack(struct more *m, const struct synack_seg_rec *r)
{
	if (!m->has_seq)
		return; /* an ACK before any data of this direction: nothing to measure */
	/* ACKs are unwrapped against the data direction's sequence space */
	int64_t ack = m->seq_last + seq_diff(r->ack, m->seq_raw);
	if (!m->has_ack || ack > m->acked) {
		if (m->has_ack && !m->err)
			m->err = push(&m->acks, r->t_us, (double)(ack - m->acked));
		m->acked = ack;
		m->has_ack = true;
		/* one sample: the newest segment this ACK covers whole, if never resent */
		size_t k = 0, best = PENDING;
		for (size_t i = 0; i < m->npend; i++)
			if (m->pend[i].end <= ack)
				best = i;
		if (best != PENDING && !m->pend[best].retx && !m->err)
			m->err = push(&m->rtt, r->t_us,
				      (double)(r->t_us - m->pend[best].t) / 1000.0);
		for (size_t i = 0; i < m->npend; i++)
			if (m->pend[i].end > ack)
				m->pend[k++] = m->pend[i];
		m->npend = k;
	}
	if (!m->err)
		m->err = push(&m->inflight, r->t_us,
			      (double)(m->snd_max > m->acked ? m->snd_max - m->acked : 0));
}

static void on_cc(struct more *m, const struct synack_seg_rec *r)
{
	if (!r->cc.set || r->cc_dir != m->dir || m->err)
		return;
	const struct synack_cc_sample *cc = &r->cc;
	if (!(m->err = push(&m->cwnd, r->t_us, (double)cc->cwnd)) &&
	    !(m->err = push(&m->ssthresh, r->t_us,
			    cc->ssthresh == UINT32_MAX ? NAN : (double)cc->ssthresh)))
		m->err = push(&m->cc_flight, r->t_us, (double)cc->in_flight);
}

static void each(void *ctx, const struct synack_seg_rec *r, uint64_t gap)
{
	struct more *m = ctx;
	note_time(m, r->t_us);
	on_cc(m, r);
	if (r->dir == m->dir)
		on_data(m, r);
	else if ((r->flags & SYNACK_TH_ACK) && !(r->flags & SYNACK_TH_RST))
		on_ack(m, r);
}

struct panel {
	double y; /* top */
	double vmax;
	const char *title, *unit;
};

static double xpos(const struct more *m, double w, uint64_t t)
{
	double span = m->t1 > m->t0 ? (double)(m->t1 - m->t0) : 1.0;
	return ML + (double)(t - m->t0) / span * (w - ML - MR);
}

static double ypos(const struct panel *p, double v)
{
	return p->y + PANEL_H - (p->vmax > 0 ? v / p->vmax : 0) * PANEL_H;
}

static void panel_frame(FILE *f, const struct more *m, double w, const struct panel *p)
{
	fprintf(f, "<text class=\"title\" x=\"%.1f\" y=\"%.1f\">", ML, p->y - 8);
	synack_svg_text(f, p->title);
	fputs("</text>\n", f);
	fprintf(f, "<path class=\"axis\" d=\"M%.1f %.1fV%.1fH%.1f\"/>\n", ML, p->y, p->y + PANEL_H,
		w - MR);
	double step = synack_tsg_nice_step(p->vmax > 0 ? p->vmax : 1, 4);
	for (double v = 0; v <= p->vmax + 1e-9; v += step)
		fprintf(f,
			"<path class=\"tick\" d=\"M%.1f %.1fh-5\"/><text class=\"yl\" x=\"%.1f\" "
			"y=\"%.1f\">%.6g %s</text>\n",
			ML, ypos(p, v), ML - 8, ypos(p, v) + 4, v, p->unit);
	synack_tsg_time_axis(f, m->t0, m->t1, ML, w - MR, p->y + PANEL_H, false);
}

static double series_max(const struct series *s)
{
	double v = 0;
	for (size_t i = 0; i < s->n; i++)
		v = s->p[i].v > v ? s->p[i].v : v; /* NAN compares false: skipped */
	return v;
}

/* A step line: each value holds until the next sample; NAN samples break it. A value above
 * the panel (ssthresh far above cwnd) is drawn along its top. */
static void step_line(FILE *f, const struct more *m, double w, const struct panel *p,
		      const struct series *s, const char *cls)
{
	bool open = false;
	for (size_t i = 0; i < s->n; i++) {
		double v = s->p[i].v, x = xpos(m, w, s->p[i].t);
		if (isnan(v)) {
			if (open)
				fprintf(f, "H%.1f\"/>\n", x);
			open = false;
			continue;
		}
		double y = ypos(p, v > p->vmax ? p->vmax : v);
		if (!open)
			fprintf(f, "<path class=\"%s\" d=\"M%.1f %.1f", cls, x, y);
		else
			fprintf(f, "H%.1fV%.1f", x, y);
		open = true;
	}
	if (open)
		fprintf(f, "H%.1f\"/>\n", xpos(m, w, m->t1));
}

/* cwnd and ssthresh as the sender's stack traced them, with its own bytes in flight. */
static void draw_cwnd(FILE *f, const struct more *m, double w, struct panel *p)
{
	double top = series_max(&m->cwnd), fl = series_max(&m->cc_flight),
	       ss = series_max(&m->ssthresh);
	top = fl > top ? fl : top;
	/* ssthresh counts only up to twice cwnd's top: an early huge value would flatten it */
	top = ss > top && ss < 2 * top ? ss : top;
	p->vmax = top * 1.1;
	panel_frame(f, m, w, p);
	step_line(f, m, w, p, &m->cc_flight, "cl");
	step_line(f, m, w, p, &m->ssthresh, "ss");
	step_line(f, m, w, p, &m->cwnd, "cw");
	static const struct {
		const char *cls, *name;
	} items[] = {{"cw", "cwnd"}, {"ss", "ssthresh"}, {"cl", "in flight"}};
	double x = w - MR - 280;
	for (size_t i = 0; i < 3; i++, x += 95)
		fprintf(f,
			"<path class=\"%s\" d=\"M%.1f %.1fh16\"/><text class=\"leg\" x=\"%.1f\" "
			"y=\"%.1f\">%s</text>\n",
			items[i].cls, x, p->y - 12, x + 20, p->y - 8, items[i].name);
}

static void draw_inflight(FILE *f, const struct more *m, double w, struct panel *p)
{
	p->vmax = series_max(&m->inflight) * 1.1;
	panel_frame(f, m, w, p);
	if (!m->inflight.n)
		return;
	fprintf(f, "<path class=\"cl\" d=\"M%.1f %.1f", xpos(m, w, m->inflight.p[0].t),
		ypos(p, m->inflight.p[0].v));
	for (size_t i = 1; i < m->inflight.n; i++)
		fprintf(f, "H%.1fV%.1f", xpos(m, w, m->inflight.p[i].t),
			ypos(p, m->inflight.p[i].v));
	fputs("\"/>\n", f);
}

static void draw_rtt(FILE *f, const struct more *m, double w, struct panel *p)
{
	p->vmax = series_max(&m->rtt) * 1.1;
	panel_frame(f, m, w, p);
	for (size_t i = 0; i < m->rtt.n; i++)
		fprintf(f, "<circle class=\"dot\" cx=\"%.1f\" cy=\"%.1f\" r=\"2\"/>\n",
			xpos(m, w, m->rtt.p[i].t), ypos(p, m->rtt.p[i].v));
	if (!m->rtt.n)
		fprintf(f, "<text class=\"leg\" x=\"%.1f\" y=\"%.1f\">no samples</text>\n", ML + 10,
			p->y + PANEL_H / 2);
}

/* bit/s in the unit that keeps the numbers short */
static double rate_unit(double max, const char **name)
{
	static const char *const names[] = {"bit/s", "kbit/s", "Mbit/s", "Gbit/s"};
	double div = 1;
	int i = 0;
	while (i < 3 && max / div >= 1000)
		div *= 1000, i++;
	*name = names[i];
	return div;
}

static void draw_throughput(FILE *f, const struct more *m, double w, struct panel *p)
{
	double bins[BINS] = {0};
	double span = m->t1 > m->t0 ? (double)(m->t1 - m->t0) : 1.0, bin_s = span / BINS / 1e6;
	for (size_t i = 0; i < m->acks.n; i++) {
		int b = (int)((double)(m->acks.p[i].t - m->t0) / span * BINS);
		bins[b >= BINS ? BINS - 1 : b] += m->acks.p[i].v * 8 / bin_s;
	}
	double max = 0;
	for (int b = 0; b < BINS; b++)
		max = bins[b] > max ? bins[b] : max;
	const char *unit;
	double div = rate_unit(max, &unit);
	p->vmax = max / div * 1.1;
	p->unit = unit;
	panel_frame(f, m, w, p);
	double bw = (w - ML - MR) / BINS;
	for (int b = 0; b < BINS; b++) {
		if (bins[b] <= 0)
			continue;
		double y = ypos(p, bins[b] / div);
		fprintf(f,
			"<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>\n",
			ML + b * bw, y, bw > 2 ? bw - 1 : bw, p->y + PANEL_H - y);
	}
}

int synack_tsg_companions_svg(FILE *out, const struct synack_conn *c,
			      const struct synack_tsg_opts *o)
{
	struct more *m = calloc(1, sizeof *m);
	if (!m)
		return -ENOMEM;
	m->dir = o->dir ? 1 : 0;
	synack_conn_each(c, each, m);
	int rc = m->err;
	if (!m->any)
		m->t0 = m->t1 = c->first_us;
	double w = o->width > 0 ? o->width : 960;
	bool traced = m->cwnd.n > 0; /* the sender's stack traced its cwnd */
	int npanels = o->cwnd_only ? 1 : 3;
	double h = TOP + npanels * (PANEL_H + PANEL_GAP + 40);
	char title[160];
	snprintf(title, sizeof title, "%s → %s: %s (connection %u)", c->name[m->dir],
		 c->name[!m->dir],
		 o->cwnd_only ? (traced ? "congestion window" : "bytes in flight")
			      : (traced ? "cwnd, RTT and throughput"
					: "in flight, RTT and throughput"),
		 c->id);
	if (rc == 0) {
		synack_svg_open(out, w, h, o->standalone, title);
		fprintf(out, "<text class=\"title\" x=\"%.1f\" y=\"16\">", ML);
		synack_svg_text(out, title);
		fputs("</text>\n", out);
		struct panel p1 = {TOP + 20, 0,
				   traced ? "congestion window and ssthresh, as the sender's stack "
					    "traced them"
					  : "bytes in flight (sent, not yet acknowledged: estimated "
					    "from the wire)",
				   "B"};
		struct panel p2 = {p1.y + PANEL_H + PANEL_GAP + 40, 0,
				   "round-trip time samples (Karn: none for resent data)", "ms"};
		struct panel p3 = {p2.y + PANEL_H + PANEL_GAP + 40, 0,
				   "throughput (bytes newly acknowledged per interval)", ""};
		if (traced)
			draw_cwnd(out, m, w, &p1);
		else
			draw_inflight(out, m, w, &p1);
		if (!o->cwnd_only) {
			draw_rtt(out, m, w, &p2);
			draw_throughput(out, m, w, &p3);
		}
		struct synack_time_unit u;
		synack_tsg_time_unit(m->t1 - m->t0, &u);
		synack_svg_zoom_axes(out, ML, w - MR, m->t0, m->t1, u.div, u.name, false, 0, 0, 0,
				     0);
		fprintf(out,
			"<text class=\"lab\" x=\"%.1f\" y=\"%.1f\">time (%s since the capture "
			"began)</text>\n",
			(ML + w - MR) / 2, h - 8, u.name);
		synack_svg_close(out, o->standalone);
	}
	free(m->cwnd.p);
	free(m->ssthresh.p);
	free(m->cc_flight.p);
	free(m->inflight.p);
	free(m->rtt.p);
	free(m->acks.p);
	free(m);
	return rc < 0 ? rc : ferror(out) ? -EIO : 0;
}
