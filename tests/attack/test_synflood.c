/* A SYN flood on the simulated network (include/synack/sim.h): 100,000 spoofed SYNs in 10
 * virtual seconds (10,000 per second, from random addresses of 198.18.0.0/15, RFC 2544's
 * benchmarking range) hit a server listening with backlog 64, while a legitimate client opens
 * 1,000 connections (one every 10 ms from 10 ms on, all during the flood), each sending a 64-byte
 * message and reading its echo before closing.
 *
 *   - cookies mode 1 (Linux's default) and mode 2: every one of the 1,000 exchanges succeeds,
 *     and the server's memory stays under FLOOD_MEM_BOUND however many SYNs arrive;
 *   - cookies off: the SYN queue stays full of spoofed entries (each lives through 5 SYN-ACK
 *     retries, 63 s) and the legitimate connections fail (the client gives up after 3 SYN
 *     retries, 15 s, as the demo's syn-flood scenario does);
 *   - 10,000 forged ACKs sprayed at the listener during the flood create nothing;
 *   - cookie connections negotiate MSS, window scale and SACK like queued ones. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util/rng.h"
#include "synack/synack.h"

/* A pointer to the IPv4 address x (host order) as a synack_addr, for the codec. */
#define ST_V4(x) (&(const struct synack_addr[1]){synack_addr_v4(x)}[0])

#define CLIENT 0x0a000001u
#define SERVER 0x0a000002u
#define PORT 80
#define BACKLOG 64
#define N_CONNS 1000
#define CONC N_CONNS /* each connection starts on schedule, whatever the others do */
#define MSG 64
#define FLOOD_SYNS 100000
#define FLOOD_US 10000000ull   /* 10 s */
#define TICK_US 1000ull	       /* the flood and the apps run every millisecond */
#define CONN_EVERY_US 10000ull /* a legitimate connection every 10 ms */
#define END_US 400000000ull    /* give up at 400 s */
#define MAX_SRV_FDS 1024
/* The server's memory bound during the flood, stated and asserted: 1 MiB. It holds the
 * listener, 64 half-open entries (mode 1; under 1 KiB each, no buffers) and the few
 * legitimate connections open at a time with their buffers (about 150 KiB each with the
 * default 128 KiB receive and 16 KiB send buffers). Measured when written: about 230 KB. */
#define FLOOD_MEM_BOUND (1u << 20)

enum cstate { C_IDLE, C_CONNECTING, C_WAITING, C_DONE };

struct client_conn {
	int fd;
	enum cstate st;
	int id;
	size_t got;
	uint8_t echo[MSG];
};

struct flood {
	struct synack_sim *sim;
	struct synack_stack *srv, *cli;
	int lfd;
	struct synack_rng rng;
	struct client_conn c[CONC];
	int started, ok, failed;
	int srv_fds[MAX_SRV_FDS];
	int n_srv;
	uint64_t spoofed, forged;
	size_t peak_bytes, base_bytes;
	/* options the server saw on the connections it accepted */
	int accepted, mss_ok, wscale_ok, sack_ok;
	struct synack_tcp_info last_info;
};

static void message(int id, uint8_t out[MSG])
{
	for (int i = 0; i < MSG; i++)
		out[i] = (uint8_t)(id * 31 + i * 7);
}

