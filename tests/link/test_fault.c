/* The fault decorator: each fault's rate over 100k frames, drop_if exactness, corruption
 * flipping 1-3 bits, reordering that really reorders (and that the clock sees through
 * next_arrival), trace events, determinism under the seed, parameter checks. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "link/simnet_util.h"
#include "synack/link.h"
#include "synack/stack.h"
#include "synack/trace.h"
#include "synack/wire.h"

/* A pointer to the IPv4 address x (host order) as a synack_addr, for the codec. */
#define ST_V4(x) (&(const struct synack_addr[1]){synack_addr_v4(x)}[0])

/* ---- a link that records what reaches it ------------------------------------------------ */

struct rec {
	uint64_t t;
	uint32_t tag;
	int flipped; /* bits differing from the template frame */
};

struct rec_link {
	struct synack_link link;
	const uint8_t *tmpl; /* when set, count bit differences against it */
	size_t n, cap;
	struct rec *r;
	int destroyed;
	uint8_t last[64]; /* the last frame's first 64 bytes */
	struct synack_frame_meta last_meta; /* and its metadata */
	void (*check)(const uint8_t *f, size_t len); /* called with every frame, when set */
};

static int rec_send(struct synack_link *l, const uint8_t *f, const struct synack_frame_meta *meta,
		    uint64_t now)
{
	struct rec_link *rl = (struct rec_link *)l;
	size_t len = meta->len;
	rl->last_meta = *meta;
	if (rl->n == rl->cap) {
		rl->cap = rl->cap ? rl->cap * 2 : 1024;
		rl->r = realloc(rl->r, rl->cap * sizeof(*rl->r));
		cr_assert_not_null(rl->r);
	}
	struct rec *r = &rl->r[rl->n++];
	r->t = now;
	r->tag = frame_tag(f);
	r->flipped = 0;
	memcpy(rl->last, f, len < sizeof(rl->last) ? len : sizeof(rl->last));
	if (rl->check)
		rl->check(f, len);
	if (rl->tmpl)
		for (size_t i = 0; i < len; i++)
			r->flipped += __builtin_popcount(f[i] ^ rl->tmpl[i]);
	return 0;
}
static ssize_t rec_recv(struct synack_link *l, uint8_t *b, size_t cap, struct synack_frame_meta *out,
			uint64_t now)
{
	return 0;
}
static uint64_t rec_next(struct synack_link *l)
{
	return SYNACK_TIME_NEVER;
}
static void rec_destroy(struct synack_link *l)
{
	struct rec_link *rl = (struct rec_link *)l;
	free(rl->r);
	rl->r = NULL;
	rl->destroyed++;
}
static const struct synack_link_ops rec_ops = {
	.send = rec_send, .recv = rec_recv, .next_arrival = rec_next, .destroy = rec_destroy};

static struct rec_link inner;

static void inner_init(void)
{
	memset(&inner, 0, sizeof(inner));
	inner.link.ops = &rec_ops;
	inner.link.fd = -1;
}

/* ---- a trace sink that counts ------------------------------------------------------------- */

struct sink {
	uint64_t n[16];
	uint32_t last_tag;
	struct synack_trace_event last;
	struct synack_tcp_seg last_seg;
	bool last_had_seg;
};

static void sink_fn(void *ctx, const struct synack_trace_event *ev)
{
	struct sink *s = ctx;
	s->n[ev->kind]++;
	s->last = *ev;
	s->last_had_seg = ev->seg != NULL;
	if (ev->seg)
		s->last_seg = *ev->seg;
	if (ev->frame_len >= 24)
		s->last_tag = frame_tag(ev->frame);
}

#define N 100000

/* Sends N copies of one frame (tag = index) through a decorator with params p; returns it. */
static struct synack_link *run(struct synack_fault_params *p, struct sink *s, uint64_t seed)
{
	struct synack_link *f;
	p->trace = sink_fn;
	p->trace_ctx = s;
	p->host = "client";
	cr_assert_eq(synack_fault_wrap(&inner.link, p, seed, &f), 0);
	uint8_t frame[64];
	for (uint32_t i = 0; i < N; i++) {
		mkframe(frame, sizeof(frame), ADDR(10, 0, 0, 1), ADDR(10, 0, 0, 2), i);
		cr_assert_eq(synack_link_send_plain(f, frame, sizeof(frame), (uint64_t)i * 10), 0);
	}
	return f;
}

