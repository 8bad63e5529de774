/* The BSD-like socket API over the engine (include/synack/socket.h): descriptors, the user
 * calls of RFC 9293 §3.10.1–3.10.6 (OPEN, SEND, RECEIVE, CLOSE, ABORT, STATUS) in their
 * POSIX shape, and readiness. Every call returns a negative errno on error, exactly those
 * listed in socket.h; misuse never crashes. */
#include <errno.h>
#include <string.h>

#include "core/tcp_req.h"
#include "core/tcp_tw.h"

static struct synack_tcb *fd_get(const struct synack_stack *s, int fd)
{
	if (fd < 0 || (uint32_t)fd >= s->nfds)
		return NULL;
	return s->fds[fd];
}

/* The connection behind fd for a call that acts on it: its flow taken back first if it was
 * folded (tcb_flow.c). Errors: -EBADF, -ENOMEM (no memory for the flow). */
static int fd_take(struct synack_stack *s, int fd, struct synack_tcb **out)
{
	struct synack_tcb *c = fd_get(s, fd);
	if (!c)
		return -EBADF;
	if (!tcb_unfold(s, c))
		return -ENOMEM;
	*out = c;
	return 0;
}

static int fd_attach(struct synack_stack *s, struct synack_tcb *c)
{
	for (uint32_t i = s->fd_low; i < s->nfds; i++) {
		if (!s->fds[i]) {
			s->fds[i] = c;
			c->fd = (int)i;
			s->fd_low = i + 1;
			return (int)i;
		}
	}
	return -EMFILE;
}

int synack_socket(struct synack_stack *s)
{
	if (s->nobjs >= s->cfg.max_sockets)
		return -EMFILE;
	struct synack_tcb *c = tcb_new(s);
	if (!c)
		return -ENOMEM;
	/* Until bind() or connect() picks one: the stack's first address (what getsockname()
	 * and the traces of a wildcard listener name), the IPv4 wildcard when it has none. */
	c->key.laddr = s->cfg.naddrs ? s->cfg.addrs[0].addr : synack_addr_any(SYNACK_AF_INET);
	/* No peer yet: the unspecified address of the same family (0.0.0.0 for IPv4). */
	c->key.raddr = synack_addr_any(synack_addr_family(&c->key.laddr));
	int fd = fd_attach(s, c);
	if (fd < 0) {
		tcb_kill(s, c);
		stack_reap(s);
		return fd;
	}
	c->events = tcp_events_lowat(c, s->cfg.notsent_lowat);
	return fd;
}

int synack_bind(struct synack_stack *s, int fd, const struct synack_endpoint *local)
{
	struct synack_tcb *c;
	int taken = fd_take(s, fd, &c);
	if (taken < 0)
		return taken;
	if (!local || c->bound || c->state != SYNACK_CLOSED)
		return -EINVAL;
	bool any = synack_addr_is_any(&local->addr);
	if (c->v6only && synack_addr_is_v4(&local->addr))
		return -EINVAL; /* Linux: an IPv4(-mapped) address on a V6ONLY socket */
	if (!any && !synack_stack_has_addr(s, &local->addr))
		return -EADDRNOTAVAIL;
	/* The addresses first: the bind table looks at them (ports.c). */
	struct synack_addr laddr = c->key.laddr, raddr = c->key.raddr;
	if (any)
		c->any_family = (uint8_t)synack_addr_family(&local->addr);
	if (!any) {
		c->key.laddr = local->addr;
		c->key.raddr = synack_addr_any(synack_addr_family(&local->addr));
		c->addr_bound = true;
	}
	int r = local->port ? ports_bind(s, c, local->port) : ports_bind_ephemeral(s, c);
	if (r < 0) {
		c->any_family = 0;
		c->addr_bound = false;
		c->key.laddr = laddr;
		c->key.raddr = raddr;
		return r;
	}
	c->bound_by_user = true;
	return 0;
}

