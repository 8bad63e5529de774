/* synack — the LD_PRELOAD layer: the socket calls. Each one looks the descriptor up; the
 * kernel's go to libc untouched, synack's go to the thread-safe API (include/synack/mt.h),
 * whose negative errno becomes -1 and errno here, the POSIX boundary. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/time.h>
#include <unistd.h>

#include "preload/preload.h"

int pl_alias_of(int handle);
void pl_repoint(int from, int to);

#define MT pl_mt()

/* A call on a synack socket in a forked child. */
static long dead(void)
{
	pl_warn_once("fork", "a forked child cannot use the synack sockets of its parent (the "
			     "stack lives in the parent); run forking servers in one process, "
			     "see docs/preload.md");
	errno = ENOTSUP;
	return -1;
}

#define LOOKUP(fd, h)                    \
	int h = pl_handle(fd);           \
	if (h >= 0 && pl_forked)         \
		return dead();

/* 127.0.0.0/8 (also as ::ffff:127.x.y.z on an IPv6 socket) and ::1. */
static bool loopback(const struct synack_endpoint *ep)
{
	static const uint8_t v6_loopback[16] = {[15] = 1};
	if (synack_addr_is_v4(&ep->addr))
		return (synack_addr_get_v4(&ep->addr) >> 24) == 127;
	return memcmp(ep->addr.b, v6_loopback, 16) == 0;
}

static int mt_flags_of(int type)
{
	return ((type & SOCK_NONBLOCK) ? SYNACK_MT_NONBLOCK : 0) |
	       ((type & SOCK_CLOEXEC) ? SYNACK_MT_CLOEXEC : 0);
}

/* ---- creating and connecting ------------------------------------------------------------ */

int socket(int domain, int type, int protocol)
{
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	if ((domain != AF_INET && domain != AF_INET6) || base != SOCK_STREAM ||
	    (protocol != 0 && protocol != IPPROTO_TCP) || !pl_has_family(domain))
		return pl_real.socket(domain, type, protocol);
	if (pl_forked)
		return (int)dead();
	struct synack_mt *mt = MT;
	if (!mt) {
		if (!pl_failed())
			return pl_real.socket(domain, type, protocol);
		errno = EACCES;
		return -1;
	}
	int h = synack_mt_socket(mt, (unsigned)mt_flags_of(type));
	if (h >= 0) {
		pl_set_family(h, domain);
		pl_set(h, h);
	}
	return (int)pl_ret(h);
}

/* Options carried over when a socket moves to the kernel. */
static void carry_opt(struct synack_mt *mt, int h, int k, int level, int name)
{
	int v = 0;
	size_t len = sizeof v;
	if (synack_mt_getsockopt(mt, h, level, name, &v, &len) == 0 && v)
		pl_real.setsockopt(k, level, name, &v, sizeof v);
}

int pl_to_kernel(int fd, int h)
{
	struct synack_mt *mt = MT;
	if (fd != h || pl_refs(h) != 1) {
		pl_warn_once("loopdup", "a duplicated synack socket cannot move to loopback");
		return -ENOTSUP;
	}
	int nb = synack_mt_flags(mt, h) & SYNACK_MT_NONBLOCK;
	int family = pl_family(h);
	int k = pl_real.socket(family, SOCK_STREAM | (nb ? SOCK_NONBLOCK : 0), 0);
	if (k < 0)
		return -errno;
	if (family == AF_INET6)
		carry_opt(mt, h, k, IPPROTO_IPV6, IPV6_V6ONLY);
	carry_opt(mt, h, k, SOL_SOCKET, SO_REUSEADDR);
	carry_opt(mt, h, k, SOL_SOCKET, SO_KEEPALIVE);
	carry_opt(mt, h, k, IPPROTO_TCP, TCP_NODELAY);
	int cloexec = pl_real.fcntl(h, F_GETFD) & FD_CLOEXEC;
	int d = pl_real.dup(h);
	if (d < 0 || synack_mt_rename(mt, h, d) < 0) {
		int err = d < 0 ? -errno : -EINVAL;
		if (d >= 0)
			pl_real.close(d);
		pl_real.close(k);
		return err;
	}
	pl_set(h, -1);
	synack_mt_close(mt, d);
	/* dup3 replaces the eventfd at number h with the kernel socket atomically. */
	int r = pl_real.dup3(k, h, cloexec ? O_CLOEXEC : 0);
	pl_real.close(k);
	return r < 0 ? -errno : 0;
}

