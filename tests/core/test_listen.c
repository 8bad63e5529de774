/* Listening and binding: bounded SYN and accept queues with Linux's counters, EADDRINUSE,
 * SO_REUSEADDR over TIME-WAIT, and ephemeral ports from the configured range. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "support/segtest.h"

static uint32_t handshake_from(struct segtest *t, uint16_t sport, uint32_t isn)
{
	ST_IN(t, .flags = F_S, .seq = isn, .sport = sport);
	struct st_seg sa;
	st_expect_ack(t, F_S | F_A, isn + 1, &sa);
	ST_IN(t, .flags = F_A, .seq = isn + 1, .ack = sa.seq + 1, .sport = sport);
	return sa.seq;
}

Test(listen, accept_queue_overflow_drops_syn)
{
	struct segtest t;
	st_init(&t, NULL);
	int lfd = st_listen(&t, 80, 1);
	/* Linux: the accept queue is full when it holds more than backlog: two fit. */
	handshake_from(&t, 1001, 10);
	handshake_from(&t, 1002, 20);
	ST_IN(&t, .flags = F_S, .seq = 30, .sport = 1003);
	st_expect_none(&t);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_ListenOverflows), 1);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_ListenDrops), 1);
	cr_assert_eq(st_drops(&t, SYNACK_DROP_TCP_LISTEN_OVERFLOW), 1);
	cr_assert(synack_events(t.s, lfd) & SYNACK_EV_READABLE);
	cr_assert_geq(synack_accept(t.s, lfd, NULL), 0);
	cr_assert_geq(synack_accept(t.s, lfd, NULL), 0);
	cr_assert_eq(synack_accept(t.s, lfd, NULL), -EAGAIN);
	cr_assert_eq(synack_events(t.s, lfd) & SYNACK_EV_READABLE, 0);
	/* Room again. */
	handshake_from(&t, 1003, 30);
	cr_assert_geq(synack_accept(t.s, lfd, NULL), 0);
	st_fini(&t);
}

Test(listen, syn_queue_full_drops_syn)
{
	struct segtest t;
	struct synack_config cfg;
	st_config(&cfg);
	cfg.syncookies = 0; /* with cookies (the default, 1) the SYN gets a cookie SYN-ACK */
	st_init(&t, &cfg);
	st_listen(&t, 80, 2);
	ST_IN(&t, .flags = F_S, .seq = 1, .sport = 2001);
	ST_IN(&t, .flags = F_S, .seq = 1, .sport = 2002);
	cr_assert_eq(st_pending(&t), 2, "two SYN-ACKs");
	ST_IN(&t, .flags = F_S, .seq = 1, .sport = 2003);
	cr_assert_eq(st_pending(&t), 2, "the third SYN is dropped");
	cr_assert_eq(st_counter(&t, SYNACK_CTR_ListenDrops), 1);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_ListenOverflows), 0);
	cr_assert_eq(st_drops(&t, SYNACK_DROP_TCP_SYNQ_FULL), 1);
	cr_assert_eq(st_count_state(&t, SYNACK_SYN_RECEIVED), 2);
	st_fini(&t);
}

Test(listen, ack_to_listener_gets_rst)
{
	struct segtest t;
	st_init(&t, NULL);
	st_listen(&t, 80, 2);
	ST_IN(&t, .flags = F_A, .seq = 5, .ack = 99);
	st_expect(&t, F_R, 99, 0, NULL);
	ST_IN(&t, .flags = F_R, .seq = 5);
	st_expect_none(&t);
	st_fini(&t);
}

Test(listen, closing_listener_frees_children)
{
	struct segtest t;
	st_init(&t, NULL);
	int lfd = st_listen(&t, 80, 4);
	uint32_t iss = handshake_from(&t, 1001, 10);
	ST_IN(&t, .flags = F_S, .seq = 1, .sport = 2002);
	st_expect_ack(&t, F_S | F_A, 2, NULL);
	cr_assert_eq(synack_close(t.s, lfd), 0);
	/* Linux: a connection nobody accepted is reset; the half-open one goes silently. */
	st_expect(&t, F_R | F_A, iss + 1, 11, NULL);
	st_expect_none(&t);
	cr_assert_eq(st_count_state(&t, SYNACK_SYN_RECEIVED), 0);
	cr_assert_eq(st_count_state(&t, SYNACK_ESTABLISHED), 0);
	st_fini(&t);
}

Test(bind, eaddrinuse_and_release_on_close)
{
	struct segtest t;
	st_init(&t, NULL);
	int a = synack_socket(t.s), b = synack_socket(t.s);
	struct synack_endpoint ep = {synack_addr_v4(0), 8080};
	cr_assert_eq(synack_bind(t.s, a, &ep), 0);
	cr_assert_eq(synack_bind(t.s, b, &ep), -EADDRINUSE);
	cr_assert_eq(synack_bind(t.s, a, &ep), -EINVAL, "already bound");
	struct synack_endpoint other = {synack_addr_v4(0x0B000001u), 8081};
	cr_assert_eq(synack_bind(t.s, b, &other), -EADDRNOTAVAIL);
	synack_close(t.s, a);
	cr_assert_eq(synack_bind(t.s, b, &ep), 0);
	st_fini(&t);
}

