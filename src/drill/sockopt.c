/* synack drill — setsockopt, getsockopt and poll, in packetdrill's notation:
 *
 *   setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
 *   setsockopt(4, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) = 0
 *   getsockopt(3, SOL_SOCKET, SO_ERROR, [ECONNREFUSED], [4]) = 0
 *   getsockopt(4, SOL_TCP, TCP_INFO, {tcpi_state=TCP_ESTABLISHED, tcpi_unacked=1}, ...) = 0
 *   setsockopt(3, IPPROTO_TCP, TCP_CONGESTION, "reno", 4) = 0
 *   getsockopt(3, IPPROTO_TCP, TCP_CONGESTION, "reno", [16]) = 0
 *   poll([{fd=4, events=POLLIN, revents=POLLIN}], 1, 0) = 1
 *
 * A value written in getsockopt or a revents written in poll is checked; `...` is not.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "drill/runner.h"

#define SO_LINGER_NAME 13
#define TCP_INFO_NAME 11

static const struct drill_expr *field(const struct drill_expr *e, const char *a, const char *b)
{
	if (!e || e->kind != DRILL_EX_STRUCT)
		return NULL;
	for (size_t k = 0; k < e->n; k++)
		if (e->names[k] && (!strcmp(e->names[k], a) || (b && !strcmp(e->names[k], b))))
			return e->items[k];
	return NULL;
}

static bool is_any(const struct drill_expr *e)
{
	return !e || e->kind == DRILL_EX_ELLIPSIS;
}

static const struct drill_expr *arg(const struct drill_event *ev, int i)
{
	return i < ev->sc.nargs ? ev->sc.args[i] : NULL;
}

static int need(struct drill_run *r, const struct drill_event *ev, int i, int64_t *v)
{
	if (!arg(ev, i)) {
		drill_fail(r, ev, "%s(): argument %d is missing", ev->sc.name, i + 1);
		return -1;
	}
	return drill_eval(r, ev, arg(ev, i), v);
}

int drill_sockopt_set(struct drill_run *r, const struct drill_event *ev, int fd, int64_t *ret)
{
	int64_t level, name, v = 0, len;
	union {
		int i;
		struct synack_linger l;
		char raw[64];
	} u;
	size_t natural = sizeof(int);
	memset(&u, 0, sizeof u);
	if (need(r, ev, 1, &level) < 0 || need(r, ev, 2, &name) < 0)
		return -1;
	const struct drill_expr *val = arg(ev, 3);
	const struct drill_expr *on = field(val, "onoff", "l_onoff");
	const struct drill_expr *lg = field(val, "linger", "l_linger");
	if (val && val->kind == DRILL_EX_STRING) {
		/* A string value (TCP_CONGESTION): its bytes, without a NUL unless len says so. */
		size_t n = strlen(val->text);
		if (n >= sizeof u.raw) {
			drill_fail(r, ev, "setsockopt(): string value longer than %zu bytes",
				   sizeof u.raw - 1);
			return -1;
		}
		memcpy(u.raw, val->text, n);
		natural = n;
	} else if (on || lg) {
		int64_t a = 0, b = 0;
		if ((on && drill_eval(r, ev, on, &a) < 0) || (lg && drill_eval(r, ev, lg, &b) < 0))
			return -1;
		u.l.l_onoff = (int)a;
		u.l.l_linger = (int)b;
		natural = sizeof u.l;
	} else {
		if (need(r, ev, 3, &v) < 0)
			return -1;
		u.i = (int)v;
	}
	len = (int64_t)natural;
	if (!is_any(arg(ev, 4)) && drill_eval(r, ev, arg(ev, 4), &len) < 0)
		return -1;
	if (len < 0 || len > (int64_t)sizeof u)
		len = sizeof u;
	*ret = synack_setsockopt(r->stack, fd, (int)level, (int)name, &u, (size_t)len);
	return 0;
}

const char *const drill_tcp_info_names[] = {
	"tcpi_state", "tcpi_retransmits", "tcpi_total_retrans", "tcpi_rto", "tcpi_rtt",
	"tcpi_rttvar", "tcpi_unacked", "tcpi_snd_mss", "tcpi_rcv_mss", "tcpi_snd_cwnd",
	"tcpi_snd_wscale", "tcpi_rcv_wscale", "tcpi_snd_wnd", "tcpi_rcv_wnd",
	"tcpi_bytes_in_flight", "tcpi_options", "tcpi_notsent_bytes", "tcpi_snd_ssthresh", NULL};

