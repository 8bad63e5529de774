/* The time-sequence graph as SVG: see tsg.h. Two passes over the kept records: the first finds
 * the ranges, the second draws. Sequence numbers are unwrapped (RFC 9293 §3.4: modulo 2^32)
 * into 64-bit offsets from the sender's ISN, so a transfer longer than 4 GiB still climbs.
 */
#include "render/tsg.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "util/seq.h"
#include "render/svg_ladder.h"

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

struct tsg {
	const struct synack_conn *c;
	int dir;
	FILE *f;
	struct unwrap u;
	/* ranges (pass 1) */
	bool any;
	uint64_t t0, t1;
	int64_t y0, y1;
	int64_t wmax; /* the window line's top: shown only up to a margin above the data */
	/* drawing (pass 2) */
	double w, h;
	bool drawing;
	int64_t last_ack, last_win;
	bool has_ack;
	uint64_t last_t;
	uint64_t gap_at_us;
	uint64_t gap;
};

int synack_tsg_busiest_dir(const struct synack_conn *c)
{
	return c->st[1].bytes > c->st[0].bytes ? 1 : 0;
}

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

static void draw_data(struct tsg *g, const struct synack_seg_rec *r, int64_t lo, int64_t hi)
{
	double x = px(g, r->t_us);
	if (r->len > 0)
		fprintf(g->f,
			"<line class=\"%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
			data_class(r), x, py(g, lo), x, py(g, hi));
	if (r->flags & (SYNACK_TH_SYN | SYNACK_TH_FIN))
		fprintf(g->f,
			"<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"5\" height=\"5\"/>\n",
			r->flags & SYNACK_TH_SYN ? "syn" : "fin", x - 2.5, py(g, hi) - 2.5);
}

/* The ACK and window lines are steps: each new value starts at the previous one. */
static void draw_ack(struct tsg *g, const struct synack_seg_rec *r, int64_t ack, int64_t win)
{
	double x = px(g, r->t_us);
	if (g->has_ack) {
		double xp = px(g, g->last_t);
		fprintf(g->f,
			"<path class=\"ack\" d=\"M%.1f %.1fH%.1fV%.1f\"/>\n"
			"<path class=\"win\" d=\"M%.1f %.1fH%.1fV%.1f\"/>\n",
			xp, py(g, g->last_ack), x, py(g, ack), xp, py(g, g->last_win), x,
			py(g, win));
	}
	g->has_ack = true;
	g->last_ack = ack;
	g->last_win = win;
	g->last_t = r->t_us;
}

static void one(void *ctx, const struct synack_seg_rec *r, uint64_t gap)
{
	struct tsg *g = ctx;
	if (gap && g->drawing) {
		g->gap = gap;
		g->gap_at_us = r->t_us;
		g->has_ack = false; /* do not draw a step across what was left out */
	}
	if (r->dir == g->dir) {
		int64_t lo = unwrap(&g->u, r->seq) + ((r->flags & SYNACK_TH_SYN) ? 1 : 0);
		int64_t hi = lo + r->len;
		if (g->drawing)
			draw_data(g, r, lo, hi);
		else
			see(g, r->t_us, lo), see(g, r->t_us, hi);
		return;
	}
	if (!(r->flags & SYNACK_TH_ACK) || (r->flags & SYNACK_TH_RST))
		return;
	int64_t ack = unwrap(&g->u, r->ack);
	int64_t win = ack + (int64_t)synack_infer_window(&g->c->inf, !g->dir, r->win,
							 r->flags & SYNACK_TH_SYN);
	if (!g->drawing) {
		see(g, r->t_us, ack);
		g->wmax = win > g->wmax ? win : g->wmax;
		return;
	}
	draw_ack(g, r, ack, win);
	for (uint8_t i = 0; i < r->nsack; i++) {
		int64_t l = unwrap(&g->u, r->sack[i].left), rt = unwrap(&g->u, r->sack[i].right);
		double x = px(g, r->t_us) + 2;
		fprintf(g->f,
			"<line class=\"sack\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
			x, py(g, l), x, py(g, rt));
	}
}

