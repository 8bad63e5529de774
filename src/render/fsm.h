/* synack — the state diagram: RFC 9293's eleven states and their transitions (§3.3.2, Figure
 * 5), laid out as the classic diagram, once per side of a connection, with the transitions that
 * side took highlighted, numbered in order and labelled with what caused each one: the segment
 * received ("rcv S."), the timer that fired, or the call ("connect()", "close()"), and the
 * segment sent in reply ("snd S.").
 *
 * It is a trace sink: feed it the events of one connection (a simulation's, a live trace's, or
 * a capture's replayed by render/conn.c), then write the picture. Sides are the hosts that
 * change state, in order of first appearance (or named in advance). Causes are read from the
 * events around each state change at the same instant:
 *   - an arrival at that host (RX, or in a capture's replay the other side's send), or a timer
 *     that fired there, is the trigger;
 *   - the first segment that host sends at the same instant after the change is the action;
 *   - with no trigger seen, the figure's own trigger for that transition is used ("passive
 *     OPEN" becomes "listen()", "CLOSE" becomes "close()", "rcv SYN" stays).
 * Only one connection is drawn: the first that changes state with a known peer (filter the
 * events beforehand to choose another). Transitions the figure does not draw (an abort to CLOSED, FIN-WAIT-1 straight to TIME-WAIT)
 * are drawn as dashed curves.
 */
#ifndef SYNACK_RENDER_FSM_H
#define SYNACK_RENDER_FSM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "synack/trace.h"

#define SYNACK_FSM_MAX_STEPS 48

struct synack_fsm_step {
	uint64_t t_us;
	enum synack_tcp_state from, to;
	bool uncertain;     /* inferred from a capture that missed the start */
	char trigger[32];   /* "rcv S.", "connect()", "time-wait timer" */
	char action[24];    /* "snd S." or "" */
};

struct synack_fsm_side {
	char name[48];
	bool used;
	struct synack_fsm_step steps[SYNACK_FSM_MAX_STEPS];
	unsigned n;
	uint64_t more; /* steps after the first SYNACK_FSM_MAX_STEPS: counted, not drawn */
	/* what was seen at this host, for the causes */
	uint64_t rx_t, timer_t, tx_t;
	bool rx_valid, timer_valid, tx_valid;
	char rx_flags[12], tx_flags[12];
	enum synack_timer_kind timer;
	int pending; /* index of a step waiting for its action, or -1 */
	uint64_t pending_t;
};

struct synack_fsm {
	struct synack_fsm_side side[2];
	/* One connection: the first whose state changes with a known peer (a listener's own
	 * CLOSED -> LISTEN is kept too); events of other connections are ignored. */
	bool locked;
	struct synack_endpoint la, lb;
};

/* Choosing the connection to draw from a whole trace (a first pass): the one whose state
 * changes involve the most hosts (both sides over one side), then the most steps, then the
 * first. A SYN flood's spoofed half-open connections lose to the real one. */
#define SYNACK_FSM_PICK_MAX 64
struct synack_fsm_pick {
	struct {
		struct synack_endpoint a, b;
		char hosts[2][48];
		unsigned nhosts, steps;
	} c[SYNACK_FSM_PICK_MAX];
	unsigned n;
};
void synack_fsm_pick_trace(void *ctx, const struct synack_trace_event *ev);
/* The chosen connection's endpoints; false when no state change had a peer. */
bool synack_fsm_pick_best(const struct synack_fsm_pick *p, struct synack_endpoint *a,
			  struct synack_endpoint *b);

/* Empty; left/right name the sides in advance (NULL: in order of appearance). */
void synack_fsm_init(struct synack_fsm *f, const char *left, const char *right);
void synack_fsm_event(struct synack_fsm *f, const struct synack_trace_event *ev);
/* The same, shaped as a trace sink. */
void synack_fsm_trace(void *ctx, const struct synack_trace_event *ev);
/* Total steps recorded (both sides). */
unsigned synack_fsm_steps(const struct synack_fsm *f);
/* Writes the diagram: standalone, an SVG document (XML declaration, style, zoom script);
 * otherwise an <svg> element to inline in an HTML page that carries synack_svg_style(). A
 * side without steps is left out; with no steps at all, one empty diagram is drawn. Returns 0
 * or -EIO. */
int synack_fsm_svg(FILE *out, const struct synack_fsm *f, bool standalone, const char *title);
/* The steps as text, one per line ("client  1  0.000000  CLOSED -> SYN-SENT  connect() / snd
 * S"), for terminals and tests. Returns 0 or -EIO. */
int synack_fsm_text(FILE *out, const struct synack_fsm *f);

#endif
