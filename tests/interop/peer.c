/* peer — the kernel's side of synack's interop tests: a small TCP client and server on the
 * Linux socket API, with exactly the behaviours the tests need (echo, half-close either way,
 * abortive close, many concurrent connections). Built by tests/interop/run.sh.
 *
 *   peer server PORT echo                 accept one; echo until EOF; then close
 *   peer server PORT send FILE            accept one; send FILE; close (the kernel closes first)
 *   peer server PORT sink-then-send OUT FILE   read to EOF into OUT (then print "peer: rcv_mss N",
 *                                         the largest segment received), send FILE, close
 *   peer server PORT send-then-sink FILE OUT   send FILE, shut the write half, read to EOF
 *   peer server PORT abort                accept one; read once; close with SO_LINGER 0 (RST)
 *   peer server PORT expect-reset         accept one; read until an error: exit 0 on ECONNRESET
 * A server listens on 0.0.0.0, or with PEER_DUAL=1 in its environment on [::] (both
 * families); a client's HOST is an IPv4 or an IPv6 address.
 *
 *   peer client HOST PORT echo FILE OUT   send FILE while reading into OUT; shut; read to EOF
 *   peer client HOST PORT recv OUT        read to EOF into OUT, then close
 *   peer client HOST PORT head N OUT      read exactly N bytes into OUT, then close
 *   peer client HOST PORT abort           connect, send 1 KiB, close with SO_LINGER 0
 *   peer many HOST PORT N BYTES SECS      N connections at once, each sends BYTES and reads
 *                                         them back (echo), within SECS seconds
 *   peer churn HOST PORT N PATH BODY server|client
 *                                         N short HTTP requests one after another, each on a
 *                                         new connection: GET PATH, the response must be 200
 *                                         with exactly the bytes of file BODY. "server": the
 *                                         request says Connection: close and the server closes
 *                                         first; "client": keep-alive, we close first after
 *                                         the body. 5 s per step at most.
 *
 * Exit status: 0 success, 3 ECONNREFUSED, 4 ECONNRESET, 5 timeout, 1 anything else.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int fail(const char *what, int err)
{
	fprintf(stderr, "peer: %s: %s\n", what, strerror(err));
	if (err == ECONNREFUSED)
		exit(3);
	if (err == ECONNRESET || err == EPIPE)
		exit(4);
	if (err == ETIMEDOUT)
		exit(5);
	exit(1);
}

static int open_or_die(const char *path, int flags)
{
	int fd = open(path, flags, 0644);
	if (fd < 0)
		fail(path, errno);
	return fd;
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			fail("write", errno);
		p += w;
		n -= (size_t)w;
	}
}

/* Sends in_fd (or nothing) while reading into out_fd (or nowhere); shuts the write half
 * after the last byte (unless keep_open); returns at the peer's EOF. */
static void duplex(int s, int in_fd, int out_fd, int keep_open)
{
	static char ib[65536], ob[65536];
	size_t ioff = 0, ilen = 0;
	int in_eof = in_fd < 0, shut = keep_open, peer_eof = 0;
	while (!peer_eof || !shut) {
		if (!shut && in_eof && ioff == ilen) {
			shutdown(s, SHUT_WR);
			shut = 1;
		}
		if (!in_eof && ioff == ilen) {
			ssize_t n = read(in_fd, ib, sizeof ib);
			if (n < 0)
				fail("read file", errno);
			in_eof = n == 0;
			ioff = 0;
			ilen = (size_t)n;
			continue;
		}
		struct pollfd p = {.fd = s, .events = (short)((peer_eof ? 0 : POLLIN) |
							      (ioff < ilen ? POLLOUT : 0))};
		if (poll(&p, 1, 60000) <= 0)
			fail("poll", ETIMEDOUT);
		if (p.revents & (POLLIN | POLLERR | POLLHUP)) {
			ssize_t n = recv(s, ob, sizeof ob, MSG_DONTWAIT);
			if (n < 0 && errno != EAGAIN)
				fail("recv", errno);
			if (n == 0)
				peer_eof = 1;
			if (n > 0 && out_fd >= 0)
				write_all(out_fd, ob, (size_t)n);
		}
		if (p.revents & POLLOUT) {
			ssize_t n = send(s, ib + ioff, ilen - ioff, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n < 0 && errno != EAGAIN)
				fail("send", errno);
			if (n > 0)
				ioff += (size_t)n;
		}
	}
}

