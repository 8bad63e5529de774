/* loss_peer — Linux's side of bench/loss.sh: one bulk transfer between two kernels in two
 * network namespaces (joined by bench/fault_relay.c), measured as bench/loss_sim.c measures
 * synack.
 *
 *   loss_peer NS_A NS_B ADDR_B PORT BYTES CAP_S LIMIT_S WINDOW CC
 *
 * A child process enters NS_B (a path such as /run/netns/NAME), listens on ADDR_B:PORT and
 * writes BYTES bytes to the connection it accepts; the parent enters NS_A, connects (the clock
 * starts just before connect()) and reads. Socket buffers, on both sockets, so that Linux
 * announces a window of about WINDOW bytes, as synack does with buffers of WINDOW:
 *  - SO_SNDBUF = WINDOW (the kernel doubles it for its bookkeeping and locks it);
 *  - SO_RCVBUF = 0.8 x WINDOW: the kernel doubles it and announces scaling_ratio of it, the
 *    payload's share of the memory its packets take (about 0.62 for these TUN packets, so
 *    1.6 x 0.62 = 1.0 WINDOW); a plain SO_RCVBUF = WINDOW gives a window of 1.25 x WINDOW;
 *  - TCP_WINDOW_CLAMP = WINDOW for the first windows. It does not hold by itself: on 6.18 the
 *    kernel raises the clamp to the window its buffer allows once it has measured the ratio.
 * The FORCE variants let root pass net.core.[rw]mem_max. The receiver is the side that
 * connects, so that all of this is set before the handshake. The relay reports the windows
 * actually announced. Congestion control CC is set with TCP_CONGESTION (a namespace may not
 * set a default outside tcp_allowed_congestion_control; a CAP_NET_ADMIN socket may). Prints:
 *
 *   at_cap=BYTES done_us=T retrans=X cc=NAME
 *
 * at_cap: bytes the receiver had read CAP_S seconds after connect() (all of them if it was done
 * sooner); done_us: from connect() to the receiver's last byte, 0 if it did not have them all
 * within LIMIT_S seconds; retrans: the sender's tcpi_total_retrans; cc: the sender's congestion
 * control read back. Exits 1 when a socket cannot be set up. Written for bench/loss.sh; not
 * part of the library.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* setns() */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int window;
static const char *cc;

/* The window clamp and the congestion control, on a socket not yet connected or listening. */
static void tune(int fd)
{
	int rcv = window / 5 * 4;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &window, sizeof window) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_WINDOW_CLAMP, &window, sizeof window) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, (socklen_t)strlen(cc)) < 0) {
		fprintf(stderr, "loss_peer: buffers and window clamp %d, congestion control %s: %s\n", window, cc,
			strerror(errno));
		exit(1);
	}
}

struct shared {
	uint64_t t0, retrans;
	int ready, stop;
	char cc[32];
};

static uint64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void enter(const char *ns)
{
	int fd = open(ns, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
		fprintf(stderr, "loss_peer: %s: %s\n", ns, strerror(errno));
		exit(1);
	}
	close(fd);
}

