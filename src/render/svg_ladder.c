/* The ladder as SVG (and as an HTML page holding the SVG), plus the SVG helpers the other
 * pictures share. A backend of the ladder renderer (ladder_backend.h): it gets the same
 * interpreted items as the text backend and only draws.
 *
 * Layout: time on the left, a lifeline per host, each segment a slanted arrow from its sender
 * to its receiver drawn at its send time and labelled in tcpdump's notation; state changes in
 * boxes beside their host's lifeline; notes (timers, drops, the link's doings, the capture
 * analysis's remarks) in italics. Rows are kept until finish() because the document's height
 * goes in its first line.
 */
#include "render/svg_ladder.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "render/ladder_backend.h"

/* ---- shared helpers -------------------------------------------------------------------- */

void synack_svg_text(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			if (c >= 0x20 || c == '\n' || c == '\t')
				fputc(c, f);
		}
	}
}

void synack_svg_style(FILE *f)
{
	fputs("<style>\n"
	      "svg.zoom{background:#fff;font-family:DejaVu Sans Mono,monospace;font-size:12px}\n"
	      "svg.zoom text{fill:#222}\n"
	      ".title{font-size:14px;font-weight:bold}\n"
	      ".axis,.tick{stroke:#444;fill:none}\n"
	      ".tl{text-anchor:middle}.yl{text-anchor:end}.lab{text-anchor:middle}\n"
	      ".d,.rx,.ooo,.pr,.sack,.ack,.win,.gap{fill:none;stroke-width:1.6}\n"
	      ".d{stroke:#1f4e9c}.rx{stroke:#d62728;stroke-width:2.4}.ooo{stroke:#ff7f0e}\n"
	      ".pr{stroke:#9467bd}.sack{stroke:#6baed6;stroke-width:3}\n"
	      ".ack{stroke:#2ca02c}.win{stroke:#999;stroke-dasharray:4 3}\n"
	      ".gap{stroke:#bbb;stroke-dasharray:2 4}\n"
	      "svg.zoom text.rmark{fill:#d62728;font-weight:bold;font-size:12px;"
	      "text-anchor:middle;paint-order:stroke;stroke:#fff;stroke-width:2px}\n"
	      "svg.zoom text.amark{font-size:10px;font-weight:bold;text-anchor:middle}\n"
	      "svg.zoom text.amark.dup{fill:#b8860b}svg.zoom text.amark.zw{fill:#8c564b}\n"
	      ".dupm{fill:#e6ab02;stroke:none}.zwm{fill:#8c564b;stroke:none}\n"
	      ".winclip{stroke:#999;stroke-width:1.6;stroke-dasharray:1 3;fill:none}\n"
	      ".cl{fill:none;stroke:#1f4e9c;stroke-width:1.4}.cl2{fill:none;stroke:#d95f02;"
	      "stroke-width:1.4}\n"
	      "svg.zoom path{vector-effect:non-scaling-stroke}\n"
	      ".cw{fill:none;stroke:#d62728;stroke-width:1.6}.ss{fill:none;stroke:#9467bd;"
	      "stroke-width:1.4;stroke-dasharray:5 3}\n"
	      ".dot{fill:#1f4e9c;stroke:none}.bar{fill:#9ecae1;stroke:#1f4e9c;stroke-width:.5}\n"
	      ".brk{stroke:#888;stroke-width:1.2;fill:none}\n"
	      ".syn,.fin{fill:#1f4e9c}\n"
	      ".life{stroke:#555;stroke-width:2}\n"
	      ".arrow{stroke:#1f4e9c;stroke-width:1.4;fill:none}\n"
	      ".arrow.retx{stroke:#d62728}.arrow.late{stroke-dasharray:2 3}\n"
	      ".arrow.unsent{stroke:#9467bd;stroke-dasharray:6 3}\n"
	      ".head{fill:#1f4e9c}.head.retx{fill:#d62728}\n"
	      ".lbl{text-anchor:middle;paint-order:stroke;stroke:#fff;stroke-width:3px}\n"
	      "svg.zoom text.opt{font-size:10px;fill:#555}\n"
	      ".st{fill:#eef5e8;stroke:#2ca02c}.stu{fill:#fff6e0;stroke:#e0a000;"
	      "stroke-dasharray:3 2}\n"
	      ".note{font-style:italic}.lost{stroke:#d62728;stroke-width:2}\n"
	      ".host{font-weight:bold;text-anchor:middle}\n"
	      "</style>\n",
	      f);
}

