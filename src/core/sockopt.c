/* setsockopt/getsockopt: SO_REUSEADDR, SO_ERROR, SO_SNDBUF, SO_RCVBUF, SO_KEEPALIVE,
 * SO_LINGER, IP_TTL, IP_TOS, IP_MTU_DISCOVER, TCP_NODELAY, TCP_MAXSEG, TCP_CORK,
 * TCP_KEEPIDLE/KEEPINTVL/KEEPCNT, TCP_USER_TIMEOUT, TCP_NOTSENT_LOWAT, TCP_INFO,
 * TCP_CONGESTION (by name, as Linux: a string, not an int). Anything else is -ENOPROTOOPT,
 * never a silent no-op. Values, ranges and errors are Linux's.
 *
 * Buffer sizes take effect when the connection's buffers are allocated (connect(), or the
 * end of the handshake for an accepted connection). SO_SNDBUF is doubled as on Linux (which
 * counts its bookkeeping in the buffer): min(value, 212992) * 2, at least 4608 — the size the
 * send buffer gets and the value read back; SO_RCVBUF is taken as given. */
#include <errno.h>
#include <string.h>

#include "core/tcb.h"

/* The connection behind fd, its flow taken back first if it was folded (tcb_flow.c).
 * Errors: -EBADF, -ENOMEM. */
static int fd_take(struct synack_stack *s, int fd, struct synack_tcb **out)
{
	struct synack_tcb *c = fd >= 0 && (uint32_t)fd < s->nfds ? s->fds[fd] : NULL;
	if (!c)
		return -EBADF;
	if (!tcb_unfold(s, c))
		return -ENOMEM;
	*out = c;
	return 0;
}

static int get_int(const void *val, size_t len, int *out)
{
	if (!val || len < sizeof(int))
		return -EINVAL;
	memcpy(out, val, sizeof(int));
	return 0;
}

static int set_socket_level(struct synack_stack *s, struct synack_tcb *c, int name,
			    const void *val, size_t len)
{
	int v;
	if (name == SYNACK_SO_LINGER) {
		struct synack_linger l;
		if (!val || len < sizeof l)
			return -EINVAL;
		memcpy(&l, val, sizeof l);
		c->linger_on = l.l_onoff != 0;
		c->linger_s = l.l_linger < 0 ? 0 : l.l_linger;
		return 0;
	}
	if (name == SYNACK_SO_ERROR)
		return -ENOPROTOOPT;
	if (name != SYNACK_SO_REUSEADDR && name != SYNACK_SO_KEEPALIVE &&
	    name != SYNACK_SO_SNDBUF && name != SYNACK_SO_RCVBUF && name != SYNACK_SO_OOBINLINE)
		return -ENOPROTOOPT;
	if (get_int(val, len, &v) < 0)
		return -EINVAL;
	switch (name) {
	case SYNACK_SO_REUSEADDR:
		c->reuseaddr = v != 0;
		return 0;
	case SYNACK_SO_OOBINLINE:
		c->oobinline = v != 0;
		tcp_wake(s, c);
		return 0;
	case SYNACK_SO_KEEPALIVE:
		c->keepalive = v != 0;
		c->keep_probes = 0;
		if (tcp_state_synchronized(c->state) && c->state != SYNACK_TIME_WAIT)
			tcp_arm_keepalive(s, c);
		return 0;
	case SYNACK_SO_SNDBUF:
	case SYNACK_SO_RCVBUF:
		if (name == SYNACK_SO_SNDBUF) /* Linux: net.core.wmem_max, doubled, SOCK_MIN_SNDBUF */
			v = v < 0 || v > 212992 ? 212992 * 2 : v * 2 < 4608 ? 4608 : v * 2;
		if (v < 2048)
			v = 2048; /* Linux's SOCK_MIN_RCVBUF order of magnitude */
		if (v > (1 << 30))
			return -EINVAL;
		if (name == SYNACK_SO_SNDBUF)
			c->sndbuf_locked = true; /* Linux: SOCK_SNDBUF_LOCK, no autotuning */
		if (name == SYNACK_SO_SNDBUF && c->fl->sndq.cap) {
			/* A connected socket takes the new size at once (Linux applies sk_sndbuf
			 * to the next write); a size below what is queued waits for the queue. */
			uint32_t cap =
				(uint32_t)v > c->fl->sndq.len ? (uint32_t)v : c->fl->sndq.len;
			return tcb_resize_sndq(s, c, cap);
		}
		if (name == SYNACK_SO_SNDBUF) {
			c->sndbuf_size = (uint32_t)v;
			return 0;
		}
		/* SO_RCVBUF: the buffer holds v bytes of payload, getsockopt reports 2 * v as
		 * Linux does (its doubling is room for its overhead). A connected socket takes it
		 * at once (Linux's sk_rcvbuf): the window follows, without moving back the right
		 * edge already announced (tcp_rcv_window); data already held beyond it stays. */
		c->rcvbuf_size = (uint32_t)v;
		c->rcvbuf_locked = true;
		if (c->fl->rcvq.cap)
			c->fl->rcvq.cap = (uint32_t)v;
		return 0;
	}
	return -ENOPROTOOPT;
}

