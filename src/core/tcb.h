/* The transmission control block (RFC 9293 §3.3.1) and the engine's internal interfaces.
 *
 * Send sequence space (RFC 9293 figure 3):
 *
 *        1         2          3          4
 *   ----------|----------|----------|----------
 *          SND.UNA    SND.NXT    SND.UNA
 *                               +SND.WND
 *   1 - old sequence numbers that have been acknowledged
 *   2 - sequence numbers of unacknowledged data
 *   3 - sequence numbers allowed for new data transmission
 *   4 - future sequence numbers that are not yet allowed
 *
 * One tcb serves every role: a fresh socket (CLOSED), a listener (LISTEN, its SYN and accept
 * queues in a struct tcb_listen of its own), a SYN-queue entry (SYN-RECEIVED, no buffers
 * yet), a connection, and an orphan (fd == -1) finishing its close; an orphan in TIME-WAIT
 * becomes a compact entry (tcp_tw.h). What only some connections use is allocated when first
 * needed: the SACK scoreboard, the MSG_EOR marks. */
#ifndef SYNACK_CORE_TCB_H
#define SYNACK_CORE_TCB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/cc.h"
#include "util/seq.h"
#include "core/stack_impl.h"

/* What only a listener has, allocated by listen(): its children in SYN-RECEIVED (synq) and
 * established, waiting for accept() (acceptq, oldest first). */
struct tcb_listen {
	struct synack_tcb *listen_next; /* the stack's listener-hash chain */
	struct synack_tcb *synq, *acceptq, *acceptq_tail;
	int backlog;
	/* SYN-RECEIVED children asleep as compact request entries (tcp_req.c): in the connection
	 * table, not on a list. synq_len counts them and the blocks in synq. */
	uint32_t nreqs;
	uint32_t synq_len, acceptq_len;
	uint32_t tfo_pending; /* its TCP Fast Open children still in SYN-RECEIVED */
	/* When it last answered a SYN with a cookie, plus one (0: never). */
	uint64_t syncookie_sent_us;
};

/* One range of the RACK log (tcp_rack.c): data sent together, with its latest moment. */
struct rack_seg {
	seq_t start, end;
	uint64_t xmit_us;
	uint8_t flags;
};
#define RACK_RTX 1    /* the latest transmission is a retransmission */
#define RACK_LOST 2   /* marked lost, not sent again since */
#define RACK_SACKED 4 /* delivered by a SACK (counted into RACK.xmit_ts) */
struct rack_log {
	struct rack_seg *seg;
	uint32_t n, cap;
	uint64_t xmit_us;       /* RACK.xmit_ts: the latest transmission delivered */
	seq_t end_seq, fack;    /* RACK.end_seq; RACK.fack, the highest end delivered */
	uint32_t rtt_us, min_rtt_us;
	bool valid, fack_valid, reord_seen, dsack_round_on;
	uint8_t steps, persist; /* reo_wnd multiplier; recoveries it lasts */
	seq_t dsack_round;
};

/* The timer kinds a connection keeps deadlines for: the protocol's (enum synack_timer_kind)
 * and the flow's own fold check (tcb_flow.c). */
#define TCP_TIMER_FOLD SYNACK_TIMER_COUNT
#define TCP_TIMER_KINDS (SYNACK_TIMER_COUNT + 1)

/* The wheel entry of a folded connection that keeps one timer (KEEPALIVE, FIN_WAIT_2,
 * TIME_WAIT: tcb_flow.c), allocated at the fold and given back at the unfold. Its tag is
 * TCP_FOLD_TIMER_KIND + the kept kind (tcp_req.h's TCP_REQ_TIMER_KIND is below it). */
#define TCP_FOLD_TIMER_KIND (SYNACK_TIMER_COUNT + 2)
struct tcb_fold_timer {
	struct synack_timer t;
	struct synack_tcb *c;
};

/* What a connection holds only while it is active (tcb_flow.c): the buffers and every piece
 * of state that lives as long as data is queued, in flight or owed an ACK — RTT timing,
 * recovery, RACK, undo, the congestion controller's own state, delayed ACKs, urgent data,
 * receive-buffer measurement, the timer deadlines. A connection quiet for max(1 s, RTO)
 * gives it back (it "folds"); any event — a segment, a timer, a call on its descriptor —
 * takes one again first ("unfolds"), so the engine's code always finds it (c->fl). What
 * must outlive a quiet spell stays in the block itself. */
struct tcb_flow {
	struct synack_tcb *q_next, *q_prev; /* a child's links in its parent's queue */
	struct synack_tcb *parent;	    /* a child's listener, until accept() */
	struct tcb_listen *lq; /* a listener's queues (LISTEN; NULL before listen()): tcb_lq() */
	struct synack_tcb *wake_next; /* in the stack's queue of readiness to report (while
				       * wake_queued: a queued block is never folded) */

	/* Sequence variables whose value a quiet flow implies (tcb_unfold sets them again). */
	seq_t snd_max;	   /* highest sequence number sent + 1 (quiet: SND.NXT) */
	seq_t rcv_wup;	   /* RCV.NXT in the last segment we sent: what it acknowledged (quiet:
			    * RCV.NXT) */
	seq_t snd_buf_seq; /* the sequence number of the send queue's first byte (quiet: SND.UNA,
			    * or our FIN's once it is acknowledged: tcb_flow.c) */

