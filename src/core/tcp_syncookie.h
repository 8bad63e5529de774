/* SYN cookies at a listener (RFC 4987 §3.6, Linux's behaviour): the glue between the pure
 * cookie construction (cookie.h) and the LISTEN step of segment arrival (tcp_input.c).
 *
 *   mode 0  never;
 *   mode 1  when the SYN queue is full (Linux's default, net.ipv4.tcp_syncookies=1);
 *   mode 2  for every SYN.
 *
 * A SYN that gets a cookie is answered by a SYN-ACK built here and forgotten. An ACK arriving
 * at a listener that sent cookies recently is checked: a valid cookie makes tcp_input.c create
 * the connection as if the SYN had been queued, then process the ACK (and any data on it) as
 * every SYN-RECEIVED connection does; anything else is a segment without a connection. */
#ifndef SYNACK_CORE_TCP_SYNCOOKIE_H
#define SYNACK_CORE_TCP_SYNCOOKIE_H

#include "core/tcp_input.h"

/* A SYN reached listener l (whose SYN queue is full when synq_full). Returns true when a
 * cookie SYN-ACK answered it (SyncookiesSent), false when the caller queues or drops it. */
bool syncookie_syn(struct synack_stack *s, struct synack_tcb *l, const struct rx *rx,
		   bool synq_full);

enum syncookie_verdict {
	SYNCOOKIE_NONE,	 /* not a cookie ACK: the caller answers it as LISTEN does (RST) */
	SYNCOOKIE_DROP,	 /* a valid cookie, but the accept queue is full: dropped and counted */
	SYNCOOKIE_CHILD, /* a valid cookie: *syn is the SYN it stood for; create the child */
};

/* An ACK (no SYN, no RST) reached listener l. Counts SyncookiesRecv or SyncookiesFailed when
 * it checks a cookie. On SYNCOOKIE_CHILD, *syn is the SYN the cookie encoded: the peer's ISN,
 * the MSS from the table, and, when timestamps were on, window scale and SACK-permitted. */
enum syncookie_verdict syncookie_ack(struct synack_stack *s, struct synack_tcb *l,
				     const struct rx *rx, struct synack_tcp_seg *syn);

/* Makes a child created from *syn look like one whose SYN-ACK carried the cookie: ISS =
 * SEG.ACK - 1 with the SYN acknowledged-to-be, and the TSval clock the SYN-ACK used. */
void syncookie_child(struct synack_stack *s, struct synack_tcb *c,
		     const struct synack_tcp_seg *ack);

#endif
