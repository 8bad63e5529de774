/* Fuzz target: two synack stacks talking to each other over the fault link.
 *
 * Host A (10.0.0.1) and host B (10.0.0.2) live on one synack_sim; each one's outgoing frames go
 * through its own fault decorator. The input is a program that chooses, step by step:
 *  - each host's configuration (timestamps, SACK, window scaling, MSS, buffers, out-of-order
 *    queue, congestion control, ECN) and the path delay;
 *  - the socket calls of the applications on both sides: socket+bind+listen, socket+connect,
 *    accept, send, recv (and MSG_PEEK), shutdown, close, an abortive close (SO_LINGER 0),
 *    setsockopt (NODELAY, CORK, SNDBUF, RCVBUF, MAXSEG, KEEPALIVE and its timers, QUICKACK,
 *    USER_TIMEOUT, NOTSENT_LOWAT, TCP_CONGESTION);
 *  - each link's loss, duplication, reordering (and how long a frame is held) and corruption
 *    (which always breaks the checksum: RFC 9293 §3.1 says the receiver must catch it);
 *  - how far the virtual clock moves between calls.
 * Every byte an application sends is a function of the connection's ISS and the byte's offset
 * in the stream, so the reader knows what each byte must be. The harness checks:
 *  - byte-exact, in-order delivery: every byte read (or peeked) is the one sent at that offset;
 *  - nothing acknowledged is lost: whenever a sender's SND.UNA covers data, the receiving
 *    application has read it or it waits in its receive queue (unless the receiver shut its
 *    read side, where the data is legitimately discarded), and no receiver holds more than
 *    was sent;
 *  - no crash, no sanitizer report, and no leak: after both sides close everything and the
 *    clock runs two simulated hours, no connection is left, and after destroy every byte each
 *    stack allocated was given back;
 *  - no hang: the simulation is bounded in virtual time and in steps, and the stacks must go
 *    quiet within that bound once everything is closed.
 */
#include <errno.h>

#include "fuzz.h"

#include "synack/synack.h"

#define PAIR_A 0x0a000001u
#define PAIR_B 0x0a000002u
#define PAIR_FDS 8
#define PAIR_CONNS 48
#define PAIR_OPS 200
#define PAIR_STEP_BUDGET 400000u

struct alloc_count {
	size_t bytes, blocks;
};

struct conn_rec { /* one connection incarnation on one side, found by (side, ISS) */
	bool used;
	int side;
	uint32_t iss, irs;
	uint64_t written, read;
	bool shut_rd, closed;
};

struct side {
	struct synack_stack *s;
	struct alloc_count alloc;
	int fds[PAIR_FDS];
	int nfds;
};

struct pair {
	struct synack_sim *sim;
	struct side side[2];
	struct conn_rec conns[PAIR_CONNS];
	uint64_t steps;
	uint8_t buf[65536];
};

static void *p_alloc(void *ctx, size_t size)
{
	struct alloc_count *a = ctx;
	size_t *p = malloc(size + sizeof(size_t) * 2);
	if (!p)
		return NULL;
	p[0] = size;
	a->bytes += size;
	a->blocks++;
	return p + 2;
}

static void p_free(void *ctx, void *ptr, size_t size)
{
	struct alloc_count *a = ctx;
	if (!ptr)
		return;
	size_t *p = (size_t *)ptr - 2;
	FUZZ_ASSERT(p[0] == size, "freed %zu bytes of a block of %zu", size, p[0]);
	FUZZ_ASSERT(a->blocks > 0 && a->bytes >= size, "free of a block not allocated");
	a->bytes -= size;
	a->blocks--;
	free(p);
}

/* The byte at offset off of the stream whose first byte has sequence number iss + 1. */
static uint8_t pattern(uint32_t iss, uint64_t off)
{
	uint64_t x = (off >> 3) * 0x9e3779b97f4a7c15ull ^ (uint64_t)iss * 0xbf58476d1ce4e5b9ull;
	x ^= x >> 31;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 29;
	return (uint8_t)(x >> ((off & 7) * 8));
}

static struct conn_rec *rec_find(struct pair *p, int side, uint32_t iss, bool create)
{
	struct conn_rec *free_slot = NULL;
	for (int i = 0; i < PAIR_CONNS; i++) {
		struct conn_rec *r = &p->conns[i];
		if (r->used && r->side == side && r->iss == iss)
			return r;
		if (!r->used && !free_slot)
			free_slot = r;
	}
	if (!create || !free_slot)
		return NULL;
	memset(free_slot, 0, sizeof(*free_slot));
	free_slot->used = true;
	free_slot->side = side;
	free_slot->iss = iss;
	return free_slot;
}

