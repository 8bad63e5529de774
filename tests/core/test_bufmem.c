/* Buffer memory on the simulated network, through the public API (src/core/buf.h,
 * tcp_autotune.c): memory comes with data and goes with it, the receive buffer grows with
 * the rate the application reads at (Linux's tcp_rcv_space_adjust) up to tcp_rmem's max,
 * SO_RCVBUF applies to a connected socket, and the stack-wide limit (cfg.tcp_mem) shrinks
 * windows without losing what was accepted. Sizes and counts only; no timing. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/tcb.h"
#include "synack/synack.h"

#define CLIENT 0x0a000001u
#define SERVER 0x0a000002u
#define PORT 80
#define NCONN 8

static uint8_t data[8 << 20];

struct world {
	struct synack_sim *sim;
	struct synack_stack *srv, *cli;
	int lfd, sfd[NCONN], cfd[NCONN];
	size_t sent[NCONN], got[NCONN];
};

static uint64_t counter(struct synack_stack *s, enum synack_counter c)
{
	struct synack_counters k;
	synack_stack_counters(s, &k);
	return k.v[c];
}

static struct synack_tcp_info info(struct synack_stack *s, int fd)
{
	struct synack_tcp_info i;
	cr_assert_eq(synack_tcp_info(s, fd, &i), 0);
	return i;
}

static int rcvbuf(struct synack_stack *s, int fd)
{
	int v = 0;
	size_t len = sizeof v;
	cr_assert_eq(synack_getsockopt(s, fd, SYNACK_SOL_SOCKET, SYNACK_SO_RCVBUF, &v, &len), 0);
	return v;
}

/* n connections client -> server over path (one way delay, bandwidth); srv_cfg may change
 * the server's config. */
static void world_init(struct world *w, int n, struct synack_sim_path path,
		       void (*srv_cfg)(struct synack_config *))
{
	memset(w, 0, sizeof *w);
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 7 + (i >> 12));
	cr_assert_eq(synack_sim_new(&w->sim, 7), 0);
	struct synack_sim_host_opts o = {.path = path};
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.name = "server";
	synack_config_add_addr(&cfg, synack_addr_v4(SERVER), 24);
	if (srv_cfg)
		srv_cfg(&cfg);
	cr_assert_eq(synack_sim_add_host(w->sim, &cfg, &o, &w->srv), 0);
	synack_config_default(&cfg);
	cfg.name = "client";
	synack_config_add_addr(&cfg, synack_addr_v4(CLIENT), 24);
	cr_assert_eq(synack_sim_add_host(w->sim, &cfg, &o, &w->cli), 0);
	w->lfd = synack_socket(w->srv);
	struct synack_endpoint ep = {synack_addr_v4(0), PORT};
	cr_assert_eq(synack_bind(w->srv, w->lfd, &ep), 0);
	cr_assert_eq(synack_listen(w->srv, w->lfd, NCONN), 0);
	ep = (struct synack_endpoint){synack_addr_v4(SERVER), PORT};
	for (int i = 0; i < n; i++) {
		w->cfd[i] = synack_socket(w->cli);
		cr_assert_eq(synack_connect(w->cli, w->cfd[i], &ep), -EINPROGRESS);
	}
	synack_sim_run_until(w->sim, synack_sim_now(w->sim) + 4 * path.delay_us + 1000);
	for (int i = 0; i < n; i++)
		cr_assert_geq(w->sfd[i] = synack_accept(w->srv, w->lfd, NULL), 0);
}

/* The client writes what fits of `total` on connection i; the server reads it when `read`. */
static void move(struct world *w, int i, size_t total, bool read)
{
	ssize_t k = synack_send(w->cli, w->cfd[i], data + w->sent[i], total - w->sent[i], 0);
	if (k > 0)
		w->sent[i] += (size_t)k;
	static uint8_t buf[1 << 20];
	while (read && (k = synack_recv(w->srv, w->sfd[i], buf, sizeof buf, 0)) > 0) {
		cr_assert_arr_eq(buf, data + w->got[i], (size_t)k, "byte-exact at %zu", w->got[i]);
		w->got[i] += (size_t)k;
	}
}

