/* The step every driver takes (src/drivers/driver.h), on a segtest stack and a scripted link:
 * frames due by now go in (in order, no later ones, at most max_frames), oversized ones are
 * counted and skipped, due timers fire after the frames, the clock comes to now when nothing
 * is due, the link's error comes back with timers still run, and the next deadline is the
 * earlier of the stack's timer and the link's next arrival. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "drivers/driver.h"
#include "support/segtest.h"

/* A link that hands out queued frames at their times (or, with an fd, whenever asked). */
struct fake_link {
	struct synack_link l;
	struct {
		uint8_t b[128];
		size_t len;
		uint64_t at;
		uint8_t csum; /* the checksum state the link reports (frame.h) */
	} q[8];
	size_t n, head;
	int fail;     /* recv returns this when set */
	int hold;     /* recv returns 0 this many times though a frame is due (a fault decorator) */
	unsigned recvs;
};

static ssize_t fake_recv(struct synack_link *l, uint8_t *buf, size_t cap,
			 struct synack_frame_meta *out, uint64_t now)
{
	struct fake_link *f = (struct fake_link *)l;
	f->recvs++;
	if (f->fail)
		return f->fail;
	if (f->head == f->n || (l->fd < 0 && f->q[f->head].at > now))
		return 0;
	if (f->hold) {
		f->hold--;
		return 0;
	}
	size_t len = f->q[f->head].len;
	if (len > cap) {
		f->head++;
		return -EMSGSIZE;
	}
	memcpy(buf, f->q[f->head++].b, len);
	*out = synack_frame_meta_plain(buf, len);
	out->csum = f->q[f->head - 1].csum;
	return (ssize_t)len;
}

static uint64_t fake_next(struct synack_link *l)
{
	struct fake_link *f = (struct fake_link *)l;
	if (l->fd >= 0 || f->head == f->n)
		return SYNACK_TIME_NEVER;
	return f->q[f->head].at;
}

static int fake_send(struct synack_link *l, const uint8_t *b, const struct synack_frame_meta *m,
		     uint64_t now)
{
	return 0;
}
static void fake_destroy(struct synack_link *l) {}

static const struct synack_link_ops fake_ops = {
	.send = fake_send, .recv = fake_recv, .next_arrival = fake_next, .destroy = fake_destroy};

static struct segtest t;
static struct fake_link fl;
static uint8_t rxbuf[2048];

static void setup(void)
{
	st_init(&t, NULL);
	memset(&fl, 0, sizeof fl);
	fl.l.ops = &fake_ops;
	fl.l.fd = -1;
}
static void teardown(void) { st_fini(&t); }

/* Queues a SYN from the peer to port 80, where nobody listens: the stack answers RST|ACK with
 * ack = seq + 1, so each frame delivered shows as one reset naming its seq. */
static void queue_syn(uint32_t seq, uint64_t at, size_t payload)
{
	static const uint8_t data[64];
	struct synack_tcp_seg seg;
	memset(&seg, 0, sizeof seg);
	seg.sport = 40000;
	seg.dport = 80;
	seg.seq = seq;
	seg.flags = SYNACK_TH_SYN;
	seg.win = 65535;
	seg.payload = data;
	seg.len = payload;
	int n = synack_tcp_emit(fl.q[fl.n].b, sizeof fl.q[fl.n].b, ST_V4(ST_PEER), ST_V4(ST_LOCAL),
				1, &seg);
	cr_assert_gt(n, 0);
	fl.q[fl.n].len = (size_t)n;
	fl.q[fl.n++].at = at;
}

static struct synack_driver driver(void)
{
	return (struct synack_driver){.stack = t.s, .link = &fl.l, .buf = rxbuf, .cap = sizeof rxbuf};
}

TestSuite(driver, .init = setup, .fini = teardown);

Test(driver, delivers_the_frames_due_in_order_and_none_early)
{
	struct synack_driver d = driver();
	queue_syn(100, 1000, 0);
	queue_syn(200, 1000, 0);
	queue_syn(300, 5000, 0);
	cr_assert_eq(synack_stack_next_deadline(t.s), SYNACK_TIME_NEVER);
	cr_assert_eq(synack_driver_next(&d), 1000);

	cr_assert_eq(synack_driver_step(&d, 999), 0);
	st_expect_none(&t);
	cr_assert_eq(synack_stack_now(t.s), 999, "the clock came to now");

	cr_assert_eq(synack_driver_step(&d, 1000), 1);
	st_expect(&t, F_R | F_A, 0, 101, NULL);
	st_expect(&t, F_R | F_A, 0, 201, NULL);
	st_expect_none(&t);
	cr_assert_eq(synack_driver_next(&d), 5000);

	cr_assert_eq(synack_driver_step(&d, 4999), 0);
	st_expect_none(&t);
	cr_assert_eq(synack_driver_step(&d, 6000), 1);
	st_expect(&t, F_R | F_A, 0, 301, NULL);
	cr_assert_eq(synack_driver_next(&d), SYNACK_TIME_NEVER);
	cr_assert_eq(d.rx_dropped, 0);
}

