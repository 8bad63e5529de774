/* Chaos: random segments near the connection's real sequence numbers, random socket calls and
 * random time jumps, on many seeds. Whatever happens, no illegal state transition (debug
 * builds trap on one), no crash, no sanitizer report, and no leak after destroy. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "support/segtest.h"

static uint64_t rng;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n ? (uint32_t)(rng % n) : 0;
}

static const uint8_t flag_sets[] = {
	F_A, F_A, F_A | F_P, F_A | F_F, F_S, F_S | F_A, F_R, F_R | F_A, F_F, 0, F_A | F_S | F_F,
};

static void random_segment(struct segtest *t, uint32_t peer_nxt, uint32_t iss)
{
	static uint8_t data[3000];
	uint8_t flags = flag_sets[rnd(sizeof flag_sets)];
	uint32_t seq = peer_nxt + rnd(4000) - 2000;
	uint32_t ack = iss + rnd(6000) - 1000;
	size_t len = rnd(4) == 0 ? rnd(2000) : 0;
	struct synack_tcp_opts o;
	memset(&o, 0, sizeof o);
	if (rnd(4) == 0) {
		o.has_ts = true;
		o.ts_val = rnd(1000);
		o.ts_ecr = rnd(1000);
	}
	ST_IN(t, .flags = flags, .seq = seq, .ack = ack, .data = data, .len = len,
	      .win = rnd(3) ? rnd(65535) + 1 : ST_ZERO_WIN, .opts = o);
}

static void random_call(struct segtest *t, int *fd)
{
	char b[2048];
	static const char msg[2048];
	switch (rnd(8)) {
	case 0:
		synack_send(t->s, *fd, msg, rnd(sizeof msg), 0);
		break;
	case 1:
		synack_recv(t->s, *fd, b, rnd(sizeof b), 0);
		break;
	case 2:
		synack_shutdown(t->s, *fd, (int)rnd(3));
		break;
	case 3:
		if (rnd(4) == 0) {
			synack_close(t->s, *fd);
			*fd = -1;
		}
		break;
	case 4: {
		int one = 1;
		synack_setsockopt(t->s, *fd, SYNACK_SOL_SOCKET, SYNACK_SO_KEEPALIVE, &one, sizeof one);
		break;
	}
	default:
		st_at(t, t->now + rnd(3000000));
		break;
	}
}

Test(chaos, random_segments_and_calls_never_break_anything, .timeout = 120)
{
	for (uint64_t seed = 1; seed <= 600; seed++) {
		rng = seed * 0x9E3779B97F4A7C15ull;
		struct segtest t;
		st_init(&t, NULL);
		uint32_t iss, peer_isn = rnd(0xFFFFFFFFu);
		int fd = seed % 2 ? st_passive_open(&t, peer_isn, &iss)
				  : st_active_open(&t, peer_isn, &iss);
		uint32_t peer_nxt = peer_isn + 1;
		for (int i = 0; i < 200; i++) {
			if (rnd(3) == 0 && fd >= 0)
				random_call(&t, &fd);
			else
				random_segment(&t, peer_nxt, iss);
			if (rnd(10) == 0)
				peer_nxt += rnd(3000);
			t.nframes = t.next = 0; /* nobody reads the output: recycle */
			t.nev = 0;
		}
		st_at(&t, t.now + 400000000ull); /* let every timer run out */
		st_fini(&t);
	}
}

/* The same at a listener: SYNs, ACKs, RSTs, FINs and data from eight client ports, with ACK
 * numbers near the SYN-ACKs actually sent, while the application accepts, reads, writes and
 * closes at random. */
Test(chaos, listener_under_random_traffic, .timeout = 120)
{
	uint64_t opens = 0, accepted = 0;
	for (uint64_t seed = 1; seed <= 300; seed++) {
		rng = seed * 0xD1B54A32D192ED03ull;
		struct synack_config cfg;
		st_config(&cfg);
		cfg.syncookies = (uint8_t)rnd(3);
		struct segtest t;
		st_init(&t, &cfg);
		int lfd = st_listen(&t, 80, (int)rnd(4));
		uint32_t iss[8] = {0}, isn[8];
		int fds[16], nfds = 0;
		for (int k = 0; k < 8; k++)
			isn[k] = rnd(0xFFFFFFFFu);
		for (int i = 0; i < 300; i++) {
			int k = (int)rnd(8);
			uint16_t port = (uint16_t)(20000 + k);
			if (rnd(4) == 0) {
				int fd = synack_accept(t.s, lfd, NULL);
				accepted += fd >= 0;
				if (fd >= 0 && nfds < 16)
					fds[nfds++] = fd;
				else if (fd >= 0)
					synack_close(t.s, fd);
			} else if (rnd(5) == 0 && nfds > 0) {
				int j = (int)rnd((uint32_t)nfds);
				random_call(&t, &fds[j]);
				if (fds[j] < 0)
					fds[j] = fds[--nfds];
			} else {
				uint8_t flags = flag_sets[rnd(sizeof flag_sets)];
				static uint8_t data[1500];
				ST_IN(&t, .flags = flags, .seq = isn[k] + rnd(3) + (flags & F_S ? 0 : 1),
				      .ack = iss[k] + rnd(3), .sport = port, .data = data,
				      .len = rnd(3) == 0 ? rnd(1500) : 0);
			}
			/* What went out answers port k (processing is synchronous): remember the
			 * SYN-ACK's sequence number so that later ACKs can hit it. */
			struct st_seg o;
			while (st_next(&t, &o))
				if ((o.flags & (F_S | F_A)) == (F_S | F_A))
					iss[k] = o.seq + 1;
			t.nframes = t.next = 0;
			t.nev = 0;
		}
		opens += st_counter(&t, SYNACK_CTR_PassiveOpens);
		st_at(&t, t.now + 400000000ull);
		st_fini(&t);
	}
	cr_assert_gt(opens, 100, "the chaos reaches established connections (%llu)",
		     (unsigned long long)opens);
	cr_assert_gt(accepted, 50, "and the application gets some (%llu)",
		     (unsigned long long)accepted);
}
