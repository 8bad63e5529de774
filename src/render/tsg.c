/* The time-sequence graph and its companions as SVG: see tsg.h. Passes over the kept records:
 * the first finds the ranges, then the lines (ACK, window, SACK, marks on the ACK line) are
 * drawn, then the data on top of them, so a bar is never hidden under the ACK line when the
 * round trip is shorter than a pixel. Sequence numbers are unwrapped (RFC 9293 §3.4: modulo
 * 2^32) into 64-bit offsets from the sender's ISN, so a transfer longer than 4 GiB still climbs.
 */
#include "render/tsg.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "render/svg_ladder.h"
#include "util/seq.h"

#define ML 90.0 /* margins */
#define MR 30.0
#define MT 60.0
#define MB 60.0

/* Unwraps 32-bit sequence numbers against the last one seen. */
struct unwrap {
	uint32_t last_raw;
	int64_t last;
};

static int64_t unwrap(struct unwrap *u, uint32_t raw)
{
	u->last += seq_diff(raw, u->last_raw);
	u->last_raw = raw;
	return u->last;
}

enum pass { PASS_RANGE, PASS_LINES, PASS_DATA };

struct tsg {
	const struct synack_conn *c;
	int dir;
	FILE *f;
	struct unwrap u;
	uint32_t base;
	enum pass pass;
	/* ranges (pass 1) */
	bool any;
	uint64_t t0, t1;
	int64_t y0, y1;
	int64_t wmax; /* the window line's top: shown only up to a margin above the data */
	/* drawing */
	double w, h;
	int64_t last_ack, last_win;
	bool has_ack;
	uint64_t last_t;
	uint64_t gap_at_us;
	uint64_t gap;
	unsigned retx, dups, zeros;
	bool clipped;	    /* the window line went above the plot */
	int64_t clip_max;   /* how far */
	uint64_t clip_t;    /* where it first did */
};

int synack_tsg_busiest_dir(const struct synack_conn *c)
{
	return c->st[1].bytes > c->st[0].bytes ? 1 : 0;
}

/* ---- the time axis ----------------------------------------------------------------------- */

void synack_tsg_time_unit(uint64_t span_us, struct synack_time_unit *u)
{
	if (span_us < 2000)
		*u = (struct synack_time_unit){1, "µs"};
	else if (span_us < 2000000)
		*u = (struct synack_time_unit){1e3, "ms"};
	else if (span_us < 180000000)
		*u = (struct synack_time_unit){1e6, "s"};
	else
		*u = (struct synack_time_unit){60e6, "min"};
}