/* The pictures' inline zoom (no network: nothing is loaded). Every svg.zoom: the wheel zooms
 * around the pointer, double-click resets. A graph with a time axis (a g.zaxes element, see
 * synack_svg_zoom_axes()) zooms by selection: dragging draws a rectangle and the view becomes
 * that range (widened to keep the picture's aspect, so text is never stretched), and a
 * readout in the top left corner says which time (and sequence) range is shown. Other
 * pictures (ladders, the state diagram) pan on drag. Without JavaScript the SVG is static. */
void synack_svg_zoom_script(FILE *f)
{
	fputs("<script>//<![CDATA[\n"
	      "(function(){\n"
	      "var NS='http://www.w3.org/2000/svg';\n"
	      "document.querySelectorAll('svg.zoom').forEach(function(s){\n"
	      " if(s.__zoom)return;s.__zoom=1;\n"
	      " var vb=s.viewBox.baseVal,o=[vb.x,vb.y,vb.width,vb.height],drag=null,sel=null,ro=null,\n"
	      "  ax=s.querySelector('g.zaxes');\n"
	      " function pt(e){var r=s.getBoundingClientRect();return [vb.x+(e.clientX-r.left)/r.width*vb.width,vb.y+(e.clientY-r.top)/r.height*vb.height];}\n"
	      " function nums(a){return (ax.getAttribute(a)||'').split(' ').map(Number);}\n"
	      " function fmt(v){return Math.abs(v)>=100||v==0?v.toFixed(0):v.toPrecision(3);}\n"
	      " function readout(){\n"
	      "  if(!ax)return;\n"
	      "  var k=vb.width/o[2],X=nums('data-x'),T=nums('data-t'),\n"
	      "   a=Math.max(vb.x,X[0]),b=Math.min(vb.x+vb.width,X[1]);\n"
	      "  function tm(x){return (T[0]+(x-X[0])/(X[1]-X[0])*(T[1]-T[0]))/T[2];}\n"
	      "  var txt='time '+fmt(tm(a))+'\\u2013'+fmt(tm(b))+' '+ax.getAttribute('data-unit');\n"
	      "  if(ax.getAttribute('data-y')){\n"
	      "   var Y=nums('data-y'),V=nums('data-v'),lo=Math.min(vb.y+vb.height,Y[0]),hi=Math.max(vb.y,Y[1]);\n"
	      "   function sv(y){return V[0]+(Y[0]-y)/(Y[0]-Y[1])*(V[1]-V[0]);}\n"
	      "   txt+=', seq '+Math.round(sv(lo))+'\\u2013'+Math.round(sv(hi))+' B';}\n"
	      "  if(!ro){ro=document.createElementNS(NS,'text');ro.setAttribute('class','zoomrange');\n"
	      "   ro.setAttribute('style','font-weight:bold;fill:#1f4e9c;paint-order:stroke;stroke:#fff;stroke-linejoin:round');\n"
	      "   s.appendChild(ro);}\n"
	      "  ro.textContent=k<0.999?'zoom: '+txt+' (double-click: all)':'';\n"
	      "  ro.setAttribute('x',vb.x+6*k);ro.setAttribute('y',vb.y+14*k);\n"
	      "  ro.style.fontSize=(12*k)+'px';ro.style.strokeWidth=(3*k)+'px';}\n"
	      " function zoomTo(a,b){\n"
	      "  var w=Math.abs(b[0]-a[0]),h=Math.abs(b[1]-a[1]),k=Math.max(w/o[2],h/o[3]);\n"
	      "  if(w<3*vb.width/o[2]&&h<3*vb.width/o[2])return;\n"
	      "  var cx=(a[0]+b[0])/2,cy=(a[1]+b[1])/2;\n"
	      "  vb.width=k*o[2];vb.height=k*o[3];vb.x=cx-vb.width/2;vb.y=cy-vb.height/2;readout();}\n"
	      " s.addEventListener('wheel',function(e){e.preventDefault();var p=pt(e),k=e.deltaY<0?0.8:1.25;\n"
	      "  vb.x=p[0]-(p[0]-vb.x)*k;vb.y=p[1]-(p[1]-vb.y)*k;vb.width*=k;vb.height*=k;readout();},{passive:false});\n"
	      " s.addEventListener('mousedown',function(e){if(e.button)return;drag=pt(e);if(!ax)return;\n"
	      "  e.preventDefault();sel=document.createElementNS(NS,'rect');\n"
	      "  sel.setAttribute('style','fill:#1f4e9c;fill-opacity:.12;stroke:#1f4e9c;stroke-dasharray:3 2');\n"
	      "  sel.setAttribute('class','zsel');s.appendChild(sel);});\n"
	      " s.addEventListener('mousemove',function(e){if(!drag)return;var p=pt(e);\n"
	      "  if(sel){sel.setAttribute('x',Math.min(p[0],drag[0]));sel.setAttribute('y',Math.min(p[1],drag[1]));\n"
	      "   sel.setAttribute('width',Math.abs(p[0]-drag[0]));sel.setAttribute('height',Math.abs(p[1]-drag[1]));}\n"
	      "  else{vb.x+=drag[0]-p[0];vb.y+=drag[1]-p[1];}});\n"
	      " window.addEventListener('mouseup',function(e){if(sel){s.removeChild(sel);sel=null;if(drag)zoomTo(drag,pt(e));}drag=null;});\n"
	      " s.addEventListener('dblclick',function(){vb.x=o[0];vb.y=o[1];vb.width=o[2];vb.height=o[3];readout();});\n"
	      "});})();\n"
	      "//]]></script>\n",
	      f);
}

