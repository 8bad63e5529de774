/* synack — TCP connections in a capture: packets grouped by four-tuple (a tuple reused after a
 * close, or by a SYN with a new ISN, starts a new connection), per-connection statistics, the
 * inferred states (infer.h), and a bounded record of each connection's segments for the
 * renderers (the first N and the last N; what lies between is counted, not kept).
 *
 * Memory grows with the number of connections, never with the number of packets: a 1 GiB
 * capture of one long transfer costs the same as a short one.
 */
#ifndef SYNACK_RENDER_CONN_H
#define SYNACK_RENDER_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "render/infer.h"
#include "render/pcapread.h"
#include "synack/link.h"
#include "synack/trace.h"

/* The congestion state a tracing stack reported with a segment (trace.h: has_cc): not in a
 * capture, only in a JSON-lines trace of a synack stack. */
struct synack_cc_sample {
	bool set;
	bool sender;	    /* the stack that reported it sent the segment (TX), or received it
			     * (RX: its state as the segment arrived) */
	uint32_t cwnd;	    /* bytes */
	uint32_t ssthresh;  /* bytes, UINT32_MAX while unset */
	uint32_t srtt_us;   /* 0 before the first RTT sample */
	uint32_t in_flight; /* SND.NXT - SND.UNA */
};

/* One segment as the renderers need it (no payload). Times are relative to the capture's
 * first packet. */
struct synack_seg_rec {
	uint64_t t_us;
	uint32_t seq, ack, len;
	uint32_t dupack_n;
	uint16_t win;
	uint8_t flags, dir; /* dir 0: ep[0] -> ep[1] */
	uint8_t marks;
	uint8_t nchanges, nsack;
	struct synack_sack_block sack[3];
	uint8_t optlen; /* the option bytes as captured, for the pictures that print them */
	uint8_t opt[40];
	struct synack_infer_change ch[SYNACK_INFER_MAX_CHANGES];
	/* From a trace: the congestion state of the side cc_dir (0: ep[0]) as it reported it
	 * with this segment (cc.set false: none, as from any capture). */
	uint8_t cc_dir;
	struct synack_cc_sample cc;
};

struct synack_conn_dir_stats {
	uint64_t segs;	    /* segments sent */
	uint64_t bytes;	    /* payload bytes sent, retransmissions included */
	uint64_t retx_segs; /* segments marked as retransmissions */
	uint64_t retx_bytes;
};

struct synack_conn {
	uint32_t id;		      /* 1, 2, ... in order of first packet */
	struct synack_endpoint ep[2]; /* ep[0]: the active opener, or the first sender */
	char name[2][SYNACK_ADDR_STRLEN + 8]; /* "10.0.0.1:40000", "[2001:db8::1]:40000" */
	uint64_t first_us, last_us;   /* relative to the capture's start */
	struct synack_conn_dir_stats st[2];
	struct synack_infer inf;
	/* The segments kept: head[0..nhead) in order, then the last ones in a ring. */
	struct synack_seg_rec *head, *tail;
	uint32_t nhead, head_cap, ntail, tail_pos;
	uint64_t total_recs; /* records offered (within --from/--to) */
	uint64_t outside;    /* segments outside the time window */
};

struct synack_conns_opts {
	uint32_t keep_first, keep_last; /* records kept per connection */
	uint64_t from_us, to_us;	/* keep only records in [from, to] (to 0: no limit) */
	bool filter;			/* only the connection between fa and fb */
	struct synack_endpoint fa, fb;
	bool verify_csum; /* count TCP checksum errors as malformed (off: captures
			   * on the sender see offloaded checksums) */
};

struct synack_conns_stats {
	uint64_t tcp;	    /* TCP segments used */
	uint64_t non_tcp;   /* IPv4 packets of other protocols: skipped */
	uint64_t fragments; /* IPv4 fragments: skipped */
	uint64_t malformed; /* bad IPv4 or TCP headers: skipped */
	uint64_t filtered;  /* TCP segments of other connections than the one asked for */
	uint64_t mended;    /* IPv4 headers with an offloaded checksum or TSO length: used */
	uint64_t start_ns;  /* the capture's first packet */
	bool started;
};

struct synack_conns;

/* Errors: -ENOMEM. */
int synack_conns_new(struct synack_conns **out, const struct synack_conns_opts *opts);
void synack_conns_free(struct synack_conns *t);
/* Feeds one captured IPv4 packet. Errors: -ENOMEM. */
int synack_conns_packet(struct synack_conns *t, uint64_t t_ns, const uint8_t *ip, size_t len);
/* Reads a whole capture file into t. Returns 0, or a negative errno with a message in err
 * (a reader error after some packets still leaves those packets in t). *pst gets the
 * reader's counts. */
int synack_conns_read_file(struct synack_conns *t, const char *path, struct synack_pcap_stats *pst,
			   char *err, size_t errcap);
/* The congestion state reported with the next packet given to synack_conns_packet() (and only
 * that one): a trace read as a capture (conn_trace.c) passes each TX/RX event's. */
void synack_conns_next_cc(struct synack_conns *t, const struct synack_cc_sample *cc);
size_t synack_conns_count(const struct synack_conns *t);
const struct synack_conn *synack_conns_get(const struct synack_conns *t, size_t i);
const struct synack_conns_stats *synack_conns_stats(const struct synack_conns *t);

/* Parses "A.B.C.D:P-E.F.G.H:P" (either order matches). Errors: -EINVAL. */
int synack_conn_spec_parse(const char *s, struct synack_endpoint *a, struct synack_endpoint *b);

/* Segments in the middle that were not kept. */
uint64_t synack_conn_elided(const struct synack_conn *c);
/* Calls fn for each kept record in order; `gap` is the number of records elided just before
 * this one (0 but once). */
void synack_conn_each(const struct synack_conn *c,
		      void (*fn)(void *ctx, const struct synack_seg_rec *r, uint64_t gap),
		      void *ctx);
/* Replays a connection as trace events (STATE, TX with note/retx, NOTE for what was left
 * out), the input every ladder backend takes. */
void synack_conn_replay(const struct synack_conn *c, synack_trace_fn sink, void *ctx);

#endif
