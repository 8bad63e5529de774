/* synack drill — system calls, run against synack's socket API (include/synack/socket.h).
 *
 * Script descriptors are names: `socket(...) = 3` maps the script's 3 to whatever synack
 * returned, as packetdrill does. Sockets start blocking, as on Linux: synack's sockets never
 * block, so a call that would block on a blocking socket becomes a *pending* call, retried
 * each time the virtual clock or the stack moves, and must return within the time the script
 * gives it (`start...end`, or its start time when no end is written). Return values are
 * checked as written, errors in packetdrill's `= -1 ERRNO (text)` notation.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drill/runner.h"

int drill_bad_arg(struct drill_call *c, int i, const char *what)
{
	drill_fail(c->r, c->ev, "%s(): argument %d: %s", c->sc->name, i + 1, what);
	return -1;
}

static int eval_int(struct drill_call *c, const struct drill_expr *e, int i, int64_t *v)
{
	int64_t a, b;
	switch (e->kind) {
	case DRILL_EX_INT:
		*v = e->ival;
		return 0;
	case DRILL_EX_SYMBOL: {
		const char *def = drill_define_get(&c->r->cfg, e->text);
		char *end;
		if (def && *def) {
			*v = strtoll(def, &end, 0);
			if (!*end || drill_symbol_value(def, v))
				return 0;
		}
		if (drill_symbol_value(e->text, v))
			return 0;
		drill_skip(c->r, c->ev, "%s(): symbol %s is not known to synack drill", c->sc->name,
			   e->text);
		return -1;
	}
	case DRILL_EX_OR:
		if (eval_int(c, e->items[0], i, &a) < 0 || eval_int(c, e->items[1], i, &b) < 0)
			return -1;
		*v = a | b;
		return 0;
	case DRILL_EX_ARRAY:
		if (e->n == 1)
			return eval_int(c, e->items[0], i, v);
		return drill_bad_arg(c, i, "expected one value in [ ]");
	case DRILL_EX_CALL:
		if ((!strcmp(e->text, "htons") || !strcmp(e->text, "ntohs")) && e->n == 1)
			return eval_int(c, e->items[0], i, v);
		if (!strcmp(e->text, "inet_addr") && e->n == 1 &&
		    e->items[0]->kind == DRILL_EX_STRING) {
			uint32_t ip;
			if (drill_parse_ipv4(e->items[0]->text, &ip) < 0)
				return drill_bad_arg(c, i, "bad address in inet_addr()");
			*v = ip;
			return 0;
		}
		drill_skip(c->r, c->ev, "%s(): function %s() in an argument", c->sc->name, e->text);
		return -1;
	default:
		return drill_bad_arg(c, i, "expected a number");
	}
}

int drill_eval(struct drill_run *r, const struct drill_event *ev, const struct drill_expr *e,
	       int64_t *v)
{
	struct drill_call c = {.r = r, .ev = ev, .sc = &ev->sc};
	return eval_int(&c, e, 0, v);
}

int drill_arg_int(struct drill_call *c, int i, int64_t *v)
{
	if (i >= c->sc->nargs)
		return drill_bad_arg(c, i, "missing");
	return eval_int(c, c->sc->args[i], i, v);
}

bool drill_arg_any(const struct drill_call *c, int i)
{
	return i >= c->sc->nargs || c->sc->args[i]->kind == DRILL_EX_ELLIPSIS;
}

const struct drill_expr *drill_field(const struct drill_expr *e, const char *name)
{
	if (!e || e->kind != DRILL_EX_STRUCT)
		return NULL;
	for (size_t k = 0; k < e->n; k++)
		if (e->names[k] && !strcmp(e->names[k], name))
			return e->items[k];
	return NULL;
}

int drill_fd_arg(struct drill_call *c, int i, int *script_fd)
{
	int64_t fd;
	if (drill_arg_int(c, i, &fd) < 0)
		return -2;
	*script_fd = (int)fd;
	if (fd < 0 || fd >= DRILL_MAX_FDS || !c->r->fds[fd].used ||
	    c->r->fds[fd].kind != DRILL_FD_SOCKET)
		return 1 << 20; /* not an open socket: synack answers -EBADF */
	c->r->sut_fd = (int)fd;
	return c->r->fds[fd].live;
}

