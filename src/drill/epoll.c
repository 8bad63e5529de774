/* synack drill — epoll and pipe lines, in packetdrill's notation:
 *
 *   epoll_create(1) = 5
 *   epoll_ctl(5, EPOLL_CTL_ADD, 4, {events=EPOLLIN, fd=4}) = 0
 *   epoll_wait(5, {events=EPOLLIN, fd=4}, 1, 0) = 1        (or [{...}, {...}] for several)
 *   pipe([6, 7]) = 0
 *   write(7, ..., 10) = 10
 *   read(6, ..., 10) = 10
 *
 * epoll is level-triggered, over synack's readiness (synack_events): EPOLLIN, EPOLLOUT,
 * EPOLLERR, EPOLLHUP. EPOLLET, EPOLLONESHOT, EPOLLEXCLUSIVE and EPOLLRDHUP make the script
 * SKIPPED. A pipe is the runner's own byte counter (the data of a script is never looked at),
 * so a script can use one to order its events as it would on a kernel.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "drill/runner.h"

#define EPOLLIN_ 0x1u
#define EPOLLOUT_ 0x4u
#define EPOLLERR_ 0x8u
#define EPOLLHUP_ 0x10u
#define EPOLL_UNSUPPORTED_ (0x2000u | (1u << 28) | (1u << 30) | (1u << 31))

unsigned drill_fd_events(const struct drill_run *r, int64_t sfd)
{
	if (sfd < 0 || sfd >= DRILL_MAX_FDS || !r->fds[sfd].used)
		return 1u << 31; /* not open */
	const struct drill_fd *f = &r->fds[sfd];
	switch (f->kind) {
	case DRILL_FD_SOCKET: {
		int ev = synack_events(r->stack, f->live);
		return ev < 0 ? 1u << 31 : (unsigned)ev;
	}
	case DRILL_FD_PIPE_R: {
		bool writer = f->peer >= 0 && r->fds[f->peer].used;
		return (f->pipe_bytes ? SYNACK_EV_READABLE : 0) |
		       (!writer ? SYNACK_EV_READABLE | SYNACK_EV_HUP : 0);
	}
	case DRILL_FD_PIPE_W:
		return f->peer >= 0 && r->fds[f->peer].used ? SYNACK_EV_WRITABLE : SYNACK_EV_ERROR;
	case DRILL_FD_EPOLL:
		return 0;
	}
	return 0;
}

static int new_fd(struct drill_call *c, int64_t sfd, enum drill_fd_kind kind)
{
	if (sfd < 0 || sfd >= DRILL_MAX_FDS) {
		drill_bad_arg(c, 0, "descriptor numbers go from 0 to 63");
		return -1;
	}
	struct drill_fd *f = &c->r->fds[sfd];
	if (f->used) {
		drill_fail(c->r, c->ev, "%s(): descriptor %lld is already open in the script",
			   c->sc->name, (long long)sfd);
		return -1;
	}
	memset(f, 0, sizeof *f);
	f->used = true;
	f->kind = kind;
	f->peer = -1;
	return 0;
}

int drill_sc_epoll_create(struct drill_call *c)
{
	int64_t size = 1;
	if (!drill_arg_any(c, 0) && drill_arg_int(c, 0, &size) < 0)
		return -1;
	if (!strcmp(c->sc->name, "epoll_create") && size <= 0) {
		c->ret = -EINVAL;
		return 0;
	}
	if (c->sc->ret < 0 || c->sc->ret_any) {
		drill_bad_arg(c, 0, "write the descriptor it returns (= N)");
		return -1;
	}
	if (new_fd(c, c->sc->ret, DRILL_FD_EPOLL) < 0)
		return -1;
	struct drill_fd *f = &c->r->fds[c->sc->ret];
	f->ep = calloc(1, sizeof *f->ep);
	if (!f->ep)
		abort();
	c->ret = c->sc->ret;
	return 0;
}

