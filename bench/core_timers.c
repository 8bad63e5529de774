/* Benchmark 4, timer scale and connection lookup: one server stack holding N idle ESTABLISHED
 * connections with keepalive armed (inherited from the listener), opened by synthetic clients:
 * the benchmark crafts each SYN (MSS option only) from a distinct address:port, reads the
 * SYN-ACK's sequence number from the stack's output, answers with the ACK and accepts. The
 * connections are opened over 10 s of virtual time whatever N is, so their keepalive deadlines
 * (7200 s later) fall in the same part of the timer wheel for every N.
 *
 * Then, with nothing due (reps REPS, best and median of each):
 *   poll_idle     synack_stack_poll(now) at an unchanged `now`: ns per call
 *   next_deadline synack_stack_next_deadline(): ns per call
 *   advance_1s    1000 calls of synack_stack_poll, each 1 ms later: wall time for the 1 s
 *   ack_random    synack_stack_input of a pure ACK (40 bytes, checksummed) to a random one of
 *                 the N connections: ns per input (the 4-tuple lookup plus the ACK's
 *                 processing, with cold caches for large N)
 *   ack_same      the same ACK to one connection over and over (warm cache): the baseline
 * The point is the curve over N: none of these should grow with N. A connection an ACK woke
 * folds again after a quiet second (tcb_flow.c): a later rep's advance_1s includes those folds.
 *
 * Buffers are small (SNDBUF=RCVBUF=2048 by default, the minimum SO_*BUF; ooo 4 ranges) so
 * that 1M connections fit in memory; the per-connection bytes are printed.
 * Usage: core_timers [N=n] [REPS=n] [BUF=n] */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_util.h"

/* A pointer to the IPv4 address x (host order) as a synack_addr, for the codec. */
#define ST_V4(x) (&(const struct synack_addr[1]){synack_addr_v4(x)}[0])

#define SERVER 0x0A000002u
#define PORT 80

struct world {
	struct synack_stack *s;
	struct bench_alloc alloc;
	uint64_t now;
	uint32_t last_synack_seq;
	uint64_t frames_out;
	uint32_t *siss, *ciss; /* per connection: server ISS, client ISS */
	long n;
};

static void output(void *ctx, const uint8_t *frame, const struct synack_frame_meta *meta)
{
	size_t len = meta->len;
	struct world *w = ctx;
	w->frames_out++;
	struct synack_ipv4 ip;
	const uint8_t *tcp;
	size_t tlen;
	struct synack_tcp_seg seg;
	if (synack_ipv4_parse(frame, len, &ip, &tcp, &tlen) < 0 ||
	    synack_tcp_parse(tcp, tlen, ST_V4(ip.src), ST_V4(ip.dst), false, &seg) < 0)
		return;
	if ((seg.flags & (SYNACK_TH_SYN | SYNACK_TH_ACK)) == (SYNACK_TH_SYN | SYNACK_TH_ACK))
		w->last_synack_seq = seg.seq;
}

static uint32_t client_addr(long i) { return 0x0B000000u + (uint32_t)(i / 50000) + 1; }
static uint16_t client_port(long i) { return (uint16_t)(10000 + i % 50000); }

static size_t craft(uint8_t *out, long i, uint32_t seq, uint32_t ack, uint8_t flags)
{
	return bench_craft(out, client_addr(i), client_port(i), SERVER, PORT, seq, ack, flags);
}