/* TCP_CONGESTION (Linux's do_tcp_setsockopt): the first min(len, 15) bytes, up to a NUL,
 * name the controller. Errors: -EINVAL (len 0, no value), -ENOENT (no such controller). A
 * switch keeps cwnd and ssthresh and gives the new controller a zeroed private area. */
static int set_congestion(struct synack_tcb *c, const void *val, size_t len)
{
	char name[SYNACK_CC_NAME_MAX];
	if (!val || len < 1)
		return -EINVAL;
	size_t n = len < sizeof name - 1 ? len : sizeof name - 1;
	memcpy(name, val, n);
	name[n] = '\0';
	const struct cc_ops *cc = cc_find(name);
	if (!cc)
		return -ENOENT;
	if (cc != c->fl->cc.ops)
		cc_set(&c->fl->cc, cc);
	return 0;
}

static int set_tcp_level(struct synack_stack *s, struct synack_tcb *c, int name, const void *val,
			 size_t len)
{
	int v;
	if (name == SYNACK_TCP_INFO)
		return -ENOPROTOOPT;
	if (name == SYNACK_TCP_CONGESTION)
		return set_congestion(c, val, len);
	if (name != SYNACK_TCP_NODELAY && name != SYNACK_TCP_MAXSEG && name != SYNACK_TCP_KEEPIDLE &&
	    name != SYNACK_TCP_KEEPINTVL && name != SYNACK_TCP_KEEPCNT && name != SYNACK_TCP_CORK &&
	    name != SYNACK_TCP_USER_TIMEOUT && name != SYNACK_TCP_NOTSENT_LOWAT &&
	    name != SYNACK_TCP_FASTOPEN && name != SYNACK_TCP_FASTOPEN_CONNECT &&
	    name != SYNACK_TCP_QUICKACK)
		return -ENOPROTOOPT;
	if (get_int(val, len, &v) < 0)
		return -EINVAL;
	switch (name) {
	case SYNACK_TCP_NODELAY:
		c->nodelay = v != 0;
		if (c->nodelay)
			tcp_output(s, c, false);
		return 0;
	case SYNACK_TCP_QUICKACK:
		tcp_delack_set_quickack(s, c, v != 0);
		return 0;
	case SYNACK_TCP_MAXSEG:
		if (v < 88 || v > 65495) /* Linux: TCP_MIN_MSS .. MAX_TCP_WINDOW */
			return -EINVAL;
		c->user_mss = (uint16_t)v;
		return 0;
	case SYNACK_TCP_KEEPIDLE:
		if (v < 1 || v > 32767) /* Linux's MAX_TCP_KEEPIDLE */
			return -EINVAL;
		c->keep_idle_s = (uint32_t)v;
		if (c->keepalive && tcp_state_synchronized(c->state))
			tcp_arm_keepalive(s, c);
		return 0;
	case SYNACK_TCP_KEEPINTVL:
		if (v < 1 || v > 32767)
			return -EINVAL;
		c->keep_intvl_s = (uint32_t)v;
		return 0;
	case SYNACK_TCP_KEEPCNT:
		if (v < 1 || v > 127)
			return -EINVAL;
		c->keep_cnt = (uint32_t)v;
		return 0;
	case SYNACK_TCP_CORK:
		/* Linux: uncorking sends what was held at once */
		c->cork = v != 0;
		if (!c->cork)
			tcp_output(s, c, false);
		return 0;
	case SYNACK_TCP_USER_TIMEOUT:
		if (v < 0)
			return -EINVAL;
		c->user_timeout_ms = (uint32_t)v;
		return 0;
	case SYNACK_TCP_NOTSENT_LOWAT:
		/* Linux stores the value as given; 0 means "none": the stack's setting applies */
		c->notsent_lowat = (uint32_t)v;
		tcp_wake(s, c);
		return 0;
	case SYNACK_TCP_FASTOPEN:
		/* Linux: the queue limit of a closed or listening socket, capped at somaxconn. */
		if (v < 0 || (c->state != SYNACK_CLOSED && c->state != SYNACK_LISTEN))
			return -EINVAL;
		c->fl->tfo.qlen = v > 4096 ? 4096u : (uint32_t)v;
		return 0;
	case SYNACK_TCP_FASTOPEN_CONNECT:
		if (v < 0 || v > 1)
			return -EINVAL;
		if (!(s->cfg.fastopen & SYNACK_TFO_CLIENT))
			return -EOPNOTSUPP;
		if (c->state != SYNACK_CLOSED)
			return -EINVAL;
		c->fl->tfo.connect = v != 0;
		return 0;
	}
	return -ENOPROTOOPT;
}

