/* The simulated world: the clock jumps to the next event, frames arrive exactly after the
 * path delay, timers fire on time, faults and capture plug in per host, identities derive
 * from the seed, and spoofed frames can be injected. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "synack/synack.h"

/* A pointer to the IPv4 address x (host order) as a synack_addr, for the codec. */
#define ST_V4(x) (&(const struct synack_addr[1]){synack_addr_v4(x)}[0])

#define CLIENT 0x0a000001u
#define SERVER 0x0a000002u
#define SPOOF 0xc0000263u /* 192.0.2.99, TEST-NET-1: nobody is there */

struct ev {
	enum synack_trace_kind kind;
	int host; /* 0 client, 1 server */
	uint64_t t;
	uint8_t flags;
	uint32_t seq, ack;
	enum synack_tcp_state to;
};

static struct ev evs[4096];
static size_t n_evs;

static void rec(void *ctx, const struct synack_trace_event *e)
{
	if (n_evs == sizeof(evs) / sizeof(evs[0]))
		return;
	struct ev *v = &evs[n_evs++];
	v->kind = e->kind;
	v->host = e->host && strcmp(e->host, "server") == 0;
	v->t = e->t_us;
	v->flags = e->seg ? e->seg->flags : 0;
	v->seq = e->seg ? e->seg->seq : 0;
	v->ack = e->seg ? e->seg->ack : 0;
	v->to = e->to;
}

/* The first event of kind on host with exactly these flags (any flags when flags == 0xff). */
static const struct ev *find(enum synack_trace_kind kind, int host, uint8_t flags, size_t from)
{
	for (size_t i = from; i < n_evs; i++)
		if (evs[i].kind == kind && evs[i].host == host &&
		    (flags == 0xff || evs[i].flags == flags))
			return &evs[i];
	return NULL;
}

static const struct ev *find_state(int host, enum synack_tcp_state to)
{
	for (size_t i = 0; i < n_evs; i++)
		if (evs[i].kind == SYNACK_TRACE_STATE && evs[i].host == host && evs[i].to == to)
			return &evs[i];
	return NULL;
}

static struct synack_sim *sim;
static struct synack_stack *cli, *srv;
static int lfd; /* the server's listener */

static void cfg_for(struct synack_config *c, int server)
{
	synack_config_default(c);
	c->name = server ? "server" : "client";
	synack_config_add_addr(c, synack_addr_v4(server ? SERVER : CLIENT), 24);
	c->trace = rec;
}

/* A client and a server (listening on :80) with the given options. */
static void world(uint64_t seed, const struct synack_sim_host_opts *oc,
		  const struct synack_sim_host_opts *os)
{
	n_evs = 0;
	struct synack_config c;
	cr_assert_eq(synack_sim_new(&sim, seed), 0);
	cfg_for(&c, 0);
	cr_assert_eq(synack_sim_add_host(sim, &c, oc, &cli), 0);
	cfg_for(&c, 1);
	cr_assert_eq(synack_sim_add_host(sim, &c, os, &srv), 0);
	lfd = synack_socket(srv);
	struct synack_endpoint ep = {synack_addr_v4(SERVER), 80};
	cr_assert_eq(synack_bind(srv, lfd, &ep), 0);
	cr_assert_eq(synack_listen(srv, lfd, 8), 0);
}

static void teardown(void)
{
	synack_sim_destroy(sim);
	sim = NULL;
}

static int connect_client(void)
{
	int fd = synack_socket(cli);
	struct synack_endpoint ep = {synack_addr_v4(SERVER), 80};
	cr_assert_eq(synack_connect(cli, fd, &ep), -EINPROGRESS);
	return fd;
}

