/* The state diagram (RFC 9293 §3.3.2, Figure 5), lit by a run: see fsm.h.
 *
 * Layout: the figure's own places, CLOSED at the top, the handshake states below it (SYN-RCVD
 * on the left, SYN-SENT on the right), ESTAB in the middle, the active close down the left, the
 * passive close down the right, TIME-WAIT at the bottom and a second CLOSED beside it where the
 * figure ends the closes. Edges are quadratic curves between the boxes; an edge and its reverse
 * bow to opposite sides, so both stay visible.
 */
#include "render/fsm.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "render/svg_ladder.h"
#include "synack/wire.h"

/* ---- recording ----------------------------------------------------------------------- */

void synack_fsm_init(struct synack_fsm *f, const char *left, const char *right)
{
	memset(f, 0, sizeof *f);
	const char *names[2] = {left, right};
	for (int s = 0; s < 2; s++) {
		f->side[s].pending = -1;
		if (names[s]) {
			snprintf(f->side[s].name, sizeof f->side[s].name, "%s", names[s]);
			f->side[s].used = true;
		}
	}
}

static struct synack_fsm_side *side_of(struct synack_fsm *f, const char *host, bool create)
{
	if (!host)
		return NULL;
	for (int s = 0; s < 2; s++)
		if (f->side[s].used && !strcmp(f->side[s].name, host))
			return &f->side[s];
	if (!create)
		return NULL;
	for (int s = 0; s < 2; s++) {
		if (f->side[s].used)
			continue;
		snprintf(f->side[s].name, sizeof f->side[s].name, "%s", host);
		f->side[s].used = true;
		return &f->side[s];
	}
	return NULL; /* a third host: not drawn */
}

static struct synack_fsm_side *other_side(struct synack_fsm *f, const struct synack_fsm_side *s)
{
	struct synack_fsm_side *o = s == &f->side[0] ? &f->side[1] : &f->side[0];
	return o->used ? o : NULL;
}

/* The figure's trigger for a transition when none was seen, in the words of a program. */
static const char *default_trigger(enum synack_tcp_state from, enum synack_tcp_state to)
{
	if (from == SYNACK_CLOSED && to == SYNACK_LISTEN)
		return "listen()";
	if (from == SYNACK_CLOSED && to == SYNACK_SYN_SENT)
		return "connect()";
	if (from == SYNACK_LISTEN && to == SYNACK_SYN_SENT)
		return "send()";
	if (to == SYNACK_FIN_WAIT_1 || to == SYNACK_LAST_ACK)
		return "close()";
	if (from == SYNACK_LISTEN && to == SYNACK_SYN_RECEIVED)
		return "rcv SYN";
	if (from == SYNACK_SYN_SENT && to == SYNACK_SYN_RECEIVED)
		return "rcv SYN";
	if (from == SYNACK_SYN_SENT && to == SYNACK_ESTABLISHED)
		return "rcv SYN,ACK";
	if (from == SYNACK_SYN_RECEIVED && to == SYNACK_ESTABLISHED)
		return "rcv ACK of SYN";
	if (to == SYNACK_CLOSE_WAIT || to == SYNACK_CLOSING ||
	    (from == SYNACK_FIN_WAIT_2 && to == SYNACK_TIME_WAIT))
		return "rcv FIN";
	if (to == SYNACK_FIN_WAIT_2 || (from == SYNACK_CLOSING && to == SYNACK_TIME_WAIT) ||
	    (from == SYNACK_LAST_ACK && to == SYNACK_CLOSED))
		return "rcv ACK of FIN";
	if (from == SYNACK_TIME_WAIT && to == SYNACK_CLOSED)
		return "2MSL timeout";
	if (from == SYNACK_SYN_RECEIVED && to == SYNACK_LISTEN)
		return "rcv RST";
	if (to == SYNACK_CLOSED)
		return "close()";
	return "";
}

/* Transitions the figure triggers by a call (OPEN, SEND, CLOSE): whatever arrived at the same
 * instant only woke the program that made the call. */
static bool call_transition(enum synack_tcp_state from, enum synack_tcp_state to)
{
	return from == SYNACK_CLOSED || (from == SYNACK_LISTEN && to == SYNACK_SYN_SENT) ||
	       to == SYNACK_FIN_WAIT_1 || to == SYNACK_LAST_ACK;
}

