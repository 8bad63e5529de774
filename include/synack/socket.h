/* synack — the BSD-like socket API.
 *
 * Descriptors are small non-negative integers local to one stack. Every socket is
 * non-blocking: a call that would block returns -EAGAIN (or -EINPROGRESS for connect), and
 * readiness is reported by synack_events() and by the stack's `wake` callback, so any event
 * loop can drive it. Every function returns a negative errno value on error; the errors each
 * can return are listed beside it. A descriptor that is not open gives -EBADF everywhere.
 * A connection quiet for a second gives back the memory only a busy connection needs and
 * takes it again when it is used: a call that acts on it (connect, send, recv with MSG_OOB,
 * shutdown, setsockopt, bind, listen, accept) may then also give -ENOMEM, and changes
 * nothing; close() always closes (without that memory, by a reset). Calls that only look
 * (recv with nothing to read, getsockopt, synack_events, synack_tcp_info, getsockname,
 * getpeername) never do.
 */
#ifndef SYNACK_SOCKET_H
#define SYNACK_SOCKET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h> /* ssize_t */

#include "addr.h"
#include "stack.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default) /* the library exports what this header declares */

/* RFC 9293 state names. */
enum synack_tcp_state {
	SYNACK_CLOSED,
	SYNACK_LISTEN,
	SYNACK_SYN_SENT,
	SYNACK_SYN_RECEIVED,
	SYNACK_ESTABLISHED,
	SYNACK_FIN_WAIT_1,
	SYNACK_FIN_WAIT_2,
	SYNACK_CLOSE_WAIT,
	SYNACK_CLOSING,
	SYNACK_LAST_ACK,
	SYNACK_TIME_WAIT,
	SYNACK_STATE_COUNT
};
/* "SYN-RECEIVED", ... as RFC 9293 writes them; ss-style names ("SYN-RECV", "ESTAB", ...). */
const char *synack_state_name(enum synack_tcp_state st);
const char *synack_state_ss_name(enum synack_tcp_state st);

/* Readiness, as a mask. */
#define SYNACK_EV_READABLE 0x1u /* data, EOF, or a connection to accept */
#define SYNACK_EV_WRITABLE 0x2u /* send buffer space, or connect finished */
#define SYNACK_EV_ERROR 0x4u    /* a pending error (read it with SO_ERROR) */
#define SYNACK_EV_HUP 0x8u      /* both directions are finished, or the connection is gone */
#define SYNACK_EV_PRI 0x10u     /* an urgent byte waits to be read with SYNACK_MSG_OOB */

#define SYNACK_SHUT_RD 0
#define SYNACK_SHUT_WR 1
#define SYNACK_SHUT_RDWR 2

/* send/recv flags */
#define SYNACK_MSG_OOB 0x1  /* send: the data is urgent (URG, pointer past its end); recv: the
			     * urgent byte, as Linux (see synack_sockatmark) */
#define SYNACK_MSG_PEEK 0x2
#define SYNACK_MSG_EOR 0x80 /* send: the data ends a record; no segment carries bytes past it */
#define SYNACK_MSG_FASTOPEN 0x20000000 /* sendto: connect, the data on the SYN (RFC 7413) */

/* Option levels and names (Linux's numbers). */
#define SYNACK_SOL_SOCKET 1
#define SYNACK_IPPROTO_IP 0
#define SYNACK_IPPROTO_TCP 6
#define SYNACK_IPPROTO_IPV6 41 /* level of SYNACK_IPV6_V6ONLY */
#define SYNACK_IP_TOS 1          /* DSCP of the connection's packets (ECN bits are TCP's) */
#define SYNACK_IP_TTL 2          /* TTL of its packets; -1 restores the default, 64 */
#define SYNACK_IP_MTU_DISCOVER 10 /* SYNACK_IP_PMTUDISC_*: DF is set unless DONT or OMIT */
#define SYNACK_IP_PMTUDISC_DONT 0
#define SYNACK_IP_PMTUDISC_WANT 1
#define SYNACK_IP_PMTUDISC_DO 2
#define SYNACK_IP_PMTUDISC_PROBE 3
#define SYNACK_IP_PMTUDISC_INTERFACE 4
#define SYNACK_IP_PMTUDISC_OMIT 5
#define SYNACK_SO_REUSEADDR 2
#define SYNACK_SO_ERROR 4
#define SYNACK_SO_SNDBUF 7
#define SYNACK_SO_RCVBUF 8
#define SYNACK_SO_KEEPALIVE 9
#define SYNACK_SO_OOBINLINE 10 /* the urgent byte stays in the data stream */
#define SYNACK_SO_LINGER 13
/* IPV6_V6ONLY (RFC 3493 §5.3), as Linux: a socket bound to the IPv6 wildcard (::), or not
 * bound at all, hears both families (IPv4 peers appear as ::ffff:a.b.c.d) unless it is set;
 * bound to 0.0.0.0 it hears IPv4 only. Set before bind (-EINVAL after); with it set, bind and
 * connect to an IPv4 address fail (-EINVAL, -ENETUNREACH). */
