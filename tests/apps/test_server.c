/* The built-in servers (src/apps) driven on the simulator: a client stack talks to a server
 * stack running echo, discard, chargen or http, and the bytes, the closes and the limits are
 * checked exactly. Also the `ss` and `nstat` formatters on a live table. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apps/server.h"
#include "host/ctl.h"
#include "synack/synack.h"

#define CLI 0x0a000001u
#define SRV 0x0a000002u

static struct synack_sim *sim;
static struct synack_stack *cs, *ss;
static struct synack_server *srv;
static uint32_t idle_ms, header_ms; /* the timeouts setup() gives the server */
static uint64_t tick_at;             /* when the server wants synack_server_tick() */
static int woken[4096];
static int nwoken;

static void on_wake(void *ctx, int fd, unsigned ev)
{
	(void)ctx;
	(void)ev;
	if (nwoken < 4096)
		woken[nwoken++] = fd;
}

static void dispatch(void)
{
	/* on_ready may wake more descriptors: take them until none is left. */
	for (int round = 0; nwoken && round < 100; round++) {
		int batch[4096], n = nwoken;
		memcpy(batch, woken, sizeof(int) * (size_t)n);
		nwoken = 0;
		for (int i = 0; i < n; i++)
			synack_server_ready(srv, batch[i], (unsigned)synack_events(ss, batch[i]));
	}
}

/* Advances the world by ms milliseconds, serving the server's sockets after each event. */
static void pump(uint64_t ms)
{
	uint64_t end = synack_sim_now(sim) + ms * 1000;
	for (;;) {
		/* The server's timeouts run at the times it asks for, as the host loop's alarm. */
		uint64_t lim = tick_at < end ? tick_at : end;
		while (synack_sim_step(sim, lim))
			dispatch();
		dispatch();
		if (lim == tick_at) {
			tick_at = synack_server_tick(srv, lim);
			dispatch();
		}
		if (lim == end)
			break;
	}
}

static void setup(enum synack_app_kind kind, uint32_t max_conns, const char *root)
{
	cr_assert_eq(synack_sim_new(&sim, 7), 0);
	struct synack_config cfg;
	synack_config_default(&cfg);
	struct synack_sim_host_opts o = {.path = {.delay_us = 1000}};
	cfg.name = "client";
	synack_config_add_addr(&cfg, synack_addr_v4(CLI), 24);
	cr_assert_eq(synack_sim_add_host(sim, &cfg, &o, &cs), 0);
	cfg.name = "server";
	cfg.addrs[0].addr = synack_addr_v4(SRV); /* the same config, the other host */
	cfg.wake = on_wake;
	cr_assert_eq(synack_sim_add_host(sim, &cfg, &o, &ss), 0);
	struct synack_app_opts a = {.kind = kind, .max_conns = max_conns, .root = root,
				    .idle_timeout_ms = idle_ms, .header_timeout_ms = header_ms};
	cr_assert_eq(synack_server_new(&srv, ss, &a), 0);
	nwoken = 0;
	tick_at = 0;
}

static void teardown(void)
{
	synack_server_destroy(srv);
	synack_sim_destroy(sim);
}

static int dial_to(uint16_t port, enum synack_tcp_state want)
{
	int fd = synack_socket(cs);
	cr_assert_geq(fd, 0);
	struct synack_endpoint ep = {synack_addr_v4(SRV), port};
	cr_assert_eq(synack_connect(cs, fd, &ep), -EINPROGRESS);
	pump(10);
	struct synack_tcp_info i;
	synack_tcp_info(cs, fd, &i);
	cr_assert_eq(i.state, want);
	return fd;
}

static int dial(uint16_t port) { return dial_to(port, SYNACK_ESTABLISHED); }

static void send_all(int fd, const void *p, size_t n)
{
	const char *b = p;
	for (int guard = 0; n && guard < 100000; guard++) {
		ssize_t w = synack_send(cs, fd, b, n, 0);
		if (w == -EAGAIN) {
			pump(5);
			continue;
		}
		cr_assert_gt(w, 0);
		b += w;
		n -= (size_t)w;
	}
	cr_assert_eq(n, 0);
}

/* Reads what is there after letting the world run ms; sets *eof at end of stream. */
static size_t read_some(int fd, char *buf, size_t cap, uint64_t ms, bool *eof)
{
	size_t got = 0;
	*eof = false;
	for (uint64_t t = 0; t <= ms && got < cap && !*eof; t += 5) {
		pump(5);
		for (;;) {
			ssize_t n = synack_recv(cs, fd, buf + got, cap - got, 0);
			if (n == 0)
				*eof = true;
			if (n <= 0 || got + (size_t)n == cap) {
				got += n > 0 ? (size_t)n : 0;
				break;
			}
			got += (size_t)n;
		}
	}
	return got;
}