void synack_svg_zoom_axes(FILE *f, double x0, double x1, uint64_t t0_us, uint64_t t1_us,
			  double div, const char *unit, bool has_y, double ybot, double ytop,
			  int64_t v0, int64_t v1)
{
	fprintf(f, "<g class=\"zaxes\" data-x=\"%.1f %.1f\" data-t=\"%llu %llu %.0f\" data-unit=\"%s\"",
		x0, x1, (unsigned long long)t0_us, (unsigned long long)t1_us, div, unit);
	if (has_y)
		fprintf(f, " data-y=\"%.1f %.1f\" data-v=\"%lld %lld\"", ybot, ytop, (long long)v0,
			(long long)v1);
	fputs("/>\n", f);
}

void synack_svg_open(FILE *f, double w, double h, bool standalone, const char *title)
{
	if (standalone)
		fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
	fprintf(f,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"zoom\" viewBox=\"0 0 %.0f "
		"%.0f\" "
		"width=\"%.0f\" height=\"%.0f\">\n",
		w, h, w, h);
	if (title) {
		fputs("<title>", f);
		synack_svg_text(f, title);
		fputs("</title>\n", f);
	}
	if (standalone)
		synack_svg_style(f);
	fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#fff\"/>\n", w, h);
}

void synack_svg_close(FILE *f, bool standalone)
{
	if (standalone)
		synack_svg_zoom_script(f);
	fputs("</svg>\n", f);
}

/* ---- the ladder backend ---------------------------------------------------------------- */

#define W 980.0
#define XL 290.0 /* lifelines */
#define XR 730.0
#define TOP 70.0
#define ROW_H 24.0
#define SLANT 14.0
#define BREAK_H 26.0

enum row_kind { ROW_ARROW, ROW_STATE, ROW_NOTE, ROW_GAP };

struct srow {
	enum row_kind kind;
	uint64_t t_us;
	int col;      /* STATE/NOTE: column (OFFSTAGE: centred) */
	int from, to; /* ARROW: columns */
	bool retx, lost, late, unsent, uncertain;
	/* layout: where the row is drawn; a state sharing an arrow's row draws no time */
	double y;
	bool merged;
	uint8_t slots; /* ARROW: columns whose state box is already on this row (bit per column) */
	uint64_t brk_us; /* a long gap before this row: drawn as a break above it */
	uint64_t key;  /* ARROW: to find it again for a LOST */
	char text[240];
	char opts[160]; /* ARROW: the options in full, on a second line under the label */
};

struct svg_state {
	bool html;
	struct srow *rows;
	size_t n, cap;
};

