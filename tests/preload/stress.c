/* The multi-threaded stress of the preload layer, run by tests/preload/run.sh.
 *   stress server PORT                      the kernel's echo server (not under synack): one
 *                                           thread, epoll, echoes until the peer closes
 *   stress client ADDR PORT THREADS ROUNDS  under `synack run`: THREADS threads each open,
 *                                           use and close ROUNDS connections; odd rounds
 *                                           connect non-blocking and wait in poll, even ones
 *                                           block; every fourth round another thread closes
 *                                           the socket while this one is blocked in recv
 * The client prints "rounds N ok M racecloses R" and exits 0 when every round succeeded:
 * echoed bytes equal, the raced recv returned EBADF (or 0 / ECONNRESET if the close won
 * before the call blocked: never a hang). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int serve(int port)
{
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 4096) < 0)
		return perror("bind/listen"), 1;
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = l};
	epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
	for (;;) {
		struct epoll_event evs[64];
		int n = epoll_wait(ep, evs, 64, -1);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == l) {
				int c = accept4(l, NULL, NULL, SOCK_NONBLOCK);
				struct epoll_event cev = {.events = EPOLLIN, .data.fd = c};
				if (c >= 0)
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
				continue;
			}
			char buf[4096];
			ssize_t r = read(fd, buf, sizeof buf);
			if (r > 0 && write(fd, buf, (size_t)r) == r)
				continue;
			if (r < 0 && errno == EAGAIN)
				continue;
			close(fd);
		}
	}
}

static struct sockaddr_in peer;
static int rounds;
static atomic_int ok, races, failed;

struct racer {
	int fd;
	atomic_int started;
	ssize_t r;
	int err;
};

static void *blocked_recv(void *arg)
{
	struct racer *x = arg;
	char c;
	atomic_store(&x->started, 1);
	x->r = recv(x->fd, &c, 1, 0);
	x->err = errno;
	return NULL;
}

static int open_conn(bool nonblock)
{
	int s = socket(AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (s < 0)
		return -1;
	if (connect(s, (struct sockaddr *)&peer, sizeof peer) == 0)
		return s;
	if (!nonblock || errno != EINPROGRESS)
		return close(s), -1;
	struct pollfd p = {.fd = s, .events = POLLOUT};
	int err = -1;
	socklen_t len = sizeof err;
	if (poll(&p, 1, 10000) != 1 || getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err)
		return close(s), -1;
	fcntl(s, F_SETFL, 0); /* blocking for the exchange */
	return s;
}

static bool one_round(int id, int i)
{
	int s = open_conn(i % 2 == 1);
	if (s < 0)
		return false;
	char msg[32], back[32];
	int len = snprintf(msg, sizeof msg, "t%d-r%d", id, i);
	if (send(s, msg, (size_t)len, 0) != len || recv(s, back, (size_t)len, MSG_WAITALL) != len ||
	    memcmp(msg, back, (size_t)len) != 0)
		return close(s), false;
	if (i % 4 != 0)
		return close(s) == 0;
	struct racer x = {.fd = s};
	pthread_t t;
	pthread_create(&t, NULL, blocked_recv, &x);
	while (!atomic_load(&x.started))
		sched_yield();
	struct timespec ts = {0, 1000000}; /* let it block */
	nanosleep(&ts, NULL);
	close(s);
	pthread_join(t, NULL);
	atomic_fetch_add(&races, 1);
	return (x.r == -1 && (x.err == EBADF || x.err == ECONNRESET)) || x.r == 0;
}

static void *worker(void *arg)
{
	int id = (int)(long)arg;
	for (int i = 0; i < rounds; i++) {
		if (one_round(id, i))
			atomic_fetch_add(&ok, 1);
		else if (atomic_fetch_add(&failed, 1) < 5)
			fprintf(stderr, "thread %d round %d failed: %s\n", id, i, strerror(errno));
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "server"))
		return serve(atoi(argv[2]));
	if (argc != 6 || strcmp(argv[1], "client")) {
		fprintf(stderr, "usage: stress server PORT | stress client ADDR PORT THREADS ROUNDS\n");
		return 2;
	}
	peer = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3]))};
	inet_pton(AF_INET, argv[2], &peer.sin_addr);
	int threads = atoi(argv[4]);
	rounds = atoi(argv[5]);
	pthread_t t[64];
	for (int i = 0; i < threads && i < 64; i++)
		pthread_create(&t[i], NULL, worker, (void *)(long)i);
	for (int i = 0; i < threads && i < 64; i++)
		pthread_join(t[i], NULL);
	printf("rounds %d ok %d racecloses %d\n", threads * rounds, atomic_load(&ok), atomic_load(&races));
	return atomic_load(&ok) == threads * rounds ? 0 : 1;
}