static int listen_call(struct synack_stack *s, int fd, int backlog)
{
	struct synack_tcb *c;
	int taken = fd_take(s, fd, &c);
	if (taken < 0)
		return taken;
	if (backlog < 0)
		backlog = 0;
	if (backlog > 4096)
		backlog = 4096; /* Linux's somaxconn */
	if (c->state == SYNACK_LISTEN) {
		tcb_lq(c)->backlog = backlog;
		return 0;
	}
	if (c->state != SYNACK_CLOSED || c->ever_connected)
		return -EINVAL;
	if (!c->bound) {
		int r = ports_bind_ephemeral(s, c);
		if (r < 0)
			return r;
	}
	if (ports_listen_conflict(s, c))
		return -EADDRINUSE;
	if (!tcb_lq(c)) {
		c->fl->lq = stack_alloc(s, sizeof *c->fl->lq);
		if (!tcb_lq(c))
			return -ENOMEM;
	}
	memset(tcb_lq(c), 0, sizeof *tcb_lq(c));
	tcb_lq(c)->backlog = backlog;
	ports_listen_insert(s, c);
	tcp_set_state(s, c, SYNACK_LISTEN);
	return 0;
}

static int accept_call(struct synack_stack *s, int fd, struct synack_endpoint *peer)
{
	struct synack_tcb *l;
	int taken = fd_take(s, fd, &l);
	if (taken < 0)
		return taken;
	if (l->state != SYNACK_LISTEN)
		return -EINVAL;
	struct synack_tcb *c = tcb_lq(l)->acceptq;
	if (!c)
		return -EAGAIN;
	int nfd = fd_attach(s, c);
	if (nfd < 0)
		return nfd;
	tcb_unlink_child(c);
	c->ever_connected = true;
	if (peer) {
		peer->addr = c->key.raddr;
		peer->port = c->key.rport;
	}
	c->events = 0;
	tcp_wake(s, c);
	tcp_wake(s, l);
	return nfd;
}

/* The source address of a connection to remote: the one bind() named, else the stack's first
 * address of remote's family. Errors: -ENETUNREACH (the stack has no address of that family),
 * -EINVAL (bound to an address of the other family). */
static int connect_source(const struct synack_stack *s, const struct synack_tcb *c,
			  const struct synack_endpoint *remote, struct synack_addr *src)
{
	int family = synack_addr_family(&remote->addr);
	if (c->v6only && family == SYNACK_AF_INET)
		return -ENETUNREACH; /* Linux: no IPv4 peer for a V6ONLY socket */
	if (c->any_family == SYNACK_AF_INET && family != SYNACK_AF_INET)
		return -EINVAL; /* bound to 0.0.0.0: an IPv4 socket */
	if (c->addr_bound) {
		if (synack_addr_family(&c->key.laddr) != family)
			return -EINVAL;
		*src = c->key.laddr;
		return 0;
	}
	const struct synack_addr *a = stack_source_addr(s, family);
	if (!a) {
		/* No address of the family. An IPv4-only stack keeps connecting from 0.0.0.0,
		 * as it did before it had a list of addresses (a stack built without one). */
		if (family != SYNACK_AF_INET)
			return -ENETUNREACH;
		*src = synack_addr_any(SYNACK_AF_INET);
		return 0;
	}
	*src = *a;
	return 0;
}

/* Fast Open on this connect (RFC 7413): data from sendto(MSG_FASTOPEN), or NULL for
 * connect() (TCP_FASTOPEN_CONNECT). Returns what connect_start returns. */
static ssize_t connect_fastopen(struct synack_stack *s, struct synack_tcb *c, const void *data,
				size_t len)
{
	uint32_t n = tfo_connect_prepare(s, c, data, len);
	if (!data && c->fl->tfo.syn == TFO_SYN_DATA) {
		c->fl->tfo.deferred = true; /* Linux: connect() returns 0; the first send sends */
		return 0;
	}
	tcp_send_syn(s, c, false);
	return n > 0 ? (ssize_t)n : -EINPROGRESS;
}

/* Errors as connect_call; returns -EINPROGRESS, or with Fast Open the bytes on the SYN or 0
 * (deferred). */
