/* synack — the control socket and the ss/nstat views, see ctl.h. */
#include "host/ctl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "synack/socket.h"

/* A control client of the loop: never read or written blocking, so that a silent or slow
 * client costs the data path nothing (it only holds one of CTL_CLIENTS slots; when all are
 * taken, the oldest is dropped for a new one). */
#define CTL_CLIENTS 8
struct ctl_client {
	struct synack_ctl *ctl;
	int fd;        /* -1: a free slot */
	uint64_t seq;  /* accept order, to find the oldest */
	char req[64];
	size_t rlen;
	char *out;     /* the answer being written: out[ooff..olen) */
	size_t olen, ooff;
};

struct synack_ctl {
	struct synack_loop *loop;
	int fd;
	struct ctl_client cl[CTL_CLIENTS];
	uint64_t accepted;
	struct synack_ctl_rates rates; /* at the last "nstat" (or when opened) */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static int make_addr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof *sun);
	sun->sun_family = AF_UNIX;
	if (!path || strlen(path) >= sizeof sun->sun_path)
		return -ENAMETOOLONG;
	strcpy(sun->sun_path, path);
	return 0;
}

static void endpoint_str(const struct synack_endpoint *e, bool listener, char *buf, size_t cap)
{
	char ip[SYNACK_ADDR_STRLEN];
	synack_addr_str(&e->addr, ip, sizeof ip);
	/* As ss prints them: IPv6 in brackets ([fd00::1]:80), IPv4 (and IPv4-mapped) dotted. */
	bool v6 = !synack_addr_is_v4(&e->addr);
	char port[8] = "*";
	if (!listener || e->port != 0)
		snprintf(port, sizeof port, "%u", e->port);
	snprintf(buf, cap, "%s%s%s:%s", v6 ? "[" : "", ip, v6 ? "]" : "", port);
}

struct ss_ctx {
	FILE *out;
	bool internals, memory;
};

/* One row as ss prints it; for a listener, Recv-Q is the accept queue and Send-Q the backlog,
 * as the engine reports them in recv_q/send_q. */
static void ss_row(void *ctx, int fd, const struct synack_tcp_info *i)
{
	(void)fd;
	struct ss_ctx *c = ctx;
	bool listen = i->state == SYNACK_LISTEN;
	char l[SYNACK_ADDR_STRLEN + 8], r[SYNACK_ADDR_STRLEN + 8];
	endpoint_str(&i->local, false, l, sizeof l);
	endpoint_str(&i->remote, listen, r, sizeof r);
	if (i->any_local) { /* a wildcard, as ss shows it: 0.0.0.0:80, [::]:80 (V6ONLY), *:80 */
		const char *any = i->any_family == SYNACK_AF_INET	? "0.0.0.0"
				  : i->any_family == SYNACK_AF_INET6 ? "[::]"
								     : "*";
		snprintf(l, sizeof l, "%s:%u", any, i->local.port);
		snprintf(r, sizeof r, "%s:*", any);
	}
	fprintf(c->out, "%-10s %-6u %-6u %-21s %-21s\n", synack_state_ss_name(i->state), i->recv_q,
		i->send_q, l, r);
	if (c->memory && !listen)
		/* ss -m's skmem: r = receive memory held, rb = receive buffer size, tb = send
		 * buffer size, w = send memory held (synack has no t/f/o/bl/d to report). */
		fprintf(c->out, "\t skmem:(r%u,rb%u,t0,tb%u,f0,w%u,o0,bl0,d0)\n", i->rmem_alloc,
			i->rcvbuf, i->sndbuf, i->wmem_queued);
	if (!c->internals || listen)
		return;
	uint32_t mss = i->snd_mss ? i->snd_mss : 1;
	/* Bytes as Linux's ss counts them: acknowledged (past the SYN) and received in order. */
	uint32_t acked = i->snd_una - i->iss, rcvd = i->rcv_nxt - i->irs;
	acked = acked > 0 && acked < 0x80000000u ? acked - 1 : 0;
	rcvd = rcvd > 0 && rcvd < 0x80000000u ? rcvd - 1 : 0;
	fprintf(c->out, "\t %s%swscale:%u,%u rto:%u rtt:%.3f/%.3f mss:%u rcvmss:%u cwnd:%u "
			"snd_wnd:%u rcv_wnd:%u unacked:%u retrans:%u/%u bytes_acked:%u "
			"bytes_received:%u\n",
		i->ts_ok ? "ts " : "", i->sack_ok ? "sack " : "", i->snd_wscale, i->rcv_wscale,
		i->rto_us / 1000, i->rtt_us / 1000.0, i->rttvar_us / 1000.0, i->snd_mss, i->rcv_mss,
		i->snd_cwnd / mss, i->snd_wnd, i->rcv_wnd, i->unacked, i->retransmits,
		i->total_retrans, acked, rcvd);
}