static bool fd_blocking(struct drill_run *r, int script_fd)
{
	return script_fd >= 0 && script_fd < DRILL_MAX_FDS && r->fds[script_fd].used &&
	       !r->fds[script_fd].nonblock;
}

/* The sockaddr argument: `...` means the script's default address. */
static int sockaddr_arg(struct drill_call *c, int i, uint32_t ip, uint16_t port,
			struct synack_endpoint *ep)
{
	ep->addr = synack_addr_v4(ip);
	ep->port = port;
	if (drill_arg_any(c, i))
		return 0;
	const struct drill_expr *e = c->sc->args[i];
	const struct drill_expr *p = drill_field(e, "sin_port"), *a = drill_field(e, "sin_addr");
	int64_t v;
	if (!p && !a)
		return drill_bad_arg(c, i, "expected ... or {sa_family=AF_INET, sin_port=..., sin_addr=...}");
	if (p) {
		if (eval_int(c, p, i, &v) < 0)
			return -1;
		ep->port = (uint16_t)v;
	}
	if (a) {
		if (eval_int(c, a, i, &v) < 0)
			return -1;
		ep->addr = synack_addr_v4((uint32_t)v);
	}
	return 0;
}

/* ---- the calls ---- */

static int sc_socket(struct drill_call *c)
{
	int64_t type = 1, proto = 0;
	if ((!drill_arg_any(c, 1) && drill_arg_int(c, 1, &type) < 0) ||
	    (!drill_arg_any(c, 2) && drill_arg_int(c, 2, &proto) < 0))
		return -1;
	if ((type & 0xf) != 1 || (proto != 0 && proto != 6)) {
		drill_skip(c->r, c->ev, "socket(): only TCP sockets (SOCK_STREAM, IPPROTO_TCP)");
		return -1;
	}
	c->nonblock = (type & 0x800) != 0; /* SOCK_NONBLOCK */
	int rc = synack_socket(c->r->stack);
	c->ret = rc;
	c->newfd_live = rc;
	return 0;
}

static int sc_bind(struct drill_call *c)
{
	int sfd, fd = drill_fd_arg(c, 0, &sfd);
	struct synack_endpoint ep;
	if (fd == -2 || sockaddr_arg(c, 1, c->r->cfg.local_ip, c->r->cfg.bind_port, &ep) < 0)
		return -1;
	c->ret = synack_bind(c->r->stack, fd, &ep);
	return 0;
}

static int sc_listen(struct drill_call *c)
{
	int sfd, fd = drill_fd_arg(c, 0, &sfd);
	int64_t backlog;
	if (fd == -2 || drill_arg_int(c, 1, &backlog) < 0)
		return -1;
	c->ret = synack_listen(c->r->stack, fd, (int)backlog);
	return 0;
}

static int sc_accept(struct drill_call *c)
{
	int sfd, fd = drill_fd_arg(c, 0, &sfd);
	struct synack_endpoint peer;
	if (fd == -2)
		return -1;
	int rc = synack_accept(c->r->stack, fd, &peer);
	c->would_block = rc == -EAGAIN && c->blocking;
	c->ret = rc;
	c->newfd_live = rc;
	return 0;
}

static int sc_connect(struct drill_call *c)
{
	int sfd, fd = drill_fd_arg(c, 0, &sfd);
	struct synack_endpoint ep;
	if (fd == -2 || sockaddr_arg(c, 1, c->r->cfg.remote_ip, c->r->cfg.connect_port, &ep) < 0)
		return -1;
	if (c->retry) {
		int ev = synack_events(c->r->stack, fd);
		if (ev >= 0 && (ev & SYNACK_EV_ERROR)) {
			int err = 0;
			size_t len = sizeof err;
			synack_getsockopt(c->r->stack, fd, SYNACK_SOL_SOCKET, SYNACK_SO_ERROR, &err,
					  &len);
			c->ret = err > 0 ? -err : err;
		} else if (ev >= 0 && (ev & (SYNACK_EV_WRITABLE | SYNACK_EV_HUP))) {
			c->ret = 0;
		} else {
			c->would_block = true;
		}
		return 0;
	}
	int64_t rc = drill_open(c, fd, &ep, NULL, 0);
	c->would_block = rc == -EINPROGRESS && c->blocking;
	c->ret = rc;
	return 0;
}

