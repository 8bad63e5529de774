/* What each kind of entry in the connection table costs (issue 12, a million connections):
 * the connection block, the compact TIME-WAIT entry and the SYN-RECEIVED (request) entry.
 * Each test prints the size and fails above its bound.
 *
 * The goals are 256 B for a connection block (control state, with SACK, timestamps and
 * window scaling on), 64 B for a TIME-WAIT entry and 128 B for a request entry (IPv4 and
 * IPv6). Each meets its goal and the tests assert the goals themselves; the connection block
 * is what an idle connection keeps (its active part, struct tcb_flow, is given back when it
 * is quiet, tcb_flow.c; docs/engine.md, "Memory per connection"). */
#include <criterion/criterion.h>
#include <stdio.h>

#include "core/tcp_req.h"
#include "core/tcp_tw.h"
#include "support/segtest.h"

#define GOAL_CONN 256
#define GOAL_TW 64
#define GOAL_REQ 128

Test(entry_sizes, connection_block)
{
	size_t n = sizeof(struct synack_tcb);
	printf("entry size: connection block %zu B (goal %d, met); its active part %zu B more "
	       "while not folded, a kept timer's entry %zu B while folded\n",
	       n, GOAL_CONN, sizeof(struct tcb_flow), sizeof(struct tcb_fold_timer));
	/* The goal itself: an idle connection's control state fits 256 bytes. */
	cr_assert_leq(n, GOAL_CONN, "connection block %zu B", n);
}

Test(entry_sizes, time_wait)
{
	printf("entry size: TIME-WAIT %zu B IPv4, %zu B IPv6 (goal %d for IPv4)\n",
	       sizeof(struct tw4), sizeof(struct tw6), GOAL_TW);
	cr_assert_leq(sizeof(struct tw4), GOAL_TW);
	/* IPv6 adds only the 24 bytes of its longer tuple. */
	cr_assert_leq(sizeof(struct tw6), sizeof(struct tw4) + 24);
}

/* A half-open entry as the stack holds it: what 1,000 SYNs from distinct ports add to the
 * stack's allocated bytes, per entry: the request entry and its share of the table's buckets
 * (at most 16 B: the table doubles past one entry per bucket). Returns the bytes per entry. */
static size_t half_open_bytes(bool v6)
{
	enum { N = 1000 };
	struct synack_config cfg;
	st_config(&cfg);
	cfg.max_sockets = N + 8;
	cfg.syncookies = 0;
	struct segtest t;
	if (v6) /* as st_init6 */
		cr_assert_eq(synack_config_add_addr(&cfg, synack_addr_v6(ST_V6_LOCAL), 64), 0);
	st_init(&t, &cfg);
	if (v6) {
		t.local = synack_addr_v6(ST_V6_LOCAL);
		t.peer = synack_addr_v6(ST_V6_PEER);
	}
	st_listen(&t, 80, 4096);
	t.lport = 80;
	size_t base = synack_stack_live_bytes(t.s);
	for (int i = 0; i < N; i++) {
		ST_IN(&t, .flags = F_S, .seq = 7, .sport = (uint16_t)(10000 + i),
		      .opts = {.has_mss = true, .mss = 1460, .sack_ok = true, .has_ts = true,
			       .ts_val = 1, .has_wscale = true, .wscale = 7});
		if (t.nframes > ST_MAX_FRAMES - 16)
			t.nframes = t.next = 0; /* recycle the capture */
	}
	cr_assert_eq(st_count_state(&t, SYNACK_SYN_RECEIVED), N);
	size_t per = (synack_stack_live_bytes(t.s) - base) / N;
	st_fini(&t);
	return per;
}

Test(entry_sizes, request)
{
	printf("entry size: SYN-RECEIVED request %zu B IPv4, %zu B IPv6 (goal %d)\n",
	       sizeof(struct tcp_req4), sizeof(struct tcp_req6), GOAL_REQ);
	cr_assert_leq(sizeof(struct tcp_req4), GOAL_REQ);
	cr_assert_leq(sizeof(struct tcp_req6), GOAL_REQ);
	/* IPv6 adds only the 24 bytes of its longer tuple. */
	cr_assert_eq(sizeof(struct tcp_req6), sizeof(struct tcp_req4) + 24);
	size_t v4 = half_open_bytes(false), v6 = half_open_bytes(true);
	printf("entry size: SYN-RECEIVED (request) %zu B IPv4, %zu B IPv6 with the table\n", v4,
	       v6);
	cr_assert_leq(v4, sizeof(struct tcp_req4) + 16, "%zu B per IPv4 request entry", v4);
	cr_assert_leq(v6, sizeof(struct tcp_req6) + 16, "%zu B per IPv6 request entry", v6);
}