/* TCP_INFO fields, with Linux's names and units (tcpi_snd_cwnd in segments). */
static int tcp_info_field(const struct synack_tcp_info *ti, const char *name, int64_t *v)
{
	static const int linux_state[SYNACK_STATE_COUNT] = {
		[SYNACK_CLOSED] = 7,     [SYNACK_LISTEN] = 10,   [SYNACK_SYN_SENT] = 2,
		[SYNACK_SYN_RECEIVED] = 3, [SYNACK_ESTABLISHED] = 1, [SYNACK_FIN_WAIT_1] = 4,
		[SYNACK_FIN_WAIT_2] = 5, [SYNACK_CLOSE_WAIT] = 8, [SYNACK_CLOSING] = 11,
		[SYNACK_LAST_ACK] = 9,   [SYNACK_TIME_WAIT] = 6};
	if (!strcmp(name, "tcpi_state"))
		*v = (unsigned)ti->state < SYNACK_STATE_COUNT ? linux_state[ti->state] : -1;
	else if (!strcmp(name, "tcpi_retransmits"))
		*v = ti->retransmits;
	else if (!strcmp(name, "tcpi_total_retrans"))
		*v = ti->total_retrans;
	else if (!strcmp(name, "tcpi_rto"))
		*v = ti->rto_us;
	else if (!strcmp(name, "tcpi_rtt"))
		*v = ti->rtt_us;
	else if (!strcmp(name, "tcpi_rttvar"))
		*v = ti->rttvar_us;
	else if (!strcmp(name, "tcpi_unacked"))
		*v = ti->unacked;
	else if (!strcmp(name, "tcpi_snd_mss"))
		*v = ti->snd_mss;
	else if (!strcmp(name, "tcpi_rcv_mss"))
		*v = ti->rcv_mss;
	else if (!strcmp(name, "tcpi_snd_cwnd"))
		*v = ti->snd_mss ? ti->snd_cwnd / ti->snd_mss : 0;
	else if (!strcmp(name, "tcpi_snd_wscale"))
		*v = ti->snd_wscale;
	else if (!strcmp(name, "tcpi_rcv_wscale"))
		*v = ti->rcv_wscale;
	else if (!strcmp(name, "tcpi_snd_wnd"))
		*v = ti->snd_wnd;
	else if (!strcmp(name, "tcpi_rcv_wnd"))
		*v = ti->rcv_wnd;
	else if (!strcmp(name, "tcpi_bytes_in_flight"))
		*v = ti->bytes_in_flight;
	else if (!strcmp(name, "tcpi_snd_ssthresh")) /* Linux: segments, 0x7fffffff = infinite */
		*v = ti->snd_ssthresh == UINT32_MAX || !ti->snd_mss ? 0x7fffffff
								   : ti->snd_ssthresh / ti->snd_mss;
	else if (!strcmp(name, "tcpi_notsent_bytes"))
		*v = ti->send_q > ti->bytes_in_flight ? ti->send_q - ti->bytes_in_flight : 0;
	else if (!strcmp(name, "tcpi_options"))
		*v = (ti->ts_ok ? 1 : 0) | (ti->sack_ok ? 2 : 0) |
		     (ti->snd_wscale || ti->rcv_wscale ? 4 : 0);
	else
		return -1;
	return 0;
}

int drill_tcp_info_value(const struct synack_tcp_info *ti, const char *name, int64_t *v)
{
	return tcp_info_field(ti, name, v);
}

bool drill_tcp_info_field_known(const char *name)
{
	struct synack_tcp_info ti;
	int64_t v;
	memset(&ti, 0, sizeof ti);
	return tcp_info_field(&ti, name, &v) == 0;
}