void synack_format_ss(const struct synack_stack *s, bool internals, FILE *out)
{
	synack_format_ss_stacks(&s, 1, internals, out);
}

static void format_ss(const struct synack_stack *const *s, size_t n, bool internals, bool memory,
		      FILE *out)
{
	struct ss_ctx c = {.out = out, .internals = internals, .memory = memory};
	fprintf(out, "%-10s %-6s %-6s %-21s %-21s\n", "State", "Recv-Q", "Send-Q",
		"Local Address:Port", "Peer Address:Port");
	for (size_t i = 0; i < n; i++)
		synack_stack_foreach(s[i], ss_row, &c);
}

void synack_format_ss_stacks(const struct synack_stack *const *s, size_t n, bool internals,
			     FILE *out)
{
	format_ss(s, n, internals, false, out);
}

static double rate(uint64_t v, uint64_t was, double secs)
{
	return secs > 0 && v >= was ? (double)(v - was) / secs : 0.0;
}

void synack_format_nstat(const struct synack_counters *c, const struct synack_counters *prev,
			 double secs, FILE *out)
{
	static const struct synack_counters zero;
	const struct synack_counters *p = prev ? prev : &zero;
	if (!prev)
		secs = 0;
	fprintf(out, "#synack\n");
	for (int i = 0; i < SYNACK_CTR_COUNT; i++)
		if (c->v[i])
			fprintf(out, "%-32s%-16llu%6.1f\n", synack_counter_name((enum synack_counter)i),
				(unsigned long long)c->v[i], rate(c->v[i], p->v[i], secs));
	for (int i = 1; i < SYNACK_DROP_COUNT; i++)
		if (c->drops[i]) {
			char name[64];
			snprintf(name, sizeof name, "SynackDrop_%s",
				 synack_drop_reason_name((enum synack_drop_reason)i));
			fprintf(out, "%-32s%-16llu%6.1f\n", name, (unsigned long long)c->drops[i],
				rate(c->drops[i], p->drops[i], secs));
		}
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			return; /* the client went away or is too slow (SO_SNDTIMEO) */
		p += w;
		n -= (size_t)w;
	}
}

static void sum_counters(const struct synack_stack *const *s, size_t n, struct synack_counters *c)
{
	memset(c, 0, sizeof *c);
	for (size_t k = 0; k < n; k++) {
		struct synack_counters one;
		synack_stack_counters(s[k], &one);
		for (int i = 0; i < SYNACK_CTR_COUNT; i++)
			c->v[i] += one.v[i];
		for (int i = 0; i < SYNACK_DROP_COUNT; i++)
			c->drops[i] += one.drops[i];
	}
}

