/* Two stacks wired back to back through a queue with a fixed one-way delay: end-to-end
 * transfers of 1 MiB in each direction, byte-exact, both sides ending CLOSED, and every
 * allocation returned after destroy. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "synack/synack.h"

#define NQ 8192
#define DELAY_US 500

struct pkt {
	uint8_t b[1600];
	size_t len;
	uint64_t at;
	int to; /* 0: A, 1: B */
};

struct world {
	struct synack_stack *st[2];
	struct pkt *q;
	size_t head, tail;
	uint64_t now;
	size_t live[2], allocs[2];
	uint64_t dropped; /* frames the test chose to lose */
	uint64_t lose_every; /* 0: none */
	uint64_t sent;
	/* random faults (per mille), drawn from a seeded xorshift */
	unsigned loss, dup, reorder, corrupt;
	uint64_t rng;
};

static unsigned rnd(struct world *w, unsigned n)
{
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 7;
	w->rng ^= w->rng << 17;
	return (unsigned)(w->rng % n);
}

struct side {
	struct world *w;
	int idx;
};

static struct side sides[2];

static void *walloc(void *ctx, size_t n)
{
	struct side *sd = ctx;
	sd->w->live[sd->idx] += n;
	sd->w->allocs[sd->idx]++;
	return malloc(n);
}

static void wfree(void *ctx, void *p, size_t n)
{
	struct side *sd = ctx;
	sd->w->live[sd->idx] -= n;
	sd->w->allocs[sd->idx]--;
	free(p);
}

static void enqueue(struct world *w, const uint8_t *f, size_t len, int to, uint64_t at)
{
	cr_assert_lt(w->tail - w->head, NQ, "queue overflow");
	/* Keep the queue sorted by arrival time (insertion from the tail). */
	size_t i = w->tail++;
	while (i > w->head && w->q[(i - 1) % NQ].at > at) {
		w->q[i % NQ] = w->q[(i - 1) % NQ];
		i--;
	}
	struct pkt *p = &w->q[i % NQ];
	cr_assert_leq(len, sizeof p->b);
	memcpy(p->b, f, len);
	p->len = len;
	p->at = at;
	p->to = to;
}

static void out(void *ctx, const uint8_t *f, const struct synack_frame_meta *meta)
{
	size_t len = meta->len;
	struct side *sd = ctx;
	struct world *w = sd->w;
	w->sent++;
	if ((w->lose_every && w->sent % w->lose_every == 0) || (w->loss && rnd(w, 1000) < w->loss)) {
		w->dropped++;
		return;
	}
	uint64_t at = w->now + DELAY_US;
	if (w->reorder && rnd(w, 1000) < w->reorder)
		at += 1 + rnd(w, 3000);
	uint8_t tmp[1600];
	memcpy(tmp, f, len < sizeof tmp ? len : sizeof tmp);
	if (w->corrupt && rnd(w, 1000) < w->corrupt)
		tmp[rnd(w, (unsigned)len)] ^= (uint8_t)(1u << rnd(w, 8));
	enqueue(w, tmp, len, 1 - sd->idx, at);
	if (w->dup && rnd(w, 1000) < w->dup)
		enqueue(w, tmp, len, 1 - sd->idx, at + rnd(w, 2000));
}

static void world_init(struct world *w, uint64_t seed)
{
	memset(w, 0, sizeof *w);
	w->q = calloc(NQ, sizeof *w->q);
	for (int i = 0; i < 2; i++) {
		sides[i].w = w;
		sides[i].idx = i;
		struct synack_config c;
		synack_config_default(&c);
		c.name = i ? "server" : "client";
		synack_config_add_addr(&c, synack_addr_v4(0x0A000001u + (uint32_t)i), 24);
		c.seed = seed * 2 + (uint64_t)i;
		c.secret[0] = (uint8_t)(i + 1);
		c.allocator = (struct synack_allocator){walloc, wfree, &sides[i]};
		c.output = out;
		c.output_ctx = &sides[i];
		cr_assert_eq(synack_stack_create(&w->st[i], &c), 0);
	}
}

