/* CUBIC (RFC 9438), Linux's default since 2.6.19, with HyStart++ (RFC 9406) for the initial
 * slow start. The engine's loss recovery stays as for NewReno (cc.h): this file sets the
 * windows.
 *
 * Congestion avoidance (RFC 9438 §4): time t runs from the start of an epoch (the first ACK
 * in congestion avoidance after a reduction) and the window follows
 *     W_cubic(t) = C*(t-K)^3 + W_max                          (eq. 1, C = 0.4, segments, s)
 *     K = cubic_root((W_max - cwnd_epoch)/C)                  (eq. 2)
 * Each ACK moves cwnd toward target = W_cubic(t + RTT), clamped to [cwnd, 1.5*cwnd], by
 * "(target - cwnd)/cwnd" segments per segment acknowledged (§4.4), unless the Reno-friendly
 * estimate W_est, grown by α_cubic = 3(1-β)/(1+β) segments per window (1 once it reaches
 * cwnd_prior), is larger: then "cwnd SHOULD be set to W_est" (§4.3). On a congestion event
 * (§4.6) ssthresh = cwnd*β with β = 0.7, and fast convergence (§4.7) lowers W_max to
 * cwnd*(1+β)/2 when the window is still below the last W_max. After a timeout (§4.8) the
 * next epoch starts with K = 0 and W_max = cwnd.
 *
 * HyStart++ (RFC 9406 §4.2), only for the initial slow start (ssthresh still at its initial
 * value): slow start grows by N per ACK, the bytes it acknowledged, as Linux's tcp_slow_start
 * grows (RFC 9406 asks for min(N, L*SMSS) with L = 8 when not paced; but receivers that
 * coalesce, Linux's GRO and synack's input batches, acknowledge up to 64 KB at once, and with
 * L such stretch ACKs make slow start grow by 8 segments a round trip instead of doubling).
 * The engine marks the
 * ACK that begins each round (cc.round_start) and passes each RTT sample. With at least
 * N_RTT_SAMPLE samples in a round, a round minimum RTT that rose by RttThresh =
 * max(4 ms, min(lastRoundMinRTT/8, 16 ms)) over the previous round's moves to Conservative
 * Slow Start (growth divided by CSS_GROWTH_DIVISOR = 4); a round minimum below the CSS
 * baseline goes back to slow start (a spurious exit); after CSS_ROUNDS = 5 rounds (the
 * partial one counts) ssthresh = cwnd and congestion avoidance begins. Loss leaves both.
 *
 * The core links no libm: the cube root is Newton's iteration in double precision. */
#include "core/cc.h"

#define CUBIC_C 0.4
#define CUBIC_BETA 0.7
#define HS_MIN_RTT_THRESH_US 4000u
#define HS_MAX_RTT_THRESH_US 16000u
#define HS_MIN_RTT_DIVISOR 8u
#define HS_N_RTT_SAMPLE 8u
#define HS_CSS_GROWTH_DIVISOR 4u
#define HS_CSS_ROUNDS 5u

enum { HS_SS, HS_CSS }; /* a zeroed area is in slow start */

struct cubic {
	uint64_t epoch_us, k_us;
	uint32_t w_max, w_last_max, cwnd_prior, cwnd_epoch, w_est;
	/* HyStart++: round minima and the CSS baseline in microseconds, 0 for "infinity" (a
	 * zeroed area is a fresh one; samples are at least 1 us). */
	uint32_t last_round_min, cur_round_min, css_baseline;
	uint8_t samples, css_rounds, mode;
	bool in_epoch;
};

static struct cubic *priv(struct cc *cc) { return CC_PRIV(cc, struct cubic); }

static double cube_root(double x)
{
	if (x <= 0)
		return 0;
	double y = 1;
	while (y * y * y < x)
		y *= 2;
	for (int i = 0; i < 200; i++) {
		double n = (2 * y + x / (y * y)) / 3;
		if (n >= y)
			break; /* from above, Newton decreases until it converges */
		y = n;
	}
	return y;
}

