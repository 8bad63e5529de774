/* The ladder renderer's inside: what every output backend (text, jsonl, later SVG/HTML) gets.
 *
 * ladder.c interprets each trace event once — which column its host has, where the segment
 * goes, sequence numbers relative to each direction's ISN, whether a segment's arrival was
 * already drawn by its send — and hands the result, a struct synack_ladder_item, to the
 * backend. Backends only draw.
 */
#ifndef SYNACK_RENDER_LADDER_BACKEND_H
#define SYNACK_RENDER_LADDER_BACKEND_H

#include "render/ladder.h"
#include "synack/wire.h"

#define SYNACK_LADDER_LEFT 0
#define SYNACK_LADDER_RIGHT 1
#define SYNACK_LADDER_OFFSTAGE (-1)

/* How an arrival (RX/DROP) relates to a send the renderer saw. */
enum synack_ladder_arrival {
	SYNACK_ARRIVAL_NONE,     /* not an arrival */
	SYNACK_ARRIVAL_IMPLIED,  /* its TX was drawn already: nothing new to draw */
	SYNACK_ARRIVAL_DELAYED,  /* its TX was held back by the link (REORDER): draw it arriving */
	SYNACK_ARRIVAL_UNSENT,   /* no host here sent it (injected, spoofed, old duplicate) */
	SYNACK_ARRIVAL_PEER      /* sent by a column whose host does not trace (opts.untraced_peer):
				  * its arrival is its send: draw it as one */
};

struct synack_ladder_item {
	const struct synack_trace_event *ev;
	int col;               /* column of ev->host, or OFFSTAGE */
	bool has_seg;          /* seg, src, dst, flags, rel_* are set */
	struct synack_tcp_seg seg; /* a copy (payload pointer not kept) */
	struct synack_endpoint src, dst;
	int src_col, dst_col;  /* columns of the segment's sender and receiver, or OFFSTAGE */
	char flags[12];        /* tcpdump notation */
	uint32_t rel_seq, rel_ack; /* relative to each direction's base (== absolute if none) */
	enum synack_ladder_arrival arrival;
	bool retx;             /* TX: a retransmission; LOST etc.: of a retransmission */
	/* The window as the receiver reads it: the raw field shifted by the sender's negotiated
	 * scale (RFC 7323 §2.2: both SYNs carried the option; a SYN's own window is never
	 * scaled). wscale_known is false when this connection's SYNs were not seen (a capture
	 * that starts midstream): win_scaled is then the raw field. */
	uint32_t win_scaled;
	uint8_t wshift;
	bool wscale_known;
	/* The option bytes in wire order (tcpopts.h), and the base SACK edges are relative to
	 * (the receiver's, as for ack; == 0 with has_ack_base false when unknown). */
	uint8_t optlen;
	uint8_t optbytes[40];
	uint32_t ack_base;
	bool has_ack_base;
	/* What the segment is, beyond its flags: the event's own note (a capture's analysis), or
	 * for a stack's send the same analysis run here ("dup-ack #2", "zero-window", ...); "" when
	 * nothing. */
	char note[96];
	int conn_idx, conn_dir; /* internal: the connection and direction it belongs to */
};

struct synack_ladder_backend {
	const char *name;
	/* Allocates the backend's state into *state. Errors: -ENOMEM. */
	int (*open)(struct synack_ladder *l, void **state);
	void (*item)(struct synack_ladder *l, void *state, const struct synack_ladder_item *it);
	void (*finish)(struct synack_ladder *l, void *state);
	void (*close)(void *state);
};

extern const struct synack_ladder_backend synack_ladder_text_backend;
extern const struct synack_ladder_backend synack_ladder_jsonl_backend;

/* Accessors for backends. */
const struct synack_ladder_opts *synack_ladder_opts_of(const struct synack_ladder *l);
/* The host name of a column (NULL until seen), and its address (0 until learnt). */
const char *synack_ladder_col_name(const struct synack_ladder *l, int col);
struct synack_addr synack_ladder_col_addr(const struct synack_ladder *l, int col);
/* Records a write error (the FILE's error flag is also checked at finish). */
void synack_ladder_io_error(struct synack_ladder *l);

/* "10.0.0.1:40000" (buf >= 22). */
const char *synack_endpoint_str(const struct synack_endpoint *e, char *buf, size_t cap);
/* The label text backends draw: "S. seq=0 ack=1 win=65535 len=12" (win: scaled; the raw
 * field with o->raw_window; both, "win=131072 (1024<<7)", with o->verbose). with_win false
 * leaves out "win=" (for where space is short). */
void synack_ladder_seg_label(const struct synack_ladder_item *it,
			     const struct synack_ladder_opts *o, bool with_win, char *buf,
			     size_t cap);
/* The segment's options in tcpdump's notation ("" when none): the full form with o->verbose
 * (or full=true), else the compact one. */
const char *synack_ladder_opts_label(const struct synack_ladder_item *it,
				     const struct synack_ladder_opts *o, bool full, char *buf,
				     size_t cap);

#endif