static int check_flags(struct drill_call *c, int flags, bool send);

/* connect(), or sendto(MSG_FASTOPEN) with len bytes (data non-NULL). A new attempt forgets the
 * port and ISN learned for this remote port (the SYN it sends teaches them again); a refused
 * call (EALREADY, EISCONN...) sent nothing: they are restored. */
int64_t drill_open(struct drill_call *c, int fd, const struct synack_endpoint *ep,
		   const void *data, size_t len)
{
	struct drill_conn *cn = drill_conn_for_port(c->r, ep->port, true);
	struct drill_conn saved;
	int saved_def = c->r->def_conn;
	if (cn) {
		saved = *cn;
		cn->lport_known = false;
		cn->isn_known = false;
		c->r->def_conn = (int)(cn - c->r->conns);
	}
	int64_t rc = data ? synack_sendto(c->r->stack, fd, data, len, SYNACK_MSG_FASTOPEN, ep)
			  : synack_connect(c->r->stack, fd, ep);
	if (cn && rc < 0 && rc != -EINPROGRESS && !cn->lport_known) {
		*cn = saved;
		c->r->def_conn = saved_def;
	}
	return rc;
}

/* sendto(fd, ..., len, MSG_FASTOPEN, addr, addrlen): Linux's Fast Open connect. It returns at
 * once (the bytes on the SYN, or EINPROGRESS when the SYN asks for a cookie), blocking or
 * not. */
int drill_sendto_fastopen(struct drill_call *c, int64_t len, int flags)
{
	int sfd, fd = drill_fd_arg(c, 0, &sfd);
	struct synack_endpoint ep;
	if (fd == -2 || check_flags(c, flags & ~SYNACK_MSG_FASTOPEN, true) < 0 ||
	    sockaddr_arg(c, 4, c->r->cfg.remote_ip, c->r->cfg.connect_port, &ep) < 0)
		return -1;
	if (len < 0 || len > (1 << 24))
		return drill_bad_arg(c, 2, "bad length");
	uint8_t *buf = calloc(1, (size_t)len + 1);
	if (!buf)
		abort();
	c->ret = drill_open(c, fd, &ep, buf, (size_t)len);
	free(buf);
	return 0;
}

/* Total length of an iovec array argument: [{..., 100}, {iov_base=..., iov_len=200}]. */
int drill_iov_total(struct drill_call *c, const struct drill_expr *e, int i, int64_t *total)
{
	*total = 0;
	if (!e || e->kind != DRILL_EX_ARRAY)
		return drill_bad_arg(c, i, "expected an iovec array [{..., LEN}, ...]");
	for (size_t k = 0; k < e->n; k++) {
		const struct drill_expr *v = e->items[k], *len = drill_field(v, "iov_len");
		int64_t n;
		if (!len && v->kind == DRILL_EX_STRUCT && v->n == 2)
			len = v->items[1];
		if (!len || eval_int(c, len, i, &n) < 0)
			return len ? -1 : drill_bad_arg(c, i, "iovec without a length");
		*total += n;
	}
	return 0;
}

/* Flags of recv(2) and send(2): those synack can honour, and a SKIP naming any other. */
static int check_flags(struct drill_call *c, int flags, bool send)
{
	static const struct {
		int bit;
		const char *name;
		bool recv_ok, send_ok;
	} known[] = {{0x1, "MSG_OOB", true, true},        {0x2, "MSG_PEEK", true, false},
		     {0x20, "MSG_TRUNC", false, false},     {0x40, "MSG_DONTWAIT", true, true},
		     {0x80, "MSG_EOR", false, true},       {0x100, "MSG_WAITALL", false, false},
		     {0x2000, "MSG_ERRQUEUE", false, false}, {0x4000, "MSG_NOSIGNAL", true, true},
		     {0x8000, "MSG_MORE", false, false},    {0x4000000, "MSG_ZEROCOPY", false, false},
		     {0x20000000, "MSG_FASTOPEN", false, false}};
	int left = flags;
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
		if (!(flags & known[i].bit))
			continue;
		left &= ~known[i].bit;
		if (send ? known[i].send_ok : known[i].recv_ok)
			continue;
		drill_skip(c->r, c->ev, "%s(): flag %s is not supported by synack", c->sc->name,
			   known[i].name);
		return -1;
	}
	if (left) {
		drill_skip(c->r, c->ev, "%s(): flags 0x%x", c->sc->name, (unsigned)left);
		return -1;
	}
	return 0;
}