static void setup_backlog(struct flood *f, int cookies, uint64_t seed, int backlog)
{
	memset(f, 0, sizeof(*f));
	cr_assert_eq(synack_sim_new(&f->sim, seed), 0);
	synack_rng_seed(&f->rng, seed);
	struct synack_sim_host_opts o = {.path = {.delay_us = 1000}};
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.name = "server";
	synack_config_add_addr(&cfg, synack_addr_v4(SERVER), 24);
	cfg.syncookies = (uint8_t)cookies;
	cfg.max_sockets = 4096;
	cr_assert_eq(synack_sim_add_host(f->sim, &cfg, &o, &f->srv), 0);
	synack_config_default(&cfg);
	cfg.name = "client";
	synack_config_add_addr(&cfg, synack_addr_v4(CLIENT), 24);
	cfg.syn_retries = 3; /* a user gives up after 15 s (SYN at 0, 1, 3 and 7 s) */
	cfg.max_sockets = 4096;
	cr_assert_eq(synack_sim_add_host(f->sim, &cfg, &o, &f->cli), 0);
	f->lfd = synack_socket(f->srv);
	struct synack_endpoint any = {synack_addr_v4(0), PORT};
	cr_assert_eq(synack_bind(f->srv, f->lfd, &any), 0);
	cr_assert_eq(synack_listen(f->srv, f->lfd, backlog), 0);
	f->base_bytes = synack_stack_live_bytes(f->srv);
	for (int i = 0; i < CONC; i++)
		f->c[i].st = C_IDLE;
}

static void setup(struct flood *f, int cookies, uint64_t seed)
{
	setup_backlog(f, cookies, seed, BACKLOG);
}

/* A spoofed SYN with Linux's options, from a random address and port, injected at the
 * server's interface. Its SYN-ACK goes to an address nobody has (the simulator drops it). */
static void spoof_syn(struct flood *f)
{
	struct synack_tcp_seg seg = {
		.sport = (uint16_t)(1024 + synack_rng_below(&f->rng, 64512)),
		.dport = PORT,
		.seq = (uint32_t)synack_rng_next(&f->rng),
		.flags = SYNACK_TH_SYN,
		.win = 64240,
		.opts = {.has_mss = true,
			 .mss = 1460,
			 .sack_ok = true,
			 .has_ts = true,
			 .ts_val = (uint32_t)synack_rng_next(&f->rng),
			 .has_wscale = true,
			 .wscale = 7},
	};
	uint32_t src = 0xc6120000u | (uint32_t)synack_rng_below(&f->rng, 0x20000);
	uint8_t frame[128];
	int n = synack_tcp_emit(frame, sizeof(frame), ST_V4(src), ST_V4(SERVER), 0, &seg);
	cr_assert_gt(n, 0);
	synack_sim_inject(f->sim, f->srv, frame, (size_t)n);
	f->spoofed++;
}

/* A forged ACK: the blind attacker's guess at a cookie, from a random address. */
static void forge_ack(struct flood *f)
{
	uint64_t r = synack_rng_next(&f->rng);
	struct synack_tcp_seg seg = {
		.sport = (uint16_t)(1024 + (r & 0xffff) % 64512),
		.dport = PORT,
		.seq = (uint32_t)synack_rng_next(&f->rng),
		.ack = (uint32_t)(r >> 32),
		.flags = SYNACK_TH_ACK,
		.win = 502,
	};
	uint32_t src = 0xc6120000u | (uint32_t)synack_rng_below(&f->rng, 0x20000);
	uint8_t frame[128];
	int n = synack_tcp_emit(frame, sizeof(frame), ST_V4(src), ST_V4(SERVER), 0, &seg);
	cr_assert_gt(n, 0);
	synack_sim_inject(f->sim, f->srv, frame, (size_t)n);
	f->forged++;
}

static void note_options(struct flood *f, int fd)
{
	struct synack_tcp_info i;
	cr_assert_eq(synack_tcp_info(f->srv, fd, &i), 0);
	f->accepted++;
	f->mss_ok += i.snd_mss == 1460 - 12;
	f->wscale_ok += i.snd_wscale == 7 && i.rcv_wscale == 7;
	f->sack_ok += i.sack_ok && i.ts_ok;
	f->last_info = i;
}

