/* The table of connection timers (tcp_timer.c): one deadline per kind and one wheel entry per
 * connection. Each kind runs its own handler (seen through its trace event and its effect),
 * arming or cancelling one kind leaves the others' deadlines alone, kinds due together fire
 * in deadline order, and the names are the table's. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "core/tcb.h"
#include "support/segtest.h"

#define SEC 1000000ull

static struct synack_tcb *tcb_of(struct segtest *t, int fd) { return t->s->fds[fd]; }

/* An established passive connection with keepalive on (idle 7200 s: never due here), never
 * folded. */
static struct synack_tcb *setup(struct segtest *t, int *fd_out)
{
	st_init(t, NULL);
	uint32_t iss;
	int fd = st_passive_open(t, 1000, &iss);
	int one = 1;
	cr_assert_eq(synack_setsockopt(t->s, fd, SYNACK_SOL_SOCKET, SYNACK_SO_KEEPALIVE, &one,
				       sizeof one),
		     0);
	if (fd_out)
		*fd_out = fd;
	/* The flow's fold check (tcb_flow.c, its own tests in test_fold.c) would fold the quiet
	 * connection between the kinds under test here: it stays off. */
	tcp_timer_cancel(t->s, tcb_of(t, fd), TCP_TIMER_FOLD);
	return tcb_of(t, fd);
}

/* The kinds of the TIMER trace events, in order; returns how many. */
static size_t timer_events(const struct segtest *t, enum synack_timer_kind *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < t->nev; i++)
		if (t->ev[i].kind == SYNACK_TRACE_TIMER && n < cap)
			out[n++] = t->ev[i].timer;
	return n;
}

Test(tcp_timer, names_come_from_the_table)
{
	cr_assert_str_eq(synack_timer_name(SYNACK_TIMER_RETRANSMIT), "retransmit");
	cr_assert_str_eq(synack_timer_name(SYNACK_TIMER_PERSIST), "persist");
	cr_assert_str_eq(synack_timer_name(SYNACK_TIMER_KEEPALIVE), "keepalive");
	cr_assert_str_eq(synack_timer_name(SYNACK_TIMER_TIME_WAIT), "time-wait");
	cr_assert_str_eq(synack_timer_name(SYNACK_TIMER_FIN_WAIT_2), "fin-wait-2");
	cr_assert_str_eq(synack_timer_name(SYNACK_TIMER_DELACK), "delack");
	cr_assert_str_eq(synack_timer_name(SYNACK_TIMER_TLP), "tlp");
	cr_assert_str_eq(synack_timer_name(SYNACK_TIMER_COUNT), "?");
	cr_assert_str_eq(synack_timer_name((enum synack_timer_kind)-1), "?");
}

Test(tcp_timer, every_kind_has_a_handler)
{
	for (unsigned k = 0; k < SYNACK_TIMER_COUNT; k++)
		cr_assert(tcp_timer_has_handler(k), "kind %u", k);
	cr_assert(tcp_timer_has_handler(TCP_TIMER_FOLD));
	cr_assert_not(tcp_timer_has_handler(TCP_TIMER_KINDS));
}

Test(tcp_timer, new_connection_has_every_kind_off)
{
	struct segtest t;
	st_init(&t, NULL);
	int fd = synack_socket(t.s);
	struct synack_tcb *c = tcb_of(&t, fd);
	for (unsigned k = 0; k < SYNACK_TIMER_COUNT; k++)
		cr_assert_not(tcp_timer_armed(c, k), "kind %u", k);
	cr_assert_eq(synack_stack_next_deadline(t.s), SYNACK_TIME_NEVER);
	st_fini(&t);
}

Test(tcp_timer, time_wait_kind_runs_the_time_wait_handler)
{
	struct segtest t;
	int fd;
	struct synack_tcb *c = setup(&t, &fd);
	uint64_t t0 = t.now;
	tcp_timer_arm(t.s, c, SYNACK_TIMER_TIME_WAIT, t0 + 5 * SEC);
	st_at(&t, t0 + 5 * SEC - 1);
	cr_assert_eq(st_state(&t, fd), SYNACK_ESTABLISHED);
	st_at(&t, t0 + 5 * SEC);
	enum synack_timer_kind k[4];
	cr_assert_eq(timer_events(&t, k, 4), 1);
	cr_assert_eq(k[0], SYNACK_TIMER_TIME_WAIT);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_TW), 1, "TW is counted by its handler only");
	cr_assert_eq(st_state(&t, fd), SYNACK_CLOSED);
	st_fini(&t);
}

Test(tcp_timer, fin_wait_2_kind_runs_its_own_handler)
{
	struct segtest t;
	int fd;
	struct synack_tcb *c = setup(&t, &fd);
	uint64_t t0 = t.now;
	tcp_timer_arm(t.s, c, SYNACK_TIMER_FIN_WAIT_2, t0 + 2 * SEC);
	st_at(&t, t0 + 2 * SEC);
	enum synack_timer_kind k[4];
	cr_assert_eq(timer_events(&t, k, 4), 1);
	cr_assert_eq(k[0], SYNACK_TIMER_FIN_WAIT_2);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_TW), 0);
	cr_assert_eq(st_state(&t, fd), SYNACK_CLOSED);
	st_fini(&t);
}