int drill_recv_common(struct drill_call *c, int64_t len, int flags)
{
	int sfd, fd = drill_fd_arg(c, 0, &sfd);
	if (fd == -2 || check_flags(c, flags, false) < 0)
		return -1;
	if (drill_pipe_io(c, sfd, len, false))
		return 0;
	if (len < 0 || len > (1 << 24))
		return drill_bad_arg(c, 2, "bad length");
	void *buf = malloc((size_t)len + 1);
	if (!buf)
		abort();
	ssize_t rc = synack_recv(c->r->stack, fd, buf, (size_t)len,
				 flags & (SYNACK_MSG_PEEK | SYNACK_MSG_OOB));
	free(buf);
	c->ret = rc;
	/* Linux never waits for an urgent byte: recv(MSG_OOB) answers EAGAIN at once */
	c->would_block = rc == -EAGAIN && c->blocking && !(flags & (0x40 | SYNACK_MSG_OOB));
	return 0;
}

static int sc_read(struct drill_call *c)
{
	int64_t len;
	return drill_arg_int(c, 2, &len) < 0 ? -1 : drill_recv_common(c, len, 0);
}

static int sc_recv(struct drill_call *c)
{
	int64_t len, flags = 0;
	if (drill_arg_int(c, 2, &len) < 0 || (!drill_arg_any(c, 3) && drill_arg_int(c, 3, &flags) < 0))
		return -1;
	return drill_recv_common(c, len, (int)flags);
}

static int sc_readv(struct drill_call *c)
{
	int64_t len;
	return drill_iov_total(c, c->sc->nargs > 1 ? c->sc->args[1] : NULL, 1, &len) < 0 ? -1 : drill_recv_common(c, len, 0);
}

/* A blocking send queues everything before it returns (or fails, or is interrupted by an
 * error after some bytes: then it returns what it queued). */
int drill_send_common(struct drill_call *c, int64_t len, int flags)
{
	int sfd, fd = drill_fd_arg(c, 0, &sfd);
	struct drill_pending *pd = &c->r->pend;
	size_t done = c->retry ? pd->done : 0;
	if (fd == -2 || check_flags(c, flags, true) < 0)
		return -1;
	if (drill_pipe_io(c, sfd, len, true))
		return 0;
	if (len < 0 || len > (1 << 24))
		return drill_bad_arg(c, 2, "bad length");
	uint8_t *buf = calloc(1, (size_t)len + 1);
	if (!buf)
		abort();
	ssize_t rc = synack_send(c->r->stack, fd, buf + done, (size_t)len - done,
				 flags & (SYNACK_MSG_EOR | SYNACK_MSG_OOB));
	free(buf);
	bool blocking = c->blocking && !(flags & 0x40);
	if (rc >= 0)
		done += (size_t)rc;
	if (blocking && done < (size_t)len && (rc >= 0 || rc == -EAGAIN)) {
		c->would_block = true;
		pd->done = done;
		return 0;
	}
	c->ret = rc < 0 && done == 0 ? rc : (int64_t)done;
	return 0;
}

static int sc_write(struct drill_call *c)
{
	int64_t len;
	return drill_arg_int(c, 2, &len) < 0 ? -1 : drill_send_common(c, len, 0);
}

static int sc_send(struct drill_call *c)
{
	int64_t len, flags = 0;
	if (drill_arg_int(c, 2, &len) < 0 || (!drill_arg_any(c, 3) && drill_arg_int(c, 3, &flags) < 0))
		return -1;
	return drill_send_common(c, len, (int)flags);
}

static int sc_writev(struct drill_call *c)
{
	int64_t len;
	return drill_iov_total(c, c->sc->nargs > 1 ? c->sc->args[1] : NULL, 1, &len) < 0 ? -1 : drill_send_common(c, len, 0);
}