Test(sim, the_clock_jumps_from_event_to_event, .fini = teardown)
{
	struct synack_sim_host_opts o = {.path = {.delay_us = 1000}};
	world(1, &o, &o);
	connect_client();
	cr_assert_eq(synack_sim_now(sim), 0);
	cr_assert_eq(synack_sim_next_event(sim), 1000, "the SYN lands at 1000");
	cr_assert(synack_sim_step(sim, SYNACK_TIME_NEVER));
	cr_assert_eq(synack_sim_now(sim), 1000);
	cr_assert(synack_sim_step(sim, SYNACK_TIME_NEVER));
	cr_assert_eq(synack_sim_now(sim), 2000, "the SYN-ACK lands at 2000");
	cr_assert(synack_sim_step(sim, SYNACK_TIME_NEVER));
	cr_assert_eq(synack_sim_now(sim), 3000, "the ACK lands at 3000");

	const struct ev *syn = find(SYNACK_TRACE_TX, 0, SYNACK_TH_SYN, 0);
	const struct ev *syn_rx = find(SYNACK_TRACE_RX, 1, SYNACK_TH_SYN, 0);
	const struct ev *sa_tx = find(SYNACK_TRACE_TX, 1, SYNACK_TH_SYN | SYNACK_TH_ACK, 0);
	const struct ev *sa_rx = find(SYNACK_TRACE_RX, 0, SYNACK_TH_SYN | SYNACK_TH_ACK, 0);
	cr_assert(syn && syn_rx && sa_tx && sa_rx);
	cr_assert_eq(syn->t, 0);
	cr_assert_eq(syn_rx->t, 1000);
	cr_assert_eq(sa_tx->t, 1000, "answered at once");
	cr_assert_eq(sa_rx->t, 2000);
	cr_assert_eq(sa_tx->ack, syn->seq + 1);
	cr_assert_eq(find_state(0, SYNACK_ESTABLISHED)->t, 2000);
	cr_assert_eq(find_state(1, SYNACK_ESTABLISHED)->t, 3000);
	cr_assert_eq(synack_stack_now(srv), 3000, "stacks follow the simulation's clock");
	cr_assert_eq(synack_stack_now(cli), 3000);
}

Test(sim, step_without_events_moves_the_clock_to_the_limit, .fini = teardown)
{
	world(1, NULL, NULL);
	cr_assert_eq(synack_sim_next_event(sim), SYNACK_TIME_NEVER);
	cr_assert_not(synack_sim_step(sim, 5000));
	cr_assert_eq(synack_sim_now(sim), 5000);
	cr_assert_eq(synack_stack_now(cli), 5000);
	cr_assert_not(synack_sim_step(sim, SYNACK_TIME_NEVER));
	cr_assert_eq(synack_sim_now(sim), 5000, "no event, no limit: the clock stays");
	synack_sim_run_until(sim, 2000000);
	cr_assert_eq(synack_sim_now(sim), 2000000);
}

Test(sim, timers_fire_on_the_virtual_clock, .fini = teardown)
{
	/* The server's host drops everything it is sent: SYN retries at 1, 3, 7, ... s. */
	struct synack_fault_params drop_all = {.loss = 1.0};
	struct synack_sim_host_opts oc = {.path = {.delay_us = 1000}, .fault = &drop_all};
	world(1, &oc, NULL);
	connect_client();
	synack_sim_run_until(sim, 3500000);
	cr_assert_eq(synack_sim_now(sim), 3500000);
	size_t syns = 0, from = 0;
	uint64_t at[3] = {0, 1000000, 3000000};
	const struct ev *e;
	while ((e = find(SYNACK_TRACE_TX, 0, SYNACK_TH_SYN, from)) != NULL) {
		cr_assert_lt(syns, 3);
		cr_assert_eq(e->t, at[syns], "SYN %zu at %llu", syns, (unsigned long long)e->t);
		syns++;
		from = (size_t)(e - evs) + 1;
	}
	cr_assert_eq(syns, 3);
	cr_assert_not_null(find(SYNACK_TRACE_LOST, 0, SYNACK_TH_SYN, 0),
			   "the fault decorator reports to the host's trace sink");
}

static bool drop_first_syn(void *ctx, const uint8_t *frame, size_t len, uint64_t now)
{
	int *n = ctx;
	struct synack_ipv4 ip;
	struct synack_tcp_seg seg;
	const uint8_t *p;
	size_t pl;
	if (synack_ipv4_parse(frame, len, &ip, &p, &pl) ||
	    synack_tcp_parse(p, pl, ST_V4(ip.src), ST_V4(ip.dst), false, &seg))
		return false;
	return seg.flags == SYNACK_TH_SYN && (*n)++ == 0;
}

Test(sim, a_lost_syn_is_retransmitted_after_the_initial_rto, .fini = teardown)
{
	int drops = 0;
	struct synack_fault_params f = {.drop_if = drop_first_syn, .drop_ctx = &drops};
	struct synack_sim_host_opts oc = {.path = {.delay_us = 1000}, .fault = &f};
	struct synack_sim_host_opts os = {.path = {.delay_us = 1000}};
	world(1, &oc, &os);
	connect_client();
	synack_sim_run_until(sim, 5000000);
	cr_assert_eq(drops, 2, "drop_if saw both SYNs, dropped the first");
	const struct ev *lost = find(SYNACK_TRACE_LOST, 0, SYNACK_TH_SYN, 0);
	cr_assert_not_null(lost);
	cr_assert_eq(lost->t, 0);
	cr_assert_eq(find(SYNACK_TRACE_RX, 1, SYNACK_TH_SYN, 0)->t, 1001000);
	cr_assert_eq(find_state(0, SYNACK_ESTABLISHED)->t, 1002000);
}

