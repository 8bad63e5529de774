/* The stack object's insides, shared by the files of src/core (and by icmp.c, which the
 * real-wire work extends). Nothing here is public API.
 *
 * One stack = one struct: no globals. Every allocation goes through stack_alloc()/stack_free()
 * so live_bytes/live_allocs are exact; every drop goes through stack_drop() so it is counted
 * and traced; every segment leaves through stack_emit_tcp(). stack.c holds the entry points,
 * stack_out.c the helpers that count, trace, drop and emit. */
#ifndef SYNACK_CORE_STACK_IMPL_H
#define SYNACK_CORE_STACK_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/cc.h"
#include "core/conntab.h"
#include "core/tcp_fastopen.h"
#include "util/rng.h"
#include "core/timer.h"
#include "synack/socket.h"
#include "synack/stack.h"
#include "synack/trace.h"
#include "synack/wire.h"

/* The stack holds tcbs only by pointer: this header never needs tcb.h, which includes it.
 * The TCP engine's entry points (tcp_input, tcp_timer_fire) are declared with the engine
 * (tcp_input.h, tcb.h), so the dependency runs one way: tcb.h -> stack_impl.h. */
struct synack_tcb;

/* Loud in debug builds, free in release ones (no libc symbol: the core stays pure). */
#ifdef NDEBUG
#define SYNACK_ASSERT(cond) ((void)0)
#else
#define SYNACK_ASSERT(cond) ((cond) ? (void)0 : __builtin_trap())
#endif

#define SYNACK_container_of(ptr, type, member)                                                 \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* The kinds of node in the connection table (struct synack_conntab_hdr's kind). */
enum { CONNTAB_KIND_TCB = 0, CONNTAB_KIND_TW = 1, CONNTAB_KIND_REQ = 2 };

/* reasm.c: datagrams being reassembled at once, fragments each, bytes of fragment data. */
#define REASM_MAX 16
#define REASM_FRAGS_MAX 64
#define REASM_MEM_MAX (256u * 1024u)
struct reasm_entry;

/* Free buffer chunks a stack keeps for reuse (at least 1 MiB of 16 KiB chunks, as much as
 * one connection's largest buffers), given back to the allocator when no connection has
 * buffers, or at a call a second after no ring held any (stack_reap). */
#define SYNACK_CHUNK_CACHE 64u
#define SYNACK_CHUNK_CACHE_IDLE_US 1000000u

#define SYNACK_LISTEN_BUCKETS 64
#define SYNACK_BIND_BUCKETS 4096

/* tcp_tw.c: compact TIME-WAIT entries, in pools of fixed-size slots (one for IPv4 entries, one
 * for IPv6), on one FIFO by deadline (every entry lives 2*MSL), and counted per local port for
 * bind(). A handle is a slot number, with bit 31 set for the IPv6 pool. */
#define TW_NONE UINT32_MAX
struct tw_pool {
	uint8_t **chunks;    /* TW_CHUNK slots each */
	uint32_t nchunks, chunks_cap;
	uint32_t fresh;      /* slots handed out at least once */
	uint32_t free;       /* handle of the first free slot, TW_NONE */
	uint32_t esize;      /* bytes per slot */
};
struct tw_port {
	uint16_t port;
	uint32_t n; /* entries on the port (0: a free or retired cell) */
};
struct tw_table {
	struct tw_pool pool[2];
	uint32_t head, tail; /* the FIFO, oldest first */
	uint32_t count;
	struct tw_port *ports; /* open addressing by port, linear probing */
	uint32_t ports_cap, ports_used;
	/* One RFC 5961 challenge-ACK limit for all entries (they have no room for their own). */
	uint64_t chal_start_us;
	uint32_t chal_count, chal_limit;
	uint64_t latest_us; /* the latest deadline an entry was given (tcp_tw.c, expire_of()) */
};

struct synack_stack {
	struct synack_config cfg;
	uint64_t now_us;
	bool clock_started;
	struct synack_rng rng;
	struct synack_wheel wheel;
	struct synack_conntab conns;
	struct synack_counters ctr;
	size_t live_bytes, live_allocs;
	struct synack_allocator counted; /* stack_alloc/stack_free as an allocator */