static void setup(struct world *w, long n, uint32_t buf)
{
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.name = "server";
	synack_config_add_addr(&cfg, synack_addr_v4(SERVER), 24);
	cfg.seed = 7;
	memset(cfg.secret, 0x3c, sizeof cfg.secret);
	cfg.allocator = bench_allocator(&w->alloc);
	cfg.output = output;
	cfg.output_ctx = w;
	cfg.max_sockets = (uint32_t)n + 16;
	cfg.sndbuf = cfg.rcvbuf = buf;
	cfg.ooo_max_segs = 4;
	cfg.syncookies = 0;
	if (synack_stack_create(&w->s, &cfg) < 0) {
		fprintf(stderr, "timers: stack_create failed\n");
		exit(1);
	}
	w->n = n;
	w->now = 1000000;
	synack_stack_poll(w->s, w->now);
	int one = 1, lfd = synack_socket(w->s);
	struct synack_endpoint ep = {synack_addr_v4(0), PORT};
	if (lfd < 0 || synack_bind(w->s, lfd, &ep) < 0 || synack_listen(w->s, lfd, 4096) < 0 ||
	    synack_setsockopt(w->s, lfd, SYNACK_SOL_SOCKET, SYNACK_SO_KEEPALIVE, &one, sizeof one) <
		    0) {
		fprintf(stderr, "timers: listener setup failed\n");
		exit(1);
	}
	w->siss = malloc((size_t)n * sizeof *w->siss);
	w->ciss = malloc((size_t)n * sizeof *w->ciss);
	uint8_t f[128];
	uint64_t start = w->now, span = 10000000; /* 10 s of virtual time */
	for (long i = 0; i < n; i++) {
		/* No poll during setup: nothing can fall due (each SYN-ACK's timer is cancelled by
		 * the ACK that follows), and polling every millisecond would put N polls of
		 * next_deadline's cost into the setup time. */
		w->now = start + span * (uint64_t)i / (uint64_t)n;
		w->ciss[i] = (uint32_t)(i * 2654435761u);
		size_t len = craft(f, i, w->ciss[i], 0, SYNACK_TH_SYN);
		w->last_synack_seq = 0;
		synack_stack_input(w->s, f, len, w->now);
		w->siss[i] = w->last_synack_seq;
		len = craft(f, i, w->ciss[i] + 1, w->siss[i] + 1, SYNACK_TH_ACK);
		synack_stack_input(w->s, f, len, w->now);
		int fd = synack_accept(w->s, lfd, NULL);
		if (fd < 0) {
			fprintf(stderr, "timers: accept %ld: %s\n", i, strerror(-fd));
			exit(1);
		}
	}
	w->now = start + span;
	synack_stack_poll(w->s, w->now);
}

/* Calls fn until at least min_ns have passed and at least min_calls were made; ns per call. */
static double per_call(void (*fn)(struct world *), struct world *w, long min_calls,
		       uint64_t min_ns)
{
	long calls = 0;
	uint64_t t0 = bench_ns(), t;
	do {
		for (int k = 0; k < 16; k++)
			fn(w);
		calls += 16;
		t = bench_ns();
	} while (calls < min_calls || t - t0 < min_ns);
	return (double)(t - t0) / (double)calls;
}

static void do_poll(struct world *w) { synack_stack_poll(w->s, w->now); }
static volatile uint64_t sink;
static void do_next(struct world *w) { sink += synack_stack_next_deadline(w->s); }

/* Wall ms for 1 s of virtual time in 1 ms steps; stops after 5 s of wall time and
 * extrapolates (said in the output) so that a slow poll cannot stall the benchmark. */
static double advance_1s(struct world *w, int *steps)
{
	uint64_t t0 = bench_ns(), t = t0;
	int i = 0;
	while (i < 1000 && t - t0 < 5000000000ull) {
		w->now += 1000;
		synack_stack_poll(w->s, w->now);
		i++;
		t = bench_ns();
	}
	*steps = i;
	return (double)(t - t0) / 1e6 * 1000.0 / i; /* ms */
}