static ssize_t connect_start(struct synack_stack *s, struct synack_tcb *c,
			     const struct synack_endpoint *remote, const void *data, size_t len)
{
	struct synack_addr src;
	int r = connect_source(s, c, remote, &src);
	if (r < 0)
		return r;
	struct synack_tuple before = c->key;
	c->key.laddr = src;
	c->key.raddr = remote->addr;
	c->key.rport = remote->port;
	seq_t tw_iss = 0;
	bool reused = false;
	if (!c->bound && ports_bind_connect(s, c, &tw_iss, &reused) < 0) {
		c->key = before;
		return -EADDRNOTAVAIL;
	}
	if (!c->fl->sndq.cap && tcb_alloc_buffers(s, c) < 0)
		return -ENOMEM;
	if (tcb_conntab_insert(s, c) < 0)
		return -EADDRINUSE;
	tcb_reset_connection(s, c);
	c->iss = reused ? tw_iss : isn_generate(s, tcb_tuple(c));
	c->snd_una = c->iss;
	c->snd_nxt = c->iss;
	c->fl->snd_max = c->iss;
	c->fl->snd_sml = c->iss;
	c->fl->snd_buf_seq = seq_add(c->iss, 1);
	c->rcv_wscale = tcp_choose_wscale(s, c);
	c->ever_connected = true;
	tcp_set_state(s, c, SYNACK_SYN_SENT);
	stack_count(s, SYNACK_CTR_ActiveOpens);
	c->fl->tfo.syn = TFO_SYN_NONE;
	c->fl->tfo.syn_len = 0;
	c->fl->tfo.deferred = false;
	if (data || c->fl->tfo.connect)
		return connect_fastopen(s, c, data, len);
	tcp_send_syn(s, c, false);
	return -EINPROGRESS;
}

/* connect(), or sendto(MSG_FASTOPEN) with data (non-NULL). */
static ssize_t open_call(struct synack_stack *s, int fd, const struct synack_endpoint *remote,
			 const void *data, size_t len)
{
	struct synack_tcb *c;
	int taken = fd_take(s, fd, &c);
	if (taken < 0)
		return taken;
	switch (c->state) {
	case SYNACK_LISTEN:
		return -EINVAL;
	case SYNACK_SYN_SENT:
	case SYNACK_SYN_RECEIVED:
		return -EALREADY;
	case SYNACK_CLOSED:
		break;
	default:
		return -EISCONN;
	}
	if (c->err) {
		/* A finished failed attempt reports its error once. */
		int e = c->err;
		c->err = 0;
		tcp_wake(s, c);
		return e;
	}
	if (!remote || remote->port == 0 || synack_addr_is_any(&remote->addr))
		return -EINVAL;
	/* RFC 9293 MUST-46: an OPEN to a broadcast or multicast address is refused (Linux:
	 * ENETUNREACH). IPv6 has no broadcast; its multicast is ff00::/8 (RFC 4291 §2.7). */
	if (synack_addr_is_v4(&remote->addr)) {
		uint32_t a = synack_addr_get_v4(&remote->addr);
		if (a == 0xFFFFFFFFu || (a >> 28) == 0xE)
			return -ENETUNREACH;
	} else if (remote->addr.b[0] == 0xff) {
		return -ENETUNREACH;
	}
	return connect_start(s, c, remote, data, len);
}

static int connect_call(struct synack_stack *s, int fd, const struct synack_endpoint *remote)
{
	return (int)open_call(s, fd, remote, NULL, 0);
}

/* The first send after a deferred TCP_FASTOPEN_CONNECT connect(): the SYN carries it. */
static ssize_t send_deferred(struct synack_stack *s, struct synack_tcb *c, const void *buf,
			     size_t len)
{
	if (len && !buf)
		return -EINVAL;
	c->fl->tfo.deferred = false;
	uint32_t n = tfo_connect_prepare(s, c, buf ? buf : "", len);
	tcp_send_syn(s, c, false);
	return n > 0 ? (ssize_t)n : -EINPROGRESS;
}

/* MSG_EOR: the queue's end is the end of a record. With all the slots in use, the oldest
 * boundary not yet sent is given up (its record then merges with the next), never the call;
 * so is this one when there is no memory for the slots. */
static void mark_record_end(struct synack_stack *s, struct synack_tcb *c)
{
	seq_t end = seq_add(c->fl->snd_buf_seq, c->fl->sndq.len);
	if (!c->fl->eor && !(c->fl->eor = stack_alloc(s, SYNACK_EOR_MAX * sizeof c->fl->eor[0])))
		return;
	if (c->fl->neor && c->fl->eor[c->fl->neor - 1] == end)
		return;
	if (c->fl->neor == SYNACK_EOR_MAX) {
		memmove(c->fl->eor, c->fl->eor + 1, (c->fl->neor - 1) * sizeof c->fl->eor[0]);
		c->fl->neor--;
	}
	c->fl->eor[c->fl->neor++] = end;
}