static void assert_rate(uint64_t count, double p, const char *what)
{
	/* The binomial's standard deviation is sqrt(N p (1-p)); allow 5 of them. Deterministic
	 * for the fixed seed anyway, the bound only says "close to the parameter". */
	double mean = N * p, sd = sqrt(N * p * (1 - p));
	cr_assert(fabs((double)count - mean) <= 5 * sd + 1, "%s: %llu frames for p=%.3f (mean %.0f)",
		  what, (unsigned long long)count, p, mean);
}

Test(fault, loss_rate_matches_the_parameter, .init = inner_init)
{
	struct sink s = {0};
	struct synack_fault_params p = {.loss = 0.05};
	struct synack_link *f = run(&p, &s, 1);
	assert_rate(s.n[SYNACK_TRACE_LOST], 0.05, "lost");
	cr_assert_eq(inner.n + s.n[SYNACK_TRACE_LOST], N, "every frame is sent or lost");
	struct synack_fault_stats st;
	cr_assert_eq(synack_fault_stats(f, &st), 0);
	cr_assert_eq(st.frames, N);
	cr_assert_eq(st.lost, s.n[SYNACK_TRACE_LOST]);
	cr_assert_eq(st.dup + st.corrupt + st.reorder, 0);
	synack_link_destroy(f);
	cr_assert_eq(inner.destroyed, 1, "the decorator owns the inner link");
}

Test(fault, duplication_rate_matches_and_copies_are_identical, .init = inner_init)
{
	struct sink s = {0};
	struct synack_fault_params p = {.dup = 0.2};
	struct synack_link *f = run(&p, &s, 2);
	assert_rate(s.n[SYNACK_TRACE_DUP], 0.2, "duplicated");
	cr_assert_eq(inner.n, N + s.n[SYNACK_TRACE_DUP]);
	size_t dups = 0;
	for (size_t i = 1; i < inner.n; i++)
		if (inner.r[i].tag == inner.r[i - 1].tag) {
			dups++;
			cr_assert_eq(inner.r[i].t, inner.r[i - 1].t, "the copy goes at the same time");
		}
	cr_assert_eq(dups, s.n[SYNACK_TRACE_DUP]);
	synack_link_destroy(f);
}

Test(fault, corruption_rate_matches_and_flips_one_to_three_bits, .init = inner_init)
{
	struct sink s = {0};
	struct synack_fault_params p = {.corrupt = 0.1};
	struct synack_link *f;
	p.trace = sink_fn;
	p.trace_ctx = &s;
	cr_assert_eq(synack_fault_wrap(&inner.link, &p, 3, &f), 0);
	uint8_t frame[64];
	mkframe(frame, sizeof(frame), ADDR(10, 0, 0, 1), ADDR(10, 0, 0, 2), 0);
	inner.tmpl = frame;
	for (uint32_t i = 0; i < N; i++)
		cr_assert_eq(synack_link_send_plain(f, frame, sizeof(frame), i), 0);
	cr_assert_eq(inner.n, N);
	uint64_t by_bits[4] = {0};
	for (size_t i = 0; i < inner.n; i++) {
		cr_assert_leq(inner.r[i].flipped, 3);
		by_bits[inner.r[i].flipped]++;
	}
	uint64_t corrupted = by_bits[1] + by_bits[2] + by_bits[3];
	cr_assert_eq(corrupted, s.n[SYNACK_TRACE_CORRUPT], "every corrupted frame differs");
	assert_rate(corrupted, 0.1, "corrupted");
	for (int b = 1; b <= 3; b++)
		cr_assert(by_bits[b] > corrupted / 4, "%d-bit flips: %llu of %llu", b,
			  (unsigned long long)by_bits[b], (unsigned long long)corrupted);
	cr_assert_arr_eq(s.last.frame, frame, sizeof(frame), "the event shows the sent frame");
	synack_link_destroy(f);
}

