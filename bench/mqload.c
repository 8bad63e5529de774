/* mqload — the kernel's side of bench/mq.sh: connection rate and many-flow load.
 *
 *   mqload server PORT echo|discard       a server (epoll, one thread): echo (or drop)
 *                                         until EOF, then close; the kernel-server
 *                                         counterpart of `synack serve --app echo|discard`
 *   mqload conns HOST PORT CONC TOTAL     TOTAL connections, CONC at a time (a thread each):
 *                                         connect, send 64 bytes, shut the write half, read
 *                                         the 64 back to EOF, close. Prints connections/s
 *   mqload flows HOST PORT N MIB          N flows at once (a thread each), each sends MIB MiB,
 *                                         shuts the write half and reads to EOF (the server's
 *                                         close after it has read everything). Prints the
 *                                         aggregate Gbit/s from the first connect to the last
 *                                         close
 *
 * Every socket has 10 s timeouts; a failed connection is counted and reported on stderr,
 * and the exit status is then 1. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_in dst;
static atomic_int next_conn, failures;
static int total;
static size_t flow_bytes;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int dial(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct timeval tv = {10, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (connect(fd, (struct sockaddr *)&dst, sizeof dst) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads to EOF; returns the bytes read, -1 on an error. */
static long drain(int fd, char *buf, size_t cap)
{
	long n = 0;
	for (;;) {
		ssize_t r = read(fd, buf, cap);
		if (r == 0)
			return n;
		if (r < 0)
			return -1;
		n += r;
	}
}

static void *conn_worker(void *arg)
{
	(void)arg;
	char msg[64], buf[256];
	memset(msg, 'x', sizeof msg);
	while (atomic_fetch_add(&next_conn, 1) < total) {
		int fd = dial();
		bool ok = fd >= 0 && write(fd, msg, sizeof msg) == (ssize_t)sizeof msg &&
			  shutdown(fd, SHUT_WR) == 0 && drain(fd, buf, sizeof buf) == (long)sizeof msg;
		if (!ok)
			atomic_fetch_add(&failures, 1);
		if (fd >= 0)
			close(fd);
	}
	return NULL;
}

static void *flow_worker(void *arg)
{
	(void)arg;
	static char chunk[1 << 16];
	int fd = dial();
	size_t left = flow_bytes;
	bool ok = fd >= 0;
	while (ok && left) {
		ssize_t w = write(fd, chunk, left < sizeof chunk ? left : sizeof chunk);
		ok = w > 0;
		if (ok)
			left -= (size_t)w;
	}
	char buf[256];
	ok = ok && shutdown(fd, SHUT_WR) == 0 && drain(fd, buf, sizeof buf) >= 0;
	if (!ok)
		atomic_fetch_add(&failures, 1);
	if (fd >= 0)
		close(fd);
	return NULL;
}

static int run_threads(int n, void *(*fn)(void *))
{
	pthread_t th[256];
	int started = 0;
	for (int i = 0; i < n && i < 256; i++)
		if (pthread_create(&th[i], NULL, fn, NULL) == 0)
			started++;
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	return started;
}

static int server(int port, bool echo)
{
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 4096) < 0)
		return perror("mqload server"), 1;
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls}, evs[64];
	epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
	static char buf[1 << 16];
	for (;;) {
		int n = epoll_wait(ep, evs, 64, -1);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == ls) {
				int c;
				while ((c = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
					ev.data.fd = c;
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
				}
				continue;
			}
			for (;;) {
				ssize_t r = read(fd, buf, sizeof buf);
				if (r > 0) {
					/* Echo what fits: the conns test sends 64 bytes. */
					if (echo)
						(void)!send(fd, buf, (size_t)r, MSG_DONTWAIT | MSG_NOSIGNAL);
					continue;
				}
				if (r == 0 || errno != EAGAIN)
					close(fd); /* EOF (or an error): the server's close */
				break;
			}
		}
	}
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "server"))
		return server(atoi(argv[2]), !strcmp(argv[3], "echo"));
	if (argc != 6 || (strcmp(argv[1], "conns") && strcmp(argv[1], "flows")))
		return fprintf(stderr, "usage: mqload server PORT echo|discard | conns HOST PORT CONC TOTAL | "
				       "flows HOST PORT N MIB\n"), 2;
	dst.sin_family = AF_INET;
	dst.sin_port = htons((uint16_t)atoi(argv[3]));
	if (inet_pton(AF_INET, argv[2], &dst.sin_addr) != 1)
		return fprintf(stderr, "mqload: bad address %s\n", argv[2]), 2;
	int n = atoi(argv[4]);
	double t0 = now_s();
	if (!strcmp(argv[1], "conns")) {
		total = atoi(argv[5]);
		run_threads(n, conn_worker);
		double dt = now_s() - t0;
		printf("%.0f\n", (total - failures) / dt);
	} else {
		flow_bytes = (size_t)atoi(argv[5]) << 20;
		run_threads(n, flow_worker);
		double dt = now_s() - t0;
		printf("%.2f\n", (double)flow_bytes * n * 8 / dt / 1e9);
	}
	if (failures)
		fprintf(stderr, "mqload %s: %d failed\n", argv[1], (int)failures);
	return failures ? 1 : 0;
}