Test(bind, reuseaddr_allows_bind_over_time_wait_only)
{
	struct segtest t;
	st_init(&t, NULL);
	uint32_t iss;
	int lfd = st_listen(&t, 80, 4);
	ST_IN(&t, .flags = F_S, .seq = 1000);
	struct st_seg sa;
	st_expect_ack(&t, F_S | F_A, 1001, &sa);
	iss = sa.seq;
	ST_IN(&t, .flags = F_A, .seq = 1001, .ack = iss + 1);
	int fd = synack_accept(t.s, lfd, NULL);
	synack_close(t.s, lfd);
	int one = 1;
	int n = synack_socket(t.s);
	cr_assert_eq(synack_setsockopt(t.s, n, SYNACK_SOL_SOCKET, SYNACK_SO_REUSEADDR, &one, sizeof one), 0);
	struct synack_endpoint ep = {synack_addr_v4(0), 80};
	cr_assert_eq(synack_bind(t.s, n, &ep), -EADDRINUSE, "an ESTABLISHED connection uses it");
	/* The server closes first and ends in TIME-WAIT. */
	synack_close(t.s, fd);
	st_expect(&t, F_F | F_A, iss + 1, 1001, NULL);
	ST_IN(&t, .flags = F_F | F_A, .seq = 1001, .ack = iss + 2);
	st_expect(&t, F_A, iss + 2, 1002, NULL);
	cr_assert_eq(st_count_state(&t, SYNACK_TIME_WAIT), 1);
	int m = synack_socket(t.s);
	cr_assert_eq(synack_bind(t.s, m, &ep), -EADDRINUSE, "without SO_REUSEADDR");
	cr_assert_eq(synack_bind(t.s, n, &ep), 0, "with SO_REUSEADDR over TIME-WAIT");
	cr_assert_eq(synack_listen(t.s, n, 4), 0);
	st_fini(&t);
}

static uint16_t first_ephemeral(uint64_t seed)
{
	struct synack_config cfg;
	st_config(&cfg);
	cfg.seed = seed;
	cfg.port_lo = 40000;
	cfg.port_hi = 40099;
	struct segtest t;
	st_init(&t, &cfg);
	int fd = synack_socket(t.s);
	struct synack_endpoint any = {synack_addr_v4(0), 0}, me;
	cr_assert_eq(synack_bind(t.s, fd, &any), 0);
	synack_getsockname(t.s, fd, &me);
	cr_assert(me.port >= 40000 && me.port <= 40099, "port %u in range", me.port);
	st_fini(&t);
	return me.port;
}

Test(bind, ephemeral_ports_in_range_and_vary_with_seed)
{
	bool differ = false;
	uint16_t p0 = first_ephemeral(1);
	for (uint64_t seed = 2; seed < 10; seed++)
		differ |= first_ephemeral(seed) != p0;
	cr_assert(differ, "not predictable: the start point comes from the seeded PRNG");
}

Test(bind, ephemeral_range_exhaustion)
{
	struct synack_config cfg;
	st_config(&cfg);
	cfg.port_lo = 50000;
	cfg.port_hi = 50002;
	struct segtest t;
	st_init(&t, &cfg);
	struct synack_endpoint any = {synack_addr_v4(0), 0};
	bool seen[3] = {false, false, false};
	for (int i = 0; i < 3; i++) {
		int fd = synack_socket(t.s);
		cr_assert_eq(synack_bind(t.s, fd, &any), 0);
		struct synack_endpoint me;
		synack_getsockname(t.s, fd, &me);
		seen[me.port - 50000] = true;
	}
	cr_assert(seen[0] && seen[1] && seen[2]);
	int fd = synack_socket(t.s);
	cr_assert_eq(synack_bind(t.s, fd, &any), -EADDRINUSE);
	struct synack_endpoint to = {synack_addr_v4(ST_PEER), 80};
	cr_assert_eq(synack_connect(t.s, fd, &to), -EADDRNOTAVAIL);
	st_fini(&t);
}

Test(listen, syn_with_fin_is_dropped)
{
	struct segtest t;
	st_init(&t, NULL);
	st_listen(&t, 80, 4);
	ST_IN(&t, .flags = F_S | F_F, .seq = 1);
	st_expect_none(&t); /* Linux discards it */
	cr_assert_eq(st_drops(&t, SYNACK_DROP_TCP_BAD_FLAGS), 1);
	cr_assert_eq(st_count_state(&t, SYNACK_SYN_RECEIVED), 0);
	st_fini(&t);
}