static struct drill_epoll *epoll_of(struct drill_call *c, int64_t efd)
{
	if (efd < 0 || efd >= DRILL_MAX_FDS || !c->r->fds[efd].used ||
	    c->r->fds[efd].kind != DRILL_FD_EPOLL)
		return NULL;
	return c->r->fds[efd].ep;
}

/* {events=..., fd=N} or {events=..., u64=N}: the mask and the data. */
static int event_arg(struct drill_call *c, const struct drill_expr *e, int i, int64_t *events,
		     int64_t *data, bool *has_data)
{
	const struct drill_expr *ev = drill_field(e, "events");
	const struct drill_expr *d = drill_field(e, "fd");
	if (!d)
		d = drill_field(e, "u64");
	if (!d)
		d = drill_field(e, "u32");
	if (!ev)
		return drill_bad_arg(c, i, "expected {events=..., fd=N}");
	if (drill_eval(c->r, c->ev, ev, events) < 0)
		return -1;
	*has_data = d && d->kind != DRILL_EX_ELLIPSIS;
	*data = 0;
	return *has_data ? drill_eval(c->r, c->ev, d, data) : 0;
}

int drill_sc_epoll_ctl(struct drill_call *c)
{
	int64_t efd, op, fd, events = 0, data = 0;
	bool has_data = false;
	if (drill_arg_int(c, 0, &efd) < 0 || drill_arg_int(c, 1, &op) < 0 ||
	    drill_arg_int(c, 2, &fd) < 0)
		return -1;
	if (op != 2 && (c->sc->nargs < 4 ||
			event_arg(c, c->sc->args[3], 3, &events, &data, &has_data) < 0))
		return c->sc->nargs < 4 ? drill_bad_arg(c, 3, "missing") : -1;
	if (events & EPOLL_UNSUPPORTED_) {
		drill_skip(c->r, c->ev, "epoll_ctl(): EPOLLET, EPOLLONESHOT, EPOLLEXCLUSIVE and "
			   "EPOLLRDHUP are not supported");
		return -1;
	}
	struct drill_epoll *ep = epoll_of(c, efd);
	if (!ep || drill_fd_events(c->r, fd) == 1u << 31) {
		c->ret = -EBADF;
		return 0;
	}
	int k = 0;
	while (k < ep->n && ep->items[k].fd != fd)
		k++;
	bool found = k < ep->n;
	if ((op == 1 && found) || ((op == 2 || op == 3) && !found) || op < 1 || op > 3) {
		c->ret = op == 1 ? -EEXIST : op > 3 || op < 1 ? -EINVAL : -ENOENT;
		return 0;
	}
	if (op == 2) {
		ep->items[k] = ep->items[--ep->n];
	} else {
		if (op == 1 && ep->n == DRILL_MAX_EPOLL) {
			c->ret = -ENOSPC;
			return 0;
		}
		if (op == 1)
			ep->n++;
		ep->items[k].fd = (int)fd;
		ep->items[k].events = (uint32_t)events;
		ep->items[k].data = has_data ? data : fd;
	}
	c->ret = 0;
	return 0;
}

static unsigned epoll_mask(unsigned ev, uint32_t want)
{
	unsigned m = 0;
	if (ev & SYNACK_EV_READABLE)
		m |= EPOLLIN_;
	if (ev & SYNACK_EV_WRITABLE)
		m |= EPOLLOUT_;
	if (ev & SYNACK_EV_ERROR)
		m |= EPOLLERR_;
	if (ev & SYNACK_EV_HUP)
		m |= EPOLLHUP_;
	if (ev & SYNACK_EV_PRI)
		m |= 0x2u; /* EPOLLPRI */
	return m & (want | EPOLLERR_ | EPOLLHUP_);
}