static int svg_open_state(struct synack_ladder *l, void **state, bool html)
{
	struct svg_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	s->html = html;
	*state = s;
	return 0;
}

static int svg_open(struct synack_ladder *l, void **state)
{
	return svg_open_state(l, state, false);
}
static int html_open(struct synack_ladder *l, void **state)
{
	return svg_open_state(l, state, true);
}

static struct srow *add_row(struct synack_ladder *l, struct svg_state *s, enum row_kind k,
			    uint64_t t)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct srow *r = realloc(s->rows, cap * sizeof *r);
		if (!r) {
			synack_ladder_io_error(l);
			return NULL;
		}
		s->rows = r;
		s->cap = cap;
	}
	struct srow *r = &s->rows[s->n++];
	memset(r, 0, sizeof *r);
	r->kind = k;
	r->t_us = t;
	r->col = SYNACK_LADDER_OFFSTAGE;
	return r;
}

static uint64_t item_key(const struct synack_ladder_item *it)
{
	return (uint64_t)it->seg.seq << 32 ^ it->seg.ack ^ (uint64_t)it->seg.flags << 24 ^
	       (uint64_t)it->seg.len << 40 ^ it->src.port ^ (uint64_t)it->dst.port << 16;
}

static void add_arrow(struct synack_ladder *l, struct svg_state *s,
		      const struct synack_ladder_item *it)
{
	const struct synack_ladder_opts *o = synack_ladder_opts_of(l);
	struct srow *r = add_row(l, s, ROW_ARROW, it->ev->t_us);
	if (!r)
		return;
	/* The acting host's column first: addresses alone cannot tell two endpoints of one
	 * host apart (a capture on loopback). */
	r->from = it->src_col;
	r->to = it->dst_col;
	if (it->col != SYNACK_LADDER_OFFSTAGE && it->ev->kind == SYNACK_TRACE_TX)
		r->from = it->col, r->to = !it->col;
	else if (it->col != SYNACK_LADDER_OFFSTAGE)
		r->to = it->col, r->from = !it->col;
	if (r->from == SYNACK_LADDER_OFFSTAGE)
		r->from = r->to == SYNACK_LADDER_LEFT ? SYNACK_LADDER_RIGHT : SYNACK_LADDER_LEFT;
	if (r->to == SYNACK_LADDER_OFFSTAGE || r->to == r->from)
		r->to = !r->from;
	r->retx = it->retx;
	r->late = it->arrival == SYNACK_ARRIVAL_DELAYED;
	r->unsent = it->arrival == SYNACK_ARRIVAL_UNSENT;
	r->key = item_key(it);
	char label[128];
	synack_ladder_seg_label(it, o, true, label, sizeof label);
	synack_ladder_opts_label(it, o, true, r->opts, sizeof r->opts);
	snprintf(r->text, sizeof r->text, "%s%s%s%s%s", label, it->retx ? " (retx)" : "",
		 it->note[0] ? " (" : "", it->note, it->note[0] ? ")" : "");
}

static void add_text(struct synack_ladder *l, struct svg_state *s, enum row_kind k, uint64_t t,
		     int col, const char *text)
{
	struct srow *r = add_row(l, s, k, t);
	if (!r)
		return;
	r->col = col;
	snprintf(r->text, sizeof r->text, "%s", text);
}

static void link_event(struct synack_ladder *l, struct svg_state *s,
		       const struct synack_ladder_item *it)
{
	char label[128], text[160];
	if (it->ev->kind == SYNACK_TRACE_LOST && it->has_seg) {
		uint64_t key = item_key(it);
		for (size_t i = s->n; i-- > 0 && i + 64 > s->n;) {
			if (s->rows[i].kind == ROW_ARROW && s->rows[i].key == key &&
			    !s->rows[i].lost) {
				s->rows[i].lost = true;
				return;
			}
		}
	}
	if (it->has_seg)
		synack_ladder_seg_label(it, synack_ladder_opts_of(l), true, label, sizeof label);
	else
		snprintf(label, sizeof label, "a frame");
	snprintf(text, sizeof text, "link: %s %s", synack_trace_kind_name(it->ev->kind), label);
	add_text(l, s, ROW_NOTE, it->ev->t_us, SYNACK_LADDER_OFFSTAGE, text);
}

