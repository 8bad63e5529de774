/* Benchmark 1, the data path: two stacks back to back in one process (each one's output queued
 * and fed straight into the other's input, no link delay, virtual clock moving 10 us per round)
 * move BYTES one way through the socket API: the client sends from a pattern buffer, the
 * server reads into a 64 KiB buffer.
 *
 * Prints, per run and as best/median over RUNS: wall time of the transfer (CLOCK_MONOTONIC, from
 * the first send after the handshake until the receiver has every byte), MB/s (10^6 bytes),
 * data segments/s and all segments/s (data + ACKs, from the stacks' OutSegs counters), and the
 * allocator calls made by either stack during the steady state (from the moment the receiver
 * has BYTES/16 until it has everything). Under valgrind --tool=callgrind --collect-atstart=no
 * the same steady-state window is the only part collected, and the program prints its segment
 * counts so that the script can divide.
 *
 * Usage: core_datapath [BYTES=n] [RUNS=n] [SNDBUF=n] [RCVBUF=n] [VERIFY=0|1]
 * (also read from the environment). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_util.h"

#ifdef HAVE_CALLGRIND_H
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_TOGGLE_COLLECT
#endif

#define PAT_LEN ((1u << 20) + 7) /* odd length: writes wrap the rings at varying offsets */
#define RBUF_LEN (64u << 10)
#define PORT 5001

struct run {
	double secs;
	uint64_t data_segs, all_segs; /* whole transfer */
	uint64_t ss_bytes, ss_data_segs, ss_all_segs, ss_allocs, ss_frees; /* steady state */
};

static uint8_t pat[PAT_LEN];
static uint8_t rbuf[RBUF_LEN];

static uint64_t out_segs(struct synack_stack *s)
{
	struct synack_counters c;
	synack_stack_counters(s, &c);
	return c.v[SYNACK_CTR_OutSegs];
}

static void check_bytes(const uint8_t *b, size_t n, uint64_t at)
{
	size_t off = (size_t)(at % PAT_LEN), first = PAT_LEN - off < n ? PAT_LEN - off : n;
	if (memcmp(b, pat + off, first) != 0 || memcmp(b + first, pat, n - first) != 0) {
		fprintf(stderr, "datapath: data differs near byte %llu\n", (unsigned long long)at);
		exit(1);
	}
}

struct snap {
	uint64_t segs[2], allocs, frees, rcvd;
};

static void take(struct bench_pair *p, struct snap *s, uint64_t rcvd)
{
	s->segs[0] = out_segs(p->st[0]);
	s->segs[1] = out_segs(p->st[1]);
	s->allocs = p->alloc[0].allocs + p->alloc[1].allocs;
	s->frees = p->alloc[0].frees + p->alloc[1].frees;
	s->rcvd = rcvd;
}

/* Moves `total` bytes from cfd to sfd; fills r. */
static void transfer(struct bench_pair *p, int cfd, int sfd, uint64_t total, int verify,
		     struct run *r)
{
	struct synack_stack *c = p->st[0], *s = p->st[1];
	uint64_t sent = 0, rcvd = 0, warm = total / 16;
	struct snap a, ws = {0}, we;
	take(p, &a, 0);
	int warmed = 0;
	uint64_t t0 = bench_ns();
	while (rcvd < total) {
		while (sent < total) {
			size_t off = (size_t)(sent % PAT_LEN);
			uint64_t n = PAT_LEN - off;
			if (n > total - sent)
				n = total - sent;
			ssize_t k = synack_send(c, cfd, pat + off, (size_t)n, 0);
			if (k <= 0) {
				if (k != -EAGAIN) {
					fprintf(stderr, "datapath: send: %s\n", strerror((int)-k));
					exit(1);
				}
				break;
			}
			sent += (uint64_t)k;
		}
		bench_pair_pump(p);
		for (;;) {
			ssize_t k = synack_recv(s, sfd, rbuf, sizeof rbuf, 0);
			if (k <= 0)
				break;
			if (verify)
				check_bytes(rbuf, (size_t)k, rcvd);
			rcvd += (uint64_t)k;
		}
		if (!warmed && rcvd >= warm) {
			warmed = 1;
			take(p, &ws, rcvd);
			CALLGRIND_TOGGLE_COLLECT;
		}
		bench_pair_pump(p);
		bench_pair_advance(p, p->now + 10);
	}
	take(p, &we, rcvd);
	CALLGRIND_TOGGLE_COLLECT;
	uint64_t t1 = bench_ns();
	r->secs = (double)(t1 - t0) / 1e9;
	r->data_segs = we.segs[0] - a.segs[0];
	r->all_segs = r->data_segs + we.segs[1] - a.segs[1];
	r->ss_bytes = we.rcvd - ws.rcvd;
	r->ss_data_segs = we.segs[0] - ws.segs[0];
	r->ss_all_segs = r->ss_data_segs + we.segs[1] - ws.segs[1];
	r->ss_allocs = we.allocs - ws.allocs;
	r->ss_frees = we.frees - ws.frees;
}

