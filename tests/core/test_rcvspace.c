/* Receive-buffer dynamic right-sizing (tcp_autotune.c, Linux's tcp_rcv_space_adjust), step by
 * step on an explicit clock: the peer sends with timestamps echoing ours (a 20 ms RTT), the
 * application reads, and each RTT's growth is the formula's, computed here by hand:
 *     rcvwin = 2 * copied + 16 * MSS;  rcvwin += 2 * rcvwin * (copied - space) / space
 * at most rcvbuf_max; never more than once per receiver RTT; never with SO_RCVBUF set. */
#include <criterion/criterion.h>
#include <string.h>

#include "support/segtest.h"

#define MSS 1448u /* 1460 less the timestamp option */
#define PEER_ISN 1000u

static uint8_t data[1 << 20];

struct conn {
	int fd;
	uint32_t iss, seq, ts_recent; /* our ISS; the peer's next seq; our latest TSval */
};

static int rcvbuf(struct segtest *t, int fd)
{
	int v = 0;
	size_t len = sizeof v;
	cr_assert_eq(synack_getsockopt(t->s, fd, SYNACK_SOL_SOCKET, SYNACK_SO_RCVBUF, &v, &len), 0);
	return v;
}

/* Takes every segment the stack sent, remembering its TSval (which the peer echoes). */
static void drain(struct segtest *t, struct conn *c)
{
	struct st_seg o;
	while (st_next(t, &o))
		if (o.opts.has_ts)
			c->ts_recent = o.opts.ts_val;
}

static void open_conn(struct segtest *t, struct conn *c)
{
	int lfd = st_listen(t, ST_SERVER_PORT, 4);
	t->lport = ST_SERVER_PORT;
	t->rport = ST_PEER_PORT;
	struct synack_tcp_opts o = {.has_mss = true, .mss = 1460, .has_wscale = true, .wscale = 7,
				    .has_ts = true, .ts_val = 1, .sack_ok = true};
	ST_IN(t, .flags = F_S, .seq = PEER_ISN, .opts = o);
	struct st_seg sa;
	cr_assert(st_next(t, &sa));
	c->iss = sa.seq;
	c->ts_recent = sa.opts.ts_val;
	c->seq = PEER_ISN + 1;
	ST_IN(t, .flags = F_A, .seq = c->seq, .ack = c->iss + 1,
	      .opts = {.has_ts = true, .ts_val = 2, .ts_ecr = c->ts_recent});
	c->fd = synack_accept(t->s, lfd, NULL);
	cr_assert_geq(c->fd, 0);
	drain(t, c);
}

/* The peer sends n full segments now, echoing our latest TSval. */
static void burst(struct segtest *t, struct conn *c, uint32_t n)
{
	uint32_t ecr = c->ts_recent;
	for (uint32_t i = 0; i < n; i++) {
		ST_IN(t, .flags = F_A, .seq = c->seq, .ack = c->iss + 1, .data = data, .len = MSS,
		      .opts = {.has_ts = true, .ts_val = 3, .ts_ecr = ecr});
		c->seq += MSS;
		drain(t, c);
	}
}

static void read_all(struct segtest *t, struct conn *c)
{
	static uint8_t buf[1 << 20];
	while (synack_recv(t->s, c->fd, buf, sizeof buf, 0) > 0)
		;
	drain(t, c);
}

static uint32_t grown(uint32_t copied, uint32_t space)
{
	uint64_t rcvwin = 2 * (uint64_t)copied + 16 * MSS;
	rcvwin += 2 * (rcvwin * (copied - space) / space);
	return (uint32_t)rcvwin;
}

Test(rcvspace, the_buffer_grows_once_per_rtt_by_the_formula)
{
	struct segtest t;
	st_init(&t, NULL);
	struct conn c;
	open_conn(&t, &c);
	cr_assert_eq(rcvbuf(&t, c.fd), 131072, "tcp_rmem's default");
	uint32_t space = 10 * MSS; /* the first measurement: the initial window */

	st_at(&t, 20000); /* one RTT: 20 segments arrive, echoing the TSval of t = 0 */
	burst(&t, &c, 20);
	read_all(&t, &c);
	uint32_t want = grown(20 * MSS, space);
	cr_assert_eq(want, 243264); /* 2 * 28960 + 16 * 1448 = 81088, plus 2 * 81088 */
	cr_assert_eq(rcvbuf(&t, c.fd), (int)want, "after one RTT: %d", rcvbuf(&t, c.fd));
	space = 20 * MSS;

	st_at(&t, 30000); /* half an RTT later: no new measurement */
	burst(&t, &c, 40);
	read_all(&t, &c);
	cr_assert_eq(rcvbuf(&t, c.fd), (int)want);

	st_at(&t, 40000); /* a full RTT since t = 20 ms: 80 segments read in it */
	burst(&t, &c, 40);
	read_all(&t, &c);
	uint32_t want2 = grown(80 * MSS, space);
	cr_assert_eq(rcvbuf(&t, c.fd), (int)want2, "%d, not %u", rcvbuf(&t, c.fd), want2);
	space = 80 * MSS;

	st_at(&t, 60000); /* as much as last time: no growth */
	burst(&t, &c, 80);
	read_all(&t, &c);
	cr_assert_eq(rcvbuf(&t, c.fd), (int)want2);
	st_at(&t, 80000); /* less: the buffer stays (it never shrinks) */
	burst(&t, &c, 10);
	read_all(&t, &c);
	cr_assert_eq(rcvbuf(&t, c.fd), (int)want2, "never shrinks");

	st_at(&t, 100000); /* four times as much: past tcp_rmem's max, which caps it */
	burst(&t, &c, 320);
	read_all(&t, &c);
	cr_assert_gt(grown(320 * MSS, space), 6291456);
	uint32_t want3 = 6291456;
	cr_assert_eq(rcvbuf(&t, c.fd), (int)want3, "%d, not %u", rcvbuf(&t, c.fd), want3);
	/* The window the next ACK announces is the new free space (scaled by 2^7). */
	struct synack_tcp_info i;
	cr_assert_eq(synack_tcp_info(t.s, c.fd, &i), 0);
	cr_assert_eq(i.rcv_wscale, 7);
	cr_assert_eq(i.rcvbuf, want3);
	cr_assert_eq(i.rcv_wnd, want3 & ~127u, "the last ACK announced the free space");
	cr_assert_eq(i.rmem_alloc, 0, "all read: no buffer memory");
	st_fini(&t);
}

Test(rcvspace, at_most_rcvbuf_max_and_not_when_locked)
{
	struct synack_config cfg;
	st_config(&cfg);
	cfg.rcvbuf_max = 200000;
	struct segtest t;
	st_init(&t, &cfg);
	struct conn c;
	open_conn(&t, &c);
	st_at(&t, 20000);
	burst(&t, &c, 20);
	read_all(&t, &c);
	cr_assert_eq(rcvbuf(&t, c.fd), 200000, "capped at rcvbuf_max");
	st_fini(&t);

	st_init(&t, NULL);
	open_conn(&t, &c);
	int v = 100000;
	cr_assert_eq(synack_setsockopt(t.s, c.fd, SYNACK_SOL_SOCKET, SYNACK_SO_RCVBUF, &v, sizeof v),
		     0);
	st_at(&t, 20000);
	burst(&t, &c, 20);
	read_all(&t, &c);
	cr_assert_eq(rcvbuf(&t, c.fd), 200000, "locked: 100000 doubled, no growth");
	st_fini(&t);
}