static void svg_item(struct synack_ladder *l, void *state, const struct synack_ladder_item *it)
{
	struct svg_state *s = state;
	const struct synack_trace_event *ev = it->ev;
	char text[160], ebuf[16];
	switch (ev->kind) {
	case SYNACK_TRACE_TX:
		if (it->has_seg)
			add_arrow(l, s, it);
		break;
	case SYNACK_TRACE_RX:
	case SYNACK_TRACE_DROP:
		if (it->has_seg &&
		    (it->arrival == SYNACK_ARRIVAL_DELAYED || it->arrival == SYNACK_ARRIVAL_UNSENT ||
		     it->arrival == SYNACK_ARRIVAL_PEER))
			add_arrow(l, s, it);
		if (ev->kind == SYNACK_TRACE_DROP) {
			snprintf(text, sizeof text, "dropped: %s",
				 synack_drop_reason_name(ev->reason));
			add_text(l, s, ROW_NOTE, ev->t_us, it->col, text);
		}
		break;
	case SYNACK_TRACE_STATE: {
		struct srow *r = add_row(l, s, ROW_STATE, ev->t_us);
		if (!r)
			break;
		r->col = it->col;
		r->uncertain = ev->uncertain;
		snprintf(r->text, sizeof r->text, "%s%s", synack_state_name(ev->to),
			 ev->uncertain ? "?" : "");
		break;
	}
	case SYNACK_TRACE_TIMER:
		if (ev->timer == SYNACK_TIMER_DELACK)
			break;
		snprintf(text, sizeof text, "%s timer fired", synack_timer_name(ev->timer));
		add_text(l, s, ROW_NOTE, ev->t_us, it->col, text);
		break;
	case SYNACK_TRACE_ERROR:
		snprintf(text, sizeof text, "error %s",
			 synack_errno_name(ev->err, ebuf, sizeof ebuf));
		add_text(l, s, ROW_NOTE, ev->t_us, it->col, text);
		break;
	case SYNACK_TRACE_NOTE:
		add_text(l, s, ROW_GAP, ev->t_us, SYNACK_LADDER_OFFSTAGE, ev->note ? ev->note : "");
		break;
	default:
		link_event(l, s, it);
		break;
	}
}

static double col_x(int col)
{
	return col == SYNACK_LADDER_RIGHT ? XR : XL;
}

static void draw_arrow(FILE *f, const struct srow *r, double y)
{
	double x1 = col_x(r->from), x2 = col_x(r->to), dir = x2 > x1 ? 1 : -1;
	double y2 = y + SLANT;
	const char *cls = r->unsent ? "arrow unsent"
			  : r->late ? "arrow late"
			  : r->retx ? "arrow retx"
				    : "arrow";
	if (r->lost) {
		double xm = (x1 + x2) / 2 + dir * 60, ym = y + SLANT * (xm - x1) / (x2 - x1);
		fprintf(f, "<path class=\"%s\" d=\"M%.1f %.1fL%.1f %.1f\"/>\n", cls, x1, y, xm, ym);
		fprintf(f, "<path class=\"lost\" d=\"M%.1f %.1fl8 8m0 -8l-8 8\"/>\n", xm - 4,
			ym - 4);
	} else {
		fprintf(f, "<path class=\"%s\" d=\"M%.1f %.1fL%.1f %.1f\"/>\n", cls, x1, y, x2, y2);
		fprintf(f, "<path class=\"head%s\" d=\"M%.1f %.1fl%.1f -4.5v9z\"/>\n",
			r->retx ? " retx" : "", x2, y2, -dir * 10);
	}
	fprintf(f, "<text class=\"lbl\" x=\"%.1f\" y=\"%.1f\">", (XL + XR) / 2, y + 3);
	synack_svg_text(f, r->text);
	fputs("</text>\n", f);
	if (r->opts[0]) {
		fprintf(f, "<text class=\"lbl opt\" x=\"%.1f\" y=\"%.1f\">", (XL + XR) / 2,
			y + SLANT + 8);
		synack_svg_text(f, r->opts);
		fputs("</text>\n", f);
	}
}

