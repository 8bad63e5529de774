/* The state diagram (render/fsm.h): which transitions each side took, in order, and what is
 * said to have caused each one, from synthetic trace events; the connection chosen; the SVG. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render/fsm.h"
#include "synack/wire.h"

#define C_ADDR 0x0a000001u
#define S_ADDR 0x0a000002u

static struct synack_fsm f;

static struct synack_endpoint ep(uint32_t a, uint16_t p)
{
	struct synack_endpoint e;
	memset(&e, 0, sizeof e);
	e.addr = synack_addr_v4(a);
	e.port = p;
	return e;
}

static void state(uint64_t t, bool client, enum synack_tcp_state from, enum synack_tcp_state to,
		  uint16_t cport)
{
	struct synack_trace_event ev = {.kind = SYNACK_TRACE_STATE, .t_us = t,
					.host = client ? "client" : "server", .has_conn = true,
					.from = from, .to = to};
	ev.local = client ? ep(C_ADDR, cport) : ep(S_ADDR, 80);
	ev.remote = client ? ep(S_ADDR, 80) : ep(C_ADDR, cport);
	synack_fsm_event(&f, &ev);
}

static void listener(uint64_t t)
{
	struct synack_trace_event ev = {.kind = SYNACK_TRACE_STATE, .t_us = t, .host = "server",
					.has_conn = true, .from = SYNACK_CLOSED,
					.to = SYNACK_LISTEN};
	ev.local = ep(S_ADDR, 80);
	ev.remote = ep(0, 0);
	synack_fsm_event(&f, &ev);
}

/* kind TX: host sends; RX: host receives (from the other side). */
static void seg(enum synack_trace_kind kind, uint64_t t, bool client_host, uint8_t flags,
		uint16_t cport)
{
	bool from_client = kind == SYNACK_TRACE_TX ? client_host : !client_host;
	struct synack_tcp_seg s = {.sport = from_client ? cport : 80,
				   .dport = from_client ? 80 : cport, .flags = flags};
	struct synack_trace_event ev = {.kind = kind, .t_us = t,
					.host = client_host ? "client" : "server",
					.has_conn = true, .seg = &s};
	ev.local = client_host ? ep(C_ADDR, cport) : ep(S_ADDR, 80);
	ev.remote = client_host ? ep(S_ADDR, 80) : ep(C_ADDR, cport);
	synack_fsm_event(&f, &ev);
}

static void timer(uint64_t t, bool client, enum synack_timer_kind k)
{
	struct synack_trace_event ev = {.kind = SYNACK_TRACE_TIMER, .t_us = t,
					.host = client ? "client" : "server", .has_conn = true,
					.timer = k};
	ev.local = client ? ep(C_ADDR, 40000) : ep(S_ADDR, 80);
	ev.remote = client ? ep(S_ADDR, 80) : ep(C_ADDR, 40000);
	synack_fsm_event(&f, &ev);
}

#define S SYNACK_TH_SYN
#define A SYNACK_TH_ACK
#define F SYNACK_TH_FIN
#define R SYNACK_TH_RST

static void assert_step(int side, unsigned i, enum synack_tcp_state from,
			enum synack_tcp_state to, const char *trigger, const char *action)
{
	cr_assert_gt(f.side[side].n, i);
	const struct synack_fsm_step *st = &f.side[side].steps[i];
	cr_assert_eq(st->from, from, "side %d step %u", side, i + 1);
	cr_assert_eq(st->to, to, "side %d step %u", side, i + 1);
	cr_assert_str_eq(st->trigger, trigger, "side %d step %u", side, i + 1);
	cr_assert_str_eq(st->action, action, "side %d step %u", side, i + 1);
}

/* A stack's trace: the handshake and an active close that ends in TIME-WAIT's timer. */
Test(fsm, causes_from_a_stack_trace)
{
	synack_fsm_init(&f, "client", "server");
	listener(0);
	state(0, true, SYNACK_CLOSED, SYNACK_SYN_SENT, 40000);
	seg(SYNACK_TRACE_TX, 0, true, S, 40000);
	seg(SYNACK_TRACE_RX, 10, false, S, 40000);
	state(10, false, SYNACK_LISTEN, SYNACK_SYN_RECEIVED, 40000);
	seg(SYNACK_TRACE_TX, 10, false, S | A, 40000);
	seg(SYNACK_TRACE_RX, 20, true, S | A, 40000);
	state(20, true, SYNACK_SYN_SENT, SYNACK_ESTABLISHED, 40000);
	seg(SYNACK_TRACE_TX, 20, true, A, 40000);
	seg(SYNACK_TRACE_RX, 30, false, A, 40000);
	state(30, false, SYNACK_SYN_RECEIVED, SYNACK_ESTABLISHED, 40000);
	/* data arrives at the client, which then closes: the close is the cause, not the data */
	seg(SYNACK_TRACE_RX, 40, true, A, 40000);
	state(40, true, SYNACK_ESTABLISHED, SYNACK_FIN_WAIT_1, 40000);
	seg(SYNACK_TRACE_TX, 40, true, F | A, 40000);
	timer(60000040, true, SYNACK_TIMER_TIME_WAIT);
	state(60000040, true, SYNACK_FIN_WAIT_1, SYNACK_CLOSED, 40000);
	cr_assert_eq(synack_fsm_steps(&f), 7);
	assert_step(0, 0, SYNACK_CLOSED, SYNACK_SYN_SENT, "connect()", "snd S");
	assert_step(0, 1, SYNACK_SYN_SENT, SYNACK_ESTABLISHED, "rcv S.", "snd .");
	assert_step(0, 2, SYNACK_ESTABLISHED, SYNACK_FIN_WAIT_1, "close()", "snd F.");
	assert_step(0, 3, SYNACK_FIN_WAIT_1, SYNACK_CLOSED, "time-wait timer", "");
	assert_step(1, 0, SYNACK_CLOSED, SYNACK_LISTEN, "listen()", "");
	assert_step(1, 1, SYNACK_LISTEN, SYNACK_SYN_RECEIVED, "rcv S", "snd S.");
	assert_step(1, 2, SYNACK_SYN_RECEIVED, SYNACK_ESTABLISHED, "rcv .", "");
}