/* A "nice" tick step (1, 2 or 5 times a power of ten) giving about n ticks over span. */
static double nice_step(double span, int n)
{
	double raw = span / n, p = pow(10, floor(log10(raw)));
	double m = raw / p;
	return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

/* ---- ranges and drawing ------------------------------------------------------------------ */

static double px(const struct tsg *g, uint64_t t)
{
	double span = g->t1 > g->t0 ? (double)(g->t1 - g->t0) : 1.0;
	return ML + (double)(t - g->t0) / span * (g->w - ML - MR);
}

static double py(const struct tsg *g, int64_t v)
{
	double span = g->y1 > g->y0 ? (double)(g->y1 - g->y0) : 1.0;
	return g->h - MB - (double)(v - g->y0) / span * (g->h - MT - MB);
}

static void see(struct tsg *g, uint64_t t, int64_t v)
{
	if (!g->any) {
		g->any = true;
		g->t0 = g->t1 = t;
		g->y0 = g->y1 = v;
	}
	g->t0 = t < g->t0 ? t : g->t0;
	g->t1 = t > g->t1 ? t : g->t1;
	g->y0 = v < g->y0 ? v : g->y0;
	g->y1 = v > g->y1 ? v : g->y1;
}

static const char *data_class(const struct synack_seg_rec *r)
{
	if (r->marks & SYNACK_MARK_RETX)
		return "rx";
	if (r->marks & SYNACK_MARK_OOO)
		return "ooo";
	if (r->marks & SYNACK_MARK_PROBE)
		return "pr";
	return "d";
}

/* A data segment as tcptrace draws it: a bar from seq to seq+len with a serif at each end, so
 * even a segment a pixel tall is seen; a retransmission also gets an "R" above it, whatever
 * the scale. */
static void draw_data(struct tsg *g, const struct synack_seg_rec *r, int64_t lo, int64_t hi)
{
	double x = px(g, r->t_us), ylo = py(g, lo), yhi = py(g, hi);
	const char *cls = data_class(r);
	if (r->len > 0) {
		if (ylo - yhi < 2)
			ylo = yhi + 2;
		fprintf(g->f, "<path class=\"%s\" d=\"M%.1f %.1fV%.1fM%.1f %.1fh5M%.1f %.1fh5\"/>\n",
			cls, x, ylo, yhi, x - 2.5, ylo, x - 2.5, yhi);
	}
	if (r->marks & SYNACK_MARK_RETX) {
		g->retx++;
		fprintf(g->f,
			"<text class=\"rmark\" x=\"%.1f\" y=\"%.1f\"><title>retransmission at "
			"%.6f s, seq %lld-%lld</title>R</text>\n",
			x, yhi - 4, (double)r->t_us / 1e6, (long long)lo, (long long)hi);
	}
	if (r->flags & (SYNACK_TH_SYN | SYNACK_TH_FIN))
		fprintf(g->f,
			"<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"5\" height=\"5\"/>\n",
			r->flags & SYNACK_TH_SYN ? "syn" : "fin", x - 2.5, yhi - 2.5);
}

/* The window line, clipped at the plot's top: what is above is drawn dotted along the edge
 * and said once in a note, rather than cut off into bare dashes. */
static void win_step(struct tsg *g, double xp, double x, int64_t from, int64_t to, uint64_t t)
{
	int64_t top = g->y1;
	int64_t a = from > top ? top : from, b = to > top ? top : to;
	if (from > top || to > top) {
		if (!g->clipped)
			g->clip_t = t;
		g->clipped = true;
		int64_t m = from > to ? from : to;
		g->clip_max = m > g->clip_max ? m : g->clip_max;
	}
	fprintf(g->f, "<path class=\"%s\" d=\"M%.1f %.1fH%.1f\"/>\n",
		from > top ? "winclip" : "win", xp, py(g, a), x);
	if (a != b)
		fprintf(g->f, "<path class=\"win\" d=\"M%.1f %.1fV%.1f\"/>\n", x, py(g, a),
			py(g, b));
}

/* The ACK and window lines are steps: each new value starts at the previous one. */
static void draw_ack(struct tsg *g, const struct synack_seg_rec *r, int64_t ack, int64_t win)
{
	double x = px(g, r->t_us);
	if (g->has_ack) {
		double xp = px(g, g->last_t);
		fprintf(g->f, "<path class=\"ack\" d=\"M%.1f %.1fH%.1fV%.1f\"/>\n", xp,
			py(g, g->last_ack), x, py(g, ack));
		win_step(g, xp, x, g->last_win, win, r->t_us);
	}
	g->has_ack = true;
	g->last_ack = ack;
	g->last_win = win;
	g->last_t = r->t_us;
}

/* Marks on the ACK line: a duplicate ACK (the third, which triggers fast retransmit, says
 * "3"), a zero window ("Z"). */
static void ack_marks(struct tsg *g, const struct synack_seg_rec *r, int64_t ack)
{
	double x = px(g, r->t_us), y = py(g, ack);
	if (r->marks & SYNACK_MARK_DUPACK) {
		g->dups++;
		fprintf(g->f,
			"<path class=\"dupm\" d=\"M%.1f %.1fl3 3l-3 3l-3 -3z\"><title>duplicate ACK "
			"#%u at %.6f s</title></path>\n",
			x, y, r->dupack_n, (double)r->t_us / 1e6);
		if (r->dupack_n == 3)
			fprintf(g->f, "<text class=\"amark dup\" x=\"%.1f\" y=\"%.1f\">3</text>\n", x,
				y + 17);
	}
	if (r->marks & SYNACK_MARK_ZEROWIN) {
		g->zeros++;
		fprintf(g->f,
			"<rect class=\"zwm\" x=\"%.1f\" y=\"%.1f\" width=\"6\" height=\"6\"><title>"
			"zero window at %.6f s</title></rect>\n"
			"<text class=\"amark zw\" x=\"%.1f\" y=\"%.1f\">Z</text>\n",
			x - 3, y - 3, (double)r->t_us / 1e6, x, y - 7);
	}
}

static void one(void *ctx, const struct synack_seg_rec *r, uint64_t gap)
{
	struct tsg *g = ctx;
	if (gap && g->pass != PASS_RANGE) {
		g->gap = gap;
		g->gap_at_us = r->t_us;
		g->has_ack = false; /* do not draw a step across what was left out */
	}
	if (r->dir == g->dir) {
		int64_t lo = unwrap(&g->u, r->seq) + ((r->flags & SYNACK_TH_SYN) ? 1 : 0);
		int64_t hi = lo + r->len;
		if (g->pass == PASS_DATA)
			draw_data(g, r, lo, hi);
		else if (g->pass == PASS_RANGE)
			see(g, r->t_us, lo), see(g, r->t_us, hi);
		return;
	}
	if (!(r->flags & SYNACK_TH_ACK) || (r->flags & SYNACK_TH_RST))
		return;
	int64_t ack = unwrap(&g->u, r->ack);
	int64_t win = ack + (int64_t)synack_infer_window(&g->c->inf, !g->dir, r->win,
							 r->flags & SYNACK_TH_SYN);
	if (g->pass == PASS_RANGE) {
		see(g, r->t_us, ack);
		g->wmax = win > g->wmax ? win : g->wmax;
		return;
	}
	if (g->pass != PASS_LINES)
		return;
	draw_ack(g, r, ack, win);
	for (uint8_t i = 0; i < r->nsack; i++) {
		int64_t l = unwrap(&g->u, r->sack[i].left), rt = unwrap(&g->u, r->sack[i].right);
		double x = px(g, r->t_us) + 2;
		fprintf(g->f,
			"<line class=\"sack\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
			x, py(g, l), x, py(g, rt));
	}
	unwrap(&g->u, r->ack); /* the SACK edges moved the reference: back to the ACK */
	ack_marks(g, r, ack);
}

void synack_tsg_time_axis(FILE *f, uint64_t t0, uint64_t t1, double x0, double x1, double y0,
			  bool label)
{
	struct synack_time_unit u;
	synack_tsg_time_unit(t1 - t0, &u);
	double span = (double)(t1 - t0) / u.div, step = nice_step(span > 0 ? span : 1, 8);
	double tspan = t1 > t0 ? (double)(t1 - t0) : 1.0;
	for (double v = ceil((double)t0 / u.div / step) * step; v <= (double)t1 / u.div + 1e-9;
	     v += step) {
		double x = x0 + (v * u.div - (double)t0) / tspan * (x1 - x0);
		fprintf(f,
			"<path class=\"tick\" d=\"M%.1f %.1fv5\"/><text class=\"tl\" x=\"%.1f\" "
			"y=\"%.1f\">%.6g</text>\n",
			x, y0, x, y0 + 18, v);
	}
	if (label)
		fprintf(f,
			"<text class=\"lab\" x=\"%.1f\" y=\"%.1f\">time (%s since the capture "
			"began)</text>\n",
			(x0 + x1) / 2, y0 + 42, u.name);
}

double synack_tsg_nice_step(double span, int n)
{
	return nice_step(span, n);
}

static void axes(struct tsg *g)
{
	FILE *f = g->f;
	double x0 = ML, x1 = g->w - MR, y0 = g->h - MB, y1 = MT;
	fprintf(f, "<path class=\"axis\" d=\"M%.1f %.1fV%.1fH%.1f\"/>\n", x0, y1, y0, x1);
	synack_tsg_time_axis(f, g->t0, g->t1, x0, x1, y0, true);
	struct synack_time_unit u;
	synack_tsg_time_unit(g->t1 - g->t0, &u);
	synack_svg_zoom_axes(f, x0, x1, g->t0, g->t1, u.div, u.name, true, y0, y1, g->y0, g->y1);
	double ys = (double)(g->y1 - g->y0), ystep = nice_step(ys > 0 ? ys : 1, 8);
	for (double v = ceil((double)g->y0 / ystep) * ystep; v <= (double)g->y1 + 1e-9; v += ystep)
		fprintf(f,
			"<path class=\"tick\" d=\"M%.1f %.1fh-5\"/><text class=\"yl\" x=\"%.1f\" "
			"y=\"%.1f\">%.0f</text>\n",
			x0, py(g, (int64_t)v), x0 - 8, py(g, (int64_t)v) + 4, v);
	fprintf(f,
		"<text class=\"lab\" transform=\"translate(18 %.1f) rotate(-90)\">sequence number "
		"(relative to the ISN, bytes)</text>\n",
		(y0 + y1) / 2);
}

static void legend(struct tsg *g)
{
	static const struct {
		const char *cls, *name;
	} items[] = {
		{"d", "data"},		{"rx", "retransmission (R)"}, {"ooo", "out of order"},
		{"pr", "window probe"}, {"ack", "ACK"},		      {"win", "receive window"},
		{"sack", "SACK block"},
	};
	double x = ML + 10, y = MT - 28;
	for (size_t i = 0; i < sizeof items / sizeof items[0]; i++) {
		fprintf(g->f,
			"<path class=\"%s\" d=\"M%.1f %.1fh16\"/><text class=\"leg\" x=\"%.1f\" "
			"y=\"%.1f\">%s</text>\n",
			items[i].cls, x, y, x + 20, y + 4, items[i].name);
		x += 34 + 6.6 * (double)strlen(items[i].name);
	}
	fprintf(g->f,
		"<path class=\"dupm\" d=\"M%.1f %.1fl3 3l-3 3l-3 -3z\"/><text class=\"leg\" "
		"x=\"%.1f\" y=\"%.1f\">dup ACK (3: the third)</text>\n",
		ML + 18, MT - 11, ML + 30, MT - 4);
	fprintf(g->f,
		"<rect class=\"zwm\" x=\"%.1f\" y=\"%.1f\" width=\"6\" height=\"6\"/><text "
		"class=\"leg\" x=\"%.1f\" y=\"%.1f\">zero window (Z)</text>\n",
		ML + 200, MT - 11, ML + 212, MT - 4);
}

static uint32_t base_of(const struct synack_conn *c, int dir)
{
	const struct synack_infer_dir *d = &c->inf.d[dir];
	if (d->has_isn)
		return d->isn;
	for (uint32_t i = 0; i < c->nhead; i++)
		if (c->head[i].dir == dir)
			return c->head[i].seq;
	return 0;
}

static void run_pass(struct tsg *g, enum pass p)
{
	g->pass = p;
	g->u = (struct unwrap){g->base, 0};
	g->has_ack = false;
	synack_conn_each(g->c, one, g);
}

int synack_tsg_svg(FILE *out, const struct synack_conn *c, const struct synack_tsg_opts *o)
{
	struct tsg g = {.c = c, .dir = o->dir ? 1 : 0, .f = out};
	g.w = o->width > 0 ? o->width : 960;
	g.h = o->height > 0 ? o->height : 540;
	g.base = base_of(c, g.dir);
	run_pass(&g, PASS_RANGE);
	if (!g.any)
		g.t0 = g.t1 = c->first_us;
	/* A window far above the data would flatten it: show a quarter of the height above. */
	int64_t room = (g.y1 - g.y0) / 4 + 1;
	g.y1 = g.wmax > g.y1 + room ? g.y1 + room : g.wmax > g.y1 ? g.wmax : g.y1;
	char title[128];
	snprintf(title, sizeof title, "%s → %s: time-sequence graph (connection %u)",
		 c->name[g.dir], c->name[!g.dir], c->id);
	synack_svg_open(out, g.w, g.h, o->standalone, title);
	fprintf(out, "<text class=\"title\" x=\"%.1f\" y=\"16\">", ML);
	synack_svg_text(out, title);
	fprintf(out, "</text>\n");
	axes(&g);
	legend(&g);
	fprintf(out,
		"<clipPath id=\"plot%u_%d\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
		"height=\"%.1f\"/></clipPath>\n<g class=\"plot\" clip-path=\"url(#plot%u_%d)\">\n",
		c->id, g.dir, ML - 4, MT - 14, g.w - ML - MR + 8, g.h - MT - MB + 18, c->id, g.dir);
	run_pass(&g, PASS_LINES);
	run_pass(&g, PASS_DATA);
	fprintf(out, "</g>\n");
	if (g.clipped)
		fprintf(out,
			"<text class=\"leg\" x=\"%.1f\" y=\"%.1f\">&#8593; receive window above "
			"the plot (up to %lld), dotted at the top</text>\n",
			px(&g, g.clip_t) + 4, MT + 12, (long long)g.clip_max);
	if (!g.any)
		fprintf(out, "<text class=\"lab\" x=\"%.1f\" y=\"%.1f\">no segments</text>\n",
			g.w / 2, g.h / 2);
	if (g.gap)
		fprintf(out,
			"<path class=\"gap\" d=\"M%.1f %.1fV%.1f\"/><text class=\"leg\" x=\"%.1f\" "
			"y=\"%.1f\">%llu segments not shown</text>\n",
			px(&g, g.gap_at_us), MT, g.h - MB, px(&g, g.gap_at_us) + 4, MT + 26,
			(unsigned long long)g.gap);
	fprintf(out,
		"<text class=\"leg\" style=\"text-anchor:end\" x=\"%.1f\" y=\"%.1f\">%u "
		"retransmission%s (R), %u duplicate "
		"ACK%s, %u zero-window ACK%s</text>\n",
		g.w - MR, MT - 4, g.retx, g.retx == 1 ? "" : "s", g.dups, g.dups == 1 ? "" : "s",
		g.zeros, g.zeros == 1 ? "" : "s");
	synack_svg_close(out, o->standalone);
	return ferror(out) ? -EIO : 0;
}