/* Delivers due frames or advances the clock to the next event; false when nothing is left. */
static bool world_step(struct world *w)
{
	uint64_t next = SYNACK_TIME_NEVER;
	if (w->head < w->tail)
		next = w->q[w->head % NQ].at;
	for (int i = 0; i < 2; i++) {
		uint64_t d = synack_stack_next_deadline(w->st[i]);
		if (d < next)
			next = d;
	}
	if (next == SYNACK_TIME_NEVER)
		return false;
	if (next > w->now)
		w->now = next;
	while (w->head < w->tail && w->q[w->head % NQ].at <= w->now) {
		struct pkt *p = &w->q[w->head++ % NQ];
		synack_stack_input(w->st[p->to], p->b, p->len, w->now);
	}
	for (int i = 0; i < 2; i++)
		synack_stack_poll(w->st[i], w->now);
	return true;
}

static void world_fini(struct world *w)
{
	for (int i = 0; i < 2; i++) {
		synack_stack_destroy(w->st[i]);
		cr_assert_eq(w->allocs[i], 0, "stack %d leaks %zu allocations", i, w->allocs[i]);
		cr_assert_eq(w->live[i], 0);
	}
	free(w->q);
}

static size_t TOTAL = 1u << 20;

struct xfer {
	uint8_t *tx, *rx;
	size_t sent, got;
	bool shut, eof;
};

static void pump(struct synack_stack *s, int fd, struct xfer *x)
{
	while (x->sent < TOTAL) {
		ssize_t n = synack_send(s, fd, x->tx + x->sent, TOTAL - x->sent, 0);
		if (n <= 0)
			break;
		x->sent += (size_t)n;
	}
	if (x->sent == TOTAL && !x->shut) {
		cr_assert_eq(synack_shutdown(s, fd, SYNACK_SHUT_WR), 0);
		x->shut = true;
	}
	for (;;) {
		ssize_t n = synack_recv(s, fd, x->rx + x->got, TOTAL + 1 - x->got, 0);
		if (n == 0) {
			x->eof = true;
			break;
		}
		if (n < 0) {
			cr_assert_eq(n, -EAGAIN, "recv: %zd", n);
			break;
		}
		x->got += (size_t)n;
	}
}

struct faults {
	unsigned loss, dup, reorder, corrupt;
};

