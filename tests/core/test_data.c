/* Data transfer (RFC 9293 §3.8–3.9): segmentation by MSS with PSH on the last segment of a
 * write, in-order delivery, out-of-order reassembly, duplicates, the peer's window, Nagle,
 * and the immediate ACK of every data segment (synack has no delayed ACK). */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "support/segtest.h"

static uint8_t pattern[100000];

static void fill(void)
{
	for (size_t i = 0; i < sizeof pattern; i++)
		pattern[i] = (uint8_t)(i * 131 + 7);
}

Test(data, receive_in_order_acks_each_segment)
{
	struct segtest t;
	st_init(&t, NULL);
	uint32_t iss;
	int fd = st_passive_open(&t, 1000, &iss);
	ST_IN(&t, .flags = F_A | F_P, .seq = 1001, .ack = iss + 1, .data = "hello", .len = 5);
	st_expect_data(&t, F_A, iss + 1, 1006, 0);
	ST_IN(&t, .flags = F_A | F_P, .seq = 1006, .ack = iss + 1, .data = " world", .len = 6);
	st_expect_data(&t, F_A, iss + 1, 1012, 0);
	cr_assert(synack_events(t.s, fd) & SYNACK_EV_READABLE);
	char buf[64];
	cr_assert_eq(synack_recv(t.s, fd, buf, sizeof buf, 0), 11);
	cr_assert_eq(memcmp(buf, "hello world", 11), 0);
	cr_assert_eq(synack_recv(t.s, fd, buf, sizeof buf, 0), -EAGAIN);
	st_fini(&t);
}

Test(data, send_segments_by_mss_with_psh_on_last)
{
	fill();
	struct segtest t;
	st_init(&t, NULL);
	uint32_t iss;
	int fd = st_passive_open(&t, 1000, &iss);
	/* MSS 1460 (no timestamps): 4000 bytes → 1460, 1460, 1080 with PSH on the last. */
	cr_assert_eq(synack_send(t.s, fd, pattern, 4000, 0), 4000);
	struct st_seg a, b, c;
	st_expect(&t, F_A, iss + 1, 1001, &a);
	st_expect(&t, F_A, iss + 1 + 1460, 1001, &b);
	st_expect(&t, F_A | F_P, iss + 1 + 2920, 1001, &c);
	cr_assert_eq(a.len, 1460);
	cr_assert_eq(b.len, 1460);
	cr_assert_eq(c.len, 1080);
	cr_assert_eq(memcmp(a.data, pattern, 1460), 0);
	cr_assert_eq(memcmp(c.data, pattern + 2920, 1080), 0);
	st_expect_none(&t);
	ST_IN(&t, .flags = F_A, .seq = 1001, .ack = iss + 1 + 4000);
	st_expect_none(&t);
	struct synack_tcp_info ti;
	synack_tcp_info(t.s, fd, &ti);
	cr_assert_eq(ti.bytes_in_flight, 0);
	cr_assert_eq(ti.send_q, 0);
	st_fini(&t);
}

