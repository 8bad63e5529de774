/* synack — the time-sequence graph (tcptrace's, Wireshark's "Stevens"/tcptrace stream graph) of
 * one direction of a connection, as SVG:
 *
 *   x: time (seconds since the capture's start); y: sequence number relative to the sender's
 *   ISN. Each data segment is a vertical bar from seq to seq+len at its time (retransmissions
 *   red, out-of-order orange, window probes purple, SYN and FIN as small squares); the
 *   receiver's ACKs are a green step line and its advertised window (ACK + scaled window) a
 *   grey step line above it, so the gap between the bars and the window line is what the
 *   receiver would still take; SACK blocks are light blue bars beside the ACK line.
 *
 * Only the segments the connection kept (conn.h: the first and last N) are drawn; a note says
 * how many were left out.
 */
#ifndef SYNACK_RENDER_TSG_H
#define SYNACK_RENDER_TSG_H

#include <stdbool.h>
#include <stdio.h>

#include "render/conn.h"

struct synack_tsg_opts {
	int dir;	      /* 0: data from ep[0] to ep[1]; 1: the other way */
	bool standalone;      /* a whole SVG file (with the zoom script) vs. an element for HTML */
	double width, height; /* 0: 960 x 540 */
};

/* Picks the direction that carried more payload (ties: 0). */
int synack_tsg_busiest_dir(const struct synack_conn *c);
/* Writes the graph. Returns 0, or -EIO if writing failed. */
int synack_tsg_svg(FILE *out, const struct synack_conn *c, const struct synack_tsg_opts *o);

#endif
