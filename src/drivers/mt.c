/* synack — a stack shared by threads, see include/synack/mt.h.
 *
 * One mutex guards the stack and this layer's socket table. Sockets are named by eventfds;
 * the table is indexed by that descriptor number. The stack's `wake` callback (run inside a
 * stack call, under the mutex) refreshes the eventfd of the socket it names: written when the
 * socket is ready for its interest, drained when it is not. Blocking calls wait in poll(2) on
 * that eventfd with the mutex released, so signals give -EINTR and close() can wake them.
 *
 * The descriptors this file owns (eventfds, the epoll set) are read, written, polled and
 * closed through eventfd_read()/eventfd_write() and raw system calls, never through the
 * interposable read/write/poll/close symbols: an LD_PRELOAD layer above (src/preload) wraps
 * those, and must not be re-entered from inside the stack.
 */
#include "sys/entropy.h"
#include "synack/mt.h"

#include "drivers/driver.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MT_RX_BATCH 256
#define MT_FRAME_MAX 65536
#define MT_SETTLE_STEP_MS 10

struct mt_sock {
	bool used;
	bool closing;  /* closed while threads still wait on it */
	bool nonblock;
	bool armed;    /* the eventfd's counter is non-zero */
	int sd;        /* the stack's descriptor, -1 once closed */
	unsigned interest;
	unsigned n_in, n_out; /* counted interest (waiters, pollers) */
	unsigned waiters;     /* threads inside a blocking wait */
	uint64_t rcvtimeo_us, sndtimeo_us;
};

struct synack_mt {
	pthread_mutex_t lock;
	struct synack_stack *stack;
	struct synack_link *link;
	pthread_t thread;
	bool started, stop;
	bool in_api;   /* an application call is running: wakes are not new edges */
	int ep, kick;
	uint64_t sleep_until;
	uint64_t tx_errors, rx_errors;
	struct mt_sock *socks; /* indexed by descriptor */
	uint32_t nsocks;
	int *by_sd;            /* stack descriptor -> our descriptor, -1 */
	uint32_t cap_sd;
	uint8_t frame[MT_FRAME_MAX];
};

static int sys_close(int fd) { return (int)syscall(SYS_close, fd); }

/* poll(2) on one descriptor for POLLIN; ms < 0 waits forever. */
static int sys_poll_in(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	return (int)syscall(SYS_ppoll, &p, 1, ms < 0 ? NULL : &ts, NULL, (size_t)8);
}

static int sys_epoll_wait(int ep, struct epoll_event *evs, int n, int ms)
{
	return (int)syscall(SYS_epoll_pwait, ep, evs, n, ms, NULL, (size_t)8);
}

static void kick(int efd)
{
	/* Fails only when the counter is saturated, and then the reader is awake anyway. */
	(void)eventfd_write(efd, 1);
}

static uint64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- readiness ------------------------------------------------------------------------- */

static struct mt_sock *slot(struct synack_mt *mt, int fd)
{
	if (fd < 0 || (uint32_t)fd >= mt->nsocks || !mt->socks[fd].used || mt->socks[fd].closing)
		return NULL;
	return &mt->socks[fd];
}

static unsigned want_of(const struct mt_sock *e)
{
	unsigned w = e->interest | SYNACK_EV_ERROR | SYNACK_EV_HUP;
	if (e->n_in)
		w |= SYNACK_EV_READABLE;
	if (e->n_out)
		w |= SYNACK_EV_WRITABLE;
	return w;
}

/* Makes the eventfd tell the truth. edge: the stack reported a change, so a ready socket's
 * eventfd is written again (a new edge for EPOLLET). */
static void refresh(struct synack_mt *mt, int fd, bool edge)
{
	struct mt_sock *e = slot(mt, fd);
	if (!e)
		return;
	int ev = synack_events(mt->stack, e->sd);
	bool ready = ev < 0 || (ev & want_of(e));
	if (ready && (edge || !e->armed)) {
		if (eventfd_write(fd, 1) == 0)
			e->armed = true;
	} else if (!ready && e->armed) {
		eventfd_t v;
		if (eventfd_read(fd, &v) == 0 || errno == EAGAIN)
			e->armed = false;
	}
}