Test(bufmem, an_idle_connection_holds_no_buffer_memory)
{
	struct world w;
	world_init(&w, 1, (struct synack_sim_path){.delay_us = 5000}, NULL);
	size_t srv0 = synack_stack_live_bytes(w.srv), cli0 = synack_stack_live_bytes(w.cli);
	cr_assert_eq(counter(w.srv, SYNACK_CTR_TCPMemBytes), 0, "established, no data: none");
	for (int step = 0; step < 400 && w.got[0] < 300000; step++) {
		move(&w, 0, 300000, true);
		if (step == 0)
			cr_assert_gt(info(w.cli, w.cfd[0]).wmem_queued, 0, "queued data holds chunks");
		synack_sim_run_until(w.sim, synack_sim_now(w.sim) + 1000);
	}
	cr_assert_eq(w.got[0], 300000);
	cr_assert_eq(synack_send(w.srv, w.sfd[0], "pong", 4, 0), 4);
	synack_sim_run_until(w.sim, synack_sim_now(w.sim) + 50000);
	char b[8];
	cr_assert_eq(synack_recv(w.cli, w.cfd[0], b, sizeof b, 0), 4);
	synack_sim_run_until(w.sim, synack_sim_now(w.sim) + 50000);
	struct synack_tcp_info si = info(w.srv, w.sfd[0]), ci = info(w.cli, w.cfd[0]);
	cr_assert_eq(si.rmem_alloc + si.wmem_queued + ci.rmem_alloc + ci.wmem_queued, 0);
	cr_assert_eq(counter(w.srv, SYNACK_CTR_TCPMemBytes), 0);
	cr_assert_eq(counter(w.cli, SYNACK_CTR_TCPMemBytes), 0);
	/* The stacks keep the free chunks for the next data (no allocator call per burst) until
	 * a call a second later; then every byte they hold, they held before the data, less
	 * the connection's flow, folded after a quiet second (tcb_flow.c). */
	cr_assert_gt(synack_stack_live_bytes(w.srv) + synack_stack_live_bytes(w.cli), srv0 + cli0);
	synack_sim_run_until(w.sim, synack_sim_now(w.sim) + 1000000);
	synack_stack_poll(w.srv, synack_sim_now(w.sim));
	synack_stack_poll(w.cli, synack_sim_now(w.sim));
	cr_assert_eq(counter(w.srv, SYNACK_CTR_TCPFlowFolds), 1);
	cr_assert_eq(counter(w.cli, SYNACK_CTR_TCPFlowFolds), 1);
	cr_assert_eq(synack_stack_live_bytes(w.srv), srv0 - sizeof(struct tcb_flow));
	cr_assert_eq(synack_stack_live_bytes(w.cli), cli0 - sizeof(struct tcb_flow));
	synack_sim_destroy(w.sim);
}

Test(bufmem, the_receive_buffer_grows_with_the_read_rate_up_to_rcvbuf_max)
{
	struct world w;
	/* 1 Gbit/s, 10 ms each way: a bandwidth-delay product of 2.5 MB. */
	world_init(&w, 1, (struct synack_sim_path){.delay_us = 10000, .bandwidth_bps = 1000000000},
		   NULL);
	cr_assert_eq(info(w.srv, w.sfd[0]).rcv_wscale, 7, "chosen for 6 MiB, as Linux");
	int first = rcvbuf(w.srv, w.sfd[0]), last = first, steps = 0;
	cr_assert_eq(first, 131072, "tcp_rmem's default");
	for (int step = 0; step < 20000 && w.got[0] < sizeof data; step++) {
		move(&w, 0, sizeof data, true);
		int now = rcvbuf(w.srv, w.sfd[0]);
		cr_assert_geq(now, last, "never shrinks");
		cr_assert_leq(now, 6291456, "at most tcp_rmem's max");
		steps += now != last;
		last = now;
		synack_sim_step(w.sim, SYNACK_TIME_NEVER);
	}
	cr_assert_eq(w.got[0], sizeof data, "8 MiB byte-exact");
	cr_assert_eq(last, 6291456, "grew to tcp_rmem's max");
	cr_assert_geq(steps, 3, "in steps, once per RTT at most: %d", steps);
	cr_assert_leq(steps, 40, "%d", steps);
	synack_sim_destroy(w.sim);
}