#define SYNACK_IPV6_V6ONLY 26
#define SYNACK_TCP_NODELAY 1
#define SYNACK_TCP_MAXSEG 2
#define SYNACK_TCP_KEEPIDLE 4
#define SYNACK_TCP_KEEPINTVL 5
#define SYNACK_TCP_KEEPCNT 6
#define SYNACK_TCP_CORK 3        /* hold partial segments until uncorked (or a FIN) */
#define SYNACK_TCP_INFO 11
/* Delayed ACKs (Linux's semantics): 0 enters "pingpong" mode, where data is acknowledged by
 * the delayed-ACK timer (or the reply that carries it) instead of quick ACKs; 1 leaves it and
 * sends an acknowledgment that is owed at once. Get: 1 unless in pingpong mode. The mode
 * ends by itself when a delayed-ACK timer fires, as in Linux. */
#define SYNACK_TCP_QUICKACK 12
/* The congestion controller, by name: set with the name's bytes (len >= 1; a NUL ends it,
 * as Linux; -ENOENT for an unknown one); get copies min(len, SYNACK_CC_NAME_MAX) bytes of
 * the NUL-padded name and sets len to that. */
#define SYNACK_TCP_CONGESTION 13
#define SYNACK_TCP_USER_TIMEOUT 18 /* ms unacknowledged data may wait before ETIMEDOUT; 0: off */
#define SYNACK_TCP_NOTSENT_LOWAT 25 /* writable only while fewer unsent bytes are queued */
#define SYNACK_TCP_FASTOPEN 23 /* listener: accept Fast Open SYNs, at most this many pending */
#define SYNACK_TCP_FASTOPEN_CONNECT 30 /* connect() with a cached cookie returns 0 at once, the
					* SYN goes with the first send's data (RFC 7413) */

struct synack_linger {
	int l_onoff;
	int l_linger; /* seconds */
};

/* TCP_INFO: what the connection looks like now. Times in microseconds. */
struct synack_tcp_info {
	enum synack_tcp_state state;
	struct synack_endpoint local, remote;
	uint32_t rtt_us, rttvar_us, rto_us;
	uint32_t retransmits;      /* consecutive retransmissions of the oldest segment */
	uint32_t total_retrans;    /* segments retransmitted over the connection's life */
	uint32_t unacked;          /* segments sent and not acknowledged */
	uint32_t bytes_in_flight;  /* snd_nxt - snd_una */
	uint32_t snd_mss, rcv_mss;
	uint32_t snd_wnd, rcv_wnd; /* bytes, scaled */
	uint32_t snd_cwnd;         /* bytes */
	uint32_t snd_ssthresh;     /* bytes; UINT32_MAX while it is still "arbitrarily high" */
	uint8_t snd_wscale, rcv_wscale;
	bool ts_ok, sack_ok;
	uint32_t recv_q, send_q;   /* bytes waiting to be read / not yet acknowledged */
	uint32_t iss, irs, snd_una, snd_nxt, rcv_nxt;
	/* A socket bound to no address of its own (a wildcard listener): the families it hears,
	 * SYNACK_AF_INET (0.0.0.0), SYNACK_AF_INET6 ([::] with IPV6_V6ONLY), or 0 for both (a
	 * dual-stack [::], or never bound). local.addr then names the stack's first address. */
	bool any_local;
	uint8_t any_family;
	/* Memory (ss -m's skmem): the buffer memory held for received and for queued data
	 * (chunks, bytes) and the sizes of the two buffers. */
	uint32_t rmem_alloc, rcvbuf, wmem_queued, sndbuf;
};

/* Creates a TCP socket. Errors: -EMFILE (max_sockets reached), -ENOMEM. */
int synack_socket(struct synack_stack *s);
/* Errors: -EBADF, -EINVAL (already bound, or listening/connected), -EADDRINUSE,
 * -EADDRNOTAVAIL (addr is neither the unspecified address of a family nor one of the
 * stack's). Port 0 picks an ephemeral port. A specific address becomes the source of the
 * socket's connection. */
int synack_bind(struct synack_stack *s, int fd, const struct synack_endpoint *local);
/* Errors: -EBADF, -EINVAL (connected or connecting), -EADDRINUSE (autobind failed), -ENOMEM
 * (the listener's queues could not be allocated). A second listen() on a listener only
 * changes the backlog, as on Linux. */
