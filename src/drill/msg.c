/* synack drill — sendto, recvfrom, sendmsg, recvmsg and ioctl, in packetdrill's notation:
 *
 *   sendto(4, ..., 1000, 0, ..., ...) = 1000
 *   recvfrom(4, ..., 1000, MSG_PEEK, ..., ...) = 1000
 *   sendmsg(4, {msg_name(...)=..., msg_iov(1)=[{..., 1000}], msg_flags=0}, 0) = 1000
 *   recvmsg(4, {msg_iov(1)=[{..., 1000}], msg_flags=0,
 *               msg_control(...)=[{cmsg_level=SOL_TCP, cmsg_type=TCP_CM_INQ, cmsg_data=0}]}, 0)
 *   ioctl(4, SIOCINQ, [1000]) = 0        (also FIONREAD, SIOCOUTQ, SIOCOUTQNSD, FIONBIO,
 *                                         SIOCATMARK)
 *
 * On a connected TCP socket the address arguments mean nothing (Linux ignores them), so they
 * are not checked. Control messages: TCP_CM_INQ (after setsockopt TCP_INQ) is computed from
 * synack's receive queue; any other cmsg makes the script SKIPPED.
 */
#include <errno.h>
#include <string.h>

#include "drill/runner.h"

#define TCP_CM_INQ_ 36
#define SIOCINQ_ 0x541B
#define SIOCOUTQ_ 0x5411
#define SIOCOUTQNSD_ 0x894B
#define FIONBIO_ 0x5421
#define SIOCATMARK_ 0x8905

static int flags_arg(struct drill_call *c, int i, int64_t *flags)
{
	*flags = 0;
	return drill_arg_any(c, i) ? 0 : drill_arg_int(c, i, flags);
}

int drill_sc_sendto(struct drill_call *c)
{
	int64_t len, flags;
	if (drill_arg_int(c, 2, &len) < 0 || flags_arg(c, 3, &flags) < 0)
		return -1;
	if (flags & SYNACK_MSG_FASTOPEN)
		return drill_sendto_fastopen(c, len, (int)flags);
	return drill_send_common(c, len, (int)flags);
}

int drill_sc_recvfrom(struct drill_call *c)
{
	int64_t len, flags;
	if (drill_arg_int(c, 2, &len) < 0 || flags_arg(c, 3, &flags) < 0)
		return -1;
	return drill_recv_common(c, len, (int)flags);
}

static const struct drill_expr *msghdr(struct drill_call *c)
{
	const struct drill_expr *m = c->sc->nargs > 1 ? c->sc->args[1] : NULL;
	if (!m || m->kind != DRILL_EX_STRUCT) {
		drill_bad_arg(c, 1, "expected {msg_iov(N)=[...], msg_flags=...}");
		return NULL;
	}
	return m;
}

static bool has_items(const struct drill_expr *e)
{
	return e && e->kind == DRILL_EX_ARRAY && e->n > 0;
}

int drill_sc_sendmsg(struct drill_call *c)
{
	const struct drill_expr *m = msghdr(c);
	int64_t len, flags;
	if (!m || drill_iov_total(c, drill_field(m, "msg_iov"), 1, &len) < 0 ||
	    flags_arg(c, 2, &flags) < 0)
		return -1;
	if (has_items(drill_field(m, "msg_control"))) {
		drill_skip(c->r, c->ev, "sendmsg(): control messages are not supported by synack");
		return -1;
	}
	return drill_send_common(c, len, (int)flags);
}

/* One expected cmsg of recvmsg: only TCP_CM_INQ, after TCP_INQ was set. */
static int check_cmsg(struct drill_call *c, const struct drill_expr *cm, int sfd)
{
	const struct drill_expr *lv = drill_field(cm, "cmsg_level");
	const struct drill_expr *ty = drill_field(cm, "cmsg_type");
	const struct drill_expr *dt = drill_field(cm, "cmsg_data");
	int64_t level = -1, type = -1, want;
	if ((lv && drill_eval(c->r, c->ev, lv, &level) < 0) ||
	    (ty && drill_eval(c->r, c->ev, ty, &type) < 0))
		return -1;
	if (level != 6 || type != TCP_CM_INQ_ || !c->r->fds[sfd].inq) {
		drill_skip(c->r, c->ev, "recvmsg(): control message (level %lld, type %lld)",
			   (long long)level, (long long)type);
		return -1;
	}
	if (!dt || dt->kind == DRILL_EX_ELLIPSIS)
		return 0;
	if (drill_eval(c->r, c->ev, dt, &want) < 0)
		return -1;
	struct synack_tcp_info ti;
	memset(&ti, 0, sizeof ti);
	synack_tcp_info(c->r->stack, drill_live_fd(c->r, sfd), &ti);
	if ((int64_t)ti.recv_q != want) {
		drill_fail(c->r, c->ev, "recvmsg(): wrong TCP_CM_INQ: expected %lld but synack has "
			   "%u bytes left to read", (long long)want, ti.recv_q);
		return -1;
	}
	return 0;
}