void synack_ctl_answer(const struct synack_stack *s, struct synack_ctl_rates *rates,
		       uint64_t now_us, const char *request, FILE *out)
{
	synack_ctl_answer_stacks(&s, 1, rates, now_us, request, out);
}
void synack_ctl_answer_stacks(const struct synack_stack *const *s, size_t n,
			      struct synack_ctl_rates *rates, uint64_t now_us, const char *request,
			      FILE *out)
{
	if (!strcmp(request, "ss -m")) {
		format_ss(s, n, false, true, out);
	} else if (!strcmp(request, "ss") || !strcmp(request, "ss -i")) {
		synack_format_ss_stacks(s, n, request[2] != '\0', out);
	} else if (!strcmp(request, "nstat")) {
		struct synack_counters ctr;
		sum_counters(s, n, &ctr);
		if (!rates) {
			synack_format_nstat(&ctr, NULL, 0, out);
			return;
		}
		synack_format_nstat(&ctr, &rates->prev, (double)(now_us - rates->prev_us) / 1e6, out);
		rates->prev = ctr;
		rates->prev_us = now_us;
	} else {
		fprintf(out, "error: unknown request '%s' (ss, ss -i, ss -m, nstat)\n", request);
	}
}

int synack_ctl_serve_client(int cfd, void (*answer)(void *ctx, const char *req, FILE *out),
			    void *ctx)
{
	struct timeval tv = {.tv_sec = 1};
	setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	char req[64];
	ssize_t n = read(cfd, req, sizeof req - 1);
	if (n <= 0)
		return -EIO;
	req[n] = '\0';
	req[strcspn(req, "\r\n")] = '\0';
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	if (!m)
		return -ENOMEM;
	answer(ctx, req, m);
	fclose(m);
	write_all(cfd, buf, len);
	free(buf);
	return 0;
}

/* Answers one client. The client sends its request right after connecting, so a short
 * receive timeout suffices; the answer is built in memory, then written. */
static void on_client(void *ctx, int fd, uint32_t events);

static void loop_answer(void *ctx, const char *req, FILE *out)
{
	struct synack_ctl *c = ctx;
	synack_ctl_answer(synack_loop_stack(c->loop), &c->rates, synack_monotonic_us(), req, out);
}

static void client_end(struct ctl_client *k)
{
	synack_loop_del_fd(k->ctl->loop, k->fd);
	close(k->fd);
	free(k->out);
	k->out = NULL;
	k->fd = -1;
}

