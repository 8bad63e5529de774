/* TIME-WAIT as a compact entry (tcp_tw.c): what an orphaned connection needs for its 2*MSL
 * in the connection table, instead of a whole connection block. */
#ifndef SYNACK_CORE_TCP_TW_H
#define SYNACK_CORE_TCP_TW_H

#include "core/tcp_input.h"

/* The state after the key, 4-byte aligned so that it packs right after the 12-byte IPv4 key:
 * an IPv4 entry is 56 bytes, an IPv6 one (full 36-byte tuple) 80. */
struct tw_tail {
	seq_t snd_nxt, rcv_nxt; /* SND.NXT (our FIN acknowledged: SND.UNA too), RCV.NXT */
	uint32_t ts_recent, ts_offset;
	/* The 2*MSL deadline's low 32 bits, microseconds: every live entry's deadline lies
	 * within 2^32 us below the latest one appended (tw_table.latest_us), which gives the
	 * high bits back (expire_of()). */
	uint32_t expire_lo;
	uint32_t prev, next; /* FIFO handles (TW_NONE at the ends); next also links free slots */
};

/* h.hash holds the two windows the node needs (it has SYNACK_CONNTAB_NOHASH), each as the
 * 16-bit field of a segment: low half, the window we announce (and accept in) before scaling
 * by the receive shift; high half, MAX.SND.WND by the send shift, rounded up. h.owner[0]
 * holds the flags (TW_TS_OK), owner[1] the receive shift (low nibble) and the send shift. */
struct tw4 {
	struct synack_conntab_hdr h;
	struct synack_tuple4 key; /* as a synack_conntab_node4's */
	struct tw_tail t;
};
struct tw6 {
	struct synack_conntab_hdr h;
	struct synack_tuple key; /* as a synack_conntab_node's */
	struct tw_tail t;
};
#define TW_TS_OK 1u

/* An orphaned connection block in TIME-WAIT becomes a compact entry: the tcb is killed without
 * a trace (the connection goes on in the entry), the entry keeps its deadline. Past
 * max_tw_buckets (or out of memory) the connection is closed at once and
 * TcpExtTCPTimeWaitOverflow counted, as Linux's "time wait bucket table overflow". */
void tw_adopt(struct synack_stack *s, struct synack_tcb *c);
/* A segment for the entry n (stack_trace_rx already done). */
void tw_input(struct synack_stack *s, struct synack_conntab_hdr *n, struct rx *rx);
/* Expires the entries whose 2*MSL is over. */
void tw_expire(struct synack_stack *s);
/* The earliest deadline of an entry, or UINT64_MAX. */
uint64_t tw_next_deadline(const struct synack_stack *s);
/* tcp_tw_reuse (synack_config.tw_reuse): connect() may take over the 4-tuple of entry n when
 * both incarnations use timestamps (PAWS then tells the new segments from the old) and the
 * entry has waited over 1 s. Then the entry goes (TIME-WAIT → CLOSED, TcpExtTWRecycled) and
 * *iss is where the new connection starts: SND.NXT + 65535 + 2, as Linux's write_seq. */
bool tw_reuse(struct synack_stack *s, struct synack_conntab_hdr *n, seq_t *iss);
/* Entries whose local port is port. */
uint32_t tw_port_users(const struct synack_stack *s, uint16_t port);
/* Visits every entry, oldest first, as synack_stack_foreach's visitor (fd -1). */
void tw_foreach(const struct synack_stack *s, synack_conn_visitor visit, void *ctx);
void tw_init(struct synack_stack *s);
/* Frees every entry, the pools and the port counts (the stack is being destroyed, or the last
 * entry went). */
void tw_fini(struct synack_stack *s);

/* tcp_input.c: a segment for listener l (a TIME-WAIT entry reopening). */
void tcp_input_listen(struct synack_stack *s, struct synack_tcb *l, struct rx *rx);

#endif