Test(apps, echo_returns_every_byte_then_closes_after_the_peers_fin)
{
	setup(SYNACK_APP_ECHO, 0, NULL);
	int fd = dial(7);
	static char out[200000], back[200001];
	for (size_t i = 0; i < sizeof out; i++)
		out[i] = (char)(i * 31 + 7);
	/* Send and read at once: echo applies back-pressure, it never buffers without bound. */
	size_t sent = 0, got = 0;
	bool eof = false;
	for (int guard = 0; guard < 10000 && !eof; guard++) {
		if (sent < sizeof out) {
			ssize_t w = synack_send(cs, fd, out + sent, sizeof out - sent, 0);
			if (w > 0)
				sent += (size_t)w;
			if (sent == sizeof out)
				cr_assert_eq(synack_shutdown(cs, fd, SYNACK_SHUT_WR), 0);
		}
		pump(2);
		ssize_t n;
		while ((n = synack_recv(cs, fd, back + got, sizeof back - got, 0)) > 0)
			got += (size_t)n;
		eof = n == 0;
	}
	cr_assert(eof, "the server closed after our FIN");
	cr_assert_eq(got, sizeof out);
	cr_assert_eq(memcmp(out, back, sizeof out), 0);
	cr_assert_eq(synack_server_conns(srv), 0);
	struct synack_tcp_info i;
	synack_tcp_info(cs, fd, &i);
	cr_assert_eq(i.state, SYNACK_TIME_WAIT, "we closed first");
	teardown();
}

Test(apps, discard_sends_nothing_and_closes_at_eof)
{
	setup(SYNACK_APP_DISCARD, 0, NULL);
	int fd = dial(9);
	static char out[50000];
	memset(out, 'x', sizeof out);
	send_all(fd, out, sizeof out);
	synack_shutdown(cs, fd, SYNACK_SHUT_WR);
	char b[16];
	bool eof;
	cr_assert_eq(read_some(fd, b, sizeof b, 500, &eof), 0);
	cr_assert(eof);
	teardown();
}

Test(apps, chargen_sends_rfc864_lines)
{
	setup(SYNACK_APP_CHARGEN, 0, NULL);
	int fd = dial(19);
	char b[74 * 96];
	bool eof;
	size_t n = read_some(fd, b, sizeof b, 1000, &eof);
	cr_assert_eq(n, sizeof b);
	for (int line = 0; line < 96; line++) {
		for (int c = 0; c < 72; c++)
			cr_assert_eq(b[line * 74 + c], ' ' + (line + c) % 95, "line %d col %d", line, c);
		cr_assert_eq(b[line * 74 + 72], '\r');
		cr_assert_eq(b[line * 74 + 73], '\n');
	}
	synack_close(cs, fd);
	pump(100);
	cr_assert_eq(synack_server_conns(srv), 0, "closed once the client went away");
	teardown();
}

static const char *find(const char *hay, size_t n, const char *needle)
{
	return memmem(hay, n, needle, strlen(needle));
}

Test(apps, http_keep_alive_pipelining_404_and_close)
{
	setup(SYNACK_APP_HTTP, 0, NULL);
	int fd = dial(80);
	const char *req = "GET / HTTP/1.1\r\nHost: s\r\n\r\nHEAD /x HTTP/1.1\r\n\r\n";
	send_all(fd, req, strlen(req));
	char b[4096];
	bool eof;
	size_t n = read_some(fd, b, sizeof b, 200, &eof);
	cr_assert(!eof, "HTTP/1.1: the connection stays open");
	const char *r1 = find(b, n, "HTTP/1.1 200 OK\r\n");
	cr_assert_not_null(r1);
	cr_assert_not_null(find(b, n, "Connection: keep-alive\r\n"));
	const char *cl = find(b, n, "Content-Length: ");
	cr_assert_not_null(cl);
	long len = strtol(cl + 16, NULL, 10);
	const char *body = find(b, n, "\r\n\r\n") + 4;
	const char *r2 = find(b, n, "HTTP/1.1 404 Not Found\r\n");
	cr_assert_not_null(r2, "the pipelined second request was answered");
	cr_assert_eq(r2 - body, len, "Content-Length is exact");
	cr_assert_not_null(find(body, (size_t)len, "synack"));
	cr_assert_eq(n, (size_t)(find(r2, n - (size_t)(r2 - b), "\r\n\r\n") + 4 - b),
		     "HEAD: no body after the 404's head");

	const char *bye = "GET / HTTP/1.1\r\nConnection: close\r\n\r\n";
	send_all(fd, bye, strlen(bye));
	n = read_some(fd, b, sizeof b, 500, &eof);
	cr_assert(eof, "Connection: close: the server closed after the response");
	cr_assert_not_null(find(b, n, "Connection: close\r\n"));
	struct synack_tcp_info i;
	synack_tcp_info(cs, fd, &i);
	cr_assert_eq(i.state, SYNACK_CLOSE_WAIT, "the server closed first");
	teardown();
}

