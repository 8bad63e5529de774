/* The thread-safe API (include/synack/mt.h): two stacks, each driven by its own stack thread,
 * joined by a socketpair link; application threads call the blocking and non-blocking API.
 * Assertions are on results, errors and bytes; the only clock-dependent checks are lower
 * bounds that the API promises (a timeout does not return before it expires). */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "synack/mt.h"

#define A_ADDR 0x0A000001u /* 10.0.0.1: the client stack */
#define B_ADDR 0x0A000002u /* 10.0.0.2: the server stack */

static struct synack_mt *A, *B;

static struct synack_mt *start(struct synack_link *link, uint32_t addr, uint64_t seed)
{
	struct synack_config cfg;
	synack_config_default(&cfg);
	cr_assert_eq(synack_config_add_addr(&cfg, synack_addr_v4(addr), 24), 0);
	cfg.seed = seed;
	cfg.secret[0] = (uint8_t)seed;
	cfg.max_sockets = 4096;
	cfg.msl_ms = 100; /* TIME-WAIT of 200 ms keeps port reuse in the stress test cheap */
	struct synack_mt *mt;
	cr_assert_eq(synack_mt_new(&mt, link, &cfg), 0);
	return mt;
}

static void setup(void)
{
	struct synack_link *a, *b;
	cr_assert_eq(synack_pair_new(&a, &b), 0);
	A = start(a, A_ADDR, 1);
	B = start(b, B_ADDR, 2);
}

static void teardown(void)
{
	synack_mt_destroy(A);
	synack_mt_destroy(B);
}

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int listen_on(struct synack_mt *mt, uint16_t port, unsigned flags)
{
	int l = synack_mt_socket(mt, flags);
	cr_assert_geq(l, 0);
	struct synack_endpoint ep = {synack_addr_any(SYNACK_AF_INET), port};
	cr_assert_eq(synack_mt_bind(mt, l, &ep), 0);
	cr_assert_eq(synack_mt_listen(mt, l, 128), 0);
	return l;
}

/* A blocking connect from A to B:port, and the accepted socket on B. */
static void connect_pair(uint16_t port, int l, int *c, int *s)
{
	*c = synack_mt_socket(A, 0);
	cr_assert_geq(*c, 0);
	struct synack_endpoint to = {synack_addr_v4(B_ADDR), port};
	cr_assert_eq(synack_mt_connect(A, *c, &to), 0);
	struct synack_endpoint peer;
	*s = synack_mt_accept(B, l, &peer, 0);
	cr_assert_geq(*s, 0);
	cr_assert_eq(synack_addr_get_v4(&peer.addr), A_ADDR);
}

TestSuite(mt, .init = setup, .fini = teardown);

Test(mt, descriptors_are_kernel_fds_that_do_not_collide)
{
	int s = synack_mt_socket(A, SYNACK_MT_CLOEXEC);
	cr_assert_geq(s, 0);
	int p[2];
	cr_assert_eq(pipe(p), 0);
	cr_assert_neq(p[0], s);
	cr_assert_neq(p[1], s);
	cr_assert(synack_mt_is_socket(A, s));
	cr_assert_not(synack_mt_is_socket(A, p[0]));
	cr_assert_not(synack_mt_is_socket(B, s));
	/* A descriptor that is not a synack socket of this stack: -EBADF everywhere. */
	char c;
	cr_assert_eq(synack_mt_recv(A, p[0], &c, 1, 0), -EBADF);
	cr_assert_eq(synack_mt_send(B, s, "x", 1, 0), -EBADF);
	cr_assert_eq(synack_mt_close(A, -1), -EBADF);
	cr_assert_eq(synack_mt_close(A, s), 0);
	cr_assert_eq(synack_mt_close(A, s), -EBADF);
	close(p[0]);
	close(p[1]);
}

struct sink {
	int fd;
	size_t len;
	uint8_t *got;
	ssize_t total;
};

static void *sink_thread(void *arg)
{
	struct sink *k = arg;
	k->total = 0;
	for (;;) {
		ssize_t n = synack_mt_recv(B, k->fd, k->got + k->total, k->len - (size_t)k->total, 0);
		if (n <= 0)
			break;
		k->total += n;
		if ((size_t)k->total == k->len)
			break;
	}
	return NULL;
}

