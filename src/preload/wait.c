/* synack — the LD_PRELOAD layer: waiting on synack and kernel descriptors together.
 *
 * A synack socket's descriptor is its eventfd, which polls readable while the socket is ready
 * for the events someone waits for (the mt layer's interest counts). So:
 *   poll/ppoll/select/pselect: join the interest for what each entry asks, wait in the
 *     kernel's ppoll with the synack entries asking POLLIN, then report each synack entry
 *     from synack_mt_events(); a wake-up with nothing to report waits again.
 *   epoll: the eventfd is registered in the program's own epoll set, with data tagged as
 *     ours (a random 32-bit tag with its top bit set, which no pointer or small integer
 *     carries, and the descriptor); epoll_wait translates those events back to the program's
 *     data and the socket's real readiness. EPOLLET and EPOLLONESHOT are the kernel's own.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <stdio.h>

#include "preload/preload.h"

#define MT pl_mt()

/* ---- readiness translation ----------------------------------------------------------- */

static unsigned want_of_poll(short events)
{
	return ((events & (POLLIN | POLLRDNORM | POLLRDHUP)) ? SYNACK_EV_READABLE : 0) |
	       ((events & (POLLOUT | POLLWRNORM)) ? SYNACK_EV_WRITABLE : 0);
}

static short revents_of(int ev, short asked)
{
	if (ev < 0)
		return POLLNVAL;
	short r = 0;
	if (ev & SYNACK_EV_READABLE)
		r |= asked & (POLLIN | POLLRDNORM);
	if (ev & SYNACK_EV_WRITABLE)
		r |= asked & (POLLOUT | POLLWRNORM);
	if (ev & SYNACK_EV_ERROR)
		r |= POLLERR;
	if (ev & SYNACK_EV_HUP)
		r |= POLLHUP | (asked & POLLRDHUP);
	return r;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- poll ---------------------------------------------------------------------------- */

static bool any_synack(const struct pollfd *fds, nfds_t n)
{
	for (nfds_t i = 0; i < n; i++)
		if (pl_handle(fds[i].fd) >= 0)
			return true;
	return false;
}

static void interest(const struct pollfd *fds, nfds_t n, int delta)
{
	for (nfds_t i = 0; i < n; i++) {
		int h = pl_handle(fds[i].fd);
		unsigned w = want_of_poll(fds[i].events);
		if (h >= 0 && w)
			synack_mt_add_interest(MT, h, w, delta);
	}
}

/* Fills revents of synack entries; returns how many entries (of both kinds) are ready. */
static int collect(struct pollfd *fds, const struct pollfd *q, nfds_t n)
{
	int ready = 0;
	for (nfds_t i = 0; i < n; i++) {
		int h = pl_handle(fds[i].fd);
		if (h >= 0)
			fds[i].revents = revents_of(synack_mt_events(MT, h), fds[i].events);
		else
			fds[i].revents = q[i].revents;
		ready += fds[i].revents != 0;
	}
	return ready;
}

/* The common wait: tmo NULL waits forever; mask as ppoll's. */
static int wait_fds(struct pollfd *fds, nfds_t n, const struct timespec *tmo,
		    const sigset_t *mask)
{
	if (pl_forked || !any_synack(fds, n))
		return pl_real.ppoll(fds, n, tmo, mask);
	struct pollfd small[64], *q = n <= 64 ? small : malloc(n * sizeof *q);
	if (!q)
		return (int)pl_ret(-ENOMEM);
	for (nfds_t i = 0; i < n; i++) {
		q[i] = fds[i];
		if (pl_handle(fds[i].fd) >= 0)
			q[i].events = POLLIN;
	}
	uint64_t until = tmo ? now_ns() + (uint64_t)tmo->tv_sec * 1000000000u +
				       (uint64_t)tmo->tv_nsec : 0;
	interest(fds, n, +1);
	int ready;
	for (;;) {
		/* A synack entry already ready: look at the kernel's without sleeping. */
		int pre = 0;
		for (nfds_t i = 0; i < n; i++) {
			int h = pl_handle(fds[i].fd);
			if (h >= 0 && revents_of(synack_mt_events(MT, h), fds[i].events))
				pre++;
		}
		struct timespec left = {0, 0}, *lp = &left;
		if (!pre && tmo) {
			uint64_t now = now_ns();
			uint64_t d = until > now ? until - now : 0;
			left.tv_sec = (time_t)(d / 1000000000u);
			left.tv_nsec = (long)(d % 1000000000u);
		} else if (!pre) {
			lp = NULL;
		}
		int r = pl_real.ppoll(q, n, lp, mask);
		if (r < 0) {
			ready = -1;
			break;
		}
		ready = collect(fds, q, n);
		if (ready || pre || (tmo && now_ns() >= until))
			break;
	}
	int saved = errno;
	interest(fds, n, -1);
	if (q != small)
		free(q);
	errno = saved;
	return ready;
}

int poll(struct pollfd *fds, nfds_t n, int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	return wait_fds(fds, n, ms < 0 ? NULL : &ts, NULL);
}

int __poll_chk(struct pollfd *fds, nfds_t n, int ms, size_t fdslen);
int __poll_chk(struct pollfd *fds, nfds_t n, int ms, size_t fdslen)
{
	if (fdslen / sizeof *fds < n)
		abort();
	return poll(fds, n, ms);
}

int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *tmo, const sigset_t *mask)
{
	return wait_fds(fds, n, tmo, mask);
}