static void on_wake(void *ctx, int sd, unsigned events)
{
	(void)events;
	struct synack_mt *mt = ctx;
	if (sd >= 0 && (uint32_t)sd < mt->cap_sd && mt->by_sd[sd] >= 0)
		refresh(mt, mt->by_sd[sd], !mt->in_api);
}

static void on_output(void *ctx, const uint8_t *frame, const struct synack_frame_meta *meta)
{
	struct synack_mt *mt = ctx;
	if (synack_link_send(mt->link, frame, meta, synack_stack_now(mt->stack)) < 0)
		mt->tx_errors++;
	/* A batching link: what an application thread's call sends goes at once; the stack
	 * thread's output goes at the end of its step. */
	if (mt->in_api)
		synack_link_flush(mt->link, synack_stack_now(mt->stack));
}

/* ---- entering and leaving the stack ---------------------------------------------------- */

/* Takes the lock and brings the stack's clock to now, so the call acts at the right time. */
static void enter(struct synack_mt *mt)
{
	pthread_mutex_lock(&mt->lock);
	synack_stack_poll(mt->stack, mono_us());
	mt->in_api = true;
}

/* Wakes the stack thread when the call armed a timer earlier than the one it sleeps on. */
static void leave(struct synack_mt *mt)
{
	mt->in_api = false;
	if (synack_stack_next_deadline(mt->stack) < mt->sleep_until) {
		mt->sleep_until = 0;
		kick(mt->kick);
	}
	pthread_mutex_unlock(&mt->lock);
}

static void free_slot(struct synack_mt *mt, int fd)
{
	sys_close(fd);
	memset(&mt->socks[fd], 0, sizeof mt->socks[fd]);
	mt->socks[fd].sd = -1;
}

/* Waits (lock released) until fd is ready for `what` or the deadline (0: none) passes.
 * Returns 0 to retry, -EINTR, -ETIMEDOUT, or -EBADF when the socket was closed. */
static int wait_ready(struct synack_mt *mt, int fd, unsigned what, uint64_t deadline)
{
	struct mt_sock *e = &mt->socks[fd];
	e->waiters++;
	e->n_in += (what & SYNACK_EV_READABLE) != 0;
	e->n_out += (what & SYNACK_EV_WRITABLE) != 0;
	refresh(mt, fd, false);
	int ms = -1;
	if (deadline) {
		uint64_t now = mono_us();
		ms = deadline <= now ? 0 : (int)((deadline - now + 999) / 1000);
	}
	leave(mt);
	int rc = sys_poll_in(fd, ms);
	int err = rc < 0 ? errno : 0;
	enter(mt);
	e = &mt->socks[fd]; /* the table may have moved */
	e->waiters--;
	e->n_in -= (what & SYNACK_EV_READABLE) != 0;
	e->n_out -= (what & SYNACK_EV_WRITABLE) != 0;
	if (e->closing) {
		if (e->waiters == 0)
			free_slot(mt, fd);
		return -EBADF;
	}
	refresh(mt, fd, false);
	if (rc < 0)
		return err == EINTR ? -EINTR : -err;
	if (rc == 0 && deadline && mono_us() >= deadline)
		return -ETIMEDOUT;
	return 0;
}

static uint64_t deadline_of(uint64_t timeo_us)
{
	return timeo_us ? mono_us() + timeo_us : 0;
}

/* ---- the stack thread -------------------------------------------------------------------- */

static int timeout_ms(uint64_t at)
{
	if (at == SYNACK_TIME_NEVER)
		return -1;
	uint64_t now = mono_us();
	if (at <= now)
		return 0;
	uint64_t ms = (at - now + 999) / 1000;
	return ms > 60000 ? 60000 : (int)ms;
}

static void *stack_thread(void *arg)
{
	struct synack_mt *mt = arg;
	struct epoll_event evs[4];
	pthread_mutex_lock(&mt->lock);
	/* The step every driver shares (driver.h), in batches: the lock is released between
	 * them, so application threads are not starved by a busy link. */
	struct synack_driver d = {.stack = mt->stack, .link = mt->link, .buf = mt->frame,
				  .cap = sizeof mt->frame, .max_frames = MT_RX_BATCH};
	while (!mt->stop) {
		if (synack_driver_step(&d, mono_us()) < 0)
			mt->rx_errors++;
		synack_link_flush(mt->link, synack_stack_now(mt->stack));
		uint64_t at = synack_driver_next(&d);
		mt->sleep_until = at;
		pthread_mutex_unlock(&mt->lock);
		int n = sys_epoll_wait(mt->ep, evs, 4, timeout_ms(at));
		pthread_mutex_lock(&mt->lock);
		for (int i = 0; i < n; i++) {
			eventfd_t v;
			if (evs[i].data.fd == mt->kick)
				(void)eventfd_read(mt->kick, &v);
		}
	}
	pthread_mutex_unlock(&mt->lock);
	return NULL;
}