	/* Descriptor table: fds[i] is the tcb behind descriptor i, or NULL. */
	struct synack_tcb **fds;
	uint32_t nfds;
	uint32_t fd_low;  /* no free descriptor below this */
	uint32_t nobjs;   /* live tcbs (sockets, listeners, connections, orphans) */
	struct tw_table tw; /* compact TIME-WAIT entries: not tcbs, not counted in nobjs */

	struct synack_tcb *all;                             /* every live tcb */
	struct synack_tcb *reap;                            /* dead, freed at the end of a call */
	struct synack_tcb *wake_head, *wake_tail;           /* readiness to report at the end */
	bool ending;                                        /* in stack_reap: callbacks running */
	/* Between synack_stack_input_begin() and _end(): ACKs that in-sequence data owes wait
	 * on ack_head and go at the end, one per connection (tcp_delack.c). */
	bool batching;
	struct synack_tcb *ack_head;
	struct synack_tcb *listeners[SYNACK_LISTEN_BUCKETS]; /* by local port */
	struct synack_tcb *bound[SYNACK_BIND_BUCKETS];       /* bind table, by local port */

	const struct cc_ops *cc; /* the default congestion controller (cfg.congestion) */
	uint16_t ip_id;
	struct tfo_cache tfo_cache; /* TCP Fast Open: the cookies of the servers we reached */
	/* icmp.c: the token bucket limiting the ICMP errors we send (RFC 1812 §4.3.2.8). */
	uint64_t icmp_refill_us;
	uint32_t icmp_tokens;
	struct reasm_entry *reasm[REASM_MAX]; /* reasm.c */
	size_t reasm_mem;
	uint8_t *tx;        /* one outgoing frame */
	size_t tx_cap;
	uint16_t rx_gso_size; /* the frame being input was coalesced from pieces this large */
	uint8_t *scratch;   /* a linear copy of payload that crosses a chunk of a ring */
	size_t scratch_cap;
	/* Buffer memory (buf.h): the chunks of every ring, the stack-wide limit (tcp_mem[2]);
	 * under memory pressure between tcp_mem[1] and until below tcp_mem[0]. */
	struct synack_chunk_pool bufs;
	uint64_t bufs_trim_at; /* when the free chunks go back (0: not pending) */
	uint32_t nbuffered;    /* connections whose buffers are sized (tcb_alloc_buffers) */
	bool mem_pressure;
};

void *stack_alloc(struct synack_stack *s, size_t size);
void stack_free(struct synack_stack *s, void *p, size_t size);

static inline void stack_count(struct synack_stack *s, enum synack_counter c)
{
	s->ctr.v[c]++;
}

/* Counts a drop under its reason and emits SYNACK_TRACE_DROP. tuple/seg/frame may be NULL. */
void stack_drop(struct synack_stack *s, enum synack_drop_reason r, const struct synack_tuple *t,
		const struct synack_tcp_seg *seg, const uint8_t *frame, size_t len);
void stack_trace_rx(struct synack_stack *s, const struct synack_tuple *t,
		    const struct synack_tcp_seg *seg, const uint8_t *frame, size_t len);
void stack_trace_state(struct synack_stack *s, const struct synack_tuple *t,
		       enum synack_tcp_state from, enum synack_tcp_state to);
void stack_trace_timer(struct synack_stack *s, const struct synack_tuple *t,
		       enum synack_timer_kind k);
void stack_trace_error(struct synack_stack *s, const struct synack_tuple *t, int err);
/* Fills ev's congestion fields (has_cc, cwnd, ssthresh, srtt_us, in_flight) from the tcb of
 * tuple t, when the stack holds one (tcb.c: the only trace helper that knows the tcb). Called
 * only while a trace sink is set, so an untraced stack never pays for the lookup. */
void tcb_trace_cc(const struct synack_stack *s, const struct synack_tuple *t,
		  struct synack_trace_event *ev);
/* The largest frame the stack may send: caps.mtu, or SYNACK_FRAME_MAX when unset. */
size_t stack_frame_max(const struct synack_stack *s);
/* The largest frame the link segments for a TCP connection of family (SYNACK_AF_*):
 * caps.max_gso when the link declared segmentation of that family's TCP and checksum
 * offload (a segmented frame always leaves its checksums to the device), else 0. */
