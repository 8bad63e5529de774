/* CUBIC (RFC 9438) and HyStart++ (RFC 9406), through the controller's ops (cc.h), against
 * the RFCs' formulas computed here with libm: W_cubic(t) = C*(t-K)^3 + W_max (eq. 1),
 * K = cbrt((W_max - cwnd_epoch)/C) (eq. 2), the target clamp and per-ACK step (§4.4), the
 * Reno-friendly estimate (§4.3), β = 0.7 and fast convergence (§4.6-4.7), the timeout (§4.8);
 * HyStart++'s round minima, RttThresh, CSS and its exits; Linux's idle restart.
 *
 * The controller computes in double precision with its own cube root (the core links no
 * libm); where a value is compared with the libm formula after truncation to whole bytes,
 * one byte either way is allowed, and said. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "core/cc.h"

#define MSS 1000u
#define MS 1000u
#define SEC 1000000u

static struct cc cubic(uint32_t cwnd)
{
	struct cc cc;
	memset(&cc, 0xA5, sizeof cc);
	cc_set(&cc, &cc_cubic);
	cc_cubic.init(&cc, MSS, 10 * MSS);
	cc.cwnd = cwnd;
	cc.now_us = 0;
	cc.srtt_us = 0;
	cc.rtt_us = 0;
	cc.round_start = false;
	return cc;
}

static void ack_at(struct cc *cc, uint64_t now_us, uint32_t acked)
{
	cc->now_us = now_us;
	cc->rtt_us = 0;
	cc->round_start = false;
	cc_cubic.on_ack(cc, MSS, acked, false);
}

/* The RFC's formulas, in segments and seconds, with libm. */
static double rfc_k(double w_max_segs, double cwnd_epoch_segs)
{
	return cbrt((w_max_segs - cwnd_epoch_segs) / 0.4);
}

static double rfc_w(double t, double k, double w_max_segs)
{
	return 0.4 * pow(t - k, 3) + w_max_segs;
}

static void assert_near(uint32_t got, double want, const char *what)
{
	cr_assert(fabs((double)got - want) <= 1.0, "%s: got %u, want %.3f (±1 byte)", what, got,
		  want);
}

/* ---- the formula ---- */

Test(cubic, k_is_the_cube_root_of_the_reduction_over_c)
{
	/* W_max 100 segments, cwnd_epoch 70: K = cbrt(30/0.4) = cbrt(75) s. */
	uint64_t k = cc_cubic_k(100000, 70000, MSS);
	cr_assert(llabs((long long)k - (long long)llround(rfc_k(100, 70) * 1e6)) <= 1,
		  "K = %llu us", (unsigned long long)k);
	cr_assert_eq(cc_cubic_k(100000, 100000, MSS), 0, "cwnd at W_max: K = 0");
	cr_assert_eq(cc_cubic_k(100000, 120000, MSS), 0, "above W_max: K = 0");
	k = cc_cubic_k(2000000, 1400000, MSS); /* 600 segments: cbrt(1500) */
	cr_assert(llabs((long long)k - (long long)llround(rfc_k(2000, 1400) * 1e6)) <= 1);
}

Test(cubic, window_follows_eq_1_at_several_points)
{
	uint64_t k = cc_cubic_k(100000, 70000, MSS);
	double ks = rfc_k(100, 70);
	/* t = 0: the window at the start of the epoch; t = K: W_max; then the convex part. */
	double t[] = {0, 1, 2.5, ks, ks + 0.5, ks + 2, 10};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		uint64_t t_us = t[i] == ks ? k : (uint64_t)llround(t[i] * 1e6);
		double got = cc_cubic_window(t_us, k, 100000, MSS);
		/* K is kept in whole microseconds (checked above against cbrt). */
		double want = rfc_w(t_us / 1e6, (double)k / 1e6, 100) * MSS;
		cr_assert(fabs(got - want) < 0.01, "t=%.3f: %.4f vs %.4f", t[i], got, want);
	}
	cr_assert(fabs(cc_cubic_window(0, k, 100000, MSS) - 70000) < 0.01, "W(0) = cwnd_epoch");
	cr_assert_eq(cc_cubic_window(k, k, 100000, MSS), 100000.0, "W(K) = W_max exactly");
}

