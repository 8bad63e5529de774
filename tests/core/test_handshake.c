/* Opening a connection (RFC 9293 §3.5): the three-way handshake from both sides with exact
 * sequence numbers, the options of SYN and SYN-ACK, simultaneous open, and the old-duplicate
 * SYN cases that are the reason the handshake has three steps. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "support/segtest.h"

Test(handshake, passive_open_exact_numbers)
{
	struct segtest t;
	st_init(&t, NULL);
	int lfd = st_listen(&t, 80, 8);
	struct synack_tcp_opts o = {.has_mss = true, .mss = 1460};
	ST_IN(&t, .flags = F_S, .seq = 1000, .opts = o);
	struct st_seg sa;
	st_expect_ack(&t, F_S | F_A, 1001, &sa);
	cr_assert_eq(sa.ack, 1001, "ACK = peer's SEQ + 1: the SYN consumes one number");
	cr_assert(sa.opts.has_mss && sa.opts.mss == 1460, "SYN-ACK carries our MSS");
	cr_assert(!sa.opts.has_ts && !sa.opts.sack_ok && !sa.opts.has_wscale,
		  "a SYN-ACK only echoes options the SYN had");
	cr_assert_eq(sa.win, 64240, "Linux: largest multiple of 1460 <= 65535");
	cr_assert_eq(synack_accept(t.s, lfd, NULL), -EAGAIN, "not established yet");
	ST_IN(&t, .flags = F_A, .seq = 1001, .ack = sa.seq + 1);
	st_expect_none(&t);
	struct synack_endpoint peer;
	int fd = synack_accept(t.s, lfd, &peer);
	cr_assert_geq(fd, 0);
	cr_assert(synack_addr_eq(&peer.addr, ST_V4(ST_PEER)));
	cr_assert_eq(peer.port, ST_PEER_PORT);
	struct synack_tcp_info ti;
	synack_tcp_info(t.s, fd, &ti);
	cr_assert_eq(ti.state, SYNACK_ESTABLISHED);
	cr_assert_eq(ti.irs, 1000);
	cr_assert_eq(ti.rcv_nxt, 1001);
	cr_assert_eq(ti.snd_una, sa.seq + 1);
	cr_assert_eq(ti.snd_nxt, sa.seq + 1);
	cr_assert(st_saw_state(&t, SYNACK_LISTEN, SYNACK_SYN_RECEIVED));
	cr_assert(st_saw_state(&t, SYNACK_SYN_RECEIVED, SYNACK_ESTABLISHED));
	cr_assert_eq(st_counter(&t, SYNACK_CTR_PassiveOpens), 1);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_CurrEstab), 1);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_InSegs), 2);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_OutSegs), 1);
	st_fini(&t);
}

Test(handshake, active_open_exact_numbers_and_syn_options)
{
	struct segtest t;
	st_init(&t, NULL);
	int fd = synack_socket(t.s);
	struct synack_endpoint to = {synack_addr_v4(ST_PEER), 80};
	cr_assert_eq(synack_connect(t.s, fd, &to), -EINPROGRESS);
	cr_assert_eq(st_state(&t, fd), SYNACK_SYN_SENT);
	struct st_seg syn;
	cr_assert(st_next(&t, &syn));
	cr_assert_eq(syn.flags, F_S);
	cr_assert_eq(syn.win, 64240);
	/* Linux's SYN: MSS, SACK-permitted + TS, NOP, WS 7. */
	static const uint8_t order[] = {2, 4, 5, 0xb4, 4, 2, 8, 10};
	cr_assert_eq(syn.opts.raw_len, 20);
	cr_assert_eq(memcmp(syn.opts.raw, order, sizeof order), 0, "MSS, SACK_PERM, TS order");
	cr_assert_eq(syn.opts.raw[18], 3, "WS last (after a NOP)");
	cr_assert_eq(syn.opts.wscale, 7);
	cr_assert_eq(syn.opts.ts_ecr, 0);
	struct synack_endpoint me;
	synack_getsockname(t.s, fd, &me);
	t.lport = me.port;
	t.rport = 80;
	cr_assert_eq(synack_events(t.s, fd) & SYNACK_EV_WRITABLE, 0);
	ST_IN(&t, .flags = F_S | F_A, .seq = 5000, .ack = syn.seq + 1,
	      .opts = {.has_mss = true, .mss = 1000});
	st_expect(&t, F_A, syn.seq + 1, 5001, NULL);
	cr_assert_eq(st_state(&t, fd), SYNACK_ESTABLISHED);
	cr_assert(synack_events(t.s, fd) & SYNACK_EV_WRITABLE);
	cr_assert_eq(synack_connect(t.s, fd, &to), -EISCONN);
	struct synack_tcp_info ti;
	synack_tcp_info(t.s, fd, &ti);
	cr_assert_eq(ti.snd_mss, 1000, "the peer's smaller MSS wins");
	cr_assert(!ti.ts_ok && !ti.sack_ok && ti.snd_wscale == 0 && ti.rcv_wscale == 0,
		  "options the SYN-ACK lacked are off");
	cr_assert_eq(st_counter(&t, SYNACK_CTR_ActiveOpens), 1);
	cr_assert(st_saw_state(&t, SYNACK_CLOSED, SYNACK_SYN_SENT));
	cr_assert(st_saw_state(&t, SYNACK_SYN_SENT, SYNACK_ESTABLISHED));
	st_fini(&t);
}

