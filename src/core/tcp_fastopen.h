/* TCP Fast Open (RFC 7413), as Linux does it: the cookie, the client's cookie cache, and the
 * hooks the handshake calls on both sides.
 *
 * RFC 7413 §4.1.2: "The server is in charge of cookie generation and authentication. The
 * cookie SHOULD be a message authentication code tag ... GetCookie(IP_Address): returns a
 * (new) cookie. IsCookieValid(IP_Address, Cookie): checks if the cookie is valid". Here the
 * tag is SipHash-2-4 of the client's address (its 4 or 16 bytes) under a key derived from the
 * stack's secret and a key generation (now / SYNACK_TFO_KEY_PERIOD_US): "the server can
 * change the secret key regularly" while a cookie of the previous generation is still
 * accepted (and answered with a fresh one), as Linux accepts its primary and backup keys.
 *
 * Server (§4.2.2): a listener with TCP_FASTOPEN (a queue limit) and net.ipv4.tcp_fastopen's
 * server bit takes a SYN with a valid cookie as a new connection at once: its data is
 * readable and the connection is in the accept queue while still SYN-RECEIVED, and the
 * SYN-ACK acknowledges the data. A cookie request, or an invalid cookie, gets a valid cookie in
 * the SYN-ACK and the ordinary handshake. Client (§4.2.1): MSG_FASTOPEN on sendto() or
 * TCP_FASTOPEN_CONNECT ask for a cookie on the first SYN to a server and send data on the SYN
 * with the cached cookie afterwards; data the SYN-ACK does not acknowledge is sent again, and
 * a SYN that times out is retransmitted without data or option (§4.2.1 "the client SHOULD
 * ... fall back"). */
#ifndef SYNACK_CORE_TCP_FASTOPEN_H
#define SYNACK_CORE_TCP_FASTOPEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "synack/addr.h"

#define SYNACK_TFO_COOKIE_LEN 8 /* Linux's TCP_FASTOPEN_COOKIE_SIZE */
#define SYNACK_TFO_KEY_PERIOD_US (3600ull * 1000000u) /* a key generation: one hour */
#define SYNACK_TFO_CACHE_SIZE 16 /* destinations whose cookie the client remembers */

/* The cookie for peer under key generation gen. */
void tfo_cookie_gen(const uint8_t secret[16], const struct synack_addr *peer, uint64_t gen,
		    uint8_t out[SYNACK_TFO_COOKIE_LEN]);
/* The key generation at now_us. */
static inline uint64_t tfo_generation(uint64_t now_us)
{
	return now_us / SYNACK_TFO_KEY_PERIOD_US;
}
/* RFC 7413 IsCookieValid: 1 when cookie (len bytes) is peer's under the current generation, 2
 * under the previous one (valid, but the server sends the current one), 0 otherwise. */
int tfo_cookie_check(const uint8_t secret[16], const struct synack_addr *peer, uint64_t now_us,
		     const uint8_t *cookie, size_t len);

/* The client's cache: one cookie per destination address, the least recently used replaced. */
struct tfo_cache_entry {
	struct synack_addr addr;
	uint64_t used; /* tick of the last use; 0: empty */
	uint8_t len;
	uint8_t cookie[16];
};
struct tfo_cache {
	struct tfo_cache_entry e[SYNACK_TFO_CACHE_SIZE];
	uint64_t tick;
};
/* The cookie cached for addr (copied to cookie, its length returned), or 0. */
size_t tfo_cache_get(struct tfo_cache *tc, const struct synack_addr *addr, uint8_t cookie[16]);
void tfo_cache_put(struct tfo_cache *tc, const struct synack_addr *addr, const uint8_t *cookie,
		   size_t len);

/* A connection's Fast Open state, kept small (a listener uses qlen/pending, a child
 * child, a client the rest). */
enum tfo_syn { TFO_SYN_NONE, TFO_SYN_REQUEST, TFO_SYN_DATA };
struct tcp_tfo {
	uint32_t qlen;      /* listener: TCP_FASTOPEN, the limit of pending TFO children (the
	                     * count is tcb_listen.tfo_pending) */
	uint16_t syn_len;   /* client: data bytes our SYN carried */
	uint8_t syn;        /* client: enum tfo_syn of our first SYN */
	bool connect : 1;     /* client: TCP_FASTOPEN_CONNECT */
	bool deferred : 1;    /* client: connect() returned 0, the SYN waits for the first send */
	bool failed : 1;      /* client: TCPFastOpenActiveFail counted */
	bool child : 1;       /* passive: a TFO child counted in its listener's pending */
	bool send_cookie : 1; /* passive: the first SYN-ACK carries a cookie */
	bool cookie_exp : 1;  /* ... in the experimental option */
};

struct synack_stack;
struct synack_tcb;
struct synack_tcp_seg;
struct rx;

/* Server: a SYN reached listener l, which has room for a child. Returns true when the SYN is
 * a Fast Open one (its child takes the data at once); sets fo->send_cookie/cookie_exp when the
 * SYN-ACK must carry a cookie. Counts CookieReqd, PassiveFail, ListenOverflow. */
bool tfo_server_syn(struct synack_stack *s, struct synack_tcb *l, const struct rx *rx,
		    struct tcp_tfo *fo);
/* Server: child c of l for a Fast Open SYN: data readable, in the accept queue. False when
 * there is no memory for its buffers (the caller goes on with the ordinary handshake). */
bool tfo_child_accept(struct synack_stack *s, struct synack_tcb *l, struct synack_tcb *c,
		      const struct rx *rx);
/* A TFO child leaves its listener's count: its handshake completed, or it is gone. The
 * listener is found by port (an accepted child no longer points to it), as Linux counts a
 * Fast Open request until the handshake completes, accepted or not. */
void tfo_child_release(struct synack_stack *s, struct synack_tcb *c);

/* Client: the SYN about to be sent for c (connect, sendto, or a deferred connect's first
 * send) asks for a cookie or carries data[0..len) with the cached cookie. Returns the bytes
 * queued to go on the SYN (0: none). */
uint32_t tfo_connect_prepare(struct synack_stack *s, struct synack_tcb *c, const void *data,
			     size_t len);
/* Fills the Fast Open option (and, for a client's first SYN, the data) of the SYN or SYN-ACK
 * in seg; retx: a retransmission (never an option or data: the fallback of §4.2.1). */
void tfo_syn_options(struct synack_stack *s, struct synack_tcb *c, struct synack_tcp_seg *seg,
		     bool retx);
/* Client: an acceptable SYN-ACK: caches its cookie; the data it acknowledges leaves the send
 * queue. Returns true when data of the SYN must be sent again. */
bool tfo_synack(struct synack_stack *s, struct synack_tcb *c, const struct synack_tcp_seg *seg);

#endif