Test(apps, http_malformed_request_gets_400_and_close)
{
	setup(SYNACK_APP_HTTP, 0, NULL);
	int fd = dial(80);
	const char *req = "GET /\x01 HTTP/1.1\r\n\r\n";
	send_all(fd, req, strlen(req));
	char b[1024];
	bool eof;
	size_t n = read_some(fd, b, sizeof b, 500, &eof);
	cr_assert_not_null(find(b, n, "HTTP/1.1 400 Bad Request\r\n"));
	cr_assert(eof);
	teardown();
}

Test(apps, http_serves_files_from_root_with_exact_length)
{
	char dir[] = "/tmp/synack-apps-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char path[256];
	snprintf(path, sizeof path, "%s/data.bin", dir);
	FILE *f = fopen(path, "w");
	static char data[100000];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (char)(i % 251);
	fwrite(data, 1, sizeof data, f);
	fclose(f);
	setup(SYNACK_APP_HTTP, 0, dir);
	int fd = dial(80);
	const char *req = "GET /data.bin HTTP/1.1\r\n\r\n";
	send_all(fd, req, strlen(req));
	static char b[110000];
	bool eof;
	size_t n = read_some(fd, b, sizeof b, 2000, &eof);
	const char *body = find(b, n, "\r\n\r\n");
	cr_assert_not_null(body);
	cr_assert_not_null(find(b, (size_t)(body - b), "Content-Length: 100000\r\n"));
	body += 4;
	cr_assert_eq(n - (size_t)(body - b), sizeof data);
	cr_assert_eq(memcmp(body, data, sizeof data), 0);
	teardown();
	unlink(path);
	rmdir(dir);
}

static uint64_t server_counter(enum synack_counter k)
{
	struct synack_counters c;
	synack_stack_counters(ss, &c);
	return c.v[k];
}

/* The head and a small body leave in one segment: sent apart, Nagle would hold the body until
 * the head's ACK (a delayed ACK at a kernel client: 40 ms per keep-alive request). */
Test(apps, http_sends_head_and_body_in_one_segment)
{
	char dir[] = "/tmp/synack-apps-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char path[256];
	snprintf(path, sizeof path, "%s/small.txt", dir);
	FILE *f = fopen(path, "w");
	fputs("small body\n", f);
	fclose(f);
	setup(SYNACK_APP_HTTP, 0, dir);
	int fd = dial(80);
	for (int i = 0; i < 3; i++) { /* keep-alive: the same on every request */
		uint64_t out0 = server_counter(SYNACK_CTR_OutSegs);
		const char *req = "GET /small.txt HTTP/1.1\r\n\r\n";
		send_all(fd, req, strlen(req));
		char b[1024];
		bool eof;
		size_t n = read_some(fd, b, sizeof b, 50, &eof);
		cr_assert_not(eof);
		const char *body = find(b, n, "\r\n\r\n");
		cr_assert_not_null(body);
		cr_assert_eq(n - (size_t)(body + 4 - b), 11);
		cr_assert_eq(memcmp(body + 4, "small body\n", 11), 0);
		/* The response in one segment. The first request is acknowledged at once (quick-ACK
		 * mode); answering it within ATO puts the server in Linux's pingpong mode, so the
		 * later requests' ACKs ride on their responses. */
		cr_assert_eq(server_counter(SYNACK_CTR_OutSegs) - out0, i == 0 ? 2 : 1, "request %d", i);
	}
	teardown();
	unlink(path);
	rmdir(dir);
}

Test(apps, max_conns_closes_the_extra_connection_at_once)
{
	setup(SYNACK_APP_ECHO, 1, NULL);
	int a = dial(7), b = dial_to(7, SYNACK_CLOSE_WAIT); /* closed at accept */
	char buf[8];
	bool eof;
	cr_assert_eq(read_some(b, buf, sizeof buf, 100, &eof), 0);
	cr_assert(eof, "the second connection was closed");
	cr_assert_eq(read_some(a, buf, sizeof buf, 100, &eof), 0);
	cr_assert(!eof, "the first one is served");
	cr_assert_eq(synack_server_conns(srv), 1);
	cr_assert_eq(synack_server_accepted(srv), 2);
	teardown();
}