Test(tcp_timer, keepalive_kind_sends_a_keepalive_probe)
{
	struct segtest t;
	struct synack_tcb *c = setup(&t, NULL);
	uint64_t t0 = t.now;
	c->keep_idle_s = 1; /* idle long enough at t0 + 1 s */
	tcp_timer_arm(t.s, c, SYNACK_TIMER_KEEPALIVE, t0 + 1 * SEC);
	st_at(&t, t0 + 1 * SEC);
	st_expect(&t, F_A, c->snd_nxt - 1, c->rcv_nxt, NULL);
	enum synack_timer_kind k[4];
	cr_assert_eq(timer_events(&t, k, 4), 1);
	cr_assert_eq(k[0], SYNACK_TIMER_KEEPALIVE);
	cr_assert_eq(c->keep_probes, 1);
	cr_assert_eq(c->fl->retries, 0, "not the persist handler");
	cr_assert_eq(st_counter(&t, SYNACK_CTR_TCPKeepAlive), 1);
	/* Re-armed by its handler one interval (75 s) later. */
	cr_assert_eq(c->fl->timer_at[SYNACK_TIMER_KEEPALIVE], t0 + 1 * SEC + 75 * SEC);
	st_fini(&t);
}

Test(tcp_timer, persist_kind_sends_a_window_probe)
{
	struct segtest t;
	int fd;
	struct synack_tcb *c = setup(&t, &fd);
	uint64_t t0 = t.now;
	c->snd_wnd = 0;
	/* Data waits for the zero window (a probe is for data that cannot go). */
	cr_assert_eq(synack_send(t.s, fd, "hello", 5, 0), 5);
	st_expect_none(&t);
	cr_assert(tcp_timer_armed(c, SYNACK_TIMER_PERSIST));
	tcp_timer_arm(t.s, c, SYNACK_TIMER_PERSIST, t0 + 1 * SEC);
	st_at(&t, t0 + 1 * SEC);
	st_expect(&t, F_A, c->snd_una - 1, c->rcv_nxt, NULL);
	enum synack_timer_kind k[4];
	cr_assert_eq(timer_events(&t, k, 4), 1);
	cr_assert_eq(k[0], SYNACK_TIMER_PERSIST);
	cr_assert_eq(c->fl->retries, 1);
	cr_assert_eq(c->keep_probes, 0, "not the keepalive handler");
	cr_assert(tcp_timer_armed(c, SYNACK_TIMER_PERSIST), "re-armed, backed off");
	st_fini(&t);
}

Test(tcp_timer, retransmit_kind_resends_the_oldest_segment)
{
	struct segtest t;
	int fd;
	struct synack_tcb *c = setup(&t, &fd);
	uint64_t t0 = t.now;
	cr_assert_eq(synack_send(t.s, fd, "hello", 5, 0), 5);
	st_expect_data(&t, F_A | F_P, c->snd_una, c->rcv_nxt, 5);
	uint64_t rto = c->rto_us;
	cr_assert_eq(c->fl->timer_at[SYNACK_TIMER_RETRANSMIT], t0 + rto);
	st_at(&t, t0 + rto - 1);
	st_expect_none(&t);
	st_at(&t, t0 + rto);
	st_expect_data(&t, F_A | F_P, c->snd_una, c->rcv_nxt, 5);
	enum synack_timer_kind k[4];
	cr_assert_eq(timer_events(&t, k, 4), 1);
	cr_assert_eq(k[0], SYNACK_TIMER_RETRANSMIT);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_TCPTimeouts), 1);
	cr_assert_eq(c->fl->timer_at[SYNACK_TIMER_RETRANSMIT], t0 + rto + 2 * rto, "backed off");
	st_fini(&t);
}