Test(fault, corruption_hits_every_part_of_the_frame, .init = inner_init)
{
	/* "anywhere in the frame": over many corruptions every bit position gets hit, and the
	 * caller's buffer is never modified. */
	struct synack_fault_params p = {.corrupt = 1.0};
	struct synack_link *f;
	cr_assert_eq(synack_fault_wrap(&inner.link, &p, 4, &f), 0);
	uint8_t frame[40], before[40], hit[40] = {0};
	mkframe(frame, sizeof(frame), ADDR(10, 0, 0, 1), ADDR(10, 0, 0, 2), 0);
	memcpy(before, frame, sizeof(frame));
	for (int i = 0; i < 5000; i++) {
		cr_assert_eq(synack_link_send_plain(f, frame, sizeof(frame), (uint64_t)i), 0);
		cr_assert_arr_eq(frame, before, sizeof(frame), "the caller's frame is untouched");
		int flipped = 0;
		unsigned lanes = 0;
		for (size_t b = 0; b < sizeof(frame); b++) {
			uint8_t d = inner.last[b] ^ frame[b];
			hit[b] |= d;
			flipped += __builtin_popcount(d);
			for (int k = 0; k < 8; k++)
				if (d & (1u << k)) {
					unsigned lane = (unsigned)((b % 2) * 8 + k);
					cr_assert_not(lanes & (1u << lane),
						      "two flips in one checksum lane");
					lanes |= 1u << lane;
				}
		}
		cr_assert(flipped >= 1 && flipped <= 3, "%d bits flipped", flipped);
	}
	for (size_t b = 0; b < sizeof(frame); b++)
		cr_assert_eq(hit[b], 0xff, "every bit of byte %zu was flipped at some point", b);
	synack_link_destroy(f);
}

Test(fault, reordering_holds_frames_back_and_they_are_overtaken, .init = inner_init)
{
	struct sink s = {0};
	struct synack_fault_params p = {.reorder = 0.1, .reorder_delay_us = 1000};
	struct synack_link *f = run(&p, &s, 5);
	/* Frames were sent every 10 us: a held frame is released by the send 1000 us later,
	 * stamped with its release time, behind ~100 frames that overtook it. */
	assert_rate(s.n[SYNACK_TRACE_REORDER], 0.1, "reordered");
	uint64_t next = synack_link_next_arrival(f);
	cr_assert(next > (uint64_t)(N - 1) * 10 && next <= (uint64_t)(N - 1) * 10 + 1000,
		  "frames held during the last 1000 us are still due: next %llu",
		  (unsigned long long)next);
	uint8_t buf[8];
	cr_assert_eq(synack_link_recv(f, buf, sizeof(buf), NULL, SYNACK_TIME_NEVER - 1), 0);
	cr_assert_eq(synack_link_next_arrival(f), SYNACK_TIME_NEVER, "all released");
	cr_assert_eq(inner.n, N, "nothing lost");
	size_t late = 0;
	uint64_t prev_t = 0;
	for (size_t i = 0; i < inner.n; i++) {
		cr_assert_geq(inner.r[i].t, prev_t, "the inner link sees time move forward");
		prev_t = inner.r[i].t;
		uint64_t sent_at = (uint64_t)inner.r[i].tag * 10;
		if (inner.r[i].t != sent_at) {
			cr_assert_eq(inner.r[i].t, sent_at + 1000, "held exactly reorder_delay_us");
			late++;
		}
		if (i > 0 && inner.r[i].tag < inner.r[i - 1].tag)
			cr_assert_eq(inner.r[i].t, (uint64_t)inner.r[i].tag * 10 + 1000);
	}
	cr_assert_eq(late, s.n[SYNACK_TRACE_REORDER]);
	synack_link_destroy(f);
}

Test(fault, held_frames_drive_next_arrival_and_reach_the_simnet)
{
	struct synack_simnet *net;
	struct synack_link *a, *b, *fa;
	struct synack_sim_path path = {.delay_us = 100};
	cr_assert_eq(synack_simnet_new(&net, 1), 0);
	cr_assert_eq(synack_simnet_attach(net, ADDR(10, 0, 0, 1), &path, &a), 0);
	cr_assert_eq(synack_simnet_attach(net, ADDR(10, 0, 0, 2), &path, &b), 0);
	struct synack_fault_params p = {.reorder = 1.0, .reorder_delay_us = 500};
	cr_assert_eq(synack_fault_wrap(a, &p, 1, &fa), 0);
	uint8_t f1[40], buf[64];
	mkframe(f1, sizeof(f1), ADDR(10, 0, 0, 1), ADDR(10, 0, 0, 2), 1);
	cr_assert_eq(synack_link_send_plain(fa, f1, sizeof(f1), 1000), 0);
	cr_assert_eq(synack_link_next_arrival(fa), 1500, "the held frame wakes the sender's link");
	cr_assert_eq(synack_link_next_arrival(b), SYNACK_TIME_NEVER, "not on the wire yet");
	cr_assert_eq(synack_link_recv(fa, buf, sizeof(buf), NULL, 1499), 0);
	cr_assert_eq(synack_link_next_arrival(b), SYNACK_TIME_NEVER);
	cr_assert_eq(synack_link_recv(fa, buf, sizeof(buf), NULL, 1500), 0, "nothing for A itself");
	cr_assert_eq(synack_link_next_arrival(fa), SYNACK_TIME_NEVER);
	cr_assert_eq(synack_link_next_arrival(b), 1600, "released at 1500, plus the path delay");
	cr_assert_eq(synack_link_recv(b, buf, sizeof(buf), NULL, 1600), 40);
	cr_assert_arr_eq(buf, f1, sizeof(f1));
	synack_link_destroy(fa);
	synack_link_destroy(b);
	synack_simnet_destroy(net);
}