/* ---- life cycle ------------------------------------------------------------------------ */

static int setup_fds(struct synack_mt *mt)
{
	mt->ep = epoll_create1(EPOLL_CLOEXEC);
	mt->kick = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (mt->ep < 0 || mt->kick < 0)
		return -errno;
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = mt->kick};
	if (epoll_ctl(mt->ep, EPOLL_CTL_ADD, mt->kick, &ev) < 0)
		return -errno;
	if (mt->link->fd >= 0) {
		ev.data.fd = mt->link->fd;
		if (epoll_ctl(mt->ep, EPOLL_CTL_ADD, mt->link->fd, &ev) < 0)
			return -errno;
	}
	return 0;
}

static int make_stack(struct synack_mt *mt, const struct synack_config *cfg)
{
	struct synack_config c = *cfg;
	c.output = on_output;
	c.output_ctx = mt;
	c.caps = mt->link->caps; /* the stack sends what the link can take */
	c.wake = on_wake;
	c.wake_ctx = mt;
	static const uint8_t zero[16];
	int err = 0;
	if (c.seed == 0 && !memcmp(c.secret, zero, sizeof zero)) {
		err = sys_fill_random(&c.seed, sizeof c.seed);
		if (!err)
			err = sys_fill_random(c.secret, sizeof c.secret);
	}
	mt->cap_sd = (c.max_sockets ? c.max_sockets : 1024) + 64;
	mt->by_sd = malloc(mt->cap_sd * sizeof *mt->by_sd);
	if (!err && !mt->by_sd)
		err = -ENOMEM;
	for (uint32_t i = 0; !err && i < mt->cap_sd; i++)
		mt->by_sd[i] = -1;
	if (!err)
		err = synack_stack_new(&mt->stack, &c);
	if (!err)
		synack_stack_poll(mt->stack, mono_us());
	return err;
}

/* The stack thread takes no signal: they belong to the application's threads. */
static int start_thread(struct synack_mt *mt)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int err = pthread_create(&mt->thread, NULL, stack_thread, mt);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		return -err;
	mt->started = true;
	return 0;
}

int synack_mt_new(struct synack_mt **out, struct synack_link *link,
		  const struct synack_config *cfg)
{
	*out = NULL;
	if (!link || !cfg)
		return -EINVAL;
	struct synack_mt *mt = calloc(1, sizeof *mt);
	if (!mt)
		return -ENOMEM;
	pthread_mutex_init(&mt->lock, NULL);
	mt->link = link;
	mt->ep = mt->kick = -1;
	mt->sleep_until = SYNACK_TIME_NEVER;
	int err = setup_fds(mt);
	if (!err)
		err = make_stack(mt, cfg);
	if (!err)
		err = start_thread(mt);
	if (err) {
		mt->link = NULL;
		synack_mt_destroy(mt);
		return err;
	}
	*out = mt;
	return 0;
}

void synack_mt_destroy(struct synack_mt *mt)
{
	if (!mt)
		return;
	if (mt->started) {
		pthread_mutex_lock(&mt->lock);
		mt->stop = true;
		kick(mt->kick);
		pthread_mutex_unlock(&mt->lock);
		pthread_join(mt->thread, NULL);
	}
	for (uint32_t i = 0; i < mt->nsocks; i++)
		if (mt->socks[i].used)
			sys_close((int)i);
	if (mt->stack)
		synack_stack_destroy(mt->stack);
	synack_link_destroy(mt->link);
	if (mt->ep >= 0)
		sys_close(mt->ep);
	if (mt->kick >= 0)
		sys_close(mt->kick);
	free(mt->socks);
	free(mt->by_sd);
	pthread_mutex_destroy(&mt->lock);
	free(mt);
}

struct settle_ctx {
	bool settled;
};

