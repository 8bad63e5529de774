/* The simulated network: exact delivery times (delay, jitter bounds, serialisation at the
 * bandwidth), ordering of ties, routing, queue limits and determinism under a seed. */
#include <criterion/criterion.h>
#include <errno.h>

#include "link/simnet_util.h"
#include "synack/link.h"
#include "synack/stack.h"

#define A ADDR(10, 0, 0, 1)
#define B ADDR(10, 0, 0, 2)
#define C ADDR(10, 0, 0, 3)

static struct synack_simnet *net;
static struct synack_link *la, *lb, *lc;

static void attach3(uint64_t seed, const struct synack_sim_path *pa,
		    const struct synack_sim_path *pb)
{
	cr_assert_eq(synack_simnet_new(&net, seed), 0);
	cr_assert_eq(synack_simnet_attach(net, A, pa, &la), 0);
	cr_assert_eq(synack_simnet_attach(net, B, pb, &lb), 0);
	cr_assert_eq(synack_simnet_attach(net, C, NULL, &lc), 0);
}

static void teardown(void)
{
	synack_link_destroy(la);
	synack_link_destroy(lb);
	synack_link_destroy(lc);
	synack_simnet_destroy(net);
	la = lb = lc = NULL;
	net = NULL;
}

static int send_tag(struct synack_link *l, uint32_t src, uint32_t dst, size_t len, uint32_t tag,
		    uint64_t now)
{
	uint8_t f[2048];
	mkframe(f, len, src, dst, tag);
	return synack_link_send_plain(l, f, len, now);
}

Test(simnet, delay_is_exact_and_frame_byte_exact, .fini = teardown)
{
	struct synack_sim_path p = {.delay_us = 5000};
	attach3(1, &p, NULL);
	uint8_t f[100], got[200];
	mkframe(f, sizeof(f), A, B, 7);
	cr_assert_eq(synack_link_send_plain(la, f, sizeof(f), 100), 0);
	cr_assert_eq(synack_link_next_arrival(lb), 5100);
	cr_assert_eq(synack_link_next_arrival(la), SYNACK_TIME_NEVER, "nothing for the sender");
	cr_assert_eq(synack_simnet_next_arrival(net), 5100);
	cr_assert_eq(synack_link_recv(lb, got, sizeof(got), NULL, 5099), 0, "not due yet");
	cr_assert_eq(synack_link_recv(lb, got, sizeof(got), NULL, 5100), 100);
	cr_assert_arr_eq(got, f, sizeof(f));
	cr_assert_eq(synack_link_recv(lb, got, sizeof(got), NULL, 9999), 0);
	cr_assert_eq(synack_link_next_arrival(lb), SYNACK_TIME_NEVER);
	cr_assert_eq(synack_simnet_next_arrival(net), SYNACK_TIME_NEVER);
}

Test(simnet, jitter_stays_within_bounds_and_covers_them, .fini = teardown)
{
	struct synack_sim_path p = {.delay_us = 1000, .jitter_us = 500, .queue_limit = 100000};
	attach3(42, &p, NULL);
	uint64_t lo = UINT64_MAX, hi = 0, sum = 0;
	const int n = 20000;
	for (int i = 0; i < n; i++)
		cr_assert_eq(send_tag(la, A, B, 40, (uint32_t)i, 0), 0);
	uint8_t buf[64];
	for (int i = 0; i < n; i++) {
		uint64_t t = synack_link_next_arrival(lb);
		cr_assert_eq(synack_link_recv(lb, buf, sizeof(buf), NULL, t), 40);
		lo = t < lo ? t : lo;
		hi = t > hi ? t : hi;
		sum += t;
	}
	cr_assert_eq(lo, 1000, "jitter 0 is drawn");
	cr_assert_eq(hi, 1500, "jitter is inclusive of its bound");
	double mean = (double)sum / n;
	cr_assert(mean > 1240 && mean < 1260, "uniform jitter: mean %.1f", mean);
}