	/* When each timer kind fires (TCP_TIMER_OFF: not armed; tcp_timer.c); the connection's
	 * one wheel entry (its kind SYNACK_TIMER_COUNT) is armed at the earliest. TCP_TIMER_FOLD
	 * is the flow's own. */
	uint64_t timer_at[TCP_TIMER_KINDS];
	struct synack_timer timer;
	struct synack_tcb *conn; /* the block this flow is the active part of */
	uint64_t active_us; /* when the flow was last taken (the fold waits from here too) */

	uint64_t rtx_start_us;    /* when the data being retransmitted was first sent */
	/* ECN (RFC 3168): the window of one reduction lasts until cwr_high (flags below). */
	seq_t cwr_high;
	/* Urgent data (Linux's model): the mark urg_seq (the last urgent byte) and its state; the
	 * byte; our own urgent pointer SND.UP while snd_urg (flags below). */
	enum { URG_NONE, URG_NOTYET, URG_VALID, URG_READ } urg_state;
	seq_t urg_seq, snd_up;
	uint8_t urg_byte; /* the urgent byte */
	uint8_t neor;	  /* entries of eor[] (below) */
	/* MSG_EOR: ends of records in the send queue, oldest first; no segment crosses one. The
	 * SYNACK_EOR_MAX slots are allocated with the first MSG_EOR and kept while the flow is
	 * (NULL: never used). */
#define SYNACK_EOR_MAX 8
	seq_t *eor;

	/* After a timeout everything from SND.UNA goes out again (go-back-N) from snd_rtx (while
	 * rtx_pending), while SND.NXT stays where it was, so ACKs never carry an old sequence
	 * number. */
	seq_t snd_rtx;
	seq_t snd_sml; /* end of the last short segment sent (Nagle, Minshall's variant) */

	/* Buffers: sndq holds data from SND.UNA (seq snd_buf_seq) on; rcvq the readable bytes
	 * and the out-of-order data past them. Sized when the connection is synchronized; their
	 * memory is chunks taken as data comes and given back as it goes (buf.h). The range
	 * map of out-of-order data is allocated on first use and freed when the gap fills. */
	struct synack_ring sndq, rcvq;
	struct synack_ooo ooo;
	/* Receive-buffer right-sizing (tcp_autotune.c, Linux's tcp_rcv_space_adjust): bytes
	 * read in the last measured RTT, where and when this measurement began; the receiver's
	 * RTT estimate (µs) and, without timestamps, the window-long measurement running. */
	uint32_t rcvq_space;
	seq_t rcvq_space_seq, rcv_rtt_seq;
	uint64_t rcvq_space_us, rcv_rtt_start_us;
	uint32_t rcv_rtt_us;
	seq_t sack_recent; /* start of the latest out-of-order segment (its SACK block first) */
	/* RFC 2883 D-SACK: data that arrived twice, reported as the first SACK block of the next
	 * ACK (then forgotten): while dsack. */
	seq_t dsack_l, dsack_r;
	seq_t ooo_fin_seq; /* while ooo_fin: a FIN arrived out of order, it ends the stream here */
	struct tcp_tfo tfo; /* TCP Fast Open (tcp_fastopen.c) */

	/* RTT timing (rtt_timing below). */
	seq_t rtt_seq;
	uint64_t rtt_start_us;
	uint32_t retries;       /* consecutive timeouts of the oldest segment (or probes) */
	uint32_t probes_out;    /* zero-window probes since the peer last answered */

	/* The sender's SACK scoreboard (tcp_sack.c): its ranges are allocated when the first
	 * SACK block arrives and released when SND.UNA has passed them all. */
#define SYNACK_SACK_RANGES 8
	struct synack_ooo sacked;
	seq_t snd_hole; /* fast recovery: holes below this were already retransmitted (HighRxt) */
	/* RFC 6937 PRR: bytes delivered and sent since recovery began, and RecoverFS. */
	uint32_t prr_delivered, prr_out, recover_fs;
	seq_t rescue_rxt; /* RFC 6675 RescueRxt: a rescue only while HighACK is above it */
	/* RFC 8985 §7 tail loss probe: one outstanding at a time (tlp_out), starting at tlp_seq.
	 * When its ACK or SACK arrives with unSACKed data below it, that data is lost (below
	 * lost_mark), as RACK would conclude from the probe's delivery. */
	seq_t tlp_seq, lost_mark;
	/* RACK (RFC 8985, tcp_rack.c): the transmission log and the RACK variables. */
	struct rack_log rack;
	/* Undo (Linux's tcp_undo_cwnd_reduction), while undo_on: the windows before this
	 * episode's reduction, retransmissions not yet shown spurious by a D-SACK, the TSval of
	 * the first one (RFC 3522 Eifel: an ACK echoing an older TSval was for an original
	 * transmission). */
	uint32_t prior_cwnd, prior_ssthresh, undo_retrans, retrans_ts;
	seq_t undo_marker;
	uint8_t frto;   /* RFC 5682 F-RTO: 1 waits for the first ACK after the timeout, 2 for the
			 * second (after new data went instead of the go-back); 0 off */

