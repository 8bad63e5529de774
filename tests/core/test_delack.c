/* Input batches (synack_stack_input_begin/_end): the ACK that in-sequence data owes goes once,
 * at the end of the batch, for all of it; out-of-order data and a filled gap are still
 * answered segment by segment; a connection that dies inside the batch owes nothing; data
 * sent inside the batch carries the ACK. Timing and the other delayed-ACK rules are in
 * tests/drill/data/delayed-ack*.pkt. */
#include <criterion/criterion.h>
#include <string.h>

#include "support/segtest.h"

#define MSS 1460u
static uint8_t payload[MSS];

static int open_conn(struct segtest *t, uint32_t *iss)
{
	st_init(t, NULL);
	return st_passive_open(t, 0, iss);
}

static void data_in(struct segtest *t, uint32_t iss, uint32_t seq, uint8_t flags)
{
	ST_IN(t, .flags = F_A | flags, .seq = seq, .ack = iss + 1, .data = payload, .len = MSS);
}

Test(delack, a_batch_of_segments_gets_one_stretch_ack_at_its_end)
{
	struct segtest t;
	uint32_t iss;
	int fd = open_conn(&t, &iss);
	/* Without a batch: quick-ACK mode acknowledges each segment at once. */
	data_in(&t, iss, 1, 0);
	st_expect(&t, F_A, iss + 1, 1 + MSS, NULL);
	synack_stack_input_begin(t.s);
	for (uint32_t i = 1; i <= 8; i++)
		data_in(&t, iss, 1 + i * MSS, 0);
	st_expect_none(&t);
	synack_stack_input_end(t.s, t.now);
	st_expect(&t, F_A, iss + 1, 1 + 9 * MSS, NULL);
	st_expect_none(&t);
	/* One ACK was sent, so one quick ACK was used: 16 at the start, two used. */
	uint8_t buf[9 * MSS];
	cr_assert_eq(synack_recv(t.s, fd, buf, sizeof buf, 0), (ssize_t)(9 * MSS));
	st_fini(&t);
}

Test(delack, out_of_order_data_and_a_filled_gap_are_answered_inside_the_batch)
{
	struct segtest t;
	uint32_t iss;
	open_conn(&t, &iss);
	synack_stack_input_begin(t.s);
	data_in(&t, iss, 1, 0);
	st_expect_none(&t); /* owed, at the end */
	data_in(&t, iss, 1 + 2 * MSS, 0); /* a gap: a duplicate ACK at once */
	st_expect(&t, F_A, iss + 1, 1 + MSS, NULL);
	data_in(&t, iss, 1 + MSS, 0); /* fills it: an ACK at once (RFC 5681 §4.2) */
	st_expect(&t, F_A, iss + 1, 1 + 3 * MSS, NULL);
	synack_stack_input_end(t.s, t.now);
	st_expect_none(&t); /* nothing more is owed */
	st_fini(&t);
}

Test(delack, a_connection_reset_inside_the_batch_owes_nothing_at_its_end)
{
	struct segtest t;
	uint32_t iss;
	int fd = open_conn(&t, &iss);
	synack_stack_input_begin(t.s);
	data_in(&t, iss, 1, 0);
	ST_IN(&t, .flags = F_R, .seq = 1 + MSS);
	synack_stack_input_end(t.s, t.now);
	st_expect_none(&t);
	cr_assert_eq(st_state(&t, fd), SYNACK_CLOSED);
	cr_assert_eq(synack_close(t.s, fd), 0);
	st_fini(&t);
}

Test(delack, data_sent_inside_the_batch_carries_the_ack)
{
	struct segtest t;
	uint32_t iss;
	int fd = open_conn(&t, &iss);
	synack_stack_input_begin(t.s);
	data_in(&t, iss, 1, F_P);
	data_in(&t, iss, 1 + MSS, F_P);
	st_expect_none(&t);
	cr_assert_eq(synack_send(t.s, fd, "reply", 5, 0), 5);
	st_expect_data(&t, F_A | F_P, iss + 1, 1 + 2 * MSS, 5);
	synack_stack_input_end(t.s, t.now);
	st_expect_none(&t);
	st_fini(&t);
}

Test(delack, a_closed_connection_in_a_batch_is_not_touched_at_its_end)
{
	/* The application closes (with unread data: a RST) between the frames and the end. */
	struct segtest t;
	uint32_t iss;
	int fd = open_conn(&t, &iss);
	synack_stack_input_begin(t.s);
	data_in(&t, iss, 1, 0);
	cr_assert_eq(synack_close(t.s, fd), 0);
	struct st_seg r;
	cr_assert(st_next(&t, &r));
	cr_assert_eq(r.flags & F_R, F_R, "unread data: close resets (RFC 9293 §3.10.7.4 as Linux)");
	synack_stack_input_end(t.s, t.now);
	st_expect_none(&t);
	st_fini(&t);
}
