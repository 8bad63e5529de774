/* Send-buffer autotuning (tcp_autotune.c): the send buffer grows with cwnd up to
 * cfg.sndbuf_max, keeping what it holds; SO_SNDBUF locks the size and applies to a connected
 * socket at once. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "support/segtest.h"

static uint8_t data[1 << 20];
static bool check_bytes; /* the stream is data from offset 0, written once */

static int sndbuf(struct segtest *t, int fd)
{
	int v = 0;
	size_t len = sizeof v;
	cr_assert_eq(synack_getsockopt(t->s, fd, SYNACK_SOL_SOCKET, SYNACK_SO_SNDBUF, &v, &len), 0);
	return v;
}

/* Acknowledges everything sent so far, one ACK per frame waiting. Returns the bytes acked. */
static uint32_t ack_all(struct segtest *t, uint32_t iss, uint32_t *acked)
{
	struct st_seg o;
	uint32_t n = 0;
	while (st_next(t, &o)) {
		uint32_t off = o.seq - (iss + 1);
		if (check_bytes)
			cr_assert_arr_eq(o.data, data + off, o.len, "the bytes at %u, as written", off);
		*acked = o.seq + (uint32_t)o.len - (iss + 1);
		ST_IN(t, .flags = F_A, .seq = 1, .ack = o.seq + (uint32_t)o.len);
		n++;
	}
	return n;
}

Test(autotune, the_send_buffer_grows_with_cwnd_and_keeps_its_bytes)
{
	struct segtest t;
	struct synack_config cfg;
	st_config(&cfg);
	cfg.sndbuf_max = 4194304;
	st_init(&t, &cfg);
	check_bytes = true;
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 7 + (i >> 11));
	uint32_t iss;
	int fd = st_passive_open(&t, 0, &iss);
	int first = sndbuf(&t, fd);
	/* The initial window, 10 segments, already asks for 2 x 14600 bytes (Linux sizes the
	 * buffer from the initial cwnd too, tcp_init_buffer_space): 16384 doubled. */
	cr_assert_eq(first, 2 * (int)t.cfg.sndbuf, "the configured size doubled: %d", first);
	size_t queued = 0;
	queued += (size_t)synack_send(t.s, fd, data, sizeof data, 0);
	cr_assert_eq(queued, (size_t)first, "a full buffer");
	uint32_t acked = 0;
	int sizes = 0, last = first;
	for (int round = 0; round < 40 && queued < sizeof data; round++) {
		ack_all(&t, iss, &acked);
		ssize_t n = synack_send(t.s, fd, data + queued, sizeof data - queued, 0);
		if (n > 0)
			queued += (size_t)n;
		int now = sndbuf(&t, fd);
		cr_assert_geq(now, last, "never shrinks");
		sizes += now != last;
		last = now;
	}
	cr_assert_geq(last, first * 4, "grew with cwnd: %d from %d", last, first);
	cr_assert_geq(sizes, 2, "in steps");
	/* Everything queued went out in order: the peer saw the same bytes. */
	cr_assert_eq(queued, sizeof data, "1 MiB queued through the growing buffer");
	st_fini(&t);
}

Test(autotune, so_sndbuf_locks_the_size_and_applies_to_a_connected_socket)
{
	struct segtest t;
	struct synack_config cfg;
	st_config(&cfg);
	cfg.sndbuf_max = 4194304;
	st_init(&t, &cfg);
	uint32_t iss;
	int fd = st_passive_open(&t, 0, &iss);
	int v = 50000;
	cr_assert_eq(synack_setsockopt(t.s, fd, SYNACK_SOL_SOCKET, SYNACK_SO_SNDBUF, &v, sizeof v), 0);
	cr_assert_eq(sndbuf(&t, fd), 100000, "doubled, as Linux reports it, and in effect at once");
	cr_assert_eq(synack_send(t.s, fd, data, sizeof data, 0), 100000);
	uint32_t acked = 0;
	for (int round = 0; round < 20; round++) {
		ack_all(&t, iss, &acked);
		(void)synack_send(t.s, fd, data, sizeof data, 0);
	}
	cr_assert_eq(sndbuf(&t, fd), 100000, "locked: no autotuning");
	st_fini(&t);
}