static ssize_t send_call(struct synack_stack *s, int fd, const void *buf, size_t len, int flags)
{
	struct synack_tcb *c;
	int taken = fd_take(s, fd, &c);
	if (taken < 0)
		return taken;
	if (c->err) {
		int e = c->err;
		c->err = 0;
		tcp_wake(s, c);
		return e;
	}
	if (c->state == SYNACK_SYN_SENT && c->fl->tfo.deferred)
		return send_deferred(s, c, buf, len);
	if (c->state == SYNACK_SYN_SENT || c->state == SYNACK_SYN_RECEIVED)
		return -EAGAIN;
	if (c->fin_queued || (c->state == SYNACK_CLOSED && c->ever_connected))
		return -EPIPE;
	if (!tcp_state_can_send(c->state))
		return c->ever_connected ? -EPIPE : -ENOTCONN;
	if (len == 0)
		return 0;
	if (!buf)
		return -EINVAL;
	/* TCP_NOTSENT_LOWAT: no more data while that much waits unsent (Linux). */
	if (!(tcp_events_lowat(c, s->cfg.notsent_lowat) & SYNACK_EV_WRITABLE))
		return -EAGAIN;
	uint32_t n = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
	uint32_t room = c->sndbuf_size > c->fl->sndq.len ? c->sndbuf_size - c->fl->sndq.len : 0;
	if (n > room)
		n = room;
	uint32_t want = n;
	n = ring_write(&c->fl->sndq, &s->bufs, buf, n);
	/* Fewer bytes than the buffer had room for: the memory limit. Like Linux's SOCK_NOSPACE,
	 * the socket is not writable until acknowledged data gives chunks back (when it holds
	 * none, the allocator failed: nothing will come back, the next write tries again). */
	c->snd_nomem = n < want && c->fl->sndq.nchunks > 0;
	if (n == 0) {
		tcp_wake(s, c);
		return -EAGAIN;
	}
	if ((flags & SYNACK_MSG_EOR) && n == len)
		mark_record_end(s, c);
	if (flags & SYNACK_MSG_OOB) {
		/* Linux (BSD's reading of RFC 9293 §3.8.5): the urgent pointer points past the
		 * data just queued, and segments before it carry URG. */
		c->fl->snd_up = seq_add(c->fl->snd_buf_seq, c->fl->sndq.len);
		c->snd_urg = true;
	}
	tcp_output(s, c, false);
	tcp_wake(s, c);
	return (ssize_t)n;
}

/* After the user reads (Linux's tcp_cleanup_rbuf): an ACK that is owed for more than one
 * segment, or for pushed data this read drained (tcp_delack_after_read), goes now; and the window is announced when it can at least double what the peer
 * may still send, while that is at most half the largest window (RFC 9293 §3.8.6.2.2
 * receiver SWS avoidance, as Linux applies it). The rule looks at what the peer was told
 * (rcv_adv), so a window that stopped at half the buffer after a whole flight arrived and
 * was read in pieces opens as soon as the reads make it twice as large. */
static void maybe_window_update(struct synack_stack *s, struct synack_tcb *c, uint32_t copied)
{
	if (!tcp_state_synchronized(c->state) || c->state == SYNACK_TIME_WAIT || c->rcvd_fin)
		return;
	if (tcp_delack_after_read(c, copied)) {
		tcp_send_ack(s, c);
		return;
	}
	uint32_t max = 65535u << c->rcv_wscale;
	if (c->fl->rcvq.cap && c->fl->rcvq.cap < max)
		max = c->fl->rcvq.cap;
	uint32_t now = seq_gt(c->rcv_adv, c->rcv_nxt) ? (uint32_t)seq_diff(c->rcv_adv, c->rcv_nxt) : 0;
	if (2 * (uint64_t)now > max)
		return;
	uint32_t wnd = tcp_rcv_window_mem(s, c);
	if (wnd > max)
		wnd = max;
	wnd &= ~((1u << c->rcv_wscale) - 1);
	/* Receiver SWS avoidance (Linux's __tcp_select_window): less than half the buffer and
	 * less than a segment free is no window to offer. */
	uint32_t mss = c->fl->ack_rcv_mss ? c->fl->ack_rcv_mss : c->snd_mss;
	if (wnd < max / 2 && wnd < mss)
		wnd = 0;
	if (wnd > 0 && wnd >= 2 * now)
		tcp_send_ack(s, c);
}