static void add_step(struct synack_fsm_side *s, const struct synack_trace_event *ev)
{
	if (s->n == SYNACK_FSM_MAX_STEPS) {
		s->more++;
		return;
	}
	struct synack_fsm_step *st = &s->steps[s->n];
	memset(st, 0, sizeof *st);
	st->t_us = ev->t_us;
	st->from = ev->from;
	st->to = ev->to;
	st->uncertain = ev->uncertain;
	if (ev->uncertain && ev->from == SYNACK_CLOSED) {
		/* a capture that began mid-connection: no cause to show */
		snprintf(st->trigger, sizeof st->trigger, "capture began");
		s->pending = -1;
		s->n++;
		return;
	}
	bool rst_in = s->rx_valid && s->rx_t == ev->t_us && strchr(s->rx_flags, 'R');
	if (ev->to == SYNACK_CLOSED && !rst_in && s->tx_valid && s->tx_t == ev->t_us &&
	    strchr(s->tx_flags, 'R')) {
		/* an abort: the RST went out first, then the connection was gone */
		snprintf(st->trigger, sizeof st->trigger, "abort");
		snprintf(st->action, sizeof st->action, "snd %s", s->tx_flags);
	} else if (call_transition(ev->from, ev->to))
		snprintf(st->trigger, sizeof st->trigger, "%s", default_trigger(ev->from, ev->to));
	else if (s->rx_valid && s->rx_t == ev->t_us)
		snprintf(st->trigger, sizeof st->trigger, "rcv %s", s->rx_flags);
	else if (s->timer_valid && s->timer_t == ev->t_us)
		snprintf(st->trigger, sizeof st->trigger, "%s timer", synack_timer_name(s->timer));
	else
		snprintf(st->trigger, sizeof st->trigger, "%s", default_trigger(ev->from, ev->to));
	s->pending = st->action[0] ? -1 : (int)s->n;
	s->pending_t = ev->t_us;
	s->n++;
}

/* A segment: the action of its sender's pending step, and (at the same instant) what its
 * receiver saw arrive. In a stack's trace the RX says so; in a capture's replay there is no
 * RX, so the send stands for the arrival at the other side. */
static void on_segment(struct synack_fsm *f, const struct synack_trace_event *ev)
{
	char flags[12];
	synack_tcp_flags_str(ev->seg->flags, flags, sizeof flags);
	struct synack_fsm_side *s = side_of(f, ev->host, false);
	if (ev->kind == SYNACK_TRACE_RX) {
		if (s) {
			s->rx_valid = true;
			s->rx_t = ev->t_us;
			snprintf(s->rx_flags, sizeof s->rx_flags, "%s", flags);
		}
		return;
	}
	if (ev->kind != SYNACK_TRACE_TX || !s)
		return;
	s->tx_valid = true;
	s->tx_t = ev->t_us;
	snprintf(s->tx_flags, sizeof s->tx_flags, "%s", flags);
	if (s->pending >= 0 && s->pending_t == ev->t_us) {
		snprintf(s->steps[s->pending].action, sizeof s->steps[s->pending].action, "snd %s",
			 flags);
		s->pending = -1;
	}
	struct synack_fsm_side *o = other_side(f, s);
	if (o && !(o->rx_valid && o->rx_t == ev->t_us)) {
		o->rx_valid = true;
		o->rx_t = ev->t_us;
		snprintf(o->rx_flags, sizeof o->rx_flags, "%s", flags);
	}
}

static bool ep_eq(const struct synack_endpoint *x, const struct synack_endpoint *y)
{
	return !memcmp(&x->addr, &y->addr, sizeof x->addr) && x->port == y->port;
}

/* Whether ev belongs to the connection drawn (locking on the first one with a peer). */
static bool wanted(struct synack_fsm *f, const struct synack_trace_event *ev)
{
	if (!ev->has_conn)
		return ev->kind != SYNACK_TRACE_STATE || !f->locked;
	if (ev->remote.port == 0) /* a listener: its own LISTEN, not a connection's */
		return ev->kind == SYNACK_TRACE_STATE;
	if (!f->locked) {
		if (ev->kind != SYNACK_TRACE_STATE)
			return true;
		f->locked = true;
		f->la = ev->local;
		f->lb = ev->remote;
		return true;
	}
	return (ep_eq(&ev->local, &f->la) && ep_eq(&ev->remote, &f->lb)) ||
	       (ep_eq(&ev->local, &f->lb) && ep_eq(&ev->remote, &f->la));
}