/* Compares the ready list with the events the script expects (in interest-list order). */
static int check_ready(struct drill_call *c, const struct drill_epoll *ep, const unsigned *got,
		       int64_t max)
{
	const struct drill_expr *want = c->sc->nargs > 1 ? c->sc->args[1] : NULL;
	if (!want || want->kind == DRILL_EX_ELLIPSIS)
		return 0;
	size_t nwant = want->kind == DRILL_EX_ARRAY ? want->n : 1;
	size_t k = 0;
	for (int i = 0; i < ep->n && (int64_t)k < max; i++) {
		if (!got[i])
			continue;
		if (k >= nwant)
			break;
		const struct drill_expr *w = want->kind == DRILL_EX_ARRAY ? want->items[k] : want;
		int64_t events, data;
		bool has_data;
		if (event_arg(c, w, 1, &events, &data, &has_data) < 0)
			return -1;
		if ((unsigned)events != got[i] || (has_data && data != ep->items[i].data)) {
			drill_fail(c->r, c->ev, "epoll_wait(): event %zu: expected events=0x%x for "
				   "%lld but synack reported events=0x%x for fd %d", k + 1,
				   (unsigned)events, (long long)data, got[i], ep->items[i].fd);
			return -1;
		}
		k++;
	}
	return 0;
}

int drill_sc_epoll_wait(struct drill_call *c)
{
	int64_t efd, max, timeout;
	if (drill_arg_int(c, 0, &efd) < 0 || drill_arg_int(c, 2, &max) < 0 ||
	    drill_arg_int(c, 3, &timeout) < 0)
		return -1;
	struct drill_epoll *ep = epoll_of(c, efd);
	if (!ep || max <= 0) {
		c->ret = ep ? -EINVAL : -EBADF;
		return 0;
	}
	unsigned got[DRILL_MAX_EPOLL];
	int64_t ready = 0;
	for (int i = 0; i < ep->n; i++) {
		got[i] = epoll_mask(drill_fd_events(c->r, ep->items[i].fd), ep->items[i].events);
		ready += got[i] != 0;
	}
	struct drill_pending *pd = &c->r->pend;
	if (ready == 0 && timeout != 0) {
		if (!c->retry)
			pd->timeout_at = timeout > 0 ? c->r->now + timeout * 1000 : -1;
		if (!c->retry || pd->timeout_at < 0 || c->r->now < pd->timeout_at) {
			c->would_block = true;
			return 0;
		}
	}
	c->ret = ready < max ? ready : max;
	return check_ready(c, ep, got, max);
}

int drill_sc_pipe(struct drill_call *c)
{
	const struct drill_expr *a = c->sc->nargs > 0 ? c->sc->args[0] : NULL;
	int64_t rfd, wfd;
	if (!a || a->kind != DRILL_EX_ARRAY || a->n != 2)
		return drill_bad_arg(c, 0, "expected [READ_FD, WRITE_FD]");
	if (drill_eval(c->r, c->ev, a->items[0], &rfd) < 0 ||
	    drill_eval(c->r, c->ev, a->items[1], &wfd) < 0 ||
	    new_fd(c, rfd, DRILL_FD_PIPE_R) < 0 || new_fd(c, wfd, DRILL_FD_PIPE_W) < 0)
		return -1;
	c->r->fds[rfd].peer = (int)wfd;
	c->r->fds[wfd].peer = (int)rfd;
	c->ret = 0;
	return 0;
}

bool drill_pipe_io(struct drill_call *c, int sfd, int64_t len, bool write)
{
	if (sfd < 0 || sfd >= DRILL_MAX_FDS || !c->r->fds[sfd].used)
		return false;
	struct drill_fd *f = &c->r->fds[sfd];
	if (f->kind != DRILL_FD_PIPE_R && f->kind != DRILL_FD_PIPE_W)
		return false;
	bool peer_open = f->peer >= 0 && c->r->fds[f->peer].used;
	if (write != (f->kind == DRILL_FD_PIPE_W)) {
		c->ret = -EBADF;
	} else if (write) {
		c->ret = peer_open ? len : -EPIPE;
		if (peer_open)
			c->r->fds[f->peer].pipe_bytes += (size_t)len;
	} else if (f->pipe_bytes == 0 && peer_open) {
		c->ret = -EAGAIN;
		c->would_block = c->blocking;
	} else {
		size_t n = f->pipe_bytes < (size_t)len ? f->pipe_bytes : (size_t)len;
		f->pipe_bytes -= n;
		c->ret = (int64_t)n;
	}
	return true;
}