	/* Congestion control: the controller's windows and state (cc.h); the engine's loss
	 * recovery (RFC 5681 §3.2, NewReno RFC 6582): duplicate ACKs, the recovery point (while
	 * in_recovery). */
	struct cc cc;
	seq_t cc_round_end; /* SND.NXT when the current round began (cc.round_start) */
	uint32_t dupacks;
	seq_t recover;

	/* Delayed and quick ACKs (tcp_delack.c; Linux's icsk_ack). */
	uint64_t ack_lrcv_us; /* when in-sequence data last arrived */
	uint32_t ato_us;      /* the delayed-ACK timeout estimate; 0 until data arrives */
	uint16_t ack_rcv_mss; /* the peer's segment size as measured (0: none yet) */
	uint8_t ack_quick;    /* quick ACKs left */
	uint8_t ack_pushed;   /* 1: a short or PSH segment is unacknowledged, 2: two of them
			       * (Linux's ICSK_ACK_PUSHED/PUSHED2): a read that empties the
			       * buffer acknowledges them at once */
	uint16_t ack_last_seg;	     /* the last short segment's size (Linux's last_seg_size) */
	struct synack_tcb *ack_next; /* the stack's list of ACKs owed at the end of the batch */

	/* RFC 5961 challenge-ACK rate limit (a flow lives at least a second: the limit's
	 * period). */
	uint64_t chal_start_us;
	uint32_t chal_count, chal_limit;
};

struct synack_tcb {
	/* The connection table's node, flattened (conntab.h's synack_conntab_node: the key right
	 * after the header) so that the next field packs into the node's tail padding. */
	struct synack_conntab_hdr h;
	struct synack_tuple key; /* the 4-tuple (local = l*, remote = r*) */
	int fd; /* -1: no descriptor (SYN-queue entry, accept-queue entry, orphan) */
	/* The stack's list of live tcbs; once dead (tcb_kill), all_next links the reap list. */
	struct synack_tcb *all_next, *all_prev;
	struct synack_tcb *bind_next, **bind_pprev; /* bind-table chain */
	struct tcb_flow *fl;	      /* the active part (above); NULL while folded */
	/* While folded with a timer kept (tcb_flow.c): its wheel entry; NULL otherwise. */
	struct tcb_fold_timer *fold_timer;

	/* While folded: the congestion controller's windows (the flow's cc; the controller is
	 * fold_cc below). */
	uint32_t fold_cwnd, fold_ssthresh;

	uint64_t last_send_us; /* when data was last sent, if sent_data (Linux's lsndtime) */
	uint64_t last_rx_us;   /* when a segment last arrived (keepalive's idle time) */

	int16_t err;	  /* pending error (SO_ERROR), negative errno; 0 when none */
	int16_t soft_err; /* last ICMP soft error (icmp.c): reported instead of ETIMEDOUT */

	/* RFC 9293 send and receive sequence variables. */
	seq_t snd_una, snd_nxt, snd_wl1, snd_wl2, iss;
	uint32_t snd_wnd, max_snd_wnd;
	seq_t rcv_nxt, irs;
	uint32_t rcv_wnd;
	seq_t rcv_adv;	   /* right edge of the window we last announced */
	seq_t fin_seq;	   /* our FIN's sequence number, once fin_queued */

	/* RTT estimation (RFC 6298), microseconds (rtt_valid below). */
	uint32_t srtt_us, rttvar_us, rto_us;
	uint32_t total_retrans; /* segments retransmitted (TCP_INFO) */
	uint32_t ts_offset, ts_recent;

	/* Socket options. */
	uint32_t sndbuf_size, rcvbuf_size;
	uint32_t notsent_lowat;	  /* TCP_NOTSENT_LOWAT (0: the stack's tcp_notsent_lowat) */
	uint32_t user_timeout_ms; /* TCP_USER_TIMEOUT: 0 = off */
	int linger_s;
	/* Keepalive: TCP_KEEPIDLE (tcp_keepalive_time reaches 32767 minutes), TCP_KEEPINTVL
	 * (at most 32767 s), TCP_KEEPCNT (at most 127, as Linux: sockopt.c, config_check). */
	uint32_t keep_idle_s;
	uint16_t keep_intvl_s;
	uint8_t keep_cnt;
	uint8_t keep_probes; /* keepalive probes unanswered (stops counting at 255) */
	uint16_t user_mss;
	/* Negotiated options (ws_ok, ts_ok, sack_ok below). */
	uint16_t snd_mss, rcv_mss; /* we send segments of snd_mss; the peer announced rcv_mss */
	uint8_t snd_wscale, rcv_wscale;
	/* IP_TTL, IP_TOS, IP_MTU_DISCOVER: the IP header of the connection's packets. */
	uint8_t ip_ttl, ip_tos, pmtudisc;
	uint8_t any_family; /* bound to a wildcard: SYNACK_AF_INET (0.0.0.0) or _INET6 (::) */
	enum synack_tcp_state state : 8;
	uint8_t events;	 /* the readiness (SYNACK_EV_*) last reported through wake */
	uint8_t fold_cc; /* while folded: the congestion controller (cc_index) */

