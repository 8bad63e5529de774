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
	uint64_t accepted;
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
	struct synack_endpoint ep = {.addr = synack_addr_any(SYNACK_AF_INET), .port = srv->o.port};
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