/* A long gap: each lifeline broken by two slanted strokes, and how long it was. */
static void draw_break(FILE *f, const struct srow *r, double y)
{
	double yb = y - ROW_H / 2 - BREAK_H / 2;
	for (int c = 0; c < 2; c++) {
		double x = col_x(c);
		fprintf(f,
			"<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"8\" fill=\"#fff\"/>"
			"<path class=\"brk\" d=\"M%.1f %.1fl12 -4M%.1f %.1fl12 -4\"/>\n",
			x - 6, yb - 4, x - 6, yb + 1, x - 6, yb + 5);
	}
	fprintf(f,
		"<text class=\"note\" style=\"text-anchor:middle\" x=\"%.1f\" y=\"%.1f\">"
		"%.6g s later</text>\n",
		(XL + XR) / 2, yb + 4, (double)r->brk_us / 1e6);
}

static void draw_row(FILE *f, const struct srow *r, double y)
{
	if (r->brk_us && !r->merged)
		draw_break(f, r, y);
	if (!r->merged)
		fprintf(f, "<text x=\"10\" y=\"%.1f\">%llu.%06llu</text>\n", y + 4,
			(unsigned long long)(r->t_us / 1000000),
			(unsigned long long)(r->t_us % 1000000));
	if (r->kind == ROW_ARROW) {
		draw_arrow(f, r, y);
		return;
	}
	if (r->kind == ROW_STATE) {
		double w = 8.0 * (double)strlen(r->text) + 12,
		       x = r->col == SYNACK_LADDER_RIGHT ? XR + 8 : XL - 8 - w;
		fprintf(f,
			"<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"18\" "
			"rx=\"4\"/>\n",
			r->uncertain ? "stu" : "st", x, y - 9, w);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">", x + 6, y + 4);
		synack_svg_text(f, r->text);
		fputs("</text>\n", f);
		return;
	}
	double x = r->col == SYNACK_LADDER_LEFT	   ? XL - 10
		   : r->col == SYNACK_LADDER_RIGHT ? XR + 10
						   : (XL + XR) / 2;
	const char *anchor = r->col == SYNACK_LADDER_LEFT    ? "end"
			     : r->col == SYNACK_LADDER_RIGHT ? "start"
							     : "middle";
	fprintf(f, "<text class=\"note\" style=\"text-anchor:%s\" x=\"%.1f\" y=\"%.1f\">", anchor,
		x, y + 4);
	synack_svg_text(f, r->text);
	fputs("</text>\n", f);
}

static double row_height(const struct srow *r)
{
	return r->kind == ROW_ARROW ? ROW_H + 6 + (r->opts[0] ? 10 : 0) : ROW_H;
}

/* Can state row r share arrow row a's line (same instant, its column's box still free)? */
static bool can_share(const struct srow *r, const struct srow *a, int col)
{
	return a->kind == ROW_ARROW && a->t_us == r->t_us && col == r->col &&
	       !(a->slots & (1u << col));
}

/* Places the rows, as the text ladder does: a state change shares the row of its host's send
 * at the same instant (drawn at the arrow's start), or of the arrival that caused it (at the
 * arrow's end); everything else gets a row of its own. Returns the height used. */
static double layout(struct svg_state *s, uint64_t break_us)
{
	double y = TOP + 10;
	for (size_t i = 0; i < s->n; i++) {
		struct srow *r = &s->rows[i], *prev = i ? &s->rows[i - 1] : NULL;
		struct srow *next = i + 1 < s->n ? &s->rows[i + 1] : NULL;
		r->merged = false;
		r->brk_us = prev && r->t_us > prev->t_us && r->t_us - prev->t_us >= break_us
				    ? r->t_us - prev->t_us
				    : 0;
		if (r->brk_us)
			y += BREAK_H;
		if (r->kind == ROW_STATE && r->col >= 0) {
			if (prev && can_share(r, prev, prev->to)) {
				r->y = prev->y + SLANT;
				r->merged = true;
				prev->slots |= (uint8_t)(1u << r->col);
				continue;
			}
			if (next && can_share(r, next, next->from)) {
				r->y = y; /* the next row, an arrow, is drawn at y too */
				r->merged = true;
				next->slots |= (uint8_t)(1u << r->col);
				continue;
			}
		}
		r->y = y;
		y += row_height(r);
	}
	return y + 10;
}

