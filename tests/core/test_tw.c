/* Compact TIME-WAIT entries (src/core/tcp_tw.c): their size, that they are not sockets (many
 * more than max_sockets wait at once), what each costs in memory, their own bound
 * (max_tw_buckets, TcpExtTCPTimeWaitOverflow), their expiry after exactly 2*MSL, and that they
 * answer as the connection did (re-ACK of a retransmitted FIN, RFC 1337, bind()). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/tcp_tw.h"
#include "support/segtest.h"

#define SEC 1000000ull

Test(tw, entry_sizes)
{
	printf("entry sizes: TIME-WAIT IPv4 %zu B, TIME-WAIT IPv6 %zu B, connection block %zu B\n",
	       sizeof(struct tw4), sizeof(struct tw6), sizeof(struct synack_tcb));
	cr_assert_leq(sizeof(struct tw4), 56);
	cr_assert_leq(sizeof(struct tw6), 80);
}

/* One passive connection from the peer's port rport, closed by the server first, through
 * FIN-WAIT-2 into TIME-WAIT. Returns the server's ISS. */
static uint32_t server_closes(struct segtest *t, int lfd, uint16_t rport, uint32_t isn)
{
	t->rport = rport;
	ST_IN(t, .flags = F_S, .seq = isn);
	struct st_seg sa;
	cr_assert(st_next(t, &sa), "a SYN-ACK for port %u", rport);
	cr_assert_eq(sa.flags, F_S | F_A);
	ST_IN(t, .flags = F_A, .seq = isn + 1, .ack = sa.seq + 1);
	int fd = synack_accept(t->s, lfd, NULL);
	cr_assert_geq(fd, 0, "accept for port %u: %d", rport, fd);
	cr_assert_eq(synack_close(t->s, fd), 0);
	st_expect(t, F_F | F_A, sa.seq + 1, isn + 1, NULL);
	ST_IN(t, .flags = F_F | F_A, .seq = isn + 1, .ack = sa.seq + 2);
	st_expect(t, F_A, sa.seq + 2, isn + 2, NULL);
	t->nframes = t->next = 0; /* the capture holds 4096 frames */
	t->nev = 0;
	return sa.seq;
}

static struct synack_config small_config(uint32_t max_sockets, uint32_t max_tw)
{
	struct synack_config cfg;
	st_config(&cfg);
	cfg.max_sockets = max_sockets;
	cfg.max_tw_buckets = max_tw;
	return cfg;
}

Test(tw, entries_are_not_sockets_and_cost_their_size)
{
	enum { N = 3000 };
	struct synack_config cfg = small_config(8, 262144);
	struct segtest t;
	st_init(&t, &cfg);
	int lfd = st_listen(&t, 80, 16);
	t.lport = 80;
	size_t base = synack_stack_live_bytes(t.s), base_allocs = synack_stack_live_allocs(t.s);
	for (int i = 0; i < N; i++)
		server_closes(&t, lfd, (uint16_t)(10000 + i), 1000u * (uint32_t)i);
	cr_assert_eq(st_count_state(&t, SYNACK_TIME_WAIT), N, "all wait, max_sockets is 8");
	size_t per = (synack_stack_live_bytes(t.s) - base) / N;
	printf("live bytes per TIME-WAIT entry (entry, pool slack, table buckets): %zu B\n", per);
	/* 56 B entry + 8 B of bucket array (the table doubles past one entry per bucket) + the
	 * unused rest of the last pool chunk and the per-port counts. */
	cr_assert_leq(per, 56 + 16 + 8, "%zu B per entry", per);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_TCPTimeWaitOverflow), 0);
	/* All expire 2*MSL after they began (all at time 0 here). */
	st_at(&t, 60 * SEC - 1);
	cr_assert_eq(st_count_state(&t, SYNACK_TIME_WAIT), N);
	st_at(&t, 60 * SEC);
	cr_assert_eq(st_count_state(&t, SYNACK_TIME_WAIT), 0);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_TW), N);
	/* The pools went back with the last entry; only the table's buckets stay grown. */
	cr_assert_eq(synack_stack_live_allocs(t.s), base_allocs);
	cr_assert_eq(synack_stack_next_deadline(t.s), SYNACK_TIME_NEVER);
	st_fini(&t); /* checks that nothing leaked */
}

Test(tw, past_max_tw_buckets_the_close_skips_time_wait)
{
	struct synack_config cfg = small_config(64, 3);
	struct segtest t;
	st_init(&t, &cfg);
	int lfd = st_listen(&t, 80, 16);
	t.lport = 80;
	for (int i = 0; i < 5; i++)
		server_closes(&t, lfd, (uint16_t)(20000 + i), 5000);
	cr_assert_eq(st_count_state(&t, SYNACK_TIME_WAIT), 3);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_TCPTimeWaitOverflow), 2);
	/* The last one closed at once (TIME-WAIT → CLOSED in the same call): a segment for it
	 * now finds no connection and draws a reset. */
	ST_IN(&t, .flags = F_A, .seq = 5002, .ack = 1);
	struct st_seg r;
	cr_assert(st_next(&t, &r));
	cr_assert_eq(r.flags, F_R);
	st_fini(&t);
}

