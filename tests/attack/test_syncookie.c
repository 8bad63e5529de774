/* SYN cookies at a listener, segment by segment (tcp_syncookie.c over cookie.c): the
 * stateless SYN-ACK, the connection a valid cookie ACK creates (with data on it), the options
 * that survive with and without timestamps, the modes 0/1/2, and every forged, stale or
 * unexpected ACK answered as a segment without a connection. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "core/cookie.h"
#include "support/segtest.h"

#define P SYNACK_COOKIE_PERIOD_US
#define T0 1000000ull /* segtest's clock starts near zero; cookies care about 64 s periods */

static const struct synack_tuple tup = {
	.laddr = {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 2}},
	.raddr = {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1}},
	.lport = ST_SERVER_PORT,
	.rport = ST_PEER_PORT};

static void init_mode(struct segtest *t, int mode, int backlog, int *lfd)
{
	struct synack_config cfg;
	st_config(&cfg);
	cfg.syncookies = (uint8_t)mode;
	st_init(t, &cfg);
	st_at(t, T0);
	*lfd = st_listen(t, ST_SERVER_PORT, backlog);
}

/* A Linux-like SYN: MSS, SACK-permitted, TS, window scale `ws`. */
static struct synack_tcp_opts linux_syn_opts(uint16_t mss, uint8_t ws, uint32_t tsval)
{
	return (struct synack_tcp_opts){.has_mss = true,
					.mss = mss,
					.sack_ok = true,
					.has_ts = true,
					.ts_val = tsval,
					.has_wscale = true,
					.wscale = ws};
}

static struct synack_tcp_opts ts_opts(uint32_t val, uint32_t ecr)
{
	return (struct synack_tcp_opts){.has_ts = true, .ts_val = val, .ts_ecr = ecr};
}

Test(syncookie, mode2_answers_every_syn_statelessly)
{
	struct segtest t;
	int lfd;
	init_mode(&t, 2, 128, &lfd);
	size_t blocks = synack_stack_live_allocs(t.s), bytes = synack_stack_live_bytes(t.s);
	ST_IN(&t, .flags = F_S, .seq = 1000, .opts = linux_syn_opts(1460, 6, 777));
	struct st_seg sa;
	st_expect_ack(&t, F_S | F_A, 1001, &sa);
	cr_assert_eq(synack_cookie_check(t.cfg.secret, &tup, 1001, sa.seq + 1, t.now), 1460,
		     "the ISS is a cookie for this tuple and MSS 1460");
	cr_assert(sa.opts.has_mss && sa.opts.mss == 1460);
	cr_assert(sa.opts.sack_ok && sa.opts.has_wscale && sa.opts.wscale == 7);
	cr_assert(sa.opts.has_ts && sa.opts.ts_ecr == 777);
	cr_assert_eq(sa.opts.ts_val & 0x3f, 0x16u, "low 6 bits: wscale 6, SACK, no ECN");
	cr_assert_eq(sa.win, 65160, "Linux's SYN-ACK window with timestamps");
	cr_assert_eq(st_count_state(&t, SYNACK_SYN_RECEIVED), 0, "no half-open state");
	cr_assert_eq(synack_stack_live_allocs(t.s), blocks, "nothing allocated");
	cr_assert_eq(synack_stack_live_bytes(t.s), bytes);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_SyncookiesSent), 1);
	st_fini(&t);
}