void synack_fsm_event(struct synack_fsm *f, const struct synack_trace_event *ev)
{
	if (!f || !ev || !wanted(f, ev))
		return;
	for (int i = 0; i < 2; i++) /* a pending step's instant has passed */
		if (f->side[i].pending >= 0 && f->side[i].pending_t != ev->t_us)
			f->side[i].pending = -1;
	struct synack_fsm_side *s;
	switch (ev->kind) {
	case SYNACK_TRACE_STATE:
		s = side_of(f, ev->host, true);
		if (s)
			add_step(s, ev);
		break;
	case SYNACK_TRACE_TIMER:
		s = side_of(f, ev->host, false);
		if (s && ev->timer != SYNACK_TIMER_DELACK) {
			s->timer_valid = true;
			s->timer_t = ev->t_us;
			s->timer = ev->timer;
		}
		break;
	case SYNACK_TRACE_TX:
	case SYNACK_TRACE_RX:
		if (ev->seg)
			on_segment(f, ev);
		break;
	default:
		break;
	}
}

void synack_fsm_trace(void *ctx, const struct synack_trace_event *ev)
{
	synack_fsm_event(ctx, ev);
}

unsigned synack_fsm_steps(const struct synack_fsm *f)
{
	return f->side[0].n + f->side[1].n;
}

/* ---- choosing a connection ------------------------------------------------------------ */

void synack_fsm_pick_trace(void *ctx, const struct synack_trace_event *ev)
{
	struct synack_fsm_pick *p = ctx;
	if (ev->kind != SYNACK_TRACE_STATE || !ev->has_conn || ev->remote.port == 0 || !ev->host)
		return;
	unsigned i = 0;
	for (; i < p->n; i++)
		if ((ep_eq(&p->c[i].a, &ev->local) && ep_eq(&p->c[i].b, &ev->remote)) ||
		    (ep_eq(&p->c[i].a, &ev->remote) && ep_eq(&p->c[i].b, &ev->local)))
			break;
	if (i == p->n) {
		if (p->n == SYNACK_FSM_PICK_MAX)
			return;
		memset(&p->c[i], 0, sizeof p->c[i]);
		p->c[i].a = ev->local;
		p->c[i].b = ev->remote;
		p->n++;
	}
	p->c[i].steps++;
	for (unsigned h = 0; h < p->c[i].nhosts; h++)
		if (!strcmp(p->c[i].hosts[h], ev->host))
			return;
	if (p->c[i].nhosts < 2)
		snprintf(p->c[i].hosts[p->c[i].nhosts++], sizeof p->c[i].hosts[0], "%s", ev->host);
}

bool synack_fsm_pick_best(const struct synack_fsm_pick *p, struct synack_endpoint *a,
			  struct synack_endpoint *b)
{
	int best = -1;
	for (unsigned i = 0; i < p->n; i++) {
		if (best >= 0 && (p->c[i].nhosts < p->c[best].nhosts ||
				  (p->c[i].nhosts == p->c[best].nhosts &&
				   p->c[i].steps <= p->c[best].steps)))
			continue;
		best = (int)i;
	}
	if (best < 0)
		return false;
	*a = p->c[best].a;
	*b = p->c[best].b;
	return true;
}

/* ---- text ---------------------------------------------------------------------------- */

static void step_text(const struct synack_fsm_step *st, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s%s%s", st->trigger, st->action[0] ? " / " : "", st->action);
}

int synack_fsm_text(FILE *out, const struct synack_fsm *f)
{
	char why[64];
	for (int s = 0; s < 2; s++) {
		const struct synack_fsm_side *sd = &f->side[s];
		for (unsigned i = 0; i < sd->n; i++) {
			const struct synack_fsm_step *st = &sd->steps[i];
			step_text(st, why, sizeof why);
			fprintf(out, "%-22s %2u %6llu.%06llu  %s -> %s%s  %s\n", sd->name, i + 1,
				(unsigned long long)(st->t_us / 1000000),
				(unsigned long long)(st->t_us % 1000000), synack_state_name(st->from),
				synack_state_name(st->to), st->uncertain ? "?" : "", why);
		}
		if (sd->more)
			fprintf(out, "%-22s    (%llu more not listed)\n", sd->name,
				(unsigned long long)sd->more);
	}
	return fflush(out) == 0 && !ferror(out) ? 0 : -EIO;
}