	/* Flags, one bit each. */
	bool in_conntab : 1, bound : 1, bound_by_user : 1, in_listen_hash : 1, dead : 1;
	bool connect_bound : 1; /* connect() picked the port: shared with others that did */
	bool addr_bound : 1; /* bind() named one of the stack's addresses (not the wildcard) */
	bool v6only : 1;     /* IPV6_V6ONLY */
	bool ever_connected : 1; /* has left CLOSED through connect/accept */
	bool in_acceptq : 1;
	bool wake_queued : 1;
	/* Socket options: SO_REUSEADDR, SO_KEEPALIVE, TCP_NODELAY, SO_LINGER, TCP_CORK,
	 * SO_OOBINLINE. */
	bool reuseaddr : 1, keepalive : 1, nodelay : 1, linger_on : 1, cork : 1, oobinline : 1;
	bool rcvbuf_locked : 1; /* SO_RCVBUF was set: the window scale covers this buffer only */
	bool sndbuf_locked : 1; /* SO_SNDBUF was set: no send-buffer autotuning */
	bool sized : 1; /* while folded: the buffers had been sized (their caps are *buf_size) */
	bool snd_nomem : 1; /* a write found no memory (tcp_mem[2]): not writable until an ACK frees
			     */
	/* ECN: negotiated; our SYN asked for it; ECE to echo until the peer's CWR; CWR to set on
	 * the next new data; in one reduction. */
	bool ecn_ok : 1, ecn_asked : 1, ece_pending : 1, cwr_pending : 1, in_cwr : 1;
	bool snd_urg : 1; /* we have urgent data to send (snd_up) */
	/* Close bookkeeping. */
	bool shut_rd : 1, fin_queued : 1, rcvd_fin : 1, orphan : 1, passive : 1;
	bool reset : 1; /* the connection was reset (send gives EPIPE after the error) */
	bool rtx_pending : 1; /* a go-back from snd_rtx is under way */
	bool ws_ok : 1, ts_ok : 1, sack_ok : 1; /* negotiated options */
	bool dsack : 1;    /* dsack_l..dsack_r to report */
	bool ooo_fin : 1;  /* ooo_fin_seq holds an out-of-order FIN */
	bool syn_text : 1; /* the peer's SYN carried data, queued until the handshake completes */
	bool rtt_valid : 1, rtt_timing : 1;
	bool tlp_out : 1;
	bool sent_data : 1; /* last_send_us is valid */
	bool in_recovery : 1;
	bool ack_pending : 1;  /* in-sequence data waits for the delayed-ACK timer */
	/* Interactive (Linux's pingpong mode): no quick ACKs, so that the reply carries the ACK;
	 * entered by a reply within ATO of the data and by TCP_QUICKACK 0, left when the timer
	 * fires. */
	bool ack_pingpong : 1;
	bool ack_batched : 1; /* on the stack's list of ACKs owed at the end of the batch */
	bool undo_on : 1;     /* the undo state above is valid */
	bool frto_loss : 1; /* in a timeout's recovery (Linux's CA_Loss): an undo ends the go-back */
};

_Static_assert(offsetof(struct synack_tcb, key) ==
		       offsetof(struct synack_tcb, h) + sizeof(struct synack_conntab_hdr),
	       "the table's key follows the node header (conntab.h)");

/* The connection block behind a node of the connection table; NULL for NULL or for a compact
 * entry (TIME-WAIT, tcp_tw.c). */
static inline struct synack_tcb *tcb_of_node(struct synack_conntab_hdr *n)
{
	if (!n || n->kind != CONNTAB_KIND_TCB)
		return NULL;
	return SYNACK_container_of(n, struct synack_tcb, h);
}

/* A listener's queues (NULL for any other block, folded or not: a listener never folds). */
static inline struct tcb_listen *tcb_lq(const struct synack_tcb *c)
{
	return c->fl ? c->fl->lq : NULL;
}

/* The congestion window and ssthresh, folded or not. */
static inline uint32_t tcb_cwnd(const struct synack_tcb *c)
{
	return c->fl ? c->fl->cc.cwnd : c->fold_cwnd;
}
static inline uint32_t tcb_ssthresh(const struct synack_tcb *c)
{
	return c->fl ? c->fl->cc.ssthresh : c->fold_ssthresh;
}

static inline const struct synack_tuple *tcb_tuple(const struct synack_tcb *c)
{
	return &c->key;
}

/* Named predicates over states (no ordering tricks). */
static inline bool tcp_state_synchronized(enum synack_tcp_state st)
{
	return st != SYNACK_CLOSED && st != SYNACK_LISTEN && st != SYNACK_SYN_SENT &&
	       st != SYNACK_SYN_RECEIVED;
}
/* States in which received text is delivered to the user (RFC 9293 §3.10.7.4 seventh). */
static inline bool tcp_state_receives(enum synack_tcp_state st)
{
	return st == SYNACK_ESTABLISHED || st == SYNACK_FIN_WAIT_1 || st == SYNACK_FIN_WAIT_2;
}
/* States in which the user may still queue data. */
static inline bool tcp_state_can_send(enum synack_tcp_state st)
{
	return st == SYNACK_ESTABLISHED || st == SYNACK_CLOSE_WAIT;
}
/* States in which queued data and our FIN still go out. */
static inline bool tcp_state_transmits(enum synack_tcp_state st)
{
	return st == SYNACK_ESTABLISHED || st == SYNACK_CLOSE_WAIT || st == SYNACK_FIN_WAIT_1 ||
	       st == SYNACK_CLOSING || st == SYNACK_LAST_ACK;
}