Test(syncookie, valid_ack_with_data_creates_established_connection)
{
	struct segtest t;
	int lfd;
	init_mode(&t, 2, 128, &lfd);
	ST_IN(&t, .flags = F_S, .seq = 1000, .opts = linux_syn_opts(1460, 6, 777));
	struct st_seg sa;
	st_expect_ack(&t, F_S | F_A, 1001, &sa);
	st_at(&t, T0 + 30000);
	ST_IN(&t, .flags = F_A | F_P, .seq = 1001, .ack = sa.seq + 1, .win = 502,
	      .opts = ts_opts(790, sa.opts.ts_val), .data = "hello", .len = 5);
	struct st_seg ack;
	st_expect(&t, F_A, sa.seq + 1, 1006, &ack);
	cr_assert(ack.opts.has_ts && ack.opts.ts_ecr == 790);
	cr_assert_geq(ack.opts.ts_val - sa.opts.ts_val, 30u, "TSval continues the SYN-ACK's clock");
	cr_assert_lt(ack.opts.ts_val - sa.opts.ts_val, 30u + 64u);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_SyncookiesRecv), 1);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_PassiveOpens), 1);

	struct synack_endpoint peer;
	int fd = synack_accept(t.s, lfd, &peer);
	cr_assert_geq(fd, 0);
	cr_assert_eq(synack_addr_get_v4(&peer.addr), ST_PEER);
	cr_assert(synack_addr_is_v4(&peer.addr));
	cr_assert_eq(peer.port, ST_PEER_PORT);
	struct synack_tcp_info info;
	cr_assert_eq(synack_tcp_info(t.s, fd, &info), 0);
	cr_assert_eq(info.state, SYNACK_ESTABLISHED);
	cr_assert_eq(info.iss, sa.seq);
	cr_assert_eq(info.irs, 1000);
	cr_assert_eq(info.snd_una, sa.seq + 1);
	cr_assert_eq(info.snd_mss, 1460 - 12, "MSS 1460 from the table, less the TS option");
	cr_assert_eq(info.snd_wscale, 6, "the peer's shift, remembered in the timestamp");
	cr_assert_eq(info.rcv_wscale, 7, "the shift our SYN-ACK announced");
	cr_assert_eq(info.snd_wnd, 502u << 6);
	cr_assert(info.sack_ok && info.ts_ok);
	char buf[16];
	cr_assert_eq(synack_recv(t.s, fd, buf, sizeof buf, 0), 5);
	cr_assert_eq(memcmp(buf, "hello", 5), 0);
	cr_assert_eq(synack_send(t.s, fd, "world", 5, 0), 5);
	st_expect_data(&t, F_A | F_P, sa.seq + 1, 1006, 5);
	st_fini(&t);
}

Test(syncookie, without_timestamps_only_the_table_mss_survives)
{
	struct segtest t;
	int lfd;
	init_mode(&t, 2, 128, &lfd);
	struct synack_tcp_opts o = {
		.has_mss = true, .mss = 1400, .sack_ok = true, .has_wscale = true, .wscale = 6};
	ST_IN(&t, .flags = F_S, .seq = 50, .opts = o);
	struct st_seg sa;
	st_expect_ack(&t, F_S | F_A, 51, &sa);
	cr_assert(sa.opts.has_mss && sa.opts.mss == 1460, "we still announce our MSS");
	cr_assert(!sa.opts.has_ts && !sa.opts.sack_ok && !sa.opts.has_wscale,
		  "without a timestamp the cookie cannot keep SACK or window scale: not offered");
	cr_assert_eq(sa.win, 64240);
	ST_IN(&t, .flags = F_A, .seq = 51, .ack = sa.seq + 1, .win = 1000);
	st_expect_none(&t);
	int fd = synack_accept(t.s, lfd, NULL);
	cr_assert_geq(fd, 0);
	struct synack_tcp_info info;
	synack_tcp_info(t.s, fd, &info);
	cr_assert_eq(info.snd_mss, 1300, "1400 rounds down to the table's 1300");
	cr_assert_eq(info.snd_wscale, 0);
	cr_assert_eq(info.rcv_wscale, 0);
	cr_assert_eq(info.snd_wnd, 1000u, "unscaled");
	cr_assert(!info.sack_ok && !info.ts_ok);
	st_fini(&t);
}