/* ---- congestion events ---- */

Test(cubic, congestion_event_beta_0_7_and_recovery_exit_at_ssthresh)
{
	struct cc cc = cubic(100000);
	cc.ssthresh = 50000; /* in congestion avoidance */
	cc_cubic.on_congestion(&cc, MSS, 100000);
	cr_assert_eq(cc.ssthresh, 70000, "cwnd * 0.7");
	cr_assert_eq(cc.cwnd, 73000, "ssthresh + 3*SMSS while the engine's recovery runs");
	cc_cubic.on_dupack(&cc, MSS);
	cr_assert_eq(cc.cwnd, 74000);
	cc_cubic.on_recovery_exit(&cc, MSS);
	cr_assert_eq(cc.cwnd, 70000);
	struct cc small = cubic(2000);
	cc_cubic.on_congestion(&small, MSS, 2000);
	cr_assert_eq(small.ssthresh, 2000, "never below 2*SMSS");
}

/* After a reduction from 100 segments: the epoch starts at 70 (Reno-friendly at first, since
 * W_cubic(0) = cwnd_epoch is below W_est), then the cubic target pulls cwnd. */
Test(cubic, avoidance_steps_toward_w_cubic_of_t_plus_rtt)
{
	struct cc cc = cubic(100000);
	cc.ssthresh = 50000;
	cc_cubic.on_congestion(&cc, MSS, 100000);
	cc_cubic.on_recovery_exit(&cc, MSS);
	cc.srtt_us = 100 * MS;
	uint64_t t0 = 5 * SEC;
	double alpha = 3 * (1 - 0.7) / (1 + 0.7);

	ack_at(&cc, t0, 1000);
	double w_est = floor(70000 + alpha * 1000 * 1000 / 70000.0);
	cr_assert_eq(cc.cwnd, (uint32_t)w_est, "W_cubic(0) < W_est: cwnd = W_est (§4.3)");

	ack_at(&cc, t0 + 3 * SEC, 1000);
	uint32_t before = (uint32_t)w_est;
	w_est = floor(w_est + alpha * 1000 * 1000 / before);
	double ks = rfc_k(100, 70);
	cr_assert_gt(rfc_w(3, ks, 100) * MSS, w_est, "the cubic region now");
	double target = rfc_w(3.1, ks, 100) * MSS; /* W_cubic(t + RTT) */
	cr_assert_lt(target, 1.5 * before);
	assert_near(cc.cwnd, before + (target - before) * 1000 / before, "t = 3 s");

	/* Far past K the target is clamped to 1.5 * cwnd. */
	before = cc.cwnd;
	ack_at(&cc, t0 + 30 * SEC, 1000);
	cr_assert_gt(rfc_w(30.1, ks, 100) * MSS, 1.5 * before);
	assert_near(cc.cwnd, before + (0.5 * before) * 1000 / before, "clamped target");
}

Test(cubic, fast_convergence_lowers_w_max_when_below_the_last_one)
{
	struct cc cc = cubic(100000);
	cc.ssthresh = 50000;
	cc_cubic.on_congestion(&cc, MSS, 100000); /* W_max 100 segments */
	cc_cubic.on_recovery_exit(&cc, MSS);
	cc.cwnd = 80000; /* lost again below the last W_max */
	cc_cubic.on_congestion(&cc, MSS, 80000);
	cr_assert_eq(cc.ssthresh, 56000);
	cc_cubic.on_recovery_exit(&cc, MSS);
	cc.srtt_us = 100 * MS;
	uint64_t t0 = 7 * SEC;
	ack_at(&cc, t0, 1000);
	uint32_t c1 = cc.cwnd;
	/* W_max = 80 * (1 + 0.7) / 2 = 68 segments: K = cbrt(12/0.4) = cbrt(30). */
	double ks = rfc_k(68, 56);
	uint64_t k_us = (uint64_t)llround(ks * 1e6);
	ack_at(&cc, t0 + k_us, 1000);
	double target = rfc_w(ks + 0.1, ks, 68) * MSS;
	assert_near(cc.cwnd, c1 + (target - c1) * 1000 / c1, "at t = K the target is W_max+");
	cr_assert_lt(cc.cwnd, 60000, "without fast convergence W_max would be 80000");
}