static void run_faulty(uint64_t seed, uint64_t lose_every, const struct faults *f)
{
	struct world w;
	world_init(&w, seed);
	w.lose_every = lose_every;
	w.rng = seed * 0x9E3779B97F4A7C15ull + 1;
	if (f) {
		w.loss = f->loss;
		w.dup = f->dup;
		w.reorder = f->reorder;
		w.corrupt = f->corrupt;
	}
	struct xfer x[2];
	for (int i = 0; i < 2; i++) {
		x[i] = (struct xfer){malloc(TOTAL), malloc(TOTAL + 1), 0, 0, false, false};
		for (size_t k = 0; k < TOTAL; k++)
			x[i].tx[k] = (uint8_t)((k * (i ? 7 : 13)) ^ (k >> 9) ^ seed);
	}
	int lfd = synack_socket(w.st[1]);
	struct synack_endpoint ep = {synack_addr_v4(0), 80};
	cr_assert_eq(synack_bind(w.st[1], lfd, &ep), 0);
	cr_assert_eq(synack_listen(w.st[1], lfd, 4), 0);
	int cfd = synack_socket(w.st[0]);
	struct synack_endpoint to = {synack_addr_v4(0x0A000002u), 80};
	int cr = synack_connect(w.st[0], cfd, &to);
	cr_assert_eq(cr, -EINPROGRESS, "connect: %d", cr);
	int sfd = -1;
	uint64_t steps = 0;
	bool closed = false;
	while (world_step(&w)) {
		cr_assert_lt(++steps, 5000000, "no progress");
		if (closed)
			continue;
		if (sfd < 0) {
			sfd = synack_accept(w.st[1], lfd, NULL);
			if (sfd < 0)
				sfd = -1;
		}
		if (synack_events(w.st[0], cfd) & SYNACK_EV_WRITABLE || x[0].sent)
			pump(w.st[0], cfd, &x[0]);
		if (sfd >= 0)
			pump(w.st[1], sfd, &x[1]);
		if (x[0].eof && x[1].eof && x[0].shut && x[1].shut) {
			cr_assert_eq(synack_close(w.st[0], cfd), 0);
			cr_assert_eq(synack_close(w.st[1], sfd), 0);
			cr_assert_eq(synack_close(w.st[1], lfd), 0);
			closed = true;
		}
	}
	if (!closed) {
		struct synack_tcp_info a, b;
		memset(&b, 0, sizeof b);
		synack_tcp_info(w.st[0], cfd, &a);
		if (sfd >= 0)
			synack_tcp_info(w.st[1], sfd, &b);
		cr_assert_fail("seed %llu: not finished at %llu us: client %s sent %zu got %zu eof %d; "
			       "server %s sent %zu got %zu eof %d (sfd %d)",
			       (unsigned long long)seed, (unsigned long long)w.now,
			       synack_state_name(a.state), x[0].sent, x[0].got, x[0].eof,
			       synack_state_name(b.state), x[1].sent, x[1].got, x[1].eof, sfd);
	}
	cr_assert_eq(x[0].got, TOTAL, "server to client: %zu bytes", x[0].got);
	cr_assert_eq(x[1].got, TOTAL, "client to server: %zu bytes", x[1].got);
	cr_assert_eq(memcmp(x[0].rx, x[1].tx, TOTAL), 0, "byte-exact server→client");
	cr_assert_eq(memcmp(x[1].rx, x[0].tx, TOTAL), 0, "byte-exact client→server");
	for (int i = 0; i < 2; i++) {
		struct synack_counters k;
		synack_stack_counters(w.st[i], &k);
		cr_assert_eq(k.v[SYNACK_CTR_CurrEstab], 0);
		if (!lose_every && !f)
			cr_assert_eq(k.v[SYNACK_CTR_RetransSegs], 0, "no loss, no retransmission");
		free(x[i].tx);
		free(x[i].rx);
	}
	world_fini(&w);
}

static void run_transfer(uint64_t seed, uint64_t lose_every) { run_faulty(seed, lose_every, NULL); }

Test(e2e, one_mib_each_way_clean_link) { run_transfer(1, 0); }

Test(e2e, one_mib_each_way_losing_every_50th_frame) { run_transfer(2, 50); }

Test(e2e, one_mib_each_way_losing_every_7th_frame) { run_transfer(3, 7); }

/* Many seeds, smaller transfers, every kind of fault at once. */
Test(e2e, faulty_links_many_seeds, .timeout = 120)
{
	TOTAL = 64 * 1024;
	static const struct faults kinds[] = {
		{50, 0, 0, 0}, {200, 0, 0, 0}, {0, 50, 0, 0}, {0, 0, 100, 0}, {0, 0, 0, 20},
		{30, 30, 50, 10},
	};
	for (uint64_t seed = 1; seed <= 60; seed++)
		run_faulty(seed, 0, &kinds[seed % 6]);
	TOTAL = 1u << 20;
}

/* TCP Fast Open between two synack stacks (RFC 7413): the first sendto(MSG_FASTOPEN) fetches a
 * cookie; the second carries its data on the SYN, and the server can accept the connection
 * and read the data while the connection is still SYN-RECEIVED, before the client's ACK. */
