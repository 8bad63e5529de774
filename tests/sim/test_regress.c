/* Regressions found by the simulated transfers, each as a minimal scenario (and the seed that
 * found it, replayed through the transfer harness). */
#include <criterion/criterion.h>

#include "sim/harness.h"

/* A pointer to the IPv4 address x (host order) as a synack_addr, for the codec. */
#define ST_V4(x) (&(const struct synack_addr[1]){synack_addr_v4(x)}[0])

/* ---- 1. a pure ACK sent after a retransmission timeout must carry SND.MAX ----------------
 * Found by profile "combined" (loss 3%, dup 3%, reorder 5%, corrupt 3%), seed 1: both peers
 * had timed out and rewound SND.NXT to SND.UNA; each sent pure ACKs with seq = SND.NXT, below
 * what the other had already received, so each found the other's ACKs unacceptable
 * (RFC 9293 §3.10.7.4: a zero-length segment needs RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND)
 * and answered with an ACK of its own: an ACK war until retries ran out (ETIMEDOUT). */

struct tx_log {
	bool retx_seen;
	size_t n;
	struct {
		uint32_t seq, ack;
		size_t len;
		uint8_t flags;
	} tx[256];
};

static void client_tx(void *ctx, const struct synack_trace_event *ev)
{
	struct tx_log *l = ctx;
	if (ev->kind != SYNACK_TRACE_TX || !ev->seg)
		return;
	l->retx_seen |= ev->retx;
	if (l->n < sizeof(l->tx) / sizeof(l->tx[0])) {
		l->tx[l->n].seq = ev->seg->seq;
		l->tx[l->n].ack = ev->seg->ack;
		l->tx[l->n].len = ev->seg->len;
		l->tx[l->n].flags = ev->seg->flags;
		l->n++;
	}
}

static bool server_mute;

static bool drop_when_muted(void *ctx, const uint8_t *frame, size_t len, uint64_t now)
{
	return server_mute;
}

/* A client whose three segments reached the server but whose ACKs never came back, after
 * its retransmission timeout went back to the first one. (The engine now keeps SND.NXT and
 * retransmits from a separate pointer, engine commit d0f540d; these tests hold any design
 * to the wire behaviour.) */
struct rewound {
	struct synack_sim *sim;
	struct synack_stack *cli, *srv;
	int fd, sfd;
	struct synack_tcp_info ci, si;
	uint32_t snd_max;
	struct tx_log log;
};

static void rewound_setup(struct rewound *w)
{
	memset(w, 0, sizeof(*w));
	cr_assert_eq(synack_sim_new(&w->sim, 1), 0);
	struct synack_config c;
	synack_config_default(&c);
	c.timestamps = false; /* keep the hand-made segments below simple */
	c.window_scaling = false;
	c.name = "client";
	synack_config_add_addr(&c, synack_addr_v4(H_CLIENT_ADDR), 24);
	c.trace = client_tx;
	c.trace_ctx = &w->log;
	struct synack_sim_host_opts o = {.path = {.delay_us = 10000}};
	cr_assert_eq(synack_sim_add_host(w->sim, &c, &o, &w->cli), 0);
	c.name = "server";
	c.addrs[0].addr = synack_addr_v4(H_SERVER_ADDR);
	c.trace = NULL;
	static const struct synack_fault_params mute = {.drop_if = drop_when_muted};
	struct synack_sim_host_opts os = {.path = {.delay_us = 10000}, .fault = &mute};
	cr_assert_eq(synack_sim_add_host(w->sim, &c, &os, &w->srv), 0);

	struct synack_endpoint ep = {synack_addr_v4(H_SERVER_ADDR), H_PORT};
	int l = synack_socket(w->srv);
	cr_assert_eq(synack_bind(w->srv, l, &ep), 0);
	cr_assert_eq(synack_listen(w->srv, l, 4), 0);
	w->fd = synack_socket(w->cli);
	cr_assert_eq(synack_connect(w->cli, w->fd, &ep), -EINPROGRESS);
	server_mute = false;
	synack_sim_run_until(w->sim, 100000);
	w->sfd = synack_accept(w->srv, l, NULL);
	cr_assert_geq(w->sfd, 0);

	server_mute = true;
	static uint8_t data[3 * 1460];
	cr_assert_eq(synack_send(w->cli, w->fd, data, sizeof(data), 0), (ssize_t)sizeof(data));
	while (!w->log.retx_seen && synack_sim_step(w->sim, 10000000))
		;
	cr_assert(w->log.retx_seen, "the client retransmitted after its RTO");
	cr_assert_eq(synack_tcp_info(w->cli, w->fd, &w->ci), 0);
	cr_assert_eq(synack_tcp_info(w->srv, w->sfd, &w->si), 0);
	w->snd_max = w->ci.iss + 1 + (uint32_t)sizeof(data);
	cr_assert_eq(w->si.rcv_nxt, w->snd_max, "the server holds all the data");
	cr_assert_eq(w->ci.snd_una, w->ci.iss + 1, "none of it acknowledged");
}