Test(handshake, synack_with_all_options_echoes_them_and_window_65160)
{
	struct segtest t;
	st_init(&t, NULL);
	st_listen(&t, 80, 8);
	struct synack_tcp_opts o = {.has_mss = true, .mss = 1460, .sack_ok = true, .has_ts = true,
				    .ts_val = 777, .has_wscale = true, .wscale = 7};
	ST_IN(&t, .flags = F_S, .seq = 1, .opts = o);
	struct st_seg sa;
	st_expect_ack(&t, F_S | F_A, 2, &sa);
	cr_assert(sa.opts.has_mss && sa.opts.sack_ok && sa.opts.has_ts && sa.opts.has_wscale);
	cr_assert_eq(sa.opts.ts_ecr, 777, "TSecr echoes the SYN's TSval");
	cr_assert_eq(sa.opts.wscale, 7);
	cr_assert_eq(sa.win, 65160, "Linux: 45 * (1460 - 12) with timestamps");
	st_fini(&t);
}

Test(handshake, simultaneous_open)
{
	struct segtest t;
	st_init(&t, NULL);
	int fd = synack_socket(t.s);
	struct synack_endpoint to = {synack_addr_v4(ST_PEER), 80};
	cr_assert_eq(synack_connect(t.s, fd, &to), -EINPROGRESS);
	struct st_seg syn;
	cr_assert(st_next(&t, &syn));
	struct synack_endpoint me;
	synack_getsockname(t.s, fd, &me);
	t.lport = me.port;
	t.rport = 80;
	/* The peer's SYN crosses ours: SYN-SENT → SYN-RECEIVED, SYN-ACK <SEQ=ISS><ACK=RCV.NXT>. */
	ST_IN(&t, .flags = F_S, .seq = 300);
	st_expect(&t, F_S | F_A, syn.seq, 301, NULL);
	cr_assert_eq(st_state(&t, fd), SYNACK_SYN_RECEIVED);
	/* The peer's SYN-ACK (it did the same) acknowledges our SYN: RFC 9293 figure 7 line 6,
	 * as Linux: ESTABLISHED at once, nothing more to send. */
	ST_IN(&t, .flags = F_S | F_A, .seq = 300, .ack = syn.seq + 1);
	st_expect_none(&t);
	cr_assert_eq(st_state(&t, fd), SYNACK_ESTABLISHED);
	cr_assert_eq(synack_send(t.s, fd, "hi", 2, 0), 2);
	st_expect_data(&t, F_A | F_P, syn.seq + 1, 301, 2);
	cr_assert(st_saw_state(&t, SYNACK_SYN_SENT, SYNACK_SYN_RECEIVED));
	cr_assert(st_saw_state(&t, SYNACK_SYN_RECEIVED, SYNACK_ESTABLISHED));
	st_fini(&t);
}

Test(handshake, synack_not_acknowledging_our_syn_gets_rst)
{
	struct segtest t;
	st_init(&t, NULL);
	struct st_seg syn;
	int fd = st_start_connect(&t, &syn);
	/* RFC 9293 §3.10.7.3: SEG.ACK =< ISS → <SEQ=SEG.ACK><CTL=RST>. */
	ST_IN(&t, .flags = F_S | F_A, .seq = 900, .ack = syn.seq);
	st_expect(&t, F_R, syn.seq, 0, NULL);
	cr_assert_eq(st_state(&t, fd), SYNACK_SYN_SENT, "still waiting for the right SYN-ACK");
	/* SEG.ACK > SND.NXT likewise. */
	ST_IN(&t, .flags = F_S | F_A, .seq = 900, .ack = syn.seq + 5);
	st_expect(&t, F_R, syn.seq + 5, 0, NULL);
	cr_assert_eq(st_drops(&t, SYNACK_DROP_TCP_BAD_SYNACK), 2);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_OutRsts), 2);
	/* The right one still completes. */
	ST_IN(&t, .flags = F_S | F_A, .seq = 900, .ack = syn.seq + 1);
	st_expect(&t, F_A, syn.seq + 1, 901, NULL);
	cr_assert_eq(st_state(&t, fd), SYNACK_ESTABLISHED);
	st_fini(&t);
}