int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	LOOKUP(fd, h);
	if (h < 0)
		return pl_real.bind(fd, addr, len);
	struct synack_endpoint ep;
	int r = pl_endpoint(pl_family(h), addr, len, &ep);
	if (r == 0 && loopback(&ep)) {
		r = pl_to_kernel(fd, h);
		return r < 0 ? (int)pl_ret(r) : pl_real.bind(fd, addr, len);
	}
	return (int)pl_ret(r < 0 ? r : synack_mt_bind(MT, h, &ep));
}

int listen(int fd, int backlog)
{
	LOOKUP(fd, h);
	if (h < 0)
		return pl_real.listen(fd, backlog);
	struct synack_endpoint me;
	if (pl_family(h) == AF_INET && synack_mt_getsockname(MT, h, &me) == 0 && me.port == 0) {
		/* Never bound: Linux binds an AF_INET socket to 0.0.0.0 and a port, which hears
		 * IPv4 only; synack's unbound socket would hear both families. */
		struct synack_endpoint any = {synack_addr_v4(0), 0};
		int r = synack_mt_bind(MT, h, &any);
		if (r < 0 && r != -EINVAL)
			return (int)pl_ret(r);
	}
	return (int)pl_ret(synack_mt_listen(MT, h, backlog));
}

int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	LOOKUP(fd, h);
	if (h < 0)
		return pl_real.accept4(fd, addr, len, flags);
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return (int)pl_ret(-EINVAL);
	struct synack_endpoint peer;
	int n = synack_mt_accept(MT, h, &peer, (unsigned)mt_flags_of(flags));
	if (n < 0)
		return (int)pl_ret(n);
	pl_set_family(n, pl_family(h));
	pl_set(n, n);
	pl_sockaddr(pl_family(h), &peer, addr, len);
	return n;
}

int accept(int fd, struct sockaddr *addr, socklen_t *len) { return accept4(fd, addr, len, 0); }

int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	LOOKUP(fd, h);
	if (h < 0)
		return pl_real.connect(fd, addr, len);
	struct synack_endpoint ep;
	int r = pl_endpoint(pl_family(h), addr, len, &ep);
	if (r == 0 && loopback(&ep)) {
		r = pl_to_kernel(fd, h);
		return r < 0 ? (int)pl_ret(r) : pl_real.connect(fd, addr, len);
	}
	/* An IPv4-mapped destination and no IPv4 address of synack's: no route, as Linux says
	 * when no interface has an IPv4 address (the core would send from none). */
	if (r == 0 && synack_addr_is_v4(&ep.addr) && !pl_has_family(AF_INET))
		r = -ENETUNREACH;
	return (int)pl_ret(r < 0 ? r : synack_mt_connect(MT, h, &ep));
}

/* ---- reading and writing ---------------------------------------------------------------- */

#define PL_RECV_FLAGS (MSG_PEEK | MSG_DONTWAIT | MSG_WAITALL | MSG_NOSIGNAL | MSG_CMSG_CLOEXEC)
#define PL_SEND_FLAGS (MSG_DONTWAIT | MSG_NOSIGNAL | MSG_MORE | MSG_EOR)

static ssize_t do_recv(int h, void *buf, size_t len, int flags)
{
	if (flags & ~PL_RECV_FLAGS)
		return pl_ret(-EOPNOTSUPP);
	return pl_ret(synack_mt_recv(MT, h, buf, len, flags & (MSG_PEEK | MSG_DONTWAIT | MSG_WAITALL)));
}