Test(mt, blocking_send_and_recv_move_a_megabyte_byte_exact)
{
	int l = listen_on(B, 5001, 0), c, s;
	connect_pair(5001, l, &c, &s);
	size_t len = 1 << 20;
	uint8_t *data = malloc(len);
	struct sink k = {s, len, malloc(len), 0};
	for (size_t i = 0; i < len; i++)
		data[i] = (uint8_t)(i * 7 + i / 251);
	pthread_t t;
	pthread_create(&t, NULL, sink_thread, &k);
	/* One blocking send queues everything: it waits for room as the peer reads. */
	cr_assert_eq(synack_mt_send(A, c, data, len, 0), (ssize_t)len);
	pthread_join(t, NULL);
	cr_assert_eq(k.total, (ssize_t)len);
	cr_assert_eq(memcmp(k.got, data, len), 0);
	/* The end of the stream: close on A gives 0 on B. */
	cr_assert_eq(synack_mt_close(A, c), 0);
	char x;
	cr_assert_eq(synack_mt_recv(B, s, &x, 1, 0), 0);
	free(data);
	free(k.got);
}

Test(mt, recv_waitall_collects_several_segments)
{
	int l = listen_on(B, 5002, 0), c, s;
	connect_pair(5002, l, &c, &s);
	cr_assert_eq(synack_mt_send(A, c, "abc", 3, 0), 3);
	cr_assert_eq(synack_mt_send(A, c, "defgh", 5, 0), 5);
	char buf[8];
	cr_assert_eq(synack_mt_recv(B, s, buf, 8, SYNACK_MSG_WAITALL), 8);
	cr_assert_eq(memcmp(buf, "abcdefgh", 8), 0);
}

Test(mt, rcvtimeo_gives_eagain_no_earlier_than_the_timeout)
{
	int l = listen_on(B, 5003, 0), c, s;
	connect_pair(5003, l, &c, &s);
	uint64_t us = 50000;
	cr_assert_eq(synack_mt_setsockopt(B, s, SYNACK_SOL_SOCKET, SYNACK_SO_RCVTIMEO, &us,
					  sizeof us), 0);
	uint64_t got = 0;
	size_t glen = sizeof got;
	cr_assert_eq(synack_mt_getsockopt(B, s, SYNACK_SOL_SOCKET, SYNACK_SO_RCVTIMEO, &got,
					  &glen), 0);
	cr_assert_eq(got, us);
	uint64_t t0 = now_us();
	char x;
	cr_assert_eq(synack_mt_recv(B, s, &x, 1, 0), -EAGAIN);
	cr_assert_geq(now_us() - t0, us);
	/* The timeout applies to accept too. */
	cr_assert_eq(synack_mt_setsockopt(B, l, SYNACK_SOL_SOCKET, SYNACK_SO_RCVTIMEO, &us,
					  sizeof us), 0);
	cr_assert_eq(synack_mt_accept(B, l, NULL, 0), -EAGAIN);
	/* A bad length is refused. */
	uint32_t small = 1;
	cr_assert_eq(synack_mt_setsockopt(B, s, SYNACK_SOL_SOCKET, SYNACK_SO_RCVTIMEO, &small,
					  sizeof small), -EINVAL);
}

Test(mt, sndtimeo_returns_what_was_queued)
{
	int l = listen_on(B, 5004, 0), c, s;
	connect_pair(5004, l, &c, &s);
	uint64_t us = 50000;
	cr_assert_eq(synack_mt_setsockopt(A, c, SYNACK_SOL_SOCKET, SYNACK_SO_SNDTIMEO, &us,
					  sizeof us), 0);
	/* Nobody reads on B: its receive buffer and A's send buffer fill, then the timer runs. */
	size_t len = 4 << 20;
	uint8_t *data = calloc(1, len);
	ssize_t n = synack_mt_send(A, c, data, len, 0);
	cr_assert_gt(n, 0);
	cr_assert_lt(n, (ssize_t)len);
	/* With the buffers still full, the next one queues nothing. */
	cr_assert_eq(synack_mt_send(A, c, data, len, 0), -EAGAIN);
	free(data);
}

