/* Memory at scale, through the public API on the simulated network: 100,000 connections
 * between two stacks, each exchanging data both ways and reading it, then idle; then closed by
 * the server (which keeps them in TIME-WAIT); and, in a world of its own, 16,000 half-open
 * request entries. A counting allocator under each stack gives the live bytes per entry, which
 * must stay under bounds (sizes; no timings): an idle connection holds no buffer memory and,
 * folded after a quiet second (tcb_flow.c), no active part, so it costs its connection block
 * and its share of the table.
 *
 * SYNACK_MEMSCALE_N=n changes the number of connections (100,000). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synack/synack.h"

#define CLIENT 0x0a000001u
#define SERVER 0x0a000002u
#define NPORTS 4 /* listeners on 80..83: 28,232 ephemeral ports to each */
#define BATCH 1000

/* Per entry, at most (bytes): the folded connection block with the table's share (1,000,000
 * under 512 MiB); a compact TIME-WAIT entry (64 B) with its share; a request entry (at most
 * 128 B) with its share. */
#define MAX_IDLE_BYTES 512
#define MAX_TW_BYTES 128
#define MAX_REQ_BYTES 144

struct counting {
	size_t live;
};
static void *c_alloc(void *ctx, size_t n)
{
	((struct counting *)ctx)->live += n;
	return malloc(n);
}
static void c_free(void *ctx, void *p, size_t n)
{
	((struct counting *)ctx)->live -= n;
	free(p);
}

struct world {
	struct synack_sim *sim;
	struct synack_stack *srv, *cli;
	struct counting asrv, acli;
	int lfd[NPORTS];
};

static long conns(void)
{
	const char *e = getenv("SYNACK_MEMSCALE_N");
	return e && *e ? strtol(e, NULL, 0) : 100000;
}

static void world_init(struct world *w, long n, int backlog, bool faults)
{
	memset(w, 0, sizeof *w);
	cr_assert_eq(synack_sim_new(&w->sim, 11), 0);
	static const struct synack_fault_params none = {0};
	struct synack_sim_host_opts o = {.path = {.delay_us = 1000, .queue_limit = 1u << 20},
					 .fault = faults ? &none : NULL};
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.name = "server";
	cfg.max_sockets = (uint32_t)n + 16;
	cfg.syncookies = 0;
	cfg.allocator = (struct synack_allocator){c_alloc, c_free, &w->asrv};
	synack_config_add_addr(&cfg, synack_addr_v4(SERVER), 24);
	cr_assert_eq(synack_sim_add_host(w->sim, &cfg, &o, &w->srv), 0);
	o.fault = NULL;
	synack_config_default(&cfg);
	cfg.name = "client";
	cfg.max_sockets = (uint32_t)n + 16;
	cfg.allocator = (struct synack_allocator){c_alloc, c_free, &w->acli};
	synack_config_add_addr(&cfg, synack_addr_v4(CLIENT), 24);
	cr_assert_eq(synack_sim_add_host(w->sim, &cfg, &o, &w->cli), 0);
	for (int p = 0; p < NPORTS; p++) {
		w->lfd[p] = synack_socket(w->srv);
		struct synack_endpoint ep = {synack_addr_v4(0), (uint16_t)(80 + p)};
		cr_assert_eq(synack_bind(w->srv, w->lfd[p], &ep), 0);
		cr_assert_eq(synack_listen(w->srv, w->lfd[p], backlog), 0);
	}
}

static void run(struct world *w, uint64_t us)
{
	synack_sim_run_until(w->sim, synack_sim_now(w->sim) + us);
}

static uint64_t counter(struct synack_stack *s, enum synack_counter c)
{
	struct synack_counters k;
	synack_stack_counters(s, &k);
	return k.v[c];
}

struct tally {
	long n[SYNACK_STATE_COUNT];
	uint64_t mem;
};
static void tally(void *ctx, int fd, const struct synack_tcp_info *i)
{
	(void)fd;
	struct tally *t = ctx;
	t->n[i->state]++;
	t->mem += i->rmem_alloc + i->wmem_queued;
}