Test(tw, entry_reacks_fin_ignores_rst_and_restarts)
{
	struct segtest t;
	st_init(&t, NULL);
	int lfd = st_listen(&t, 80, 16);
	t.lport = 80;
	st_at(&t, 1 * SEC);
	uint32_t iss = server_closes(&t, lfd, 30000, 7000);
	cr_assert_eq(synack_stack_next_deadline(t.s), 61 * SEC);
	/* RFC 1337: a RST in TIME-WAIT is ignored (no reply, the entry stays). */
	st_at(&t, 5 * SEC);
	ST_IN(&t, .flags = F_R, .seq = 7002);
	st_expect_none(&t);
	cr_assert_eq(st_drops(&t, SYNACK_DROP_TCP_RST_IN_TIME_WAIT), 1);
	cr_assert_eq(st_count_state(&t, SYNACK_TIME_WAIT), 1);
	/* The FIN again: our ACK was lost. ACKed again, and 2*MSL starts over. */
	st_at(&t, 10 * SEC);
	ST_IN(&t, .flags = F_F | F_A, .seq = 7001, .ack = iss + 2);
	st_expect(&t, F_A, iss + 2, 7002, NULL);
	cr_assert_eq(synack_stack_next_deadline(t.s), 70 * SEC);
	st_at(&t, 70 * SEC - 1);
	cr_assert_eq(st_count_state(&t, SYNACK_TIME_WAIT), 1);
	st_at(&t, 70 * SEC);
	cr_assert_eq(st_count_state(&t, SYNACK_TIME_WAIT), 0);
	cr_assert(st_saw_state(&t, SYNACK_TIME_WAIT, SYNACK_CLOSED));
	st_fini(&t);
}

Test(tw, entry_holds_its_port_against_bind_without_reuseaddr)
{
	struct segtest t;
	st_init(&t, NULL);
	int fd = synack_socket(t.s);
	struct synack_endpoint me = {synack_addr_v4(ST_LOCAL), 5555};
	cr_assert_eq(synack_bind(t.s, fd, &me), 0);
	t.lport = 5555;
	t.rport = 80;
	struct synack_endpoint to = {synack_addr_v4(ST_PEER), 80};
	cr_assert_eq(synack_connect(t.s, fd, &to), -EINPROGRESS);
	struct st_seg syn;
	cr_assert(st_next(&t, &syn));
	ST_IN(&t, .flags = F_S | F_A, .seq = 100, .ack = syn.seq + 1);
	st_expect(&t, F_A, syn.seq + 1, 101, NULL);
	cr_assert_eq(synack_close(t.s, fd), 0);
	st_expect(&t, F_F | F_A, syn.seq + 1, 101, NULL);
	ST_IN(&t, .flags = F_F | F_A, .seq = 101, .ack = syn.seq + 2);
	st_expect(&t, F_A, syn.seq + 2, 102, NULL);
	cr_assert_eq(st_count_state(&t, SYNACK_TIME_WAIT), 1);
	int b = synack_socket(t.s);
	cr_assert_eq(synack_bind(t.s, b, &me), -EADDRINUSE);
	int one = 1;
	cr_assert_eq(synack_setsockopt(t.s, b, SYNACK_SOL_SOCKET, SYNACK_SO_REUSEADDR, &one,
				       sizeof one), 0);
	cr_assert_eq(synack_bind(t.s, b, &me), 0);
	/* connect() to the same peer from that port finds the tuple in TIME-WAIT. */
	st_fini(&t);
}

Test(tw, a_full_table_has_its_own_drop_reason_and_time_wait_frees_it)
{
	/* Room for the listener and two connections. */
	struct synack_config cfg = small_config(3, 262144);
	struct segtest t;
	st_init(&t, &cfg);
	int lfd = st_listen(&t, 80, 16);
	t.lport = 80;
	int fds[2];
	uint32_t iss[2];
	for (int i = 0; i < 2; i++) {
		t.rport = (uint16_t)(40000 + i);
		ST_IN(&t, .flags = F_S, .seq = 100);
		struct st_seg sa;
		cr_assert(st_next(&t, &sa));
		iss[i] = sa.seq;
		ST_IN(&t, .flags = F_A, .seq = 101, .ack = sa.seq + 1);
		fds[i] = synack_accept(t.s, lfd, NULL);
		cr_assert_geq(fds[i], 0);
	}
	t.rport = 40002;
	ST_IN(&t, .flags = F_S, .seq = 100);
	st_expect_none(&t);
	cr_assert_eq(st_drops(&t, SYNACK_DROP_TCP_TABLE_FULL), 1);
	cr_assert_eq(st_drops(&t, SYNACK_DROP_TCP_NO_MEMORY), 0);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_ListenDrops), 1);
	/* The first one closes (server first) and waits in TIME-WAIT: the table has room
	 * again, though the TIME-WAIT lasts 60 s. */
	t.rport = 40000;
	synack_close(t.s, fds[0]);
	st_expect(&t, F_F | F_A, iss[0] + 1, 101, NULL);
	ST_IN(&t, .flags = F_F | F_A, .seq = 101, .ack = iss[0] + 2);
	st_expect(&t, F_A, iss[0] + 2, 102, NULL);
	cr_assert_eq(st_count_state(&t, SYNACK_TIME_WAIT), 1);
	server_closes(&t, lfd, 40003, 900); /* asserts the SYN-ACK and the whole exchange */
	cr_assert_eq(st_drops(&t, SYNACK_DROP_TCP_TABLE_FULL), 1);
	st_fini(&t);
}
