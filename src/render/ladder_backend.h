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
	SYNACK_ARRIVAL_UNSENT    /* no host here sent it (injected, spoofed, old duplicate) */
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
/* The label text backends draw: "S. seq=0 ack=1 win=65535 len=12". */
void synack_ladder_seg_label(const struct synack_ladder_item *it, bool absolute, char *buf,
			     size_t cap);
/* The same without "win=" (for where space is short). */
void synack_ladder_seg_label_nowin(const struct synack_ladder_item *it, bool absolute,
				   char *buf, size_t cap);

#endif