Test(sim, reordered_frames_are_released_on_time, .fini = teardown)
{
	struct synack_fault_params f = {.reorder = 1.0, .reorder_delay_us = 500};
	struct synack_sim_host_opts oc = {.path = {.delay_us = 1000}, .fault = &f};
	struct synack_sim_host_opts os = {.path = {.delay_us = 1000}};
	world(1, &oc, &os);
	connect_client();
	cr_assert_eq(synack_sim_next_event(sim), 500, "the held SYN is an event");
	synack_sim_run_until(sim, 10000);
	cr_assert_eq(find(SYNACK_TRACE_REORDER, 0, SYNACK_TH_SYN, 0)->t, 0);
	cr_assert_eq(find(SYNACK_TRACE_RX, 1, SYNACK_TH_SYN, 0)->t, 1500);
	cr_assert_eq(find_state(1, SYNACK_ESTABLISHED)->t, 1500 + 1000 + 500 + 1000);
}

Test(sim, identities_derive_from_the_seed_unless_given)
{
	struct synack_config c, got[4];
	struct synack_stack *s[4];
	for (int w = 0; w < 2; w++) {
		cr_assert_eq(synack_sim_new(&sim, 77), 0);
		for (int i = 0; i < 2; i++) {
			cfg_for(&c, i);
			cr_assert_eq(synack_sim_add_host(sim, &c, NULL, &s[i]), 0);
			synack_stack_get_config(s[i], &got[w * 2 + i]);
		}
		teardown();
	}
	static const uint8_t zero[16];
	cr_assert_neq(got[0].seed, 0);
	cr_assert_neq(got[0].seed, got[1].seed, "hosts get different seeds");
	cr_assert_neq(memcmp(got[0].secret, zero, 16), 0);
	cr_assert_neq(memcmp(got[0].secret, got[1].secret, 16), 0);
	cr_assert_eq(got[0].seed, got[2].seed, "the same simulation seed gives the same ones");
	cr_assert_arr_eq(got[1].secret, got[3].secret, 16);

	cr_assert_eq(synack_sim_new(&sim, 77), 0);
	cfg_for(&c, 0);
	c.seed = 12345;
	cr_assert_eq(synack_sim_add_host(sim, &c, NULL, &s[0]), 0);
	synack_stack_get_config(s[0], &got[0]);
	cr_assert_eq(got[0].seed, 12345, "an explicit seed is kept");
	cr_assert_arr_eq(got[0].secret, zero, 16, "and so is the secret given with it");
	teardown();
}

Test(sim, add_host_errors, .fini = teardown)
{
	world(1, NULL, NULL);
	struct synack_config c;
	struct synack_stack *s = NULL;
	cfg_for(&c, 1);
	cr_assert_eq(synack_sim_add_host(sim, &c, NULL, &s), -EADDRINUSE);
	cfg_for(&c, 0);
	c.addrs[0].addr = synack_addr_v4(0x0a000009u);
	struct synack_sim_host_opts o = {.pcap_path = "/nonexistent-dir/x.pcap"};
	cr_assert_eq(synack_sim_add_host(sim, &c, &o, &s), -ENOENT);
	struct synack_fault_params bad = {.loss = 2};
	o = (struct synack_sim_host_opts){.fault = &bad};
	cr_assert_eq(synack_sim_add_host(sim, &c, &o, &s), -EINVAL);
	cr_assert_eq(synack_sim_add_host(sim, NULL, NULL, &s), -EINVAL);
	cr_assert_null(s);
	cr_assert_eq(synack_sim_add_host(sim, &c, NULL, &s), 0, "the address is free again");
}

/* A SYN from addr:port to the server's port 80. */
static int spoofed_syn(uint8_t *buf, size_t cap, uint32_t addr, uint16_t port)
{
	struct synack_tcp_seg seg = {.sport = port, .dport = 80, .seq = 1000,
				     .flags = SYNACK_TH_SYN, .win = 65535};
	return synack_tcp_emit(buf, cap, ST_V4(addr), ST_V4(SERVER), 1, &seg);
}