static int check_tcp_info(struct drill_run *r, const struct drill_event *ev, int fd,
			  const struct drill_expr *want, int64_t *ret)
{
	struct synack_tcp_info ti;
	memset(&ti, 0, sizeof ti);
	*ret = synack_tcp_info(r->stack, fd, &ti);
	if (*ret < 0 || is_any(want))
		return 0;
	if (want->kind != DRILL_EX_STRUCT) {
		drill_fail(r, ev, "getsockopt(TCP_INFO): expected {tcpi_NAME=VALUE, ...}");
		return -1;
	}
	for (size_t k = 0; k < want->n; k++) {
		int64_t w, g;
		if (!want->names[k] || is_any(want->items[k]))
			continue;
		if (tcp_info_field(&ti, want->names[k], &g) < 0) {
			drill_fail(r, ev, "getsockopt(TCP_INFO): unsupported field %s", want->names[k]);
			return -1;
		}
		if (drill_eval(r, ev, want->items[k], &w) < 0)
			return -1;
		if (w != g) {
			drill_fail(r, ev, "getsockopt(TCP_INFO): wrong %s: expected %lld but synack "
				   "gave %lld", want->names[k], (long long)w, (long long)g);
			return -1;
		}
	}
	return 0;
}

/* getsockopt(fd, level, name, "text", [len]): the bytes returned are text, NUL-padded to
 * the length returned (TCP_CONGESTION, as Linux). len defaults to 16. */
static int check_string(struct drill_run *r, const struct drill_event *ev, int fd, int64_t level,
			int64_t name, const struct drill_expr *want, int64_t *ret)
{
	char buf[64];
	int64_t cap = 16;
	const struct drill_expr *lenarg = arg(ev, 4);
	if (lenarg && lenarg->kind == DRILL_EX_ARRAY && lenarg->n == 1 &&
	    drill_eval(r, ev, lenarg->items[0], &cap) < 0)
		return -1;
	if (cap < 0 || cap > (int64_t)sizeof buf)
		cap = sizeof buf;
	memset(buf, 0, sizeof buf);
	size_t len = (size_t)cap;
	*ret = synack_getsockopt(r->stack, fd, (int)level, (int)name, buf, &len);
	if (*ret < 0)
		return 0;
	char exp[64];
	memset(exp, 0, sizeof exp);
	size_t n = strlen(want->text);
	memcpy(exp, want->text, n < sizeof exp ? n : sizeof exp);
	if (memcmp(buf, exp, len) != 0 || (n > len)) {
		drill_fail(r, ev, "getsockopt(): wrong value: expected \"%s\" but synack gave "
			   "\"%.*s\"", want->text, (int)len, buf);
		return -1;
	}
	return 0;
}

int drill_sockopt_get(struct drill_run *r, const struct drill_event *ev, int fd, int64_t *ret)
{
	int64_t level, name;
	if (need(r, ev, 1, &level) < 0 || need(r, ev, 2, &name) < 0)
		return -1;
	const struct drill_expr *want = arg(ev, 3);
	if (level == 6 && name == TCP_INFO_NAME)
		return check_tcp_info(r, ev, fd, want, ret);
	if (want && want->kind == DRILL_EX_STRING)
		return check_string(r, ev, fd, level, name, want, ret);
	union {
		int i;
		struct synack_linger l;
		char raw[64];
	} u;
	memset(&u, 0, sizeof u);
	size_t len = name == SO_LINGER_NAME && level == 1 ? sizeof u.l : sizeof u.i;
	*ret = synack_getsockopt(r->stack, fd, (int)level, (int)name, &u, &len);
	if (*ret < 0 || is_any(want))
		return 0;
	const struct drill_expr *on = field(want, "onoff", "l_onoff");
	const struct drill_expr *lg = field(want, "linger", "l_linger");
	if (on || lg) {
		int64_t a = u.l.l_onoff, b = u.l.l_linger;
		if ((on && drill_eval(r, ev, on, &a) < 0) || (lg && drill_eval(r, ev, lg, &b) < 0))
			return -1;
		if (a != u.l.l_onoff || b != u.l.l_linger) {
			drill_fail(r, ev, "getsockopt(): wrong value: expected {onoff=%lld, linger=%lld} "
				   "but synack gave {onoff=%d, linger=%d}", (long long)a, (long long)b,
				   u.l.l_onoff, u.l.l_linger);
			return -1;
		}
		return 0;
	}
	int64_t w;
	if (drill_eval(r, ev, want, &w) < 0)
		return -1;
	if (w != u.i) {
		const char *ename = level == 1 && name == 4 && u.i > 0 ? drill_errno_name(u.i) : NULL;
		drill_fail(r, ev, "getsockopt(): wrong value: expected [%lld] but synack gave [%d]%s%s",
			   (long long)w, u.i, ename ? " " : "", ename ? ename : "");
		return -1;
	}
	return 0;
}

/* ---- poll ---- */