/* Echo until EOF: whatever arrives goes back; at EOF the rest is flushed, then close. */
static void echo(int s)
{
	static char b[65536];
	for (;;) {
		ssize_t n = recv(s, b, sizeof b, 0);
		if (n < 0)
			fail("recv", errno);
		if (n == 0)
			return;
		for (ssize_t o = 0; o < n;) {
			ssize_t w = send(s, b + o, (size_t)(n - o), MSG_NOSIGNAL);
			if (w < 0)
				fail("send", errno);
			o += w;
		}
	}
}

static void linger0_close(int s)
{
	struct linger lg = {1, 0};
	setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	close(s);
}

static int server(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	/* PEER_DUAL=1: [::] without IPV6_V6ONLY (both families); else 0.0.0.0. */
	uint16_t port = htons((uint16_t)atoi(argv[0]));
	const char *dual = getenv("PEER_DUAL");
	int l = dual && !strcmp(dual, "1") ? socket(AF_INET6, SOCK_STREAM, 0) : -1, one = 1, zero = 0;
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = port};
	struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = port};
	struct sockaddr *a = (struct sockaddr *)&a6;
	socklen_t alen = sizeof a6;
	if (l < 0) {
		l = socket(AF_INET, SOCK_STREAM, 0);
		a = (struct sockaddr *)&a4;
		alen = sizeof a4;
	} else {
		setsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
	}
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(l, a, alen) < 0 || listen(l, 16) < 0)
		fail("listen", errno);
	struct pollfd p = {.fd = l, .events = POLLIN};
	if (poll(&p, 1, 60000) <= 0)
		fail("accept", ETIMEDOUT);
	int s = accept(l, NULL, NULL);
	if (s < 0)
		fail("accept", errno);
	close(l);
	const char *mode = argv[1];
	if (!strcmp(mode, "echo")) {
		echo(s);
	} else if (!strcmp(mode, "send") && argc >= 3) {
		duplex(s, open_or_die(argv[2], O_RDONLY), -1, 0);
	} else if (!strcmp(mode, "sink-then-send") && argc >= 4) {
		duplex(s, -1, open_or_die(argv[2], O_WRONLY | O_CREAT | O_TRUNC), 1);
		/* The largest segment payload received (Linux's estimate only grows, from 536 up to
		 * the gso_size or length of what arrived, at most our advertised MSS). */
		struct tcp_info ti;
		socklen_t tl = sizeof ti;
		if (getsockopt(s, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0)
			printf("peer: rcv_mss %u\n", ti.tcpi_rcv_mss);
		fflush(stdout);
		/* Our write half is still open: now send, then close. */
		int f = open_or_die(argv[3], O_RDONLY);
		static char b[65536];
		ssize_t n;
		while ((n = read(f, b, sizeof b)) > 0)
			for (ssize_t o = 0; o < n;) {
				ssize_t w = send(s, b + o, (size_t)(n - o), MSG_NOSIGNAL);
				if (w < 0)
					fail("send", errno);
				o += w;
			}
	} else if (!strcmp(mode, "send-then-sink") && argc >= 4) {
		duplex(s, open_or_die(argv[2], O_RDONLY), open_or_die(argv[3], O_WRONLY | O_CREAT | O_TRUNC), 0);
	} else if (!strcmp(mode, "abort")) {
		char b[4096];
		if (recv(s, b, sizeof b, 0) < 0)
			fail("recv", errno);
		linger0_close(s);
		return 0;
	} else if (!strcmp(mode, "expect-reset")) {
		char b[65536];
		for (;;) {
			ssize_t n = recv(s, b, sizeof b, 0);
			if (n < 0 && errno == ECONNRESET) {
				printf("peer: ECONNRESET\n");
				return 0;
			}
			if (n <= 0) {
				fprintf(stderr, "peer: expected a reset, got %s\n",
					n == 0 ? "EOF" : strerror(errno));
				return 1;
			}
		}
	} else {
		return 2;
	}
	close(s);
	return 0;
}