/* The record of the connection on fd, if it has one (a connected or connecting socket). */
static struct conn_rec *rec_of_fd(struct pair *p, int side, int fd, bool create)
{
	struct synack_tcp_info ti;
	if (synack_tcp_info(p->side[side].s, fd, &ti) != 0 || ti.state == SYNACK_CLOSED ||
	    ti.state == SYNACK_LISTEN)
		return NULL;
	struct conn_rec *r = rec_find(p, side, ti.iss, create);
	if (r && ti.state != SYNACK_SYN_SENT)
		r->irs = ti.irs;
	return r;
}

static void fd_add(struct side *sd, int fd)
{
	if (fd < 0)
		return;
	if (sd->nfds < PAIR_FDS) {
		sd->fds[sd->nfds++] = fd;
		return;
	}
	synack_close(sd->s, fd); /* the table is full: this one goes at once */
}

static int fd_pick(struct side *sd, uint8_t sel)
{
	return sd->nfds ? sd->fds[sel % sd->nfds] : -1;
}

static void fd_drop(struct side *sd, int fd)
{
	for (int i = 0; i < sd->nfds; i++)
		if (sd->fds[i] == fd) {
			sd->fds[i] = sd->fds[--sd->nfds];
			return;
		}
}

/* ---- the checks ----------------------------------------------------------------------------- */

struct peer_find {
	uint32_t iss, irs; /* of the connection we look for, as its own side sees them */
	bool found;
	struct synack_tcp_info info;
};

static void find_visit(void *ctx, int fd, const struct synack_tcp_info *info)
{
	struct peer_find *f = ctx;
	if (info->state == SYNACK_LISTEN || info->state == SYNACK_SYN_SENT ||
	    info->state == SYNACK_CLOSED)
		return;
	if (info->iss == f->iss && info->irs == f->irs) {
		f->found = true;
		f->info = *info;
	}
}

static void count_visit(void *ctx, int fd, const struct synack_tcp_info *info)
{
	(void)fd;
	(void)info;
	(*(int *)ctx)++;
}

/* Acknowledged data is delivered data: for every connection whose receiving application still
 * holds its socket, what the sender's SND.UNA covers has been read or waits to be read. */
static void check_delivery(struct pair *p)
{
	for (int side = 0; side < 2; side++) {
		struct side *sd = &p->side[side];
		for (int i = 0; i < sd->nfds; i++) {
			struct synack_tcp_info ti;
			if (synack_tcp_info(sd->s, sd->fds[i], &ti) != 0 || ti.state == SYNACK_LISTEN ||
			    ti.state == SYNACK_CLOSED || ti.state == SYNACK_SYN_SENT ||
			    ti.state == SYNACK_SYN_RECEIVED)
				continue;
			struct conn_rec *r = rec_find(p, side, ti.iss, false);
			if (!r || r->shut_rd)
				continue;
			/* The sender: the peer's connection with ISS = our IRS. */
			struct peer_find f = {.iss = ti.irs, .irs = ti.iss};
			synack_stack_foreach(p->side[!side].s, find_visit, &f);
			struct conn_rec *snd = rec_find(p, !side, ti.irs, false);
			if (!f.found || !snd || f.info.state == SYNACK_SYN_RECEIVED)
				continue;
			uint64_t have = r->read + ti.recv_q;
			FUZZ_ASSERT(have <= snd->written,
				    "side %d holds %llu bytes of a stream of %llu", side,
				    (unsigned long long)have, (unsigned long long)snd->written);
			uint64_t acked = (uint32_t)(f.info.snd_una - f.info.iss - 1);
			if (acked > snd->written)
				acked = snd->written; /* the FIN's sequence number */
			FUZZ_ASSERT(acked <= have,
				    "side %d acknowledged %llu bytes, the peer's application has %llu "
				    "(read %llu, queued %u)",
				    !side, (unsigned long long)acked, (unsigned long long)have,
				    (unsigned long long)r->read, ti.recv_q);
		}
	}
}

