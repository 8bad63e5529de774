/* Benchmark 2, connection rate: two stacks back to back; for each of N connections the client
 * opens (SYN, SYN-ACK, ACK), sends 64 bytes, the server accepts, reads them and answers 64
 * bytes, the client reads them and closes first (FIN), the server reads EOF and closes: the
 * client is left holding the connection in TIME-WAIT (60 s), the server frees it. The virtual
 * clock moves 50 us per connection, so every TIME-WAIT entry is still held at the end (N x 50
 * us < 60 s); N must stay below the 28,232 ephemeral ports, which TIME-WAIT entries keep.
 *
 * Prints per run and best/median over RUNS: connections per second of wall time (the whole
 * life of each: open, exchange, close), the rate over the first and the last 10% of the
 * connections (does it slow down as TIME-WAIT entries pile up?), segments per connection, and
 * the TIME-WAIT entries held at the end with their bytes.
 * Usage: core_handshake [N=n] [RUNS=n] */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_util.h"

#define PORT 80
#define MSG 64

struct result {
	double rate, first, last, segs_per_conn, tw_bytes, allocs_per_conn;
	long tw;
};

static void count_tw(void *ctx, int fd, const struct synack_tcp_info *info)
{
	(void)fd;
	if (info->state == SYNACK_TIME_WAIT)
		(*(long *)ctx)++;
}

static void must(long r, long want, const char *what)
{
	if (r != want) {
		fprintf(stderr, "handshake: %s returned %ld (%s), wanted %ld\n", what, r,
			r < 0 ? strerror((int)-r) : "", want);
		exit(1);
	}
}

static uint64_t out_segs(struct synack_stack *s)
{
	struct synack_counters c;
	synack_stack_counters(s, &c);
	return c.v[SYNACK_CTR_OutSegs];
}

static void one_conn(struct bench_pair *p, int lfd)
{
	struct synack_stack *c = p->st[0], *s = p->st[1];
	uint8_t msg[MSG], buf[MSG];
	memset(msg, 'x', sizeof msg);
	int sfd, cfd = bench_pair_connect(p, lfd, PORT, &sfd);
	must(synack_send(c, cfd, msg, MSG, 0), MSG, "client send");
	bench_pair_pump(p);
	must(synack_recv(s, sfd, buf, MSG, 0), MSG, "server recv");
	must(synack_send(s, sfd, msg, MSG, 0), MSG, "server send");
	bench_pair_pump(p);
	must(synack_recv(c, cfd, buf, MSG, 0), MSG, "client recv");
	must(synack_close(c, cfd), 0, "client close");
	bench_pair_pump(p);
	must(synack_recv(s, sfd, buf, MSG, 0), 0, "server recv EOF");
	must(synack_close(s, sfd), 0, "server close");
	bench_pair_pump(p);
	bench_pair_advance(p, p->now + 50);
}

static void one_run(long n, struct result *r)
{
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.max_sockets = 65536;
	struct bench_pair p;
	bench_pair_init(&p, &cfg);
	int lfd = synack_socket(p.st[1]);
	struct synack_endpoint ep = {synack_addr_v4(0), PORT};
	if (lfd < 0 || synack_bind(p.st[1], lfd, &ep) < 0 || synack_listen(p.st[1], lfd, 4096) < 0)
		exit(1);
	size_t b0 = synack_stack_live_bytes(p.st[0]);
	uint64_t segs0 = out_segs(p.st[0]) + out_segs(p.st[1]);
	uint64_t a0 = p.alloc[0].allocs + p.alloc[1].allocs;
	long tenth = n / 10 > 0 ? n / 10 : 1;
	uint64_t t0 = bench_ns(), tf = 0, tl = 0;
	for (long i = 0; i < n; i++) {
		if (i == n - tenth)
			tl = bench_ns();
		one_conn(&p, lfd);
		if (i == tenth - 1)
			tf = bench_ns();
	}
	uint64_t t1 = bench_ns();
	r->rate = (double)n / ((double)(t1 - t0) / 1e9);
	r->first = (double)tenth / ((double)(tf - t0) / 1e9);
	r->last = (double)tenth / ((double)(t1 - tl) / 1e9);
	r->segs_per_conn = (double)(out_segs(p.st[0]) + out_segs(p.st[1]) - segs0) / (double)n;
	r->allocs_per_conn = (double)(p.alloc[0].allocs + p.alloc[1].allocs - a0) / (double)n;
	r->tw = 0;
	synack_stack_foreach(p.st[0], count_tw, &r->tw);
	r->tw_bytes = r->tw ? (double)(synack_stack_live_bytes(p.st[0]) - b0) / (double)r->tw : 0;
	bench_pair_fini(&p);
}

int main(int argc, char **argv)
{
	long n = bench_arg(argc, argv, "N", 20000);
	int runs = (int)bench_arg(argc, argv, "RUNS", 5);
	if (runs < 1 || runs > 64)
		runs = 5;
	bench_print_conditions("connection rate: open, 64-byte request and reply, close");
	printf("sizes: N=%ld connections per run, runs=%d, default config (sndbuf 16384, rcvbuf "
	       "131072, timestamps, SACK, wscale), clock +50us per connection, client closes "
	       "first\n",
	       n, runs);
	double rate[64], first[64], last[64];
	struct result r;
	for (int i = 0; i < runs; i++) {
		one_run(n, &r);
		rate[i] = r.rate;
		first[i] = r.first;
		last[i] = r.last;
		printf("run %d: %.0f conn/s (first 10%%: %.0f, last 10%%: %.0f)  %.1f segs/conn  %.1f "
		       "allocator calls/conn (both stacks)  TIME-WAIT held at end: %ld (%.0f B each)\n",
		       i + 1, r.rate, r.first, r.last, r.segs_per_conn, r.allocs_per_conn, r.tw,
		       r.tw_bytes);
		fflush(stdout);
	}
	double best, med = bench_median(rate, runs, &best, 1);
	printf("RESULT handshake conn/s: best %.0f median %.0f\n", best, med);
	med = bench_median(first, runs, &best, 1);
	printf("RESULT handshake conn/s first 10%%: best %.0f median %.0f\n", best, med);
	med = bench_median(last, runs, &best, 1);
	printf("RESULT handshake conn/s last 10%% (with %ld TIME-WAIT held): best %.0f median %.0f\n",
	       r.tw, best, med);
	printf("RESULT handshake TIME-WAIT held: %ld entries, %.0f B each\n", r.tw, r.tw_bytes);
	return 0;
}
