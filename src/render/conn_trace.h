/* synack — reading a live trace back: the JSON lines that `synack serve/connect --trace FILE`
 * and `synack demo --format jsonl` write (one object per trace event, see render/jsonl.c) are
 * turned back into struct synack_trace_event and handed to a sink (the ladder renderer), so a
 * live trace is drawn by the same renderers as a simulation or a capture, with the internal
 * events a capture cannot show (timers, drops with their reason, state changes, errors).
 *
 * One line at a time; memory is one line buffer. Lines that do not parse are counted and
 * skipped.
 */
#ifndef SYNACK_RENDER_CONN_TRACE_H
#define SYNACK_RENDER_CONN_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "synack/link.h"
#include "synack/trace.h"

struct synack_trace_read_stats {
	uint64_t lines, events, bad;
};

/* True when the stream looks like JSON lines (its first byte is '{'); the byte is put back. */
bool synack_trace_is_jsonl(FILE *f);
/* Parses one line into *ev (strings and the segment live in *store). Returns 0, or -EINVAL. */
struct synack_trace_line_store {
	char host[64], note[160];
	struct synack_tcp_seg seg;
};
int synack_trace_parse_line(const char *line, struct synack_trace_event *ev,
			    struct synack_trace_line_store *store);
/* The host that sent the first SYN (without ACK) in the trace, into host (cap bytes), the
 * active opener the ladder puts on the left. The stream is rewound after. Returns 0, or
 * -ENOENT (no SYN), -ESPIPE (f cannot be rewound: a pipe). */
int synack_trace_first_opener(FILE *f, char *host, size_t cap);
/* What a trace holds, from a first pass: the hosts that traced (a simulation has two, a live
 * stack one) and the connections, in order of first appearance, each with its active opener
 * (the sender of its SYN) or else its first sender as `a`. The stream is rewound after.
 * Returns 0, or -ESPIPE (f cannot be rewound). */
#define SYNACK_TRACE_MAX_CONNS 256
struct synack_trace_summary {
	unsigned nhosts; /* up to 3: more are counted as 3 */
	char hosts[2][64];
	bool has_t0;
	uint64_t t0_us; /* the first event's time */
	size_t nconns;
	uint64_t more_conns; /* beyond SYNACK_TRACE_MAX_CONNS: not listed */
	struct {
		struct synack_endpoint a, b;
		char host_a[64], host_b[64]; /* the host that sent from a (b), "" when none did */
	} conns[SYNACK_TRACE_MAX_CONNS];
};
int synack_trace_summarize(FILE *f, struct synack_trace_summary *s);

/* Reads every line of f into sink. Only events of the connection between fa and fb when
 * filter is set (and its listener's state changes: the listener's own LISTEN). Returns 0 or -EIO. */
int synack_trace_read(FILE *f, synack_trace_fn sink, void *ctx, bool filter,
		      const struct synack_endpoint *fa, const struct synack_endpoint *fb,
		      struct synack_trace_read_stats *st);

/* A trace as a capture: each segment a stack sent (TX), and each one that arrived from a
 * peer that does not trace (RX with no TX of it: a live stack's kernel peer), is rebuilt as an
 * IPv4 packet at its time and fed to t, so the time-sequence graph, its companions and the
 * report draw a trace as they draw a pcap. The stream is read to its end. Returns the number
 * of segments fed, or -ENOMEM / -EIO. */
struct synack_conns;
long synack_conns_read_trace(struct synack_conns *t, FILE *f);
/* A capture (pcap/pcapng) or a JSON-lines trace, told apart by the first byte, into t. Returns
 * 0, or a negative errno with a one-line message in err (as synack_conns_read_file()). */
struct synack_pcap_stats;
int synack_conns_load(struct synack_conns *t, const char *path, struct synack_pcap_stats *pst,
		      char *err, size_t errcap);

#endif