/* A "nice" tick step (1, 2 or 5 times a power of ten) giving about n ticks over span. */
static double nice_step(double span, int n)
{
	double raw = span / n, p = pow(10, floor(log10(raw)));
	double m = raw / p;
	return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

static void axes(struct tsg *g)
{
	FILE *f = g->f;
	double x0 = ML, x1 = g->w - MR, y0 = g->h - MB, y1 = MT;
	fprintf(f, "<path class=\"axis\" d=\"M%.1f %.1fV%.1fH%.1f\"/>\n", x0, y1, y0, x1);
	double ts = (double)(g->t1 - g->t0) / 1e6, step = nice_step(ts > 0 ? ts : 1e-3, 8);
	for (double v = ceil((double)g->t0 / 1e6 / step) * step; v <= (double)g->t1 / 1e6 + 1e-12;
	     v += step) {
		double x = px(g, (uint64_t)llround(v * 1e6));
		fprintf(f,
			"<path class=\"tick\" d=\"M%.1f %.1fv5\"/><text class=\"tl\" x=\"%.1f\" "
			"y=\"%.1f\">%.6g</text>\n",
			x, y0, x, y0 + 18, v);
	}
	double ys = (double)(g->y1 - g->y0), ystep = nice_step(ys > 0 ? ys : 1, 8);
	for (double v = ceil((double)g->y0 / ystep) * ystep; v <= (double)g->y1 + 1e-9; v += ystep)
		fprintf(f,
			"<path class=\"tick\" d=\"M%.1f %.1fh-5\"/><text class=\"yl\" x=\"%.1f\" "
			"y=\"%.1f\">%.0f</text>\n",
			x0, py(g, (int64_t)v), x0 - 8, py(g, (int64_t)v) + 4, v);
	fprintf(f, "<text class=\"lab\" x=\"%.1f\" y=\"%.1f\">time (s)</text>\n", (x0 + x1) / 2,
		g->h - 18);
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
		{"d", "data"},		{"rx", "retransmission"}, {"ooo", "out of order"},
		{"pr", "window probe"}, {"ack", "ACK"},		  {"win", "receive window"},
		{"sack", "SACK block"},
	};
	double x = ML + 10, y = MT - 28;
	for (size_t i = 0; i < sizeof items / sizeof items[0]; i++) {
		fprintf(g->f,
			"<path class=\"%s\" d=\"M%.1f %.1fh16\"/><text class=\"leg\" x=\"%.1f\" "
			"y=\"%.1f\">%s</text>\n",
			items[i].cls, x, y, x + 20, y + 4, items[i].name);
		x += 40 + 7.0 * (double)strlen(items[i].name);
	}
}

int synack_tsg_svg(FILE *out, const struct synack_conn *c, const struct synack_tsg_opts *o)
{
	struct tsg g = {.c = c, .dir = o->dir ? 1 : 0, .f = out};
	g.w = o->width > 0 ? o->width : 960;
	g.h = o->height > 0 ? o->height : 540;
	const struct synack_infer_dir *d = &c->inf.d[g.dir];
	uint32_t base = d->has_isn ? d->isn : 0;
	if (!d->has_isn && c->nhead)
		for (uint32_t i = 0; i < c->nhead; i++)
			if (c->head[i].dir == g.dir) {
				base = c->head[i].seq;
				break;
			}
	g.u = (struct unwrap){base, 0};
	synack_conn_each(c, one, &g);
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
	g.u = (struct unwrap){base, 0};
	g.drawing = true;
	fprintf(out,
		"<clipPath id=\"plot%u_%d\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
		"height=\"%.1f\"/></clipPath>\n<g class=\"plot\" clip-path=\"url(#plot%u_%d)\">\n",
		c->id, g.dir, ML - 4, MT - 4, g.w - ML - MR + 8, g.h - MT - MB + 8, c->id, g.dir);
	synack_conn_each(c, one, &g);
	fprintf(out, "</g>\n");
	if (!g.any)
		fprintf(out, "<text class=\"lab\" x=\"%.1f\" y=\"%.1f\">no segments</text>\n",
			g.w / 2, g.h / 2);
	if (g.gap)
		fprintf(out,
			"<path class=\"gap\" d=\"M%.1f %.1fV%.1f\"/><text class=\"leg\" x=\"%.1f\" "
			"y=\"%.1f\">%llu segments not shown</text>\n",
			px(&g, g.gap_at_us), MT, g.h - MB, px(&g, g.gap_at_us) + 4, MT + 12,
			(unsigned long long)g.gap);
	synack_svg_close(out, o->standalone);
	return ferror(out) ? -EIO : 0;
}