Test(apps, shutdown_closes_connections_gracefully_and_ss_shows_the_table)
{
	setup(SYNACK_APP_ECHO, 0, NULL);
	int fd = dial(7);
	char *txt = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&txt, &len);
	synack_format_ss(ss, false, m);
	fclose(m);
	cr_assert_not_null(strstr(txt, "State      Recv-Q Send-Q Local Address:Port    Peer Address:Port"));
	cr_assert_not_null(strstr(txt, "LISTEN "));
	cr_assert_not_null(strstr(txt, "ESTAB      0      0      10.0.0.2:7"));
	free(txt);

	synack_server_shutdown(srv);
	char buf[8];
	bool eof;
	read_some(fd, buf, sizeof buf, 100, &eof);
	cr_assert(eof, "the server's FIN arrived");
	synack_close(cs, fd);
	pump(100);
	m = open_memstream(&txt, &len);
	synack_format_ss(ss, false, m);
	fclose(m);
	cr_assert_not_null(strstr(txt, "TIME-WAIT  0      0      10.0.0.2:7"), "%s", txt);
	cr_assert_null(strstr(txt, "LISTEN"));
	free(txt);

	struct synack_counters c;
	synack_stack_counters(ss, &c);
	m = open_memstream(&txt, &len);
	synack_format_nstat(&c, NULL, 0, m);
	fclose(m);
	cr_assert_not_null(strstr(txt, "#synack\nTcpPassiveOpens                 1 "), "%s", txt);
	free(txt);
	/* The rate: what changed since the previous sample, per second. */
	struct synack_counters was = c;
	was.v[SYNACK_CTR_PassiveOpens] = 0;
	m = open_memstream(&txt, &len);
	synack_format_nstat(&c, &was, 0.5, m);
	fclose(m);
	cr_assert_not_null(strstr(txt, "TcpPassiveOpens                 1                  2.0\n"),
			   "%s", txt);
	cr_assert_not_null(strstr(txt, "TcpInSegs                       4                  0.0\n"),
			   "%s", txt);
	free(txt);
	teardown();
}

/* A read that fails: the error (ECONNRESET after a reset), 0 at EOF, 1 when bytes came. */
static int read_result(int fd)
{
	char b[4096];
	ssize_t n = synack_recv(cs, fd, b, sizeof b, 0);
	return n > 0 ? 1 : (int)n;
}

static bool served(int fd)
{
	const char *req = "GET / HTTP/1.1\r\n\r\n";
	send_all(fd, req, strlen(req));
	char b[4096];
	bool eof;
	size_t n = read_some(fd, b, sizeof b, 100, &eof);
	return n > 12 && !memcmp(b, "HTTP/1.1 200", 12);
}

/* Slowloris: two clients hold both slots by trickling a request head. The third is closed at
 * once (max_conns); when the header timeout resets the slow ones, a client is served. A
 * client that says nothing at all goes the same way, and one that got its answer and then
 * stays silent goes after the idle timeout. */
Test(apps, http_timeouts_reset_slow_and_idle_clients)
{
	idle_ms = 5000;
	header_ms = 2000;
	setup(SYNACK_APP_HTTP, 2, NULL);
	idle_ms = header_ms = 0;
	int slow[2];
	for (int i = 0; i < 2; i++) {
		slow[i] = dial(80);
		send_all(slow[i], "GET / HTTP/1.1\r\n", 16);
	}
	pump(10);
	int third = dial_to(80, SYNACK_CLOSE_WAIT); /* max_conns: closed at once */
	cr_assert_eq(read_result(third), 0);
	for (int t = 0; t < 3; t++) { /* one byte every 500 ms: never a whole head */
		for (int i = 0; i < 2; i++)
			send_all(slow[i], "X", 1);
		pump(500);
	}
	cr_assert_eq(synack_server_conns(srv), 2, "still held at 1.5 s");
	pump(800);
	cr_assert_eq(synack_server_conns(srv), 0, "reset once the head is 2 s old");
	cr_assert_eq(synack_server_timeouts(srv), 2);
	for (int i = 0; i < 2; i++)
		cr_assert_eq(read_result(slow[i]), -ECONNRESET);
	int good = dial(80);
	cr_assert(served(good), "a client is served again");
	/* The answered client now says nothing: reset by the idle timeout (5 s). */
	pump(4000);
	cr_assert_eq(synack_server_conns(srv), 1);
	pump(1500);
	cr_assert_eq(synack_server_conns(srv), 0);
	cr_assert_eq(read_result(good), -ECONNRESET);
	/* A client that connects and sends nothing: the header timeout. */
	int mute = dial(80);
	pump(1500);
	cr_assert_eq(synack_server_conns(srv), 1);
	pump(1000);
	cr_assert_eq(synack_server_conns(srv), 0);
	cr_assert_eq(read_result(mute), -ECONNRESET);
	cr_assert_eq(synack_server_timeouts(srv), 4);
	teardown();
}
