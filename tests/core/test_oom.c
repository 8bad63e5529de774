/* Allocation failure injection (SQLite/Lua style): for every N, the Nth allocation fails
 * during a scenario that creates a stack, accepts a connection, connects out, moves data and
 * closes. Nothing may crash, and after destroy nothing may be left allocated. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "support/segtest.h"

static void scenario(struct segtest *t)
{
	int lfd = synack_socket(t->s);
	struct synack_endpoint ep = {synack_addr_v4(0), 80};
	synack_bind(t->s, lfd, &ep);
	synack_listen(t->s, lfd, 4);
	ST_IN(t, .flags = F_S, .seq = 100);
	struct st_seg sa;
	uint32_t iss = st_next(t, &sa) ? sa.seq : 0;
	ST_IN(t, .flags = F_A, .seq = 101, .ack = iss + 1, .data = "ping", .len = 4);
	int fd = synack_accept(t->s, lfd, NULL);
	char b[8];
	if (fd >= 0) {
		synack_recv(t->s, fd, b, sizeof b, 0);
		synack_send(t->s, fd, "pong", 4, 0);
	}
	int cfd = synack_socket(t->s);
	struct synack_endpoint to = {synack_addr_v4(ST_PEER), 443};
	synack_connect(t->s, cfd, &to);
	st_at(t, 1000000);
	if (fd >= 0)
		synack_close(t->s, fd);
	synack_close(t->s, lfd);
	st_at(t, 3000000);
}

Test(oom, every_allocation_failure_is_survived_without_leak)
{
	struct segtest t;
	/* Count the allocations of a clean run first. */
	cr_assert(st_try_init(&t, NULL, 0));
	scenario(&t);
	size_t total = t.nallocs;
	st_fini(&t);
	cr_assert_gt(total, 5);
	for (size_t n = 1; n <= total + 1; n++) {
		if (!st_try_init(&t, NULL, n))
			continue;
		scenario(&t);
		st_fini(&t); /* asserts live allocations and bytes are zero */
	}
}

Test(oom, socket_reports_enomem)
{
	struct segtest t;
	cr_assert(st_try_init(&t, NULL, 0));
	t.fail_at = t.nallocs + 1;
	cr_assert_eq(synack_socket(t.s), -ENOMEM);
	cr_assert_geq(synack_socket(t.s), 0, "the next allocation succeeds");
	st_fini(&t);
}

/* Buffers take memory only when data comes (src/core/buf.h): connecting and completing a
 * handshake allocate none, so a failure can only meet a write or an arriving segment. */
Test(oom, send_without_memory_is_eagain_and_queues_nothing)
{
	struct segtest t;
	cr_assert(st_try_init(&t, NULL, 0));
	uint32_t iss;
	int fd = st_passive_open(&t, 1000, &iss);
	t.fail_at = t.nallocs + 1; /* the send queue's first chunk */
	cr_assert_eq(synack_send(t.s, fd, "abc", 3, 0), -EAGAIN);
	st_expect_none(&t);
	cr_assert_eq(synack_send(t.s, fd, "abc", 3, 0), 3, "the next allocation succeeds");
	st_fini(&t);
}

Test(oom, a_segment_without_memory_is_dropped_and_taken_when_sent_again)
{
	struct segtest t;
	cr_assert(st_try_init(&t, NULL, 0));
	uint32_t iss;
	int fd = st_passive_open(&t, 1000, &iss);
	t.fail_at = t.nallocs + 1; /* the receive queue's first chunk */
	ST_IN(&t, .flags = F_A, .seq = 1001, .ack = iss + 1, .data = "ping", .len = 4);
	cr_assert_eq(st_drops(&t, SYNACK_DROP_TCP_NO_MEMORY), 1);
	struct synack_counters k;
	synack_stack_counters(t.s, &k);
	cr_assert_eq(k.v[SYNACK_CTR_TCPRcvQDrop], 1);
	struct st_seg a;
	st_expect_ack(&t, F_A, 1001, &a); /* nothing taken: RCV.NXT stays */
	char b[8];
	cr_assert_eq(synack_recv(t.s, fd, b, sizeof b, 0), -EAGAIN);
	ST_IN(&t, .flags = F_A, .seq = 1001, .ack = iss + 1, .data = "ping", .len = 4);
	cr_assert_eq(synack_recv(t.s, fd, b, sizeof b, 0), 4);
	cr_assert_eq(memcmp(b, "ping", 4), 0);
	st_fini(&t);
}
