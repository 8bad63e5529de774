/* Large segments both ways (TSO out, GRO'd segments in): a stack whose link declares
 * segmentation offload (caps.max_gso, gso_types, tx_csum) sends new data as frames of several
 * MSS that the link cuts into MSS pieces, within cwnd, the peer's window and Nagle; a
 * retransmission stays one MSS. A large segment in is taken as one segment, whatever part of
 * it is old, new or beyond a gap. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "support/segtest.h"

static uint8_t pattern[200000];

static void fill_pattern(void)
{
	for (size_t i = 0; i < sizeof pattern; i++)
		pattern[i] = (uint8_t)(i * 131 + (i >> 9));
}

/* A stack on a link with an MTU of 1500 that segments IPv4 TCP up to 64 KB. */
static void tso_init(struct segtest *t, uint32_t sndbuf)
{
	struct synack_config cfg;
	st_config(&cfg);
	cfg.caps.mtu = 1500;
	cfg.caps.max_gso = 65535;
	cfg.caps.gso_types = 1u << SYNACK_GSO_TCPV4;
	cfg.caps.tx_csum = 1;
	if (sndbuf)
		cfg.sndbuf = sndbuf;
	st_init(t, &cfg);
	fill_pattern();
}

/* The metadata of the next frame to be popped by st_next(). */
static const struct synack_frame_meta *next_meta(const struct segtest *t)
{
	cr_assert_lt(t->next, t->nframes, "a frame is waiting");
	return &t->frames[t->next].meta;
}

/* Pops the next frame and asserts it: flags, seq, payload (from pattern at off), and whether
 * it is segmented in MSS pieces of 1460 bytes. */
static void expect_frame(struct segtest *t, uint8_t flags, uint32_t seq, uint32_t ack, size_t off,
			 size_t len, bool gso)
{
	const struct synack_frame_meta *m = next_meta(t);
	if (gso) {
		cr_assert_eq(m->gso_type, SYNACK_GSO_TCPV4, "a %zu-byte segmented frame", len);
		cr_assert_eq(m->gso_size, 1460);
		cr_assert_eq(m->hdr_len, 40, "IPv4 20 + TCP 20, no options");
		cr_assert_eq(m->csum, SYNACK_CSUM_NEEDED);
		cr_assert_eq(m->len, 40 + len, "frame %u bytes, want 40 + %zu", m->len, len);
	} else {
		cr_assert_eq(m->gso_type, SYNACK_GSO_NONE, "a %zu-byte frame, not segmented", len);
		cr_assert_leq(m->len, 1500);
	}
	struct st_seg o;
	st_expect(t, flags, seq, ack, &o);
	cr_assert_eq(o.len, len, "payload: want %zu got %zu", len, o.len);
	cr_assert_arr_eq(o.data, pattern + off, len, "the bytes at offset %zu", off);
}

Test(tso, new_data_goes_in_large_frames_within_cwnd_and_the_peer_window)
{
	struct segtest t;
	tso_init(&t, 200000);
	uint32_t iss;
	int fd = st_passive_open(&t, 0, &iss);
	uint32_t d = iss + 1; /* our first data byte */
	cr_assert_eq(synack_send(t.s, fd, pattern, 100000, 0), 100000);
	/* The initial window, 10 segments, in one frame of 10 pieces. */
	expect_frame(&t, F_A, d, 1, 0, 14600, true);
	st_expect_none(&t);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_OutSegs), 1 + 10, "SYN-ACK, 10 pieces (Linux's pcount): %llu",
		     (unsigned long long)st_counter(&t, SYNACK_CTR_OutSegs));

	/* Slow start grows cwnd (by how much is the controller's business): the next frame
	 * carries whole MSS up to it. */
	ST_IN(&t, .flags = F_A, .seq = 1, .ack = d + 14600);
	uint32_t x = next_meta(&t)->len - 40;
	cr_assert_gt(x, 14600, "cwnd grew: %u", x);
	cr_assert_eq(x % 1460, 0, "whole segments: %u", x);
	expect_frame(&t, F_A, d + 14600, 1, 14600, x, true);
	st_expect_none(&t);

	/* The peer's window shrinks to 8000 with more than that in flight: nothing may go. */
	ST_IN(&t, .flags = F_A, .seq = 1, .ack = d + 14600 + 7300, .win = 8000);
	st_expect_none(&t);
	/* Everything acknowledged, a window of 5000: three whole MSS in one frame; the last
	 * 620 bytes the window allows wait (sender SWS avoidance, RFC 9293 §3.8.6.2.1). */
	uint32_t o = 14600 + x;
	ST_IN(&t, .flags = F_A, .seq = 1, .ack = d + o, .win = 5000);
	expect_frame(&t, F_A, d + o, 1, o, 4380, true);
	st_expect_none(&t);
	/* A window of one MSS and a bit: one plain segment, not a segmented frame. */
	ST_IN(&t, .flags = F_A, .seq = 1, .ack = d + o + 4380, .win = 2000);
	expect_frame(&t, F_A, d + o + 4380, 1, o + 4380, 1460, false);
	st_expect_none(&t);
	st_fini(&t);
}