Test(syncookie, every_mss_and_option_combination_round_trips)
{
	static const uint16_t mss[] = {536, 1300, 1440, 1460, 9000, 100};
	static const uint16_t want[] = {536, 1300, 1440, 1460, 1460, 536};
	for (size_t m = 0; m < sizeof(mss) / sizeof(mss[0]); m++)
		for (unsigned combo = 0; combo < 4; combo++) {
			struct segtest t;
			int lfd;
			init_mode(&t, 2, 128, &lfd);
			struct synack_tcp_opts o = {.has_mss = true,
						    .mss = mss[m],
						    .sack_ok = combo & 1,
						    .has_wscale = combo & 2,
						    .wscale = 3,
						    .has_ts = true,
						    .ts_val = 9};
			ST_IN(&t, .flags = F_S, .seq = 7, .opts = o);
			struct st_seg sa;
			st_expect_ack(&t, F_S | F_A, 8, &sa);
			ST_IN(&t, .flags = F_A, .seq = 8, .ack = sa.seq + 1,
			      .opts = ts_opts(10, sa.opts.ts_val));
			int fd = synack_accept(t.s, lfd, NULL);
			cr_assert_geq(fd, 0, "mss %u combo %u", mss[m], combo);
			struct synack_tcp_info info;
			synack_tcp_info(t.s, fd, &info);
			cr_assert_eq(info.snd_mss, want[m] - 12u, "mss %u", mss[m]);
			cr_assert_eq(info.sack_ok, (bool)(combo & 1));
			cr_assert_eq(info.snd_wscale, (combo & 2) ? 3 : 0);
			cr_assert_eq(info.rcv_wscale, (combo & 2) ? 7 : 0);
			st_fini(&t);
		}
}

/* Sends the ACK (seq, ack) to the listener and asserts it is answered as a segment without a
 * connection: <SEQ=SEG.ACK><CTL=RST>, no connection, SyncookiesFailed counted `failed`. */
static void expect_rejected(struct segtest *t, int lfd, uint32_t seq, uint32_t ack, uint64_t failed)
{
	ST_IN(t, .flags = F_A, .seq = seq, .ack = ack);
	st_expect(t, F_R, ack, 0, NULL);
	cr_assert_eq(synack_accept(t->s, lfd, NULL), -EAGAIN);
	cr_assert_eq(st_count_state(t, SYNACK_ESTABLISHED), 0);
	cr_assert_eq(st_counter(t, SYNACK_CTR_SyncookiesFailed), failed);
	cr_assert_eq(st_counter(t, SYNACK_CTR_SyncookiesRecv), 0);
}

Test(syncookie, forged_cookies_never_create_a_connection)
{
	struct segtest t;
	int lfd;
	init_mode(&t, 2, 128, &lfd);
	ST_IN(&t, .flags = F_S, .seq = 1000);
	struct st_seg sa;
	st_expect_ack(&t, F_S | F_A, 1001, &sa);
	expect_rejected(&t, lfd, 1001, sa.seq + 1 + 4, 1);    /* wrong hash */
	expect_rejected(&t, lfd, 1001 + 4096, sa.seq + 1, 2); /* another peer ISN */
	uint32_t count = synack_cookie_counter(t.now);
	uint32_t stale = synack_cookie_make_raw(t.cfg.secret, &tup, 1000, count - 2, 0);
	expect_rejected(&t, lfd, 1001, stale + 1, 3); /* two periods old */
	uint32_t badidx = synack_cookie_make_raw(t.cfg.secret, &tup, 1000, count, 4);
	expect_rejected(&t, lfd, 1001, badidx + 1, 4); /* MSS index outside the table */
	uint8_t other[16];
	memcpy(other, t.cfg.secret, 16);
	other[3] ^= 0x10;
	uint32_t wrongkey = synack_cookie_make_raw(other, &tup, 1000, count, 3);
	expect_rejected(&t, lfd, 1001, wrongkey + 1, 5); /* another stack's secret */
	/* The genuine one still works. */
	ST_IN(&t, .flags = F_A, .seq = 1001, .ack = sa.seq + 1);
	cr_assert_geq(synack_accept(t.s, lfd, NULL), 0);
	st_fini(&t);
}

Test(syncookie, a_cookie_expires_after_two_periods)
{
	struct segtest t;
	int lfd;
	init_mode(&t, 2, 128, &lfd);
	ST_IN(&t, .flags = F_S, .seq = 1000);
	struct st_seg sa;
	st_expect_ack(&t, F_S | F_A, 1001, &sa);
	/* Keep the listener's cookies "recent" with another SYN, then present the old cookie
	 * two counter periods later. */
	uint64_t later = (synack_cookie_counter(T0) + 2) * P;
	st_at(&t, later);
	ST_IN(&t, .flags = F_S, .seq = 5, .sport = 1234);
	st_expect_ack(&t, F_S | F_A, 6, NULL);
	expect_rejected(&t, lfd, 1001, sa.seq + 1, 1);
	st_fini(&t);
}

