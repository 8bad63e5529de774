/* Shared between the steps of segment arrival (tcp_input.c) and the ACK step (tcp_ack.c). */
#ifndef SYNACK_CORE_TCP_INPUT_H
#define SYNACK_CORE_TCP_INPUT_H

#include "core/tcb.h"

/* A TCP segment carried by a valid IP packet from src to dst (dst is one of the stack's
 * addresses), called by ip.c; csum_ok: the link vouched for the checksum (frame.h:
 * VERIFIED or NEEDED), it is not verified again; frame is the whole packet, for traces. TCP never sees the IP
 * header, so another IP version only needs its own input in ip.c. */
void tcp_input(struct synack_stack *s, const struct synack_addr *src, const struct synack_addr *dst,
	       const uint8_t *tcp, size_t tcp_len, const uint8_t *frame, size_t frame_len,
	       bool csum_ok);

/* One arriving segment as the steps of RFC 9293 §3.10.7 see it. */
struct rx {
	const struct synack_tcp_seg *seg;
	struct synack_tuple t; /* local = destination of the segment */
	const uint8_t *frame;
	size_t frame_len;
	uint32_t seg_len;  /* SEG.LEN: data + SYN + FIN */
	bool ack_now;      /* an acknowledgment must go out */
	bool data_in;      /* new in-sequence data: acknowledged at once or delayed (tcp_delack.c) */
	bool text_dropped; /* zero window, trimmed or out of order: the FIN cannot be taken */
	bool has_min_iss;  /* reopening from TIME-WAIT: the new ISS must be above min_iss */
	uint8_t ecn;       /* the ECN field of the IP header (RFC 3168 §5) */
	seq_t min_iss;
};

static inline bool has(const struct rx *rx, uint8_t flag) { return (rx->seg->flags & flag) != 0; }

void rx_drop(struct synack_stack *s, const struct rx *rx, enum synack_drop_reason r);
/* RFC 5961 challenge ACK, rate limited per connection. */
void challenge_ack(struct synack_stack *s, struct synack_tcb *c, const struct rx *rx);
/* RFC 7323 §4.3: records SEG.TSval as TS.Recent (an acceptable segment's, tcp_ack.c). */
void tcp_update_ts_recent(struct synack_tcb *c, const struct synack_tcp_seg *seg);
/* "fifth check the ACK field". Returns false when processing of the segment ends. */
bool check_ack(struct synack_stack *s, struct synack_tcb *c, struct rx *rx);
/* A passive child joins the accept queue of l (PassiveOpens; bound to l's port). */
void tcp_acceptq_push(struct synack_stack *s, struct synack_tcb *l, struct synack_tcb *c);

#endif