int synack_listen(struct synack_stack *s, int fd, int backlog);
/* Returns the new descriptor. Errors: -EBADF, -EINVAL (not listening), -EAGAIN, -EMFILE. */
int synack_accept(struct synack_stack *s, int fd, struct synack_endpoint *peer);
/* Starts an active open; returns -EINPROGRESS. The source address is the one bind() named,
 * else the stack's first address of the destination's family. Errors: -EBADF, -EISCONN,
 * -EALREADY, -EINVAL (listening; an unspecified address or port 0; bound to an address of
 * the other family), -EADDRNOTAVAIL (no ephemeral port), -ENETUNREACH (a broadcast or
 * multicast address; an IPv6 destination and no IPv6 address of our own),
 * -ECONNREFUSED/-ETIMEDOUT/... (a finished failed attempt reports its error once, like
 * SO_ERROR). */
int synack_connect(struct synack_stack *s, int fd, const struct synack_endpoint *remote);
/* Returns bytes queued (maybe fewer than len). Errors: -EBADF, -ENOTCONN, -EPIPE (write half
 * shut or peer reset after close), -EAGAIN (buffer full), a pending error (-ECONNRESET,
 * -ETIMEDOUT). */
ssize_t synack_send(struct synack_stack *s, int fd, const void *buf, size_t len, int flags);
/* send() that, with SYNACK_MSG_FASTOPEN on an unconnected socket, connects to remote as Linux's
 * sendto(MSG_FASTOPEN) does (RFC 7413): with a cookie cached for remote's address, the SYN
 * carries the cookie and up to MSS-40 bytes of buf, and their count is returned; without one,
 * the SYN asks for a cookie and -EINPROGRESS is returned (nothing queued). Without the flag,
 * remote is ignored and this is synack_send(). Errors: those of synack_connect and
 * synack_send, -EOPNOTSUPP (net.ipv4.tcp_fastopen without the client bit). */
ssize_t synack_sendto(struct synack_stack *s, int fd, const void *buf, size_t len, int flags,
		      const struct synack_endpoint *remote);
/* Returns bytes read, 0 at end of stream. Errors: -EBADF, -ENOTCONN, -EAGAIN, -EINVAL
 * (listener), a pending error (-ECONNRESET, -ETIMEDOUT, -ECONNREFUSED). */
ssize_t synack_recv(struct synack_stack *s, int fd, void *buf, size_t len, int flags);
/* Errors: -EBADF, -EINVAL (bad how), -ENOTCONN. */
int synack_shutdown(struct synack_stack *s, int fd, int how);
/* Releases the descriptor; the connection closes gracefully (or aborts, see SO_LINGER and
 * unread data). Errors: -EBADF. */
int synack_close(struct synack_stack *s, int fd);
/* Errors: -EBADF, -EINVAL (bad length or value), -ENOPROTOOPT (unknown level or option). */
int synack_setsockopt(struct synack_stack *s, int fd, int level, int name, const void *val,
		      size_t len);
/* *len is in/out. Errors as setsockopt. SO_ERROR reads and clears the pending error. */
int synack_getsockopt(struct synack_stack *s, int fd, int level, int name, void *val,
		      size_t *len);
/* Readiness mask (SYNACK_EV_*); -EBADF. */
int synack_events(const struct synack_stack *s, int fd);
int synack_getsockname(const struct synack_stack *s, int fd, struct synack_endpoint *out);
int synack_getpeername(const struct synack_stack *s, int fd, struct synack_endpoint *out);
/* Urgent data (RFC 9293 §3.8.5 with Linux's API, MUST-31..33): the urgent pointer of an
 * arriving segment marks its last urgent byte (the byte before SEG.UP). Unless SO_OOBINLINE is
 * set that byte leaves the data stream: recv(SYNACK_MSG_OOB) returns it once (-EINVAL when
 * there is none, it was read, or SO_OOBINLINE is set; -EAGAIN while it has not arrived), and
 * SYNACK_EV_PRI says it waits. Ordinary reads stop at the mark. Returns 1 when the next byte
 * to read is at the mark, 0 otherwise (SIOCATMARK); -EBADF. */
int synack_sockatmark(const struct synack_stack *s, int fd);
/* TCP_INFO without the option plumbing. Errors: -EBADF. */
int synack_tcp_info(const struct synack_stack *s, int fd, struct synack_tcp_info *out);

/* Every connection and listener the stack holds, descriptor or not (SYN-RECEIVED entries,
 * orphans in FIN-WAIT/TIME-WAIT): the `ss` view. fd is -1 when no descriptor refers to it. */
typedef void (*synack_conn_visitor)(void *ctx, int fd, const struct synack_tcp_info *info);
void synack_stack_foreach(const struct synack_stack *s, synack_conn_visitor visit, void *ctx);
/* Aborts every connection that is neither a listener nor in TIME-WAIT or CLOSED (RFC 9293
 * §3.10.5 ABORT: a RST <SEQ=SND.NXT> for a synchronized or SYN-RECEIVED one), descriptors
 * held or not: what a program does on its way out when its peers did not finish closing (a
 * peer that never acknowledges our FIN is reset, not left half-open). A descriptor's socket
 * reports ECONNABORTED. Returns how many were aborted. */
size_t synack_stack_abort_all(struct synack_stack *s);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
