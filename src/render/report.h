/* synack — the HTML report of a capture: one self-contained page (no network resources: styles
 * and the zoom script are inline, pictures are inline SVG) with the capture's summary, the
 * connection list (endpoints, start, duration, bytes and segments each way, retransmissions,
 * final inferred states) and, for each connection, its ladder, its state diagram (render/fsm.h) and its time-sequence graph.
 * The page is well-formed XML (XHTML syntax), so xmllint can check it.
 */
#ifndef SYNACK_RENDER_REPORT_H
#define SYNACK_RENDER_REPORT_H

#include <stdio.h>

#include "render/conn.h"
#include "render/pcapread.h"

struct synack_report_opts {
	const char *input_name;		      /* shown in the title */
	const struct synack_pcap_stats *pcap; /* may be NULL */
	const char *error;		      /* a reader error to show (NULL: none) */
	unsigned max_conns;		      /* connections drawn (the table lists all); 0: 50 */
	unsigned max_rows;		      /* ladder rows per connection; 0: 400 */
	bool ladders_only; /* no state diagrams or time-sequence graphs (synack ladder --format html) */
};

/* Writes the page. Returns 0, or -EIO / -ENOMEM. */
int synack_report_html(FILE *out, const struct synack_conns *t, const struct synack_report_opts *o);

#endif