/* EPIPE raises SIGPIPE, as the kernel does, unless MSG_NOSIGNAL. */
static ssize_t do_send(int h, const void *buf, size_t len, int flags)
{
	if (flags & ~PL_SEND_FLAGS)
		return pl_ret(-EOPNOTSUPP);
	ssize_t r = synack_mt_send(MT, h, buf, len, flags & MSG_DONTWAIT);
	if (r == -EPIPE && !(flags & MSG_NOSIGNAL))
		raise(SIGPIPE);
	return pl_ret(r);
}

ssize_t read(int fd, void *buf, size_t len)
{
	LOOKUP(fd, h);
	return h < 0 ? pl_real.read(fd, buf, len) : do_recv(h, buf, len, 0);
}

ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen);
ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	if (len > buflen)
		abort();
	return read(fd, buf, len);
}

ssize_t write(int fd, const void *buf, size_t len)
{
	LOOKUP(fd, h);
	return h < 0 ? pl_real.write(fd, buf, len) : do_send(h, buf, len, 0);
}

ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	LOOKUP(fd, h);
	return h < 0 ? pl_real.recv(fd, buf, len, flags) : do_recv(h, buf, len, flags);
}

ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags);
ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
	if (len > buflen)
		abort();
	return recv(fd, buf, len, flags);
}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	LOOKUP(fd, h);
	return h < 0 ? pl_real.send(fd, buf, len, flags) : do_send(h, buf, len, flags);
}

/* A connected TCP socket ignores the destination, as Linux does. */
ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
	       socklen_t tolen)
{
	LOOKUP(fd, h);
	if (h < 0)
		return pl_real.sendto(fd, buf, len, flags, to, tolen);
	return do_send(h, buf, len, flags);
}

static void peer_addr(int h, struct sockaddr *from, socklen_t *fromlen)
{
	struct synack_endpoint peer = {synack_addr_any(SYNACK_AF_INET), 0};
	if (from && fromlen && synack_mt_getpeername(MT, h, &peer) == 0)
		pl_sockaddr(pl_family(h), &peer, from, fromlen);
	else if (fromlen)
		*fromlen = 0;
}

ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from,
		 socklen_t *fromlen)
{
	LOOKUP(fd, h);
	if (h < 0)
		return pl_real.recvfrom(fd, buf, len, flags, from, fromlen);
	ssize_t r = do_recv(h, buf, len, flags);
	if (r >= 0)
		peer_addr(h, from, fromlen);
	return r;
}

ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
		       struct sockaddr *from, socklen_t *fromlen);
ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
		       struct sockaddr *from, socklen_t *fromlen)
{
	if (len > buflen)
		abort();
	return recvfrom(fd, buf, len, flags, from, fromlen);
}

/* Scatter: the first buffer may wait; the rest take what is already there. */
static ssize_t recv_iov(int h, const struct iovec *iov, int n, int flags)
{
	if (n < 0 || n > IOV_MAX)
		return pl_ret(-EINVAL);
	ssize_t total = 0;
	for (int i = 0; i < n; i++) {
		if (iov[i].iov_len == 0)
			continue;
		int f = total ? (flags | MSG_DONTWAIT) & ~MSG_WAITALL : flags;
		ssize_t r = synack_mt_recv(MT, h, iov[i].iov_base, iov[i].iov_len,
					   f & (MSG_PEEK | MSG_DONTWAIT | MSG_WAITALL));
		if (r < 0)
			return total ? total : pl_ret(r);
		total += r;
		if ((size_t)r < iov[i].iov_len)
			break;
	}
	return total;
}

/* Gather: each buffer in turn; a non-blocking socket stops at the first short write. */
static ssize_t send_iov(int h, const struct iovec *iov, int n, int flags)
{
	if (n < 0 || n > IOV_MAX)
		return pl_ret(-EINVAL);
	ssize_t total = 0;
	for (int i = 0; i < n; i++) {
		if (iov[i].iov_len == 0)
			continue;
		ssize_t r = synack_mt_send(MT, h, iov[i].iov_base, iov[i].iov_len,
					   flags & MSG_DONTWAIT);
		if (r < 0) {
			if (total)
				return total;
			if (r == -EPIPE && !(flags & MSG_NOSIGNAL))
				raise(SIGPIPE);
			return pl_ret(r);
		}
		total += r;
		if ((size_t)r < iov[i].iov_len)
			break;
	}
	return total;
}