Test(data, out_of_order_reassembly_with_sack_blocks)
{
	struct segtest t;
	st_init(&t, NULL);
	int lfd = st_listen(&t, 80, 4);
	struct synack_tcp_opts o = {.has_mss = true, .mss = 1460, .sack_ok = true};
	ST_IN(&t, .flags = F_S, .seq = 0, .opts = o);
	struct st_seg sa;
	st_expect_ack(&t, F_S | F_A, 1, &sa);
	uint32_t iss = sa.seq;
	ST_IN(&t, .flags = F_A, .seq = 1, .ack = iss + 1);
	int fd = synack_accept(t.s, lfd, NULL);
	/* Bytes 1..5 "abcde", 6..10 "fghij", 11..15 "klmno": send 3rd, then 2nd, then 1st. */
	ST_IN(&t, .flags = F_A, .seq = 11, .ack = iss + 1, .data = "klmno", .len = 5);
	struct st_seg x;
	st_expect(&t, F_A, iss + 1, 1, &x);
	cr_assert_eq(x.opts.sack_count, 1, "a SACK block for the held data (RFC 2018)");
	cr_assert_eq(x.opts.sack[0].left, 11);
	cr_assert_eq(x.opts.sack[0].right, 16);
	ST_IN(&t, .flags = F_A, .seq = 6, .ack = iss + 1, .data = "fghij", .len = 5);
	st_expect(&t, F_A, iss + 1, 1, &x);
	cr_assert_eq(x.opts.sack_count, 1, "adjacent ranges merge");
	cr_assert_eq(x.opts.sack[0].left, 6);
	cr_assert_eq(x.opts.sack[0].right, 16);
	char buf[32];
	cr_assert_eq(synack_recv(t.s, fd, buf, sizeof buf, 0), -EAGAIN, "nothing in order yet");
	ST_IN(&t, .flags = F_A, .seq = 1, .ack = iss + 1, .data = "abcde", .len = 5);
	st_expect(&t, F_A, iss + 1, 16, &x);
	cr_assert_eq(x.opts.sack_count, 0);
	cr_assert_eq(synack_recv(t.s, fd, buf, sizeof buf, 0), 15);
	cr_assert_eq(memcmp(buf, "abcdefghijklmno", 15), 0);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_TCPOFOQueue), 2);
	st_fini(&t);
}

Test(data, duplicate_and_overlapping_segments)
{
	struct segtest t;
	st_init(&t, NULL);
	uint32_t iss;
	int fd = st_passive_open(&t, 1000, &iss);
	ST_IN(&t, .flags = F_A, .seq = 1001, .ack = iss + 1, .data = "abcd", .len = 4);
	st_expect(&t, F_A, iss + 1, 1005, NULL);
	/* An exact duplicate: not acceptable (ends before RCV.NXT), answered with an ACK. */
	ST_IN(&t, .flags = F_A, .seq = 1001, .ack = iss + 1, .data = "abcd", .len = 4);
	st_expect(&t, F_A, iss + 1, 1005, NULL);
	cr_assert_eq(st_drops(&t, SYNACK_DROP_TCP_NOT_ACCEPTABLE), 1);
	/* Overlapping: only the new part is taken. */
	ST_IN(&t, .flags = F_A, .seq = 1003, .ack = iss + 1, .data = "cdef", .len = 4);
	st_expect(&t, F_A, iss + 1, 1007, NULL);
	char buf[16];
	cr_assert_eq(synack_recv(t.s, fd, buf, sizeof buf, 0), 6);
	cr_assert_eq(memcmp(buf, "abcdef", 6), 0);
	st_fini(&t);
}

Test(data, peer_window_limits_sending)
{
	fill();
	struct segtest t;
	st_init(&t, NULL);
	int lfd = st_listen(&t, 80, 4);
	ST_IN(&t, .flags = F_S, .seq = 0, .win = 3000, .opts = {.has_mss = true, .mss = 1000});
	struct st_seg sa;
	st_expect_ack(&t, F_S | F_A, 1, &sa);
	uint32_t iss = sa.seq;
	ST_IN(&t, .flags = F_A, .seq = 1, .ack = iss + 1, .win = 2500);
	int fd = synack_accept(t.s, lfd, NULL);
	cr_assert_eq(synack_send(t.s, fd, pattern, 5000, 0), 5000);
	st_expect_data(&t, F_A, iss + 1, 1, 1000);
	st_expect_data(&t, F_A, iss + 1001, 1, 1000);
	/* 500 bytes of window left: sender SWS avoidance holds a short segment while data is in
	 * flight. */
	st_expect_none(&t);
	ST_IN(&t, .flags = F_A, .seq = 1, .ack = iss + 2001, .win = 2500);
	st_expect_data(&t, F_A, iss + 2001, 1, 1000);
	st_expect_data(&t, F_A, iss + 3001, 1, 1000);
	st_expect_none(&t);
	st_fini(&t);
}