Test(bufmem, so_rcvbuf_applies_to_a_connected_socket_without_losing_data)
{
	struct world w;
	world_init(&w, 1, (struct synack_sim_path){.delay_us = 5000}, NULL);
	int v = 4096;
	cr_assert_eq(synack_setsockopt(w.srv, w.sfd[0], SYNACK_SOL_SOCKET, SYNACK_SO_RCVBUF, &v,
				       sizeof v),
		     0);
	cr_assert_eq(rcvbuf(w.srv, w.sfd[0]), 8192, "doubled, as Linux reports it");
	/* The window already announced (the SYN-ACK's 65160) is not taken back: what the
	 * client sends in it is accepted. */
	for (int step = 0; step < 50; step++) {
		move(&w, 0, 1 << 20, false);
		synack_sim_run_until(w.sim, synack_sim_now(w.sim) + 10000);
	}
	uint32_t q = info(w.srv, w.sfd[0]).recv_q;
	cr_assert(q > 4096 && q <= 65160, "the SYN-ACK's window, accepted: %u", q);
	cr_assert_eq(info(w.cli, w.cfd[0]).snd_wnd, 0, "then a zero window");
	/* Read: from now on the window is the 4096-byte buffer. */
	move(&w, 0, 1 << 20, true);
	for (int step = 0; step < 50; step++) {
		synack_sim_run_until(w.sim, synack_sim_now(w.sim) + 10000);
		cr_assert_leq(info(w.srv, w.sfd[0]).recv_q, 4096);
		cr_assert_leq(info(w.cli, w.cfd[0]).snd_wnd, 4096);
		move(&w, 0, 1 << 20, step % 2);
	}
	cr_assert_gt(w.got[0], 131072, "data keeps coming, byte-exact");
	synack_sim_destroy(w.sim);
}

static void small_tcp_mem(struct synack_config *cfg)
{
	size_t chunk = 16384 + 16; /* sizeof(struct synack_chunk) */
	cfg->tcp_mem[0] = 4 * chunk;
	cfg->tcp_mem[1] = 8 * chunk;
	cfg->tcp_mem[2] = 12 * chunk;
}

Test(bufmem, the_memory_limit_shrinks_windows_and_loses_nothing)
{
	struct world w;
	world_init(&w, NCONN, (struct synack_sim_path){.delay_us = 5000}, small_tcp_mem);
	/* Nobody reads: the receive queues fill until the limit. */
	for (int step = 0; step < 100; step++) {
		for (int i = 0; i < NCONN; i++)
			move(&w, i, 1 << 20, false);
		synack_sim_run_until(w.sim, synack_sim_now(w.sim) + 10000);
		/* Over the hard limit only by a ring's first chunk each (progress for all). */
		cr_assert_leq(counter(w.srv, SYNACK_CTR_TCPMemBytes), (12 + NCONN) * (16384 + 16));
	}
	cr_assert_eq(counter(w.srv, SYNACK_CTR_TCPMemoryPressures), 1);
	cr_assert_gt(counter(w.srv, SYNACK_CTR_TCPRcvQDrop), 0, "segments without memory dropped");
	for (int i = 0; i < NCONN; i++)
		cr_assert_leq(info(w.srv, w.sfd[i]).rcv_wnd, 131072);
	/* Read everything: all of it arrives, byte-exact; memory goes back, pressure ends. */
	for (int step = 0; step < 30000; step++) {
		size_t total = 0;
		for (int i = 0; i < NCONN; i++) {
			move(&w, i, 1 << 20, true);
			total += w.got[i];
		}
		if (total == (size_t)NCONN << 20)
			break;
		synack_sim_run_until(w.sim, synack_sim_now(w.sim) + 10000);
	}
	for (int i = 0; i < NCONN; i++)
		cr_assert_eq(w.got[i], (size_t)1 << 20, "connection %d: all of it (%zu, sent %zu)", i, w.got[i], w.sent[i]);
	synack_sim_run_until(w.sim, synack_sim_now(w.sim) + 100000);
	cr_assert_eq(counter(w.srv, SYNACK_CTR_TCPMemBytes), 0);
	synack_sim_destroy(w.sim);
}
