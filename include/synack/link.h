/* synack — links: where frames go in and out.
 *
 * A link is a small vtable. Backends (the simulated network, TUN) implement it; features
 * (fault injection, pcap capture) are decorators that wrap any link and are links themselves.
 *
 * Every frame travels with its metadata (frame.h), and every link declares what it can do in
 * `caps`; a driver hands those caps to the stack it feeds (synack_config.caps), so the stack
 * sends only what the link declared. Whatever it declared, a link's send takes any valid
 * metadata: a SYNACK_CSUM_NEEDED frame on a link without tx_csum has its checksum completed in
 * software (as Linux's skb_checksum_help does). recv reports SYNACK_CSUM_VERIFIED or NEEDED
 * only on a link that declares rx_csum. The TUN link declares checksum and segmentation
 * offload when the kernel grants it (tun.h); the simulated network declares nothing.
 */
#ifndef SYNACK_LINK_H
#define SYNACK_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "frame.h"
#include "trace.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default) /* the library exports what this header declares */

struct synack_link;

struct synack_link_ops {
	/* Sends one IP packet of meta->len bytes at now_us. Returns 0 or a negative errno
	 * (-EAGAIN: queue full; -EINVAL: meta fails synack_frame_meta_check()). */
	int (*send)(struct synack_link *l, const uint8_t *frame, const struct synack_frame_meta *meta,
		    uint64_t now_us);
	/* Copies the next frame due by now_us into buf and its metadata into *out (len and
	 * family always set). Returns its length, 0 when none is due, or a negative errno
	 * (-EMSGSIZE: frame larger than cap, it is dropped). */
	ssize_t (*recv)(struct synack_link *l, uint8_t *buf, size_t cap, struct synack_frame_meta *out,
			uint64_t now_us);
	/* Earliest time recv could return a frame; SYNACK_TIME_NEVER if nothing is queued.
	 * Links backed by a file descriptor return SYNACK_TIME_NEVER and set `fd`. */
	uint64_t (*next_arrival)(struct synack_link *l);
	/* Frees the link (and, for decorators, the link it wraps). */
	void (*destroy)(struct synack_link *l);
	/* Optional (NULL: nothing to do): hands the device what send() queued. A link that
	 * batches its writes (the TUN link with io_uring) sends them here at the latest; the
	 * event loop calls it once per wake-up, after everything the wake-up produced. */
	void (*flush)(struct synack_link *l, uint64_t now_us);
};

struct synack_link {
	const struct synack_link_ops *ops;
	int fd;                       /* a pollable descriptor, or -1 */
	struct synack_link_caps caps; /* what the link can do; set when it is made */
};

static inline int synack_link_send(struct synack_link *l, const uint8_t *f,
				   const struct synack_frame_meta *meta, uint64_t now)
{
	return l->ops->send(l, f, meta, now);
}
/* out may be NULL when the caller does not want the metadata. */
static inline ssize_t synack_link_recv(struct synack_link *l, uint8_t *b, size_t cap,
				       struct synack_frame_meta *out, uint64_t now)
{
	struct synack_frame_meta unused;
	return l->ops->recv(l, b, cap, out ? out : &unused, now);
}
/* The same, for a plain frame (complete checksums): the metadata is made from the bytes. */
static inline int synack_link_send_plain(struct synack_link *l, const uint8_t *f, size_t n,
					 uint64_t now)
{
	struct synack_frame_meta m = synack_frame_meta_plain(f, n);
	return l->ops->send(l, f, &m, now);
}
static inline void synack_link_flush(struct synack_link *l, uint64_t now)
{
	if (l->ops->flush)
		l->ops->flush(l, now);
}
static inline uint64_t synack_link_next_arrival(struct synack_link *l)
{
	return l->ops->next_arrival(l);
}
static inline void synack_link_destroy(struct synack_link *l)
{
	if (l)
		l->ops->destroy(l);
}

/* A trace sink for link events (SYNACK_TRACE_LOST/DUP/CORRUPT/REORDER). */
typedef void (*synack_trace_fn)(void *ctx, const struct synack_trace_event *ev);

/* ---- the simulated network --------------------------------------------------------------
 * Joins any number of endpoints in one process on a virtual clock. A frame sent on an
 * endpoint is delivered to the endpoint whose address is the frame's (IPv4 or IPv6) destination after
 * the sender's path delay: delay + uniform jitter in [0, jitter] + serialisation at the
 * bandwidth (frames on one path never overtake each other unless jitter reorders them). All
 * randomness comes from the network's seed. Endpoints declare no capability: a NEEDED frame
 * is completed when it is sent, and frames arrive SYNACK_CSUM_NONE. */
struct synack_simnet;

struct synack_sim_path {
	uint32_t delay_us;
	uint32_t jitter_us;
	uint64_t bandwidth_bps; /* 0: unlimited */
	uint32_t queue_limit;   /* frames in flight per endpoint, 0: 4096 */
};

int synack_simnet_new(struct synack_simnet **out, uint64_t seed);
/* Frees the network; endpoints must have been destroyed first. */
void synack_simnet_destroy(struct synack_simnet *net);
/* A new endpoint answering to the IPv4 address addr (host order). Errors: -ENOMEM,
 * -EADDRINUSE. */