static int flag(int *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/* The sender: accepts one connection, writes BYTES, keeps the socket until told to stop (or
 * the time limit), then leaves its retransmission count and congestion control in sh. */
static void sender(struct shared *sh, struct sockaddr_in *sa, uint64_t bytes, uint64_t limit_us)
{
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	tune(l);
	if (l < 0 || bind(l, (struct sockaddr *)sa, sizeof *sa) < 0 || listen(l, 1) < 0) {
		fprintf(stderr, "loss_peer: listen: %s\n", strerror(errno));
		_exit(1);
	}
	__atomic_store_n(&sh->ready, 1, __ATOMIC_RELEASE);
	static char buf[1 << 16];
	memset(buf, 'x', sizeof buf);
	int fd = -1;
	uint64_t sent = 0;
	while (!flag(&sh->stop)) {
		uint64_t t0 = __atomic_load_n(&sh->t0, __ATOMIC_ACQUIRE);
		if (t0 && mono_us() >= t0 + limit_us)
			break;
		struct pollfd p = {fd >= 0 ? fd : l, fd >= 0 ? POLLOUT : POLLIN, 0};
		if (fd >= 0 && sent == bytes)
			p.events = 0; /* all written: wait for the receiver */
		if (poll(&p, 1, 50) <= 0)
			continue;
		if (fd < 0) {
			fd = accept(l, NULL, NULL);
			if (fd >= 0)
				fcntl(fd, F_SETFL, O_NONBLOCK);
			continue;
		}
		if (p.revents & (POLLERR | POLLHUP))
			break;
		size_t n = bytes - sent < sizeof buf ? (size_t)(bytes - sent) : sizeof buf;
		ssize_t w = write(fd, buf, n);
		if (w > 0)
			sent += (uint64_t)w;
		else if (w < 0 && errno != EAGAIN)
			break;
	}
	if (fd >= 0) {
		struct tcp_info ti;
		socklen_t tl = sizeof ti;
		memset(&ti, 0, sizeof ti);
		getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl);
		socklen_t cl = sizeof sh->cc - 1;
		getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, sh->cc, &cl);
		__atomic_store_n(&sh->retrans, ti.tcpi_total_retrans, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&sh->stop, 2, __ATOMIC_RELEASE); /* the figures are in */
	_exit(0);
}

int main(int argc, char **argv)
{
	if (argc != 10) {
		fprintf(stderr, "usage: loss_peer NS_A NS_B ADDR_B PORT BYTES CAP_S LIMIT_S WINDOW CC\n");
		return 2;
	}
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[4]))};
	if (inet_pton(AF_INET, argv[3], &sa.sin_addr) != 1) {
		fprintf(stderr, "loss_peer: %s: not an IPv4 address\n", argv[3]);
		return 2;
	}
	uint64_t bytes = strtoull(argv[5], NULL, 10);
	uint64_t cap_us = strtoull(argv[6], NULL, 10) * 1000000u;
	uint64_t limit_us = strtoull(argv[7], NULL, 10) * 1000000u;
	window = atoi(argv[8]);
	cc = argv[9];
	struct shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
				 -1, 0);
	if (sh == MAP_FAILED)
		return 1;
	memset(sh, 0, sizeof *sh);
	strcpy(sh->cc, "?");
	pid_t child = fork();
	if (child < 0)
		return 1;
	if (child == 0) {
		enter(argv[2]);
		sender(sh, &sa, bytes, limit_us);
	}
	for (int i = 0; i < 5000 && !flag(&sh->ready); i++)
		usleep(1000);
	enter(argv[1]);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	tune(fd);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	uint64_t t0 = mono_us();
	__atomic_store_n(&sh->t0, t0, __ATOMIC_RELEASE);
	int rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
	if (rc < 0 && errno != EINPROGRESS) {
		fprintf(stderr, "loss_peer: connect: %s\n", strerror(errno));
		kill(child, SIGKILL);
		return 1;
	}
	static char buf[1 << 16];
	uint64_t got = 0, at_cap = 0, done = 0;
	bool capped = false;
	for (;;) {
		uint64_t now = mono_us();
		if (!capped && now >= t0 + cap_us) {
			at_cap = got;
			capped = true;
		}
		if (now >= t0 + limit_us)
			break;
		uint64_t until = capped ? t0 + limit_us : t0 + cap_us;
		int ms = (int)((until - now) / 1000) + 1;
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, ms < 100 ? ms : 100) <= 0)
			continue;
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EAGAIN)
			continue;
		if (n <= 0)
			break;
		got += (uint64_t)n;
		if (got >= bytes) {
			done = mono_us() - t0;
			break;
		}
	}
	if (!capped)
		at_cap = got;
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < 5000 && flag(&sh->stop) != 2; i++)
		usleep(1000);
	close(fd);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	printf("at_cap=%llu done_us=%llu retrans=%llu cc=%s\n", (unsigned long long)at_cap,
	       (unsigned long long)done, (unsigned long long)sh->retrans, sh->cc);
	return 0;
}