/* IP_TTL, IP_TOS, IP_MTU_DISCOVER (Linux's checks: ip(7)). */
static int set_ip_level(struct synack_tcb *c, int name, const void *val, size_t len)
{
	int v;
	if (name != SYNACK_IP_TTL && name != SYNACK_IP_TOS && name != SYNACK_IP_MTU_DISCOVER)
		return -ENOPROTOOPT;
	if (get_int(val, len, &v) < 0)
		return -EINVAL;
	switch (name) {
	case SYNACK_IP_TTL:
		if (v == -1)
			v = 64;
		if (v < 1 || v > 255)
			return -EINVAL;
		c->ip_ttl = (uint8_t)v;
		return 0;
	case SYNACK_IP_TOS:
		/* the ECN field belongs to TCP (RFC 3168 §6.1.1): only the DSCP bits are taken */
		c->ip_tos = (uint8_t)((v & ~3) | (c->ip_tos & 3));
		return 0;
	case SYNACK_IP_MTU_DISCOVER:
		if (v < SYNACK_IP_PMTUDISC_DONT || v > SYNACK_IP_PMTUDISC_OMIT)
			return -EINVAL;
		c->pmtudisc = (uint8_t)v;
		return 0;
	}
	return -ENOPROTOOPT;
}

/* IPV6_V6ONLY: Linux refuses it once the socket has a port (-EINVAL). */
static int set_ipv6_level(struct synack_tcb *c, int name, const void *val, size_t len)
{
	int v;
	if (name != SYNACK_IPV6_V6ONLY)
		return -ENOPROTOOPT;
	if (get_int(val, len, &v) < 0 || c->bound)
		return -EINVAL;
	c->v6only = v != 0;
	return 0;
}

int synack_setsockopt(struct synack_stack *s, int fd, int level, int name, const void *val,
		      size_t len)
{
	struct synack_tcb *c;
	int taken = fd_take(s, fd, &c);
	if (taken < 0)
		return taken;
	int r;
	if (level == SYNACK_SOL_SOCKET)
		r = set_socket_level(s, c, name, val, len);
	else if (level == SYNACK_IPPROTO_TCP)
		r = set_tcp_level(s, c, name, val, len);
	else if (level == SYNACK_IPPROTO_IPV6)
		r = set_ipv6_level(c, name, val, len);
	else if (level == SYNACK_IPPROTO_IP)
		r = set_ip_level(c, name, val, len);
	else
		r = -ENOPROTOOPT;
	stack_reap(s);
	return r;
}

static int put(void *val, size_t *len, const void *src, size_t n)
{
	if (!val || !len || *len < n)
		return -EINVAL;
	memcpy(val, src, n);
	*len = n;
	return 0;
}

static int put_int(void *val, size_t *len, int v) { return put(val, len, &v, sizeof v); }

static int get_socket_level(struct synack_stack *s, struct synack_tcb *c, int name, void *val,
			    size_t *len)
{
	switch (name) {
	case SYNACK_SO_REUSEADDR:
		return put_int(val, len, c->reuseaddr);
	case SYNACK_SO_OOBINLINE:
		return put_int(val, len, c->oobinline);
	case SYNACK_SO_KEEPALIVE:
		return put_int(val, len, c->keepalive);
	case SYNACK_SO_SNDBUF:
		return put_int(val, len, (int)c->sndbuf_size);
	case SYNACK_SO_RCVBUF:
		return put_int(val, len,
			       !c->rcvbuf_locked ? (int)c->rcvbuf_size
			       : c->rcvbuf_size > INT32_MAX / 2 ? INT32_MAX : (int)(2 * c->rcvbuf_size));
	case SYNACK_SO_ERROR: {
		int r = put_int(val, len, -c->err);
		if (r == 0) {
			c->err = 0;
			tcp_wake(s, c);
		}
		return r;
	}
	case SYNACK_SO_LINGER: {
		struct synack_linger l = {c->linger_on, c->linger_s};
		return put(val, len, &l, sizeof l);
	}
	default:
		return -ENOPROTOOPT;
	}
}

