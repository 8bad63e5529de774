/* synack — the event loop, see include/synack/loop.h. */
#include "sys/entropy.h"
#include "synack/loop.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "drivers/driver.h"
#include "synack/socket.h"

#define LOOP_MAX_FDS 16      /* host descriptors besides the link and the signalfd */
#define LOOP_RX_BATCH 256    /* frames taken from the link per wake-up */
#define LOOP_FRAME_MAX 65536
#define LOOP_WAKE_ROUNDS 64  /* on_ready passes per step before yielding to the link */

struct host_fd {
	int fd;
	synack_loop_fd_fn fn;
	void *ctx;
};

struct synack_loop {
	struct synack_stack *stack;
	struct synack_link *link;
	struct synack_driver drv; /* stack + link, LOOP_RX_BATCH frames a step into frame */
	struct synack_loop_hooks hooks;
	int ep, sigfd;
	uint64_t now;
	uint64_t alarm_at;
	bool stop;
	int last_signal;
	uint64_t tx_errors;
	struct host_fd fds[LOOP_MAX_FDS];
	/* Descriptors woken by the stack, dispatched after it returns. */
	uint8_t *pending;      /* one flag per descriptor */
	int *queue;
	uint32_t nqueue, cap;
	uint8_t frame[LOOP_FRAME_MAX];
};

uint64_t synack_monotonic_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void on_output(void *ctx, const uint8_t *frame, const struct synack_frame_meta *meta)
{
	struct synack_loop *l = ctx;
	if (synack_link_send(l->link, frame, meta, l->now) < 0)
		l->tx_errors++;
}

static void on_wake(void *ctx, int fd, unsigned events)
{
	(void)events;
	synack_loop_kick(ctx, fd);
}

void synack_loop_kick(struct synack_loop *l, int fd)
{
	if (fd < 0 || (uint32_t)fd >= l->cap || l->pending[fd])
		return;
	l->pending[fd] = 1;
	l->queue[l->nqueue++] = fd;
}

static int setup_fds(struct synack_loop *l)
{
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	if (l->ep < 0)
		return -errno;
	struct epoll_event ev = {.events = EPOLLIN};
	if (l->link->fd >= 0) {
		ev.data.fd = l->link->fd;
		if (epoll_ctl(l->ep, EPOLL_CTL_ADD, l->link->fd, &ev) < 0)
			return -errno;
	}
	if (l->hooks.flags & SYNACK_LOOP_NO_SIGNALS)
		return 0;
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -errno;
	l->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (l->sigfd < 0)
		return -errno;
	ev.data.fd = l->sigfd;
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, l->sigfd, &ev) < 0)
		return -errno;
	return 0;
}

int synack_loop_new(struct synack_loop **out, struct synack_link *link,
		    const struct synack_config *cfg, const struct synack_loop_hooks *hooks)
{
	*out = NULL;
	struct synack_loop *l = calloc(1, sizeof *l);
	if (!l)
		return -ENOMEM;
	l->link = link;
	l->ep = l->sigfd = -1;
	l->alarm_at = SYNACK_TIME_NEVER;
	if (hooks)
		l->hooks = *hooks;
	for (int i = 0; i < LOOP_MAX_FDS; i++)
		l->fds[i].fd = -1;
	struct synack_config c = *cfg;
	c.output = on_output;
	c.output_ctx = l;
	c.caps = link->caps; /* the stack sends what the link can take */
	c.wake = on_wake;
	c.wake_ctx = l;
	static const uint8_t zero[16];
	int err = 0;
	if (c.seed == 0 && !memcmp(c.secret, zero, sizeof zero)) {
		err = sys_fill_random(&c.seed, sizeof c.seed);
		if (!err)
			err = sys_fill_random(c.secret, sizeof c.secret);
	}
	l->cap = c.max_sockets ? c.max_sockets + 64 : 4096;
	l->pending = calloc(l->cap, 1);
	l->queue = calloc(l->cap, sizeof *l->queue);
	if (!err && (!l->pending || !l->queue))
		err = -ENOMEM;
	if (!err)
		err = setup_fds(l);
	l->now = synack_monotonic_us();
	if (!err)
		err = synack_stack_new(&l->stack, &c);
	if (!err) {
		synack_stack_poll(l->stack, l->now); /* API calls before run() act at this time */
		l->drv = (struct synack_driver){.stack = l->stack, .link = link, .buf = l->frame,
						.cap = sizeof l->frame, .max_frames = LOOP_RX_BATCH};
	}
	if (err) {
		l->link = NULL; /* the caller keeps the link on failure */
		synack_loop_destroy(l);
		return err;
	}
	*out = l;
	return 0;
}

void synack_loop_destroy(struct synack_loop *l)
{
	if (!l)
		return;
	if (l->stack)
		synack_stack_destroy(l->stack);
	synack_link_destroy(l->link);
	if (l->ep >= 0)
		close(l->ep);
	/* SIGINT and SIGTERM stay blocked: a second signal may already be on its way (timeout(1)
	 * sends one to the process and one to its group), and unblocking would let it kill a
	 * process that is finishing cleanly. */
	if (l->sigfd >= 0)
		close(l->sigfd);
	free(l->pending);
	free(l->queue);
	free(l);
}