Test(syncookie, mode1_cookies_only_when_the_syn_queue_is_full)
{
	struct segtest t;
	int lfd;
	init_mode(&t, 1, 1, &lfd);
	ST_IN(&t, .flags = F_S, .seq = 100, .sport = 2001);
	struct st_seg q;
	st_expect_ack(&t, F_S | F_A, 101, &q);
	cr_assert_eq(st_count_state(&t, SYNACK_SYN_RECEIVED), 1, "queued the normal way");
	cr_assert_eq(st_counter(&t, SYNACK_CTR_SyncookiesSent), 0);
	ST_IN(&t, .flags = F_S, .seq = 200, .sport = 2002);
	struct st_seg c;
	st_expect_ack(&t, F_S | F_A, 201, &c);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_SyncookiesSent), 1, "queue full: a cookie");
	cr_assert_eq(st_count_state(&t, SYNACK_SYN_RECEIVED), 1);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_ListenDrops), 0);
	ST_IN(&t, .flags = F_A, .seq = 201, .ack = c.seq + 1, .sport = 2002);
	ST_IN(&t, .flags = F_A, .seq = 101, .ack = q.seq + 1, .sport = 2001);
	cr_assert_geq(synack_accept(t.s, lfd, NULL), 0);
	cr_assert_geq(synack_accept(t.s, lfd, NULL), 0);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_SyncookiesRecv), 1);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_PassiveOpens), 2);
	st_expect_none(&t);
	st_fini(&t);
}

Test(syncookie, mode0_drops_and_never_checks)
{
	struct segtest t;
	int lfd;
	init_mode(&t, 0, 1, &lfd);
	ST_IN(&t, .flags = F_S, .seq = 100, .sport = 2001);
	st_expect_ack(&t, F_S | F_A, 101, NULL);
	ST_IN(&t, .flags = F_S, .seq = 200, .sport = 2002);
	st_expect_none(&t);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_ListenDrops), 1);
	cr_assert_eq(st_drops(&t, SYNACK_DROP_TCP_SYNQ_FULL), 1);
	/* A valid cookie is just a stray ACK when cookies are off. */
	uint32_t ck = synack_cookie_make(t.cfg.secret, &tup, 5, 1460, t.now, NULL);
	ST_IN(&t, .flags = F_A, .seq = 6, .ack = ck + 1);
	st_expect(&t, F_R, ck + 1, 0, NULL);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_SyncookiesFailed), 0);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_SyncookiesRecv), 0);
	st_fini(&t);
}

Test(syncookie, mode1_checks_acks_only_after_sending_cookies)
{
	struct segtest t;
	int lfd;
	init_mode(&t, 1, 4, &lfd);
	/* No cookie was ever sent: even a "valid" cookie is a stray ACK (Linux's
	 * tcp_synq_no_recent_overflow), and SyncookiesFailed does not move. */
	uint32_t ck = synack_cookie_make(t.cfg.secret, &tup, 5, 1460, t.now, NULL);
	ST_IN(&t, .flags = F_A, .seq = 6, .ack = ck + 1);
	st_expect(&t, F_R, ck + 1, 0, NULL);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_SyncookiesFailed), 0);
	cr_assert_eq(synack_accept(t.s, lfd, NULL), -EAGAIN);
	st_fini(&t);
}

Test(syncookie, full_accept_queue_drops_the_cookie_ack_silently)
{
	struct segtest t;
	int lfd;
	init_mode(&t, 2, 0, &lfd); /* backlog 0: the accept queue holds one */
	uint32_t isn[2] = {100, 200};
	uint16_t port[2] = {2001, 2002};
	struct st_seg sa[2];
	for (int i = 0; i < 2; i++) {
		ST_IN(&t, .flags = F_S, .seq = isn[i], .sport = port[i]);
		st_expect_ack(&t, F_S | F_A, isn[i] + 1, &sa[i]);
	}
	for (int i = 0; i < 2; i++)
		ST_IN(&t, .flags = F_A, .seq = isn[i] + 1, .ack = sa[i].seq + 1, .sport = port[i]);
	st_expect_none(&t);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_ListenOverflows), 1);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_SyncookiesRecv), 2);
	cr_assert_eq(st_count_state(&t, SYNACK_ESTABLISHED), 1);
	cr_assert_geq(synack_accept(t.s, lfd, NULL), 0);
	/* The peer retransmits its ACK (or data): now there is room. */
	ST_IN(&t, .flags = F_A, .seq = isn[1] + 1, .ack = sa[1].seq + 1, .sport = port[1]);
	cr_assert_geq(synack_accept(t.s, lfd, NULL), 0);
	st_fini(&t);
}