/* recv(MSG_OOB), as Linux's tcp_recv_urg: the urgent byte, once. */
static ssize_t recv_oob(struct synack_stack *s, struct synack_tcb *c, void *buf, size_t len,
			int flags)
{
	if (c->oobinline || c->fl->urg_state == URG_NONE || c->fl->urg_state == URG_READ)
		return -EINVAL;
	if (c->fl->urg_state == URG_NOTYET)
		return c->state == SYNACK_CLOSED || c->rcvd_fin ? -ENOTCONN : -EAGAIN;
	if (len == 0)
		return 0;
	if (!buf)
		return -EINVAL;
	*(uint8_t *)buf = c->fl->urg_byte;
	if (!(flags & SYNACK_MSG_PEEK)) {
		c->fl->urg_state = URG_READ;
		tcp_wake(s, c);
	}
	return 1;
}

/* How the next read meets the urgent mark (Linux's tcp_recvmsg): it stops before the mark;
 * at the mark, an out-of-band byte is skipped (it is read with MSG_OOB), an inline one read.
 * Sets *skip to the bytes to pass over first and returns how many may be read after them. */
static uint32_t readable_to_mark(const struct synack_tcb *c, uint32_t *skip)
{
	*skip = 0;
	uint32_t avail = c->fl->rcvq.len;
	if (c->fl->urg_state == URG_NONE || c->fl->urg_state == URG_NOTYET)
		return avail;
	uint32_t off = (uint32_t)seq_diff(c->fl->urg_seq, tcp_read_seq(c));
	if (off >= avail)
		return avail;
	if (off > 0)
		return off;
	*skip = c->oobinline ? 0 : 1;
	return avail - *skip;
}

/* recv() with nothing readable: the pending error, end of stream, or nothing yet. */
static ssize_t recv_nothing(struct synack_stack *s, struct synack_tcb *c, size_t len)
{
	if (c->err) {
		int e = c->err;
		c->err = 0;
		tcp_wake(s, c);
		return e;
	}
	if (c->rcvd_fin || c->shut_rd || (c->state == SYNACK_CLOSED && c->ever_connected))
		return 0;
	if (c->state == SYNACK_CLOSED)
		return -ENOTCONN;
	return len == 0 ? 0 : -EAGAIN;
}

static ssize_t recv_call(struct synack_stack *s, int fd, void *buf, size_t len, int flags)
{
	struct synack_tcb *c = fd_get(s, fd);
	if (!c)
		return -EBADF;
	if (c->state == SYNACK_LISTEN)
		return -EINVAL;
	/* A folded connection (tcb_flow.c) has nothing to read: the answer needs no flow. */
	if (!c->fl && !(flags & SYNACK_MSG_OOB))
		return recv_nothing(s, c, len);
	if (!tcb_unfold(s, c))
		return -ENOMEM;
	if (flags & SYNACK_MSG_OOB)
		return recv_oob(s, c, buf, len, flags);
	uint32_t skip, avail = readable_to_mark(c, &skip);
	if (avail > 0 && len > 0) {
		if (!buf)
			return -EINVAL;
		uint32_t n = len < avail ? (uint32_t)len : avail;
		ring_peek(&c->fl->rcvq, skip, buf, n);
		if (!(flags & SYNACK_MSG_PEEK)) {
			ring_consume(&c->fl->rcvq, &s->bufs, skip + n);
			tcb_rcvq_settle(s, c);
			tcp_rcv_space_adjust(s, c);
			if (c->fl->urg_state != URG_NONE && seq_lt(c->fl->urg_seq, tcp_read_seq(c)))
				c->fl->urg_state = URG_NONE; /* read past the mark */
			maybe_window_update(s, c, n);
			tcp_wake(s, c);
		}
		return (ssize_t)n;
	}
	return recv_nothing(s, c, len);
}

/* Queues our FIN (RFC 9293 §3.10.4 CLOSE): ESTABLISHED → FIN-WAIT-1, CLOSE-WAIT → LAST-ACK;
 * in SYN-SENT/SYN-RECEIVED it waits for the connection to be established. */
static void queue_fin(struct synack_stack *s, struct synack_tcb *c)
{
	if (c->fin_queued)
		return;
	c->fin_queued = true;
	c->fin_seq = seq_add(c->fl->snd_buf_seq, c->fl->sndq.len);
	if (c->state == SYNACK_ESTABLISHED)
		tcp_set_state(s, c, SYNACK_FIN_WAIT_1);
	else if (c->state == SYNACK_CLOSE_WAIT)
		tcp_set_state(s, c, SYNACK_LAST_ACK);
	else
		return;
	tcp_output(s, c, false);
}