static void settle_visit(void *ctx, int fd, const struct synack_tcp_info *info)
{
	(void)fd;
	struct settle_ctx *c = ctx;
	if (info->state != SYNACK_LISTEN && info->state != SYNACK_TIME_WAIT &&
	    info->state != SYNACK_CLOSED && info->state != SYNACK_FIN_WAIT_2)
		c->settled = false;
}

int synack_mt_settle(struct synack_mt *mt, int timeout_ms_)
{
	uint64_t until = mono_us() + (uint64_t)(timeout_ms_ < 0 ? 0 : timeout_ms_) * 1000u;
	for (;;) {
		struct settle_ctx c = {true};
		pthread_mutex_lock(&mt->lock);
		synack_stack_foreach(mt->stack, settle_visit, &c);
		pthread_mutex_unlock(&mt->lock);
		if (c.settled)
			return 0;
		if (mono_us() >= until)
			return -ETIMEDOUT;
		struct timespec ts = {0, MT_SETTLE_STEP_MS * 1000000L};
		nanosleep(&ts, NULL);
	}
}

void synack_mt_call(struct synack_mt *mt, void (*fn)(struct synack_stack *s, void *ctx),
		    void *ctx)
{
	enter(mt);
	fn(mt->stack, ctx);
	leave(mt);
}

size_t synack_mt_addrs(struct synack_mt *mt, struct synack_ifaddr *out, size_t cap)
{
	pthread_mutex_lock(&mt->lock);
	size_t n = synack_stack_addrs(mt->stack, out, cap);
	pthread_mutex_unlock(&mt->lock);
	return n;
}

uint64_t synack_mt_tx_errors(struct synack_mt *mt)
{
	pthread_mutex_lock(&mt->lock);
	uint64_t n = mt->tx_errors;
	pthread_mutex_unlock(&mt->lock);
	return n;
}

/* ---- sockets ------------------------------------------------------------------------------ */

static int grow_table(struct synack_mt *mt, int fd)
{
	if ((uint32_t)fd < mt->nsocks)
		return 0;
	uint32_t n = mt->nsocks ? mt->nsocks : 64;
	while (n <= (uint32_t)fd)
		n *= 2;
	struct mt_sock *t = realloc(mt->socks, n * sizeof *t);
	if (!t)
		return -ENOMEM;
	memset(t + mt->nsocks, 0, (n - mt->nsocks) * sizeof *t);
	for (uint32_t i = mt->nsocks; i < n; i++)
		t[i].sd = -1;
	mt->socks = t;
	mt->nsocks = n;
	return 0;
}

/* Gives stack descriptor sd an eventfd and a table entry. Returns the descriptor or an error
 * (sd is then closed). */
static int adopt(struct synack_mt *mt, int sd, unsigned flags)
{
	int efd = eventfd(0, EFD_NONBLOCK | ((flags & SYNACK_MT_CLOEXEC) ? EFD_CLOEXEC : 0));
	int err = efd < 0 ? -errno : 0;
	if (!err && (uint32_t)sd >= mt->cap_sd)
		err = -EMFILE;
	if (!err)
		err = grow_table(mt, efd);
	if (err) {
		if (efd >= 0)
			sys_close(efd);
		synack_close(mt->stack, sd);
		return err;
	}
	struct mt_sock *e = &mt->socks[efd];
	memset(e, 0, sizeof *e);
	e->used = true;
	e->sd = sd;
	e->nonblock = (flags & SYNACK_MT_NONBLOCK) != 0;
	e->interest = SYNACK_EV_READABLE;
	mt->by_sd[sd] = efd;
	refresh(mt, efd, false);
	return efd;
}

int synack_mt_socket(struct synack_mt *mt, unsigned flags)
{
	enter(mt);
	int sd = synack_socket(mt->stack);
	int r = sd < 0 ? sd : adopt(mt, sd, flags);
	leave(mt);
	return r;
}

int synack_mt_bind(struct synack_mt *mt, int fd, const struct synack_endpoint *local)
{
	enter(mt);
	struct mt_sock *e = slot(mt, fd);
	int r = e ? synack_bind(mt->stack, e->sd, local) : -EBADF;
	leave(mt);
	return r;
}

int synack_mt_listen(struct synack_mt *mt, int fd, int backlog)
{
	enter(mt);
	struct mt_sock *e = slot(mt, fd);
	int r = e ? synack_listen(mt->stack, e->sd, backlog) : -EBADF;
	if (e)
		refresh(mt, fd, false);
	leave(mt);
	return r;
}

