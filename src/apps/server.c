/* synack — the built-in servers, see server.h. Echo (RFC 862): "any data received is sent
 * back". Discard (RFC 863): "any data received is thrown away". Chargen (RFC 864): "a stream
 * of data is sent out the connection (and any data received is thrown away)". HTTP: httpd.c. */
#include "apps/server.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apps/conn.h"
#include "synack/socket.h"

struct synack_server {
	struct synack_stack *s;
	struct synack_app_opts o;
	int lfd;
	struct app_conn **conns; /* by descriptor */
	uint32_t cap, nconns;
	uint64_t accepted, timeouts;
};

static const char *const app_names[] = {"echo", "discard", "chargen", "http"};
static const uint16_t app_ports[] = {7, 9, 19, 80};

int synack_app_parse(const char *name, enum synack_app_kind *out)
{
	for (int i = 0; i < 4; i++)
		if (name && !strcmp(name, app_names[i])) {
			*out = (enum synack_app_kind)i;
			return 0;
		}
	return -EINVAL;
}

const char *synack_app_name(enum synack_app_kind k) { return app_names[k]; }
uint16_t synack_app_default_port(enum synack_app_kind k) { return app_ports[k]; }

int app_flush(struct app_conn *c)
{
	while (c->off < c->len) {
		ssize_t n = synack_send(c->s, c->fd, c->out + c->off, c->len - c->off, 0);
		if (n == -EAGAIN)
			return 0;
		if (n < 0)
			return (int)n;
		c->off += (size_t)n;
	}
	c->off = c->len = 0;
	return 1;
}

static void run_echo(struct app_conn *c)
{
	for (;;) {
		int f = app_flush(c);
		if (f <= 0) {
			c->done = f < 0;
			return;
		}
		if (c->eof) {
			c->done = true;
			return;
		}
		ssize_t n = synack_recv(c->s, c->fd, c->out, APP_BUF, 0);
		if (n == -EAGAIN)
			return;
		if (n < 0) {
			c->done = true;
			return;
		}
		c->eof = n == 0;
		c->len = (size_t)n;
	}
}

/* Reads and throws away; true when the peer's FIN was read or the connection failed. */
static bool drain(struct app_conn *c)
{
	uint8_t scratch[65536];
	for (;;) {
		ssize_t n = synack_recv(c->s, c->fd, scratch, sizeof scratch, 0);
		if (n == -EAGAIN)
			return false;
		if (n <= 0)
			return true;
	}
}

/* RFC 864's pattern: lines of 72 printable characters (95 of them, from ' ' to '~'), each
 * starting one character further along, ended by CRLF. 95 lines make one period. */
#define CHARGEN_LINE 74
#define CHARGEN_PERIOD (95 * CHARGEN_LINE)

static uint8_t chargen_byte(uint32_t pos)
{
	uint32_t line = pos / CHARGEN_LINE, col = pos % CHARGEN_LINE;
	if (col == 72)
		return '\r';
	if (col == 73)
		return '\n';
	return (uint8_t)(' ' + (line + col) % 95);
}

static void run_chargen(struct app_conn *c)
{
	if (drain(c)) {
		c->done = true;
		return;
	}
	for (;;) {
		int f = app_flush(c);
		if (f <= 0) {
			c->done = f < 0;
			return;
		}
		for (size_t i = 0; i < APP_BUF; i++)
			c->out[i] = chargen_byte((c->chargen_pos + i) % CHARGEN_PERIOD);
		c->chargen_pos = (uint32_t)((c->chargen_pos + APP_BUF) % CHARGEN_PERIOD);
		c->len = APP_BUF;
	}
}

static void conn_close(struct synack_server *srv, struct app_conn *c)
{
	srv->conns[c->fd] = NULL;
	srv->nconns--;
	synack_close(srv->s, c->fd);
	app_http_release(c);
	free(c->out);
	free(c);
}

static void run_conn(struct synack_server *srv, struct app_conn *c)
{
	switch (srv->o.kind) {
	case SYNACK_APP_ECHO: run_echo(c); break;
	case SYNACK_APP_DISCARD: c->done = drain(c); break;
	case SYNACK_APP_CHARGEN: run_chargen(c); break;
	case SYNACK_APP_HTTP: app_http_run(c); break;
	}
	if (c->done)
		conn_close(srv, c);
}

static int track(struct synack_server *srv, int fd)
{
	if ((uint32_t)fd >= srv->cap) {
		uint32_t cap = srv->cap ? srv->cap : 256;
		while (cap <= (uint32_t)fd)
			cap *= 2;
		struct app_conn **n = realloc(srv->conns, cap * sizeof *n);
		if (!n)
			return -ENOMEM;
		memset(n + srv->cap, 0, (cap - srv->cap) * sizeof *n);
		srv->conns = n;
		srv->cap = cap;
	}
	struct app_conn *c = calloc(1, sizeof *c);
	if (c)
		c->out = malloc(APP_BUF);
	if (!c || !c->out) {
		free(c);
		return -ENOMEM;
	}
	c->s = srv->s;
	c->fd = fd;
	c->file = -1;
	c->root = srv->o.root;
	c->moved_us = synack_stack_now(srv->s);
	srv->conns[fd] = c;
	srv->nconns++;
	return 0;
}

