/* The ladder renderer: trace events in, a picture of the conversation out.
 *
 * It consumes struct synack_trace_event — TX/RX/DROP/STATE/TIMER/ERROR from stacks,
 * LOST/DUP/CORRUPT/REORDER from links, or events rebuilt from a pcap — and writes one of:
 *
 *   text   a ladder diagram for a 100-column terminal, the way textbooks draw TCP: time on the
 *          left, one lifeline per host, each segment an arrow drawn at its send time, labelled
 *          in tcpdump's notation (S, S., ., P., F., R, R.) with seq, ack, win (scaled by the
 *          negotiated shift) and len, and the options under it (<mss 1460,sackOK,...>); each
 *          side's state changes in its own column where they happen; losses (---X), drops with
 *          their reason, timers and errors as notes beside the lifeline.
 *   jsonl  one JSON object per event, for tools and tests (absolute seq/ack, raw and scaled
 *          win, options as text and as bytes).
 *
 * Usage:
 *     struct synack_ladder_opts o = { .format = SYNACK_LADDER_TEXT, .out = stdout,
 *                                     .left = "client", .right = "server" };
 *     struct synack_ladder *l;
 *     synack_ladder_new(&l, &o);
 *     cfg.trace = synack_ladder_trace; cfg.trace_ctx = l;      // or synack_ladder_event(l, ev)
 *     ... run ...
 *     synack_ladder_finish(l);   // flushes buffered rows, elision marker and tail
 *     synack_ladder_free(l);
 *
 * Adding an output (SVG, HTML): write a struct synack_ladder_backend (ladder_backend.h) and add
 * it to the table in ladder.c. Every backend receives the same interpreted events (which
 * column, which direction, relative numbers, whether an arrival was already drawn).
 */
#ifndef SYNACK_RENDER_LADDER_H
#define SYNACK_RENDER_LADDER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "synack/trace.h"

enum synack_ladder_format {
	SYNACK_LADDER_TEXT,
	SYNACK_LADDER_JSONL,
	SYNACK_LADDER_SVG,  /* a standalone SVG document (render/svg_ladder.c) */
	SYNACK_LADDER_HTML, /* an HTML page holding the SVG */
	SYNACK_LADDER_FORMAT_COUNT
};

struct synack_ladder_opts {
	enum synack_ladder_format format;
	FILE *out;
	/* Host names of the two columns; NULL: the first (then second) host seen. */
	const char *left, *right;
	/* Their addresses; unspecified (all zero): learnt from the hosts' own events. */
	struct synack_addr left_addr, right_addr;
	/* text: absolute seq/ack instead of relative to each direction's first SYN (or first
	 * seq seen). jsonl is always absolute, as on the wire. */
	bool absolute;
	/* text: print at most this many rows, eliding the middle with a marker (0: all). */
	unsigned max_rows;
	/* text: a title line above the header (NULL: none). */
	const char *title;
	/* Every option of every segment in full ("TS val 1 ecr 0,nop,..."), and the window both
	 * scaled and raw. Without it the text ladder shows the options that shape the
	 * conversation (a SYN's, SACK blocks) compactly on a line under the arrow. */
	bool verbose;
	/* win= shows the raw header field instead of the scaled window. */
	bool raw_window;
	/* The right column (or whichever has no host events) stands for peers that do not trace
	 * (a live stack's trace: the kernel at the other end): a segment arriving from it with no
	 * send seen is its send, drawn as a solid arrow, not as an injected one. */
	bool untraced_peer;
	/* Break marks: a gap of at least this many microseconds between rows is drawn as a break
	 * with its length (0: one second; UINT64_MAX: never). */
	uint64_t break_us;
};

struct synack_ladder;

/* Parses "text"/"jsonl"/"svg"/"html"; returns -EINVAL for anything else. */
int synack_ladder_format_parse(const char *name, enum synack_ladder_format *out);
/* Errors: -EINVAL (no out, unknown format), -ENOMEM. */
int synack_ladder_new(struct synack_ladder **out, const struct synack_ladder_opts *opts);
/* Feeds one event. Events must come in time order (as a simulation or a pcap produces them). */
void synack_ladder_event(struct synack_ladder *l, const struct synack_trace_event *ev);
/* The same, shaped as a trace sink (synack_config.trace, synack_fault_params.trace). */
void synack_ladder_trace(void *ctx, const struct synack_trace_event *ev);
/* Writes whatever is buffered (the last row, the elided middle's marker and the tail).
 * Returns 0, or -EIO if writing to the FILE failed at any point. */
int synack_ladder_finish(struct synack_ladder *l);
void synack_ladder_free(struct synack_ladder *l);

/* "ECONNREFUSED" for -ECONNREFUSED (or ECONNREFUSED); "E123" for one it does not know. */
const char *synack_errno_name(int err, char *buf, size_t cap);

#endif
