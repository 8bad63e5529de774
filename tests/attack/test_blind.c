/* Blind in-window attacks (RFC 5961) on the simulated network: an off-path attacker knows the
 * 4-tuple of an established connection (client 10.0.0.1:port -> server 10.0.0.2:80) but not
 * its sequence numbers, and sprays spoofed segments at the server across the sequence space.
 *
 *   - RSTs one receive window apart cover all 2^32 sequence numbers (the pre-RFC 5961 attack,
 *     which needed only 2^32/RCV.WND packets): none resets the connection, because only an
 *     RST whose sequence number is exactly RCV.NXT does (RFC 5961 §3.2); the others draw
 *     challenge ACKs, rate limited per connection;
 *   - an attacker who knows RCV.NXT to within a window still needs the exact value: the test
 *     sweeps one number at a time and reports how many packets it took;
 *   - SYNs across the whole space never reset it (RFC 5961 §4: challenge ACK instead);
 *   - data across the whole space with guessed ACK numbers is never delivered: it needs an
 *     in-window sequence number and an acceptable ACK (RFC 5961 §5), and the stream the
 *     application reads stays exactly what the client sent. */
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

struct world {
	struct synack_sim *sim;
	struct synack_stack *srv, *cli;
	int sfd, cfd; /* the server's accepted socket, the client's */
	uint16_t cport;
	struct synack_rng rng;
	uint8_t got[65536]; /* what the server application read */
	size_t ngot;
};

static uint64_t counter(struct synack_stack *s, enum synack_counter c)
{
	struct synack_counters ctr;
	synack_stack_counters(s, &ctr);
	return ctr.v[c];
}

static void pump(struct world *w, uint64_t us)
{
	synack_sim_run_until(w->sim, synack_sim_now(w->sim) + us);
	ssize_t n;
	while ((n = synack_recv(w->srv, w->sfd, w->got + w->ngot, sizeof(w->got) - w->ngot, 0)) > 0)
		w->ngot += (size_t)n;
}

static void establish(struct world *w, uint64_t seed)
{
	memset(w, 0, sizeof(*w));
	synack_rng_seed(&w->rng, seed);
	cr_assert_eq(synack_sim_new(&w->sim, seed), 0);
	struct synack_sim_host_opts o = {.path = {.delay_us = 5000}};
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.name = "server";
	synack_config_add_addr(&cfg, synack_addr_v4(SERVER), 24);
	cr_assert_eq(synack_sim_add_host(w->sim, &cfg, &o, &w->srv), 0);
	synack_config_default(&cfg);
	cfg.name = "client";
	synack_config_add_addr(&cfg, synack_addr_v4(CLIENT), 24);
	cr_assert_eq(synack_sim_add_host(w->sim, &cfg, &o, &w->cli), 0);
	int lfd = synack_socket(w->srv);
	struct synack_endpoint ep = {synack_addr_v4(0), PORT};
	cr_assert_eq(synack_bind(w->srv, lfd, &ep), 0);
	cr_assert_eq(synack_listen(w->srv, lfd, 8), 0);
	w->cfd = synack_socket(w->cli);
	ep = (struct synack_endpoint){synack_addr_v4(SERVER), PORT};
	cr_assert_eq(synack_connect(w->cli, w->cfd, &ep), -EINPROGRESS);
	synack_sim_run_until(w->sim, 100000);
	w->sfd = synack_accept(w->srv, lfd, NULL);
	cr_assert_geq(w->sfd, 0);
	synack_close(w->srv, lfd);
	struct synack_endpoint me;
	synack_getsockname(w->cli, w->cfd, &me);
	w->cport = me.port;
	cr_assert_eq(synack_send(w->cli, w->cfd, "legitimate data 1;", 18, 0), 18);
	pump(w, 100000);
	cr_assert_eq(w->ngot, 18);
}