/* RFC 9293 figure 9: an old duplicate SYN reaches a listener; its SYN-ACK is answered with a
 * RST by the client, and the server's half-open entry goes back to LISTEN. */
Test(handshake, old_duplicate_syn_at_server_reset_returns_to_listen)
{
	struct segtest t;
	st_init(&t, NULL);
	int lfd = st_listen(&t, 80, 8);
	ST_IN(&t, .flags = F_S, .seq = 90);
	struct st_seg sa;
	st_expect_ack(&t, F_S | F_A, 91, &sa);
	/* The client, which never sent seq 90, resets: <SEQ=91><CTL=RST>. */
	ST_IN(&t, .flags = F_R, .seq = 91);
	st_expect_none(&t);
	cr_assert(st_saw_state(&t, SYNACK_SYN_RECEIVED, SYNACK_LISTEN));
	cr_assert_eq(st_state(&t, lfd), SYNACK_LISTEN, "the listener keeps listening");
	/* The client's real SYN now opens normally. */
	ST_IN(&t, .flags = F_S, .seq = 100);
	st_expect_ack(&t, F_S | F_A, 101, &sa);
	ST_IN(&t, .flags = F_A, .seq = 101, .ack = sa.seq + 1);
	cr_assert_geq(synack_accept(t.s, lfd, NULL), 0);
	st_fini(&t);
}

/* The client side of figure 9: in SYN-SENT, a SYN-ACK for an old SYN (ACK not acceptable)
 * draws <SEQ=SEG.ACK><CTL=RST>, and the connection carries on. */
Test(handshake, old_duplicate_synack_at_client)
{
	struct segtest t;
	st_init(&t, NULL);
	struct st_seg syn;
	int fd = st_start_connect(&t, &syn);
	ST_IN(&t, .flags = F_S | F_A, .seq = 7000, .ack = syn.seq - 1000);
	st_expect(&t, F_R, syn.seq - 1000, 0, NULL);
	cr_assert_eq(st_state(&t, fd), SYNACK_SYN_SENT);
	/* An RST whose ACK does not acknowledge our SYN is ignored. */
	ST_IN(&t, .flags = F_R | F_A, .seq = 7000, .ack = syn.seq - 1000);
	st_expect_none(&t);
	cr_assert_eq(st_state(&t, fd), SYNACK_SYN_SENT);
	st_fini(&t);
}

Test(handshake, retransmitted_syn_in_syn_received_gets_synack_again)
{
	struct segtest t;
	st_init(&t, NULL);
	st_listen(&t, 80, 8);
	ST_IN(&t, .flags = F_S, .seq = 10);
	struct st_seg sa, sa2;
	st_expect_ack(&t, F_S | F_A, 11, &sa);
	st_at(&t, 500000);
	ST_IN(&t, .flags = F_S, .seq = 10);
	st_expect(&t, F_S | F_A, sa.seq, 11, &sa2);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_RetransSegs), 1);
	st_fini(&t);
}

Test(handshake, syn_in_established_draws_challenge_ack)
{
	struct segtest t;
	st_init(&t, NULL);
	uint32_t iss;
	int fd = st_passive_open(&t, 1000, &iss);
	ST_IN(&t, .flags = F_S, .seq = 1001 + 100);
	st_expect(&t, F_A, iss + 1, 1001, NULL);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_TCPSYNChallenge), 1);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_TCPChallengeACK), 1);
	cr_assert_eq(st_state(&t, fd), SYNACK_ESTABLISHED);
	st_fini(&t);
}

Test(handshake, tiny_peer_mss_is_clamped)
{
	struct segtest t;
	st_init(&t, NULL);
	st_listen(&t, 80, 4);
	ST_IN(&t, .flags = F_S, .seq = 1, .opts = {.has_mss = true, .mss = 1, .has_ts = true, .ts_val = 5});
	struct st_seg sa;
	st_expect_ack(&t, F_S | F_A, 2, &sa);
	ST_IN(&t, .flags = F_A, .seq = 2, .ack = sa.seq + 1, .opts = {.has_ts = true, .ts_val = 6});
	int fd = synack_accept(t.s, 0, NULL);
	struct synack_tcp_info ti;
	synack_tcp_info(t.s, fd, &ti);
	cr_assert_eq(ti.snd_mss, 36, "Linux's minimum of 48, less 12 for timestamps");
	cr_assert_eq(synack_send(t.s, fd, "0123456789012345678901234567890123456789", 40, 0), 40);
	st_expect_data(&t, F_A, sa.seq + 1, 2, 36);
	st_fini(&t);
}
