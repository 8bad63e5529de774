/* Ephemeral ports as Linux shares them (src/core/ports.c): connect() puts connections to
 * different destinations on the same port, never two with the same 4-tuple; a port bind()
 * took is not shared; tcp_tw_reuse takes over a TIME-WAIT 4-tuple only with timestamps and
 * after 1 s, and starts the new connection above the old one's sequence numbers. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "support/segtest.h"

#define SEC 1000000ull

static struct synack_config ports_config(uint16_t lo, uint16_t hi, uint8_t tw_reuse)
{
	struct synack_config cfg;
	st_config(&cfg);
	cfg.port_lo = lo;
	cfg.port_hi = hi;
	cfg.tw_reuse = tw_reuse;
	return cfg;
}

/* connect() to the peer's port rport: the result, and the local port when it started. */
static int dial(struct segtest *t, uint16_t rport, uint16_t *lport)
{
	int fd = synack_socket(t->s);
	cr_assert_geq(fd, 0);
	struct synack_endpoint to = {synack_addr_v4(ST_PEER), rport};
	int r = synack_connect(t->s, fd, &to);
	if (r != -EINPROGRESS)
		return r;
	struct synack_endpoint me;
	synack_getsockname(t->s, fd, &me);
	*lport = me.port;
	return fd;
}

Test(ports, connect_shares_a_port_between_destinations)
{
	struct synack_config cfg = ports_config(40000, 40009, 0);
	struct segtest t;
	st_init(&t, &cfg);
	int used[10] = {0};
	for (int i = 0; i < 10; i++) {
		uint16_t lp;
		cr_assert_geq(dial(&t, 80, &lp), 0, "connection %d to :80", i);
		cr_assert(lp >= 40000 && lp <= 40009);
		cr_assert_eq(used[lp - 40000]++, 0, "port %u twice towards :80", lp);
	}
	/* Every port has a connection to :80: an eleventh has no 4-tuple left. */
	uint16_t lp;
	cr_assert_eq(dial(&t, 80, &lp), -EADDRNOTAVAIL);
	/* Other destinations use the same ten ports again. */
	for (int d = 81; d < 84; d++)
		for (int i = 0; i < 10; i++)
			cr_assert_geq(dial(&t, (uint16_t)d, &lp), 0, "connection %d to :%d", i, d);
	cr_assert_eq(st_count_state(&t, SYNACK_SYN_SENT), 40, "40 connections on 10 ports");
	st_fini(&t);
}

Test(ports, a_port_taken_by_bind_is_not_shared)
{
	struct synack_config cfg = ports_config(40000, 40000, 0);
	struct segtest t;
	st_init(&t, &cfg);
	int b = synack_socket(t.s);
	struct synack_endpoint me = {synack_addr_v4(ST_LOCAL), 40000};
	cr_assert_eq(synack_bind(t.s, b, &me), 0);
	uint16_t lp;
	cr_assert_eq(dial(&t, 80, &lp), -EADDRNOTAVAIL);
	cr_assert_eq(synack_close(t.s, b), 0);
	cr_assert_geq(dial(&t, 80, &lp), 0);
	cr_assert_eq(lp, 40000);
	/* And bind() does not get a port connect() uses. */
	b = synack_socket(t.s);
	cr_assert_eq(synack_bind(t.s, b, &me), -EADDRINUSE);
	st_fini(&t);
}

static struct synack_tcp_opts ts_opts(uint32_t val, uint32_t ecr)
{
	struct synack_tcp_opts o;
	memset(&o, 0, sizeof o);
	o.has_mss = true;
	o.mss = 1460;
	o.has_ts = true;
	o.ts_val = val;
	o.ts_ecr = ecr;
	return o;
}

/* One connection from the only ephemeral port to the peer's :80, closed by us first, into
 * TIME-WAIT at time at. ts: with timestamps. Returns our SND.NXT at the end. */
static uint32_t to_time_wait(struct segtest *t, uint64_t at, bool ts)
{
	st_at(t, at);
	uint16_t lp;
	int fd = dial(t, 80, &lp);
	cr_assert_geq(fd, 0);
	t->lport = lp;
	t->rport = 80;
	struct st_seg syn;
	cr_assert(st_next(t, &syn));
	struct synack_tcp_opts o = ts ? ts_opts(1000, syn.opts.ts_val) : ts_opts(0, 0);
	o.has_ts = ts;
	ST_IN(t, .flags = F_S | F_A, .seq = 5000, .ack = syn.seq + 1, .opts = o);
	struct st_seg a;
	cr_assert(st_next(t, &a));
	cr_assert_eq(a.flags, F_A);
	cr_assert_eq(synack_close(t->s, fd), 0);
	struct st_seg fin;
	cr_assert(st_next(t, &fin));
	cr_assert_eq(fin.flags, F_F | F_A);
	o.ts_val = 1001;
	o.ts_ecr = fin.opts.ts_val;
	ST_IN(t, .flags = F_F | F_A, .seq = 5001, .ack = syn.seq + 2, .opts = o);
	st_expect(t, F_A, syn.seq + 2, 5002, NULL);
	cr_assert_eq(st_count_state(t, SYNACK_TIME_WAIT), 1);
	return syn.seq + 2;
}