Test(tso, a_short_last_piece_goes_only_when_nagle_lets_it)
{
	struct segtest t;
	tso_init(&t, 0);
	uint32_t iss;
	int fd = st_passive_open(&t, 0, &iss);
	uint32_t d = iss + 1;
	/* Nothing in flight: 3000 bytes go at once, two pieces and a short one, PSH on it. */
	cr_assert_eq(synack_send(t.s, fd, pattern, 3000, 0), 3000);
	expect_frame(&t, F_A | F_P, d, 1, 0, 3000, true);
	/* 3000 more while that short piece is unacknowledged (Minshall's Nagle, as Linux's
	 * tcp_mss_split_point): the frame stops at the last whole MSS, the 80 bytes wait. */
	cr_assert_eq(synack_send(t.s, fd, pattern + 3000, 3000, 0), 3000);
	expect_frame(&t, F_A, d + 3000, 1, 3000, 2920, true);
	st_expect_none(&t);
	/* The short piece is acknowledged: the 80 bytes go, alone. */
	ST_IN(&t, .flags = F_A, .seq = 1, .ack = d + 3000);
	expect_frame(&t, F_A | F_P, d + 5920, 1, 5920, 80, false);
	st_expect_none(&t);

	/* TCP_NODELAY: the short tail goes inside the frame even with data in flight. */
	int one = 1;
	cr_assert_eq(synack_setsockopt(t.s, fd, SYNACK_IPPROTO_TCP, SYNACK_TCP_NODELAY, &one,
				       sizeof one), 0);
	cr_assert_eq(synack_send(t.s, fd, pattern + 6000, 3000, 0), 3000);
	expect_frame(&t, F_A | F_P, d + 6000, 1, 6000, 3000, true);
	st_expect_none(&t);
	st_fini(&t);
}

/* Moves the clock by 1 ms steps until the stack sends something (at most limit_us). */
static void run_until_output(struct segtest *t, uint64_t limit_us)
{
	while (st_pending(t) == 0 && t->now < limit_us)
		st_at(t, t->now + 1000);
	cr_assert_gt(st_pending(t), 0, "something was sent by %llu us", (unsigned long long)limit_us);
}

Test(tso, a_retransmission_inside_a_large_frame_is_one_mss)
{
	struct segtest t;
	tso_init(&t, 0);
	uint32_t iss;
	int fd = st_passive_open(&t, 0, &iss);
	uint32_t d = iss + 1;
	cr_assert_eq(synack_send(t.s, fd, pattern, 14600, 0), 14600);
	expect_frame(&t, F_A | F_P, d, 1, 0, 14600, true);
	/* The frame is lost: the RTO resends its first MSS alone (cwnd is one segment). */
	run_until_output(&t, 5000000);
	expect_frame(&t, F_A, d, 1, 0, 1460, false);
	st_expect_none(&t);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_RetransSegs), 1);
	/* Its ACK lets cwnd grow to two: the next two, one MSS each, never a large frame. */
	ST_IN(&t, .flags = F_A, .seq = 1, .ack = d + 1460);
	expect_frame(&t, F_A, d + 1460, 1, 1460, 1460, false);
	expect_frame(&t, F_A, d + 2920, 1, 2920, 1460, false);
	st_expect_none(&t);
	/* Three duplicate ACKs: fast retransmit, one MSS. */
	ST_IN(&t, .flags = F_A, .seq = 1, .ack = d + 2920);
	(void)st_pending(&t);
	while (st_pending(&t))
		(void)st_next(&t, &(struct st_seg){0});
	for (int i = 0; i < 3; i++)
		ST_IN(&t, .flags = F_A, .seq = 1, .ack = d + 2920);
	cr_assert_gt(st_pending(&t), 0);
	bool resent = false;
	while (st_pending(&t)) {
		const struct synack_frame_meta *m = next_meta(&t);
		struct st_seg o;
		cr_assert(st_next(&t, &o));
		if (o.seq == d + 2920 && o.len == 1460) {
			cr_assert_eq(m->gso_type, SYNACK_GSO_NONE, "the fast retransmission is small");
			resent = true;
		}
	}
	cr_assert(resent, "the hole at %u was resent", d + 2920);
	st_fini(&t);
}