Test(tcp_timer, arming_one_kind_leaves_the_others_alone)
{
	struct segtest t;
	int fd;
	struct synack_tcb *c = setup(&t, &fd);
	uint64_t t0 = t.now;
	uint64_t keep = c->fl->timer_at[SYNACK_TIMER_KEEPALIVE];
	cr_assert_eq(keep, t0 + 7200 * SEC);
	tcp_timer_arm(t.s, c, SYNACK_TIMER_FIN_WAIT_2, t0 + 5 * SEC);
	cr_assert_eq(synack_stack_next_deadline(t.s), t0 + 5 * SEC);
	tcp_timer_arm(t.s, c, SYNACK_TIMER_PERSIST, t0 + 2 * SEC);
	cr_assert_eq(synack_stack_next_deadline(t.s), t0 + 2 * SEC);
	tcp_timer_arm(t.s, c, SYNACK_TIMER_PERSIST, t0 + 3 * SEC);
	cr_assert_eq(c->fl->timer_at[SYNACK_TIMER_FIN_WAIT_2], t0 + 5 * SEC);
	cr_assert_eq(c->fl->timer_at[SYNACK_TIMER_KEEPALIVE], keep);
	cr_assert_eq(synack_stack_next_deadline(t.s), t0 + 3 * SEC);
	tcp_timer_cancel(t.s, c, SYNACK_TIMER_PERSIST);
	cr_assert_not(tcp_timer_armed(c, SYNACK_TIMER_PERSIST));
	cr_assert_eq(c->fl->timer_at[SYNACK_TIMER_FIN_WAIT_2], t0 + 5 * SEC);
	cr_assert_eq(synack_stack_next_deadline(t.s), t0 + 5 * SEC);
	st_at(&t, t0 + 3 * SEC);
	cr_assert_eq(st_count_events(&t, SYNACK_TRACE_TIMER), 0, "the cancelled kind stays quiet");
	st_at(&t, t0 + 5 * SEC);
	enum synack_timer_kind k[4];
	cr_assert_eq(timer_events(&t, k, 4), 1);
	cr_assert_eq(k[0], SYNACK_TIMER_FIN_WAIT_2);
	cr_assert_eq(st_state(&t, fd), SYNACK_CLOSED);
	cr_assert_eq(synack_stack_next_deadline(t.s), SYNACK_TIME_NEVER, "tcp_done cancels all");
	st_fini(&t);
}

Test(tcp_timer, kinds_due_together_fire_in_deadline_order)
{
	struct segtest t;
	int fd;
	struct synack_tcb *c = setup(&t, &fd);
	uint64_t t0 = t.now;
	c->keep_idle_s = 1;
	c->snd_wnd = 0;
	tcp_timer_arm(t.s, c, SYNACK_TIMER_FIN_WAIT_2, t0 + 3 * SEC);
	tcp_timer_arm(t.s, c, SYNACK_TIMER_KEEPALIVE, t0 + 2 * SEC);
	tcp_timer_arm(t.s, c, SYNACK_TIMER_PERSIST, t0 + 1 * SEC);
	st_at(&t, t0 + 10 * SEC);
	enum synack_timer_kind k[4];
	cr_assert_eq(timer_events(&t, k, 4), 3);
	cr_assert_eq(k[0], SYNACK_TIMER_PERSIST);
	cr_assert_eq(k[1], SYNACK_TIMER_KEEPALIVE);
	cr_assert_eq(k[2], SYNACK_TIMER_FIN_WAIT_2);
	cr_assert_eq(st_state(&t, fd), SYNACK_CLOSED);
	st_fini(&t);
}

Test(tcp_timer, retransmit_and_persist_exclude_each_other)
{
	struct segtest t;
	struct synack_tcb *c = setup(&t, NULL);
	tcp_arm_rtx(t.s, c);
	cr_assert(tcp_timer_armed(c, SYNACK_TIMER_RETRANSMIT));
	tcp_arm_persist(t.s, c);
	cr_assert(tcp_timer_armed(c, SYNACK_TIMER_PERSIST));
	cr_assert_not(tcp_timer_armed(c, SYNACK_TIMER_RETRANSMIT));
	tcp_arm_rtx(t.s, c);
	cr_assert_not(tcp_timer_armed(c, SYNACK_TIMER_PERSIST));
	tcp_cancel_rtx(t.s, c);
	cr_assert_not(tcp_timer_armed(c, SYNACK_TIMER_RETRANSMIT));
	cr_assert(tcp_timer_armed(c, SYNACK_TIMER_KEEPALIVE), "keepalive untouched");
	st_fini(&t);
}

Test(tcp_timer, time_wait_replaces_fin_wait_2)
{
	struct segtest t;
	struct synack_tcb *c = setup(&t, NULL);
	uint64_t t0 = t.now;
	tcp_arm_close(t.s, c, SYNACK_TIMER_FIN_WAIT_2, 60 * SEC);
	tcp_arm_close(t.s, c, SYNACK_TIMER_TIME_WAIT, 60 * SEC);
	cr_assert_not(tcp_timer_armed(c, SYNACK_TIMER_FIN_WAIT_2));
	cr_assert_eq(c->fl->timer_at[SYNACK_TIMER_TIME_WAIT], t0 + 60 * SEC);
	st_fini(&t);
}

static void out_nop(void *ctx, const uint8_t *f, const struct synack_frame_meta *m) {}

/* The keepalive interval and count have Linux's limits in the configuration too (a connection
 * keeps them in 16 and 8 bits). */
Test(tcp_timer, config_keepalive_limits_are_linuxs)
{
	struct synack_config c;
	struct synack_stack *s;
	st_config(&c);
	c.output = out_nop;
	c.keepalive_intvl_s = 32767;
	c.keepalive_probes = 127;
	cr_assert_eq(synack_stack_new(&s, &c), 0);
	synack_stack_destroy(s);
	c.keepalive_intvl_s = 32768;
	cr_assert_eq(synack_stack_new(&s, &c), -EINVAL);
	c.keepalive_intvl_s = 75;
	c.keepalive_probes = 128;
	cr_assert_eq(synack_stack_new(&s, &c), -EINVAL);
}