int synack_simnet_attach(struct synack_simnet *net, uint32_t addr,
			 const struct synack_sim_path *path, struct synack_link **out);
/* A new endpoint answering to the n addresses (either family, n <= 8). Errors: -ENOMEM,
 * -EADDRINUSE (another endpoint has one of them), -EINVAL (n > 8). */
int synack_simnet_attach_addrs(struct synack_simnet *net, const struct synack_addr *addrs,
			       size_t n, const struct synack_sim_path *path,
			       struct synack_link **out);
/* The earliest pending delivery on any endpoint, or SYNACK_TIME_NEVER. */
uint64_t synack_simnet_next_arrival(const struct synack_simnet *net);
/* Frames dropped because no endpoint had the destination address. */
uint64_t synack_simnet_unroutable(const struct synack_simnet *net);
/* Puts a frame on the network from outside (no sender, no path): it is delivered to the
 * endpoint owning its destination address at now_us. Errors: -EHOSTUNREACH (counted as
 * unroutable), -EMSGSIZE (> 65535 bytes), -ENOMEM. */
int synack_simnet_inject(struct synack_simnet *net, const uint8_t *frame, size_t len,
			 uint64_t now_us);
/* Changes an endpoint's outgoing path from now on (frames already sent keep their times).
 * Errors: -EINVAL (not a simnet endpoint). */
int synack_simnet_set_path(struct synack_link *endpoint, const struct synack_sim_path *path);

/* ---- fault injection: a decorator for any link ----------------------------------------------
 * Applied to frames sent through the wrapped link. Probabilities are in [0, 1]. The wrapped
 * link's caps pass through and frames keep their metadata, except that a corrupted frame is
 * checksummed first and goes on as SYNACK_CSUM_NONE (never NEEDED or VERIFIED), so the
 * receiver can find the damage. */
struct synack_fault_params {
	double loss, dup, reorder, corrupt;
	uint32_t reorder_delay_us; /* how long a reordered frame is held back: default 1000 */
	/* Optional: drop exactly the frames this returns true for (counted as LOST). */
	bool (*drop_if)(void *ctx, const uint8_t *frame, size_t len, uint64_t now_us);
	void *drop_ctx;
	/* Optional: told of every fault applied. */
	synack_trace_fn trace;
	void *trace_ctx;
	const char *host; /* name put in the trace events */
	/* Corruption flips 1-3 bits in distinct positions modulo 16, which the Internet checksum
	 * always detects. true: any positions, so 2-3 flips can cancel out in the checksum (about
	 * 1 corrupted frame in 100 then arrives "valid" -- what real links occasionally do). */
	bool corrupt_raw;
};
/* Wraps inner; the new link owns it. Errors: -ENOMEM, -EINVAL. */
int synack_fault_wrap(struct synack_link *inner, const struct synack_fault_params *p,
		      uint64_t seed, struct synack_link **out);
/* What the decorator has done so far (frames = frames offered to send). */
struct synack_fault_stats {
	uint64_t frames, lost, dup, corrupt, reorder;
};
/* Errors: -EINVAL (not a fault decorator). */
int synack_fault_stats(const struct synack_link *l, struct synack_fault_stats *out);
/* Replaces the parameters from now on (frames already held keep their release time).
 * Errors: -EINVAL. */
int synack_fault_set_params(struct synack_link *l, const struct synack_fault_params *p);

/* ---- pcap capture: a decorator for any link ---------------------------------------------------
 * Every frame sent and received is written to a pcap file (LINKTYPE_RAW, microsecond
 * timestamps taken from now_us), readable by tcpdump and Wireshark. The wrapped link's caps
 * and every frame (metadata included) pass through unchanged; a frame whose checksum is left
 * to offload (SYNACK_CSUM_NEEDED) is recorded with it completed, as the wire will carry it. */
struct synack_pcap_writer;
/* Errors: negative errno from fopen/fwrite. */
int synack_pcap_open(struct synack_pcap_writer **out, const char *path);
int synack_pcap_write(struct synack_pcap_writer *w, const uint8_t *frame, size_t len,
		      uint64_t t_us);
int synack_pcap_close(struct synack_pcap_writer *w);
/* The file holds at most max_bytes (0: no limit, the default): a record that would pass it is
 * left out (counted, synack_pcap_skipped), so the file stays a whole capture of the start. */
void synack_pcap_set_limit(struct synack_pcap_writer *w, uint64_t max_bytes);
uint64_t synack_pcap_skipped(const struct synack_pcap_writer *w);
/* The decorator owns inner and w. */
int synack_pcap_wrap(struct synack_link *inner, struct synack_pcap_writer *w,
		     struct synack_link **out);

/* ---- a link pair: two endpoints joined by a Unix datagram socketpair ------------------------
 * What one endpoint sends, the other receives (one frame per datagram, never reordered; lost
 * with -EAGAIN when the peer's queue is full). Both have a real descriptor (`fd`), so two
 * stacks driven by threads or processes meet on it without a TUN device or privileges.
 * Errors: -ENOMEM, errors of socketpair. */
int synack_pair_new(struct synack_link **a, struct synack_link **b);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