ssize_t readv(int fd, const struct iovec *iov, int n)
{
	LOOKUP(fd, h);
	return h < 0 ? pl_real.readv(fd, iov, n) : recv_iov(h, iov, n, 0);
}

ssize_t writev(int fd, const struct iovec *iov, int n)
{
	LOOKUP(fd, h);
	return h < 0 ? pl_real.writev(fd, iov, n) : send_iov(h, iov, n, 0);
}

ssize_t recvmsg(int fd, struct msghdr *m, int flags)
{
	LOOKUP(fd, h);
	if (h < 0)
		return pl_real.recvmsg(fd, m, flags);
	if (flags & ~PL_RECV_FLAGS)
		return pl_ret(-EOPNOTSUPP);
	ssize_t r = recv_iov(h, m->msg_iov, (int)m->msg_iovlen, flags);
	if (r >= 0) {
		peer_addr(h, m->msg_name, &m->msg_namelen);
		m->msg_controllen = 0;
		m->msg_flags = 0;
	}
	return r;
}

ssize_t sendmsg(int fd, const struct msghdr *m, int flags)
{
	LOOKUP(fd, h);
	if (h < 0)
		return pl_real.sendmsg(fd, m, flags);
	if (flags & ~PL_SEND_FLAGS)
		return pl_ret(-EOPNOTSUPP);
	if (m->msg_controllen)
		return pl_ret(-EOPNOTSUPP); /* no ancillary data on synack sockets */
	return send_iov(h, m->msg_iov, (int)m->msg_iovlen, flags);
}

/* sendfile: the file is read with pread at the offset, and the offset advances only by what
 * the socket took, so a non-blocking partial send loses nothing. */
ssize_t sendfile(int out, int in, off_t *offset, size_t count)
{
	LOOKUP(out, h);
	if (h < 0)
		return pl_real.sendfile(out, in, offset, count);
	off_t pos = offset ? *offset : lseek(in, 0, SEEK_CUR);
	if (pos < 0)
		return -1;
	char buf[65536];
	size_t done = 0;
	while (done < count) {
		size_t want = count - done < sizeof buf ? count - done : sizeof buf;
		ssize_t n = pread(in, buf, want, pos + (off_t)done);
		if (n < 0) {
			if (done)
				break;
			return -1;
		}
		if (n == 0)
			break;
		ssize_t w = synack_mt_send(MT, h, buf, (size_t)n, 0);
		if (w < 0) {
			if (done)
				break;
			if (w == -EPIPE)
				raise(SIGPIPE);
			return pl_ret(w);
		}
		done += (size_t)w;
		if (w < n)
			break;
	}
	if (offset)
		*offset = pos + (off_t)done;
	else
		lseek(in, pos + (off_t)done, SEEK_SET);
	return (ssize_t)done;
}

ssize_t sendfile64(int out, int in, off_t *offset, size_t count);
ssize_t sendfile64(int out, int in, off_t *offset, size_t count)
{
	return sendfile(out, in, offset, count);
}

/* ---- closing --------------------------------------------------------------------------- */

int close(int fd)
{
	int h = pl_handle(fd);
	if (h < 0)
		return pl_real.close(fd);
	pl_set(fd, -1);
	if (pl_forked || fd != h)
		return pl_real.close(fd); /* a dead copy, or one alias of several */
	struct synack_mt *mt = MT;
	if (pl_refs(h) > 0) {
		/* Aliases remain: the socket is named by one of them from now on. */
		int a = pl_alias_of(h);
		if (a >= 0 && synack_mt_rename(mt, h, a) == 0) {
			pl_repoint(h, a);
			return pl_real.close(fd);
		}
	}
	pl_forget_epoll(h);
	return (int)pl_ret(synack_mt_close(mt, h));
}

int shutdown(int fd, int how)
{
	LOOKUP(fd, h);
	return h < 0 ? pl_real.shutdown(fd, how) : (int)pl_ret(synack_mt_shutdown(MT, h, how));
}

