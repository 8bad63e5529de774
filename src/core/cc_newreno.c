/* NewReno: RFC 5681 (slow start, congestion avoidance, fast retransmit/fast recovery) with
 * RFC 6582's partial acknowledgments. Linux calls it "reno". No private state.
 *
 * RFC 5681 §3.1: "IW, the initial value of cwnd" and "The initial value of ssthresh SHOULD be
 * set arbitrarily high"; during slow start "cwnd += min (N, SMSS)" (eq. 2); during congestion
 * avoidance "cwnd += SMSS*SMSS/cwnd" (eq. 3); on a timeout "ssthresh = max (FlightSize / 2,
 * 2*SMSS)" (eq. 4) and "the congestion window ... is no more than ... 1 full-sized segment".
 * §3.2: on the third duplicate ACK ssthresh as eq. 4 and "cwnd ... to ssthresh plus 3*SMSS";
 * "For each additional duplicate ACK received (after the third), cwnd MUST be incremented by
 * SMSS". RFC 6582 §3.2: a full acknowledgment sets "cwnd to ... ssthresh"; a partial one
 * deflates "the congestion window by the amount of new data acknowledged ..., then add back
 * SMSS bytes". */
#include "core/cc.h"

static uint32_t half_flight(uint32_t mss, uint32_t flight)
{
	return flight / 2 > 2 * mss ? flight / 2 : 2 * mss; /* eq. 4 */
}

static void reno_init(struct cc *cc, uint32_t mss, uint32_t iw)
{
	cc->cwnd = iw;
	cc->ssthresh = CC_SSTHRESH_INIT;
}

static void reno_on_ack(struct cc *cc, uint32_t mss, uint32_t acked, bool in_recovery)
{
	if (in_recovery) {
		cc->cwnd = cc->cwnd > acked ? cc->cwnd - acked : 0;
		cc->cwnd += mss;
		return;
	}
	if (cc->cwnd < cc->ssthresh)
		cc->cwnd += acked < mss ? acked : mss; /* slow start */
	else
		cc->cwnd += mss * mss / cc->cwnd > 0 ? mss * mss / cc->cwnd : 1; /* avoidance */
	if (cc->cwnd > CC_CWND_MAX)
		cc->cwnd = CC_CWND_MAX;
}

static void reno_on_dupack(struct cc *cc, uint32_t mss)
{
	if (cc->cwnd < CC_CWND_MAX)
		cc->cwnd += mss;
}

static void reno_on_congestion(struct cc *cc, uint32_t mss, uint32_t flight)
{
	cc->ssthresh = half_flight(mss, flight);
	cc->cwnd = cc->ssthresh + 3 * mss;
}

static void reno_on_recovery_exit(struct cc *cc, uint32_t mss) { cc->cwnd = cc->ssthresh; }

static void reno_on_rto(struct cc *cc, uint32_t mss, uint32_t flight)
{
	cc->ssthresh = half_flight(mss, flight);
	cc->cwnd = mss;
}

static void reno_on_idle_restart(struct cc *cc, uint32_t mss, uint32_t iw, uint64_t idle_us,
				 uint32_t rto_us)
{
	cc_idle_restart(cc, iw, idle_us, rto_us);
}

/* RFC 3168 §6.1.2: "the TCP source halves the congestion window "cwnd" and reduces the slow
 * start threshold "ssthresh"", as for a loss detected by duplicate ACKs, without
 * retransmitting. */
static void reno_on_ecn(struct cc *cc, uint32_t mss, uint32_t flight)
{
	cc->ssthresh = half_flight(mss, flight);
	cc->cwnd = cc->ssthresh;
}

const struct cc_ops cc_newreno = {
	.name = "reno",
	.init = reno_init,
	.on_ack = reno_on_ack,
	.on_dupack = reno_on_dupack,
	.on_congestion = reno_on_congestion,
	.on_recovery_exit = reno_on_recovery_exit,
	.on_rto = reno_on_rto,
	.on_idle_restart = reno_on_idle_restart,
	.on_ecn = reno_on_ecn,
};