Test(mt, nonblocking_calls_never_wait)
{
	int l = listen_on(B, 5005, SYNACK_MT_NONBLOCK);
	cr_assert_eq(synack_mt_accept(B, l, NULL, 0), -EAGAIN);
	int c = synack_mt_socket(A, SYNACK_MT_NONBLOCK);
	struct synack_endpoint to = {synack_addr_v4(B_ADDR), 5005};
	cr_assert_eq(synack_mt_connect(A, c, &to), -EINPROGRESS);
	/* Writable means the handshake finished: wait on the descriptor with poll. */
	cr_assert_eq(synack_mt_set_interest(A, c, SYNACK_EV_WRITABLE), 0);
	struct pollfd p = {.fd = c, .events = POLLIN};
	cr_assert_eq(poll(&p, 1, 10000), 1);
	cr_assert(synack_mt_events(A, c) & SYNACK_EV_WRITABLE);
	int err = -1;
	size_t elen = sizeof err;
	cr_assert_eq(synack_mt_getsockopt(A, c, SYNACK_SOL_SOCKET, SYNACK_SO_ERROR, &err, &elen), 0);
	cr_assert_eq(err, 0);
	char x;
	cr_assert_eq(synack_mt_recv(A, c, &x, 1, 0), -EAGAIN);
	/* MSG_DONTWAIT on a blocking socket. */
	cr_assert_eq(synack_mt_set_nonblock(A, c, false), 0);
	cr_assert_eq(synack_mt_recv(A, c, &x, 1, SYNACK_MSG_DONTWAIT), -EAGAIN);
	struct pollfd lp = {.fd = l, .events = POLLIN};
	cr_assert_eq(poll(&lp, 1, 10000), 1);
	int s = synack_mt_accept(B, l, NULL, SYNACK_MT_NONBLOCK);
	cr_assert_geq(s, 0);
	cr_assert_eq(synack_mt_recv(B, s, &x, 1, 0), -EAGAIN);
}

Test(mt, connect_to_a_closed_port_is_refused)
{
	int c = synack_mt_socket(A, 0);
	struct synack_endpoint to = {synack_addr_v4(B_ADDR), 5999};
	cr_assert_eq(synack_mt_connect(A, c, &to), -ECONNREFUSED);
}

Test(mt, the_descriptor_polls_readable_exactly_while_data_waits)
{
	int l = listen_on(B, 5006, 0), c, s;
	connect_pair(5006, l, &c, &s);
	struct pollfd p = {.fd = s, .events = POLLIN};
	cr_assert_eq(poll(&p, 1, 0), 0);
	cr_assert_eq(synack_mt_send(A, c, "ping", 4, 0), 4);
	cr_assert_eq(poll(&p, 1, 10000), 1);
	cr_assert_eq(synack_mt_events(B, s) & SYNACK_EV_READABLE, SYNACK_EV_READABLE);
	char buf[8];
	cr_assert_eq(synack_mt_recv(B, s, buf, sizeof buf, 0), 4);
	cr_assert_eq(memcmp(buf, "ping", 4), 0);
	cr_assert_eq(poll(&p, 1, 0), 0);
	/* Interest in writability makes an established socket with room ready at once. */
	cr_assert_eq(synack_mt_set_interest(B, s, SYNACK_EV_WRITABLE), 0);
	cr_assert_eq(poll(&p, 1, 0), 1);
	cr_assert_eq(synack_mt_set_interest(B, s, 0), 0);
	cr_assert_eq(poll(&p, 1, 0), 0);
	cr_assert_eq(synack_mt_set_interest(B, s, 0x80), -EINVAL);
	/* Counted interest: two joins need two leaves. */
	cr_assert_eq(synack_mt_add_interest(B, s, SYNACK_EV_WRITABLE, 1), 0);
	cr_assert_eq(synack_mt_add_interest(B, s, SYNACK_EV_WRITABLE, 1), 0);
	cr_assert_eq(synack_mt_add_interest(B, s, SYNACK_EV_WRITABLE, -1), 0);
	cr_assert_eq(poll(&p, 1, 0), 1);
	cr_assert_eq(synack_mt_add_interest(B, s, SYNACK_EV_WRITABLE, -1), 0);
	cr_assert_eq(poll(&p, 1, 0), 0);
	cr_assert_eq(synack_mt_add_interest(B, s, SYNACK_EV_WRITABLE, -1), -EINVAL);
}