static int sc_close(struct drill_call *c)
{
	int sfd, fd = drill_fd_arg(c, 0, &sfd);
	if (fd == -2)
		return -1;
	if (sfd >= 0 && sfd < DRILL_MAX_FDS && c->r->fds[sfd].used &&
	    c->r->fds[sfd].kind != DRILL_FD_SOCKET) {
		free(c->r->fds[sfd].ep);
		memset(&c->r->fds[sfd], 0, sizeof c->r->fds[sfd]);
		c->ret = 0;
		return 0;
	}
	c->ret = synack_close(c->r->stack, fd);
	if (c->ret == 0 && sfd >= 0 && sfd < DRILL_MAX_FDS)
		c->r->fds[sfd].used = false;
	return 0;
}

static int sc_shutdown(struct drill_call *c)
{
	int sfd, fd = drill_fd_arg(c, 0, &sfd);
	int64_t how;
	if (fd == -2 || drill_arg_int(c, 1, &how) < 0)
		return -1;
	c->ret = synack_shutdown(c->r->stack, fd, (int)how);
	return 0;
}

static int sc_fcntl(struct drill_call *c)
{
	int sfd, fd = drill_fd_arg(c, 0, &sfd);
	int64_t cmd, arg = 0;
	if (fd == -2 || drill_arg_int(c, 1, &cmd) < 0)
		return -1;
	if (fd == 1 << 20) {
		c->ret = -EBADF;
		return 0;
	}
	struct drill_fd *f = &c->r->fds[sfd];
	if (cmd == 3) { /* F_GETFL */
		c->ret = 2 | (f->nonblock ? 0x800 : 0);
	} else if (cmd == 4) { /* F_SETFL */
		if (drill_arg_int(c, 2, &arg) < 0)
			return -1;
		f->nonblock = (arg & 0x800) != 0;
		c->ret = 0;
	} else if (cmd == 1 || cmd == 2) { /* F_GETFD / F_SETFD */
		c->ret = 0;
	} else {
		c->ret = -EINVAL;
	}
	return 0;
}

/* An option synack does not have (it answers ENOPROTOOPT) where the script expects the call
 * to work: the script needs a feature synack lacks, so it is SKIPPED, naming the option. */
static int option_missing(struct drill_call *c)
{
	const struct drill_syscall *sc = c->sc;
	if (c->ret != -ENOPROTOOPT || (sc->ret == -1 && sc->err == ENOPROTOOPT))
		return 0;
	const struct drill_expr *o = sc->nargs > 2 ? sc->args[2] : NULL;
	if (o && o->kind == DRILL_EX_SYMBOL)
		drill_skip(c->r, c->ev, "%s(): option %s is not in synack", sc->name, o->text);
	else
		drill_skip(c->r, c->ev, "%s(): this option is not in synack", sc->name);
	return -1;
}

/* TCP_INQ (Linux: report the bytes left to read in a cmsg of recvmsg) is the runner's: synack
 * returns the counts it needs through TCP_INFO. Returns 1 when it handled the call. */
static int tcp_inq(struct drill_call *c, int sfd, bool set)
{
	int64_t level, name, v;
	if (drill_arg_int(c, 1, &level) < 0 || drill_arg_int(c, 2, &name) < 0)
		return -1;
	if (level != 6 || name != 36 || sfd < 0 || sfd >= DRILL_MAX_FDS || !c->r->fds[sfd].used)
		return 0;
	if (set) {
		if (drill_arg_int(c, 3, &v) < 0)
			return -1;
		c->r->fds[sfd].inq = v != 0;
	} else if (!drill_arg_any(c, 3)) {
		if (drill_arg_int(c, 3, &v) < 0)
			return -1;
		if (v != c->r->fds[sfd].inq) {
			drill_fail(c->r, c->ev, "getsockopt(): wrong value: expected [%lld] but synack "
				   "drill has [%d]", (long long)v, c->r->fds[sfd].inq);
			return -1;
		}
	}
	c->ret = 0;
	return 1;
}

static int sc_setsockopt(struct drill_call *c)
{
	int sfd, fd = drill_fd_arg(c, 0, &sfd);
	if (fd == -2)
		return -1;
	int rc = fd == 1 << 20 ? 0 : tcp_inq(c, sfd, true);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if (drill_sockopt_set(c->r, c->ev, fd, &c->ret) < 0)
		return -1;
	return option_missing(c);
}

