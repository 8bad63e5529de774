/* Scale from day one: ten thousand connections through one listener, each with data and a
 * close, in well under a second; nothing scans all connections per segment or per tick. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "support/segtest.h"

#define N 10000

Test(scale, ten_thousand_connections)
{
	struct synack_config cfg;
	st_config(&cfg);
	cfg.max_sockets = N + 8;
	cfg.rcvbuf = 4096;
	cfg.sndbuf = 4096;
	struct segtest t;
	st_init(&t, &cfg);
	int lfd = st_listen(&t, 80, N);
	static uint32_t iss[N];
	static int fds[N];
	for (int i = 0; i < N; i++) {
		uint16_t port = (uint16_t)(10000 + i);
		ST_IN(&t, .flags = F_S, .seq = 7, .sport = port);
		struct st_seg sa;
		cr_assert(st_next(&t, &sa));
		iss[i] = sa.seq;
		ST_IN(&t, .flags = F_A | F_P, .seq = 8, .ack = sa.seq + 1, .sport = port, .data = "hi",
		      .len = 2);
		cr_assert(st_next(&t, &sa));
		fds[i] = synack_accept(t.s, lfd, NULL);
		cr_assert_geq(fds[i], 0);
		if (t.nframes > ST_MAX_FRAMES - 16)
			t.nframes = t.next = 0; /* recycle the capture */
	}
	cr_assert_eq(st_counter(&t, SYNACK_CTR_CurrEstab), N);
	cr_assert_eq(st_count_state(&t, SYNACK_ESTABLISHED), N);
	for (int i = 0; i < N; i++) {
		char b[4];
		cr_assert_eq(synack_recv(t.s, fds[i], b, sizeof b, 0), 2);
		cr_assert_eq(synack_close(t.s, fds[i]), 0);
		uint16_t port = (uint16_t)(10000 + i);
		ST_IN(&t, .flags = F_A | F_F, .seq = 10, .ack = iss[i] + 2, .sport = port);
		if (t.nframes > ST_MAX_FRAMES - 16)
			t.nframes = t.next = 0;
	}
	cr_assert_eq(st_count_state(&t, SYNACK_TIME_WAIT), N);
	st_at(&t, 61000000);
	cr_assert_eq(st_count_state(&t, SYNACK_TIME_WAIT), 0);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_TW), N);
	st_fini(&t);
}
