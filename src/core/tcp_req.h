/* SYN-RECEIVED as a compact request entry (tcp_req.c), like Linux's request_sock: what a
 * passive half-open connection needs between its SYN-ACK and the peer's next segment, instead
 * of a whole connection block. */
#ifndef SYNACK_CORE_TCP_REQ_H
#define SYNACK_CORE_TCP_REQ_H

#include "core/tcp_input.h"

/* The timer kind of a request's wheel entry (a connection's is SYNACK_TIMER_COUNT, or
 * TCP_FOLD_TIMER_KIND and up while folded: tcb.h). */
#define TCP_REQ_TIMER_KIND (SYNACK_TIMER_COUNT + 1)

/* A request entry, in one of two layouts by family (as TIME-WAIT's tw4 and tw6): the head,
 * then the key right after the node header (as the table wants it), then the tail. The
 * entry is found by its tuple (the table) and by its deadline (the wheel); a listener keeps
 * only the count of its entries and finds them in the table when it needs them (close, ss),
 * so the entry carries no list links. */
struct tcp_req {
	struct synack_timer timer; /* the SYN-ACK retransmission, kind TCP_REQ_TIMER_KIND */
	struct synack_tcb *listener;
	struct synack_conntab_hdr h; /* kind CONNTAB_KIND_REQ; owner[0] flags, owner[1] shifts */
};

/* What the block needs again, 4-byte aligned so that it packs right after either key. */
struct req_tail {
	seq_t iss, irs;
	uint32_t ts_recent, ts_offset;
	uint32_t rto_us;
	uint32_t sent_lo;	   /* the first SYN-ACK's time, low 32 bits of microseconds */
	uint16_t snd_wnd;	   /* the SYN's window (never scaled) */
	uint16_t rcv_mss, snd_mss; /* the MSS the peer announced; the one we send with */
	uint16_t win_sent;	   /* the window our SYN-ACK announced */
	uint8_t retries, total_retrans;
};

/* IPv4: 104 bytes (h.flags has SYNACK_CONNTAB_KEY4). */
struct tcp_req4 {
	struct tcp_req r;
	struct synack_tuple4 key; /* as a synack_conntab_node4's */
	struct req_tail t;
};
/* IPv6 (or any tuple that is not IPv4 on both ends): 128 bytes, the full 36-byte tuple. */
struct tcp_req6 {
	struct tcp_req r;
	struct synack_tuple key; /* as a synack_conntab_node's */
	struct req_tail t;
};

/* At the end of a call (stack_reap): a passive child that sent its SYN-ACK and has nothing
 * else (no buffers, no data, only its retransmission timer) becomes a request entry
 * and its block is freed, silently. Returns true when it did. */
bool req_sleep(struct synack_stack *s, struct synack_tcb *c);
/* The connection block of request entry n, made again (silently) as it was: it takes the
 * entry's place in the table and in the listener's SYN queue, its retransmission timer at the
 * entry's deadline. NULL when memory ran out (the entry then stays as it is). */
struct synack_tcb *req_wake(struct synack_stack *s, struct synack_conntab_hdr *n);
/* The block behind node n: a connection block, or a request entry woken (NULL for TIME-WAIT,
 * or when memory ran out). */
struct synack_tcb *tcb_of_node_wake(struct synack_stack *s, struct synack_conntab_hdr *n);
/* A request's wheel entry fired: the request wakes, and its block's timer (due now) fires in
 * the same poll. */
void req_timer_fire(struct synack_stack *s, struct synack_timer *t);
/* Frees the requests of a listener that goes away (as its children die with it): one walk
 * of the connection table when it has any. */
void req_kill_all(struct synack_stack *s, struct tcb_listen *lq);
/* Visits every request entry as synack_stack_foreach does (fd -1, SYN-RECEIVED). */
void req_foreach(const struct synack_stack *s, synack_conn_visitor visit, void *ctx);

/* tcp_input.c: a passive child's fields from listener l and the SYN in rx. */
void tcp_child_init(struct synack_stack *s, struct synack_tcb *l, struct synack_tcb *c,
		    const struct rx *rx);
/* tcb.c: a new block's defaults (with its flow fl), without the random timestamp offset or the
 * stack's lists. */
void tcb_init_defaults(const struct synack_stack *s, struct synack_tcb *c, struct tcb_flow *fl);

#endif
