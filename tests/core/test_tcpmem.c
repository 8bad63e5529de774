/* The stack-wide buffer memory limit (cfg.tcp_mem, tcb.c/tcp_output.c), segment by segment:
 * under pressure the window announced shrinks to 4 segments but its right edge never moves
 * back; past the hard limit a write finds no memory and the socket is not writable until an
 * ACK gives chunks back. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "support/segtest.h"

#define CHUNK (16384u + 16u) /* sizeof(struct synack_chunk) */
#define SEG 1460u

static uint8_t data[1 << 20];

struct peer {
	uint16_t port;
	uint32_t seq, iss;
	int fd;
};

static void handshake(struct segtest *t, int lfd, struct peer *p, uint16_t port)
{
	p->port = port;
	p->seq = 5000;
	ST_IN(t, .flags = F_S, .seq = p->seq, .sport = port,
	      .opts = {.has_mss = true, .mss = 1460});
	struct st_seg sa;
	cr_assert(st_next(t, &sa));
	p->iss = sa.seq;
	p->seq++;
	ST_IN(t, .flags = F_A, .seq = p->seq, .ack = p->iss + 1, .sport = port);
	p->fd = synack_accept(t->s, lfd, NULL);
	cr_assert_geq(p->fd, 0);
}

/* The peer sends one full segment; returns the window of the ACK it gets (if one came). */
static bool segment(struct segtest *t, struct peer *p, uint32_t *right_edge)
{
	ST_IN(t, .flags = F_A, .seq = p->seq, .ack = p->iss + 1, .sport = p->port, .data = data,
	      .len = SEG);
	p->seq += SEG;
	struct st_seg o;
	bool got = false;
	while (st_next(t, &o))
		if (o.ack == p->seq) {
			*right_edge = o.ack + o.win;
			got = true;
		}
	return got;
}

Test(tcpmem, pressure_shrinks_the_window_without_moving_its_edge_back)
{
	struct synack_config cfg;
	st_config(&cfg);
	cfg.tcp_mem[0] = 2 * CHUNK; /* pressure past 2 chunks, until under 2 again */
	cfg.tcp_mem[1] = 2 * CHUNK;
	cfg.tcp_mem[2] = 100 * CHUNK;
	struct segtest t;
	st_init(&t, &cfg);
	t.lport = ST_SERVER_PORT;
	int lfd = st_listen(&t, ST_SERVER_PORT, 8);
	struct peer a, b;
	handshake(&t, lfd, &a, 6000);
	handshake(&t, lfd, &b, 6001);
	uint32_t edge = 0, prev;
	/* b alone: the window is the free space; reading keeps the edge moving right. */
	for (int i = 0; i < 10; i++) {
		cr_assert(segment(&t, &b, &edge) || i % 2 == 0);
		static uint8_t buf[1 << 16];
		(void)synack_recv(t.s, b.fd, buf, sizeof buf, 0);
	}
	cr_assert_eq(st_counter(&t, SYNACK_CTR_TCPMemoryPressures), 0);
	/* a fills 3 chunks and does not read: past tcp_mem[1]. */
	for (int i = 0; i < 34; i++)
		segment(&t, &a, &prev);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_TCPMemoryPressures), 1);
	cr_assert_gt(st_counter(&t, SYNACK_CTR_TCPMemBytes), 2 * CHUNK);
	/* b keeps receiving and reading: its edge never moves back, and once b has used up
	 * what it announced before, it offers no more than 4 segments past RCV.NXT. */
	static uint8_t buf[1 << 16];
	prev = edge;
	bool clamped = false;
	for (int i = 0; i < 200; i++) {
		if (!segment(&t, &b, &edge))
			continue;
		cr_assert(edge - b.seq <= 65535u, "a window");
		cr_assert(!((int32_t)(edge - prev) < 0), "the right edge moved back");
		if (edge - b.seq <= 4 * SEG && prev - b.seq < 4 * SEG)
			clamped = true;
		prev = edge;
		(void)synack_recv(t.s, b.fd, buf, sizeof buf, 0);
	}
	cr_assert(clamped, "the window came down to 4 segments");
	cr_assert(edge - b.seq <= 4 * SEG, "still under pressure: %u", edge - b.seq);
	/* a reads: memory falls below tcp_mem[0], pressure ends, b's window opens again. */
	while (synack_recv(t.s, a.fd, buf, sizeof buf, 0) > 0)
		;
	cr_assert_lt(st_counter(&t, SYNACK_CTR_TCPMemBytes), 2 * CHUNK);
	uint32_t acked_edge = 0;
	for (int i = 0; i < 4; i++) {
		if (segment(&t, &b, &edge))
			acked_edge = edge - b.seq;
		(void)synack_recv(t.s, b.fd, buf, sizeof buf, 0);
	}
	cr_assert_gt(acked_edge, 4 * SEG, "pressure over: %u", acked_edge);
	st_fini(&t);
}

Test(tcpmem, past_the_hard_limit_a_socket_is_not_writable_until_an_ack_frees_memory)
{
	struct synack_config cfg;
	st_config(&cfg);
	cfg.tcp_mem[0] = 1 * CHUNK;
	cfg.tcp_mem[1] = 2 * CHUNK;
	cfg.tcp_mem[2] = 2 * CHUNK;
	struct segtest t;
	st_init(&t, &cfg);
	uint32_t iss;
	int fd = st_passive_open(&t, 1000, &iss);
	int v = 65536;
	cr_assert_eq(synack_setsockopt(t.s, fd, SYNACK_SOL_SOCKET, SYNACK_SO_SNDBUF, &v, sizeof v), 0);
	/* Room for 128 KiB in the buffer, memory for two chunks. */
	cr_assert_eq(synack_send(t.s, fd, data, 100000, 0), 2 * 16384);
	cr_assert_eq(synack_events(t.s, fd) & SYNACK_EV_WRITABLE, 0, "no memory: not writable");
	cr_assert_eq(synack_send(t.s, fd, data, 100000, 0), -EAGAIN);
	/* The peer acknowledges what it gets; once 16384 bytes are acknowledged, the first
	 * chunk comes back and the socket is writable again. */
	struct st_seg o;
	uint32_t end = iss + 1;
	for (int round = 0; round < 4 && end - (iss + 1) < 16384; round++) {
		cr_assert_eq(synack_events(t.s, fd) & SYNACK_EV_WRITABLE, 0);
		while (st_next(&t, &o))
			end = o.seq + (uint32_t)o.len;
		ST_IN(&t, .flags = F_A, .seq = 1001, .ack = end);
	}
	cr_assert_geq(end - (iss + 1), 16384);
	cr_assert(synack_events(t.s, fd) & SYNACK_EV_WRITABLE);
	cr_assert(t.wake_mask[fd] & SYNACK_EV_WRITABLE, "the wake callback said so");
	/* The second round acknowledged all 32768 bytes (cwnd grew): both chunks are back. */
	cr_assert_eq(end - (iss + 1), 32768);
	cr_assert_eq(synack_send(t.s, fd, data + 32768, 100000, 0), 32768, "two chunks' worth");
	st_fini(&t);
}