static int shutdown_call(struct synack_stack *s, int fd, int how)
{
	struct synack_tcb *c;
	int taken = fd_take(s, fd, &c);
	if (taken < 0)
		return taken;
	if (how != SYNACK_SHUT_RD && how != SYNACK_SHUT_WR && how != SYNACK_SHUT_RDWR)
		return -EINVAL;
	if (c->state == SYNACK_CLOSED || c->state == SYNACK_LISTEN)
		return -ENOTCONN;
	if (how != SYNACK_SHUT_WR)
		c->shut_rd = true;
	if (how != SYNACK_SHUT_RD)
		queue_fin(s, c);
	tcp_wake(s, c);
	return 0;
}

/* Abort with RST (RFC 9293 §3.10.5 ABORT: "send a reset segment <SEQ=SND.NXT><CTL=RST>"). */
static void abort_conn(struct synack_stack *s, struct synack_tcb *c, enum synack_counter why)
{
	stack_count(s, why);
	tcb_unlink_child(c);
	if (tcp_state_synchronized(c->state) || c->state == SYNACK_SYN_RECEIVED)
		tcp_send_reset(s, c);
	c->fd = -1;
	tcp_done(s, c, 0);
}

static int close_call(struct synack_stack *s, int fd)
{
	struct synack_tcb *c = fd_get(s, fd);
	if (!c)
		return -EBADF;
	s->fds[fd] = NULL;
	if ((uint32_t)fd < s->fd_low)
		s->fd_low = (uint32_t)fd;
	if (!tcb_unfold(s, c)) {
		/* No memory to close gracefully (tcb_flow.c): a reset, which needs only the block,
		 * as Linux's tcp_close when memory runs out (TCPAbortOnMemory). */
		c->fd = -1;
		if (tcp_state_synchronized(c->state) && c->state != SYNACK_TIME_WAIT)
			tcp_send_reset(s, c);
		stack_count(s, SYNACK_CTR_TCPAbortOnMemory);
		tcb_kill(s, c);
		return 0;
	}
	c->orphan = true;
	c->shut_rd = true;
	switch (c->state) {
	case SYNACK_LISTEN:
		/* Linux: connections nobody accepted are reset; half-open ones just go. */
		while (tcb_lq(c)->acceptq)
			abort_conn(s, tcb_lq(c)->acceptq, SYNACK_CTR_TCPAbortOnClose);
		/* fall through */
	case SYNACK_CLOSED:
	case SYNACK_SYN_SENT:
		c->fd = -1;
		tcp_done(s, c, 0);
		tcb_kill(s, c);
		break;
	case SYNACK_TIME_WAIT:
		c->fd = -1;
		tcb_free_buffers(s, c);
		tw_adopt(s, c); /* the rest of 2*MSL in a compact entry */
		break;
	default:
		/* Linux: unread data, or SO_LINGER with a zero timeout, abort with RST. */
		if (c->fl->rcvq.len > 0)
			abort_conn(s, c, SYNACK_CTR_TCPAbortOnClose);
		else if (c->linger_on && c->linger_s == 0)
			abort_conn(s, c, SYNACK_CTR_TCPAbortOnLinger);
		else {
			c->fd = -1;
			queue_fin(s, c);
			if (c->state == SYNACK_FIN_WAIT_2)
				tcp_enter_time_wait(s, c);
		}
		break;
	}
	return 0;
}

/* ---- the public calls: each ends by delivering readiness changes and freeing what died ---- */

int synack_listen(struct synack_stack *s, int fd, int backlog)
{
	int r = listen_call(s, fd, backlog);
	stack_reap(s);
	return r;
}

int synack_accept(struct synack_stack *s, int fd, struct synack_endpoint *peer)
{
	int r = accept_call(s, fd, peer);
	stack_reap(s);
	return r;
}

int synack_connect(struct synack_stack *s, int fd, const struct synack_endpoint *remote)
{
	int r = connect_call(s, fd, remote);
	stack_reap(s);
	return r;
}

ssize_t synack_send(struct synack_stack *s, int fd, const void *buf, size_t len, int flags)
{
	ssize_t r = send_call(s, fd, buf, len, flags);
	stack_reap(s);
	return r;
}