static int sc_getsockopt(struct drill_call *c)
{
	int sfd, fd = drill_fd_arg(c, 0, &sfd);
	if (fd == -2)
		return -1;
	int rc = fd == 1 << 20 ? 0 : tcp_inq(c, sfd, false);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if (drill_sockopt_get(c->r, c->ev, fd, &c->ret) < 0)
		return -1;
	return option_missing(c);
}

static int sc_poll(struct drill_call *c)
{
	return drill_poll(c->r, c->ev, c->retry, &c->ret, &c->would_block);
}

struct handler {
	const char *name;
	int (*run)(struct drill_call *c);
	bool may_block;
};

static const struct handler handlers[] = {
	{"socket", sc_socket, false},     {"bind", sc_bind, false},
	{"listen", sc_listen, false},     {"accept", sc_accept, true},
	{"connect", sc_connect, true},    {"read", sc_read, true},
	{"recv", sc_recv, true},          {"readv", sc_readv, true},
	{"write", sc_write, true},        {"send", sc_send, true},
	{"writev", sc_writev, true},      {"close", sc_close, false},
	{"shutdown", sc_shutdown, false}, {"fcntl", sc_fcntl, false},
	{"setsockopt", sc_setsockopt, false}, {"getsockopt", sc_getsockopt, false},
	{"poll", sc_poll, true},          {"sendto", drill_sc_sendto, true},
	{"recvfrom", drill_sc_recvfrom, true}, {"sendmsg", drill_sc_sendmsg, true},
	{"recvmsg", drill_sc_recvmsg, true}, {"ioctl", drill_sc_ioctl, false},
	{"epoll_create", drill_sc_epoll_create, false},
	{"epoll_create1", drill_sc_epoll_create, false},
	{"epoll_ctl", drill_sc_epoll_ctl, false}, {"epoll_wait", drill_sc_epoll_wait, true},
	{"pipe", drill_sc_pipe, false},   {NULL, NULL, false}};

/* ---- results ---- */

static void fmt_ret(int64_t v, char *out, size_t cap)
{
	if (v >= 0)
		snprintf(out, cap, "= %lld", (long long)v);
	else
		snprintf(out, cap, "= -1 %s (%s)", drill_errno_name((int)-v), strerror((int)-v));
}

static int check_result(struct drill_call *c)
{
	const struct drill_syscall *sc = c->sc;
	struct drill_run *r = c->r;
	bool is_newfd = !strcmp(sc->name, "socket") || !strcmp(sc->name, "accept");
	if (!sc->ret_any) {
		int64_t want = sc->ret == -1 ? -(int64_t)sc->err : sc->ret;
		bool ok = is_newfd && sc->ret >= 0 ? c->ret >= 0 : c->ret == want;
		if (sc->ret == -1 && sc->err == 0)
			ok = c->ret < 0;
		if (!ok) {
			char w[96], g[96];
			fmt_ret(want, w, sizeof w);
			if (sc->ret == -1 && sc->err == 0)
				snprintf(w, sizeof w, "= -1");
			fmt_ret(c->ret, g, sizeof g);
			const char *kind = sc->ret == -1 && c->ret < 0 ? "wrong errno"
									  : "wrong return value";
			drill_fail(r, c->ev, "%s(): %s: expected %s but synack returned %s", sc->name,
				   kind, w, g);
			return -1;
		}
	}
	if (is_newfd && c->ret >= 0 && sc->ret >= 0 && sc->ret < DRILL_MAX_FDS) {
		struct drill_fd *f = &r->fds[sc->ret];
		free(f->ep);
		memset(f, 0, sizeof *f);
		f->used = true;
		f->kind = DRILL_FD_SOCKET;
		f->live = (int)c->ret;
		f->nonblock = c->nonblock;
		r->sut_fd = (int)sc->ret;
	}
	return 0;
}

static const struct handler *find_handler(const char *name)
{
	for (const struct handler *h = handlers; h->name; h++)
		if (!strcmp(h->name, name))
			return h;
	return NULL;
}

static int prepare(struct drill_run *r, const struct drill_event *ev, struct drill_call *c)
{
	memset(c, 0, sizeof *c);
	c->r = r;
	c->ev = ev;
	c->sc = &ev->sc;
	c->newfd_live = -1;
	int64_t fd = -1;
	if (strcmp(ev->sc.name, "socket") && strcmp(ev->sc.name, "poll") && ev->sc.nargs > 0 &&
	    ev->sc.args[0]->kind == DRILL_EX_INT)
		fd = ev->sc.args[0]->ival;
	c->blocking = fd >= 0 && fd_blocking(r, (int)fd);
	if (!strcmp(ev->sc.name, "poll") || !strcmp(ev->sc.name, "epoll_wait"))
		c->blocking = true;
	return 0;
}