Test(syncookie, timestamp_claiming_disabled_options_is_rejected)
{
	struct segtest t;
	int lfd;
	init_mode(&t, 2, 8, &lfd);
	ST_IN(&t, .flags = F_S, .seq = 1000, .opts = linux_syn_opts(1460, 6, 1));
	struct st_seg sa;
	st_expect_ack(&t, F_S | F_A, 1001, &sa);
	/* The administrator turns SACK off between the SYN-ACK and the ACK. */
	struct synack_config c;
	synack_stack_get_config(t.s, &c);
	c.sack = false;
	synack_stack_set_tunables(t.s, &c);
	ST_IN(&t, .flags = F_A, .seq = 1001, .ack = sa.seq + 1, .opts = ts_opts(2, sa.opts.ts_val));
	st_expect(&t, F_R, sa.seq + 1, 0, NULL);
	cr_assert_eq(synack_accept(t.s, lfd, NULL), -EAGAIN);
	st_fini(&t);
}

/* ECN survives a cookie, as Linux's cookie_ecn_ok: an ECN-setup SYN gets an ECN-setup SYN-ACK
 * whose TS val records the agreement, and the connection the ACK completes is an ECN one — it
 * answers an ECN-Echo by reducing its window and marking the next new data with CWR. Without
 * ECN in the SYN, the same exchange carries no ECE and no CWR. */
static uint8_t cookie_conn_then_echo(bool ecn_syn)
{
	struct segtest t;
	int lfd;
	init_mode(&t, 2, 128, &lfd);
	uint8_t syn = F_S | (ecn_syn ? SYNACK_TH_ECE | SYNACK_TH_CWR : 0);
	ST_IN(&t, .flags = syn, .seq = 1000, .opts = linux_syn_opts(1460, 6, 777));
	struct st_seg sa;
	st_expect_ack(&t, F_S | F_A | (ecn_syn ? SYNACK_TH_ECE : 0), 1001, &sa);
	cr_assert_eq((sa.opts.ts_val & 0x20) != 0, ecn_syn, "the cookie's ECN bit");
	ST_IN(&t, .flags = F_A, .seq = 1001, .ack = sa.seq + 1, .opts = ts_opts(790, sa.opts.ts_val));
	int fd = synack_accept(t.s, lfd, NULL);
	cr_assert_geq(fd, 0);
	cr_assert_eq(synack_send(t.s, fd, "abc", 3, 0), 3);
	st_expect_data(&t, F_A | F_P, sa.seq + 1, 1001, 3);
	/* an ECN-Echo on an ACK that acknowledges nothing new */
	ST_IN(&t, .flags = F_A | SYNACK_TH_ECE, .seq = 1001, .ack = sa.seq + 1,
	      .opts = ts_opts(791, sa.opts.ts_val));
	cr_assert_eq(synack_send(t.s, fd, "de", 2, 0), 2); /* waits for the ACK (Nagle) */
	ST_IN(&t, .flags = F_A, .seq = 1001, .ack = sa.seq + 4, .opts = ts_opts(792, sa.opts.ts_val));
	struct st_seg d;
	cr_assert(st_next(&t, &d), "the held data goes once acknowledged");
	cr_assert_eq(d.seq, sa.seq + 4);
	cr_assert_eq(d.len, 2);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_TCPECNEchoReduce), ecn_syn ? 1 : 0);
	st_fini(&t);
	return d.flags;
}

Test(syncookie, ecn_agreement_survives_the_cookie)
{
	cr_assert_eq(cookie_conn_then_echo(true), F_A | F_P | SYNACK_TH_CWR);
	cr_assert_eq(cookie_conn_then_echo(false), F_A | F_P);
}