/* tcp_state.c */
bool tcp_transition_legal(enum synack_tcp_state from, enum synack_tcp_state to);
/* The one function that changes tcb->state: checks the transition, counts, traces, wakes. */
void tcp_set_state(struct synack_stack *s, struct synack_tcb *c, enum synack_tcp_state to);
/* Ends the connection: CLOSED, pending error err (0: none), timers off, out of the tables;
 * the tcb is freed at the end of the call if no descriptor holds it. */
void tcp_done(struct synack_stack *s, struct synack_tcb *c, int err);
/* Readiness may have changed: queued, and reported at the end of the call. */
void tcp_wake(struct synack_stack *s, struct synack_tcb *c);
/* Recomputes readiness and calls the wake callback when it changed. */
void tcp_deliver_wake(struct synack_stack *s, struct synack_tcb *c);
unsigned tcp_events(const struct synack_tcb *c);
/* The sequence number of the next byte the application reads. */
static inline seq_t tcp_read_seq(const struct synack_tcb *c)
{
	return c->fl ? c->rcv_nxt - c->fl->rcvq.len : c->rcv_nxt;
}
/* The next byte to read is the urgent mark (never while folded: no urgent data). */
static inline bool tcp_at_mark(const struct synack_tcb *c)
{
	return c->fl && c->fl->urg_state != URG_NONE && c->fl->urg_seq == tcp_read_seq(c);
}
/* Bytes queued and not yet sent. */
uint32_t tcp_notsent(const struct synack_tcb *c);
/* tcp_events, with TCP_NOTSENT_LOWAT applied to writability (stack_lowat: the stack's
 * tcp_notsent_lowat). */
unsigned tcp_events_lowat(const struct synack_tcb *c, uint32_t stack_lowat);

/* tcb_flow.c: the active part of a connection. */
/* A new flow f for c (controller cc), as a new connection's: nothing queued, no timer. */
void tcb_flow_init(struct synack_tcb *c, struct tcb_flow *f, const struct cc_ops *cc);
/* Before anything touches a connection (a segment, a timer, a call): its flow back, as a
 * new one with what the block kept. False when memory ran out (nothing changed). */
bool tcb_unfold(struct synack_stack *s, struct synack_tcb *c);
/* Is the flow quiet (nothing it holds is in use: it may fold)? */
bool tcb_flow_quiet(const struct synack_tcb *c);
/* In a state that may fold (ESTABLISHED, CLOSE_WAIT, FIN_WAIT_2, TIME_WAIT): arms the fold
 * check at max(1 s, RTO) after the last sign of life. */
void tcb_flow_arm(struct synack_stack *s, struct synack_tcb *c);
/* TCP_TIMER_FOLD's handler: folds a connection quiet long enough, else checks again later. */
void tcb_flow_on_fold_timer(struct synack_stack *s, struct synack_tcb *c);
/* Frees the flow (the connection ends). */
void tcb_flow_free(struct synack_stack *s, struct synack_tcb *c);
/* Disarms and gives back a folded connection's wheel entry, if it has one. */
void tcb_fold_timer_free(struct synack_stack *s, struct synack_tcb *c);

/* tcb lifetime (socket.c) */
struct synack_tcb *tcb_new(struct synack_stack *s);
/* Marks the tcb dead: out of every table, timers cancelled; memory freed by stack_reap. */
void tcb_kill(struct synack_stack *s, struct synack_tcb *c);
void tcb_free(struct synack_stack *s, struct synack_tcb *c);
/* Clears what an earlier connection left (a connect() after a failed or finished one). */
void tcb_reset_connection(struct synack_stack *s, struct synack_tcb *c);
/* Sizes the send and receive buffers (their memory is taken in chunks as data comes, buf.h).
 * Errors: none today (-ENOMEM kept for callers). */
int tcb_alloc_buffers(struct synack_stack *s, struct synack_tcb *c);
/* Sets the send buffer's size to cap bytes (at least what it holds). Errors: -EINVAL (cap
 * below the queued bytes, or 0). */
int tcb_resize_sndq(struct synack_stack *s, struct synack_tcb *c, uint32_t cap);
/* Send-buffer autotuning (tcp_autotune.c): the size the send buffer should have now. */
uint32_t tcp_sndbuf_target(const struct synack_stack *s, const struct synack_tcb *c);
/* Grows the send buffer to its target when that is larger (after an ACK grew cwnd). */
void tcp_sndbuf_autotune(struct synack_stack *s, struct synack_tcb *c);
/* The receiver's RTT from in-sequence data seg (its timestamp echo, else one window's time). */
void tcp_rcv_rtt_measure(struct synack_stack *s, struct synack_tcb *c,
			 const struct synack_tcp_seg *seg);
/* After a read: once per receiver RTT, grows the receive buffer to keep up with the rate the
 * application reads at (dynamic right-sizing). */