/* Reads what fd has (up to max bytes) and checks every byte. */
static void do_read(struct pair *p, int side, int fd, size_t max, bool peek)
{
	struct side *sd = &p->side[side];
	struct conn_rec *r = rec_of_fd(p, side, fd, true);
	if (max > sizeof(p->buf))
		max = sizeof(p->buf);
	ssize_t n = synack_recv(sd->s, fd, p->buf, max, peek ? SYNACK_MSG_PEEK : 0);
	FUZZ_ASSERT(n < 0 || (size_t)n <= max, "recv %zd of %zu", n, max);
	if (n <= 0 || !r)
		return;
	for (ssize_t i = 0; i < n; i++)
		FUZZ_ASSERT(p->buf[i] == pattern(r->irs, r->read + (uint64_t)i),
			    "side %d: byte %llu of the stream is %#x, %#x was sent", side,
			    (unsigned long long)(r->read + (uint64_t)i), p->buf[i],
			    pattern(r->irs, r->read + (uint64_t)i));
	if (!peek)
		r->read += (uint64_t)n;
}

static void do_write(struct pair *p, int side, int fd, size_t n)
{
	struct conn_rec *r = rec_of_fd(p, side, fd, true);
	if (!r)
		return (void)synack_send(p->side[side].s, fd, "x", 1, 0); /* an error path */
	if (n > sizeof(p->buf))
		n = sizeof(p->buf);
	for (size_t i = 0; i < n; i++)
		p->buf[i] = pattern(r->iss, r->written + i);
	ssize_t w = synack_send(p->side[side].s, fd, p->buf, n, 0);
	FUZZ_ASSERT(w < 0 || (size_t)w <= n, "send %zd of %zu", w, n);
	if (w > 0)
		r->written += (uint64_t)w;
}

/* Runs the world for up to dt_us of virtual time (and the step budget). */
static void advance(struct pair *p, uint64_t dt_us, bool read_all)
{
	uint64_t until = synack_sim_now(p->sim) + dt_us;
	while (p->steps < PAIR_STEP_BUDGET && synack_sim_step(p->sim, until)) {
		p->steps++;
		if (read_all)
			for (int side = 0; side < 2; side++)
				for (int i = 0; i < p->side[side].nfds; i++)
					do_read(p, side, p->side[side].fds[i], 65536, false);
		if ((p->steps & 63) == 0)
			check_delivery(p);
	}
}

/* ---- the program ---------------------------------------------------------------------------- */

static void set_faults(struct pair *p, int side, struct fuzz_input *in)
{
	struct synack_fault_params fp = {
		.loss = fuzz_u8(in) / 512.0,  /* up to 50% */
		.dup = fuzz_u8(in) / 1024.0,  /* up to 25% */
		.reorder = fuzz_u8(in) / 512.0,
		.corrupt = fuzz_u8(in) / 1024.0,
		.reorder_delay_us = 100u * (1u + fuzz_u8(in)),
	};
	synack_fault_set_params(synack_sim_host_fault(p->sim, p->side[side].s), &fp);
}

static void do_sockopt(struct pair *p, int side, int fd, struct fuzz_input *in)
{
	static const int opts[][2] = {
		{SYNACK_IPPROTO_TCP, SYNACK_TCP_NODELAY},  {SYNACK_IPPROTO_TCP, SYNACK_TCP_CORK},
		{SYNACK_SOL_SOCKET, SYNACK_SO_SNDBUF},     {SYNACK_SOL_SOCKET, SYNACK_SO_RCVBUF},
		{SYNACK_IPPROTO_TCP, SYNACK_TCP_MAXSEG},   {SYNACK_SOL_SOCKET, SYNACK_SO_KEEPALIVE},
		{SYNACK_IPPROTO_TCP, SYNACK_TCP_KEEPIDLE}, {SYNACK_IPPROTO_TCP, SYNACK_TCP_KEEPINTVL},
		{SYNACK_IPPROTO_TCP, SYNACK_TCP_KEEPCNT},  {SYNACK_IPPROTO_TCP, SYNACK_TCP_QUICKACK},
		{SYNACK_IPPROTO_TCP, SYNACK_TCP_USER_TIMEOUT},
		{SYNACK_IPPROTO_TCP, SYNACK_TCP_NOTSENT_LOWAT},
	};
	uint8_t sel = fuzz_u8(in);
	int v = fuzz_u16(in);
	struct synack_stack *s = p->side[side].s;
	if (sel >= 240) {
		static const char *cc[] = {"reno", "cubic"};
		const char *name = cc[sel & 1];
		FUZZ_ASSERT(synack_setsockopt(s, fd, SYNACK_IPPROTO_TCP, SYNACK_TCP_CONGESTION, name,
					      strlen(name)) <= 0, "TCP_CONGESTION");
		return;
	}
	const int *o = opts[sel % (sizeof(opts) / sizeof(opts[0]))];
	if (o[1] == SYNACK_SO_SNDBUF || o[1] == SYNACK_SO_RCVBUF)
		v *= 4; /* up to 256 KiB */
	int rc = synack_setsockopt(s, fd, o[0], o[1], &v, sizeof(v));
	FUZZ_ASSERT(rc <= 0 && rc > -4096, "setsockopt %d", rc);
}