/* The server: accept everything, echo what arrives, close at end of stream. */
static void server_app(struct flood *f)
{
	int fd;
	while ((fd = synack_accept(f->srv, f->lfd, NULL)) >= 0) {
		cr_assert_lt(f->n_srv, MAX_SRV_FDS);
		f->srv_fds[f->n_srv++] = fd;
		note_options(f, fd);
	}
	cr_assert_eq(fd, -EAGAIN);
	for (int i = 0; i < f->n_srv; i++) {
		uint8_t buf[MSG * 2];
		ssize_t n = synack_recv(f->srv, f->srv_fds[i], buf, sizeof(buf), 0);
		if (n == -EAGAIN)
			continue;
		if (n > 0) {
			cr_assert_eq(synack_send(f->srv, f->srv_fds[i], buf, (size_t)n, 0), n);
			continue;
		}
		synack_close(f->srv, f->srv_fds[i]);
		f->srv_fds[i--] = f->srv_fds[--f->n_srv];
	}
}

static void client_finish(struct flood *f, struct client_conn *c, bool ok)
{
	synack_close(f->cli, c->fd);
	c->st = C_IDLE;
	if (ok)
		f->ok++;
	else
		f->failed++;
}

static void client_start(struct flood *f, struct client_conn *c)
{
	c->fd = synack_socket(f->cli);
	cr_assert_geq(c->fd, 0);
	struct synack_endpoint srv = {synack_addr_v4(SERVER), PORT};
	cr_assert_eq(synack_connect(f->cli, c->fd, &srv), -EINPROGRESS);
	c->st = C_CONNECTING;
	c->id = f->started++;
	c->got = 0;
}

static void client_step(struct flood *f, struct client_conn *c)
{
	int ev = synack_events(f->cli, c->fd);
	if (c->st == C_CONNECTING) {
		if (ev & SYNACK_EV_ERROR) {
			client_finish(f, c, false);
			return;
		}
		if (!(ev & SYNACK_EV_WRITABLE))
			return;
		uint8_t m[MSG];
		message(c->id, m);
		cr_assert_eq(synack_send(f->cli, c->fd, m, MSG, 0), MSG);
		c->st = C_WAITING;
		return;
	}
	ssize_t n = synack_recv(f->cli, c->fd, c->echo + c->got, MSG - c->got, 0);
	if (n == -EAGAIN)
		return;
	if (n <= 0) {
		client_finish(f, c, false);
		return;
	}
	c->got += (size_t)n;
	if (c->got < MSG)
		return;
	uint8_t m[MSG];
	message(c->id, m);
	cr_assert_eq(memcmp(m, c->echo, MSG), 0, "connection %d: echo differs", c->id);
	client_finish(f, c, true);
}

static void client_app(struct flood *f, uint64_t now)
{
	for (int i = 0; i < CONC; i++) {
		struct client_conn *c = &f->c[i];
		if (c->st != C_IDLE)
			client_step(f, c);
		if (c->st == C_IDLE && f->started < N_CONNS &&
		    now >= (uint64_t)(f->started + 1) * CONN_EVERY_US)
			client_start(f, c);
	}
}

/* Runs the flood and the applications until every connection is resolved. forged: ACKs to
 * spray at the listener during the flood. */
static void run(struct flood *f, uint64_t syns, uint64_t forged)
{
	uint64_t ticks = FLOOD_US / TICK_US;
	/* Forged ACKs start once the SYN queue has overflowed (mode 1 checks cookies only then). */
	uint64_t f0 = 100, fticks = ticks - f0;
	for (uint64_t t = 0; t < END_US && (t < FLOOD_US || f->ok + f->failed < N_CONNS);
	     t += TICK_US) {
		uint64_t k = t / TICK_US;
		if (k < ticks) {
			for (uint64_t i = syns * k / ticks; i < syns * (k + 1) / ticks; i++)
				spoof_syn(f);
		}
		if (k >= f0 && k < ticks) {
			uint64_t j = k - f0;
			for (uint64_t i = forged * j / fticks; i < forged * (j + 1) / fticks; i++)
				forge_ack(f);
		}
		synack_sim_run_until(f->sim, t);
		server_app(f);
		client_app(f, t);
		size_t b = synack_stack_live_bytes(f->srv);
		if (b > f->peak_bytes)
			f->peak_bytes = b;
	}
}