Test(sim, injected_spoofed_syn_is_answered_towards_nowhere, .fini = teardown)
{
	world(1, NULL, NULL);
	synack_sim_run_until(sim, 100);
	uint8_t f[128];
	int len = spoofed_syn(f, sizeof(f), SPOOF, 1234);
	cr_assert_gt(len, 0);
	synack_sim_inject(sim, srv, f, (size_t)len);
	const struct ev *rx = find(SYNACK_TRACE_RX, 1, SYNACK_TH_SYN, 0);
	cr_assert_not_null(rx, "the server saw the SYN");
	cr_assert_eq(rx->t, 100);
	const struct ev *sa = find(SYNACK_TRACE_TX, 1, SYNACK_TH_SYN | SYNACK_TH_ACK, 0);
	cr_assert_not_null(sa);
	cr_assert_eq(sa->ack, 1001);
	cr_assert_eq(synack_simnet_unroutable(synack_sim_net(sim)), 1,
		     "the SYN-ACK went to an address nobody has");
}

Test(sim, send_raw_routes_by_destination_without_delay, .fini = teardown)
{
	struct synack_sim_host_opts o = {.path = {.delay_us = 5000}};
	world(1, &o, &o);
	synack_sim_run_until(sim, 700);
	uint8_t f[128];
	int len = spoofed_syn(f, sizeof(f), CLIENT, 4321);
	cr_assert_eq(synack_sim_send_raw(sim, f, (size_t)len), 0);
	cr_assert_eq(synack_sim_next_event(sim), 700);
	cr_assert(synack_sim_step(sim, SYNACK_TIME_NEVER));
	const struct ev *rx = find(SYNACK_TRACE_RX, 1, SYNACK_TH_SYN, 0);
	cr_assert_not_null(rx);
	cr_assert_eq(rx->t, 700);
	/* The SYN-ACK goes to the client (which has no such connection: it answers RST). */
	synack_sim_run_until(sim, 700 + 5000);
	const struct ev *rst = find(SYNACK_TRACE_TX, 0, SYNACK_TH_RST, 0);
	cr_assert_not_null(rst);
	cr_assert_eq(rst->t, 5700, "the SYN-ACK took the server's path delay");
	int bad_len = spoofed_syn(f, sizeof(f), CLIENT, 4321);
	f[19] = 77; /* destination 10.0.0.77 */
	cr_assert_eq(synack_sim_send_raw(sim, f, (size_t)bad_len), -EHOSTUNREACH);
}

Test(sim, capture_records_a_host_and_tcpdump_reads_it)
{
	char path[] = "/tmp/synack-sim-XXXXXX";
	int tmp = mkstemp(path);
	cr_assert_geq(tmp, 0);
	close(tmp);
	struct synack_sim_host_opts oc = {.path = {.delay_us = 1000}, .pcap_path = path};
	world(1, &oc, NULL);
	int fd = connect_client();
	synack_sim_run_until(sim, 10000);
	cr_assert_eq(synack_send(cli, fd, "hi", 2, 0), 2);
	cr_assert_eq(synack_close(cli, fd), 0);
	synack_sim_run_until(sim, 20000);
	size_t frames = 0;
	for (size_t i = 0; i < n_evs; i++)
		frames += evs[i].kind == SYNACK_TRACE_TX; /* no faults: every frame arrives */
	teardown();

	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f);
	uint8_t hdr[24], rh[16], pkt[65536];
	cr_assert_eq(fread(hdr, 1, 24, f), 24);
	size_t records = 0;
	while (fread(rh, 1, 16, f) == 16) {
		uint32_t incl;
		memcpy(&incl, rh + 8, 4);
		cr_assert_eq(fread(pkt, 1, incl, f), incl);
		records++;
	}
	fclose(f);
	cr_assert_geq(frames, 6, "handshake, data, its ACK, FIN...");
	cr_assert_eq(records, frames, "the client's capture has every frame of both hosts");
	if (system("command -v tcpdump >/dev/null 2>&1") == 0) {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "tcpdump -r %s -nn >/dev/null 2>&1", path);
		cr_assert_eq(system(cmd), 0);
	} else {
		cr_log_warn("tcpdump is not installed: skipping the tcpdump read-back check");
	}
	unlink(path);
}

