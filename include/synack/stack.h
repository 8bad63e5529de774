/* synack — a userspace TCP/IP stack: the stack object.
 *
 * A stack is a pure function of (frames in, `now`, API calls): it never sleeps, reads a clock,
 * draws random numbers from the OS or allocates except through the allocator it is given.
 * Frames leave through the `output` callback, each with its metadata (frame.h), shaped for the
 * link capabilities in cfg.caps; the caller asks for the next deadline and calls
 * synack_stack_poll() when it is reached.
 *
 * Time is always an absolute number of microseconds on the caller's clock (`now_us`). API
 * calls (synack_connect(), synack_send(), ...) act at the time of the latest
 * synack_stack_input() or synack_stack_poll() call; call synack_stack_poll(now) first when
 * time has advanced.
 */
#ifndef SYNACK_STACK_H
#define SYNACK_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "addr.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default) /* the library exports what this header declares */

#define SYNACK_TIME_NEVER UINT64_MAX
#define SYNACK_STACK_ADDRS_MAX 8
/* A congestion controller's name, with its NUL (Linux's TCP_CA_NAME_MAX). */
#define SYNACK_CC_NAME_MAX 16
/* The largest synack_config.msl_ms (30 minutes): a compact TIME-WAIT entry keeps its
 * deadline in 32 bits of microseconds, so 2*MSL stays below 2^32 us. */
#define SYNACK_MSL_MAX_MS 1800000u

struct synack_stack;
struct synack_trace_event;

/* Memory for the stack. alloc returns NULL on failure; free receives the size given to alloc. */
struct synack_allocator {
	void *(*alloc)(void *ctx, size_t size);
	void (*free)(void *ctx, void *ptr, size_t size);
	void *ctx;
};

/* One of the stack's own addresses and the length of its on-link prefix (0..32 for IPv4,
 * 0..128 for IPv6). */
struct synack_ifaddr {
	struct synack_addr addr;
	uint8_t prefix_len;
};

/* Tunables. Defaults (synack_config_default) follow Linux. */
struct synack_config {
	const char *name;     /* used in trace events ("client", "server", ...) */
	/* This stack's own addresses, of either family (synack_config_add_addr()). The first of a
	 * family is the source of connections to that family. None by default. */
	struct synack_ifaddr addrs[SYNACK_STACK_ADDRS_MAX];
	uint32_t naddrs;
	uint64_t seed;        /* seeds the stack's PRNG (ephemeral ports, jitter of limits) */
	uint8_t secret[16];   /* key of the ISN hash (RFC 6528) and of SYN cookies */

	struct synack_allocator allocator; /* NULL alloc: a malloc-free build must supply one */

	/* Frames out: one IP packet (IPv4 or IPv6) per call, meta->len bytes. meta->family is set, and
	 * meta->csum is SYNACK_CSUM_NONE (every checksum complete) unless caps.tx_csum asked
	 * for SYNACK_CSUM_NEEDED on TCP segments. frame and meta live until the call returns. */
	void (*output)(void *ctx, const uint8_t *frame, const struct synack_frame_meta *meta);
	void *output_ctx;
	/* What the output side can take (frame.h). Zero: complete checksums, frames of at most
	 * 65535 bytes. caps.mtu (when set) bounds every frame sent: the MSS announced is at
	 * most mtu - 40, and it must leave room for the minimum MSS (mtu >= 104). Only mtu and
	 * tx_csum change what the stack sends today; the segmentation fields are carried. */
	struct synack_link_caps caps;
	/* Trace events (optional). */
	void (*trace)(void *ctx, const struct synack_trace_event *ev);
	void *trace_ctx;
	/* Readiness changed on a socket (optional); events is a SYNACK_EV_* mask. Called at the
	 * end of the input/poll/API call that changed it, so it may call the socket API. */
	void (*wake)(void *ctx, int fd, unsigned events);
	void *wake_ctx;

