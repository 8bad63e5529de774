/* Simulated transfers: a client and a server exchange 1 MiB each way over links that lose,
 * duplicate, reorder and corrupt frames, over more than a thousand seeds. The seed also picks
 * how the conversation goes (tests/sim/harness.h, enum h_mode): both send their own stream
 * and close as they finish (the FINs usually cross), the server echoes the client's stream
 * and closes last, or the server closes first; in the last two the right side must go
 * through TIME-WAIT and the other through LAST-ACK. For every seed the
 * data must arrive byte-exact, both sides must end CLOSED (TIME-WAIT expired on the virtual
 * clock), the stacks must be back to the allocations of a fresh stack, and destroying them
 * must leave nothing behind in a counting allocator.
 *
 * Seeds: 1,001 in total by default, split over the profiles. SYNACK_SEEDS=N sets the total,
 * SYNACK_SOAK=1 multiplies it by 10, a sanitizer build runs a tenth; SYNACK_SEED=N runs only
 * seed N of every profile (to replay a failure), SYNACK_BYTES=N changes the transfer size.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sim/harness.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

#define DEFAULT_TOTAL_SEEDS 1001
#define N_PROFILES 12

static const struct synack_sim_path WAN = {.delay_us = 10000};

static const struct h_profile profiles[N_PROFILES] = {
	{.name = "loss1", .path = WAN, .faults = true, .fault = {.loss = 0.01}},
	{.name = "loss5", .path = WAN, .faults = true, .fault = {.loss = 0.05}},
	/* At 20% loss each handshake attempt fails with p = 1 - 0.8^2 = 0.36; Linux's 6 SYN
	 * retries would time out one seed in ~1,300 (0.36^7), a true ETIMEDOUT, not a bug.
	 * More retries keep the test about data transfer. */
	{.name = "loss20", .path = WAN, .faults = true, .fault = {.loss = 0.20},
	 .syn_retries = 12, .synack_retries = 12},
	{.name = "dup", .path = WAN, .faults = true, .fault = {.dup = 0.10}},
	{.name = "reorder", .path = {.delay_us = 10000, .jitter_us = 2000}, .faults = true,
	 .fault = {.reorder = 0.10, .reorder_delay_us = 3000}},
	{.name = "corrupt", .path = WAN, .faults = true, .fault = {.corrupt = 0.05}},
	{.name = "combined",
	 .path = {.delay_us = 5000, .jitter_us = 1000, .bandwidth_bps = 20000000},
	 .faults = true,
	 .fault = {.loss = 0.03, .dup = 0.03, .reorder = 0.05, .corrupt = 0.03,
		   .reorder_delay_us = 2000},
	 .syn_retries = 8, .synack_retries = 8},
	/* Small buffers, a small MSS and a reader that takes 1000 bytes per turn: zero
	 * windows, persist probes and window updates, under loss. */
	{.name = "slowread", .path = WAN, .faults = true, .fault = {.loss = 0.02},
	 .mss = 536, .sndbuf = 4096, .rcvbuf = 4096, .read_chunk = 1000},
	/* No timestamps, SACK or window scaling: the plain RFC 9293 segment, under loss and
	 * reordering. */
	{.name = "noopts", .path = {.delay_us = 10000, .jitter_us = 3000}, .faults = true,
	 .fault = {.loss = 0.03, .reorder = 0.05, .reorder_delay_us = 5000}, .no_options = true},
	/* The same sweep over IPv6 (MSS 1440, 40-byte headers, flow labels): loss, and every
	 * fault at once. */
	{.name = "loss5v6", .path = WAN, .faults = true, .fault = {.loss = 0.05}, .ipv6 = true},
	{.name = "combinedv6",
	 .path = {.delay_us = 5000, .jitter_us = 1000, .bandwidth_bps = 20000000},
	 .faults = true,
	 .fault = {.loss = 0.03, .dup = 0.03, .reorder = 0.05, .corrupt = 0.03,
		   .reorder_delay_us = 2000},
	 .syn_retries = 8, .synack_retries = 8, .ipv6 = true},
	/* Every fault at once, with 30% loss each way: half the round trips fail. RTOs back
	 * off to seconds here; what is measured is that recovery never resends what the peer
	 * holds and that the timer comes back to SRTT once ACKs return. */
	{.name = "loss30", .path = WAN, .faults = true,
	 .fault = {.loss = 0.30, .dup = 0.02, .reorder = 0.05, .corrupt = 0.01,
		   .reorder_delay_us = 3000},
	 .syn_retries = 20, .synack_retries = 20},
};