void tcp_rcv_space_adjust(struct synack_stack *s, struct synack_tcb *c);
/* The connection is established: the first measurement starts (Linux's tcp_init_buffer_space). */
void tcp_rcv_space_init(struct synack_stack *s, struct synack_tcb *c);
/* Releases them (a TIME-WAIT orphan keeps only its TCB, as Linux's timewait sockets). */
void tcb_free_buffers(struct synack_stack *s, struct synack_tcb *c);
/* The out-of-order range map exists (allocated on first use); false without memory. */
bool tcb_ooo_ready(struct synack_stack *s, struct synack_tcb *c);
/* After the receive queue moved: with no out-of-order data left, the range map and (when
 * nothing is readable) every chunk of the receive ring go back. */
void tcb_rcvq_settle(struct synack_stack *s, struct synack_tcb *c);
/* Is the stack under memory pressure (tcp_mem[1] passed, not yet below tcp_mem[0])? Counts
 * TCPMemoryPressures on entry. */
bool tcp_mem_pressure(struct synack_stack *s);
int tcb_conntab_insert(struct synack_stack *s, struct synack_tcb *c);
void tcb_conntab_remove(struct synack_stack *s, struct synack_tcb *c);
/* Detaches a child from its listener's queues. */
void tcb_unlink_child(struct synack_tcb *c);
void tcb_fill_info(const struct synack_stack *s, const struct synack_tcb *c,
		   struct synack_tcp_info *out);

/* ports.c */
/* The listener on port that hears a SYN sent to dst, or NULL. */
struct synack_tcb *ports_find_listener(const struct synack_stack *s, uint16_t port,
				       const struct synack_addr *dst);
/* Does a listener already on c's port hear an address c would (listen()'s EADDRINUSE)? */
bool ports_listen_conflict(const struct synack_stack *s, const struct synack_tcb *c);
/* Does listener l hear a SYN sent to dst? Its bound address, else its wildcard's families
 * (IPV6_V6ONLY, see socket.h). */
bool ports_listener_hears(const struct synack_tcb *l, const struct synack_addr *dst);
void ports_listen_insert(struct synack_stack *s, struct synack_tcb *c);
void ports_listen_remove(struct synack_stack *s, struct synack_tcb *c);
/* Binds c, whose addresses (addr_bound and laddr, any_family, v6only) are set, to port.
 * Errors: -EADDRINUSE (another socket on the port hears one of the same addresses). */
int ports_bind(struct synack_stack *s, struct synack_tcb *c, uint16_t port);
/* Binds c to a free ephemeral port. Errors: -EADDRINUSE (range exhausted). */
int ports_bind_ephemeral(struct synack_stack *s, struct synack_tcb *c);
/* connect()'s choice of port for c, whose addresses and remote port are set: an ephemeral
 * port shared with other connect()ed sockets, as long as the 4-tuple is free (or held by a
 * TIME-WAIT entry that tcp_tw_reuse lets go: then *iss is set to the sequence number the new
 * connection starts at, and *reused is true). Errors: -EADDRINUSE (no port left). */
int ports_bind_connect(struct synack_stack *s, struct synack_tcb *c, seq_t *iss, bool *reused);
/* Puts an accepted child on its listener's port (no conflict check: it shares the port). */
void ports_bind_child(struct synack_stack *s, struct synack_tcb *c);
void ports_unbind(struct synack_stack *s, struct synack_tcb *c);

/* isn.c */
seq_t isn_generate(const struct synack_stack *s, const struct synack_tuple *t);

/* tcp_output.c */
uint32_t tcp_ts_now(const struct synack_stack *s, const struct synack_tcb *c);
/* The window we announce now (bytes, before scaling): the free space of the receive
 * buffer, never less than what is already announced. */
uint32_t tcp_rcv_window(const struct synack_tcb *c);
/* The same under the stack's memory state: under pressure no more than 4 segments beyond
 * what is already announced. */
uint32_t tcp_rcv_window_mem(struct synack_stack *s, const struct synack_tcb *c);
void tcp_send_syn(struct synack_stack *s, struct synack_tcb *c, bool retx);
/* The window of our SYN or SYN-ACK (unscaled). */
uint16_t tcp_syn_window(const struct synack_stack *s, const struct synack_tcb *c);
/* The window scale we announce (RFC 7323 §2.2): 0 without window scaling, else the shift that
 * lets a 16-bit window cover the largest buffer the connection may grow to. */
uint8_t tcp_choose_wscale(const struct synack_stack *s, const struct synack_tcb *c);
/* <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, with SACK blocks when out-of-order data is held. */
void tcp_send_ack(struct synack_stack *s, struct synack_tcb *c);
/* A probe <SEQ=seq><ACK=RCV.NXT><CTL=ACK> with no data: an old sequence number the peer
 * must acknowledge (keepalive: SND.NXT-1; zero-window probe: SND.UNA-1, as Linux). */
void tcp_send_probe(struct synack_stack *s, struct synack_tcb *c, seq_t seq);
/* <SEQ=SND.NXT><CTL=RST>: aborting our own connection. */
void tcp_send_reset(struct synack_stack *s, struct synack_tcb *c);
/* RST in reply to seg, which reached no connection (RFC 9293 §3.10.7.1). Never for a RST. */
void tcp_reply_reset(struct synack_stack *s, const struct synack_tuple *t,
		     const struct synack_tcp_seg *seg);