Test(fsm, a_send_at_a_later_instant_is_not_the_action)
{
	synack_fsm_init(&f, NULL, NULL);
	state(0, true, SYNACK_CLOSED, SYNACK_SYN_SENT, 40000);
	seg(SYNACK_TRACE_TX, 5, true, S, 40000);
	assert_step(0, 0, SYNACK_CLOSED, SYNACK_SYN_SENT, "connect()", "");
	cr_assert_str_eq(f.side[0].name, "client", "sides are named in order of appearance");
}

Test(fsm, abort_and_reset)
{
	synack_fsm_init(&f, "client", "server");
	state(0, true, SYNACK_CLOSED, SYNACK_SYN_SENT, 40000);
	seg(SYNACK_TRACE_RX, 50, true, A, 40000); /* coincident data */
	seg(SYNACK_TRACE_TX, 50, true, R | A, 40000);
	state(50, true, SYNACK_ESTABLISHED, SYNACK_CLOSED, 40000);
	seg(SYNACK_TRACE_RX, 60, false, R | A, 40000);
	state(60, false, SYNACK_ESTABLISHED, SYNACK_CLOSED, 40000);
	assert_step(0, 1, SYNACK_ESTABLISHED, SYNACK_CLOSED, "abort", "snd R.");
	assert_step(1, 0, SYNACK_ESTABLISHED, SYNACK_CLOSED, "rcv R.", "");
}

/* A capture's replay has no RX: the other side's send at the same instant is the arrival. */
Test(fsm, capture_replay_reads_sends_as_arrivals)
{
	synack_fsm_init(&f, "client", "server");
	seg(SYNACK_TRACE_TX, 10, false, F | A, 40000);
	state(10, true, SYNACK_FIN_WAIT_2, SYNACK_TIME_WAIT, 40000);
	seg(SYNACK_TRACE_TX, 10, true, A, 40000);
	assert_step(0, 0, SYNACK_FIN_WAIT_2, SYNACK_TIME_WAIT, "rcv F.", "snd .");
}

Test(fsm, other_connections_are_ignored_and_pick_prefers_both_sides)
{
	synack_fsm_init(&f, "client", "server");
	state(0, false, SYNACK_LISTEN, SYNACK_SYN_RECEIVED, 1111); /* locks on port 1111 */
	state(5, true, SYNACK_CLOSED, SYNACK_SYN_SENT, 40000);	   /* another connection */
	cr_assert_eq(synack_fsm_steps(&f), 1);

	static struct synack_fsm_pick p;
	memset(&p, 0, sizeof p);
	struct synack_trace_event ev = {.kind = SYNACK_TRACE_STATE, .has_conn = true};
	const char *hosts[] = {"server", "server", "client", "server"};
	uint16_t ports[] = {1111, 1111, 40000, 40000};
	for (int i = 0; i < 4; i++) {
		bool client = !strcmp(hosts[i], "client");
		ev.host = hosts[i];
		ev.local = client ? ep(C_ADDR, ports[i]) : ep(S_ADDR, 80);
		ev.remote = client ? ep(S_ADDR, 80) : ep(C_ADDR, ports[i]);
		synack_fsm_pick_trace(&p, &ev);
	}
	struct synack_endpoint a, b;
	cr_assert(synack_fsm_pick_best(&p, &a, &b));
	cr_assert(a.port == 40000 || b.port == 40000, "two sides beat two steps of one side");
	struct synack_fsm_pick empty = {0};
	cr_assert_not(synack_fsm_pick_best(&empty, &a, &b));
}

Test(fsm, svg_numbers_every_step_and_dashes_extra_transitions)
{
	synack_fsm_init(&f, "client", "server");
	state(0, true, SYNACK_CLOSED, SYNACK_SYN_SENT, 40000);
	seg(SYNACK_TRACE_TX, 0, true, S, 40000);
	state(50, true, SYNACK_SYN_SENT, SYNACK_ESTABLISHED, 40000);
	state(60, true, SYNACK_ESTABLISHED, SYNACK_CLOSED, 40000);
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	cr_assert_eq(synack_fsm_svg(m, &f, true, "t & <t>"), 0);
	fclose(m);
	cr_assert(strstr(buf, "<?xml"));
	cr_assert(strstr(buf, "t &amp; &lt;t&gt;"));
	cr_assert(strstr(buf, ">1</text>") && strstr(buf, ">2</text>") && strstr(buf, ">3</text>"));
	cr_assert_null(strstr(buf, ">4</text>"));
	cr_assert_eq(strstr(strstr(buf, "fs extra") + 1, "fs extra") != NULL, true,
		     "ESTABLISHED -> CLOSED is not in the figure: dashed (curve and head)");
	cr_assert(strstr(buf, "1  0.000000  CLOSED -&gt; SYN-SENT: connect() / snd S"), "%s", buf);
	/* the server made no change: one panel only */
	cr_assert_null(strstr(buf, ">server</text>"));
	free(buf);
}