/* ---- socket state ---------------------------------------------------------------------- */

/* Options synack does not implement that programs set as hints: accepted and ignored. */
static bool ignored_opt(int level, int name)
{
	if (level == SOL_SOCKET)
		return name == SO_REUSEPORT || name == SO_PRIORITY || name == SO_OOBINLINE ||
		       name == SO_BROADCAST || name == SO_DONTROUTE || name == SO_SNDLOWAT ||
		       name == SO_RCVLOWAT;
	if (level == IPPROTO_TCP)
		return name == TCP_CORK || name == TCP_DEFER_ACCEPT || name == TCP_QUICKACK ||
		       name == TCP_FASTOPEN || name == TCP_USER_TIMEOUT || name == TCP_NOTSENT_LOWAT;
	if (level == IPPROTO_IPV6) /* checked to be an AF_INET6 socket's by the caller */
		return name == IPV6_TCLASS || name == IPV6_UNICAST_HOPS ||
		       name == IPV6_MTU_DISCOVER;
	return level == IPPROTO_IP && (name == IP_TOS || name == IP_TTL);
}

/* IPPROTO_IPV6 on an AF_INET socket: Linux's ip_setsockopt knows no such level. */
static bool wrong_level(int h, int level)
{
	return level == IPPROTO_IPV6 && pl_family(h) != AF_INET6;
}

static int set_timeo(int h, int name, const void *val, socklen_t len)
{
	if (!val || len < sizeof(struct timeval))
		return -EINVAL;
	struct timeval tv;
	memcpy(&tv, val, sizeof tv);
	if (tv.tv_sec < 0 || tv.tv_usec < 0 || tv.tv_usec >= 1000000)
		return tv.tv_sec < 0 ? 0 : -EDOM; /* Linux: a negative time means none */
	uint64_t us = (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
	return synack_mt_setsockopt(MT, h, SOL_SOCKET,
				    name == SO_RCVTIMEO ? SYNACK_SO_RCVTIMEO : SYNACK_SO_SNDTIMEO,
				    &us, sizeof us);
}

int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	LOOKUP(fd, h);
	if (h < 0)
		return pl_real.setsockopt(fd, level, name, val, len);
	if (wrong_level(h, level))
		return (int)pl_ret(-ENOPROTOOPT);
	if (level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO))
		return (int)pl_ret(set_timeo(h, name, val, len));
	if (ignored_opt(level, name))
		return !val || len < sizeof(int) ? (int)pl_ret(-EINVAL) : 0;
	return (int)pl_ret(synack_mt_setsockopt(MT, h, level, name, val, len));
}

static int put_int(void *val, socklen_t *len, int v)
{
	if (!val || !len || *len < sizeof v)
		return -EINVAL;
	memcpy(val, &v, sizeof v);
	*len = sizeof v;
	return 0;
}

/* TCP_INFO in the kernel's layout, from synack's own. */
static int tcp_info_opt(int h, void *val, socklen_t *len)
{
	struct synack_tcp_info si;
	int r = synack_mt_tcp_info(MT, h, &si);
	if (r < 0)
		return r;
	static const uint8_t linux_state[SYNACK_STATE_COUNT] = {
		[SYNACK_CLOSED] = 7, [SYNACK_LISTEN] = 10, [SYNACK_SYN_SENT] = 2,
		[SYNACK_SYN_RECEIVED] = 3, [SYNACK_ESTABLISHED] = 1, [SYNACK_FIN_WAIT_1] = 4,
		[SYNACK_FIN_WAIT_2] = 5, [SYNACK_CLOSE_WAIT] = 8, [SYNACK_CLOSING] = 11,
		[SYNACK_LAST_ACK] = 9, [SYNACK_TIME_WAIT] = 6};
	struct tcp_info ti;
	memset(&ti, 0, sizeof ti);
	ti.tcpi_state = linux_state[si.state];
	ti.tcpi_retransmits = (uint8_t)si.retransmits;
	ti.tcpi_snd_wscale = si.snd_wscale & 15;
	ti.tcpi_rcv_wscale = si.rcv_wscale & 15;
	ti.tcpi_options = (si.ts_ok ? TCPI_OPT_TIMESTAMPS : 0) | (si.sack_ok ? TCPI_OPT_SACK : 0) |
			  (si.snd_wscale || si.rcv_wscale ? TCPI_OPT_WSCALE : 0);
	ti.tcpi_rto = si.rto_us;
	ti.tcpi_snd_mss = si.snd_mss;
	ti.tcpi_rcv_mss = si.rcv_mss;
	ti.tcpi_unacked = si.unacked;
	ti.tcpi_rtt = si.rtt_us;
	ti.tcpi_rttvar = si.rttvar_us;
	ti.tcpi_snd_cwnd = si.snd_mss ? si.snd_cwnd / si.snd_mss : 0;
	ti.tcpi_total_retrans = si.total_retrans;
	ti.tcpi_rcv_space = si.rcv_wnd;
	socklen_t n = *len < sizeof ti ? *len : (socklen_t)sizeof ti;
	memcpy(val, &ti, n);
	*len = n;
	return 0;
}