/* Writes what the socket takes now; true when the whole answer is out. */
static bool client_write(struct ctl_client *k)
{
	while (k->ooff < k->olen) {
		ssize_t w = send(k->fd, k->out + k->ooff, k->olen - k->ooff, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return false;
		if (w <= 0)
			return true; /* gone: nothing more to do */
		k->ooff += (size_t)w;
	}
	return true;
}

/* The request line is complete: the answer is built in memory and written as the socket
 * takes it (waiting for EPOLLOUT when it does not take it all). */
static void client_answer(struct ctl_client *k)
{
	k->req[k->rlen] = '\0';
	k->req[strcspn(k->req, "\r\n")] = '\0';
	FILE *m = open_memstream(&k->out, &k->olen);
	if (!m) {
		client_end(k);
		return;
	}
	loop_answer(k->ctl, k->req, m);
	fclose(m);
	if (client_write(k)) {
		client_end(k);
		return;
	}
	synack_loop_del_fd(k->ctl->loop, k->fd);
	if (synack_loop_add_fd(k->ctl->loop, k->fd, EPOLLOUT, on_client, k) < 0)
		client_end(k);
}

static void on_client(void *ctx, int fd, uint32_t events)
{
	(void)fd;
	(void)events;
	struct ctl_client *k = ctx;
	if (k->out) {
		if (client_write(k))
			client_end(k);
		return;
	}
	ssize_t n = recv(k->fd, k->req + k->rlen, sizeof k->req - 1 - k->rlen, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n <= 0) {
		client_end(k);
		return;
	}
	k->rlen += (size_t)n;
	if (memchr(k->req, '\n', k->rlen) || k->rlen == sizeof k->req - 1)
		client_answer(k);
}

/* A free slot, or the oldest client's (dropped). */
static struct ctl_client *client_slot(struct synack_ctl *c)
{
	struct ctl_client *old = &c->cl[0];
	for (int i = 0; i < CTL_CLIENTS; i++) {
		if (c->cl[i].fd < 0)
			return &c->cl[i];
		if (c->cl[i].seq < old->seq)
			old = &c->cl[i];
	}
	client_end(old);
	return old;
}

static void on_ctl(void *ctx, int fd, uint32_t events)
{
	(void)events;
	struct synack_ctl *c = ctx;
	for (int i = 0; i < 16; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (cfd < 0)
			return;
		struct ctl_client *k = client_slot(c);
		*k = (struct ctl_client){.ctl = c, .fd = cfd, .seq = ++c->accepted};
		if (synack_loop_add_fd(c->loop, cfd, EPOLLIN, on_client, k) < 0) {
			close(cfd);
			k->fd = -1;
		}
	}
}

/* A socket file left by a synack that died is replaced; one that answers is not. */
static int clear_stale(const struct sockaddr_un *sun)
{
	struct stat st;
	if (lstat(sun->sun_path, &st) < 0)
		return 0;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int live = connect(fd, (const struct sockaddr *)sun, sizeof *sun) == 0;
	close(fd);
	if (live)
		return -EADDRINUSE;
	unlink(sun->sun_path);
	return 0;
}

int synack_ctl_listen(const char *path)
{
	struct sockaddr_un sun;
	int err = make_addr(path, &sun);
	if (err || (err = clear_stale(&sun)))
		return err;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* The socket file is created with mode 0600: only the owner may connect. */
	mode_t old = umask(0177);
	int rc = bind(fd, (struct sockaddr *)&sun, sizeof sun);
	umask(old);
	if (rc < 0 || listen(fd, 16) < 0 || chmod(path, 0600) < 0) {
		err = -errno;
		close(fd);
		if (rc == 0)
			unlink(path);
		return err;
	}
	return fd;
}

int synack_ctl_open(struct synack_ctl **out, const char *path, struct synack_loop *loop)
{
	*out = NULL;
	if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return -ENAMETOOLONG;
	struct synack_ctl *c = calloc(1, sizeof *c);
	if (!c)
		return -ENOMEM;
	c->loop = loop;
	for (int i = 0; i < CTL_CLIENTS; i++)
		c->cl[i].fd = -1;
	strcpy(c->path, path);
	synack_stack_counters(synack_loop_stack(loop), &c->rates.prev);
	c->rates.prev_us = synack_monotonic_us();
	c->fd = synack_ctl_listen(path);
	int err = c->fd < 0 ? c->fd : synack_loop_add_fd(loop, c->fd, EPOLLIN, on_ctl, c);
	if (err) {
		if (c->fd >= 0) {
			close(c->fd);
			unlink(path);
		}
		free(c);
		return err;
	}
	*out = c;
	return 0;
}

void synack_ctl_close(struct synack_ctl *c)
{
	if (!c)
		return;
	for (int i = 0; i < CTL_CLIENTS; i++)
		if (c->cl[i].fd >= 0)
			client_end(&c->cl[i]);
	synack_loop_del_fd(c->loop, c->fd);
	close(c->fd);
	unlink(c->path);
	free(c);
}

int synack_ctl_query(const char *path, const char *request, FILE *out)
{
	struct sockaddr_un sun;
	int err = make_addr(path, &sun);
	if (err)
		return err;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct timeval tv = {.tv_sec = 5};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	char line[80];
	int n = snprintf(line, sizeof line, "%s\n", request);
	if (write(fd, line, (size_t)n) != n) {
		close(fd);
		return -EIO;
	}
	char buf[4096];
	ssize_t r;
	while ((r = read(fd, buf, sizeof buf)) > 0)
		fwrite(buf, 1, (size_t)r, out);
	err = r < 0 ? -EIO : 0;
	close(fd);
	return err;
}