Test(fault, reorder_default_delay_is_1000us, .init = inner_init)
{
	struct synack_fault_params p = {.reorder = 1.0};
	struct synack_link *f;
	cr_assert_eq(synack_fault_wrap(&inner.link, &p, 1, &f), 0);
	uint8_t fr[40];
	mkframe(fr, sizeof(fr), ADDR(10, 0, 0, 1), ADDR(10, 0, 0, 2), 1);
	cr_assert_eq(synack_link_send_plain(f, fr, sizeof(fr), 7), 0);
	cr_assert_eq(synack_link_next_arrival(f), 1007);
	synack_link_destroy(f);
}

static bool drop_every_seventh(void *ctx, const uint8_t *frame, size_t len, uint64_t now)
{
	(*(int *)ctx)++;
	return frame_tag(frame) % 7 == 0;
}

Test(fault, drop_if_drops_exactly_what_it_selects, .init = inner_init)
{
	struct sink s = {0};
	int calls = 0;
	struct synack_fault_params p = {.drop_if = drop_every_seventh, .drop_ctx = &calls};
	struct synack_link *f = run(&p, &s, 6);
	cr_assert_eq(calls, N);
	cr_assert_eq(s.n[SYNACK_TRACE_LOST], (N + 6) / 7, "counted as LOST");
	cr_assert_eq(inner.n, N - (N + 6) / 7);
	for (size_t i = 0; i < inner.n; i++)
		cr_assert_neq(inner.r[i].tag % 7, 0);
	synack_link_destroy(f);
}

static uint64_t decisions_hash(uint64_t seed)
{
	inner_init();
	struct sink s = {0};
	struct synack_fault_params p = {.loss = 0.1, .dup = 0.1, .reorder = 0.1, .corrupt = 0.1};
	struct synack_link *f = run(&p, &s, seed);
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < inner.n; i++)
		h = (h ^ (inner.r[i].t * 1000003u + inner.r[i].tag)) * 1099511628211ull;
	synack_link_destroy(f);
	return h;
}

Test(fault, same_seed_same_faults_different_seed_different_faults)
{
	uint64_t a = decisions_hash(9), b = decisions_hash(9), c = decisions_hash(10);
	cr_assert_eq(a, b);
	cr_assert_neq(a, c);
}

Test(fault, trace_events_carry_host_time_frame_and_segment, .init = inner_init)
{
	struct sink s = {0};
	struct synack_fault_params p = {.loss = 1.0, .trace = sink_fn, .trace_ctx = &s,
					.host = "server"};
	struct synack_link *f;
	cr_assert_eq(synack_fault_wrap(&inner.link, &p, 1, &f), 0);
	uint8_t fr[100];
	static const uint8_t data[] = "hello";
	struct synack_tcp_seg seg = {.sport = 80, .dport = 40000, .seq = 0xfffffff0u,
				     .ack = 12345, .flags = SYNACK_TH_PSH | SYNACK_TH_ACK,
				     .win = 512, .payload = data, .len = 5};
	int len = synack_tcp_emit(fr, sizeof(fr), ST_V4(ADDR(10, 0, 0, 2)),
				  ST_V4(ADDR(10, 0, 0, 1)), 1, &seg);
	cr_assert_gt(len, 0);
	cr_assert_eq(synack_link_send_plain(f, fr, (size_t)len, 4242), 0);
	cr_assert_eq(s.n[SYNACK_TRACE_LOST], 1);
	cr_assert_eq(s.last.kind, SYNACK_TRACE_LOST);
	cr_assert_eq(s.last.t_us, 4242);
	cr_assert_str_eq(s.last.host, "server");
	cr_assert_eq(s.last.frame, fr);
	cr_assert_eq(s.last.frame_len, (size_t)len);
	cr_assert(s.last_had_seg);
	cr_assert_eq(s.last_seg.seq, 0xfffffff0u);
	cr_assert_eq(s.last_seg.ack, 12345);
	cr_assert_eq(s.last_seg.flags, SYNACK_TH_PSH | SYNACK_TH_ACK);
	cr_assert_eq(s.last_seg.len, 5);
	cr_assert(s.last.has_conn);
	cr_assert(synack_addr_eq(
		&s.last.local.addr,
		&(struct synack_addr){{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 2}}));
	cr_assert_eq(s.last.local.port, 80);
	cr_assert_eq(s.last.remote.port, 40000);

	/* A frame that is not TCP still produces an event, without a segment. */
	mkframe(fr, 40, ADDR(10, 0, 0, 2), ADDR(10, 0, 0, 1), 3);
	cr_assert_eq(synack_link_send_plain(f, fr, 40, 5000), 0);
	cr_assert_eq(s.n[SYNACK_TRACE_LOST], 2);
	cr_assert_not(s.last_had_seg);
	cr_assert_not(s.last.has_conn);
	synack_link_destroy(f);
}