/* ---- the picture --------------------------------------------------------------------- */

#define PANEL_W 660.0
#define DIAG_H 720.0
#define BOX_HW 58.0
#define BOX_HH 15.0
#define LINE_H 15.0

/* Node 11 is the figure's second CLOSED, where the closes end. */
#define NODE_CLOSED_END SYNACK_STATE_COUNT
#define NODES (SYNACK_STATE_COUNT + 1)

struct pt {
	double x, y;
};

static const struct pt node_at[NODES] = {
	[SYNACK_CLOSED] = {350, 60},	   [SYNACK_LISTEN] = {350, 160},
	[SYNACK_SYN_RECEIVED] = {130, 270}, [SYNACK_SYN_SENT] = {570, 270},
	[SYNACK_ESTABLISHED] = {350, 380}, [SYNACK_FIN_WAIT_1] = {130, 490},
	[SYNACK_CLOSE_WAIT] = {570, 490},  [SYNACK_FIN_WAIT_2] = {130, 600},
	[SYNACK_CLOSING] = {350, 600},	   [SYNACK_LAST_ACK] = {570, 600},
	[SYNACK_TIME_WAIT] = {350, 690},   [NODE_CLOSED_END] = {570, 690},
};

struct edge {
	enum synack_tcp_state from, to;
	const char *label; /* the figure's: event / action */
	double bend;
};

/* RFC 9293 Figure 5, every arrow. */
static const struct edge figure[] = {
	{SYNACK_CLOSED, SYNACK_LISTEN, "passive OPEN", 22},
	{SYNACK_LISTEN, SYNACK_CLOSED, "CLOSE", 22},
	{SYNACK_CLOSED, SYNACK_SYN_SENT, "active OPEN / snd SYN", -30},
	{SYNACK_LISTEN, SYNACK_SYN_RECEIVED, "rcv SYN / snd SYN,ACK", 16},
	{SYNACK_LISTEN, SYNACK_SYN_SENT, "SEND / snd SYN", -16},
	{SYNACK_SYN_SENT, SYNACK_SYN_RECEIVED, "rcv SYN / snd SYN,ACK", -26},
	{SYNACK_SYN_RECEIVED, SYNACK_LISTEN, "rcv RST", 16},
	{SYNACK_SYN_SENT, SYNACK_CLOSED, "CLOSE", -30},
	{SYNACK_SYN_RECEIVED, SYNACK_ESTABLISHED, "rcv ACK of SYN", -16},
	{SYNACK_SYN_SENT, SYNACK_ESTABLISHED, "rcv SYN,ACK / snd ACK", 16},
	{SYNACK_SYN_RECEIVED, SYNACK_FIN_WAIT_1, "CLOSE / snd FIN", 0},
	{SYNACK_ESTABLISHED, SYNACK_FIN_WAIT_1, "CLOSE / snd FIN", 16},
	{SYNACK_ESTABLISHED, SYNACK_CLOSE_WAIT, "rcv FIN / snd ACK", -16},
	{SYNACK_FIN_WAIT_1, SYNACK_FIN_WAIT_2, "rcv ACK of FIN", 0},
	{SYNACK_FIN_WAIT_1, SYNACK_CLOSING, "rcv FIN / snd ACK", -12},
	{SYNACK_CLOSE_WAIT, SYNACK_LAST_ACK, "CLOSE / snd FIN", 0},
	{SYNACK_FIN_WAIT_2, SYNACK_TIME_WAIT, "rcv FIN / snd ACK", 16},
	{SYNACK_CLOSING, SYNACK_TIME_WAIT, "rcv ACK of FIN", 0},
	{SYNACK_LAST_ACK, SYNACK_CLOSED, "rcv ACK of FIN", 0},
	{SYNACK_TIME_WAIT, SYNACK_CLOSED, "Timeout=2MSL", 0},
};
#define FIGURE_EDGES (sizeof figure / sizeof figure[0])