static void header(struct synack_ladder *l, FILE *f, double h)
{
	const struct synack_ladder_opts *o = synack_ladder_opts_of(l);
	if (o->title) {
		/* Only the title's first line fits above the columns (SVG text does not wrap); the
		 * whole title is in the <title> element, shown on hover. */
		char first[160];
		size_t n = strcspn(o->title, "\n");
		snprintf(first, sizeof first, "%.*s", (int)(n < sizeof first ? n : sizeof first - 1),
			 o->title);
		fputs("<text class=\"title\" x=\"10\" y=\"18\">", f);
		synack_svg_text(f, first);
		fputs("</text>\n", f);
	}
	fputs("<text x=\"10\" y=\"48\">time (s)</text>\n", f);
	for (int c = 0; c < 2; c++) {
		const char *name = synack_ladder_col_name(l, c);
		struct synack_addr a = synack_ladder_col_addr(l, c);
		char as[SYNACK_ADDR_STRLEN];
		fprintf(f, "<text class=\"host\" x=\"%.1f\" y=\"34\">", col_x(c));
		synack_svg_text(f, name ? name : "?");
		fputs("</text>\n", f);
		if (!synack_addr_is_any(&a))
			fprintf(f, "<text class=\"host\" x=\"%.1f\" y=\"50\">%s</text>\n", col_x(c),
				synack_addr_str(&a, as, sizeof as));
		fprintf(f, "<path class=\"life\" d=\"M%.1f %.1fV%.1f\"/>\n", col_x(c), TOP - 10,
			h - 10);
	}
}

/* With max_rows, the middle rows give way to one marker row. */
static void elide(struct synack_ladder *l, struct svg_state *s)
{
	unsigned max = synack_ladder_opts_of(l)->max_rows;
	if (!max || s->n <= max || max < 2)
		return;
	size_t head = max / 2, tail = max - head, cut = s->n - head - tail;
	struct srow *m = &s->rows[head];
	char text[160];
	snprintf(text, sizeof text, "... %zu rows elided ...", cut);
	uint64_t t = m->t_us;
	memmove(&s->rows[head + 1], &s->rows[s->n - tail], tail * sizeof *m);
	memset(m, 0, sizeof *m);
	m->kind = ROW_GAP;
	m->t_us = t;
	m->col = SYNACK_LADDER_OFFSTAGE;
	snprintf(m->text, sizeof m->text, "%s", text);
	s->n = head + 1 + tail;
}

static void svg_finish(struct synack_ladder *l, void *state)
{
	struct svg_state *s = state;
	FILE *f = synack_ladder_opts_of(l)->out;
	const char *title = synack_ladder_opts_of(l)->title;
	elide(l, s);
	for (size_t i = 0; i < s->n; i++)
		s->rows[i].slots = 0;
	uint64_t brk = synack_ladder_opts_of(l)->break_us;
	double h = layout(s, brk ? brk : 1000000);
	if (s->html) {
		fputs("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\">\n<head>"
		      "<meta charset=\"utf-8\"/>\n<title>",
		      f);
		synack_svg_text(f, title ? title : "synack ladder");
		fputs("</title>\n", f);
		synack_svg_style(f);
		fputs("</head>\n<body>\n", f);
	}
	synack_svg_open(f, W, h, !s->html, title ? title : "synack ladder");
	header(l, f, h);
	for (size_t i = 0; i < s->n; i++)
		draw_row(f, &s->rows[i], s->rows[i].y);
	synack_svg_close(f, !s->html);
	if (s->html) {
		synack_svg_zoom_script(f);
		fputs("</body>\n</html>\n", f);
	}
	s->n = 0;
}

static void svg_close(void *state)
{
	struct svg_state *s = state;
	if (!s)
		return;
	free(s->rows);
	free(s);
}

const struct synack_ladder_backend synack_ladder_svg_backend = {
	.name = "svg",
	.open = svg_open,
	.item = svg_item,
	.finish = svg_finish,
	.close = svg_close,
};

const struct synack_ladder_backend synack_ladder_html_backend = {
	.name = "html",
	.open = html_open,
	.item = svg_item,
	.finish = svg_finish,
	.close = svg_close,
};