int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *tmo, const sigset_t *mask,
		size_t fdslen);
int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *tmo, const sigset_t *mask,
		size_t fdslen)
{
	if (fdslen / sizeof *fds < n)
		abort();
	return ppoll(fds, n, tmo, mask);
}

/* ---- select, as poll ----------------------------------------------------------------- */

static int select_common(int nfds, fd_set *r, fd_set *w, fd_set *x, const struct timespec *tmo,
			 const sigset_t *mask)
{
	struct pollfd fds[FD_SETSIZE];
	nfds_t n = 0;
	for (int fd = 0; fd < nfds && fd < FD_SETSIZE; fd++) {
		short ev = (short)((r && FD_ISSET(fd, r) ? POLLIN : 0) |
				   (w && FD_ISSET(fd, w) ? POLLOUT : 0) |
				   (x && FD_ISSET(fd, x) ? POLLPRI : 0));
		if (ev)
			fds[n++] = (struct pollfd){.fd = fd, .events = ev};
	}
	int rc = wait_fds(fds, n, tmo, mask);
	if (rc < 0)
		return rc;
	for (nfds_t i = 0; i < n; i++)
		if (fds[i].revents & POLLNVAL) {
			errno = EBADF;
			return -1;
		}
	int count = 0;
	for (nfds_t i = 0; i < n; i++) {
		int fd = fds[i].fd;
		short re = fds[i].revents;
		/* select reports an error or hang-up as readable and writable, as Linux does. */
		bool rd = re & (POLLIN | POLLHUP | POLLERR), wr = re & (POLLOUT | POLLERR);
		if (r && FD_ISSET(fd, r) && !rd)
			FD_CLR(fd, r);
		if (w && FD_ISSET(fd, w) && !wr)
			FD_CLR(fd, w);
		if (x && FD_ISSET(fd, x) && !(re & POLLPRI))
			FD_CLR(fd, x);
		count += (r && FD_ISSET(fd, r)) + (w && FD_ISSET(fd, w)) + (x && FD_ISSET(fd, x));
	}
	return count;
}

static bool select_has_synack(int nfds, fd_set *r, fd_set *w, fd_set *x)
{
	for (int fd = 0; fd < nfds && fd < FD_SETSIZE; fd++)
		if (((r && FD_ISSET(fd, r)) || (w && FD_ISSET(fd, w)) || (x && FD_ISSET(fd, x))) &&
		    pl_handle(fd) >= 0)
			return true;
	return false;
}