static unsigned long env_ul(const char *name, unsigned long dflt)
{
	const char *v = getenv(name);
	return v && *v ? strtoul(v, NULL, 0) : dflt;
}

static unsigned long seeds_per_profile(void)
{
	unsigned long total = env_ul("SYNACK_SEEDS", DEFAULT_TOTAL_SEEDS);
	if (env_ul("SYNACK_SOAK", 0))
		total *= 10;
	if (SANITIZED)
		total /= 10;
	unsigned long n = (total + N_PROFILES - 1) / N_PROFILES;
	return n ? n : 1;
}

static double wall_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The p-th percentile (nearest rank) of n sorted values. */
static uint64_t pct(const uint64_t *v, unsigned long n, unsigned p)
{
	unsigned long rank = (n * p + 99) / 100;
	return v[rank ? rank - 1 : 0];
}

static void run_profile(int k)
{
	const struct h_profile *p = &profiles[k];
	size_t bytes = env_ul("SYNACK_BYTES", 1u << 20);
	unsigned long n = seeds_per_profile(), first = 1;
	if (getenv("SYNACK_SEED")) {
		first = env_ul("SYNACK_SEED", 1);
		n = 1;
	}
	double t0 = wall_s(), virt = 0, retx = 0, rto = 0;
	uint64_t *done = calloc(n, sizeof(*done)), rto_max = 0;
	cr_assert(done);
	for (unsigned long i = 0; i < n; i++) {
		uint64_t seed = first + i;
		struct h_result r;
		h_transfer(p, seed, bytes, H_BY_SEED, &r);
		cr_assert(r.ok, "profile %s seed %llu: %s (replay: SYNACK_SEED=%llu %s "
				"--filter 'transfer/%s')",
			  p->name, (unsigned long long)seed, r.why, (unsigned long long)seed,
			  "build/tests/sim/test_transfer", p->name);
		virt += (double)r.end_us / 1e6;
		retx += (double)r.trace.retx;
		rto += (double)r.trace.rto;
		rto_max = r.trace.rto > rto_max ? r.trace.rto : rto_max;
		done[i] = r.done_us;
	}
	qsort(done, n, sizeof(*done), cmp_u64);
	fprintf(stderr,
		"transfer %-8s %lu seeds x %zu B each way: %.2f s wall, mean %.1f s virtual, "
		"mean %.1f retransmissions, RTOs mean %.2f max %llu; data done p50 %.2f s "
		"p90 %.2f s p99 %.2f s max %.2f s\n",
		p->name, n, bytes, wall_s() - t0, virt / n, retx / n, rto / n,
		(unsigned long long)rto_max, pct(done, n, 50) / 1e6, pct(done, n, 90) / 1e6,
		pct(done, n, 99) / 1e6, done[n - 1] / 1e6);
	free(done);
}

Test(transfer, loss1) { run_profile(0); }
Test(transfer, loss5) { run_profile(1); }
Test(transfer, loss20) { run_profile(2); }
Test(transfer, dup) { run_profile(3); }
Test(transfer, reorder) { run_profile(4); }
Test(transfer, corrupt) { run_profile(5); }
Test(transfer, combined) { run_profile(6); }
Test(transfer, slowread) { run_profile(7); }
Test(transfer, noopts) { run_profile(8); }
Test(transfer, loss5v6) { run_profile(9); }
Test(transfer, combinedv6) { run_profile(10); }
Test(transfer, loss30) { run_profile(11); }

/* The harness itself: same seed, same run (trace hash); the faults really happened. */
Test(transfer, a_seed_replays_the_same_run_and_faults_happen)
{
	struct h_result a, b, c;
	h_transfer(&profiles[6], 5, 64 * 1024, H_BY_SEED, &a);
	h_transfer(&profiles[6], 5, 64 * 1024, H_BY_SEED, &b);
	h_transfer(&profiles[6], 6, 64 * 1024, H_BY_SEED, &c);
	cr_assert(a.ok, "%s", a.why);
	cr_assert(c.ok, "%s", c.why);
	cr_assert_eq(a.trace.hash, b.trace.hash, "same seed, same trace");
	cr_assert_eq(a.end_us, b.end_us);
	cr_assert_neq(a.trace.hash, c.trace.hash, "another seed, another run");
	cr_assert_gt(a.trace.lost + c.trace.lost, 0);
	cr_assert_gt(a.trace.dup + c.trace.dup, 0);
	cr_assert_gt(a.trace.corrupt + c.trace.corrupt, 0);
	cr_assert_gt(a.trace.reorder + c.trace.reorder, 0);
	cr_assert_gt(a.trace.retx, 0, "losses were repaired by retransmission");
}