/* Where a transition into CLOSED ends: the top box from the handshake states, the figure's
 * second one from everything after ESTABLISHED. */
static int node_to(enum synack_tcp_state from, enum synack_tcp_state to)
{
	if (to != SYNACK_CLOSED)
		return (int)to;
	bool early = from == SYNACK_CLOSED || from == SYNACK_LISTEN || from == SYNACK_SYN_SENT ||
		     from == SYNACK_SYN_RECEIVED;
	return early ? SYNACK_CLOSED : NODE_CLOSED_END;
}

static int figure_edge(enum synack_tcp_state from, enum synack_tcp_state to)
{
	for (size_t i = 0; i < FIGURE_EDGES; i++)
		if (figure[i].from == from && figure[i].to == to)
			return (int)i;
	return -1;
}

/* Where the ray from a box's centre toward p leaves the box. */
static struct pt box_exit(struct pt c, struct pt p)
{
	double dx = p.x - c.x, dy = p.y - c.y;
	double tx = dx != 0 ? BOX_HW / fabs(dx) : 1e9, ty = dy != 0 ? BOX_HH / fabs(dy) : 1e9;
	double t = tx < ty ? tx : ty;
	if (t > 1)
		t = 1;
	return (struct pt){c.x + dx * t, c.y + dy * t};
}

struct curve {
	struct pt a, c, b; /* start, control, end */
};

static struct curve edge_curve(int na, int nb, double bend)
{
	struct pt A = node_at[na], B = node_at[nb];
	double dx = B.x - A.x, dy = B.y - A.y, len = sqrt(dx * dx + dy * dy);
	if (len < 1)
		len = 1;
	/* perpendicular, to the right of the direction of travel */
	struct pt C = {(A.x + B.x) / 2 - dy / len * bend, (A.y + B.y) / 2 + dx / len * bend};
	return (struct curve){box_exit(A, C), C, box_exit(B, C)};
}

static struct pt curve_at(const struct curve *k, double t)
{
	double u = 1 - t;
	return (struct pt){u * u * k->a.x + 2 * u * t * k->c.x + t * t * k->b.x,
			   u * u * k->a.y + 2 * u * t * k->c.y + t * t * k->b.y};
}

static void draw_curve(FILE *out, const struct curve *k, double ox, double oy, const char *cls,
		       const char *style)
{
	fprintf(out, "<path class=\"%s\"%s d=\"M%.1f %.1fQ%.1f %.1f %.1f %.1f\"/>\n", cls, style,
		ox + k->a.x, oy + k->a.y, ox + k->c.x, oy + k->c.y, ox + k->b.x, oy + k->b.y);
	/* the head, along the curve's last tangent */
	double dx = k->b.x - k->c.x, dy = k->b.y - k->c.y, len = sqrt(dx * dx + dy * dy);
	if (len < 1)
		return;
	dx /= len, dy /= len;
	double bx = ox + k->b.x, by = oy + k->b.y;
	fprintf(out, "<path class=\"%s h\"%s d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1fz\"/>\n", cls, style,
		bx, by, bx - 9 * dx - 4 * dy, by - 9 * dy + 4 * dx, bx - 9 * dx + 4 * dy,
		by - 9 * dy - 4 * dx);
}

static const char *const side_colour[2] = {"#1f77b4", "#d95f02"};

/* A point beside the curve's middle, on its outer side, and the text anchor that keeps a
 * label there clear of the curve. */
static struct pt beside(const struct curve *k, double gap, const char **anchor)
{
	struct pt m = curve_at(k, 0.5);
	double nx = m.x - (k->a.x + k->b.x) / 2, ny = m.y - (k->a.y + k->b.y) / 2;
	double len = sqrt(nx * nx + ny * ny);
	if (len < 1) { /* straight: the right of the direction of travel */
		nx = -(k->b.y - k->a.y), ny = k->b.x - k->a.x;
		len = sqrt(nx * nx + ny * ny);
		if (len < 1)
			len = 1;
	}
	nx /= len, ny /= len;
	*anchor = nx < -0.3 ? "end" : nx > 0.3 ? "start" : "middle";
	return (struct pt){m.x + nx * gap, m.y + ny * gap + (ny > 0.3 ? 8 : 0)};
}