int select(int nfds, fd_set *r, fd_set *w, fd_set *x, struct timeval *tv)
{
	if (pl_forked || !select_has_synack(nfds, r, w, x))
		return pl_real.select(nfds, r, w, x, tv);
	if (tv && (tv->tv_sec < 0 || tv->tv_usec < 0))
		return (int)pl_ret(-EINVAL);
	struct timespec ts, *tp = NULL;
	uint64_t t0 = now_ns();
	if (tv) {
		ts.tv_sec = tv->tv_sec + tv->tv_usec / 1000000;
		ts.tv_nsec = (tv->tv_usec % 1000000) * 1000L;
		tp = &ts;
	}
	int rc = select_common(nfds, r, w, x, tp, NULL);
	if (tv) { /* Linux updates the timeout with the time not slept */
		uint64_t total = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
		uint64_t spent = now_ns() - t0, left = spent < total ? total - spent : 0;
		tv->tv_sec = (time_t)(left / 1000000000u);
		tv->tv_usec = (suseconds_t)(left % 1000000000u / 1000u);
	}
	return rc;
}

int pselect(int nfds, fd_set *r, fd_set *w, fd_set *x, const struct timespec *tmo,
	    const sigset_t *mask)
{
	if (pl_forked || !select_has_synack(nfds, r, w, x))
		return pl_real.pselect(nfds, r, w, x, tmo, mask);
	return select_common(nfds, r, w, x, tmo, mask);
}

/* ---- epoll --------------------------------------------------------------------------- */