bool drill_syscall_supported(const char *name)
{
	return find_handler(name) != NULL;
}

int drill_syscall_run(struct drill_run *r, const struct drill_event *ev)
{
	const struct handler *h = find_handler(ev->sc.name);
	struct drill_call c;
	if (!h) {
		drill_fail(r, ev, "unsupported system call %s()", ev->sc.name);
		return -1;
	}
	prepare(r, ev, &c);
	if (h->run(&c) < 0)
		return -1;
	if (c.would_block && h->may_block) {
		struct drill_pending *pd = &r->pend;
		int64_t tol = drill_tolerance(r, ev->has_end ? r->ev_end : r->now);
		size_t done = pd->done;
		int64_t timeout_at = pd->timeout_at;
		memset(pd, 0, sizeof *pd);
		pd->active = true;
		pd->ev = ev;
		pd->start = r->now;
		pd->lo = (ev->has_end ? r->ev_end : r->now) - tol;
		pd->hi = (ev->has_end ? r->ev_end : r->now) + tol;
		pd->done = done;
		pd->timeout_at = !strcmp(ev->sc.name, "poll") || !strcmp(ev->sc.name, "epoll_wait")
				  ? timeout_at
				  : -1;
		drill_logf(r, "  synack: %s() blocks", ev->sc.name);
		return 0;
	}
	char got[96];
	fmt_ret(c.ret, got, sizeof got);
	if (c.newfd_live >= 0)
		drill_logf(r, "  synack: %s() %s (its descriptor for the script's %lld)",
			   ev->sc.name, got, (long long)ev->sc.ret);
	else
		drill_logf(r, "  synack: %s() %s", ev->sc.name, got);
	if (ev->has_end) {
		int64_t tol = drill_tolerance(r, r->ev_end);
		if (r->now < r->ev_end - tol || r->now > r->ev_end + tol) {
			char a[32], b[32];
			drill_fmt_time(r->now, a, sizeof a);
			drill_fmt_time(r->ev_end, b, sizeof b);
			drill_fail(r, ev, "%s(): timing error: returned at %s sec, expected at %s sec "
				   "(it did not block)", ev->sc.name, a, b);
			return -1;
		}
	}
	return check_result(&c);
}

int drill_syscall_retry(struct drill_run *r)
{
	struct drill_pending *pd = &r->pend;
	if (!pd->active || r->failed)
		return 0;
	const struct handler *h = find_handler(pd->ev->sc.name);
	struct drill_call c;
	prepare(r, pd->ev, &c);
	c.retry = true;
	if (h->run(&c) < 0) {
		pd->active = false;
		return -1;
	}
	if (c.would_block)
		return 0;
	pd->active = false;
	char got[96], ts[32];
	fmt_ret(c.ret, got, sizeof got);
	drill_fmt_time(r->now, ts, sizeof ts);
	drill_logf(r, "  synack: %s() returns at %s: %s", pd->ev->sc.name, ts, got);
	if (r->now < pd->lo || r->now > pd->hi) {
		char a[32], lo[32], hi[32];
		drill_fmt_time(r->now, a, sizeof a);
		drill_fmt_time(pd->lo, lo, sizeof lo);
		drill_fmt_time(pd->hi, hi, sizeof hi);
		drill_fail(r, pd->ev, "%s(): timing error: blocking call returned at %s sec, "
			   "expected between %s and %s sec", pd->ev->sc.name, a, lo, hi);
		return -1;
	}
	return check_result(&c);
}

int64_t drill_syscall_deadline(const struct drill_run *r)
{
	if (!r->pend.active || r->pend.timeout_at < 0)
		return INT64_MAX;
	return r->pend.timeout_at;
}

int drill_live_fd(const struct drill_run *r, int64_t script_fd)
{
	if (script_fd < 0 || script_fd >= DRILL_MAX_FDS || !r->fds[script_fd].used)
		return 1 << 20;
	return r->fds[script_fd].live;
}