static const uint16_t pair_ports[] = {80, 81};

static void step(struct pair *p, struct fuzz_input *in)
{
	uint8_t op = fuzz_u8(in);
	int side = op & 1;
	struct side *sd = &p->side[side];
	struct synack_stack *s = sd->s;
	uint8_t arg = fuzz_u8(in);
	int fd = fd_pick(sd, arg);
	switch ((op >> 1) % 12) {
	case 0: { /* listen */
		int l = synack_socket(s);
		if (l < 0)
			break;
		int one = 1;
		synack_setsockopt(s, l, SYNACK_SOL_SOCKET, SYNACK_SO_REUSEADDR, &one, sizeof(one));
		struct synack_endpoint ep = {.addr = synack_addr_v4(0), .port = pair_ports[arg & 1]};
		if (synack_bind(s, l, &ep) < 0 || synack_listen(s, l, 1 + (arg >> 1) % 4) < 0) {
			synack_close(s, l);
			break;
		}
		fd_add(sd, l);
		break;
	}
	case 1: { /* connect */
		int c = synack_socket(s);
		if (c < 0)
			break;
		struct synack_endpoint to = {.addr = synack_addr_v4(side ? PAIR_A : PAIR_B),
					     .port = pair_ports[arg & 1]};
		int rc = synack_connect(s, c, &to);
		FUZZ_ASSERT(rc == -EINPROGRESS || rc < 0, "connect %d", rc);
		if (rc != -EINPROGRESS) {
			synack_close(s, c);
			break;
		}
		fd_add(sd, c);
		rec_of_fd(p, side, c, true);
		break;
	}
	case 2: /* accept */
		if (fd >= 0) {
			int a = synack_accept(s, fd, NULL);
			FUZZ_ASSERT(a > -4096, "accept %d", a);
			if (a >= 0) {
				fd_add(sd, a);
				rec_of_fd(p, side, a, true);
			}
		}
		break;
	case 3:
	case 4: /* send: twice as likely */
		if (fd >= 0)
			do_write(p, side, fd, (size_t)fuzz_u16(in) % 20000);
		break;
	case 5: /* recv */
		if (fd >= 0)
			do_read(p, side, fd, (size_t)fuzz_u16(in), arg & 0x80);
		break;
	case 6: /* shutdown */
		if (fd >= 0) {
			int how = (arg >> 3) % 3; /* SHUT_RD, SHUT_WR, SHUT_RDWR */
			struct conn_rec *r = rec_of_fd(p, side, fd, false);
			if (synack_shutdown(s, fd, how) == 0 && r && how != SYNACK_SHUT_WR)
				r->shut_rd = true;
		}
		break;
	case 7: /* close, sometimes abortive */
		if (fd >= 0) {
			struct conn_rec *r = rec_of_fd(p, side, fd, false);
			if (r)
				r->closed = r->shut_rd = true;
			if (arg & 0x40) {
				struct synack_linger lg = {1, 0};
				synack_setsockopt(s, fd, SYNACK_SOL_SOCKET, SYNACK_SO_LINGER, &lg,
						  sizeof(lg));
			}
			FUZZ_ASSERT(synack_close(s, fd) == 0, "close of an open fd failed");
			fd_drop(sd, fd);
		}
		break;
	case 8:
		if (fd >= 0)
			do_sockopt(p, side, fd, in);
		break;
	case 9:
		set_faults(p, side, in);
		break;
	default: { /* the clock: microseconds to a minute */
		uint16_t v = fuzz_u16(in);
		uint64_t dt = (arg & 1) ? (uint64_t)v * 1000 : (uint64_t)v;
		advance(p, dt, arg & 2);
		break;
	}
	}
	check_delivery(p);
}