Test(memscale, idle_established_and_time_wait_entries, .timeout = 600)
{
	long n = conns();
	struct world w;
	world_init(&w, n, 4096, false);
	int *cfd = malloc((size_t)n * sizeof *cfd), *sfd = malloc((size_t)n * sizeof *sfd);
	size_t srv0 = w.asrv.live, cli0 = w.acli.live;
	char b[8];
	for (long first = 0; first < n; first += BATCH) {
		long last = first + BATCH < n ? first + BATCH : n;
		for (long i = first; i < last; i++) {
			cfd[i] = synack_socket(w.cli);
			struct synack_endpoint to = {synack_addr_v4(SERVER), (uint16_t)(80 + i % NPORTS)};
			cr_assert_eq(synack_connect(w.cli, cfd[i], &to), -EINPROGRESS, "%ld", i);
		}
		run(&w, 5000);
		for (long i = first; i < last; i++) {
			sfd[i] = synack_accept(w.srv, w.lfd[i % NPORTS], NULL);
			cr_assert_geq(sfd[i], 0, "connection %ld accepted", i);
			cr_assert_eq(synack_send(w.cli, cfd[i], "ping", 4, 0), 4);
		}
		run(&w, 5000);
		for (long i = first; i < last; i++) {
			cr_assert_eq(synack_recv(w.srv, sfd[i], b, sizeof b, 0), 4);
			cr_assert_eq(synack_send(w.srv, sfd[i], "pong", 4, 0), 4);
		}
		run(&w, 5000);
		for (long i = first; i < last; i++)
			cr_assert_eq(synack_recv(w.cli, cfd[i], b, sizeof b, 0), 4);
	}
	run(&w, 2000000); /* every delayed ACK sent, every queue empty, every flow folded */
	struct tally ts = {0}, tc = {0};
	synack_stack_foreach(w.srv, tally, &ts);
	synack_stack_foreach(w.cli, tally, &tc);
	cr_assert_eq(ts.n[SYNACK_ESTABLISHED], n);
	cr_assert_eq(tc.n[SYNACK_ESTABLISHED], n);
	cr_assert_eq(ts.mem + tc.mem, 0, "no connection holds buffer memory");
	cr_assert_eq(counter(w.srv, SYNACK_CTR_TCPFlowFolds), (uint64_t)n, "every one folded");
	cr_assert_eq(counter(w.cli, SYNACK_CTR_TCPFlowFolds), (uint64_t)n);
	cr_assert_eq(counter(w.srv, SYNACK_CTR_TCPMemBytes) + counter(w.cli, SYNACK_CTR_TCPMemBytes),
		     0);
	double srv_idle = (double)(w.asrv.live - srv0) / (double)n;
	double cli_idle = (double)(w.acli.live - cli0) / (double)n;
	fprintf(stderr, "memscale: %ld idle established connections after data both ways: "
			"server %.0f B each, client %.0f B each\n",
		n, srv_idle, cli_idle);
	cr_assert_leq(srv_idle, MAX_IDLE_BYTES, "%.0f B per idle connection", srv_idle);
	cr_assert_leq(cli_idle, MAX_IDLE_BYTES, "%.0f B per idle connection", cli_idle);

	/* The server closes first: its side ends in TIME-WAIT (compact entries), the client's
	 * in CLOSED after LAST-ACK. */
	for (long first = 0; first < n; first += BATCH) {
		long last = first + BATCH < n ? first + BATCH : n;
		for (long i = first; i < last; i++)
			cr_assert_eq(synack_close(w.srv, sfd[i]), 0);
		run(&w, 5000);
		for (long i = first; i < last; i++) {
			cr_assert_eq(synack_recv(w.cli, cfd[i], b, sizeof b, 0), 0, "EOF");
			cr_assert_eq(synack_close(w.cli, cfd[i]), 0);
		}
		run(&w, 5000);
	}
	run(&w, 100000);
	memset(&ts, 0, sizeof ts);
	synack_stack_foreach(w.srv, tally, &ts);
	cr_assert_eq(ts.n[SYNACK_TIME_WAIT], n);
	double tw = (double)(w.asrv.live - srv0) / (double)n;
	fprintf(stderr, "memscale: %ld TIME-WAIT entries: %.1f B each; client back to %+ld B\n", n,
		tw, (long)w.acli.live - (long)cli0);
	cr_assert_leq(tw, MAX_TW_BYTES, "%.1f B per TIME-WAIT entry", tw);
	free(cfd);
	free(sfd);
	synack_sim_destroy(w.sim);
	cr_assert_eq(w.asrv.live + w.acli.live, 0, "nothing left behind");
}

Test(memscale, request_entries, .timeout = 600)
{
	long n = conns() < 16000 ? conns() : 16000; /* 4 listeners x a 4096 SYN queue */
	struct world w;
	world_init(&w, n, 4096, true);
	/* The server's SYN-ACKs are lost: its entries stay in SYN-RECEIVED. */
	struct synack_fault_params drop = {.loss = 1.0};
	synack_fault_set_params(synack_sim_host_fault(w.sim, w.srv), &drop);
	size_t srv0 = w.asrv.live;
	for (long i = 0; i < n; i++) {
		int fd = synack_socket(w.cli);
		struct synack_endpoint to = {synack_addr_v4(SERVER), (uint16_t)(80 + i % NPORTS)};
		cr_assert_eq(synack_connect(w.cli, fd, &to), -EINPROGRESS);
		if (i % BATCH == BATCH - 1)
			run(&w, 5000);
	}
	run(&w, 5000);
	struct tally ts = {0};
	synack_stack_foreach(w.srv, tally, &ts);
	cr_assert_eq(ts.n[SYNACK_SYN_RECEIVED], n);
	double req = (double)(w.asrv.live - srv0) / (double)n;
	fprintf(stderr, "memscale: %ld request (SYN-RECEIVED) entries: %.0f B each\n", n, req);
	cr_assert_leq(req, MAX_REQ_BYTES, "%.0f B per request entry", req);
	synack_sim_destroy(w.sim);
	cr_assert_eq(w.asrv.live + w.acli.live, 0);
}