Test(cubic, timeout_one_segment_and_next_epoch_with_k_zero)
{
	struct cc cc = cubic(100000);
	cc.ssthresh = 50000;
	cc_cubic.on_rto(&cc, MSS, 100000);
	cr_assert_eq(cc.ssthresh, 70000);
	cr_assert_eq(cc.cwnd, 1000);
	/* Slow start back to ssthresh, then the epoch: K = 0, W_max = cwnd (§4.8). */
	cc.cwnd = 70000;
	cc.srtt_us = 100 * MS;
	ack_at(&cc, 9 * SEC, 1000);
	uint32_t c1 = cc.cwnd;
	ack_at(&cc, 10 * SEC, 1000);
	double target = rfc_w(1.1, 0, 70) * MSS; /* 70000 + 0.4 * 1.1^3 segments */
	assert_near(cc.cwnd, c1 + (target - c1) * 1000 / c1, "t = 1 s after K = 0");
}

/* ---- HyStart++ ---- */

/* One round of n ACKs of one segment each, every ACK with an RTT sample of rtt_us. */
static void round_of(struct cc *cc, uint64_t *now, unsigned n, uint32_t rtt_us)
{
	for (unsigned i = 0; i < n; i++) {
		*now += 1000;
		cc->now_us = *now;
		cc->rtt_us = rtt_us;
		cc->round_start = i == 0;
		cc_cubic.on_ack(cc, MSS, 1000, false);
	}
}

Test(cubic, slow_start_grows_by_what_each_ack_acknowledged)
{
	struct cc cc = cubic(10000);
	ack_at(&cc, 1000, 3000);
	cr_assert_eq(cc.cwnd, 13000, "a stretch ACK counts in full");
	ack_at(&cc, 2000, 20000);
	cr_assert_eq(cc.cwnd, 33000, "no L*SMSS cap, as Linux's tcp_slow_start (a 20-segment "
				     "stretch ACK of a coalescing receiver)");
}

Test(cubic, hystart_leaves_slow_start_on_an_rtt_rise_of_rtt_thresh)
{
	struct cc cc = cubic(10000);
	uint64_t now = 0;
	round_of(&cc, &now, 8, 100 * MS);
	cr_assert_eq(cc.cwnd, 18000);
	/* RttThresh = max(4 ms, min(100/8 ms, 16 ms)) = 12.5 ms. A rise of 12 ms: still slow
	 * start. */
	round_of(&cc, &now, 8, 112 * MS);
	cr_assert_eq(cc.cwnd, 26000);
	/* Against that round (112 ms: RttThresh 14 ms), 126 ms is a rise: on the 8th sample
	 * HyStart++ enters CSS, and that ACK already grows by a quarter. */
	round_of(&cc, &now, 7, 126 * MS);
	cr_assert_eq(cc.cwnd, 33000);
	now += 1000;
	cc.now_us = now;
	cc.rtt_us = 126 * MS;
	cc.round_start = false;
	cc_cubic.on_ack(&cc, MSS, 1000, false);
	cr_assert_eq(cc.cwnd, 33250, "CSS: N / CSS_GROWTH_DIVISOR");
	cr_assert_eq(cc.ssthresh, CC_SSTHRESH_INIT, "CSS is still slow start");
	/* Four more rounds at 126 ms: CSS lasts CSS_ROUNDS = 5 (the partial one counts). */
	for (int r = 0; r < 4; r++)
		round_of(&cc, &now, 8, 126 * MS);
	cr_assert_eq(cc.cwnd, 33250 + 4 * 8 * 250);
	cr_assert_eq(cc.ssthresh, CC_SSTHRESH_INIT);
	now += 1000;
	cc.now_us = now;
	cc.rtt_us = 126 * MS;
	cc.round_start = true; /* the sixth round begins: congestion avoidance */
	uint32_t w = cc.cwnd;
	cc_cubic.on_ack(&cc, MSS, 1000, false);
	cr_assert_eq(cc.ssthresh, w, "ssthresh = cwnd when CSS ends");
	cr_assert_lt(cc.cwnd, w + 250, "congestion avoidance grows less than CSS");
}