static void configure(struct synack_config *c, struct fuzz_input *in, uint32_t addr,
		      struct alloc_count *a, const char *name)
{
	synack_config_default(c);
	c->name = name;
	synack_config_add_addr(c, synack_addr_v4(addr), 24);
	c->allocator = (struct synack_allocator){p_alloc, p_free, a};
	uint8_t b = fuzz_u8(in), m = fuzz_u8(in);
	c->timestamps = b & 1;
	c->sack = b & 2;
	c->window_scaling = b & 4;
	c->ecn = (b & 8) ? 1 : 2;
	if (b & 16)
		snprintf(c->congestion, sizeof(c->congestion), "reno");
	static const uint16_t mss[] = {1460, 536, 100, 1220};
	c->mss = mss[(b >> 5) & 3];
	static const uint32_t bufs[] = {16384, 2048, 8192, 65536};
	c->sndbuf = bufs[m & 3];
	c->rcvbuf = bufs[(m >> 2) & 3];
	c->ooo_max_segs = (m & 16) ? 4 : 64;
	c->max_sockets = 32;
}

int synack_fuzz_pair(const uint8_t *data, size_t len);
int synack_fuzz_pair(const uint8_t *data, size_t len)
{
	static struct pair p;
	memset(&p, 0, sizeof(p));
	struct fuzz_input in = {data, len};
	if (synack_sim_new(&p.sim, fuzz_u8(&in)) < 0)
		return 0;
	uint8_t d = fuzz_u8(&in);
	struct synack_sim_host_opts o = {
		.path = {.delay_us = 100u + 500u * d, .jitter_us = (d & 1) ? 200 : 0},
	};
	struct synack_fault_params none = {0};
	o.fault = &none; /* every host gets a fault decorator; the program sets its rates */
	static const char *names[2] = {"A", "B"};
	const uint32_t addrs[2] = {PAIR_A, PAIR_B};
	for (int side = 0; side < 2; side++) {
		struct synack_config c;
		configure(&c, &in, addrs[side], &p.side[side].alloc, names[side]);
		if (synack_sim_add_host(p.sim, &c, &o, &p.side[side].s) < 0) {
			synack_sim_destroy(p.sim);
			return 0;
		}
	}
	for (int i = 0; i < PAIR_OPS && !fuzz_empty(&in); i++)
		step(&p, &in);
	/* Read what is left for two simulated minutes, then close everything; within two
	 * simulated hours every connection must be gone. */
	advance(&p, 120000000ull, true);
	check_delivery(&p);
	if (getenv("FUZZ_PAIR_DEBUG")) /* what the program did, to write seeds by */
		for (int i = 0; i < PAIR_CONNS; i++)
			if (p.conns[i].used)
				fprintf(stderr, "fuzz_pair: side %d iss %u: wrote %llu, read %llu\n",
					p.conns[i].side, p.conns[i].iss,
					(unsigned long long)p.conns[i].written,
					(unsigned long long)p.conns[i].read);
	for (int side = 0; side < 2; side++) {
		struct side *sd = &p.side[side];
		while (sd->nfds > 0) {
			FUZZ_ASSERT(synack_close(sd->s, sd->fds[0]) == 0, "close");
			fd_drop(sd, sd->fds[0]);
		}
	}
	p.steps = 0;
	advance(&p, 7200ull * 1000000, false);
	FUZZ_ASSERT(p.steps < PAIR_STEP_BUDGET, "the stacks did not go quiet within %u steps",
		    PAIR_STEP_BUDGET);
	for (int side = 0; side < 2; side++) {
		int n = 0;
		synack_stack_foreach(p.side[side].s, count_visit, &n);
		FUZZ_ASSERT(n == 0, "side %d: %d connections left two hours after closing all", side,
			    n);
	}
	synack_sim_destroy(p.sim);
	for (int side = 0; side < 2; side++)
		FUZZ_ASSERT(p.side[side].alloc.blocks == 0 && p.side[side].alloc.bytes == 0,
			    "side %d: %zu blocks, %zu bytes still allocated after destroy", side,
			    p.side[side].alloc.blocks, p.side[side].alloc.bytes);
	return 0;
}

#ifndef SYNACK_FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	return synack_fuzz_pair(data, len);
}
#endif