struct reg {
	int ep, fd;
	uint32_t events;
	epoll_data_t data;
	struct reg *next;
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct reg **regs; /* by descriptor */
static int nregs;
static uint64_t tag;      /* high 32 bits of our data: top bit set, random below */

static uint64_t our_tag(void)
{
	if (!tag) {
		uint32_t t = 0;
		if (getrandom(&t, sizeof t, GRND_NONBLOCK) != (ssize_t)sizeof t)
			t = (uint32_t)now_ns();
		tag = (uint64_t)(t | 0x80000000u) << 32;
	}
	return tag;
}

static struct reg **find(int ep, int fd)
{
	if (fd < 0 || fd >= nregs)
		return NULL;
	for (struct reg **p = &regs[fd]; *p; p = &(*p)->next)
		if ((*p)->ep == ep)
			return p;
	return NULL;
}

static int grow_regs(int fd)
{
	if (fd < nregs)
		return 0;
	int n = nregs ? nregs : 1024;
	while (n <= fd)
		n *= 2;
	struct reg **t = realloc(regs, (size_t)n * sizeof *t);
	if (!t)
		return -ENOMEM;
	memset(t + nregs, 0, (size_t)(n - nregs) * sizeof *t);
	regs = t;
	nregs = n;
	return 0;
}

static unsigned want_of_epoll(uint32_t ev)
{
	return ((ev & (EPOLLIN | EPOLLRDHUP)) ? SYNACK_EV_READABLE : 0) |
	       ((ev & EPOLLOUT) ? SYNACK_EV_WRITABLE : 0);
}

static int ctl_synack(int ep, int op, int fd, int h, struct epoll_event *ev)
{
	struct synack_mt *mt = MT;
	pthread_mutex_lock(&reg_lock);
	struct reg **p = find(ep, fd);
	int r = 0;
	if (op == EPOLL_CTL_ADD && p)
		r = -EEXIST;
	else if (op != EPOLL_CTL_ADD && !p)
		r = -ENOENT;
	else if (op != EPOLL_CTL_DEL && !ev)
		r = -EFAULT;
	if (!r && op == EPOLL_CTL_ADD)
		r = grow_regs(fd);
	if (!r) {
		struct epoll_event kev = {0};
		if (ev) {
			kev.events = EPOLLIN | (ev->events & (EPOLLET | EPOLLONESHOT | EPOLLEXCLUSIVE |
							      EPOLLWAKEUP));
			kev.data.u64 = our_tag() | (uint32_t)fd;
		}
		if (pl_real.epoll_ctl(ep, op, fd, op == EPOLL_CTL_DEL ? NULL : &kev) < 0)
			r = -errno;
	}
	if (!r && op == EPOLL_CTL_ADD) {
		struct reg *g = calloc(1, sizeof *g);
		if (!g) {
			pl_real.epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
			r = -ENOMEM;
		} else {
			*g = (struct reg){ep, fd, ev->events, ev->data, regs[fd]};
			regs[fd] = g;
			synack_mt_add_interest(mt, h, want_of_epoll(ev->events), +1);
			p = &regs[fd];
		}
	} else if (!r && op == EPOLL_CTL_MOD) {
		unsigned old = want_of_epoll((*p)->events), now = want_of_epoll(ev->events);
		if (old)
			synack_mt_add_interest(mt, h, old, -1);
		if (now)
			synack_mt_add_interest(mt, h, now, +1);
		(*p)->events = ev->events;
		(*p)->data = ev->data;
	} else if (!r && op == EPOLL_CTL_DEL) {
		struct reg *g = *p;
		unsigned old = want_of_epoll(g->events);
		if (old)
			synack_mt_add_interest(mt, h, old, -1);
		*p = g->next;
		free(g);
	}
	pthread_mutex_unlock(&reg_lock);
	return r;
}

int epoll_ctl(int ep, int op, int fd, struct epoll_event *ev)
{
	int h = pl_handle(fd);
	if (h < 0 || pl_forked)
		return pl_real.epoll_ctl(ep, op, fd, ev);
	return (int)pl_ret(ctl_synack(ep, op, fd, h, ev));
}

void pl_forget_epoll(int fd)
{
	pthread_mutex_lock(&reg_lock);
	while (fd >= 0 && fd < nregs && regs[fd]) {
		struct reg *g = regs[fd];
		regs[fd] = g->next;
		free(g);
	}
	pthread_mutex_unlock(&reg_lock);
}

static uint32_t epoll_events_of(int ev, uint32_t asked)
{
	if (ev < 0)
		return EPOLLHUP | EPOLLERR;
	uint32_t r = 0;
	if (ev & SYNACK_EV_READABLE)
		r |= asked & EPOLLIN;
	if (ev & SYNACK_EV_WRITABLE)
		r |= asked & EPOLLOUT;
	if (ev & SYNACK_EV_ERROR)
		r |= EPOLLERR;
	if (ev & SYNACK_EV_HUP)
		r |= EPOLLHUP | (asked & EPOLLRDHUP);
	return r;
}

/* Rewrites our events into the program's; drops those with nothing to report. */
static int translate(int ep, struct epoll_event *evs, int n)
{
	int out = 0;
	for (int i = 0; i < n; i++) {
		uint64_t d = evs[i].data.u64;
		if ((d & 0xFFFFFFFF00000000ull) != tag || !tag) {
			evs[out++] = evs[i];
			continue;
		}
		int fd = (int)(uint32_t)d;
		pthread_mutex_lock(&reg_lock);
		struct reg **p = find(ep, fd);
		struct reg g = p ? **p : (struct reg){0};
		pthread_mutex_unlock(&reg_lock);
		int h = pl_handle(fd);
		if (!p || h < 0)
			continue; /* closed meanwhile */
		uint32_t re = epoll_events_of(synack_mt_events(MT, h), g.events);
		if (!re) {
			if (g.events & EPOLLONESHOT) { /* the kernel disarmed it: arm it again */
				struct epoll_event kev = {.events = EPOLLIN | EPOLLONESHOT |
								    (g.events & EPOLLET),
							  .data.u64 = d};
				pl_real.epoll_ctl(ep, EPOLL_CTL_MOD, fd, &kev);
			}
			continue;
		}
		evs[out].events = re;
		evs[out].data = g.data;
		out++;
	}
	return out;
}

int epoll_pwait(int ep, struct epoll_event *evs, int max, int ms, const sigset_t *mask)
{
	if (!tag || pl_forked)
		return pl_real.epoll_pwait(ep, evs, max, ms, mask);
	uint64_t until = ms > 0 ? now_ns() + (uint64_t)ms * 1000000u : 0;
	for (;;) {
		int left = ms;
		if (ms > 0) {
			uint64_t now = now_ns();
			left = until > now ? (int)((until - now + 999999) / 1000000) : 0;
		}
		int n = pl_real.epoll_pwait(ep, evs, max, left, mask);
		if (n <= 0)
			return n;
		n = translate(ep, evs, n);
		if (n > 0 || ms == 0 || (ms > 0 && now_ns() >= until))
			return n;
	}
}

int epoll_wait(int ep, struct epoll_event *evs, int max, int ms)
{
	return epoll_pwait(ep, evs, max, ms, NULL);
}