uint64_t cc_cubic_k(uint32_t w_max, uint32_t cwnd_epoch, uint32_t mss)
{
	if (cwnd_epoch >= w_max || mss == 0)
		return 0;
	double segs = (double)(w_max - cwnd_epoch) / mss;
	return (uint64_t)(cube_root(segs / CUBIC_C) * 1e6 + 0.5);
}

double cc_cubic_window(uint64_t t_us, uint64_t k_us, uint32_t w_max, uint32_t mss)
{
	double d = ((double)t_us - (double)k_us) / 1e6;
	return CUBIC_C * d * d * d * mss + w_max;
}

static uint32_t clamp_cwnd(double w)
{
	if (w < 0)
		return 0;
	return w > CC_CWND_MAX ? CC_CWND_MAX : (uint32_t)w;
}

static void cubic_init(struct cc *cc, uint32_t mss, uint32_t iw)
{
	cc->cwnd = iw;
	cc->ssthresh = CC_SSTHRESH_INIT;
}

/* RFC 9406 §4.2 for one ACK; returns the divisor of slow start's growth (1, or 4 in CSS). */
static uint32_t hystart(struct cc *cc)
{
	struct cubic *p = priv(cc);
	if (cc->ssthresh != CC_SSTHRESH_INIT)
		return 1; /* only the initial slow start */
	if (cc->round_start) {
		if (p->mode == HS_CSS && p->css_rounds >= HS_CSS_ROUNDS) {
			cc->ssthresh = cc->cwnd; /* "enter congestion avoidance" */
			return 1;
		}
		if (p->mode == HS_CSS)
			p->css_rounds++;
		p->last_round_min = p->cur_round_min;
		p->cur_round_min = 0;
		p->samples = 0;
	}
	if (cc->rtt_us) {
		if (p->cur_round_min == 0 || cc->rtt_us < p->cur_round_min)
			p->cur_round_min = cc->rtt_us;
		if (p->samples < UINT8_MAX)
			p->samples++;
	}
	if (p->samples < HS_N_RTT_SAMPLE || p->cur_round_min == 0)
		return p->mode == HS_CSS ? HS_CSS_GROWTH_DIVISOR : 1;
	if (p->mode == HS_SS && p->last_round_min) {
		uint32_t th = p->last_round_min / HS_MIN_RTT_DIVISOR;
		th = th < HS_MAX_RTT_THRESH_US ? th : HS_MAX_RTT_THRESH_US;
		th = th > HS_MIN_RTT_THRESH_US ? th : HS_MIN_RTT_THRESH_US;
		if (p->cur_round_min >= p->last_round_min + th) {
			p->css_baseline = p->cur_round_min;
			p->mode = HS_CSS;
			p->css_rounds = 1; /* "that partial round counts towards the limit" */
		}
	} else if (p->mode == HS_CSS && p->cur_round_min < p->css_baseline) {
		p->css_baseline = 0; /* a spurious exit: "resume slow start" */
		p->mode = HS_SS;
	}
	return p->mode == HS_CSS ? HS_CSS_GROWTH_DIVISOR : 1;
}

static void epoch_start(struct cc *cc, uint32_t mss)
{
	struct cubic *p = priv(cc);
	p->in_epoch = true;
	p->epoch_us = cc->now_us;
	p->cwnd_epoch = cc->cwnd;
	p->w_est = cc->cwnd;
	if (cc->cwnd < p->w_max) {
		p->k_us = cc_cubic_k(p->w_max, cc->cwnd, mss);
	} else {
		p->k_us = 0;
		p->w_max = cc->cwnd;
	}
	if (p->cwnd_prior == 0)
		p->cwnd_prior = p->w_max;
}