Test(fault, every_fault_kind_is_traced, .init = inner_init)
{
	struct sink s = {0};
	struct synack_fault_params p = {.loss = 0.2, .dup = 0.2, .reorder = 0.2, .corrupt = 0.2};
	struct synack_link *f = run(&p, &s, 11);
	struct synack_fault_stats st;
	cr_assert_eq(synack_fault_stats(f, &st), 0);
	cr_assert_eq(st.lost, s.n[SYNACK_TRACE_LOST]);
	cr_assert_eq(st.dup, s.n[SYNACK_TRACE_DUP]);
	cr_assert_eq(st.corrupt, s.n[SYNACK_TRACE_CORRUPT]);
	cr_assert_eq(st.reorder, s.n[SYNACK_TRACE_REORDER]);
	assert_rate(st.lost, 0.2, "lost");
	/* The other faults apply only to frames that were not lost. */
	double kept = (double)(N - st.lost) / N;
	assert_rate(st.dup, 0.2 * kept, "duplicated");
	assert_rate(st.corrupt, 0.2 * kept, "corrupted");
	assert_rate(st.reorder, 0.2 * kept, "reordered");
	synack_link_destroy(f);
}

Test(fault, no_faults_is_a_transparent_pass_through, .init = inner_init)
{
	struct sink s = {0};
	struct synack_fault_params p = {0};
	struct synack_link *f = run(&p, &s, 12);
	cr_assert_eq(inner.n, N);
	for (size_t i = 0; i < N; i++) {
		cr_assert_eq(inner.r[i].tag, i);
		cr_assert_eq(inner.r[i].t, i * 10);
	}
	for (int k = 0; k < 16; k++)
		cr_assert_eq(s.n[k], 0);
	synack_link_destroy(f);
}

Test(fault, bad_parameters_are_einval, .init = inner_init)
{
	struct synack_link *f = NULL;
	struct synack_fault_params p = {.loss = 1.5};
	cr_assert_eq(synack_fault_wrap(&inner.link, &p, 1, &f), -EINVAL);
	p = (struct synack_fault_params){.dup = -0.1};
	cr_assert_eq(synack_fault_wrap(&inner.link, &p, 1, &f), -EINVAL);
	p = (struct synack_fault_params){.corrupt = NAN};
	cr_assert_eq(synack_fault_wrap(&inner.link, &p, 1, &f), -EINVAL);
	cr_assert_eq(synack_fault_wrap(&inner.link, NULL, 1, &f), -EINVAL);
	cr_assert_null(f);
	cr_assert_eq(synack_fault_stats(&inner.link, &(struct synack_fault_stats){0}), -EINVAL,
		     "not a fault decorator");
	p = (struct synack_fault_params){.loss = 0.5};
	cr_assert_eq(synack_fault_wrap(&inner.link, &p, 1, &f), 0);
	p.reorder = 2;
	cr_assert_eq(synack_fault_set_params(f, &p), -EINVAL);
	p.reorder = 0;
	p.loss = 1.0;
	cr_assert_eq(synack_fault_set_params(f, &p), 0);
	uint8_t fr[40];
	mkframe(fr, sizeof(fr), 1, ADDR(10, 0, 0, 2), 1);
	for (int i = 0; i < 100; i++)
		cr_assert_eq(synack_link_send_plain(f, fr, sizeof(fr), 0), 0);
	cr_assert_eq(inner.n, 0, "loss 1.0 loses everything");
	synack_link_destroy(f);
}