static void teardown(struct flood *f)
{
	synack_sim_destroy(f->sim);
}

static uint64_t counter(struct synack_stack *s, enum synack_counter c)
{
	struct synack_counters ctr;
	synack_stack_counters(s, &ctr);
	return ctr.v[c];
}

static void report(const char *what, struct flood *f)
{
	fprintf(stderr,
		"synflood %s: %llu spoofed SYNs, %d/%d legitimate exchanges ok, %d failed; "
		"server peak %zu bytes (%zu at start); SyncookiesSent %llu Recv %llu Failed %llu; "
		"ListenDrops %llu\n",
		what, (unsigned long long)f->spoofed, f->ok, N_CONNS, f->failed, f->peak_bytes,
		f->base_bytes, (unsigned long long)counter(f->srv, SYNACK_CTR_SyncookiesSent),
		(unsigned long long)counter(f->srv, SYNACK_CTR_SyncookiesRecv),
		(unsigned long long)counter(f->srv, SYNACK_CTR_SyncookiesFailed),
		(unsigned long long)counter(f->srv, SYNACK_CTR_ListenDrops));
}

static void expect_all_served(struct flood *f)
{
	cr_assert_eq(f->spoofed, FLOOD_SYNS);
	cr_assert_eq(f->ok, N_CONNS, "%d of %d exchanges succeeded", f->ok, N_CONNS);
	cr_assert_eq(f->failed, 0);
	cr_assert_eq(counter(f->srv, SYNACK_CTR_PassiveOpens), N_CONNS,
		     "only the legitimate connections were created");
	cr_assert_lt(f->peak_bytes, FLOOD_MEM_BOUND, "server peak %zu bytes", f->peak_bytes);
	cr_assert_eq(f->accepted, N_CONNS);
}

Test(synflood, cookies_mode1_serve_everyone, .timeout = 120)
{
	struct flood f;
	setup(&f, 1, 1);
	run(&f, FLOOD_SYNS, 0);
	report("mode 1", &f);
	expect_all_served(&f);
	/* The queue was full of spoofed entries: the legitimate SYNs got cookies. */
	cr_assert_geq(counter(f.srv, SYNACK_CTR_SyncookiesSent), FLOOD_SYNS - 10 * BACKLOG);
	cr_assert_geq(counter(f.srv, SYNACK_CTR_SyncookiesRecv), N_CONNS * 9 / 10);
	cr_assert_eq(counter(f.srv, SYNACK_CTR_SyncookiesFailed), 0);
	teardown(&f);
}

Test(synflood, cookies_mode2_serve_everyone_without_half_open_state, .timeout = 120)
{
	struct flood f;
	setup(&f, 2, 2);
	run(&f, FLOOD_SYNS, 0);
	report("mode 2", &f);
	expect_all_served(&f);
	cr_assert_eq(counter(f.srv, SYNACK_CTR_SyncookiesSent), FLOOD_SYNS + N_CONNS);
	cr_assert_eq(counter(f.srv, SYNACK_CTR_SyncookiesRecv), N_CONNS);
	cr_assert_eq(counter(f.srv, SYNACK_CTR_ListenDrops), 0);
	/* Cookie connections keep their options (the client is a default synack: MSS 1460,
	 * timestamps, SACK, window scale 7). */
	cr_assert_eq(f.mss_ok, N_CONNS, "MSS 1460 from the table, 1448 with timestamps");
	cr_assert_eq(f.wscale_ok, N_CONNS, "window scale 7 each way");
	cr_assert_eq(f.sack_ok, N_CONNS, "SACK-permitted and timestamps");
	teardown(&f);
}

