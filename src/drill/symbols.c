/* synack drill — the named constants of system-call arguments, with Linux's values so that
 * Linux scripts read the same: socket levels and options, fcntl and poll flags, TCP states
 * (for TCP_INFO) and errno names. */
#include <errno.h>
#include <string.h>

#include "drill/drill.h"

/* ---- symbols (Linux's values, so Linux scripts read the same) ---- */

struct sym {
	const char *name;
	int64_t v;
};

static const struct sym syms[] = {
	{"AF_INET", 2}, {"PF_INET", 2}, {"AF_INET6", 10}, {"PF_INET6", 10}, {"AF_UNSPEC", 0},
	{"SOCK_STREAM", 1}, {"SOCK_DGRAM", 2}, {"IPPROTO_IP", 0}, {"IPPROTO_TCP", 6},
	{"IPPROTO_UDP", 17}, {"SOL_SOCKET", 1}, {"SOL_TCP", 6}, {"SOL_IP", 0},
	{"SO_REUSEADDR", 2}, {"SO_ERROR", 4}, {"SO_SNDBUF", 7}, {"SO_RCVBUF", 8},
	{"SO_KEEPALIVE", 9}, {"SO_LINGER", 13}, {"SO_REUSEPORT", 15}, {"SO_RCVLOWAT", 18},
	{"SO_SNDLOWAT", 19}, {"SO_RCVTIMEO", 20}, {"SO_SNDTIMEO", 21}, {"TCP_NODELAY", 1},
	{"TCP_MAXSEG", 2}, {"TCP_CORK", 3}, {"TCP_KEEPIDLE", 4}, {"TCP_KEEPINTVL", 5},
	{"TCP_KEEPCNT", 6}, {"TCP_SYNCNT", 7}, {"TCP_LINGER2", 8}, {"TCP_DEFER_ACCEPT", 9},
	{"TCP_WINDOW_CLAMP", 10}, {"TCP_INFO", 11}, {"TCP_QUICKACK", 12},
	{"TCP_CONGESTION", 13}, {"TCP_USER_TIMEOUT", 18}, {"TCP_FASTOPEN", 23},
	{"O_RDONLY", 0}, {"O_WRONLY", 1}, {"O_RDWR", 2}, {"O_NONBLOCK", 0x800},
	{"F_GETFD", 1}, {"F_SETFD", 2}, {"F_GETFL", 3}, {"F_SETFL", 4}, {"SHUT_RD", 0},
	{"SHUT_WR", 1}, {"SHUT_RDWR", 2}, {"MSG_OOB", 1}, {"MSG_PEEK", 2},
	{"MSG_DONTWAIT", 0x40}, {"MSG_WAITALL", 0x100}, {"MSG_NOSIGNAL", 0x4000},
	{"POLLIN", 0x1}, {"POLLPRI", 0x2}, {"POLLOUT", 0x4}, {"POLLERR", 0x8},
	{"POLLHUP", 0x10}, {"POLLNVAL", 0x20}, {"POLLRDNORM", 0x40}, {"POLLRDBAND", 0x80},
	{"POLLWRNORM", 0x100}, {"POLLWRBAND", 0x200}, {"POLLRDHUP", 0x2000},
	{"INADDR_ANY", 0}, {"TCP_ESTABLISHED", 1}, {"TCP_SYN_SENT", 2}, {"TCP_SYN_RECV", 3},
	{"TCP_FIN_WAIT1", 4}, {"TCP_FIN_WAIT2", 5}, {"TCP_TIME_WAIT", 6}, {"TCP_CLOSE", 7},
	{"TCP_CLOSE_WAIT", 8}, {"TCP_LAST_ACK", 9}, {"TCP_LISTEN", 10}, {"TCP_CLOSING", 11},
	{"TCPI_OPT_TIMESTAMPS", 1}, {"TCPI_OPT_SACK", 2}, {"TCPI_OPT_WSCALE", 4},
	{"TCPI_OPT_ECN", 8}, {"TCPI_OPT_ECN_SEEN", 16}, {"TCPI_OPT_SYN_DATA", 32},
	{"SOL_IPV6", 41}, {"IPPROTO_IPV6", 41}, {"SOL_UDP", 17},
	{"SO_TYPE", 3}, {"SO_DONTROUTE", 5}, {"SO_BROADCAST", 6}, {"SO_OOBINLINE", 10},
	{"SO_NO_CHECK", 11}, {"SO_PRIORITY", 12}, {"SO_BINDTODEVICE", 25},
	{"SO_TIMESTAMP", 29}, {"SO_ACCEPTCONN", 30}, {"SO_SNDBUFFORCE", 32},
	{"SO_RCVBUFFORCE", 33}, {"SO_TIMESTAMPING", 37}, {"SO_PROTOCOL", 38},
	{"SO_DOMAIN", 39}, {"SO_MAX_PACING_RATE", 47}, {"SO_INCOMING_CPU", 49},
	{"SO_ZEROCOPY", 60}, {"IP_TOS", 1}, {"IP_TTL", 2}, {"IP_OPTIONS", 4},
	{"IP_RECVERR", 11}, {"IP_MTU_DISCOVER", 10}, {"IP_MTU", 14}, {"IP_PMTUDISC_DONT", 0},
	{"IP_PMTUDISC_WANT", 1}, {"IP_PMTUDISC_DO", 2}, {"IP_PMTUDISC_PROBE", 3},
	{"IPV6_TCLASS", 67}, {"IPV6_MTU_DISCOVER", 23}, {"IPV6_RECVERR", 25},
	{"TCP_MD5SIG", 14}, {"TCP_THIN_LINEAR_TIMEOUTS", 16}, {"TCP_THIN_DUPACK", 17},
	{"TCP_REPAIR", 19}, {"TCP_TIMESTAMP", 24}, {"TCP_NOTSENT_LOWAT", 25},
	{"TCP_CC_INFO", 26}, {"TCP_SAVE_SYN", 27}, {"TCP_SAVED_SYN", 28},
	{"TCP_FASTOPEN_CONNECT", 30}, {"TCP_ULP", 31}, {"TCP_FASTOPEN_KEY", 33},
	{"TCP_FASTOPEN_NO_COOKIE", 34}, {"TCP_ZEROCOPY_RECEIVE", 35}, {"TCP_INQ", 36},
	{"TCP_CM_INQ", 36}, {"TCP_TX_DELAY", 37},
	{"MSG_CTRUNC", 0x8}, {"MSG_TRUNC", 0x20}, {"MSG_EOR", 0x80}, {"MSG_ERRQUEUE", 0x2000},
	{"MSG_MORE", 0x8000}, {"MSG_ZEROCOPY", 0x4000000}, {"MSG_FASTOPEN", 0x20000000},
	{"SOCK_NONBLOCK", 0x800}, {"SOCK_CLOEXEC", 0x80000}, {"O_CLOEXEC", 0x80000},
	{"FD_CLOEXEC", 1}, {"SIOCINQ", 0x541B}, {"FIONREAD", 0x541B}, {"SIOCOUTQ", 0x5411},
	{"TIOCOUTQ", 0x5411}, {"SIOCOUTQNSD", 0x894B}, {"SIOCATMARK", 0x8905},
	{"FIONBIO", 0x5421}, {"EPOLLIN", 0x1}, {"EPOLLPRI", 0x2}, {"EPOLLOUT", 0x4},
	{"EPOLLERR", 0x8}, {"EPOLLHUP", 0x10}, {"EPOLLRDNORM", 0x40}, {"EPOLLRDBAND", 0x80},
	{"EPOLLWRNORM", 0x100}, {"EPOLLWRBAND", 0x200}, {"EPOLLRDHUP", 0x2000},
	{"EPOLLEXCLUSIVE", 1L << 28}, {"EPOLLWAKEUP", 1L << 29}, {"EPOLLONESHOT", 1L << 30},
	{"EPOLLET", 1L << 31}, {"EPOLL_CTL_ADD", 1}, {"EPOLL_CTL_DEL", 2},
	{"EPOLL_CTL_MOD", 3}, {"EPOLL_CLOEXEC", 0x80000},
	{"EPERM", EPERM}, {"ENOENT", ENOENT}, {"EINTR", EINTR}, {"EIO", EIO},
	{"EBADF", EBADF}, {"EAGAIN", EAGAIN}, {"EWOULDBLOCK", EWOULDBLOCK},
	{"ENOMEM", ENOMEM}, {"EFAULT", EFAULT}, {"EINVAL", EINVAL}, {"EMFILE", EMFILE},
	{"ENFILE", ENFILE}, {"EPIPE", EPIPE}, {"ENOTSOCK", ENOTSOCK},
	{"EDESTADDRREQ", EDESTADDRREQ}, {"EMSGSIZE", EMSGSIZE}, {"EPROTOTYPE", EPROTOTYPE},
	{"ENOPROTOOPT", ENOPROTOOPT}, {"EPROTONOSUPPORT", EPROTONOSUPPORT},
	{"EOPNOTSUPP", EOPNOTSUPP}, {"EAFNOSUPPORT", EAFNOSUPPORT}, {"EADDRINUSE", EADDRINUSE},
	{"EADDRNOTAVAIL", EADDRNOTAVAIL}, {"ENETDOWN", ENETDOWN}, {"ENETUNREACH", ENETUNREACH},
	{"ECONNABORTED", ECONNABORTED}, {"ECONNRESET", ECONNRESET}, {"ENOBUFS", ENOBUFS},
	{"EISCONN", EISCONN}, {"ENOTCONN", ENOTCONN}, {"ESHUTDOWN", ESHUTDOWN},
	{"ETIMEDOUT", ETIMEDOUT}, {"ECONNREFUSED", ECONNREFUSED}, {"EHOSTDOWN", EHOSTDOWN},
	{"EHOSTUNREACH", EHOSTUNREACH}, {"EALREADY", EALREADY}, {"EINPROGRESS", EINPROGRESS},
	{"EEXIST", EEXIST}, {"ENOSPC", ENOSPC}, {"ENOTTY", ENOTTY}, {"ENODATA", ENODATA},
	{"EOVERFLOW", EOVERFLOW}, {"ESPIPE", ESPIPE},
	{NULL, 0}};

bool drill_symbol_value(const char *name, int64_t *out)
{
	for (const struct sym *s = syms; s->name; s++)
		if (!strcmp(s->name, name)) {
			*out = s->v;
			return true;
		}
	return false;
}

const char *drill_errno_name(int err)
{
	for (const struct sym *s = syms; s->name; s++)
		if (s->name[0] == 'E' && s->v == err && strcmp(s->name, "EWOULDBLOCK"))
			return s->name;
	return "E?";
}

