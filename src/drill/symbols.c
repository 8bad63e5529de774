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