size_t stack_gso_max(const struct synack_stack *s, int family);
/* Hands a frame and its metadata to the output callback (every frame leaves here). */
void stack_output(struct synack_stack *s, const uint8_t *frame,
		  const struct synack_frame_meta *meta);
/* Encodes seg from t->laddr to t->raddr, counts it, traces it and hands it to the output
 * callback: complete, or with its checksum left to the link when caps.tx_csum is set. */
/* The IP header fields a connection sets (IP_TTL, IP_TOS with the ECN field, DF). */
struct stack_ip_fields {
	uint8_t ttl, tos;
	bool df;
	/* TSO: the link cuts the frame into pieces of gso_size payload bytes (0: one segment);
	 * only for a family whose stack_gso_max() is not 0. */
	uint16_t gso_size;
};
/* stack_emit_tcp with the connection's IP header fields. */
void stack_emit_tcp_ip(struct synack_stack *s, const struct synack_tuple *t,
		       const struct synack_tcp_seg *seg, bool retx,
		       const struct stack_ip_fields *ip);
void stack_emit_tcp(struct synack_stack *s, const struct synack_tuple *t,
		    const struct synack_tcp_seg *seg, bool retx);
/* The end of every entry point: reports readiness changes through the wake callback (which
 * may call the socket API), then frees the tcbs that died during the call (deferred so that no
 * code path ever touches a freed tcb). Nested calls from a callback leave this to the outer
 * one. */
void stack_reap(struct synack_stack *s);

/* The first of the stack's own addresses of family (SYNACK_AF_*), or NULL: the source of a
 * connection to that family. */
const struct synack_addr *stack_source_addr(const struct synack_stack *s, int family);

/* ip.c. csum_ok: the link vouched for the transport checksum (frame.h), TCP skips it. */
void ip_input(struct synack_stack *s, const uint8_t *frame, size_t len, bool csum_ok);
/* The bytes the IP header of a packet to dst takes in front of the transport bytes (20 for
 * IPv4, 40 for IPv6). */
int ip_header_room(const struct synack_addr *dst);
/* The IP layer's output: pkt holds ip_header_room(dst) free bytes, then tlen transport bytes
 * of protocol proto; writes the IP header in front, counts IpOutRequests and returns the
 * packet length. The caller hands it out. Errors: -EAFNOSUPPORT (one address of each family,
 * counted as IpOutNoRoutes), -EMSGSIZE (over 65535 bytes). */
int ip_output(struct synack_stack *s, const struct synack_addr *src, const struct synack_addr *dst,
	      uint8_t proto, uint8_t *pkt, size_t tlen);

/* ip6.c: IPv6 input (a frame whose version is 6; csum_ok: the link vouched for the transport
 * checksum) and output (ip_output for IPv6 addresses,
 * pkt with 40 bytes of room; counts Ip6OutRequests). */
void ip6_input(struct synack_stack *s, const uint8_t *frame, size_t len, bool csum_ok);
int ip6_output(struct synack_stack *s, const struct synack_addr *src, const struct synack_addr *dst,
	       uint8_t proto, uint8_t *pkt, size_t tlen);
/* The flow label of a flow (RFC 6437): a keyed hash of the addresses, the protocol and the
 * four bytes of ports at `ports` (NULL: none); never 0. */
uint32_t ip6_flow_label(const struct synack_stack *s, const struct synack_addr *src,
			const struct synack_addr *dst, uint8_t proto, const uint8_t *ports);

/* The MSS the stack announces to and sends at most to a peer at addr: the configured one
 * (an MTU less 40 bytes of IPv4 and TCP headers) less the 20 bytes an IPv6 header adds:
 * MTU - 60 for IPv6 (RFC 8200 §8.3). */
static inline uint16_t stack_mss_for(const struct synack_stack *s, const struct synack_addr *addr)
{
	return (uint16_t)(s->cfg.mss - (synack_addr_is_v4(addr) ? 0 : 20));
}

#endif
