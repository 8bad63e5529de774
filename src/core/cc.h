/* Congestion control behind a small ops table (as Linux's tcp_congestion_ops), so that the
 * TCP engine says WHAT happened (new data acknowledged, a duplicate ACK in recovery, a
 * congestion event, the end of recovery, a timeout) and the controller decides what cwnd and
 * ssthresh become. NewReno (RFC 5681, RFC 6582) is cc_newreno.c, CUBIC (RFC 9438) with
 * HyStart++ (RFC 9406) cc_cubic.c.
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
/* The room a controller has for its own state in every tcb: what CUBIC with HyStart++ needs
 * (52 bytes), rounded to 8; every byte here is in every connection block. */
#define CC_PRIV_BYTES 56
/* ssthresh before the first congestion event: "arbitrarily high" (RFC 5681 §3.1). */
#define CC_SSTHRESH_INIT (UINT32_MAX / 2)

struct cc_ops;

struct cc {
	const struct cc_ops *ops;
	uint32_t cwnd, ssthresh; /* bytes */
	/* What the engine tells every op about the moment (Linux's controllers read the same
	 * from tcp_sock): the time of the event, the smoothed RTT (0: none yet), this ACK's
	 * RTT sample (0: none), and whether this ACK began a new round (SND.UNA passed the
	 * SND.NXT recorded when the previous round began: RFC 9406's windowEnd). */
	uint64_t now_us;
	uint32_t srtt_us, rtt_us;
	bool round_start;
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
	/* Data is about to be sent after idle_us without sending, longer than one RTO (rto_us),
	 * with nothing in flight: the window was not validated meanwhile (RFC 7661 §3's
	 * problem). Controllers use cc_idle_restart (Linux's tcp_cwnd_restart). */
	void (*on_idle_restart)(struct cc *cc, uint32_t mss, uint32_t iw, uint64_t idle_us,
				uint32_t rto_us);
	/* An ECN-Echo (RFC 3168 §6.1.2): the network marked congestion with flight bytes
	 * outstanding; at most once per window of data (the engine sees to it). */
	void (*on_ecn)(struct cc *cc, uint32_t mss, uint32_t flight);
};

/* Linux's tcp_cwnd_restart (net.ipv4.tcp_slow_start_after_idle, on by default): ssthresh
 * keeps at least 3/4 of cwnd, then cwnd halves once for every RTO of the idle time after the
 * first, never below min(iw, cwnd). */
void cc_idle_restart(struct cc *cc, uint32_t iw, uint64_t idle_us, uint32_t rto_us);

/* The registry: the controller called name (a NUL-terminated string), or NULL. */
const struct cc_ops *cc_find(const char *name);
/* A registered controller's place in the registry, and back (what a folded connection keeps
 * instead of the pointer: tcb_flow.c). */
uint8_t cc_index(const struct cc_ops *ops);
const struct cc_ops *cc_at(uint8_t i);
/* Hands cc to ops: cwnd and ssthresh are kept (a switch mid-connection does not restart
 * it, as Linux), the private area is zeroed. */
void cc_set(struct cc *cc, const struct cc_ops *ops);

/* cc_newreno.c */
extern const struct cc_ops cc_newreno;
/* cc_cubic.c */
extern const struct cc_ops cc_cubic;
/* CUBIC's window W_cubic(t) = C*(t-K)^3 + W_max (RFC 9438 eq. 1) in bytes, for t and K in
 * microseconds and W_max in bytes (exposed for the tests of the formula). */
double cc_cubic_window(uint64_t t_us, uint64_t k_us, uint32_t w_max, uint32_t mss);
/* K = cubic_root((W_max - cwnd_epoch) / C) (RFC 9438 eq. 2), in microseconds. */
uint64_t cc_cubic_k(uint32_t w_max, uint32_t cwnd_epoch, uint32_t mss);

#endif