static struct synack_tcp_info server_info(struct world *w)
{
	struct synack_tcp_info i;
	cr_assert_eq(synack_tcp_info(w->srv, w->sfd, &i), 0);
	return i;
}

/* A spoofed segment "from the client" injected at the server's interface. */
static void spoof(struct world *w, uint8_t flags, uint32_t seq, uint32_t ack, const char *data)
{
	struct synack_tcp_seg seg = {
		.sport = w->cport,
		.dport = PORT,
		.seq = seq,
		.ack = ack,
		.flags = flags,
		.win = 502,
		.payload = (const uint8_t *)data,
		.len = data ? strlen(data) : 0,
	};
	uint8_t frame[256];
	int n = synack_tcp_emit(frame, sizeof(frame), ST_V4(CLIENT), ST_V4(SERVER), 0, &seg);
	cr_assert_gt(n, 0);
	synack_sim_inject(w->sim, w->srv, frame, (size_t)n);
}

/* The connection still carries data both ways, and the server read exactly what the client
 * sent. */
static void still_works(struct world *w)
{
	cr_assert_eq(server_info(w).state, SYNACK_ESTABLISHED);
	cr_assert_eq(synack_send(w->cli, w->cfd, "legitimate data 2;", 18, 0), 18);
	pump(w, 2000000);
	cr_assert_eq(w->ngot, 36, "server read %zu bytes", w->ngot);
	cr_assert_eq(memcmp(w->got, "legitimate data 1;legitimate data 2;", 36), 0,
		     "the stream was corrupted");
	cr_assert_eq(synack_send(w->srv, w->sfd, "pong", 4, 0), 4);
	pump(w, 2000000);
	char buf[8];
	cr_assert_eq(synack_recv(w->cli, w->cfd, buf, sizeof(buf), 0), 4);
}

/* A stride of one receive window, and a start that misses RCV.NXT exactly (the attacker does
 * not know it; the exact hit is the next test's business). */
static uint32_t window_stride(struct world *w, uint32_t *start)
{
	struct synack_tcp_info i = server_info(w);
	uint32_t stride = i.rcv_wnd;
	cr_assert_gt(stride, 1000u);
	*start = (uint32_t)synack_rng_next(&w->rng);
	if ((*start - i.rcv_nxt) % stride == 0)
		(*start)++;
	return stride;
}

Test(blind, rst_spray_over_the_whole_space_does_not_reset)
{
	struct world w;
	establish(&w, 1);
	uint32_t start, stride = window_stride(&w, &start);
	uint64_t n = ((uint64_t)1 << 32) / stride + 1, in_window = 0;
	struct synack_tcp_info before = server_info(&w);
	for (uint64_t k = 0; k < n; k++) {
		uint32_t seq = start + (uint32_t)(k * stride);
		in_window += seq - before.rcv_nxt < before.rcv_wnd;
		spoof(&w, SYNACK_TH_RST, seq, 0, NULL);
		cr_assert_eq(server_info(&w).state, SYNACK_ESTABLISHED, "reset by RST #%llu",
			     (unsigned long long)k);
	}
	uint64_t chal = counter(w.srv, SYNACK_CTR_TCPChallengeACK);
	fprintf(stderr,
		"blind: %llu RSTs %u apart cover the sequence space; %llu landed in the "
		"window (enough to reset a pre-RFC 5961 stack); %llu challenge ACKs\n",
		(unsigned long long)n, stride, (unsigned long long)in_window,
		(unsigned long long)chal);
	cr_assert_geq(in_window, 1, "the spray covered the window");
	/* RFC 5961 §3.2: an RST outside the window is dropped silently; one inside it draws a
	 * challenge ACK (rate limited: at most 1000/2 + rand(1000) + 1 per second by default). */
	cr_assert_eq(chal, in_window);
	still_works(&w);
	synack_sim_destroy(w.sim);
}