Test(data, nagle_holds_small_segment_until_ack_nodelay_does_not)
{
	struct segtest t;
	st_init(&t, NULL);
	uint32_t iss;
	int fd = st_passive_open(&t, 1000, &iss);
	cr_assert_eq(synack_send(t.s, fd, "a", 1, 0), 1);
	st_expect_data(&t, F_A | F_P, iss + 1, 1001, 1);
	cr_assert_eq(synack_send(t.s, fd, "b", 1, 0), 1);
	st_expect_none(&t); /* RFC 896: held while "a" is unacknowledged */
	ST_IN(&t, .flags = F_A, .seq = 1001, .ack = iss + 2);
	st_expect_data(&t, F_A | F_P, iss + 2, 1001, 1);
	int one = 1;
	cr_assert_eq(synack_setsockopt(t.s, fd, SYNACK_IPPROTO_TCP, SYNACK_TCP_NODELAY, &one,
				       sizeof one), 0);
	cr_assert_eq(synack_send(t.s, fd, "c", 1, 0), 1);
	st_expect_data(&t, F_A | F_P, iss + 3, 1001, 1);
	st_fini(&t);
}

Test(data, send_buffer_full_gives_eagain_then_writable_after_ack)
{
	fill();
	struct segtest t;
	st_init(&t, NULL);
	uint32_t iss;
	int fd = st_passive_open(&t, 1000, &iss);
	/* Locked (no autotuning, which grew the buffer at establishment): 8192 doubled. */
	int sz = 8192;
	cr_assert_eq(synack_setsockopt(t.s, fd, SYNACK_SOL_SOCKET, SYNACK_SO_SNDBUF, &sz, sizeof sz),
		     0);
	cr_assert_eq(synack_send(t.s, fd, pattern, 20000, 0), 16384, "SO_SNDBUF 16384");
	cr_assert_eq(synack_send(t.s, fd, pattern, 10, 0), -EAGAIN);
	cr_assert_eq(synack_events(t.s, fd) & SYNACK_EV_WRITABLE, 0);
	while (st_pending(&t))
		st_next(&t, &(struct st_seg){0});
	ST_IN(&t, .flags = F_A, .seq = 1001, .ack = iss + 1 + 1460);
	cr_assert(synack_events(t.s, fd) & SYNACK_EV_WRITABLE);
	cr_assert(t.wake_mask[fd] & SYNACK_EV_WRITABLE, "wake callback reported it");
	st_fini(&t);
}

Test(data, recv_peek_does_not_consume)
{
	struct segtest t;
	st_init(&t, NULL);
	uint32_t iss;
	int fd = st_passive_open(&t, 1000, &iss);
	ST_IN(&t, .flags = F_A, .seq = 1001, .ack = iss + 1, .data = "xyz", .len = 3);
	char b[8];
	cr_assert_eq(synack_recv(t.s, fd, b, 2, SYNACK_MSG_PEEK), 2);
	cr_assert_eq(synack_recv(t.s, fd, b, 8, 0), 3);
	cr_assert_eq(memcmp(b, "xyz", 3), 0);
	st_fini(&t);
}

Test(data, out_of_order_fin_is_kept_until_the_gap_fills)
{
	struct segtest t;
	st_init(&t, NULL);
	uint32_t iss;
	int fd = st_passive_open(&t, 0, &iss);
	/* "fghij" + FIN arrives before "abcde". */
	ST_IN(&t, .flags = F_A | F_F, .seq = 6, .ack = iss + 1, .data = "fghij", .len = 5);
	st_expect(&t, F_A, iss + 1, 1, NULL);
	cr_assert_eq(st_state(&t, fd), SYNACK_ESTABLISHED);
	ST_IN(&t, .flags = F_A, .seq = 1, .ack = iss + 1, .data = "abcde", .len = 5);
	st_expect(&t, F_A, iss + 1, 12, NULL); /* 10 bytes and the FIN */
	cr_assert_eq(st_state(&t, fd), SYNACK_CLOSE_WAIT);
	char b[16];
	cr_assert_eq(synack_recv(t.s, fd, b, sizeof b, 0), 10);
	cr_assert_eq(synack_recv(t.s, fd, b, sizeof b, 0), 0);
	st_fini(&t);
}