static void draw_figure(FILE *out, double ox, double oy)
{
	for (size_t i = 0; i < FIGURE_EDGES; i++) {
		const struct edge *e = &figure[i];
		struct curve k = edge_curve((int)e->from, node_to(e->from, e->to), e->bend);
		draw_curve(out, &k, ox, oy, "fe", "");
		const char *anchor;
		struct pt m = beside(&k, 4, &anchor);
		fprintf(out, "<text class=\"fl\" style=\"text-anchor:%s\" x=\"%.1f\" y=\"%.1f\">",
			anchor, ox + m.x, oy + m.y);
		synack_svg_text(out, e->label);
		fputs("</text>\n", out);
	}
}

/* Which nodes a side visited, and where it ended. */
static void visited(const struct synack_fsm_side *sd, bool seen[NODES], int *last)
{
	memset(seen, 0, NODES * sizeof seen[0]);
	*last = -1;
	for (unsigned i = 0; i < sd->n; i++) {
		const struct synack_fsm_step *st = &sd->steps[i];
		int a = (int)st->from, b = node_to(st->from, st->to);
		if (i == 0)
			seen[a] = true;
		seen[b] = true;
		*last = b;
	}
}

static void draw_boxes(FILE *out, const struct synack_fsm_side *sd, int s, double ox, double oy)
{
	bool seen[NODES];
	int last;
	visited(sd, seen, &last);
	for (int n = 0; n < NODES; n++) {
		struct pt p = node_at[n];
		const char *name = synack_state_name(n == NODE_CLOSED_END ? SYNACK_CLOSED
									: (enum synack_tcp_state)n);
		fprintf(out,
			"<rect class=\"fb%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.0f\" height=\"%.0f\" "
			"rx=\"6\"",
			seen[n] ? " on" : "", ox + p.x - BOX_HW, oy + p.y - BOX_HH, 2 * BOX_HW,
			2 * BOX_HH);
		if (seen[n])
			fprintf(out, " style=\"stroke:%s;stroke-width:%s\"", side_colour[s],
				n == last ? "3.5" : "2");
		fputs("/>\n", out);
		fprintf(out, "<text class=\"fn\" x=\"%.1f\" y=\"%.1f\">%s</text>\n", ox + p.x,
			oy + p.y + 4, name);
	}
}

/* The side's transitions over the figure: its colour, a numbered badge on each, and the
 * trigger beside the badge. A transition taken again gets its badge further along. */
static void draw_steps(FILE *out, const struct synack_fsm_side *sd, int s, double ox, double oy)
{
	unsigned times[NODES][NODES] = {{0}};
	char style[64], why[64];
	snprintf(style, sizeof style, " style=\"stroke:%s;fill:none\"", side_colour[s]);
	for (unsigned i = 0; i < sd->n; i++) {
		const struct synack_fsm_step *st = &sd->steps[i];
		int a = (int)st->from, b = node_to(st->from, st->to), fe = figure_edge(st->from, st->to);
		struct curve k = edge_curve(a, b, fe >= 0 ? figure[fe].bend : 40);
		draw_curve(out, &k, ox, oy, fe >= 0 ? "fs" : "fs extra", style);
		unsigned rep = times[a][b]++;
		struct pt m = curve_at(&k, 0.3 + 0.16 * (rep % 4));
		step_text(st, why, sizeof why);
		fprintf(out, "<g class=\"fstep\"><title>%u: %s -&gt; %s: ", i + 1,
			synack_state_name(st->from), synack_state_name(st->to));
		synack_svg_text(out, why);
		fprintf(out,
			"</title><circle cx=\"%.1f\" cy=\"%.1f\" r=\"9\" style=\"fill:%s\"/>"
			"<text class=\"fnum\" x=\"%.1f\" y=\"%.1f\">%u</text>",
			ox + m.x, oy + m.y, side_colour[s], ox + m.x, oy + m.y + 4, i + 1);
		/* beside the badge; above it on a level edge, where the boxes are close */
		bool level = fabs(k.b.y - k.a.y) < 10;
		fprintf(out,
			"<text class=\"fwhy\" x=\"%.1f\" y=\"%.1f\" style=\"fill:%s%s\">",
			ox + m.x + (level ? 0 : 12), oy + m.y + (level ? -13 : 4), side_colour[s],
			level ? ";text-anchor:middle" : "");
		synack_svg_text(out, st->trigger);
		fputs("</text></g>\n", out);
	}
}