Test(tso, a_stack_without_segmentation_caps_never_sends_a_large_frame)
{
	struct segtest t;
	struct synack_config cfg;
	st_config(&cfg);
	cfg.caps.mtu = 1500;
	cfg.caps.max_gso = 65535; /* segmentation without checksum offload is no offer */
	cfg.caps.gso_types = 1u << SYNACK_GSO_TCPV4;
	st_init(&t, &cfg);
	fill_pattern();
	uint32_t iss;
	int fd = st_passive_open(&t, 0, &iss);
	cr_assert_eq(synack_send(t.s, fd, pattern, 14600, 0), 14600);
	for (int i = 0; i < 10; i++)
		expect_frame(&t, i == 9 ? F_A | F_P : F_A, iss + 1 + 1460u * (uint32_t)i, 1,
			     1460u * (size_t)i, 1460, false);
	st_expect_none(&t);
	st_fini(&t);
}

/* A large segment from the peer as a GRO'ing link hands it over: one frame, TCPV4 segments
 * of 1460, checksum verified by the device. */
static void input_large(struct segtest *t, uint32_t seq, uint32_t ack, size_t off, size_t len)
{
	static uint8_t buf[70000];
	struct synack_tcp_seg seg = {.sport = t->rport, .dport = t->lport, .seq = seq, .ack = ack,
				     .flags = F_A, .win = 65535, .payload = pattern + off,
				     .len = len};
	int n = synack_tcp_emit(buf, sizeof buf, ST_V4(ST_PEER), ST_V4(ST_LOCAL), 1, &seg);
	cr_assert_gt(n, 0);
	struct synack_frame_meta m = synack_frame_meta_plain(buf, (size_t)n);
	m.csum = SYNACK_CSUM_VERIFIED;
	m.gso_type = SYNACK_GSO_TCPV4;
	m.gso_size = 1460;
	m.hdr_len = 40;
	cr_assert_eq(synack_stack_input_frame(t->s, buf, &m, t->now), 0);
}

Test(tso, a_large_segment_in_is_one_segment_old_new_and_out_of_order_parts_alike)
{
	struct segtest t;
	st_init(&t, NULL);
	fill_pattern();
	uint32_t iss;
	int fd = st_passive_open(&t, 0, &iss);
	uint32_t a = iss + 1; /* what the peer acknowledges */
	uint64_t in0 = st_counter(&t, SYNACK_CTR_InSegs);

	ST_IN(&t, .flags = F_A, .seq = 1, .ack = a, .data = pattern, .len = 3000);
	st_expect(&t, F_A, a, 3001, NULL);
	/* [1000, 25000): the first 2000 bytes are old, the rest new: one ACK for all of it. */
	input_large(&t, 1 + 1000, a, 1000, 24000);
	st_expect(&t, F_A, a, 25001, NULL);
	st_expect_none(&t);
	/* [40000, 60000) beyond a gap: kept, and a duplicate ACK at once. */
	input_large(&t, 1 + 40000, a, 40000, 20000);
	st_expect(&t, F_A, a, 25001, NULL);
	st_expect_none(&t);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_TCPOFOQueue), 1, "one out-of-order segment");
	/* [25000, 40000) fills the gap: everything is acknowledged by one ACK. */
	input_large(&t, 1 + 25000, a, 25000, 15000);
	st_expect(&t, F_A, a, 60001, NULL);
	st_expect_none(&t);
	/* Four segments in, counted as Linux counts coalesced ones (their pieces): 1 + 17 +
	 * 14 + 11 for 3000, 24000, 20000 and 15000 bytes in pieces of 1460. */
	cr_assert_eq(st_counter(&t, SYNACK_CTR_InSegs) - in0, 43, "InSegs %llu",
		     (unsigned long long)(st_counter(&t, SYNACK_CTR_InSegs) - in0));

	static uint8_t got[60000];
	size_t have = 0;
	while (have < sizeof got) {
		ssize_t n = synack_recv(t.s, fd, got + have, sizeof got - have, 0);
		cr_assert_gt(n, 0, "recv: %zd", n);
		have += (size_t)n;
	}
	cr_assert_arr_eq(got, pattern, sizeof got, "60000 bytes, byte-exact");
	cr_assert_eq(synack_recv(t.s, fd, got, 1, 0), -EAGAIN);
	st_fini(&t);
}