int synack_mt_accept(struct synack_mt *mt, int fd, struct synack_endpoint *peer, unsigned flags)
{
	enter(mt);
	struct mt_sock *e = slot(mt, fd);
	uint64_t deadline = e ? deadline_of(e->rcvtimeo_us) : 0;
	int r = -EBADF;
	while (e) {
		r = synack_accept(mt->stack, e->sd, peer);
		if (r >= 0) {
			refresh(mt, fd, false);
			r = adopt(mt, r, flags);
			break;
		}
		if (r != -EAGAIN || e->nonblock)
			break;
		r = wait_ready(mt, fd, SYNACK_EV_READABLE, deadline);
		if (r == -ETIMEDOUT)
			r = -EAGAIN;
		if (r < 0)
			break;
		e = slot(mt, fd);
	}
	leave(mt);
	return r;
}

/* The outcome of a finished connect attempt: 0 when established (or further), else its
 * error. Returns 1 while it is still going. */
static int connect_outcome(struct synack_mt *mt, struct mt_sock *e)
{
	struct synack_tcp_info ti;
	if (synack_tcp_info(mt->stack, e->sd, &ti) < 0)
		return -EBADF;
	if (ti.state == SYNACK_SYN_SENT || ti.state == SYNACK_SYN_RECEIVED)
		return 1;
	int soerr = 0;
	size_t len = sizeof soerr;
	synack_getsockopt(mt->stack, e->sd, SYNACK_SOL_SOCKET, SYNACK_SO_ERROR, &soerr, &len);
	if (soerr)
		return soerr > 0 ? -soerr : soerr;
	return ti.state == SYNACK_CLOSED ? -ECONNREFUSED : 0;
}

int synack_mt_connect(struct synack_mt *mt, int fd, const struct synack_endpoint *remote)
{
	enter(mt);
	struct mt_sock *e = slot(mt, fd);
	int r = e ? synack_connect(mt->stack, e->sd, remote) : -EBADF;
	if (e)
		refresh(mt, fd, false);
	uint64_t deadline = e ? deadline_of(e->sndtimeo_us) : 0;
	while (r == -EINPROGRESS && e && !e->nonblock) {
		int w = wait_ready(mt, fd, SYNACK_EV_WRITABLE, deadline);
		if (w == -ETIMEDOUT || w == -EINTR) {
			r = w == -EINTR ? -EINTR : -EINPROGRESS;
			break;
		}
		if (w < 0) {
			r = w;
			break;
		}
		e = slot(mt, fd);
		int o = e ? connect_outcome(mt, e) : -EBADF;
		if (o <= 0)
			r = o;
	}
	leave(mt);
	return r;
}

ssize_t synack_mt_send(struct synack_mt *mt, int fd, const void *buf, size_t len, int flags)
{
	enter(mt);
	struct mt_sock *e = slot(mt, fd);
	uint64_t deadline = e ? deadline_of(e->sndtimeo_us) : 0;
	bool wait = e && !e->nonblock && !(flags & SYNACK_MSG_DONTWAIT);
	const uint8_t *p = buf;
	size_t done = 0;
	ssize_t r = -EBADF;
	while (e) {
		r = synack_send(mt->stack, e->sd, p + done, len - done, 0);
		if (r > 0)
			done += (size_t)r;
		if ((r >= 0 && done == len) || (r < 0 && r != -EAGAIN) || !wait)
			break;
		int w = wait_ready(mt, fd, SYNACK_EV_WRITABLE, deadline);
		if (w < 0) {
			r = w == -ETIMEDOUT ? -EAGAIN : w;
			break;
		}
		e = slot(mt, fd);
	}
	if (slot(mt, fd))
		refresh(mt, fd, false);
	leave(mt);
	return done > 0 ? (ssize_t)done : r;
}