/* RFC 9438 §4.2-4.5: one ACK of acked bytes in congestion avoidance. */
static void cubic_avoidance(struct cc *cc, uint32_t mss, uint32_t acked)
{
	struct cubic *p = priv(cc);
	if (!p->in_epoch)
		epoch_start(cc, mss);
	uint64_t t = cc->now_us - p->epoch_us;
	double alpha = p->w_est >= p->cwnd_prior ? 1.0
						  : 3.0 * (1 - CUBIC_BETA) / (1 + CUBIC_BETA);
	double est = p->w_est + alpha * (double)acked * mss / cc->cwnd;
	p->w_est = clamp_cwnd(est);
	double w = cc_cubic_window(t, p->k_us, p->w_max, mss);
	if (w < p->w_est) {
		cc->cwnd = p->w_est > cc->cwnd ? p->w_est : cc->cwnd; /* Reno-friendly region */
		return;
	}
	double target = cc_cubic_window(t + cc->srtt_us, p->k_us, p->w_max, mss);
	if (target < cc->cwnd)
		target = cc->cwnd;
	if (target > 1.5 * cc->cwnd)
		target = 1.5 * cc->cwnd;
	double inc = (target - cc->cwnd) * acked / cc->cwnd;
	cc->cwnd = clamp_cwnd(cc->cwnd + inc);
}

static void cubic_on_ack(struct cc *cc, uint32_t mss, uint32_t acked, bool in_recovery)
{
	if (in_recovery) {
		/* NewReno's partial acknowledgment (the engine's recovery, RFC 6582 §3.2). */
		cc->cwnd = cc->cwnd > acked ? cc->cwnd - acked : 0;
		cc->cwnd += mss;
		return;
	}
	uint32_t div = hystart(cc);
	if (cc->cwnd < cc->ssthresh) {
		cc->cwnd = clamp_cwnd((double)cc->cwnd + acked / div);
		return;
	}
	cubic_avoidance(cc, mss, acked);
}

static void cubic_on_dupack(struct cc *cc, uint32_t mss)
{
	if (cc->cwnd < CC_CWND_MAX)
		cc->cwnd += mss;
}

/* RFC 9438 §4.6-4.7: W_max (with fast convergence) and ssthresh = cwnd*β. */
static void reduce(struct cc *cc, uint32_t mss)
{
	struct cubic *p = priv(cc);
	p->in_epoch = false;
	p->mode = HS_SS;
	p->cwnd_prior = cc->cwnd;
	/* β = 0.7 = 7/10 and (1+β)/2 = 17/20, in integers (whole bytes, rounded down). */
	if (cc->cwnd < p->w_last_max)
		p->w_max = (uint32_t)((uint64_t)cc->cwnd * 17 / 20);
	else
		p->w_max = cc->cwnd;
	p->w_last_max = cc->cwnd;
	uint32_t th = (uint32_t)((uint64_t)cc->cwnd * 7 / 10);
	cc->ssthresh = th > 2 * mss ? th : 2 * mss;
}

static void cubic_on_congestion(struct cc *cc, uint32_t mss, uint32_t flight)
{
	reduce(cc, mss);
	cc->cwnd = cc->ssthresh + 3 * mss; /* fast recovery's inflation (RFC 5681 §3.2) */
}

static void cubic_on_recovery_exit(struct cc *cc, uint32_t mss) { cc->cwnd = cc->ssthresh; }

static void cubic_on_rto(struct cc *cc, uint32_t mss, uint32_t flight)
{
	reduce(cc, mss);
	/* §4.8: the next epoch starts with K = 0 and W_max = cwnd at its start. */
	priv(cc)->w_max = 0;
	cc->cwnd = mss;
}

static void cubic_on_idle_restart(struct cc *cc, uint32_t mss, uint32_t iw, uint64_t idle_us,
				  uint32_t rto_us)
{
	cc_idle_restart(cc, iw, idle_us, rto_us);
	priv(cc)->in_epoch = false; /* the curve starts over from the restarted window */
}

/* RFC 9438 §4.6: an ECN-Echo is a congestion event like a loss (RFC 3168 §6.1.2), without
 * retransmission: cwnd goes straight to ssthresh. */
static void cubic_on_ecn(struct cc *cc, uint32_t mss, uint32_t flight)
{
	reduce(cc, mss);
	cc->cwnd = cc->ssthresh;
}

const struct cc_ops cc_cubic = {
	.name = "cubic",
	.init = cubic_init,
	.on_ack = cubic_on_ack,
	.on_dupack = cubic_on_dupack,
	.on_congestion = cubic_on_congestion,
	.on_recovery_exit = cubic_on_recovery_exit,
	.on_rto = cubic_on_rto,
	.on_idle_restart = cubic_on_idle_restart,
	.on_ecn = cubic_on_ecn,
};