static int get_special(int h, int level, int name, void *val, socklen_t *len, bool *done)
{
	*done = true;
	if (wrong_level(h, level))
		return -ENOPROTOOPT;
	if (level == IPPROTO_IPV6 && name == IPV6_UNICAST_HOPS)
		return put_int(val, len, 64); /* the route's hop limit: Linux's default, 64 */
	if (level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO)) {
		uint64_t us = 0;
		size_t n = sizeof us;
		int r = synack_mt_getsockopt(MT, h, SOL_SOCKET,
					     name == SO_RCVTIMEO ? SYNACK_SO_RCVTIMEO
								 : SYNACK_SO_SNDTIMEO, &us, &n);
		struct timeval tv = {(time_t)(us / 1000000u), (suseconds_t)(us % 1000000u)};
		if (r < 0 || !val || *len < sizeof tv)
			return r < 0 ? r : -EINVAL;
		memcpy(val, &tv, sizeof tv);
		*len = sizeof tv;
		return 0;
	}
	if (level == SOL_SOCKET && name == SO_TYPE)
		return put_int(val, len, SOCK_STREAM);
	if (level == SOL_SOCKET && name == SO_DOMAIN)
		return put_int(val, len, pl_family(h));
	if (level == SOL_SOCKET && name == SO_PROTOCOL)
		return put_int(val, len, IPPROTO_TCP);
	if (level == SOL_SOCKET && name == SO_ACCEPTCONN) {
		struct synack_tcp_info si;
		int r = synack_mt_tcp_info(MT, h, &si);
		return r < 0 ? r : put_int(val, len, si.state == SYNACK_LISTEN);
	}
	if (level == IPPROTO_TCP && name == TCP_INFO)
		return val && len ? tcp_info_opt(h, val, len) : -EINVAL;
	if (ignored_opt(level, name))
		return put_int(val, len, 0);
	*done = false;
	return 0;
}

int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	LOOKUP(fd, h);
	if (h < 0)
		return pl_real.getsockopt(fd, level, name, val, len);
	bool done;
	int r = get_special(h, level, name, val, len, &done);
	if (done)
		return (int)pl_ret(r);
	if (!len)
		return (int)pl_ret(-EFAULT);
	size_t n = *len;
	r = synack_mt_getsockopt(MT, h, level, name, val, &n);
	if (r == 0) {
		*len = (socklen_t)n;
		if (level == SOL_SOCKET && name == SO_ERROR && n == sizeof(int)) {
			int e; /* synack reports a negative errno; the kernel a positive one */
			memcpy(&e, val, sizeof e);
			e = e < 0 ? -e : e;
			memcpy(val, &e, sizeof e);
		}
	}
	return (int)pl_ret(r);
}

int getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	LOOKUP(fd, h);
	if (h < 0)
		return pl_real.getsockname(fd, addr, len);
	struct synack_endpoint ep;
	int r = synack_mt_getsockname(MT, h, &ep);
	struct synack_tcp_info si;
	if (r == 0 && synack_mt_tcp_info(MT, h, &si) == 0 && si.any_local) {
		/* Bound to a wildcard (or never bound): Linux names the wildcard, 0.0.0.0, or [::]
		 * on an AF_INET6 socket unless it was bound to ::ffff:0.0.0.0 (IPv4 only). */
		int fam = pl_family(h) == AF_INET6 && si.any_family != SYNACK_AF_INET
				  ? SYNACK_AF_INET6
				  : SYNACK_AF_INET;
		ep.addr = synack_addr_any(fam);
	}
	if (r == 0)
		pl_sockaddr(pl_family(h), &ep, addr, len);
	return (int)pl_ret(r);
}

int getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	LOOKUP(fd, h);
	if (h < 0)
		return pl_real.getpeername(fd, addr, len);
	struct synack_endpoint ep;
	int r = synack_mt_getpeername(MT, h, &ep);
	if (r == 0)
		pl_sockaddr(pl_family(h), &ep, addr, len);
	return (int)pl_ret(r);
}

/* ---- descriptor control ---------------------------------------------------------------- */

static int dup_of(int h, int newfd, int cmd, int min)
{
	int d = newfd >= 0 ? newfd : pl_real.fcntl(h, cmd, min);
	if (d >= 0)
		pl_set(d, h);
	return d;
}

int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	int h = pl_handle(fd);
	if (h < 0 || pl_forked)
		return pl_real.fcntl(fd, cmd, arg);
	switch (cmd) {
	case F_GETFL: {
		int r = synack_mt_flags(MT, h);
		return r < 0 ? (int)pl_ret(r) : O_RDWR | ((r & SYNACK_MT_NONBLOCK) ? O_NONBLOCK : 0);
	}
	case F_SETFL:
		return (int)pl_ret(synack_mt_set_nonblock(MT, h, ((long)arg & O_NONBLOCK) != 0));
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		return dup_of(fd, -1, cmd, (int)(long)arg);
	default: /* F_GETFD/F_SETFD (close-on-exec) and the rest act on the eventfd itself */
		return pl_real.fcntl(fd, cmd, arg);
	}
}

int fcntl64(int fd, int cmd, ...);
int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl(fd, cmd, arg);
}

int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	va_start(ap, req);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	LOOKUP(fd, h);
	if (h < 0)
		return pl_real.ioctl(fd, req, arg);
	struct synack_tcp_info si;
	int r;
	switch (req) {
	case FIONBIO:
		return arg ? (int)pl_ret(synack_mt_set_nonblock(MT, h, *(int *)arg != 0))
			   : (int)pl_ret(-EFAULT);
	case FIONREAD:
	case TIOCOUTQ:
		r = synack_mt_tcp_info(MT, h, &si);
		if (r < 0 || !arg)
			return (int)pl_ret(r < 0 ? r : -EFAULT);
		*(int *)arg = (int)(req == FIONREAD ? si.recv_q : si.send_q);
		return 0;
	case FIOCLEX:
	case FIONCLEX:
		return pl_real.ioctl(fd, req, arg);
	default:
		return (int)pl_ret(-ENOTTY);
	}
}

int dup(int fd)
{
	int h = pl_handle(fd);
	if (h < 0 || pl_forked)
		return pl_real.dup(fd);
	int d = pl_real.dup(fd);
	if (d >= 0)
		pl_set(d, h);
	return d;
}

int dup3(int fd, int newfd, int flags)
{
	int h = pl_handle(fd);
	if (fd == newfd || (h < 0 && pl_handle(newfd) < 0))
		return pl_real.dup3(fd, newfd, flags);
	/* newfd names a synack socket: it is closed first, as dup3 would. */
	if (pl_handle(newfd) >= 0)
		close(newfd);
	int d = pl_real.dup3(fd, newfd, flags);
	if (d >= 0 && h >= 0 && !pl_forked)
		pl_set(d, h);
	return d;
}

int dup2(int fd, int newfd)
{
	if (fd == newfd)
		return pl_real.dup2(fd, newfd);
	return dup3(fd, newfd, 0);
}