Test(cubic, hystart_css_goes_back_to_slow_start_below_the_baseline)
{
	struct cc cc = cubic(10000);
	uint64_t now = 0;
	round_of(&cc, &now, 8, 100 * MS);
	round_of(&cc, &now, 8, 120 * MS); /* CSS, baseline 120 ms */
	uint32_t w = cc.cwnd;
	cr_assert_eq(w, 18000 + 7 * 1000 + 250);
	round_of(&cc, &now, 7, 100 * MS);
	cr_assert_eq(cc.cwnd, w + 7 * 250, "CSS until the round has 8 samples");
	round_of(&cc, &now, 0, 0);
	now += 1000;
	cc.now_us = now;
	cc.rtt_us = 100 * MS;
	cc.round_start = false;
	cc_cubic.on_ack(&cc, MSS, 1000, false);
	cr_assert_eq(cc.cwnd, w + 7 * 250 + 1000, "100 ms < the 120 ms baseline: slow start");
}

Test(cubic, hystart_too_few_samples_never_exits)
{
	struct cc cc = cubic(10000);
	uint64_t now = 0;
	round_of(&cc, &now, 7, 100 * MS);
	round_of(&cc, &now, 7, 300 * MS);
	cr_assert_eq(cc.cwnd, 24000, "fewer than N_RTT_SAMPLE samples: no decision");
}

Test(cubic, hystart_only_in_the_initial_slow_start)
{
	struct cc cc = cubic(10000);
	cc.ssthresh = 40000; /* after a loss: standard slow start */
	uint64_t now = 0;
	round_of(&cc, &now, 8, 100 * MS);
	round_of(&cc, &now, 8, 200 * MS);
	cr_assert_eq(cc.cwnd, 26000);
}

Test(cubic, loss_in_css_ends_hystart)
{
	struct cc cc = cubic(10000);
	uint64_t now = 0;
	round_of(&cc, &now, 8, 100 * MS);
	round_of(&cc, &now, 8, 120 * MS);
	uint32_t w = cc.cwnd;
	cc_cubic.on_congestion(&cc, MSS, w);
	cr_assert_eq(cc.ssthresh, w * 7 / 10);
}

/* ---- idle restart (Linux's tcp_cwnd_restart) ---- */

Test(cubic, idle_restart_halves_per_rto_down_to_the_initial_window)
{
	struct cc cc = cubic(40000);
	cc.ssthresh = 20000;
	cc_cubic.on_idle_restart(&cc, MSS, 10000, 1500 * MS, 1000 * MS);
	cr_assert_eq(cc.cwnd, 20000, "one RTO beyond the first: halved once");
	cr_assert_eq(cc.ssthresh, 30000, "ssthresh keeps 3/4 of the old cwnd");
	cc.cwnd = 40000;
	cc_cubic.on_idle_restart(&cc, MSS, 10000, 10 * SEC, 1000 * MS);
	cr_assert_eq(cc.cwnd, 10000, "never below the initial window");
	cc.cwnd = 6000;
	cc_cubic.on_idle_restart(&cc, MSS, 10000, 10 * SEC, 1000 * MS);
	cr_assert_eq(cc.cwnd, 6000, "min(IW, cwnd): a smaller window stays");
	cc_newreno.on_idle_restart(&cc, MSS, 10000, 10 * SEC, 1000 * MS);
	cr_assert_eq(cc.cwnd, 6000, "NewReno restarts the same way");
}