	uint32_t max_sockets;        /* descriptors, listeners and connections: 1024 */
	/* TIME-WAIT entries (Linux's tcp_max_tw_buckets): 262144. They are not sockets; past
	 * this a closing connection skips TIME-WAIT (TcpExtTCPTimeWaitOverflow). */
	uint32_t max_tw_buckets;
	uint16_t mss;                /* MSS we announce: 1460 */
	uint32_t sndbuf;             /* default SO_SNDBUF bytes: 16384 */
	uint32_t sndbuf_max;         /* the largest send buffer autotuning grows to (tcp_wmem's
				      * max): 4194304; 0: no autotuning. SO_SNDBUF locks a size */
	uint32_t rcvbuf;             /* default SO_RCVBUF bytes: 131072 */
	uint32_t rcvbuf_max;         /* the largest receive buffer (tcp_rmem's max): 6291456; the
				      * window scale we announce is chosen to cover it, as Linux;
				      * dynamic right-sizing grows a receive buffer up to it */
	/* The buffer memory of all connections, in bytes, as Linux's tcp_mem (which counts
	 * pages): below [0] no pressure; past [1] memory pressure (TcpExtTCPMemoryPressures)
	 * until use falls below [0] again: announced windows shrink to 4 segments (never
	 * retracting what was announced) and buffers stop growing; [2] is the hard limit:
	 * past it no buffer memory is given (a segment that needs some is dropped,
	 * tcp_no_memory and TcpExtTCPRcvQDrop; send() queues what fits, -EAGAIN if nothing),
	 * except a connection's first chunk. Defaults 96, 128 and 192 MiB; 0 in [2]: no limit. */
	size_t tcp_mem[3];
	/* A connection quiet this long (nothing queued, in flight or owed; and at least its RTO)
	 * gives back the part only a busy connection needs, about 700 B, and takes it again
	 * when used (TcpExtTCPFlowFolds): 1000; 0 never folds. */
	uint32_t fold_ms;
	uint32_t ooo_max_segs;       /* out-of-order segments kept per connection: 64 */
	uint32_t init_cwnd_segs;     /* initial window in segments: 10 */
	uint8_t syn_retries;         /* tcp_syn_retries: 6 */
	uint8_t synack_retries;      /* tcp_synack_retries: 5 */
	uint8_t retries2;            /* tcp_retries2: 15 */
	uint32_t rto_initial_ms;     /* 1000 */
	uint32_t rto_min_ms;         /* 200 */
	uint32_t rto_max_ms;         /* 120000 */
	uint32_t msl_ms;             /* 30000: TIME-WAIT lasts 2*MSL = 60 s; at most
	                              * SYNACK_MSL_MAX_MS */
	uint32_t fin_timeout_ms;     /* orphaned FIN-WAIT-2: 60000 */
	uint32_t keepalive_time_s;   /* 7200 */
	uint32_t keepalive_intvl_s;  /* 75 (at most 32767, as TCP_KEEPINTVL) */
	uint32_t keepalive_probes;   /* 9 (at most 127, as TCP_KEEPCNT) */
	uint16_t port_lo, port_hi;   /* ephemeral range: 32768..60999 */
	bool timestamps;             /* RFC 7323 timestamps: true */
	bool sack;                   /* RFC 2018 SACK-permitted: true */
	bool window_scaling;         /* RFC 7323 window scale: true */
	uint8_t syncookies;          /* 0 never, 1 when the SYN queue is full (default), 2 always */
	/* tcp_tw_reuse: may connect() take over a 4-tuple in TIME-WAIT (both incarnations with
	 * timestamps, the entry over 1 s old)? 0 never, 1 always, 2 (default) only towards the
	 * stack's own addresses and 127/8, Linux's "loopback only". */
	uint8_t tw_reuse;
	uint32_t challenge_ack_limit; /* RFC 5961 challenge ACKs per second per connection: 1000 */
	uint32_t notsent_lowat;      /* tcp_notsent_lowat: UINT32_MAX (no limit) */
	uint8_t ecn;                 /* tcp_ecn (RFC 3168): 0 off, 1 ask on active opens and
				      * accept, 2 accept when asked (default, as Linux) */
	/* tcp_fastopen (RFC 7413), Linux's flags: SYNACK_TFO_CLIENT (0x1, default), _SERVER
	 * (0x2), _SERVER_NO_COOKIE (0x200: data on any SYN to a TFO listener is accepted),
	 * _SERVER_ALL (0x400: every listener is a TFO listener, its queue limit the backlog). */
	uint32_t fastopen;
	/* The default congestion controller, by name (Linux's tcp_congestion_control): "cubic"
	 * (RFC 9438 with HyStart++, RFC 9406; the default, as Linux's) or "reno" (NewReno,
	 * RFC 5681 + RFC 6582). Empty: the default. A socket
	 * picks another with TCP_CONGESTION. */
	char congestion[SYNACK_CC_NAME_MAX];
	/* tcp_recovery, Linux's bits: 0x1 (default) RACK time-based loss detection (RFC 8985)
	 * beside RFC 6675's duplicate-ACK threshold; 0: RFC 6675 alone. */
	uint8_t recovery;
	/* tcp_frto: F-RTO (RFC 5682) after a first timeout, on (1, the default; Linux's 2) or
	 * off (0). */
	uint8_t frto;
	/* One stack per queue of a multi-queue link (a TUN device with synack_tun_steer()):
	 * with steer_queues > 1, connect() picks only ephemeral ports p for which
	 * synack_flow_queue(p, remote port, steer_queues) == steer_queue, so the replies come
	 * back on this stack's queue. 0 or 1: any port. */
	uint16_t steer_queues, steer_queue;
};

/* The queue, out of nqueues, of a TCP flow between ports a and b (either order): the 16
 * high bits of (a ^ b) * SYNACK_FLOW_MIX (32-bit), modulo nqueues (0 when nqueues is 0). The
 * TUN link's steering program computes the same. */