Test(mt, epoll_waits_on_synack_and_kernel_descriptors_together)
{
	int l = listen_on(B, 5007, 0), c, s;
	connect_pair(5007, l, &c, &s);
	int pfd[2];
	cr_assert_eq(pipe(pfd), 0);
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = s};
	cr_assert_eq(epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev), 0);
	ev.data.fd = pfd[0];
	cr_assert_eq(epoll_ctl(ep, EPOLL_CTL_ADD, pfd[0], &ev), 0);
	struct epoll_event out[4];
	cr_assert_eq(epoll_wait(ep, out, 4, 0), 0);
	/* The synack socket alone first: epoll sleeps until its data arrives. */
	cr_assert_eq(synack_mt_send(A, c, "s", 1, 0), 1);
	cr_assert_eq(epoll_wait(ep, out, 4, 10000), 1);
	cr_assert_eq(out[0].data.fd, s);
	/* Then both at once, level-triggered. */
	cr_assert_eq(write(pfd[1], "k", 1), 1);
	cr_assert_eq(epoll_wait(ep, out, 4, 10000), 2);
	int seen = 0;
	for (int i = 0; i < 2; i++)
		seen |= out[i].data.fd == s ? 1 : out[i].data.fd == pfd[0] ? 2 : 0;
	cr_assert_eq(seen, 3);
	close(ep);
	close(pfd[0]);
	close(pfd[1]);
}

struct blocked {
	struct synack_mt *mt;
	int fd;
	ssize_t r;
};

static void *blocked_recv(void *arg)
{
	struct blocked *b = arg;
	char x;
	b->r = synack_mt_recv(b->mt, b->fd, &x, 1, 0);
	return NULL;
}

static void on_usr1(int sig) { (void)sig; }

Test(mt, a_signal_interrupts_a_blocking_recv_with_eintr)
{
	int l = listen_on(B, 5008, 0), c, s;
	connect_pair(5008, l, &c, &s);
	struct sigaction sa = {.sa_handler = on_usr1};
	sigaction(SIGUSR1, &sa, NULL);
	struct blocked b = {B, s, 1};
	pthread_t t;
	pthread_create(&t, NULL, blocked_recv, &b);
	/* Signal until the thread has left the call (a signal before it blocks is not lost
	 * either way: the loop goes on until the thread returns). */
	for (int i = 0; i < 200 && b.r == 1; i++) {
		pthread_kill(t, SIGUSR1);
		struct timespec ts = {0, 10000000};
		nanosleep(&ts, NULL);
	}
	pthread_join(t, NULL);
	cr_assert_eq(b.r, -EINTR);
	signal(SIGUSR1, SIG_DFL);
}

Test(mt, close_wakes_a_thread_blocked_in_recv_with_ebadf)
{
	int l = listen_on(B, 5009, 0), c, s;
	connect_pair(5009, l, &c, &s);
	struct blocked b = {B, s, 1};
	pthread_t t;
	pthread_create(&t, NULL, blocked_recv, &b);
	while (synack_mt_waiting(B, s) < 1)
		sched_yield();
	cr_assert_eq(synack_mt_close(B, s), 0);
	pthread_join(t, NULL);
	cr_assert_eq(b.r, -EBADF);
	cr_assert_eq(synack_mt_close(B, s), -EBADF);
}

static void count_conns(struct synack_stack *s, void *ctx)
{
	*(uint32_t *)ctx = (uint32_t)synack_stack_live_allocs(s);
}

Test(mt, rename_moves_a_socket_to_a_dup_of_its_descriptor)
{
	int l = listen_on(B, 5010, 0), c, s;
	connect_pair(5010, l, &c, &s);
	int d = dup(c);
	cr_assert_eq(synack_mt_rename(A, c, d), 0);
	cr_assert_not(synack_mt_is_socket(A, c));
	cr_assert(synack_mt_is_socket(A, d));
	close(c);
	cr_assert_eq(synack_mt_send(A, d, "r", 1, 0), 1);
	char x;
	cr_assert_eq(synack_mt_recv(B, s, &x, 1, 0), 1);
	cr_assert_eq(x, 'r');
	int other = eventfd(0, 0);
	cr_assert_eq(synack_mt_rename(A, d, other), -EINVAL);
	close(other);
	uint32_t n = 0;
	synack_mt_call(A, count_conns, &n);
	cr_assert_gt(n, 0);
}

/* ---- stress: several threads open and close connections, blocking and not, with a close
 * racing a blocked read; at the end every socket is gone and the stacks settle. ---- */

#define STRESS_THREADS 4
#define STRESS_PORT 6000

struct worker {
	int id, rounds;
	int ok, failed;
};

static void *acceptor(void *arg)
{
	int l = *(int *)arg;
	for (;;) {
		int s = synack_mt_accept(B, l, NULL, 0);
		if (s < 0)
			return NULL; /* the listener was closed */
		char buf[64];
		ssize_t n;
		while ((n = synack_mt_recv(B, s, buf, sizeof buf, 0)) > 0)
			synack_mt_send(B, s, buf, (size_t)n, 0);
		synack_mt_close(B, s);
	}
}