/* HOST is an IPv4 or an IPv6 address (no brackets). */
static int dial(const char *host, const char *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port))};
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = a.sin_port};
	int v6 = strchr(host, ':') != NULL;
	if (v6 ? inet_pton(AF_INET6, host, &a6.sin6_addr) != 1 : inet_pton(AF_INET, host, &a.sin_addr) != 1)
		fail("bad address", EINVAL);
	int s = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
	if (v6 ? connect(s, (struct sockaddr *)&a6, sizeof a6) < 0
	       : connect(s, (struct sockaddr *)&a, sizeof a) < 0)
		fail("connect", errno);
	return s;
}

static int client(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	int s = dial(argv[0], argv[1]);
	const char *mode = argv[2];
	if (!strcmp(mode, "echo") && argc >= 5)
		duplex(s, open_or_die(argv[3], O_RDONLY), open_or_die(argv[4], O_WRONLY | O_CREAT | O_TRUNC), 0);
	else if (!strcmp(mode, "recv") && argc >= 4) {
		int out = open_or_die(argv[3], O_WRONLY | O_CREAT | O_TRUNC);
		static char b[65536];
		ssize_t n;
		while ((n = recv(s, b, sizeof b, 0)) > 0)
			write_all(out, b, (size_t)n);
		if (n < 0)
			fail("recv", errno);
	} else if (!strcmp(mode, "head") && argc >= 5) {
		/* Reads exactly N bytes into OUT, then closes (with unread data: a RST, fine). */
		int out = open_or_die(argv[4], O_WRONLY | O_CREAT | O_TRUNC);
		static char b[65536];
		size_t want = (size_t)atol(argv[3]);
		while (want) {
			ssize_t n = recv(s, b, want < sizeof b ? want : sizeof b, 0);
			if (n <= 0)
				fail("recv", n < 0 ? errno : EPIPE);
			write_all(out, b, (size_t)n);
			want -= (size_t)n;
		}
	} else if (!strcmp(mode, "abort")) {
		char b[1024];
		memset(b, 'x', sizeof b);
		if (send(s, b, sizeof b, MSG_NOSIGNAL) < 0)
			fail("send", errno);
		usleep(200000);
		linger0_close(s);
		return 0;
	} else {
		return 2;
	}
	close(s);
	return 0;
}

/* ---- many: N concurrent echo connections ----------------------------------------------- */

struct conn {
	int fd;
	size_t sent, rcvd;
	int shut, done;
};

static uint8_t pattern(size_t conn, size_t i) { return (uint8_t)(i * 7 + conn * 13 + (i >> 8)); }

static int many(int argc, char **argv)
{
	if (argc < 5)
		return 2;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
	inet_pton(AF_INET, argv[0], &a.sin_addr);
	size_t n = (size_t)atoi(argv[2]), bytes = (size_t)atol(argv[3]);
	time_t deadline = time(NULL) + atoi(argv[4]);
	struct rlimit rl = {n + 64, n + 64};
	setrlimit(RLIMIT_NOFILE, &rl);
	struct conn *c = calloc(n, sizeof *c);
	int ep = epoll_create1(0);
	for (size_t i = 0; i < n; i++) {
		c[i].fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (c[i].fd < 0)
			fail("socket", errno);
		if (connect(c[i].fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS)
			fail("connect", errno);
		struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u64 = i};
		epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &ev);
	}
	size_t done = 0, bad = 0;
	static uint8_t buf[65536];
	struct epoll_event evs[256];
	while (done < n && time(NULL) < deadline) {
		int k = epoll_wait(ep, evs, 256, 1000);
		for (int e = 0; e < k; e++) {
			struct conn *x = &c[evs[e].data.u64];
			size_t id = evs[e].data.u64;
			if (x->done)
				continue;
			if ((evs[e].events & EPOLLOUT) && x->sent < bytes) {
				size_t m = bytes - x->sent < sizeof buf ? bytes - x->sent : sizeof buf;
				for (size_t j = 0; j < m; j++)
					buf[j] = pattern(id, x->sent + j);
				ssize_t w = send(x->fd, buf, m, MSG_NOSIGNAL);
				if (w > 0)
					x->sent += (size_t)w;
				else if (w < 0 && errno != EAGAIN) {
					x->done = 1, bad++, done++;
					fprintf(stderr, "peer: conn %zu send: %s\n", id, strerror(errno));
					continue;
				}
			}
			if (x->sent == bytes && !x->shut) {
				shutdown(x->fd, SHUT_WR);
				x->shut = 1;
				struct epoll_event ev = {.events = EPOLLIN, .data.u64 = id};
				epoll_ctl(ep, EPOLL_CTL_MOD, x->fd, &ev);
			}
			if (evs[e].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
				ssize_t r = recv(x->fd, buf, sizeof buf, MSG_DONTWAIT);
				if (r < 0 && errno == EAGAIN)
					continue;
				if (r < 0) {
					x->done = 1, bad++, done++;
					fprintf(stderr, "peer: conn %zu recv: %s\n", id, strerror(errno));
					continue;
				}
				for (ssize_t j = 0; j < r; j++)
					if (buf[j] != pattern(id, x->rcvd + (size_t)j)) {
						fprintf(stderr, "peer: conn %zu: wrong byte at %zu\n", id,
							x->rcvd + (size_t)j);
						x->done = 1, bad++, done++;
						break;
					}
				if (x->done)
					continue;
				x->rcvd += (size_t)r;
				if (r == 0) {
					if (x->rcvd != bytes) {
						fprintf(stderr, "peer: conn %zu: %zu of %zu bytes\n", id,
							x->rcvd, bytes);
						bad++;
					}
					x->done = 1, done++;
					close(x->fd);
				}
			}
		}
	}
	printf("peer: %zu connections, %zu complete, %zu failed, %zu unfinished\n", n, done - bad,
	       bad, n - done);
	return bad || done < n ? 1 : 0;
}