Test(blind, only_the_exact_sequence_number_resets)
{
	struct world w;
	establish(&w, 2);
	/* The attacker knows RCV.NXT lies in a window of 4,096 numbers and tries them in order. */
	struct synack_tcp_info i = server_info(&w);
	uint32_t lo = i.rcv_nxt - 1000 - (uint32_t)synack_rng_below(&w.rng, 3000);
	uint64_t sent = 0;
	for (uint32_t k = 0; k < 4096; k++) {
		spoof(&w, SYNACK_TH_RST, lo + k, 0, NULL);
		sent++;
		if (server_info(&w).state != SYNACK_ESTABLISHED)
			break;
		cr_assert_neq(lo + k, i.rcv_nxt, "the exact RST did not reset");
	}
	fprintf(stderr,
		"blind: knowing RCV.NXT to within 4,096, the attacker needed %llu RSTs "
		"(the exact one); blind it needs 2^31 on average, 2^32 at worst\n",
		(unsigned long long)sent);
	cr_assert_eq(sent, (uint64_t)(i.rcv_nxt - lo) + 1,
		     "reset by the exact match and only by it");
	int err = 0;
	size_t len = sizeof(err);
	synack_getsockopt(w.srv, w.sfd, SYNACK_SOL_SOCKET, SYNACK_SO_ERROR, &err, &len);
	cr_assert_eq(err, ECONNRESET, "SO_ERROR holds a positive errno, as on POSIX");
	synack_sim_destroy(w.sim);
}

Test(blind, syn_spray_does_not_reset)
{
	struct world w;
	establish(&w, 3);
	uint32_t start, stride = window_stride(&w, &start);
	uint64_t n = ((uint64_t)1 << 32) / stride + 1;
	for (uint64_t k = 0; k < n; k++)
		spoof(&w, SYNACK_TH_SYN, start + (uint32_t)(k * stride), 0, NULL);
	/* And the exact number too: RFC 5961 §4.2 answers a SYN "irrespective of the sequence
	 * number" with a challenge ACK. */
	spoof(&w, SYNACK_TH_SYN, server_info(&w).rcv_nxt, 0, NULL);
	cr_assert_eq(counter(w.srv, SYNACK_CTR_TCPSYNChallenge), n + 1);
	cr_assert_leq(counter(w.srv, SYNACK_CTR_TCPChallengeACK), 1500);
	fprintf(stderr, "blind: %llu SYNs across the space, none reset the connection\n",
		(unsigned long long)n + 1);
	still_works(&w);
	synack_sim_destroy(w.sim);
}

Test(blind, data_spray_with_guessed_acks_is_never_delivered)
{
	struct world w;
	establish(&w, 4);
	uint32_t start, stride = window_stride(&w, &start);
	uint64_t n = ((uint64_t)1 << 32) / stride + 1, in_window = 0;
	struct synack_tcp_info i = server_info(&w);
	for (uint64_t k = 0; k < n; k++) {
		uint32_t seq = start + (uint32_t)(k * stride);
		/* A guessed ACK that is not acceptable: RFC 5961 §5.2 wants SND.UNA - MAX.SND.WND
		 * <= SEG.ACK <= SND.NXT; outside it the segment is dropped (with an ACK). */
		uint32_t ack;
		do
			ack = (uint32_t)synack_rng_next(&w.rng);
		while (ack - (i.snd_una - (1u << 20)) <= (1u << 20) + (i.snd_nxt - i.snd_una));
		in_window += seq - i.rcv_nxt < i.rcv_wnd;
		spoof(&w, SYNACK_TH_ACK | SYNACK_TH_PSH, seq, ack, "INJECTED");
	}
	/* The one segment at the exact RCV.NXT with a wrong ACK, too. */
	spoof(&w, SYNACK_TH_ACK | SYNACK_TH_PSH, i.rcv_nxt, i.snd_nxt + 100000, "INJECTED");
	struct synack_counters c;
	synack_stack_counters(w.srv, &c);
	fprintf(stderr,
		"blind: %llu data segments across the space (%llu in the window) with "
		"unacceptable ACKs: none delivered (%llu dropped as ACKing unsent data, "
		"%llu as too old)\n",
		(unsigned long long)n + 1, (unsigned long long)in_window,
		(unsigned long long)c.drops[SYNACK_DROP_TCP_ACK_UNSENT],
		(unsigned long long)c.drops[SYNACK_DROP_TCP_ACK_OLD]);
	cr_assert_geq(in_window, 1);
	cr_assert_geq(c.drops[SYNACK_DROP_TCP_ACK_UNSENT] + c.drops[SYNACK_DROP_TCP_ACK_OLD],
		      in_window + 1, "every in-window segment was dropped for its ACK");
	still_works(&w);
	synack_sim_destroy(w.sim);
}