static void *racer(void *arg)
{
	struct blocked *b = arg;
	char x;
	b->r = synack_mt_recv(b->mt, b->fd, &x, 1, 0);
	return NULL;
}

static bool one_round(struct worker *w, int i)
{
	bool nonblock = (i + w->id) % 2;
	int c = synack_mt_socket(A, nonblock ? SYNACK_MT_NONBLOCK : 0);
	if (c < 0)
		return false;
	struct synack_endpoint to = {synack_addr_v4(B_ADDR), STRESS_PORT};
	int r = synack_mt_connect(A, c, &to);
	if (nonblock && r == -EINPROGRESS) {
		synack_mt_add_interest(A, c, SYNACK_EV_WRITABLE, 1);
		struct pollfd p = {.fd = c, .events = POLLIN};
		poll(&p, 1, 10000);
		synack_mt_add_interest(A, c, SYNACK_EV_WRITABLE, -1);
		synack_mt_set_nonblock(A, c, false);
		r = (synack_mt_events(A, c) & SYNACK_EV_WRITABLE) ? 0 : -ETIMEDOUT;
	}
	bool ok = r == 0;
	char msg[16], back[16];
	int len = snprintf(msg, sizeof msg, "w%d-%d", w->id, i);
	ssize_t sent = -1, got = -1;
	if (ok)
		ok = (sent = synack_mt_send(A, c, msg, (size_t)len, 0)) == len &&
		     (got = synack_mt_recv(A, c, back, (size_t)len, SYNACK_MSG_WAITALL)) == len &&
		     memcmp(msg, back, (size_t)len) == 0;
	if (!ok)
		fprintf(stderr, "round %d/%d: connect %d send %zd recv %zd\n", w->id, i, r, sent, got);
	if (ok && i % 5 == 0) {
		/* A read blocked on a socket another thread closes. */
		struct blocked b = {A, c, 1};
		pthread_t t;
		pthread_create(&t, NULL, racer, &b);
		while (synack_mt_waiting(A, c) < 1)
			sched_yield();
		synack_mt_close(A, c);
		pthread_join(t, NULL);
		return b.r == -EBADF;
	}
	synack_mt_close(A, c);
	return ok;
}

static void *worker_thread(void *arg)
{
	struct worker *w = arg;
	for (int i = 0; i < w->rounds; i++) {
		if (one_round(w, i))
			w->ok++;
		else
			w->failed++;
	}
	return NULL;
}

static void count_live(struct synack_stack *s, void *ctx)
{
	size_t *n = ctx;
	*n = synack_stack_live_allocs(s);
}

Test(mt, stress_threads_open_and_close_connections)
{
	int rounds = getenv("SYNACK_SOAK") ? 2500 : 500;
	size_t base_a = 0;
	synack_mt_call(A, count_live, &base_a);
	int l = listen_on(B, STRESS_PORT, 0);
	pthread_t acc[2], th[STRESS_THREADS];
	for (int i = 0; i < 2; i++)
		pthread_create(&acc[i], NULL, acceptor, &l);
	struct worker w[STRESS_THREADS];
	for (int i = 0; i < STRESS_THREADS; i++) {
		w[i] = (struct worker){.id = i, .rounds = rounds};
		pthread_create(&th[i], NULL, worker_thread, &w[i]);
	}
	int ok = 0;
	for (int i = 0; i < STRESS_THREADS; i++) {
		pthread_join(th[i], NULL);
		cr_expect_eq(w[i].failed, 0, "worker %d: %d of %d rounds failed", i, w[i].failed,
			     rounds);
		ok += w[i].ok;
	}
	cr_expect_eq(ok, STRESS_THREADS * rounds);
	synack_mt_close(B, l); /* wakes both acceptors with -EBADF */
	for (int i = 0; i < 2; i++)
		pthread_join(acc[i], NULL);
	/* Every connection closes gracefully: after TIME-WAIT nothing of them is left. */
	cr_assert_eq(synack_mt_settle(A, 20000), 0);
	cr_assert_eq(synack_mt_settle(B, 20000), 0);
	struct timespec ts = {0, 300000000}; /* TIME-WAIT is 200 ms here */
	nanosleep(&ts, NULL);
	size_t live = 0;
	synack_mt_call(A, count_live, &live);
	cr_assert_eq(live, base_a, "stack A holds %zu blocks, %zu before", live, base_a);
}