/* One request on a new connection; returns 0 when the response was exactly right. */
static int churn_one(const struct sockaddr_in *a, const char *req, const char *body, size_t blen,
		     int server_closes, char *buf, size_t cap)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct timeval tv = {.tv_sec = 5};
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	int ok = -1;
	size_t got = 0;
	if (connect(s, (const struct sockaddr *)a, sizeof *a) < 0) {
		fprintf(stderr, "peer: churn: connect: %s\n", strerror(errno));
		goto out;
	}
	if (write(s, req, strlen(req)) != (ssize_t)strlen(req))
		goto out;
	for (;;) {
		ssize_t n = read(s, buf + got, cap - 1 - got);
		if (n < 0) {
			fprintf(stderr, "peer: churn: read: %s\n", strerror(errno));
			goto out;
		}
		got += (size_t)n;
		buf[got] = 0;
		char *end = strstr(buf, "\r\n\r\n");
		if (n == 0 || (!server_closes && end && got - (size_t)(end + 4 - buf) >= blen))
			break;
	}
	char *end = strstr(buf, "\r\n\r\n");
	if (strncmp(buf, "HTTP/1.1 200", 12) || !end || got - (size_t)(end + 4 - buf) != blen ||
	    memcmp(end + 4, body, blen)) {
		fprintf(stderr, "peer: churn: bad response (%zu bytes): %.80s\n", got, buf);
		goto out;
	}
	ok = 0;
out:
	close(s);
	return ok;
}

static int churn(int argc, char **argv)
{
	if (argc < 6)
		return 2;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
	if (inet_pton(AF_INET, argv[0], &a.sin_addr) != 1)
		fail("bad address", EINVAL);
	size_t n = (size_t)atol(argv[2]);
	int server_closes = !strcmp(argv[5], "server");
	static char body[4096], buf[8192], req[512];
	int bfd = open_or_die(argv[4], O_RDONLY);
	ssize_t blen = read(bfd, body, sizeof body);
	close(bfd);
	if (blen < 0)
		fail("read body", errno);
	snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n", argv[3], argv[0],
		 server_closes ? "Connection: close\r\n" : "");
	size_t bad = 0;
	for (size_t i = 0; i < n; i++)
		bad += churn_one(&a, req, body, (size_t)blen, server_closes, buf, sizeof buf) != 0;
	printf("peer: churn %s: %zu requests, %zu ok, %zu failed\n", argv[5], n, n - bad, bad);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	int rc = 2;
	if (argc >= 2 && !strcmp(argv[1], "server"))
		rc = server(argc - 2, argv + 2);
	else if (argc >= 2 && !strcmp(argv[1], "client"))
		rc = client(argc - 2, argv + 2);
	else if (argc >= 2 && !strcmp(argv[1], "many"))
		rc = many(argc - 2, argv + 2);
	else if (argc >= 2 && !strcmp(argv[1], "churn"))
		rc = churn(argc - 2, argv + 2);
	if (rc == 2)
		fprintf(stderr, "usage: see the comment at the top of tests/interop/peer.c\n");
	return rc;
}