static ssize_t sendto_call(struct synack_stack *s, int fd, const void *buf, size_t len, int flags,
			   const struct synack_endpoint *remote)
{
	if (!(flags & SYNACK_MSG_FASTOPEN))
		return send_call(s, fd, buf, len, flags); /* a stream socket ignores the address */
	if (!fd_get(s, fd))
		return -EBADF;
	if (!(s->cfg.fastopen & SYNACK_TFO_CLIENT))
		return -EOPNOTSUPP; /* Linux: tcp_fastopen without the client bit */
	if (len && !buf)
		return -EINVAL;
	return open_call(s, fd, remote, buf ? buf : "", len);
}

ssize_t synack_sendto(struct synack_stack *s, int fd, const void *buf, size_t len, int flags,
		      const struct synack_endpoint *remote)
{
	ssize_t r = sendto_call(s, fd, buf, len, flags, remote);
	stack_reap(s);
	return r;
}

ssize_t synack_recv(struct synack_stack *s, int fd, void *buf, size_t len, int flags)
{
	ssize_t r = recv_call(s, fd, buf, len, flags);
	stack_reap(s);
	return r;
}

int synack_shutdown(struct synack_stack *s, int fd, int how)
{
	int r = shutdown_call(s, fd, how);
	stack_reap(s);
	return r;
}

int synack_close(struct synack_stack *s, int fd)
{
	int r = close_call(s, fd);
	stack_reap(s);
	return r;
}

int synack_events(const struct synack_stack *s, int fd)
{
	struct synack_tcb *c = fd_get(s, fd);
	if (!c)
		return -EBADF;
	return (int)tcp_events_lowat(c, s->cfg.notsent_lowat);
}

int synack_getsockname(const struct synack_stack *s, int fd, struct synack_endpoint *out)
{
	struct synack_tcb *c = fd_get(s, fd);
	if (!c)
		return -EBADF;
	if (!out)
		return -EINVAL;
	out->addr = c->bound || c->ever_connected
			    ? c->key.laddr
			    : synack_addr_any(synack_addr_family(&c->key.laddr));
	out->port = c->bound ? c->key.lport : 0;
	return 0;
}

int synack_getpeername(const struct synack_stack *s, int fd, struct synack_endpoint *out)
{
	struct synack_tcb *c = fd_get(s, fd);
	if (!c)
		return -EBADF;
	if (!out)
		return -EINVAL;
	if (c->state == SYNACK_CLOSED || c->state == SYNACK_LISTEN)
		return -ENOTCONN;
	out->addr = c->key.raddr;
	out->port = c->key.rport;
	return 0;
}

int synack_tcp_info(const struct synack_stack *s, int fd, struct synack_tcp_info *out)
{
	struct synack_tcb *c = fd_get(s, fd);
	if (!c)
		return -EBADF;
	if (!out)
		return -EINVAL;
	tcb_fill_info(s, c, out);
	return 0;
}

size_t synack_stack_abort_all(struct synack_stack *s)
{
	size_t n = 0;
	struct synack_tcb *next;
	for (struct synack_tcb *c = s->all; c; c = next) {
		next = c->all_next; /* tcp_done unlinks c only */
		if (c->dead || c->state == SYNACK_LISTEN || c->state == SYNACK_CLOSED ||
		    c->state == SYNACK_TIME_WAIT || !tcb_unfold(s, c))
			continue;
		if (c->state != SYNACK_SYN_SENT)
			tcp_send_reset(s, c);
		tcb_unlink_child(c);
		c->reset = true;
		tcp_done(s, c, -ECONNABORTED);
		n++;
	}
	stack_reap(s);
	return n;
}

void synack_stack_foreach(const struct synack_stack *s, synack_conn_visitor visit, void *ctx)
{
	struct synack_tcp_info info;
	for (const struct synack_tcb *c = s->all; c; c = c->all_next) {
		if (c->state == SYNACK_CLOSED)
			continue;
		tcb_fill_info(s, c, &info);
		visit(ctx, c->fd, &info);
	}
	req_foreach(s, visit, ctx);
	tw_foreach(s, visit, ctx);
}

int synack_sockatmark(const struct synack_stack *s, int fd)
{
	struct synack_tcb *c = fd_get(s, fd);
	if (!c)
		return -EBADF;
	return tcp_at_mark(c) ? 1 : 0;
}