int drill_sc_recvmsg(struct drill_call *c)
{
	const struct drill_expr *m = msghdr(c);
	int64_t len, flags, want_flags = 0;
	int sfd;
	if (!m || drill_iov_total(c, drill_field(m, "msg_iov"), 1, &len) < 0 ||
	    flags_arg(c, 2, &flags) < 0)
		return -1;
	if (drill_recv_common(c, len, (int)flags) < 0)
		return -1;
	if (c->would_block || c->ret < 0)
		return 0;
	if (drill_fd_arg(c, 0, &sfd) == -2)
		return -1;
	const struct drill_expr *mf = drill_field(m, "msg_flags");
	if (mf && mf->kind != DRILL_EX_ELLIPSIS) {
		if (drill_eval(c->r, c->ev, mf, &want_flags) < 0)
			return -1;
		if (want_flags != 0) {
			drill_fail(c->r, c->ev, "recvmsg(): wrong msg_flags: expected 0x%llx but "
				   "synack reports 0", (unsigned long long)want_flags);
			return -1;
		}
	}
	const struct drill_expr *ctl = drill_field(m, "msg_control");
	for (size_t k = 0; has_items(ctl) && k < ctl->n; k++)
		if (check_cmsg(c, ctl->items[k], sfd) < 0)
			return -1;
	return 0;
}

/* ioctl: the queue sizes Linux reports (SIOCINQ = FIONREAD, SIOCOUTQ, SIOCOUTQNSD) from
 * synack's TCP_INFO, and FIONBIO. */
int drill_sc_ioctl(struct drill_call *c)
{
	int sfd, fd = drill_fd_arg(c, 0, &sfd);
	int64_t req, want;
	if (fd == -2 || drill_arg_int(c, 1, &req) < 0)
		return -1;
	if (fd == 1 << 20) {
		c->ret = -EBADF;
		return 0;
	}
	if (req == FIONBIO_) {
		if (drill_arg_int(c, 2, &want) < 0)
			return -1;
		c->r->fds[sfd].nonblock = want != 0;
		c->ret = 0;
		return 0;
	}
	if (req == SIOCATMARK_) {
		c->ret = synack_sockatmark(c->r->stack, fd);
		if (c->ret < 0 || drill_arg_any(c, 2))
			return 0;
		if (drill_arg_int(c, 2, &want) < 0)
			return -1;
		if (want != c->ret) {
			drill_fail(c->r, c->ev, "ioctl(SIOCATMARK): wrong value: expected [%lld] but "
				   "synack gave [%lld]", (long long)want, (long long)c->ret);
			return -1;
		}
		c->ret = 0;
		return 0;
	}
	if (req != SIOCINQ_ && req != SIOCOUTQ_ && req != SIOCOUTQNSD_) {
		const struct drill_expr *e = c->sc->args[1];
		drill_skip(c->r, c->ev, "ioctl(): request %s is not supported",
			   e->kind == DRILL_EX_SYMBOL ? e->text : "(number)");
		return -1;
	}
	struct synack_tcp_info ti;
	memset(&ti, 0, sizeof ti);
	c->ret = synack_tcp_info(c->r->stack, fd, &ti);
	if (c->ret < 0)
		return 0;
	if (ti.state == SYNACK_LISTEN) { /* Linux: EINVAL on a listener */
		c->ret = -EINVAL;
		return 0;
	}
	int64_t got = req == SIOCINQ_	? ti.recv_q
		      : req == SIOCOUTQ_ ? ti.send_q
					 : (ti.send_q > ti.bytes_in_flight ? ti.send_q - ti.bytes_in_flight : 0);
	if (drill_arg_any(c, 2))
		return 0;
	if (drill_arg_int(c, 2, &want) < 0)
		return -1;
	if (want != got) {
		drill_fail(c->r, c->ev, "ioctl(): wrong value: expected [%lld] but synack gave [%lld]",
			   (long long)want, (long long)got);
		return -1;
	}
	return 0;
}