static void accept_all(struct synack_server *srv)
{
	for (;;) {
		int fd = synack_accept(srv->s, srv->lfd, NULL);
		if (fd < 0)
			return; /* -EAGAIN, or -EMFILE: the rest wait in the accept queue */
		srv->accepted++;
		if ((srv->o.max_conns && srv->nconns >= srv->o.max_conns) || track(srv, fd) < 0) {
			synack_close(srv->s, fd);
			continue;
		}
		run_conn(srv, srv->conns[fd]);
	}
}

bool synack_server_ready(struct synack_server *srv, int fd, unsigned events)
{
	(void)events;
	if (fd == srv->lfd && fd >= 0) {
		accept_all(srv);
		return true;
	}
	if (fd < 0 || (uint32_t)fd >= srv->cap || !srv->conns[fd])
		return false;
	run_conn(srv, srv->conns[fd]);
	return true;
}

int synack_server_new(struct synack_server **out, struct synack_stack *s,
		      const struct synack_app_opts *opts)
{
	*out = NULL;
	struct synack_server *srv = calloc(1, sizeof *srv);
	if (!srv)
		return -ENOMEM;
	srv->s = s;
	srv->o = *opts;
	if (!srv->o.port)
		srv->o.port = synack_app_default_port(opts->kind);
	int fd = synack_socket(s);
	if (fd < 0) {
		free(srv);
		return fd;
	}
	srv->lfd = fd;
	int one = 1;
	synack_setsockopt(s, fd, SYNACK_SOL_SOCKET, SYNACK_SO_REUSEADDR, &one, sizeof one);
	/* [::]: one dual-stack listener hears both families (IPv4 peers as ::ffff:a.b.c.d). */
	struct synack_endpoint ep = {.addr = synack_addr_any(SYNACK_AF_INET6), .port = srv->o.port};
	int err = synack_bind(s, fd, &ep);
	if (!err)
		err = synack_listen(s, fd, srv->o.backlog ? srv->o.backlog : 1024);
	if (err) {
		synack_close(s, fd);
		free(srv);
		return err;
	}
	*out = srv;
	return 0;
}

void synack_server_shutdown(struct synack_server *srv)
{
	if (srv->lfd >= 0) {
		synack_close(srv->s, srv->lfd);
		srv->lfd = -1;
	}
	for (uint32_t fd = 0; fd < srv->cap; fd++)
		if (srv->conns[fd])
			conn_close(srv, srv->conns[fd]);
}

/* A timeout: reset (SO_LINGER {1, 0}), as nginx's reset_timedout_connection, so that the slot
 * and the connection are gone at once instead of waiting for a FIN the peer may never ACK. */
static void conn_reset(struct synack_server *srv, struct app_conn *c)
{
	struct synack_linger lg = {.l_onoff = 1, .l_linger = 0};
	synack_setsockopt(srv->s, c->fd, SYNACK_SOL_SOCKET, SYNACK_SO_LINGER, &lg, sizeof lg);
	srv->timeouts++;
	conn_close(srv, c);
}

/* Has connection c timed out at now? Updates what it saw of it. */
static bool timed_out(struct synack_server *srv, struct app_conn *c, uint64_t now)
{
	struct synack_tcp_info i;
	if (synack_tcp_info(srv->s, c->fd, &i) < 0)
		return false;
	if (i.rcv_nxt != c->seen_rcv || i.snd_una != c->seen_una) {
		c->seen_rcv = i.rcv_nxt;
		c->seen_una = i.snd_una;
		c->moved_us = now;
	}
	uint64_t idle = (uint64_t)srv->o.idle_timeout_ms * 1000;
	if (idle && now - c->moved_us >= idle)
		return true;
	uint64_t head = (uint64_t)srv->o.header_timeout_ms * 1000;
	if (!head || srv->o.kind != SYNACK_APP_HTTP)
		return false;
	/* A head is pending: bytes of it are buffered, or none has come yet on a connection
	 * that has answered nothing (a client that connects and says nothing). */
	bool pending = c->req_len > 0 || (c->requests == 0 && c->len == 0 && c->file < 0);
	if (!pending || c->head_req != c->requests) {
		c->head_since_us = pending ? now : 0;
		c->head_req = c->requests;
		return false;
	}
	if (!c->head_since_us)
		c->head_since_us = now;
	return now - c->head_since_us >= head;
}

uint64_t synack_server_tick(struct synack_server *srv, uint64_t now_us)
{
	if (!srv->o.idle_timeout_ms && !srv->o.header_timeout_ms)
		return SYNACK_TIME_NEVER;
	for (uint32_t fd = 0; fd < srv->cap; fd++)
		if (srv->conns[fd] && timed_out(srv, srv->conns[fd], now_us))
			conn_reset(srv, srv->conns[fd]);
	uint32_t shortest = srv->o.idle_timeout_ms;
	if (srv->o.header_timeout_ms && (!shortest || srv->o.header_timeout_ms < shortest))
		shortest = srv->o.header_timeout_ms;
	uint64_t step = (uint64_t)shortest * 1000 / 10;
	if (step > 1000000)
		step = 1000000;
	if (step < 1000)
		step = 1000;
	return now_us + step;
}

uint64_t synack_server_timeouts(const struct synack_server *srv) { return srv->timeouts; }

uint32_t synack_server_conns(const struct synack_server *srv) { return srv->nconns; }
uint64_t synack_server_accepted(const struct synack_server *srv) { return srv->accepted; }

void synack_server_destroy(struct synack_server *srv)
{
	if (!srv)
		return;
	synack_server_shutdown(srv);
	free(srv->conns);
	free(srv);
}