#define SYNACK_FLOW_MIX 0x9E3779B1u
unsigned synack_flow_queue(uint16_t a, uint16_t b, unsigned nqueues);

#define SYNACK_TFO_CLIENT 0x1u
#define SYNACK_TFO_SERVER 0x2u
#define SYNACK_TFO_SERVER_NO_COOKIE 0x200u
#define SYNACK_TFO_SERVER_ALL 0x400u

void synack_config_default(struct synack_config *cfg);
/* Adds addr (with its prefix length) to cfg's own addresses. Adding one already present does
 * nothing. Errors: -EINVAL (prefix_len over 32 for IPv4 or 128 for IPv6, or the unspecified
 * address), -ENOSPC (SYNACK_STACK_ADDRS_MAX already). */
int synack_config_add_addr(struct synack_config *cfg, struct synack_addr addr, unsigned prefix_len);

/* Creates a stack. Errors: -EINVAL (bad config), -ENOENT (no congestion controller of that
 * name, as writing it to Linux's tcp_congestion_control), -ENOMEM. */
int synack_stack_new(struct synack_stack **out, const struct synack_config *cfg);
/* The same, but cfg->allocator must be set: the sans-IO core's own constructor (usable in a
 * malloc-free build); synack_stack_new() fills in a malloc-based allocator when it is NULL. */
int synack_stack_create(struct synack_stack **out, const struct synack_config *cfg);
/* Frees everything, connections included, without sending anything. */
void synack_stack_destroy(struct synack_stack *s);

/* One IPv4 packet arrives at now_us, with no metadata: every checksum is verified. Malformed
 * input is dropped and counted. */
void synack_stack_input(struct synack_stack *s, const uint8_t *frame, size_t len, uint64_t now_us);
/* The same for a frame with metadata from its link: meta->len bytes. A TCP segment marked
 * SYNACK_CSUM_VERIFIED (the link checked it) or SYNACK_CSUM_NEEDED (a local sender left it to
 * offload) is not checksummed again, as Linux trusts CHECKSUM_UNNECESSARY; SYNACK_CSUM_NONE
 * is verified. The IPv4 header checksum is always verified; the packet's version field, not
 * meta->family, decides how it is parsed. Returns 0 (the packet was taken: processed, or
 * dropped and counted) or -EINVAL (NULL frame or meta, or a meta synack_frame_meta_check()
 * rejects: nothing is done). */
int synack_stack_input_frame(struct synack_stack *s, const uint8_t *frame,
			     const struct synack_frame_meta *meta, uint64_t now_us);
/* Frames that arrive together (what one wake-up read from the link) are a batch: call
 * synack_stack_input_begin() before the first and synack_stack_input_end() after the last.
 * An acknowledgment that in-sequence data owes at once (two full segments, quick-ACK mode)
 * is then sent once, at _end, for everything the batch brought -- one stretch ACK, as GRO
 * gives Linux -- unless data we sent in the meantime carried it. Out-of-order data and
 * duplicates are still answered segment by segment. Without begin/end every frame is its own
 * batch. _end at now_us: advances the clock like an input. Nesting is not counted: one
 * _end ends the batch. */
void synack_stack_input_begin(struct synack_stack *s);
void synack_stack_input_end(struct synack_stack *s, uint64_t now_us);
/* Advances the clock to now_us, fires due timers; returns the next deadline or SYNACK_TIME_NEVER. */
uint64_t synack_stack_poll(struct synack_stack *s, uint64_t now_us);
/* The earliest armed deadline, or SYNACK_TIME_NEVER. */
uint64_t synack_stack_next_deadline(const struct synack_stack *s);
/* The clock as of the last input/poll. */
uint64_t synack_stack_now(const struct synack_stack *s);
/* Copies up to cap of the stack's own addresses to out, in configuration order; returns how
 * many it has (which may be more than cap). */
size_t synack_stack_addrs(const struct synack_stack *s, struct synack_ifaddr *out, size_t cap);
/* True when addr is one of the stack's own addresses. */
bool synack_stack_has_addr(const struct synack_stack *s, const struct synack_addr *addr);
const char *synack_stack_name(const struct synack_stack *s);
/* Bytes currently allocated through the stack's allocator, and the number of blocks. */
size_t synack_stack_live_bytes(const struct synack_stack *s);
size_t synack_stack_live_allocs(const struct synack_stack *s);
/* Changes tunables of a live stack (the sysctl of a running system): only the timing, retry,
 * keepalive, option and syncookie fields are taken; callbacks, addresses, caps and sizes are
 * ignored, and so is an msl_ms above SYNACK_MSL_MAX_MS. */
void synack_stack_set_tunables(struct synack_stack *s, const struct synack_config *cfg);
void synack_stack_get_config(const struct synack_stack *s, struct synack_config *out);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