Test(simnet, bandwidth_serialises_frames_one_after_another, .fini = teardown)
{
	/* 1 Mbit/s: a 125-byte frame takes exactly 1000 us on the line. */
	struct synack_sim_path p = {.delay_us = 300, .bandwidth_bps = 1000000};
	attach3(1, &p, NULL);
	for (uint32_t i = 0; i < 3; i++)
		cr_assert_eq(send_tag(la, A, B, 125, i, 0), 0);
	/* The line is idle again by 3000; a frame sent at 10000 starts at once. */
	cr_assert_eq(send_tag(la, A, B, 250, 3, 10000), 0);
	uint64_t want[] = {1300, 2300, 3300, 12300};
	uint8_t buf[300];
	for (uint32_t i = 0; i < 4; i++) {
		cr_assert_eq(synack_link_next_arrival(lb), want[i], "frame %u", i);
		cr_assert_gt(synack_link_recv(lb, buf, sizeof(buf), NULL, want[i]), 0);
		cr_assert_eq(frame_tag(buf), i);
	}
}

Test(simnet, serialisation_time_rounds_up, .fini = teardown)
{
	struct synack_sim_path p = {.bandwidth_bps = 3}; /* 24 bytes = 192 bits: 64 s */
	attach3(1, &p, NULL);
	cr_assert_eq(send_tag(la, A, B, 24, 0, 0), 0);
	cr_assert_eq(synack_link_next_arrival(lb), 64000000);
	struct synack_sim_path q = {.bandwidth_bps = 7}; /* 192/7 s = 27428571.43 us */
	cr_assert_eq(synack_simnet_set_path(lb, &q), 0);
	cr_assert_eq(send_tag(lb, B, A, 24, 0, 0), 0);
	cr_assert_eq(synack_link_next_arrival(la), 27428572);
}

Test(simnet, ties_leave_in_send_order, .fini = teardown)
{
	struct synack_sim_path p = {.delay_us = 10};
	attach3(1, &p, &p);
	/* Interleaved sends from two senders, all due at 110 at C. */
	for (uint32_t i = 0; i < 10; i++)
		cr_assert_eq(send_tag(i % 2 ? lb : la, i % 2 ? B : A, C, 30, i, 100), 0);
	uint8_t buf[64];
	for (uint32_t i = 0; i < 10; i++) {
		cr_assert_eq(synack_link_recv(lc, buf, sizeof(buf), NULL, 110), 30);
		cr_assert_eq(frame_tag(buf), i, "tie broken by send order");
	}
}

/* Sends 2000 frames with jitter and returns an FNV hash of (arrival time, tag) in order. */
static uint64_t delivery_log_hash(uint64_t seed)
{
	struct synack_sim_path p = {.delay_us = 100, .jitter_us = 5000, .bandwidth_bps = 10000000};
	attach3(seed, &p, &p);
	for (uint32_t i = 0; i < 1000; i++) {
		cr_assert_eq(send_tag(la, A, C, 100, i, i * 50u), 0);
		cr_assert_eq(send_tag(lb, B, C, 60, 100000 + i, i * 70u), 0);
	}
	uint64_t h = 1469598103934665603ull;
	uint8_t buf[128];
	for (;;) {
		uint64_t t = synack_link_next_arrival(lc);
		if (t == SYNACK_TIME_NEVER)
			break;
		cr_assert_gt(synack_link_recv(lc, buf, sizeof(buf), NULL, t), 0);
		uint64_t v[2] = {t, frame_tag(buf)};
		for (int k = 0; k < 2; k++)
			h = (h ^ v[k]) * 1099511628211ull;
	}
	teardown();
	return h;
}

Test(simnet, same_seed_same_log_different_seed_different_log)
{
	uint64_t a = delivery_log_hash(7), b = delivery_log_hash(7), c = delivery_log_hash(8);
	cr_assert_eq(a, b, "same seed, same delivery log");
	cr_assert_neq(a, c, "another seed, another log");
}

Test(simnet, jitter_can_reorder_a_path, .fini = teardown)
{
	struct synack_sim_path p = {.jitter_us = 1000};
	attach3(3, &p, NULL);
	for (uint32_t i = 0; i < 100; i++)
		cr_assert_eq(send_tag(la, A, B, 30, i, i), 0);
	uint8_t buf[64];
	int inversions = 0;
	uint32_t prev = 0;
	for (uint32_t i = 0; i < 100; i++) {
		cr_assert_eq(synack_link_recv(lb, buf, sizeof(buf), NULL, 5000), 30);
		inversions += i > 0 && frame_tag(buf) < prev;
		prev = frame_tag(buf);
	}
	cr_assert_gt(inversions, 10);
}