Test(ports, tw_reuse_takes_over_a_time_wait_with_timestamps_after_1s)
{
	struct synack_config cfg = ports_config(40000, 40000, 1);
	struct segtest t;
	st_init(&t, &cfg);
	uint32_t nxt = to_time_wait(&t, 1 * SEC, true);
	uint16_t lp;
	st_at(&t, 1 * SEC + 999999);
	cr_assert_eq(dial(&t, 80, &lp), -EADDRNOTAVAIL, "under 1 s old: not yet");
	st_at(&t, 2 * SEC);
	cr_assert_geq(dial(&t, 80, &lp), 0);
	cr_assert_eq(lp, 40000);
	struct st_seg syn;
	cr_assert(st_next(&t, &syn));
	cr_assert_eq(syn.flags, F_S);
	cr_assert_eq(syn.seq, nxt + 65535 + 2, "above the old incarnation");
	cr_assert_eq(st_counter(&t, SYNACK_CTR_TWRecycled), 1);
	cr_assert_eq(st_count_state(&t, SYNACK_TIME_WAIT), 0);
	st_fini(&t);
}

Test(ports, tw_reuse_needs_timestamps_and_is_off_towards_others_by_default)
{
	struct synack_config cfg = ports_config(40000, 40000, 1);
	struct segtest t;
	st_init(&t, &cfg);
	to_time_wait(&t, 1 * SEC, false);
	uint16_t lp;
	st_at(&t, 10 * SEC);
	cr_assert_eq(dial(&t, 80, &lp), -EADDRNOTAVAIL, "no timestamps");
	st_fini(&t);

	cfg = ports_config(40000, 40000, 2); /* the default: towards our own addresses only */
	st_init(&t, &cfg);
	to_time_wait(&t, 1 * SEC, true);
	st_at(&t, 10 * SEC);
	cr_assert_eq(dial(&t, 80, &lp), -EADDRNOTAVAIL, "the peer is not one of ours");
	cr_assert_eq(st_counter(&t, SYNACK_CTR_TWRecycled), 0);
	st_fini(&t);
}

/* synack_flow_queue(), the function the TUN link's steering program computes: the 16 high
 * bits of (a ^ b) * 0x9E3779B1, modulo the queues; the same in either order. */
Test(ports, flow_queue_known_answers)
{
	cr_assert_eq(synack_flow_queue(40000, 80, 2), 1); /* 0xb19f7710: 0xb19f = 45471 */
	cr_assert_eq(synack_flow_queue(80, 40000, 2), 1);
	cr_assert_eq(synack_flow_queue(12345, 5000, 4), 2); /* 0xf9fe5661: 63998 % 4 */
	cr_assert_eq(synack_flow_queue(1, 0, 3), 0);        /* 0x9e3779b1: 40503 % 3 */
	cr_assert_eq(synack_flow_queue(1, 0, 0), 0);
}

/* One stack of two on a multi-queue link: connect() takes only ports whose flow lands on its
 * queue, and runs out when those are used; the other half of the range stays free. */
Test(ports, steered_connect_picks_ports_of_its_queue)
{
	struct synack_config cfg = ports_config(40000, 40019, 0);
	cfg.steer_queues = 2;
	cfg.steer_queue = 1;
	struct segtest t;
	st_init(&t, &cfg);
	unsigned mine = 0;
	for (uint16_t p = 40000; p <= 40019; p++)
		mine += synack_flow_queue(p, 80, 2) == 1;
	cr_assert_eq(mine, 10, "half the range is queue 1's towards :80");
	for (unsigned i = 0; i < mine; i++) {
		uint16_t lp;
		cr_assert_geq(dial(&t, 80, &lp), 0, "connection %u", i);
		cr_assert_eq(synack_flow_queue(lp, 80, 2), 1, "port %u is queue 0's", lp);
	}
	uint16_t lp;
	cr_assert_eq(dial(&t, 80, &lp), -EADDRNOTAVAIL, "every queue-1 port is taken");
	/* An explicitly bound port is the application's choice: not filtered. */
	int fd = synack_socket(t.s);
	uint16_t other = 40000;
	while (synack_flow_queue(other, 80, 2) == 1)
		other++;
	struct synack_endpoint me = {synack_addr_v4(ST_LOCAL), other};
	cr_assert_eq(synack_bind(t.s, fd, &me), 0);
	struct synack_endpoint to = {synack_addr_v4(ST_PEER), 80};
	cr_assert_eq(synack_connect(t.s, fd, &to), -EINPROGRESS);
	st_fini(&t);
}

static void no_output(void *ctx, const uint8_t *frame, const struct synack_frame_meta *meta)
{
	(void)ctx;
	(void)frame;
	(void)meta;
}

Test(ports, steer_queue_must_be_below_steer_queues)
{
	struct synack_config cfg = ports_config(40000, 40019, 0);
	cfg.output = no_output;
	cfg.steer_queues = 2;
	cfg.steer_queue = 2;
	struct synack_stack *s;
	cr_assert_eq(synack_stack_new(&s, &cfg), -EINVAL);
	cfg.steer_queue = 1;
	cr_assert_eq(synack_stack_new(&s, &cfg), 0);
	synack_stack_destroy(s);
}