Test(driver, max_frames_bounds_one_step)
{
	struct synack_driver d = driver();
	d.max_frames = 2;
	queue_syn(100, 10, 0);
	queue_syn(200, 10, 0);
	queue_syn(300, 10, 0);
	cr_assert_eq(synack_driver_step(&d, 10), 1);
	st_expect(&t, F_R | F_A, 0, 101, NULL);
	st_expect(&t, F_R | F_A, 0, 201, NULL);
	st_expect_none(&t);
	cr_assert_eq(synack_driver_step(&d, 10), 1);
	st_expect(&t, F_R | F_A, 0, 301, NULL);
	cr_assert_eq(synack_driver_step(&d, 10), 0);
	st_expect_none(&t);
}

Test(driver, a_frame_larger_than_the_buffer_is_counted_and_skipped)
{
	struct synack_driver d = driver();
	d.cap = 50;                 /* a bare SYN is 40 bytes */
	queue_syn(100, 10, 20);     /* 60 bytes: dropped */
	queue_syn(200, 10, 0);
	cr_assert_eq(synack_driver_step(&d, 10), 1);
	cr_assert_eq(d.rx_dropped, 1);
	st_expect(&t, F_R | F_A, 0, 201, NULL);
	st_expect_none(&t);
}

Test(driver, timers_fire_after_the_frames_and_the_next_deadline_is_the_earlier)
{
	struct st_seg syn;
	st_start_connect(&t, &syn);
	uint64_t rto = synack_stack_next_deadline(t.s);
	cr_assert_neq(rto, SYNACK_TIME_NEVER);
	struct synack_driver d = driver();
	queue_syn(100, rto, 0);
	queue_syn(200, rto + 10, 0);
	cr_assert_eq(synack_driver_next(&d), rto);
	cr_assert_eq(synack_driver_step(&d, rto - 1), 0);
	st_expect_none(&t);
	cr_assert_eq(synack_driver_step(&d, rto), 1);
	st_expect(&t, F_R | F_A, 0, 101, NULL); /* the frame first */
	st_expect(&t, F_S, syn.seq, 0, NULL);   /* then the SYN's retransmission */
	st_expect_none(&t);
	cr_assert_eq(synack_driver_next(&d), rto + 10);
}

Test(driver, a_link_error_comes_back_and_timers_still_run)
{
	struct st_seg syn;
	st_start_connect(&t, &syn);
	uint64_t rto = synack_stack_next_deadline(t.s);
	struct synack_driver d = driver();
	queue_syn(100, 0, 0);
	fl.fail = -EIO;
	cr_assert_eq(synack_driver_step(&d, rto), -EIO);
	st_expect(&t, F_S, syn.seq, 0, NULL);
	st_expect_none(&t);
}

Test(driver, without_a_link_only_timers_and_the_clock_move)
{
	struct st_seg syn;
	st_start_connect(&t, &syn);
	uint64_t rto = synack_stack_next_deadline(t.s);
	struct synack_driver d = {.stack = t.s};
	cr_assert_eq(synack_driver_next(&d), rto);
	cr_assert_eq(synack_driver_step(&d, rto - 1), 0);
	cr_assert_eq(synack_stack_now(t.s), rto - 1);
	st_expect_none(&t);
	cr_assert_eq(synack_driver_step(&d, rto), 1);
	st_expect(&t, F_S, syn.seq, 0, NULL);
	cr_assert_gt(synack_driver_next(&d), rto);
}

Test(driver, a_link_with_a_descriptor_is_read_until_it_is_empty)
{
	struct synack_driver d = driver();
	fl.l.fd = 0; /* never polled here: only its presence matters */
	queue_syn(100, 0, 0);
	queue_syn(200, 0, 0);
	cr_assert_eq(synack_driver_next(&d), SYNACK_TIME_NEVER, "the descriptor says when");
	cr_assert_eq(synack_driver_step(&d, 50), 1);
	st_expect(&t, F_R | F_A, 0, 101, NULL);
	st_expect(&t, F_R | F_A, 0, 201, NULL);
	cr_assert_eq(fl.recvs, 3, "two frames and the empty read");
	cr_assert_eq(synack_driver_step(&d, 60), 0);
	st_expect_none(&t);
}

Test(driver, a_due_frame_held_back_still_counts_as_work)
{
	struct synack_driver d = driver();
	queue_syn(100, 10, 0);
	fl.hold = 1; /* as the fault decorator releasing held frames: nothing now, more next time */
	cr_assert_eq(synack_driver_step(&d, 10), 1, "the driver must step this instant again");
	st_expect_none(&t);
	cr_assert_eq(synack_driver_step(&d, 10), 1);
	st_expect(&t, F_R | F_A, 0, 101, NULL);
	cr_assert_eq(synack_driver_step(&d, 10), 0);
}

Test(driver, hands_the_links_metadata_to_the_stack)
{
	struct synack_driver d = driver();
	queue_syn(100, 10, 0);
	queue_syn(200, 10, 0);
	fl.q[0].b[37] ^= 0x5a; /* both TCP checksums spoiled */
	fl.q[1].b[37] ^= 0x5a;
	fl.q[1].csum = SYNACK_CSUM_VERIFIED; /* the second one vouched for by the link */
	cr_assert_eq(synack_driver_step(&d, 10), 1);
	cr_assert_eq(st_drops(&t, SYNACK_DROP_TCP_BAD_CSUM), 1, "the first one is checked");
	st_expect(&t, F_R | F_A, 0, 201, NULL);
	st_expect_none(&t);
}