Test(blind, data_with_an_acceptable_ack_needs_an_in_window_sequence_number)
{
	/* The attacker has learned the ACK (say SND.NXT did not move for a while): the sequence
	 * number alone stands between it and the stream. Out-of-window data is never delivered;
	 * the first in-window guess is (this is why sequence numbers must be unpredictable:
	 * RFC 6528). The test reports how many packets it took. */
	struct world w;
	establish(&w, 5);
	struct synack_tcp_info i = server_info(&w);
	uint32_t start, stride = window_stride(&w, &start);
	uint64_t sent = 0;
	for (uint64_t k = 0; k <= ((uint64_t)1 << 32) / stride; k++) {
		uint32_t seq = start + (uint32_t)(k * stride);
		spoof(&w, SYNACK_TH_ACK | SYNACK_TH_PSH, seq, i.snd_nxt, "INJECTED");
		sent++;
		struct synack_tcp_info now = server_info(&w);
		if (now.rcv_nxt != i.rcv_nxt || counter(w.srv, SYNACK_CTR_TCPOFOQueue) > 0)
			break; /* taken: in order, or held out of order to join the stream later */
		cr_assert(seq - i.rcv_nxt >= i.rcv_wnd, "in-window data was not taken");
	}
	uint32_t last = start + (uint32_t)((sent - 1) * stride);
	cr_assert_lt(last - i.rcv_nxt, i.rcv_wnd, "taken only once in the window");
	fprintf(stderr,
		"blind: with the ACK known, %llu data segments one window apart found the "
		"window (at most %llu)\n",
		(unsigned long long)sent, (unsigned long long)(((uint64_t)1 << 32) / stride + 1));
	synack_sim_destroy(w.sim);
}

/* In-window, inexact RSTs into w's connection (whose RCV.NXT and window are rcv_nxt, wnd). */
static void inexact_rsts(struct world *w, uint16_t cport, uint32_t rcv_nxt, uint32_t n)
{
	uint16_t saved = w->cport;
	w->cport = cport;
	for (uint32_t k = 1; k <= n; k++)
		spoof(w, SYNACK_TH_RST, rcv_nxt + k, 0, NULL);
	w->cport = saved;
}