ssize_t synack_mt_recv(struct synack_mt *mt, int fd, void *buf, size_t len, int flags)
{
	enter(mt);
	struct mt_sock *e = slot(mt, fd);
	uint64_t deadline = e ? deadline_of(e->rcvtimeo_us) : 0;
	bool wait = e && !e->nonblock && !(flags & SYNACK_MSG_DONTWAIT);
	bool all = wait && (flags & SYNACK_MSG_WAITALL) && !(flags & SYNACK_MSG_PEEK);
	uint8_t *p = buf;
	size_t done = 0;
	ssize_t r = -EBADF;
	while (e) {
		r = synack_recv(mt->stack, e->sd, p + done, len - done, flags & SYNACK_MSG_PEEK);
		if (r > 0)
			done += (size_t)r;
		if (r == 0 || (r < 0 && r != -EAGAIN) || (r > 0 && (!all || done == len)) || !wait)
			break;
		int w = wait_ready(mt, fd, SYNACK_EV_READABLE, deadline);
		if (w < 0) {
			r = w == -ETIMEDOUT ? -EAGAIN : w;
			break;
		}
		e = slot(mt, fd);
	}
	if (slot(mt, fd))
		refresh(mt, fd, false);
	leave(mt);
	return done > 0 ? (ssize_t)done : r;
}

int synack_mt_shutdown(struct synack_mt *mt, int fd, int how)
{
	enter(mt);
	struct mt_sock *e = slot(mt, fd);
	int r = e ? synack_shutdown(mt->stack, e->sd, how) : -EBADF;
	if (e)
		refresh(mt, fd, true); /* a waiting reader sees the end now */
	leave(mt);
	return r;
}

int synack_mt_close(struct synack_mt *mt, int fd)
{
	enter(mt);
	struct mt_sock *e = slot(mt, fd);
	if (!e) {
		leave(mt);
		return -EBADF;
	}
	synack_close(mt->stack, e->sd);
	mt->by_sd[e->sd] = -1;
	e->sd = -1;
	if (e->waiters) {
		/* Wake them; the last one to leave closes the descriptor. */
		e->closing = true;
		kick(fd);
	} else {
		free_slot(mt, fd);
	}
	leave(mt);
	return 0;
}

static int timeo_opt(struct mt_sock *e, int name, const void *val, size_t len)
{
	if (!val || len != sizeof(uint64_t))
		return -EINVAL;
	uint64_t us;
	memcpy(&us, val, sizeof us);
	if (name == SYNACK_SO_RCVTIMEO)
		e->rcvtimeo_us = us;
	else
		e->sndtimeo_us = us;
	return 0;
}

int synack_mt_setsockopt(struct synack_mt *mt, int fd, int level, int name, const void *val,
			 size_t len)
{
	enter(mt);
	struct mt_sock *e = slot(mt, fd);
	int r = -EBADF;
	if (e && level == SYNACK_SOL_SOCKET &&
	    (name == SYNACK_SO_RCVTIMEO || name == SYNACK_SO_SNDTIMEO))
		r = timeo_opt(e, name, val, len);
	else if (e)
		r = synack_setsockopt(mt->stack, e->sd, level, name, val, len);
	if (e)
		refresh(mt, fd, false);
	leave(mt);
	return r;
}

int synack_mt_getsockopt(struct synack_mt *mt, int fd, int level, int name, void *val,
			 size_t *len)
{
	enter(mt);
	struct mt_sock *e = slot(mt, fd);
	int r = -EBADF;
	if (e && level == SYNACK_SOL_SOCKET &&
	    (name == SYNACK_SO_RCVTIMEO || name == SYNACK_SO_SNDTIMEO)) {
		uint64_t us = name == SYNACK_SO_RCVTIMEO ? e->rcvtimeo_us : e->sndtimeo_us;
		r = -EINVAL;
		if (val && len && *len >= sizeof us) {
			memcpy(val, &us, sizeof us);
			*len = sizeof us;
			r = 0;
		}
	} else if (e) {
		r = synack_getsockopt(mt->stack, e->sd, level, name, val, len);
		refresh(mt, fd, false); /* SO_ERROR clears the error */
	}
	leave(mt);
	return r;
}

int synack_mt_getsockname(struct synack_mt *mt, int fd, struct synack_endpoint *out)
{
	enter(mt);
	struct mt_sock *e = slot(mt, fd);
	int r = e ? synack_getsockname(mt->stack, e->sd, out) : -EBADF;
	leave(mt);
	return r;
}

int synack_mt_getpeername(struct synack_mt *mt, int fd, struct synack_endpoint *out)
{
	enter(mt);
	struct mt_sock *e = slot(mt, fd);
	int r = e ? synack_getpeername(mt->stack, e->sd, out) : -EBADF;
	leave(mt);
	return r;
}