static void one_run(const struct synack_config *cfg, uint64_t total, int verify, struct run *r)
{
	struct bench_pair p;
	bench_pair_init(&p, cfg);
	struct synack_stack *s = p.st[1];
	int lfd = synack_socket(s);
	struct synack_endpoint ep = {synack_addr_v4(0), PORT};
	if (lfd < 0 || synack_bind(s, lfd, &ep) < 0 || synack_listen(s, lfd, 16) < 0) {
		fprintf(stderr, "datapath: listener setup failed\n");
		exit(1);
	}
	int sfd, cfd = bench_pair_connect(&p, lfd, PORT, &sfd);
	transfer(&p, cfd, sfd, total, verify, r);
	synack_close(p.st[0], cfd);
	bench_pair_pump(&p);
	synack_close(s, sfd);
	bench_pair_pump(&p);
	bench_pair_fini(&p);
}

int main(int argc, char **argv)
{
	uint64_t total = (uint64_t)bench_arg(argc, argv, "BYTES", 1L << 30);
	int runs = (int)bench_arg(argc, argv, "RUNS", 5);
	int verify = (int)bench_arg(argc, argv, "VERIFY", 0);
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.max_sockets = 16;
	long sb = bench_arg(argc, argv, "SNDBUF", 0), rb = bench_arg(argc, argv, "RCVBUF", 0);
	if (sb > 0)
		cfg.sndbuf = (uint32_t)sb;
	if (rb > 0)
		cfg.rcvbuf = (uint32_t)rb;
	for (size_t i = 0; i < PAT_LEN; i++)
		pat[i] = (uint8_t)(i * 131u + (i >> 9));
	if (runs < 1 || runs > 64)
		runs = 5;

	bench_print_conditions("data path: two synack stacks back to back, one direction");
	printf("sizes: bytes=%llu runs=%d mss=%u sndbuf=%u rcvbuf=%u timestamps=%d sack=%d "
	       "wscale=%d verify=%d app_write<=%u app_read=%u clock=+10us/round\n",
	       (unsigned long long)total, runs, cfg.mss, cfg.sndbuf, cfg.rcvbuf, cfg.timestamps,
	       cfg.sack, cfg.window_scaling, verify, PAT_LEN, RBUF_LEN);
	double mbs[64], dsegs[64], asegs[64];
	struct run r = {0};
	for (int i = 0; i < runs; i++) {
		one_run(&cfg, total, verify, &r);
		mbs[i] = (double)total / r.secs / 1e6;
		dsegs[i] = (double)r.data_segs / r.secs;
		asegs[i] = (double)r.all_segs / r.secs;
		printf("run %d: %.3f s  %.1f MB/s  %.0f data segs/s  %.0f segs/s (data %llu + acks "
		       "%llu)  steady-state allocator calls: %llu alloc %llu free over %llu bytes "
		       "(%llu data segs)\n",
		       i + 1, r.secs, mbs[i], dsegs[i], asegs[i], (unsigned long long)r.data_segs,
		       (unsigned long long)(r.all_segs - r.data_segs),
		       (unsigned long long)r.ss_allocs, (unsigned long long)r.ss_frees,
		       (unsigned long long)r.ss_bytes, (unsigned long long)r.ss_data_segs);
		fflush(stdout);
	}
	double best, med = bench_median(mbs, runs, &best, 1);
	printf("RESULT datapath MB/s: best %.1f median %.1f\n", best, med);
	med = bench_median(dsegs, runs, &best, 1);
	printf("RESULT datapath data segs/s: best %.0f median %.0f\n", best, med);
	med = bench_median(asegs, runs, &best, 1);
	printf("RESULT datapath all segs/s (data+ack): best %.0f median %.0f\n", best, med);
	/* For the callgrind division (the last run's steady-state window). */
	printf("WINDOW bytes=%llu data_segs=%llu all_segs=%llu allocs=%llu frees=%llu\n",
	       (unsigned long long)r.ss_bytes, (unsigned long long)r.ss_data_segs,
	       (unsigned long long)r.ss_all_segs, (unsigned long long)r.ss_allocs,
	       (unsigned long long)r.ss_frees);
	return 0;
}