/* Corruption is always caught by the receiver's checksums (flips in distinct 16-bit lanes),
 * unless corrupt_raw asks for flips that may cancel out, as on a real link. */
static uint64_t csum_escapes, csum_frames;

static void check_checksum(const uint8_t *f, size_t len)
{
	struct synack_ipv4 ip;
	struct synack_tcp_seg seg;
	const uint8_t *p;
	size_t pl;
	csum_frames++;
	if (synack_ipv4_parse(f, len, &ip, &p, &pl) == 0 && ip.proto == SYNACK_PROTO_TCP &&
	    synack_tcp_parse(p, pl, ST_V4(ip.src), ST_V4(ip.dst), true, &seg) == 0)
		csum_escapes++;
}

static void corrupt_many(bool raw, uint64_t seed)
{
	struct synack_fault_params p = {.corrupt = 1.0, .corrupt_raw = raw};
	struct synack_link *f;
	inner.check = check_checksum;
	csum_escapes = csum_frames = 0;
	cr_assert_eq(synack_fault_wrap(&inner.link, &p, seed, &f), 0);
	uint8_t fr[200], payload[147];
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 13);
	struct synack_tcp_seg seg = {.sport = 40000, .dport = 80, .seq = 1, .ack = 2,
				     .flags = SYNACK_TH_ACK, .win = 100, .payload = payload,
				     .len = sizeof(payload)};
	int len = synack_tcp_emit(fr, sizeof(fr), ST_V4(ADDR(10, 0, 0, 1)),
				  ST_V4(ADDR(10, 0, 0, 2)), 7, &seg);
	cr_assert_gt(len, 0);
	for (int i = 0; i < N; i++)
		cr_assert_eq(synack_link_send_plain(f, fr, (size_t)len, (uint64_t)i), 0);
	synack_link_destroy(f);
	cr_assert_eq(csum_frames, N);
}

Test(fault, corrupted_frames_never_pass_the_checksums, .init = inner_init)
{
	corrupt_many(false, 21);
	cr_assert_eq(csum_escapes, 0, "%llu of %d corrupted frames passed the checksums",
		     (unsigned long long)csum_escapes, N);
}

Test(fault, raw_corruption_sometimes_escapes_the_checksum, .init = inner_init)
{
	corrupt_many(true, 21);
	/* Two flips of one lane in opposite directions cancel in a ones' complement sum. */
	cr_assert(csum_escapes > N / 1000 && csum_escapes < N / 20, "%llu escapes",
		  (unsigned long long)csum_escapes);
}

/* A frame the device segments (GSO) is summed piece by piece after any flip, so the damage
 * would pass: a corruption draw that hits one drops it (counted and traced as corrupted);
 * the same draw on a plain frame of the same bytes flips bits and sends it. */
Test(fault, a_corrupted_gso_frame_is_dropped_not_damaged, .init = inner_init)
{
	struct sink s = {0};
	struct synack_fault_params p = {.corrupt = 1.0, .trace = sink_fn, .trace_ctx = &s};
	struct synack_link *f;
	cr_assert_eq(synack_fault_wrap(&inner.link, &p, 5, &f), 0);
	uint8_t frame[3000];
	mkframe(frame, sizeof(frame), ADDR(10, 0, 0, 1), ADDR(10, 0, 0, 2), 0);
	inner.tmpl = frame;
	struct synack_frame_meta gso = {.len = sizeof(frame), .family = SYNACK_AF_INET,
					.csum = SYNACK_CSUM_NEEDED, .gso_type = SYNACK_GSO_TCPV4,
					.gso_size = 1448, .hdr_len = 40, .csum_start = 20,
					.csum_offset = 16};
	cr_assert_eq(synack_link_send(f, frame, &gso, 0), 0);
	cr_assert_eq(inner.n, 0, "nothing reached the device");
	cr_assert_eq(s.n[SYNACK_TRACE_CORRUPT], 1);
	struct synack_fault_stats st;
	cr_assert_eq(synack_fault_stats(f, &st), 0);
	cr_assert_eq(st.corrupt, 1);
	cr_assert_eq(synack_link_send_plain(f, frame, sizeof(frame), 1), 0);
	cr_assert_eq(inner.n, 1, "a plain frame goes on");
	cr_assert_geq(inner.r[0].flipped, 1);
	cr_assert_leq(inner.r[0].flipped, 3);
	cr_assert_eq(s.n[SYNACK_TRACE_CORRUPT], 2);
	synack_link_destroy(f);
}