Test(simnet, unroutable_frames_are_counted_and_lost, .fini = teardown)
{
	attach3(1, NULL, NULL);
	cr_assert_eq(send_tag(la, A, ADDR(10, 9, 9, 9), 40, 1, 0), 0, "lost silently");
	uint8_t tiny[10] = {0x45};
	cr_assert_eq(synack_link_send_plain(la, tiny, sizeof(tiny), 0), 0, "too short to route");
	uint8_t v6[40];
	mkframe(v6, sizeof(v6), A, B, 0);
	v6[0] = 0x60;
	cr_assert_eq(synack_link_send_plain(la, v6, sizeof(v6), 0), 0, "not IPv4");
	cr_assert_eq(synack_simnet_unroutable(net), 3);
	cr_assert_eq(synack_simnet_next_arrival(net), SYNACK_TIME_NEVER);
}

Test(simnet, attach_refuses_an_address_in_use, .fini = teardown)
{
	attach3(1, NULL, NULL);
	struct synack_link *dup = NULL;
	cr_assert_eq(synack_simnet_attach(net, B, NULL, &dup), -EADDRINUSE);
	cr_assert_null(dup);
}

Test(simnet, queue_limit_gives_eagain_until_frames_leave, .fini = teardown)
{
	struct synack_sim_path p = {.delay_us = 10, .queue_limit = 2};
	attach3(1, &p, NULL);
	cr_assert_eq(send_tag(la, A, B, 30, 0, 0), 0);
	cr_assert_eq(send_tag(la, A, B, 30, 1, 0), 0);
	cr_assert_eq(send_tag(la, A, B, 30, 2, 0), -EAGAIN);
	uint8_t buf[64];
	cr_assert_eq(synack_link_recv(lb, buf, sizeof(buf), NULL, 10), 30);
	cr_assert_eq(send_tag(la, A, B, 30, 3, 10), 0, "one left the network");
	cr_assert_eq(send_tag(la, A, B, 30, 4, 10), -EAGAIN);
}

Test(simnet, recv_into_a_small_buffer_drops_with_emsgsize, .fini = teardown)
{
	attach3(1, NULL, NULL);
	cr_assert_eq(send_tag(la, A, B, 100, 0, 0), 0);
	cr_assert_eq(send_tag(la, A, B, 30, 1, 0), 0);
	uint8_t buf[64];
	cr_assert_eq(synack_link_recv(lb, buf, sizeof(buf), NULL, 0), -EMSGSIZE);
	cr_assert_eq(synack_link_recv(lb, buf, sizeof(buf), NULL, 0), 30);
	cr_assert_eq(frame_tag(buf), 1);
}

Test(simnet, inject_delivers_now_without_a_path, .fini = teardown)
{
	struct synack_sim_path p = {.delay_us = 1000};
	attach3(1, &p, &p);
	uint8_t f[40], buf[64];
	mkframe(f, sizeof(f), ADDR(6, 6, 6, 6), C, 9);
	cr_assert_eq(synack_simnet_inject(net, f, sizeof(f), 777), 0);
	cr_assert_eq(synack_link_next_arrival(lc), 777);
	cr_assert_eq(synack_link_recv(lc, buf, sizeof(buf), NULL, 777), 40);
	mkframe(f, sizeof(f), A, ADDR(6, 6, 6, 6), 9);
	cr_assert_eq(synack_simnet_inject(net, f, sizeof(f), 777), -EHOSTUNREACH);
	cr_assert_eq(synack_simnet_unroutable(net), 1);
}

Test(simnet, next_arrival_is_the_minimum_over_endpoints, .fini = teardown)
{
	struct synack_sim_path pa = {.delay_us = 500}, pb = {.delay_us = 200};
	attach3(1, &pa, &pb);
	cr_assert_eq(send_tag(la, A, C, 30, 0, 0), 0);
	cr_assert_eq(send_tag(lb, B, A, 30, 1, 100), 0);
	cr_assert_eq(synack_simnet_next_arrival(net), 300);
	cr_assert_eq(synack_link_next_arrival(lc), 500);
}