/* Sends what the windows allow; with force_ack sends an ACK even when there is no data. */
void tcp_output(struct synack_stack *s, struct synack_tcb *c, bool force_ack);
/* Is there data or a FIN not yet sent? */
bool tcp_send_pending(const struct synack_tcb *c);
/* How many bytes of new data (1 for a lone FIN) the peer's window lets go now, at most one
 * segment, ignoring cwnd (in SACK recovery, pipe governs); and sending them. */
uint32_t tcp_new_data_room(const struct synack_tcb *c);
bool tcp_output_one(struct synack_stack *s, struct synack_tcb *c);
/* The persist timer found the peer's window open but too small for tcp_output (sender SWS
 * avoidance): sends what fits of the next segment anyway, as Linux's tcp_write_wakeup.
 * Returns false when nothing fits (a zero window: the caller probes). */
bool tcp_output_probe(struct synack_stack *s, struct synack_tcb *c);
/* Everything in flight again from SND.UNA, at once, at the current snd_mss (the path MTU
 * fell: Linux's tcp_simple_retransmit); no congestion response. */
void tcp_retransmit_all(struct synack_stack *s, struct synack_tcb *c);

/* tcp_delack.c: delayed and quick ACKs. */
/* New in-sequence data of len bytes arrived: measure, update ATO and quick-ACK mode. */
void tcp_delack_data_in(struct synack_stack *s, struct synack_tcb *c, uint32_t len, bool psh);
/* We send data (any, a retransmission too): a reply within ATO of the data received enters
 * pingpong mode (Linux's tcp_event_data_sent). */
void tcp_delack_data_sent(struct synack_stack *s, struct synack_tcb *c);
/* The user read `copied` bytes: must an owed ACK go now (Linux's tcp_cleanup_rbuf)? */
bool tcp_delack_after_read(const struct synack_tcb *c, uint32_t copied);
/* An ACK is owed at once: now, or at the end of the input batch (synack_stack_input_end). */
void tcp_delack_owe(struct synack_stack *s, struct synack_tcb *c);
/* The end of an input batch: one ACK for each connection that still owes one. */
void tcp_delack_flush_batch(struct synack_stack *s);
/* Must the data received be acknowledged at once (quick mode, two full segments, a gap)? */
bool tcp_delack_ack_now(const struct synack_tcb *c);
/* Data is still unacknowledged after output: arm the delayed-ACK timer. */
void tcp_delack_schedule(struct synack_stack *s, struct synack_tcb *c);
/* A segment acknowledging RCV.NXT was sent: nothing is owed, the timer is off. */
void tcp_delack_ack_sent(struct synack_stack *s, struct synack_tcb *c);
/* Quick-ACK mode (duplicate data, TCP_QUICKACK): the next ACKs go at once. */
void tcp_delack_enter_quickack(struct synack_tcb *c);
/* TCP_QUICKACK: 0 enters pingpong mode; 1 leaves it and sends an ACK that is owed. */
void tcp_delack_set_quickack(struct synack_stack *s, struct synack_tcb *c, bool on);
/* The DELACK timer's handler. */
void tcp_on_delack(struct synack_stack *s, struct synack_tcb *c);
/* Retransmits one segment starting at SND.UNA (timeout, fast retransmit, partial ACK);
 * returns the sequence number after it. */
seq_t tcp_retransmit_head(struct synack_stack *s, struct synack_tcb *c);
/* Retransmits up to max bytes (one segment at most) from seq; returns the sequence number
 * after what was sent. */
seq_t tcp_retransmit_at(struct synack_stack *s, struct synack_tcb *c, seq_t seq, uint32_t max);

/* The moment, for the congestion controller's ops (cc.now_us, srtt_us, rtt_us; round_start
 * is cleared). */
void tcp_cc_env(const struct synack_stack *s, struct synack_tcb *c, uint32_t rtt_us);

/* tcp_sack.c */
/* Records the SACK blocks of an arriving ACK; true when they said something new. Takes the
 * scoreboard's ranges from the allocator when it has none (out of memory: the blocks are
 * ignored, as when it is full). */
bool sack_update(struct synack_stack *s, struct synack_tcb *c, const struct synack_tcp_opts *o);
/* Bytes the scoreboard holds. */
uint32_t sack_bytes(const struct synack_tcb *c);
/* RFC 6675 §4 SetPipe in SACK recovery; elsewhere SND.NXT - SND.UNA. */
uint32_t tcp_pipe(const struct synack_tcb *c);
/* Entering SACK recovery: PRR's counters, RecoverFS, HighRxt (snd_hole), the rescue. */
void sack_recovery_enter(struct synack_tcb *c);
/* RFC 6937 on an ACK in SACK recovery that delivered this many bytes: sets cwnd. */
void sack_prr_ack(struct synack_tcb *c, uint32_t delivered);
/* In SACK recovery: sends what cwnd - pipe allows, segment by segment as NextSeg() picks. */
void sack_recovery_send(struct synack_stack *s, struct synack_tcb *c);
/* Forgets what SND.UNA has passed; an empty scoreboard gives its ranges back. */
void sack_trim(struct synack_stack *s, struct synack_tcb *c);
/* Forgets the whole scoreboard and gives its ranges back. */
void sack_clear(struct synack_stack *s, struct synack_tcb *c);
/* RFC 2883: is the first SACK block of o a D-SACK? [*l, *r): the data received twice. */
bool sack_dsack(const struct synack_tcb *c, const struct synack_tcp_opts *o, seq_t *l, seq_t *r);
/* RFC 6675's IsLost folded into the RACK log's marks. */
void sack_mark_lost(struct synack_tcb *c);
/* The first sequence number at or after seq that the peer has not SACKed; *room gets how far
 * it is to the next SACKed range (UINT32_MAX: none). */