Test(synflood, without_cookies_the_flood_locks_clients_out, .timeout = 300)
{
	struct flood f;
	setup(&f, 0, 3);
	run(&f, FLOOD_SYNS, 0);
	report("mode 0", &f);
	cr_assert_eq(f.ok + f.failed, N_CONNS);
	/* Every connection finds the SYN queue full on each of its SYN retries (1, 3 and 7 s
	 * later): the 64 spoofed entries that filled it at once live 63 s. */
	cr_assert_eq(f.failed, N_CONNS, "only %d failed", f.failed);
	cr_assert_geq(counter(f.srv, SYNACK_CTR_ListenDrops), FLOOD_SYNS - 10 * BACKLOG);
	cr_assert_eq(counter(f.srv, SYNACK_CTR_SyncookiesSent), 0);
	teardown(&f);
}

Test(synflood, forged_cookie_acks_create_nothing, .timeout = 120)
{
	struct flood f;
	setup(&f, 1, 4);
	run(&f, FLOOD_SYNS, 10000);
	report("mode 1 + 10,000 forged ACKs", &f);
	expect_all_served(&f);
	cr_assert_eq(f.forged, 10000);
	cr_assert_eq(counter(f.srv, SYNACK_CTR_SyncookiesFailed), 10000,
		     "each forged ACK was checked and failed");
	teardown(&f);
}

Test(synflood, memory_is_flat_in_the_length_of_the_flood, .timeout = 120)
{
	struct flood a, b;
	setup(&a, 1, 5);
	run(&a, FLOOD_SYNS / 10, 0);
	setup(&b, 1, 5);
	run(&b, FLOOD_SYNS, 0);
	report("mode 1, 10,000 SYNs", &a);
	report("mode 1, 100,000 SYNs", &b);
	cr_assert_eq(a.ok, N_CONNS);
	cr_assert_eq(b.ok, N_CONNS);
	/* Ten times the SYNs, not more memory: the peak is set by the queues and the legitimate
	 * connections, within one connection's buffers of each other. */
	size_t hi = a.peak_bytes > b.peak_bytes ? a.peak_bytes : b.peak_bytes;
	size_t lo = a.peak_bytes < b.peak_bytes ? a.peak_bytes : b.peak_bytes;
	cr_assert_lt(hi - lo, 256u * 1024, "peaks %zu and %zu", a.peak_bytes, b.peak_bytes);
	teardown(&a);
	teardown(&b);
}

Test(synflood, a_half_open_entry_holds_no_buffers)
{
	/* Cookies off, backlog 4096: every spoofed SYN takes a SYN-queue entry (4,000 stay
	 * under max_sockets, 4,096). */
	struct flood f;
	setup_backlog(&f, 0, 6, 4096);
	for (int i = 0; i < 4000; i++)
		spoof_syn(&f);
	size_t per = (synack_stack_live_bytes(f.srv) - f.base_bytes) / 4000;
	fprintf(stderr,
		"synflood: a half-open entry costs %zu bytes (4,000 entries, hash table "
		"growth included)\n",
		per);
	/* No buffers: a send or receive buffer alone would be 16 KiB or more. The entry is still a
	 * whole connection block (968 B, tests/core/test_entry_sizes.c) plus its share of the
	 * table; the compact request entry of issue 12 (goal 128 B) is what would bring it down.
	 * The bound is today's cost, so that it cannot grow unseen. */
	cr_assert_leq(per, 992, "%zu bytes per half-open entry", per);
	struct synack_counters c;
	synack_stack_counters(f.srv, &c);
	cr_assert_eq(c.v[SYNACK_CTR_ListenDrops], 0);
	teardown(&f);

	/* Mode 2: a SYN costs nothing at all. */
	setup_backlog(&f, 2, 7, 4096);
	for (int i = 0; i < 10000; i++)
		spoof_syn(&f);
	cr_assert_eq(synack_stack_live_bytes(f.srv), f.base_bytes);
	teardown(&f);
}