#define POLLIN_ 0x1
#define POLLPRI_ 0x2
#define POLLOUT_ 0x4
#define POLLERR_ 0x8
#define POLLHUP_ 0x10
#define POLLNVAL_ 0x20
#define POLLRDNORM_ 0x40
#define POLLWRNORM_ 0x100

static int revents_of(struct drill_run *r, int64_t sfd, int64_t events)
{
	unsigned ev = drill_fd_events(r, sfd);
	if (ev == 1u << 31)
		return POLLNVAL_;
	int m = 0;
	if (ev & SYNACK_EV_READABLE)
		m |= POLLIN_ | POLLRDNORM_;
	if (ev & SYNACK_EV_WRITABLE)
		m |= POLLOUT_ | POLLWRNORM_;
	if (ev & SYNACK_EV_ERROR)
		m |= POLLERR_;
	if (ev & SYNACK_EV_HUP)
		m |= POLLHUP_;
	if (ev & SYNACK_EV_PRI)
		m |= POLLPRI_;
	return m & (int)(events | POLLERR_ | POLLHUP_);
}

static void fmt_events(int m, char *out, size_t cap)
{
	static const struct { int bit; const char *name; } names[] = {
		{POLLIN_, "POLLIN"}, {POLLPRI_, "POLLPRI"}, {POLLOUT_, "POLLOUT"}, {POLLERR_, "POLLERR"},
		{POLLHUP_, "POLLHUP"}, {POLLNVAL_, "POLLNVAL"}, {POLLRDNORM_, "POLLRDNORM"},
		{POLLWRNORM_, "POLLWRNORM"}};
	size_t k = 0;
	out[0] = '\0';
	for (size_t i = 0; i < sizeof names / sizeof names[0] && k < cap; i++)
		if (m & names[i].bit)
			k += (size_t)snprintf(out + k, cap - k, "%s%s", k ? "|" : "", names[i].name);
	if (!k)
		snprintf(out, cap, "0");
}

static int check_revents(struct drill_run *r, const struct drill_event *ev,
			 const struct drill_expr *fds)
{
	for (size_t k = 0; k < fds->n; k++) {
		const struct drill_expr *e = fds->items[k];
		const struct drill_expr *fd = field(e, "fd", NULL), *want = field(e, "revents", NULL);
		const struct drill_expr *evs = field(e, "events", NULL);
		int64_t sfd, events = 0, w;
		if (!fd || is_any(want))
			continue;
		if (drill_eval(r, ev, fd, &sfd) < 0 || (evs && drill_eval(r, ev, evs, &events) < 0) ||
		    drill_eval(r, ev, want, &w) < 0)
			return -1;
		int got = revents_of(r, sfd, events);
		if (got != w) {
			char a[80], b[80];
			fmt_events((int)w, a, sizeof a);
			fmt_events(got, b, sizeof b);
			drill_fail(r, ev, "poll(): fd %lld: expected revents=%s but synack reported "
				   "revents=%s", (long long)sfd, a, b);
			return -1;
		}
	}
	return 0;
}

int drill_poll(struct drill_run *r, const struct drill_event *ev, bool retry, int64_t *ret,
	       bool *would_block)
{
	const struct drill_expr *fds = arg(ev, 0);
	int64_t timeout;
	if (!fds || fds->kind != DRILL_EX_ARRAY) {
		drill_fail(r, ev, "poll(): expected [{fd=N, events=..., revents=...}, ...]");
		return -1;
	}
	if (need(r, ev, 2, &timeout) < 0)
		return -1;
	int64_t ready = 0;
	for (size_t k = 0; k < fds->n; k++) {
		const struct drill_expr *fd = field(fds->items[k], "fd", NULL);
		const struct drill_expr *evs = field(fds->items[k], "events", NULL);
		int64_t sfd, events = 0;
		if (!fd || drill_eval(r, ev, fd, &sfd) < 0 ||
		    (evs && drill_eval(r, ev, evs, &events) < 0))
			return fd ? -1 : (drill_fail(r, ev, "poll(): an entry without fd="), -1);
		if (revents_of(r, sfd, events))
			ready++;
	}
	if (ready == 0 && timeout != 0) {
		if (!retry)
			r->pend.timeout_at = timeout > 0 ? r->now + timeout * 1000 : -1;
		if (!retry || r->pend.timeout_at < 0 || r->now < r->pend.timeout_at) {
			*would_block = true;
			return 0;
		}
	}
	*ret = ready;
	return check_revents(r, ev, fds);
}