Test(simnet, destroying_endpoints_with_frames_in_flight_is_clean)
{
	struct synack_sim_path p = {.delay_us = 100, .queue_limit = 3};
	attach3(1, &p, &p);
	for (uint32_t i = 0; i < 3; i++) {
		cr_assert_eq(send_tag(la, A, B, 30, i, 0), 0);
		cr_assert_eq(send_tag(lb, B, A, 30, i, 0), 0);
	}
	cr_assert_eq(send_tag(la, A, B, 30, 9, 0), -EAGAIN);
	synack_link_destroy(lb); /* frames to B vanish: A may send again */
	lb = NULL;
	cr_assert_eq(send_tag(la, A, C, 30, 9, 0), 0);
	uint8_t buf[64];
	cr_assert_eq(synack_link_recv(la, buf, sizeof(buf), NULL, 100), 30, "B's frames still arrive");
	cr_assert_eq(send_tag(la, A, B, 30, 9, 0), 0, "B is gone: unroutable");
	cr_assert_eq(synack_simnet_unroutable(net), 1);
	teardown();
}

/* IPv6: an endpoint answers to every address it was attached with, of both families; frames
 * route by the IPv6 destination (bytes 24..39); addresses are exclusive. */
Test(simnet, routes_ipv6_and_dual_stack_endpoints)
{
	struct synack_simnet *n6;
	cr_assert_eq(synack_simnet_new(&n6, 1), 0);
	static const uint8_t a6[16] = {0xfd, [15] = 1}, b6[16] = {0xfd, [15] = 2};
	struct synack_addr a[2] = {synack_addr_v4(ADDR(10, 0, 0, 1)), synack_addr_v6(a6)};
	struct synack_addr b[2] = {synack_addr_v4(ADDR(10, 0, 0, 2)), synack_addr_v6(b6)};
	struct synack_link *ea, *eb, *ec;
	struct synack_sim_path p = {.delay_us = 100};
	cr_assert_eq(synack_simnet_attach_addrs(n6, a, 2, &p, &ea), 0);
	cr_assert_eq(synack_simnet_attach_addrs(n6, b, 2, &p, &eb), 0);
	cr_assert_eq(synack_simnet_attach_addrs(n6, &b[1], 1, &p, &ec), -EADDRINUSE);
	struct synack_addr nine[9];
	for (int i = 0; i < 9; i++)
		nine[i] = synack_addr_v4(ADDR(10, 0, 1, i));
	cr_assert_eq(synack_simnet_attach_addrs(n6, nine, 9, &p, &ec), -EINVAL);
	uint8_t f[64] = {0x60, 0, 0, 0, 0, 24, 253, 64};
	memcpy(f + 8, a6, 16);
	memcpy(f + 24, b6, 16);
	f[40] = 0x77;
	cr_assert_eq(synack_link_send_plain(ea, f, sizeof f, 0), 0);
	uint8_t got[128];
	cr_assert_eq(synack_link_recv(eb, got, sizeof got, NULL, 99), 0, "not before the delay");
	cr_assert_eq(synack_link_recv(eb, got, sizeof got, NULL, 100), (ssize_t)sizeof f);
	cr_assert_arr_eq(got, f, sizeof f);
	f[39] = 9; /* fd00::9: nobody */
	cr_assert_eq(synack_link_send_plain(ea, f, sizeof f, 200), 0);
	cr_assert_eq(synack_simnet_unroutable(n6), 1);
	uint8_t v4[32];
	mkframe(v4, sizeof v4, ADDR(10, 0, 0, 2), ADDR(10, 0, 0, 1), 5);
	cr_assert_eq(synack_link_send_plain(eb, v4, sizeof v4, 300), 0);
	cr_assert_eq(synack_link_recv(ea, got, sizeof got, NULL, 400), (ssize_t)sizeof v4, "and IPv4");
	synack_link_destroy(ea);
	synack_link_destroy(eb);
	synack_simnet_destroy(n6);
}