static void draw_list(FILE *out, const struct synack_fsm_side *sd, int s, double ox, double y)
{
	char why[64], line[160];
	for (unsigned i = 0; i < sd->n; i++, y += LINE_H) {
		const struct synack_fsm_step *st = &sd->steps[i];
		step_text(st, why, sizeof why);
		snprintf(line, sizeof line, "%2u  %llu.%06llu  %s -> %s%s: %s", i + 1,
			 (unsigned long long)(st->t_us / 1000000),
			 (unsigned long long)(st->t_us % 1000000), synack_state_name(st->from),
			 synack_state_name(st->to), st->uncertain ? "?" : "", why);
		fprintf(out, "<text class=\"flist\" x=\"%.1f\" y=\"%.1f\" style=\"fill:%s\">",
			ox + 20, y, side_colour[s]);
		synack_svg_text(out, line);
		fputs("</text>\n", out);
	}
	if (sd->more)
		fprintf(out, "<text class=\"flist\" x=\"%.1f\" y=\"%.1f\">(%llu more)</text>\n",
			ox + 20, y, (unsigned long long)sd->more);
}

static void fsm_style(FILE *out)
{
	fputs("<style>\n"
	      ".fe{stroke:#c8c8c8;stroke-width:1.2;fill:none}.fe.h{fill:#c8c8c8;stroke:none}\n"
	      "svg.zoom text.fl{font-size:9px;fill:#999;text-anchor:middle}\n"
	      ".fb{fill:#fafafa;stroke:#aaa;stroke-width:1.2}.fb.on{fill:#fff}\n"
	      "svg.zoom text.fn{font-size:12px;font-weight:bold;text-anchor:middle}\n"
	      ".fs{stroke-width:3}.fs.extra{stroke-dasharray:6 4}.fs.h{stroke-width:1}\n"
	      "svg.zoom text.fnum{font-size:11px;font-weight:bold;fill:#fff;text-anchor:middle}\n"
	      "svg.zoom text.fwhy{font-size:10px;font-weight:bold;paint-order:stroke;"
	      "stroke:#fff;stroke-width:3px}\n"
	      "svg.zoom text.flist{font-size:11px}svg.zoom text.fside{font-size:14px;"
	      "font-weight:bold}\n"
	      "</style>\n",
	      out);
}

int synack_fsm_svg(FILE *out, const struct synack_fsm *f, bool standalone, const char *title)
{
	int sides[2], ns = 0;
	unsigned rows = 0;
	for (int s = 0; s < 2; s++) {
		if (f->side[s].n) {
			sides[ns++] = s;
			unsigned r = f->side[s].n + (f->side[s].more ? 1 : 0);
			rows = r > rows ? r : rows;
		}
	}
	if (!ns)
		sides[ns++] = 0;
	double w = PANEL_W * ns, top = 40, h = top + DIAG_H + 20 + rows * LINE_H + 10;
	synack_svg_open(out, w, h, standalone, title ? title : "RFC 9293 state diagram");
	fsm_style(out);
	if (title) {
		fputs("<text class=\"title\" x=\"10\" y=\"18\">", out);
		synack_svg_text(out, title);
		fputs("</text>\n", out);
	}
	for (int i = 0; i < ns; i++) {
		int s = sides[i];
		const struct synack_fsm_side *sd = &f->side[s];
		double ox = PANEL_W * i;
		fprintf(out, "<text class=\"fside\" x=\"%.1f\" y=\"%.1f\" style=\"fill:%s\">",
			ox + 20, top + 4, side_colour[s]);
		synack_svg_text(out, sd->n ? sd->name : "no state changes");
		fputs("</text>\n", out);
		draw_figure(out, ox, top);
		draw_boxes(out, sd, s, ox, top);
		draw_steps(out, sd, s, ox, top);
		draw_list(out, sd, s, ox, top + DIAG_H + 20);
	}
	synack_svg_close(out, standalone);
	return fflush(out) == 0 && !ferror(out) ? 0 : -EIO;
}