Test(regress, pure_ack_after_rto_carries_snd_max)
{
	struct rewound w;
	rewound_setup(&w);
	/* New data from the server (its ACK field still stale) makes the client ACK it. */
	uint8_t frame[128];
	static const uint8_t hello[10] = "0123456789";
	struct synack_tcp_seg seg = {.sport = H_PORT, .dport = w.ci.local.port,
				     .seq = w.si.snd_nxt, .ack = w.ci.iss + 1,
				     .flags = SYNACK_TH_ACK | SYNACK_TH_PSH, .win = 65535,
				     .payload = hello, .len = sizeof(hello)};
	int len = synack_tcp_emit(frame, sizeof(frame), ST_V4(H_SERVER_ADDR), ST_V4(H_CLIENT_ADDR),
				  99, &seg);
	cr_assert_gt(len, 0);
	size_t before = w.log.n;
	synack_sim_inject(w.sim, w.cli, frame, (size_t)len);
	synack_sim_run_until(w.sim, synack_sim_now(w.sim) + 300000); /* past any delayed ACK */
	size_t i = before;
	while (i < w.log.n && !(w.log.tx[i].len == 0 && w.log.tx[i].ack == w.si.snd_nxt + 10))
		i++;
	cr_assert_lt(i, w.log.n, "the client acknowledged the new data");
	cr_assert_eq(w.log.tx[i].seq, w.snd_max,
		     "a pure ACK carries SND.MAX (%u), the peer's RCV.NXT, not the rewound "
		     "SND.NXT: it had %u",
		     w.snd_max, w.log.tx[i].seq);
	synack_sim_destroy(w.sim);
}

/* ---- 2. so does a RST that aborts the connection -------------------------------------------
 * The peer accepts a RST only if its sequence number is exactly RCV.NXT (RFC 5961 §3.2);
 * otherwise it answers with a challenge ACK and the connection lives on. */
Test(regress, abort_after_rto_resets_the_peer)
{
	struct rewound w;
	rewound_setup(&w);
	struct synack_linger lg = {1, 0};
	cr_assert_eq(synack_setsockopt(w.cli, w.fd, SYNACK_SOL_SOCKET, SYNACK_SO_LINGER, &lg,
				       sizeof(lg)),
		     0);
	size_t before = w.log.n;
	cr_assert_eq(synack_close(w.cli, w.fd), 0);
	size_t i = before;
	while (i < w.log.n && !(w.log.tx[i].flags & SYNACK_TH_RST))
		i++;
	cr_assert_lt(i, w.log.n, "SO_LINGER 0: close sends a RST");
	cr_assert_eq(w.log.tx[i].seq, w.snd_max, "RST at SND.MAX (%u), not %u", w.snd_max,
		     w.log.tx[i].seq);
	synack_sim_run_until(w.sim, synack_sim_now(w.sim) + 100000);
	uint8_t b[8];
	cr_assert_eq(synack_recv(w.srv, w.sfd, b, sizeof(b), 0), 8, "the data is still there");
	ssize_t n;
	while ((n = synack_recv(w.srv, w.sfd, b, sizeof(b), 0)) > 0)
		;
	cr_assert_eq(n, -ECONNRESET, "the server's connection was reset");
	synack_sim_destroy(w.sim);
}

Test(regress, combined_seed_1_completes)
{
	const struct h_profile p = {
		.name = "combined",
		.path = {.delay_us = 5000, .jitter_us = 1000, .bandwidth_bps = 20000000},
		.faults = true,
		.fault = {.loss = 0.03, .dup = 0.03, .reorder = 0.05, .corrupt = 0.03,
			  .reorder_delay_us = 2000},
		.syn_retries = 8, .synack_retries = 8};
	struct h_result r;
	h_transfer(&p, 1, 1u << 20, H_CONCURRENT, &r);
	cr_assert(r.ok, "%s", r.why);
}