int synack_mt_tcp_info(struct synack_mt *mt, int fd, struct synack_tcp_info *out)
{
	enter(mt);
	struct mt_sock *e = slot(mt, fd);
	int r = e ? synack_tcp_info(mt->stack, e->sd, out) : -EBADF;
	leave(mt);
	return r;
}

int synack_mt_set_nonblock(struct synack_mt *mt, int fd, bool on)
{
	enter(mt);
	struct mt_sock *e = slot(mt, fd);
	if (e)
		e->nonblock = on;
	leave(mt);
	return e ? 0 : -EBADF;
}

int synack_mt_flags(struct synack_mt *mt, int fd)
{
	pthread_mutex_lock(&mt->lock);
	struct mt_sock *e = slot(mt, fd);
	int r = e ? (e->nonblock ? (int)SYNACK_MT_NONBLOCK : 0) : -EBADF;
	pthread_mutex_unlock(&mt->lock);
	return r;
}

int synack_mt_events(struct synack_mt *mt, int fd)
{
	enter(mt);
	struct mt_sock *e = slot(mt, fd);
	int r = e ? synack_events(mt->stack, e->sd) : -EBADF;
	leave(mt);
	return r;
}

int synack_mt_set_interest(struct synack_mt *mt, int fd, unsigned events)
{
	if (events & ~(SYNACK_EV_READABLE | SYNACK_EV_WRITABLE))
		return -EINVAL;
	enter(mt);
	struct mt_sock *e = slot(mt, fd);
	if (e) {
		e->interest = events;
		refresh(mt, fd, false);
	}
	leave(mt);
	return e ? 0 : -EBADF;
}

int synack_mt_add_interest(struct synack_mt *mt, int fd, unsigned events, int delta)
{
	if ((events & ~(SYNACK_EV_READABLE | SYNACK_EV_WRITABLE)) || (delta != 1 && delta != -1))
		return -EINVAL;
	enter(mt);
	struct mt_sock *e = slot(mt, fd);
	int r = e ? 0 : -EBADF;
	if (e && delta < 0 && (((events & SYNACK_EV_READABLE) && !e->n_in) ||
			       ((events & SYNACK_EV_WRITABLE) && !e->n_out)))
		r = -EINVAL;
	if (!r) {
		if (events & SYNACK_EV_READABLE)
			e->n_in += (unsigned)delta;
		if (events & SYNACK_EV_WRITABLE)
			e->n_out += (unsigned)delta;
		refresh(mt, fd, false);
	}
	leave(mt);
	return r;
}

/* Every eventfd shares one anonymous inode, so fstat() cannot tell them apart: kcmp(2) can.
 * Where kcmp is missing (CONFIG_KCMP=n), the caller is trusted. */
static bool same_file(int a, int b)
{
	long r = syscall(SYS_kcmp, (long)getpid(), (long)getpid(), 0 /* KCMP_FILE */, (long)a,
			 (long)b);
	return r == 0 || (r < 0 && errno == ENOSYS);
}

int synack_mt_rename(struct synack_mt *mt, int fd, int newfd)
{
	enter(mt);
	struct mt_sock *e = slot(mt, fd);
	int r = e ? 0 : -EBADF;
	if (!r && (newfd < 0 || newfd == fd || !same_file(fd, newfd) ||
		   ((uint32_t)newfd < mt->nsocks && mt->socks[newfd].used) || e->waiters))
		r = -EINVAL;
	if (!r)
		r = grow_table(mt, newfd);
	if (!r) {
		mt->socks[newfd] = mt->socks[fd];
		mt->by_sd[mt->socks[newfd].sd] = newfd;
		memset(&mt->socks[fd], 0, sizeof mt->socks[fd]);
		mt->socks[fd].sd = -1;
	}
	leave(mt);
	return r;
}

int synack_mt_waiting(struct synack_mt *mt, int fd)
{
	pthread_mutex_lock(&mt->lock);
	struct mt_sock *e = slot(mt, fd);
	int r = e ? (int)e->waiters : -EBADF;
	pthread_mutex_unlock(&mt->lock);
	return r;
}

bool synack_mt_is_socket(struct synack_mt *mt, int fd)
{
	pthread_mutex_lock(&mt->lock);
	bool r = slot(mt, fd) != NULL;
	pthread_mutex_unlock(&mt->lock);
	return r;
}