seq_t sack_skip(const struct synack_tcb *c, seq_t seq, uint32_t *room);

/* tcp_ack.c: RACK's marking after an ACK or at the REO timer (may start recovery); the
 * windows an undo would restore, at the start of a reduction. */
void tcp_rack_check(struct synack_stack *s, struct synack_tcb *c);
void tcp_undo_init(struct synack_tcb *c);

/* tcp_rack.c: RACK (RFC 8985). */
void rack_on_send(struct synack_stack *s, struct synack_tcb *c, seq_t seq, seq_t end, bool retx);
/* An ACK for ack arrived (the scoreboard already holds its SACK blocks): RACK_update.
 * ecr: the ACK's echoed timestamp (0: none), which tells a retransmission's ACK from the
 * original's. */
void rack_on_ack(struct synack_stack *s, struct synack_tcb *c, seq_t ack, uint32_t ecr);
void rack_trim(struct synack_tcb *c);
void rack_free(struct synack_stack *s, struct synack_tcb *c);
/* A D-SACK of data from l arrived: reordering was seen (below the highest delivered), and
 * the reordering window grows a step (once per round trip). */
void rack_on_dsack(struct synack_tcb *c, seq_t l);
void rack_recovery_exit(struct synack_tcb *c);
uint32_t rack_reo_wnd(const struct synack_tcb *c);
/* RACK_detect_loss: marks lost what is past its window; *timeout_us: when the next will be
 * (0: none waits). True when something was marked. */
bool rack_detect_loss(struct synack_stack *s, struct synack_tcb *c, uint64_t *timeout_us);
/* Marks unSACKed data below end lost: all of it, or only what was neither retransmitted
 * nor marked already (RFC 6675's IsLost, a delivered tail-loss probe). */
void rack_mark_lost(struct synack_tcb *c, seq_t end, bool all);
/* The first unSACKed data marked lost and not sent again since. */
bool rack_first_lost(const struct synack_tcb *c, seq_t *seq, uint32_t *len);
uint32_t rack_lost_bytes(const struct synack_tcb *c);
/* Is any data below end retransmitted (its latest transmission)? *newest_us: the latest. */
bool rack_any_rtx_below(const struct synack_tcb *c, seq_t end, uint64_t *newest_us);

/* tcp_timer.c: a table of timer kinds (enum synack_timer_kind), each with its name and
 * handler. A connection keeps one deadline per kind and one wheel entry at the earliest. */
#define TCP_TIMER_OFF UINT64_MAX
/* A connection's wheel entry fired (called by synack_stack_poll): runs the handler of the
 * earliest due kind. */
void tcp_timer_fire(struct synack_stack *s, struct synack_timer *t);
/* Arms kind k to fire at at_us (absolute), replacing its earlier deadline. */
void tcp_timer_arm(struct synack_stack *s, struct synack_tcb *c, enum synack_timer_kind k,
		   uint64_t at_us);
/* Disarms kind k; harmless when it is not armed. */
void tcp_timer_cancel(struct synack_stack *s, struct synack_tcb *c, enum synack_timer_kind k);
static inline bool tcp_timer_armed(const struct synack_tcb *c, enum synack_timer_kind k)
{
	return c->fl->timer_at[k] != TCP_TIMER_OFF;
}
/* Retransmit and persist never run together (persist only while nothing is in flight):
 * arming one disarms the other; this disarms both. */
void tcp_cancel_rtx(struct synack_stack *s, struct synack_tcb *c);
void tcp_arm_rtx(struct synack_stack *s, struct synack_tcb *c);
void tcp_arm_persist(struct synack_stack *s, struct synack_tcb *c);
void tcp_arm_keepalive(struct synack_stack *s, struct synack_tcb *c);
/* RFC 8985 §7.2: arms the tail-loss probe when it applies (SACK, data in flight, not in
 * recovery, no probe outstanding), PTO = 2*SRTT (+200 ms for a single segment), never
 * later than the RTO; otherwise disarms it. */
void tcp_arm_tlp(struct synack_stack *s, struct synack_tcb *c);
void tcp_arm_close(struct synack_stack *s, struct synack_tcb *c, enum synack_timer_kind k,
		   uint64_t after_us);
/* Does kind k have a handler (only those may be armed)? */
bool tcp_timer_has_handler(enum synack_timer_kind k);
/* Initializes a new tcb's timers (all off). */
void tcp_timers_init(struct synack_tcb *c);
void tcp_cancel_timers(struct synack_stack *s, struct synack_tcb *c);
/* A new RTT sample (RFC 6298 §2). */
void tcp_rtt_sample(struct synack_stack *s, struct synack_tcb *c, uint64_t rtt_us);
/* Entering FIN-WAIT-2 or TIME-WAIT, or becoming an orphan there: the matching timer. */
void tcp_enter_time_wait(struct synack_stack *s, struct synack_tcb *c);

#endif
