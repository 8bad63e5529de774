/* synack — the time-sequence graph (tcptrace's, Wireshark's "Stevens"/tcptrace stream graph) of
 * one direction of a connection, as SVG, and its companion graphs:
 *
 *   x: time since the capture began, in µs, ms, s or minutes as the span asks; y: sequence
 *   number relative to the sender's ISN. Each data segment is a bar from seq to seq+len at its
 *   time, with a serif at each end as tcptrace draws it (retransmissions red with an "R" above
 *   them at any scale, out-of-order orange, window probes purple, SYN and FIN as small
 *   squares); the receiver's ACKs are a green step line and its advertised window (ACK +
 *   scaled window) a grey step line above it, so the gap between the bars and the window line
 *   is what the receiver would still take; SACK blocks are light blue bars beside the ACK
 *   line; duplicate ACKs are yellow diamonds on it (the third marked "3"), zero windows brown
 *   squares marked "Z". The ACK and window lines are drawn first and the data over them, so a
 *   microsecond round trip does not hide the bars. A window above the plot is dotted along its
 *   top with a note saying how far it goes, not cut off.
 *
 *   Companions, on the same time axis: the bytes in flight (sent and not yet acknowledged: what
 *   a capture shows of the congestion window), the round-trip time samples (a segment's send to
 *   the first ACK covering it, Karn's rule: never for a retransmitted range), and the
 *   throughput (bytes newly acknowledged per interval).
 *
 * Only the segments the connection kept (conn.h: the first and last N; --from/--to) are drawn;
 * a note says how many were left out.
 */
#ifndef SYNACK_RENDER_TSG_H
#define SYNACK_RENDER_TSG_H

#include <stdbool.h>
#include <stdio.h>

#include "render/conn.h"

struct synack_tsg_opts {
	int dir;	      /* 0: data from ep[0] to ep[1]; 1: the other way */
	bool standalone;      /* a whole SVG file (with the zoom script) vs. an element for HTML */
	double width, height; /* 0: 960 x 540 (companions: 960 x 600) */
	bool cwnd_only;	      /* companions: only the first panel (cwnd, or in flight) */
};

/* Picks the direction that carried more payload (ties: 0). */
int synack_tsg_busiest_dir(const struct synack_conn *c);
/* Writes the graph. Returns 0, or -EIO if writing failed. */
int synack_tsg_svg(FILE *out, const struct synack_conn *c, const struct synack_tsg_opts *o);
/* Writes the companion graphs (in flight, RTT, throughput) of the same direction, stacked.
 * When the records carry the sender's own congestion state (a trace of a synack stack), the
 * first panel is its cwnd and ssthresh (step lines) with its bytes in flight instead of the
 * estimate.
 * Returns 0, or -EIO / -ENOMEM. */
int synack_tsg_companions_svg(FILE *out, const struct synack_conn *c,
			      const struct synack_tsg_opts *o);

/* The unit a time axis over span_us reads best in: µs below 2 ms, ms below 2 s, s below 3
 * minutes, then minutes. */
struct synack_time_unit {
	double div; /* microseconds per unit */
	const char *name;
};
void synack_tsg_time_unit(uint64_t span_us, struct synack_time_unit *u);
/* A time axis along y0 from x0 (t0) to x1 (t1) in that unit, with its label when asked. */
void synack_tsg_time_axis(FILE *f, uint64_t t0, uint64_t t1, double x0, double x1, double y0,
			  bool label);
/* 1, 2 or 5 times a power of ten: a tick step giving about n ticks over span. */
double synack_tsg_nice_step(double span, int n);

#endif