Test(data, bare_out_of_order_fin_is_kept)
{
	struct segtest t;
	st_init(&t, NULL);
	uint32_t iss;
	int fd = st_passive_open(&t, 0, &iss);
	ST_IN(&t, .flags = F_A | F_F, .seq = 4, .ack = iss + 1);
	st_expect(&t, F_A, iss + 1, 1, NULL);
	ST_IN(&t, .flags = F_A, .seq = 1, .ack = iss + 1, .data = "abc", .len = 3);
	st_expect(&t, F_A, iss + 1, 5, NULL);
	cr_assert_eq(st_state(&t, fd), SYNACK_CLOSE_WAIT);
	st_fini(&t);
}

Test(data, paws_rejects_an_older_timestamp)
{
	struct segtest t;
	st_init(&t, NULL);
	int lfd = st_listen(&t, 80, 4);
	struct synack_tcp_opts o = {.has_mss = true, .mss = 1460, .has_ts = true, .ts_val = 1000};
	ST_IN(&t, .flags = F_S, .seq = 0, .opts = o);
	struct st_seg sa;
	st_expect_ack(&t, F_S | F_A, 1, &sa);
	uint32_t iss = sa.seq;
	struct synack_tcp_opts ts = {.has_ts = true, .ts_val = 1001, .ts_ecr = sa.opts.ts_val};
	ST_IN(&t, .flags = F_A, .seq = 1, .ack = iss + 1, .opts = ts);
	int fd = synack_accept(t.s, lfd, NULL);
	/* An old duplicate (TSval 900 < TS.Recent 1001) is not acceptable: ACK and drop. */
	ts.ts_val = 900;
	ST_IN(&t, .flags = F_A, .seq = 1, .ack = iss + 1, .opts = ts, .data = "old", .len = 3);
	struct st_seg a;
	st_expect(&t, F_A, iss + 1, 1, &a);
	cr_assert_eq(a.opts.ts_ecr, 1001, "TSecr echoes TS.Recent");
	char b[4];
	cr_assert_eq(synack_recv(t.s, fd, b, sizeof b, 0), -EAGAIN);
	ts.ts_val = 1002;
	ST_IN(&t, .flags = F_A, .seq = 1, .ack = iss + 1, .opts = ts, .data = "new", .len = 3);
	st_expect(&t, F_A, iss + 1, 4, &a);
	cr_assert_eq(a.opts.ts_ecr, 1002);
	cr_assert_eq(synack_recv(t.s, fd, b, sizeof b, 0), 3);
	st_fini(&t);
}

Test(data, sack_block_of_the_triggering_segment_comes_first)
{
	struct segtest t;
	st_init(&t, NULL);
	int lfd = st_listen(&t, 80, 4);
	ST_IN(&t, .flags = F_S, .seq = 0, .opts = {.has_mss = true, .mss = 1460, .sack_ok = true});
	struct st_seg sa;
	st_expect_ack(&t, F_S | F_A, 1, &sa);
	uint32_t iss = sa.seq;
	ST_IN(&t, .flags = F_A, .seq = 1, .ack = iss + 1);
	synack_accept(t.s, lfd, NULL);
	ST_IN(&t, .flags = F_A, .seq = 31, .ack = iss + 1, .data = "0123456789", .len = 10);
	st_next(&t, &sa);
	ST_IN(&t, .flags = F_A, .seq = 11, .ack = iss + 1, .data = "0123456789", .len = 10);
	st_expect(&t, F_A, iss + 1, 1, &sa);
	/* RFC 2018 §4: the block holding the segment that triggered the ACK first. */
	cr_assert_eq(sa.opts.sack_count, 2);
	cr_assert_eq(sa.opts.sack[0].left, 11);
	cr_assert_eq(sa.opts.sack[0].right, 21);
	cr_assert_eq(sa.opts.sack[1].left, 31);
	cr_assert_eq(sa.opts.sack[1].right, 41);
	st_fini(&t);
}
