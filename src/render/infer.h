/* synack — what a capture says about a connection: each endpoint's RFC 9293 state as the state
 * machine would have moved through it (§3.3.2, Figure 5), and what is remarkable about each
 * segment (retransmission, out-of-order, duplicate ACK, zero window, window probe, reset).
 *
 * A capture shows segments, not states, so states are inferred from evidence:
 *   - what an endpoint sends proves what it did: a SYN means SYN-SENT, a SYN-ACK means it got a
 *     SYN (SYN-RECEIVED), a FIN means it closed (FIN-WAIT-1, or LAST-ACK after the peer's FIN);
 *   - an ACK covering the peer's FIN proves the FIN arrived (CLOSE-WAIT, CLOSING or TIME-WAIT),
 *     which also tells a simultaneous close (each FIN sent before the other's arrived) from an
 *     ordinary one;
 *   - an ACK of an endpoint's SYN or FIN is taken to arrive when it is seen (SYN-SENT ->
 *     ESTABLISHED, SYN-RECEIVED -> ESTABLISHED, FIN-WAIT-1 -> FIN-WAIT-2, LAST-ACK -> CLOSED);
 *   - a RST closes both sides.
 * TIME-WAIT's end (2*MSL later) is never on the wire, so the side that closed first stays in
 * TIME-WAIT. A capture that starts mid-connection starts both sides in ESTABLISHED, marked
 * uncertain ("ESTABLISHED?"), and every state inferred after that stays uncertain except CLOSED.
 *
 * Memory is a fixed-size struct per connection, whatever its length.
 */
#ifndef SYNACK_RENDER_INFER_H
#define SYNACK_RENDER_INFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "synack/socket.h"
#include "synack/wire.h"

/* Marks on a segment. */
#define SYNACK_MARK_RETX 0x01u	    /* its sequence range was sent before */
#define SYNACK_MARK_OOO 0x02u	    /* fills a gap below the highest sequence seen */
#define SYNACK_MARK_DUPACK 0x04u    /* repeats the last ACK with nothing new */
#define SYNACK_MARK_ZEROWIN 0x08u   /* advertises a zero window */
#define SYNACK_MARK_PROBE 0x10u	    /* data sent into the peer's zero window */
#define SYNACK_MARK_RST 0x20u	    /* a reset */
#define SYNACK_MARK_KEEPALIVE 0x40u /* seq one below the next: a keep-alive */
#define SYNACK_MARK_WINUPD 0x80u    /* same ACK, new window: a window update */

#define SYNACK_INFER_HOLES 4 /* gaps below the highest sequence remembered per direction */

struct synack_infer_hole {
	uint32_t lo, hi; /* [lo, hi) not seen yet */
	uint64_t t_us;	 /* when the gap appeared */
};

/* What one endpoint has sent. */
struct synack_infer_dir {
	bool has_isn, has_nxt, has_ack, fin_sent, fin_acked, peer_fin_rcvd, fin_first;
	bool wscale_ok;
	bool probed;   /* the last data it sent was a window probe */
	bool bare_syn; /* it sent a SYN without ACK (an active open) */
	uint8_t wscale;
	uint32_t isn, nxt; /* ISN; highest sequence sent + 1 (SND.MAX) */
	uint32_t fin_seq;
	uint32_t last_ack;
	uint16_t last_win;
	uint32_t dupacks; /* duplicate ACKs in a row */
	struct synack_infer_hole holes[SYNACK_INFER_HOLES];
	uint8_t nholes;
};

struct synack_infer {
	bool started;	   /* a segment was seen */
	bool uncertain;	   /* the capture missed the beginning */
	bool reset;	   /* a RST closed the connection */
	bool synack_seen;  /* the handshake's second segment was seen (RTT sample) */
	uint64_t syn_t_us; /* when the first SYN was seen */
	uint64_t rtt_us;   /* handshake round trip, 0 when unknown */
	enum synack_tcp_state st[2];
	struct synack_infer_dir d[2];
};

/* One state change: endpoint ep (0 or 1) moved from -> to. `before`: it happened before the
 * segment was sent (the sender's own doing or what it had received), else on its arrival. */
struct synack_infer_change {
	uint8_t ep;
	bool before;
	bool uncertain;
	enum synack_tcp_state from, to;
};

#define SYNACK_INFER_MAX_CHANGES 6

struct synack_infer_result {
	unsigned marks;
	uint32_t dupack_n; /* with SYNACK_MARK_DUPACK: which duplicate (1, 2, ...) */
	uint8_t nchanges;
	struct synack_infer_change ch[SYNACK_INFER_MAX_CHANGES];
};

void synack_infer_init(struct synack_infer *inf);
/* Feeds a segment sent by endpoint `dir` (0 or 1) to the other, seen at t_us. */
void synack_infer_segment(struct synack_infer *inf, int dir, const struct synack_tcp_seg *seg,
			  uint64_t t_us, struct synack_infer_result *res);
/* True when both sides are done (CLOSED or TIME-WAIT): a new SYN on the same four-tuple is a
 * new connection. */
bool synack_infer_closed(const struct synack_infer *inf);
/* True when a SYN (without ACK) from dir starts a new connection rather than repeating or
 * answering this one's (tuple reuse after close, or after a capture that missed the close). */
bool synack_infer_is_new_syn(const struct synack_infer *inf, int dir,
			     const struct synack_tcp_seg *seg);
/* The window the sender of `dir` advertised last, scaled (RFC 7323 §2.3), in bytes. */
uint64_t synack_infer_window(const struct synack_infer *inf, int dir, uint16_t raw_win, bool syn);
/* "retx,dup-ack #2,zero-window" (buf >= 96); "" for no marks. */
const char *synack_infer_marks_str(unsigned marks, uint32_t dupack_n, char *buf, size_t cap);
/* "ESTABLISHED" or "ESTABLISHED?" */
const char *synack_infer_state_str(enum synack_tcp_state st, bool uncertain, char *buf, size_t cap);

#endif