static uint64_t rng_state = 88172645463325252ull;
static uint64_t xorshift(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* ns per pure-ACK input over m frames to connections idx[0..m). */
static double acks(struct world *w, const long *idx, long m, uint8_t *frames, size_t *lens)
{
	for (long k = 0; k < m; k++)
		lens[k] = craft(frames + 64 * k, idx[k], w->ciss[idx[k]] + 1, w->siss[idx[k]] + 1,
				SYNACK_TH_ACK);
	uint64_t out0 = w->frames_out, t0 = bench_ns();
	for (long k = 0; k < m; k++)
		synack_stack_input(w->s, frames + 64 * k, lens[k], w->now);
	double ns = (double)(bench_ns() - t0) / (double)m;
	if (w->frames_out != out0)
		printf("note: %llu frames sent in reply to pure ACKs\n",
		       (unsigned long long)(w->frames_out - out0));
	return ns;
}

int main(int argc, char **argv)
{
	long n = bench_arg(argc, argv, "N", 10000);
	int reps = (int)bench_arg(argc, argv, "REPS", 5);
	uint32_t buf = (uint32_t)bench_arg(argc, argv, "BUF", 2048);
	if (reps < 1 || reps > 64)
		reps = 5;
	bench_print_conditions("timer scale: N idle ESTABLISHED connections with keepalive armed");
	printf("sizes: N=%ld reps=%d sndbuf=rcvbuf=%u ooo_ranges=4 keepalive=7200s "
	       "opened over 10 s virtual\n",
	       n, reps, buf);
	fflush(stdout);
	struct world w = {0};
	uint64_t rss0 = bench_rss(), t0 = bench_ns();
	setup(&w, n, buf);
	double setup_s = (double)(bench_ns() - t0) / 1e9;
	struct synack_counters c;
	synack_stack_counters(w.s, &c);
	printf("setup: %ld connections in %.2f s (%.0f conn/s), CurrEstab=%llu, live_bytes=%zu "
	       "(%.0f B/conn), RSS +%.0f MiB, next deadline in %.0f s\n",
	       n, setup_s, (double)n / setup_s, (unsigned long long)c.v[SYNACK_CTR_CurrEstab],
	       synack_stack_live_bytes(w.s), (double)synack_stack_live_bytes(w.s) / (double)n,
	       (double)(bench_rss() - rss0) / 1048576.0,
	       (double)(synack_stack_next_deadline(w.s) - w.now) / 1e6);
	fflush(stdout);

	double poll_ns[64], next_ns[64], adv_ms[64], rnd_ns[64], same_ns[64];
	const long m = 200000;
	long *idx = malloc((size_t)m * sizeof *idx);
	uint8_t *frames = malloc((size_t)m * 64);
	size_t *lens = malloc((size_t)m * sizeof *lens);
	for (int r = 0; r < reps; r++) {
		poll_ns[r] = per_call(do_poll, &w, 64, 100000000);
		next_ns[r] = per_call(do_next, &w, 64, 100000000);
		int steps;
		adv_ms[r] = advance_1s(&w, &steps);
		for (long k = 0; k < m; k++)
			idx[k] = (long)(xorshift() % (uint64_t)n);
		rnd_ns[r] = acks(&w, idx, m, frames, lens);
		for (long k = 0; k < m; k++)
			idx[k] = n / 2;
		same_ns[r] = acks(&w, idx, m, frames, lens);
		printf("rep %d: poll_idle %.1f ns  next_deadline %.1f ns  advance_1s(1000x1ms) %.3f ms"
		       "%s  ack_random %.1f ns  ack_same %.1f ns\n",
		       r + 1, poll_ns[r], next_ns[r], adv_ms[r],
		       steps < 1000 ? " (extrapolated from fewer steps: too slow)" : "", rnd_ns[r],
		       same_ns[r]);
		fflush(stdout);
	}
	double best, med;
	med = bench_median(poll_ns, reps, &best, 0);
	printf("RESULT timers N=%ld poll_idle ns/call: best %.1f median %.1f\n", n, best, med);
	med = bench_median(next_ns, reps, &best, 0);
	printf("RESULT timers N=%ld next_deadline ns/call: best %.1f median %.1f\n", n, best, med);
	med = bench_median(adv_ms, reps, &best, 0);
	printf("RESULT timers N=%ld advance 1 s in 1 ms steps, ms: best %.3f median %.3f\n", n, best,
	       med);
	med = bench_median(rnd_ns, reps, &best, 0);
	printf("RESULT timers N=%ld pure ACK to a random connection ns: best %.1f median %.1f\n", n,
	       best, med);
	med = bench_median(same_ns, reps, &best, 0);
	printf("RESULT timers N=%ld pure ACK to the same connection ns: best %.1f median %.1f\n", n,
	       best, med);
	synack_stack_counters(w.s, &c);
	printf("after: CurrEstab=%llu TCPKeepAlive=%llu (no probe was due)\n",
	       (unsigned long long)c.v[SYNACK_CTR_CurrEstab],
	       (unsigned long long)c.v[SYNACK_CTR_TCPKeepAlive]);
	synack_stack_destroy(w.s);
	free(idx);
	free(frames);
	free(lens);
	free(w.siss);
	free(w.ciss);
	return 0;
}