/* TCP_CONGESTION: min(*len, SYNACK_CC_NAME_MAX) bytes of the NUL-padded name (Linux's
 * do_tcp_getsockopt). Errors: -EINVAL (no buffer). */
static int get_congestion(const struct synack_tcb *c, void *val, size_t *len)
{
	if (!val || !len)
		return -EINVAL;
	char name[SYNACK_CC_NAME_MAX];
	memset(name, 0, sizeof name);
	const struct cc_ops *ops = c->fl ? c->fl->cc.ops : cc_at(c->fold_cc);
	memcpy(name, ops->name, strlen(ops->name));
	size_t n = *len < sizeof name ? *len : sizeof name;
	memcpy(val, name, n);
	*len = n;
	return 0;
}

static int get_tcp_level(struct synack_stack *s, struct synack_tcb *c, int name, void *val,
			 size_t *len)
{
	switch (name) {
	case SYNACK_TCP_CONGESTION:
		return get_congestion(c, val, len);
	case SYNACK_TCP_NODELAY:
		return put_int(val, len, c->nodelay);
	case SYNACK_TCP_MAXSEG:
		if (tcp_state_synchronized(c->state))
			return put_int(val, len, c->snd_mss);
		return put_int(val, len, c->user_mss ? c->user_mss : s->cfg.mss);
	case SYNACK_TCP_QUICKACK:
		return put_int(val, len, !c->ack_pingpong);
	case SYNACK_TCP_KEEPIDLE:
		return put_int(val, len, (int)c->keep_idle_s);
	case SYNACK_TCP_KEEPINTVL:
		return put_int(val, len, (int)c->keep_intvl_s);
	case SYNACK_TCP_KEEPCNT:
		return put_int(val, len, (int)c->keep_cnt);
	case SYNACK_TCP_CORK:
		return put_int(val, len, c->cork);
	case SYNACK_TCP_USER_TIMEOUT:
		return put_int(val, len, (int)c->user_timeout_ms);
	case SYNACK_TCP_NOTSENT_LOWAT:
		return put_int(val, len, (int)c->notsent_lowat);
	case SYNACK_TCP_FASTOPEN:
		return put_int(val, len, c->fl ? (int)c->fl->tfo.qlen : 0);
	case SYNACK_TCP_FASTOPEN_CONNECT:
		return put_int(val, len, c->fl && c->fl->tfo.connect);
	case SYNACK_TCP_INFO: {
		struct synack_tcp_info info;
		tcb_fill_info(s, c, &info);
		return put(val, len, &info, sizeof info);
	}
	default:
		return -ENOPROTOOPT;
	}
}

static int get_ip_level(const struct synack_tcb *c, int name, void *val, size_t *len)
{
	switch (name) {
	case SYNACK_IP_TTL:
		return put_int(val, len, c->ip_ttl);
	case SYNACK_IP_TOS:
		return put_int(val, len, c->ip_tos);
	case SYNACK_IP_MTU_DISCOVER:
		return put_int(val, len, c->pmtudisc);
	default:
		return -ENOPROTOOPT;
	}
}

int synack_getsockopt(struct synack_stack *s, int fd, int level, int name, void *val,
		      size_t *len)
{
	/* Reading needs no flow: a folded connection (tcb_flow.c) stays folded. */
	struct synack_tcb *c = fd >= 0 && (uint32_t)fd < s->nfds ? s->fds[fd] : NULL;
	if (!c)
		return -EBADF;
	int r = -ENOPROTOOPT;
	if (level == SYNACK_SOL_SOCKET)
		r = get_socket_level(s, c, name, val, len);
	else if (level == SYNACK_IPPROTO_TCP)
		r = get_tcp_level(s, c, name, val, len);
	else if (level == SYNACK_IPPROTO_IPV6 && name == SYNACK_IPV6_V6ONLY)
		r = put_int(val, len, c->v6only);
	else if (level == SYNACK_IPPROTO_IP)
		r = get_ip_level(c, name, val, len);
	stack_reap(s); /* SO_ERROR may have changed readiness */
	return r;
}