Test(blind, challenge_acks_are_limited_per_connection_with_a_random_limit)
{
	struct world w;
	establish(&w, 6);
	/* A second connection between the same hosts. */
	int lfd = synack_socket(w.srv);
	struct synack_endpoint ep = {synack_addr_v4(0), 81};
	cr_assert_eq(synack_bind(w.srv, lfd, &ep), 0);
	cr_assert_eq(synack_listen(w.srv, lfd, 8), 0);
	int c2 = synack_socket(w.cli);
	ep = (struct synack_endpoint){synack_addr_v4(SERVER), 81};
	cr_assert_eq(synack_connect(w.cli, c2, &ep), -EINPROGRESS);
	pump(&w, 100000);
	int s2 = synack_accept(w.srv, lfd, NULL);
	cr_assert_geq(s2, 0);
	struct synack_endpoint me;
	synack_getsockname(w.cli, c2, &me);
	struct synack_tcp_info i2;
	synack_tcp_info(w.srv, s2, &i2);

	/* 5,000 inexact in-window RSTs into the first connection within one instant. */
	uint32_t nxt = server_info(&w).rcv_nxt;
	inexact_rsts(&w, w.cport, nxt, 5000);
	uint64_t first = counter(w.srv, SYNACK_CTR_TCPChallengeACK);
	struct synack_counters c;
	synack_stack_counters(w.srv, &c);
	cr_assert_geq(first, 501, "at least limit/2 + 1");
	cr_assert_leq(first, 1500, "at most limit/2 + limit");
	cr_assert_eq(c.drops[SYNACK_DROP_TCP_CHALLENGE_LIMIT], 5000 - first);
	/* CVE-2016-5696: with one global budget, the second connection's challenge ACK would
	 * now be missing, telling an off-path attacker its RST hit a window. Per connection, the
	 * second connection answers as usual. */
	struct synack_tcp_seg seg = {
		.sport = me.port, .dport = 81, .seq = i2.rcv_nxt + 1, .flags = SYNACK_TH_RST};
	uint8_t frame[64];
	int n = synack_tcp_emit(frame, sizeof(frame), ST_V4(CLIENT), ST_V4(SERVER), 0, &seg);
	synack_sim_inject(w.sim, w.srv, frame, (size_t)n);
	cr_assert_eq(counter(w.srv, SYNACK_CTR_TCPChallengeACK), first + 1,
		     "the other connection still gets its challenge ACK");
	/* A second later the first connection has a new budget, drawn afresh. */
	pump(&w, 1100000);
	nxt = server_info(&w).rcv_nxt;
	inexact_rsts(&w, w.cport, nxt, 5000);
	uint64_t second = counter(w.srv, SYNACK_CTR_TCPChallengeACK) - first - 1;
	fprintf(stderr,
		"blind: challenge ACKs for 5,000 in-window RSTs: %llu in one second, "
		"%llu in the next (random limit, per connection)\n",
		(unsigned long long)first, (unsigned long long)second);
	cr_assert(second >= 501 && second <= 1500);
	cr_assert_neq(second, first, "the limit is drawn at random each second");
	cr_assert_eq(server_info(&w).state, SYNACK_ESTABLISHED);
	synack_sim_destroy(w.sim);
}

Test(blind, acks_for_bad_acknowledgments_are_throttled)
{
	/* RFC 5961 §5.2 answers in-window data whose ACK is unacceptable with an ACK; §7 asks to
	 * throttle such ACKs. 5,000 of them in one instant draw at most the per-second limit. */
	struct world w;
	establish(&w, 7);
	struct synack_tcp_info i = server_info(&w);
	uint64_t sent0 = counter(w.srv, SYNACK_CTR_OutSegs);
	for (int k = 0; k < 2500; k++) {
		spoof(&w, SYNACK_TH_ACK, i.rcv_nxt, i.snd_nxt + 1000000, NULL); /* unsent */
		spoof(&w, SYNACK_TH_ACK, i.rcv_nxt, i.snd_una - 2000000, NULL); /* too old */
	}
	uint64_t acks = counter(w.srv, SYNACK_CTR_OutSegs) - sent0;
	struct synack_counters c;
	synack_stack_counters(w.srv, &c);
	fprintf(stderr, "blind: 5,000 segments with unacceptable ACKs drew %llu ACKs\n",
		(unsigned long long)acks);
	cr_assert_eq(c.drops[SYNACK_DROP_TCP_ACK_UNSENT], 2500);
	cr_assert_eq(c.drops[SYNACK_DROP_TCP_ACK_OLD], 2500);
	cr_assert(acks >= 501 && acks <= 1500, "%llu ACKs", (unsigned long long)acks);
	cr_assert_eq(acks, counter(w.srv, SYNACK_CTR_TCPChallengeACK));
	still_works(&w);
	synack_sim_destroy(w.sim);
}