static void tfo_until_accept(struct world *w, int lfd, int *sfd)
{
	for (uint64_t steps = 0; *sfd < 0 && world_step(w); steps++) {
		cr_assert_lt(steps, 1000, "no connection to accept");
		int r = synack_accept(w->st[1], lfd, NULL);
		if (r >= 0)
			*sfd = r;
	}
	cr_assert_geq(*sfd, 0);
}

Test(e2e, fastopen_cookie_then_data_on_syn)
{
	struct world w;
	world_init(&w, 7);
	struct synack_config c;
	synack_stack_get_config(w.st[1], &c);
	c.fastopen = SYNACK_TFO_CLIENT | SYNACK_TFO_SERVER;
	synack_stack_set_tunables(w.st[1], &c);
	int lfd = synack_socket(w.st[1]), one = 4;
	struct synack_endpoint ep = {synack_addr_v4(0), 80};
	cr_assert_eq(synack_bind(w.st[1], lfd, &ep), 0);
	cr_assert_eq(synack_listen(w.st[1], lfd, 4), 0);
	cr_assert_eq(synack_setsockopt(w.st[1], lfd, SYNACK_IPPROTO_TCP, SYNACK_TCP_FASTOPEN, &one,
				       sizeof one), 0);
	struct synack_endpoint to = {synack_addr_v4(0x0A000002u), 80};

	/* First: no cookie yet, nothing sent with the SYN. */
	int c1 = synack_socket(w.st[0]), s1 = -1;
	cr_assert_eq(synack_sendto(w.st[0], c1, "first", 5, SYNACK_MSG_FASTOPEN, &to), -EINPROGRESS);
	tfo_until_accept(&w, lfd, &s1);
	char buf[16];
	cr_assert_eq(synack_recv(w.st[1], s1, buf, sizeof buf, 0), -EAGAIN, "no data came");
	struct synack_tcp_info ti;
	synack_tcp_info(w.st[1], s1, &ti);
	cr_assert_eq(ti.state, SYNACK_ESTABLISHED);

	/* Second: the data rides the SYN, readable at the server before the handshake ends. */
	int c2 = synack_socket(w.st[0]), s2 = -1;
	cr_assert_eq(synack_sendto(w.st[0], c2, "hello", 5, SYNACK_MSG_FASTOPEN, &to), 5);
	tfo_until_accept(&w, lfd, &s2);
	synack_tcp_info(w.st[1], s2, &ti);
	cr_assert_eq(ti.state, SYNACK_SYN_RECEIVED);
	cr_assert_eq(synack_recv(w.st[1], s2, buf, sizeof buf, 0), 5);
	cr_assert_eq(memcmp(buf, "hello", 5), 0);
	for (int i = 0; i < 50 && world_step(&w); i++)
		;
	synack_tcp_info(w.st[1], s2, &ti);
	cr_assert_eq(ti.state, SYNACK_ESTABLISHED);
	synack_tcp_info(w.st[0], c2, &ti);
	cr_assert_eq(ti.state, SYNACK_ESTABLISHED);
	cr_assert_eq(ti.unacked, 0, "the SYN-ACK acknowledged the data");
	struct synack_counters k0, k1;
	synack_stack_counters(w.st[0], &k0);
	synack_stack_counters(w.st[1], &k1);
	cr_assert_eq(k0.v[SYNACK_CTR_TCPFastOpenActive], 1);
	cr_assert_eq(k0.v[SYNACK_CTR_TCPFastOpenActiveFail], 0);
	cr_assert_eq(k1.v[SYNACK_CTR_TCPFastOpenPassive], 1);
	cr_assert_eq(k1.v[SYNACK_CTR_TCPFastOpenCookieReqd], 1);
	for (int fd = 0; fd < 2; fd++) {
		synack_close(w.st[0], fd ? c2 : c1);
		synack_close(w.st[1], fd ? s2 : s1);
	}
	synack_close(w.st[1], lfd);
	while (world_step(&w))
		;
	world_fini(&w);
}
