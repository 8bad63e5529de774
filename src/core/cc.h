/* Congestion control behind a small ops table (as Linux's tcp_congestion_ops), so that the
 * TCP engine says WHAT happened (new data acknowledged, a duplicate ACK in recovery, a
 * congestion event, the end of recovery, a timeout) and the controller decides what cwnd and
 * ssthresh become. NewReno (RFC 5681, RFC 6582) is the first controller (cc_newreno.c).
 *
 * The engine keeps the loss-recovery mechanics (counting duplicate ACKs, the recovery point,
 * which segment to retransmit, RFC 3042 limited transmit); a controller only computes the
 * windows. It sees a struct cc, never the tcb: cwnd and ssthresh in bytes, and a small fixed
 * area for its own state (Linux's icsk_ca_priv), zeroed whenever a controller takes over.
 * mss is SMSS, the size of the segments the connection sends (snd_mss).
 *
 * Controllers are found by name in a fixed registry (cc.c); the stack's default comes from
 * synack_config.congestion, a socket may pick another with TCP_CONGESTION. */
#ifndef SYNACK_CORE_CC_H
#define SYNACK_CORE_CC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* No window is larger than 1 GiB (65535 << 14): cwnd never needs to grow past it. */
#define CC_CWND_MAX (1u << 30)
/* The room a controller has for its own state in every tcb. */
#define CC_PRIV_BYTES 32

struct cc_ops;

struct cc {
	const struct cc_ops *ops;
	uint32_t cwnd, ssthresh; /* bytes */
	union {
		uint64_t u64[CC_PRIV_BYTES / 8];
		uint8_t bytes[CC_PRIV_BYTES];
	} priv;
};

/* A controller's private state: CC_PRIV(cc, struct my_state) — refused at compile time when
 * it does not fit. */
#define CC_PRIV(cc, type)                                                                     \
	((void)sizeof(char[sizeof(type) <= CC_PRIV_BYTES ? 1 : -1]), (type *)(void *)(cc)->priv.bytes)

struct cc_ops {
	const char *name; /* as Linux names it ("reno" is NewReno); at most 15 characters */
	/* The connection is synchronized: the initial window iw, in bytes (RFC 5681 §3.1). */
	void (*init)(struct cc *cc, uint32_t mss, uint32_t iw);
	/* An ACK acknowledged acked new bytes. in_recovery: a partial acknowledgment during
	 * fast recovery (the engine has retransmitted the next unacknowledged segment). */
	void (*on_ack)(struct cc *cc, uint32_t mss, uint32_t acked, bool in_recovery);
	/* A further duplicate ACK during fast recovery (a segment has left the network). */
	void (*on_dupack)(struct cc *cc, uint32_t mss);
	/* The third duplicate ACK: entering fast recovery with flight bytes outstanding. */
	void (*on_congestion)(struct cc *cc, uint32_t mss, uint32_t flight);
	/* A full acknowledgment (SND.UNA reached the recovery point): leaving fast recovery. */
	void (*on_recovery_exit)(struct cc *cc, uint32_t mss);
	/* The retransmission timer expired with flight bytes outstanding. */
	void (*on_rto)(struct cc *cc, uint32_t mss, uint32_t flight);
	/* An ECN-Echo (RFC 3168 §6.1.2): the network marked congestion with flight bytes
	 * outstanding; at most once per window of data (the engine sees to it). */
	void (*on_ecn)(struct cc *cc, uint32_t mss, uint32_t flight);
};

/* The registry: the controller called name (a NUL-terminated string), or NULL. */
const struct cc_ops *cc_find(const char *name);
/* Hands cc to ops: cwnd and ssthresh are kept (a switch mid-connection does not restart
 * it, as Linux), the private area is zeroed. */
void cc_set(struct cc *cc, const struct cc_ops *ops);

/* cc_newreno.c */
extern const struct cc_ops cc_newreno;

#endif