/* A small exchange with jitter and faults; returns a hash of the whole trace. */
static uint64_t run_hash(uint64_t seed)
{
	struct synack_fault_params f = {.loss = 0.1, .dup = 0.1, .reorder = 0.1, .corrupt = 0.1};
	struct synack_sim_host_opts o = {.path = {.delay_us = 3000, .jitter_us = 2000},
					 .fault = &f};
	world(seed, &o, &o);
	int fd = connect_client();
	static uint8_t data[20000];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	size_t sent = 0;
	while (synack_sim_step(sim, 600000000)) {
		ssize_t n = synack_send(cli, fd, data + sent, sizeof(data) - sent, 0);
		if (n > 0)
			sent += (size_t)n;
	}
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n_evs; i++) {
		uint64_t v[4] = {evs[i].kind, evs[i].t, evs[i].seq, evs[i].ack};
		for (int k = 0; k < 4; k++)
			h = (h ^ v[k]) * 1099511628211ull;
	}
	teardown();
	return h;
}

Test(sim, same_seed_same_run_byte_for_byte)
{
	uint64_t a = run_hash(3), b = run_hash(3), c = run_hash(4);
	cr_assert_eq(a, b);
	cr_assert_neq(a, c);
}

Test(sim, a_full_queue_drops_frames_and_tcp_recovers, .fini = teardown)
{
	/* Two frames in flight at most: the initial window's burst overflows the queue. */
	struct synack_sim_host_opts oc = {.path = {.delay_us = 10000, .queue_limit = 2}};
	struct synack_sim_host_opts os = {.path = {.delay_us = 10000}};
	world(1, &oc, &os);
	int fd = connect_client();
	synack_sim_run_until(sim, 100000);
	int sfd = synack_accept(srv, lfd, NULL);
	cr_assert_geq(sfd, 0);
	static uint8_t data[8000], got[8000];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 1);
	cr_assert_eq(synack_send(cli, fd, data, sizeof(data), 0), (ssize_t)sizeof(data));
	size_t n = 0;
	while (n < sizeof(data) && synack_sim_step(sim, 60000000)) {
		ssize_t r = synack_recv(srv, sfd, got + n, sizeof(got) - n, 0);
		if (r > 0)
			n += (size_t)r;
	}
	cr_assert_eq(n, sizeof(data));
	cr_assert_arr_eq(got, data, sizeof(data));
	cr_assert_gt(synack_sim_host_tx_errors(sim, cli), 0, "the burst met a full queue");
	cr_assert_eq(synack_sim_host_tx_errors(sim, srv), 0);
}

Test(sim, three_hosts_share_one_network, .fini = teardown)
{
	/* Two clients on different paths connect to one server at the same moment. */
	struct synack_sim_host_opts fast = {.path = {.delay_us = 1000}};
	struct synack_sim_host_opts slow = {.path = {.delay_us = 7000}};
	world(1, &fast, &fast);
	struct synack_config c;
	struct synack_stack *cli2;
	cfg_for(&c, 0);
	c.name = "client2";
	c.addrs[0].addr = synack_addr_v4(0x0a000003u);
	cr_assert_eq(synack_sim_add_host(sim, &c, &slow, &cli2), 0);
	int fd1 = connect_client();
	int fd2 = synack_socket(cli2);
	struct synack_endpoint ep = {synack_addr_v4(SERVER), 80};
	cr_assert_eq(synack_connect(cli2, fd2, &ep), -EINPROGRESS);
	synack_sim_run_until(sim, 1000);
	struct synack_endpoint peer;
	int a1 = synack_accept(srv, lfd, &peer);
	cr_assert_eq(a1, -EAGAIN, "nothing completed yet at 1 ms");
	synack_sim_run_until(sim, 3000); /* SYN 1 ms, SYN-ACK 1 ms, ACK 1 ms */
	a1 = synack_accept(srv, lfd, &peer);
	cr_assert_geq(a1, 0);
	cr_assert_eq(synack_addr_get_v4(&peer.addr), CLIENT);
	cr_assert_eq(synack_accept(srv, lfd, &peer), -EAGAIN);
	synack_sim_run_until(sim, 15000); /* 7 + 1 + 7 ms */
	int a2 = synack_accept(srv, lfd, &peer);
	cr_assert_geq(a2, 0);
	cr_assert_eq(synack_addr_get_v4(&peer.addr), 0x0a000003u);
	cr_assert_eq(synack_events(cli, fd1) & SYNACK_EV_WRITABLE, SYNACK_EV_WRITABLE);
	cr_assert_eq(synack_events(cli2, fd2) & SYNACK_EV_WRITABLE, SYNACK_EV_WRITABLE);
	cr_assert_eq(synack_simnet_unroutable(synack_sim_net(sim)), 0);
}