struct synack_stack *synack_loop_stack(struct synack_loop *l) { return l->stack; }
void synack_loop_stop(struct synack_loop *l) { l->stop = true; }
int synack_loop_signal(const struct synack_loop *l) { return l->last_signal; }
uint64_t synack_loop_tx_errors(const struct synack_loop *l) { return l->tx_errors; }
void synack_loop_set_alarm(struct synack_loop *l, uint64_t at_us) { l->alarm_at = at_us; }

int synack_loop_add_fd(struct synack_loop *l, int fd, uint32_t events, synack_loop_fd_fn fn,
		       void *ctx)
{
	for (int i = 0; i < LOOP_MAX_FDS; i++) {
		if (l->fds[i].fd >= 0)
			continue;
		struct epoll_event ev = {.events = events, .data.fd = fd};
		if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
			return -errno;
		l->fds[i] = (struct host_fd){fd, fn, ctx};
		return 0;
	}
	return -ENOSPC;
}

int synack_loop_del_fd(struct synack_loop *l, int fd)
{
	for (int i = 0; i < LOOP_MAX_FDS; i++) {
		if (l->fds[i].fd != fd)
			continue;
		l->fds[i].fd = -1;
		if (epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL) < 0)
			return -errno;
		return 0;
	}
	return -ENOENT;
}

/* Runs on_ready for every descriptor the stack woke, including those woken meanwhile. */
static void dispatch(struct synack_loop *l)
{
	for (int round = 0; round < LOOP_WAKE_ROUNDS && l->nqueue; round++) {
		uint32_t n = l->nqueue;
		int batch[256];
		while (n) {
			uint32_t k = n < 256 ? n : 256;
			memcpy(batch, l->queue, k * sizeof *batch);
			memmove(l->queue, l->queue + k, (l->nqueue - k) * sizeof *l->queue);
			l->nqueue -= k;
			n -= k;
			for (uint32_t i = 0; i < k; i++) {
				l->pending[batch[i]] = 0;
				int ev = synack_events(l->stack, batch[i]);
				if (ev >= 0 && l->hooks.on_ready)
					l->hooks.on_ready(l->hooks.ctx, batch[i], (unsigned)ev);
			}
		}
	}
}

static void read_signals(struct synack_loop *l)
{
	struct signalfd_siginfo si;
	while (read(l->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
		l->last_signal = (int)si.ssi_signo;
		if (l->hooks.on_signal)
			l->hooks.on_signal(l->hooks.ctx, l->last_signal);
		else
			l->stop = true;
	}
}

static void run_host_fd(struct synack_loop *l, int fd, uint32_t events)
{
	for (int i = 0; i < LOOP_MAX_FDS; i++)
		if (l->fds[i].fd == fd && l->fds[i].fn) {
			l->fds[i].fn(l->fds[i].ctx, fd, events);
			return;
		}
}

/* The epoll timeout: the earlier of the driver's next deadline (the stack's timers, the
 * link's next arrival) and the alarm, rounded up to ms. */
static int wait_ms(struct synack_loop *l)
{
	if (l->nqueue)
		return 0;
	uint64_t at = synack_driver_next(&l->drv);
	if (l->alarm_at < at)
		at = l->alarm_at;
	if (at == SYNACK_TIME_NEVER)
		return -1;
	uint64_t now = synack_monotonic_us();
	if (at <= now)
		return 0;
	uint64_t ms = (at - now + 999) / 1000;
	return ms > 60000 ? 60000 : (int)ms;
}

int synack_loop_run(struct synack_loop *l)
{
	struct epoll_event evs[32];
	while (!l->stop) {
		int ms = wait_ms(l);
		if (l->hooks.on_wait)
			l->hooks.on_wait(l->hooks.ctx, true);
		int n = epoll_wait(l->ep, evs, 32, ms);
		int werr = errno;
		if (l->hooks.on_wait)
			l->hooks.on_wait(l->hooks.ctx, false);
		if (n < 0 && werr != EINTR)
			return -werr;
		l->now = synack_monotonic_us();
		/* The driver step: the link drained into the stack (a TUN whose event we just
		 * took, and links without a descriptor), then its due timers; host descriptors
		 * run after, with the stack's clock at now. */
		int err = synack_driver_step(&l->drv, l->now);
		if (err < 0)
			return err;
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (l->sigfd >= 0 && fd == l->sigfd)
				read_signals(l);
			else if (fd != l->link->fd)
				run_host_fd(l, fd, evs[i].events);
		}
		if (l->alarm_at <= l->now) {
			l->alarm_at = SYNACK_TIME_NEVER;
			if (l->hooks.on_alarm)
				l->hooks.on_alarm(l->hooks.ctx, l->now);
		}
		dispatch(l);
	}
	return 0;
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

bool synack_stack_settled(const struct synack_stack *s)
{
	struct settle_ctx c = {true};
	synack_stack_foreach(s, settle_visit, &c);
	return c.settled;
}
