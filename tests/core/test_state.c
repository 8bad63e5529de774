/* The transition table of tcp_set_state() (RFC 9293 figure 5), ISNs (RFC 6528) and the
 * readiness reported through the wake callback. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "core/tcb.h"
#include "support/segtest.h"

#define L(a, b) tcp_transition_legal(SYNACK_##a, SYNACK_##b)

Test(state, rfc9293_diagram_edges_are_legal)
{
	cr_assert(L(CLOSED, LISTEN) && L(CLOSED, SYN_SENT));
	cr_assert(L(LISTEN, SYN_RECEIVED) && L(LISTEN, SYN_SENT));
	cr_assert(L(SYN_SENT, SYN_RECEIVED) && L(SYN_SENT, ESTABLISHED));
	cr_assert(L(SYN_RECEIVED, ESTABLISHED) && L(SYN_RECEIVED, FIN_WAIT_1) &&
		  L(SYN_RECEIVED, LISTEN));
	cr_assert(L(ESTABLISHED, FIN_WAIT_1) && L(ESTABLISHED, CLOSE_WAIT));
	cr_assert(L(FIN_WAIT_1, FIN_WAIT_2) && L(FIN_WAIT_1, CLOSING) && L(FIN_WAIT_1, TIME_WAIT));
	cr_assert(L(FIN_WAIT_2, TIME_WAIT) && L(CLOSE_WAIT, LAST_ACK) && L(CLOSING, TIME_WAIT));
	cr_assert(L(LAST_ACK, CLOSED) && L(TIME_WAIT, CLOSED));
}

Test(state, shortcuts_are_illegal)
{
	cr_assert_not(L(CLOSED, ESTABLISHED));
	cr_assert_not(L(LISTEN, ESTABLISHED));
	cr_assert_not(L(ESTABLISHED, TIME_WAIT));
	cr_assert_not(L(FIN_WAIT_2, CLOSING));
	cr_assert_not(L(CLOSE_WAIT, FIN_WAIT_1));
	cr_assert_not(L(TIME_WAIT, ESTABLISHED));
	cr_assert_not(L(LAST_ACK, TIME_WAIT));
	cr_assert_not(tcp_transition_legal(SYNACK_STATE_COUNT, SYNACK_CLOSED));
}

static uint32_t syn_isn(struct segtest *t, uint16_t lport, uint64_t now)
{
	st_at(t, now);
	int fd = synack_socket(t->s);
	struct synack_endpoint me = {synack_addr_v4(0), lport}, to = {synack_addr_v4(ST_PEER), 80};
	cr_assert_eq(synack_bind(t->s, fd, &me), 0);
	cr_assert_eq(synack_connect(t->s, fd, &to), -EINPROGRESS);
	struct st_seg syn;
	cr_assert(st_next(t, &syn));
	synack_close(t->s, fd);
	return syn.seq;
}

Test(isn, rfc6528_clock_plus_keyed_hash)
{
	struct segtest t;
	st_init(&t, NULL);
	uint32_t a = syn_isn(&t, 5000, 0);
	uint32_t b = syn_isn(&t, 5000, 4000);
	cr_assert_eq(b - a, 1000, "M: a 4 us clock");
	uint32_t c = syn_isn(&t, 5001, 4000);
	cr_assert_neq(c, b, "F: a keyed hash of the 4-tuple");
	st_fini(&t);
	struct synack_config cfg;
	st_config(&cfg);
	cfg.secret[0] ^= 1;
	st_init(&t, &cfg);
	cr_assert_neq(syn_isn(&t, 5000, 0), a, "another secret, another ISN");
	st_fini(&t);
}

Test(wake, readiness_changes_are_reported)
{
	struct segtest t;
	st_init(&t, NULL);
	int lfd = st_listen(&t, 80, 4);
	size_t before = t.wakes;
	ST_IN(&t, .flags = F_S, .seq = 1);
	struct st_seg sa;
	st_expect_ack(&t, F_S | F_A, 2, &sa);
	ST_IN(&t, .flags = F_A, .seq = 2, .ack = sa.seq + 1);
	cr_assert_gt(t.wakes, before);
	cr_assert_eq(t.wake_mask[lfd], SYNACK_EV_READABLE, "a connection to accept");
	int fd = synack_accept(t.s, lfd, NULL);
	cr_assert_eq(t.wake_mask[lfd], 0);
	ST_IN(&t, .flags = F_A, .seq = 2, .ack = sa.seq + 1, .data = "x", .len = 1);
	cr_assert(t.wake_mask[fd] & SYNACK_EV_READABLE);
	cr_assert(t.wake_mask[fd] & SYNACK_EV_WRITABLE);
	ST_IN(&t, .flags = F_R, .seq = 3);
	cr_assert(t.wake_mask[fd] & SYNACK_EV_ERROR);
	cr_assert(t.wake_mask[fd] & SYNACK_EV_HUP);
	st_fini(&t);
}

/* A wake callback that reads, answers and closes from inside the callback. */
static char echoed[16];
static int conn_fd = -1;

static void echo_and_close(struct segtest *t, int fd, unsigned ev)
{
	if (!(ev & SYNACK_EV_READABLE) || fd != conn_fd)
		return;
	ssize_t n = synack_recv(t->s, fd, echoed, sizeof echoed, 0);
	if (n > 0) {
		synack_send(t->s, fd, echoed, (size_t)n, 0);
		synack_close(t->s, fd);
	}
}

Test(wake, callback_may_call_the_api)
{
	struct segtest t;
	st_init(&t, NULL);
	uint32_t iss;
	int fd = st_passive_open(&t, 1000, &iss);
	conn_fd = fd;
	t.wake_hook = echo_and_close;
	ST_IN(&t, .flags = F_A | F_P, .seq = 1001, .ack = iss + 1, .data = "ping", .len = 4);
	st_expect(&t, F_A, iss + 1, 1005, NULL);         /* the ACK of "ping" */
	st_expect_data(&t, F_A | F_P, iss + 1, 1005, 4); /* the echo, sent from the callback */
	st_expect(&t, F_F | F_A, iss + 5, 1005, NULL);  /* and the close */
	cr_assert_eq(memcmp(echoed, "ping", 4), 0);
	cr_assert_eq(synack_events(t.s, fd), -EBADF);
	st_fini(&t);
}
