/* A small program run unmodified under `synack run` by tests/preload/run.sh: it checks, through
 * the ordinary socket calls, the behaviour docs/preload.md promises (errors, EINTR, timeouts,
 * descriptor control, poll/select/epoll on mixed descriptors, fork). The kernel's echo server
 * is at argv[1]:argv[2]; argv[3] is a closed port there. Prints "ok NAME" or "FAIL NAME: why"
 * per check; exits 0 when all passed. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int failures;
static struct sockaddr_in echo_addr, closed_addr;

#define CHECK(name, cond, ...)                                              \
	do {                                                                \
		if (cond) {                                                 \
			printf("ok %s\n", name);                            \
		} else {                                                    \
			failures++;                                         \
			printf("FAIL %s: ", name);                          \
			printf(__VA_ARGS__);                                \
			printf(" (errno %s)\n", strerror(errno));           \
		}                                                           \
		fflush(stdout);                                             \
	} while (0)

static int connected(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&echo_addr, sizeof echo_addr) < 0)
		return -1;
	return s;
}

static void on_alarm(int sig) { (void)sig; }

static void errors(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	errno = 0;
	int r = connect(s, (struct sockaddr *)&closed_addr, sizeof closed_addr);
	CHECK("connect to a closed port: ECONNREFUSED", r == -1 && errno == ECONNREFUSED, "r=%d", r);
	close(s);
	s = socket(AF_INET, SOCK_STREAM, 0);
	char c;
	errno = 0;
	r = (int)recv(s, &c, 1, 0);
	CHECK("recv on an unconnected socket: ENOTCONN", r == -1 && errno == ENOTCONN, "r=%d", r);
	struct sockaddr_in6 six = {.sin6_family = AF_INET6};
	errno = 0;
	r = connect(s, (struct sockaddr *)&six, sizeof six);
	CHECK("connect with an IPv6 address: EAFNOSUPPORT", r == -1 && errno == EAFNOSUPPORT, "r=%d", r);
	struct sockaddr_in other = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x0A0A0A0A)};
	errno = 0;
	r = bind(s, (struct sockaddr *)&other, sizeof other);
	CHECK("bind to an address that is not synack's: EADDRNOTAVAIL", r == -1 && errno == EADDRNOTAVAIL, "r=%d", r);
	close(s);
	errno = 0;
	CHECK("close twice: EBADF", close(s) == -1 && errno == EBADF, "second close succeeded");
}

static void state_calls(void)
{
	int s = connected();
	CHECK("blocking connect to the kernel's echo server", s >= 0, "connect failed");
	if (s < 0)
		return;
	int v = 0;
	socklen_t len = sizeof v;
	CHECK("SO_TYPE is SOCK_STREAM", getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &len) == 0 && v == SOCK_STREAM, "v=%d", v);
	CHECK("F_GETFL: blocking, O_RDWR", (fcntl(s, F_GETFL) & (O_NONBLOCK | O_ACCMODE)) == O_RDWR, "flags=%x", fcntl(s, F_GETFL));
	CHECK("F_SETFD FD_CLOEXEC acts on the descriptor", fcntl(s, F_SETFD, FD_CLOEXEC) == 0 && fcntl(s, F_GETFD) == FD_CLOEXEC, "getfd=%d", fcntl(s, F_GETFD));
	struct sockaddr_in me, peer;
	socklen_t ml = sizeof me, pl = sizeof peer;
	CHECK("getpeername is the echo server", getpeername(s, (struct sockaddr *)&peer, &pl) == 0 && peer.sin_addr.s_addr == echo_addr.sin_addr.s_addr && peer.sin_port == echo_addr.sin_port, "peer differs");
	CHECK("getsockname has an ephemeral port", getsockname(s, (struct sockaddr *)&me, &ml) == 0 && ntohs(me.sin_port) >= 32768, "port %u", ntohs(me.sin_port));
	CHECK("send 5 bytes", send(s, "hello", 5, 0) == 5, "send failed");
	struct pollfd p = {.fd = s, .events = POLLIN};
	CHECK("poll: readable when the echo is back", poll(&p, 1, 5000) == 1 && (p.revents & POLLIN), "revents=%x", p.revents);
	int n = -1;
	CHECK("FIONREAD: 5 bytes waiting", ioctl(s, FIONREAD, &n) == 0 && n == 5, "n=%d", n);
	char buf[16];
	CHECK("MSG_PEEK then read: same bytes", recv(s, buf, 5, MSG_PEEK) == 5 && read(s, buf + 5, 5) == 5 && memcmp(buf, "hello", 5) == 0 && memcmp(buf + 5, "hello", 5) == 0, "mismatch");
	struct timeval tv = {0, 100000};
	CHECK("SO_RCVTIMEO set", setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0, "setsockopt");
	struct timeval got;
	len = sizeof got;
	CHECK("SO_RCVTIMEO reads back", getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &got, &len) == 0 && got.tv_sec == 0 && got.tv_usec == 100000, "%ld.%06ld", (long)got.tv_sec, (long)got.tv_usec);
	errno = 0;
	CHECK("recv with SO_RCVTIMEO and nothing to read: EAGAIN", recv(s, buf, 1, 0) == -1 && errno == EAGAIN, "no EAGAIN");
	int d = dup(s);
	CHECK("dup gives another number", d >= 0 && d != s, "d=%d", d);
	close(s);
	CHECK("the socket lives on through the dup", send(d, "x", 1, 0) == 1 && recv(d, buf, 1, 0) == 1 && buf[0] == 'x', "dup lost the socket");
	struct tcp_info ti;
	len = sizeof ti;
	CHECK("TCP_INFO: ESTABLISHED with an mss", getsockopt(d, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 && ti.tcpi_state == 1 && ti.tcpi_snd_mss > 0, "state %u mss %u", ti.tcpi_state, ti.tcpi_snd_mss);
	close(d);
}

static void eintr(void)
{
	int s = connected();
	struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = {.it_value = {0, 100000}};
	setitimer(ITIMER_REAL, &it, NULL);
	char c;
	errno = 0;
	ssize_t r = recv(s, &c, 1, 0);
	CHECK("a signal interrupts a blocking recv: EINTR (even with SA_RESTART)", r == -1 && errno == EINTR, "r=%zd", r);
	close(s);
}

static void nonblocking_and_waiting(void)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	errno = 0;
	int r = connect(s, (struct sockaddr *)&echo_addr, sizeof echo_addr);
	CHECK("non-blocking connect: EINPROGRESS", r == -1 && errno == EINPROGRESS, "r=%d", r);
	int pfd[2];
	if (pipe(pfd) < 0)
		return;
	fd_set w;
	FD_ZERO(&w);
	FD_SET(s, &w);
	struct timeval tv = {5, 0};
	CHECK("select: writable once connected", select(s + 1, NULL, &w, NULL, &tv) == 1 && FD_ISSET(s, &w), "not writable");
	int err = -1;
	socklen_t len = sizeof err;
	CHECK("SO_ERROR 0 after the connect", getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0, "err=%d", err);
	char c;
	errno = 0;
	CHECK("non-blocking recv: EAGAIN", recv(s, &c, 1, 0) == -1 && errno == EAGAIN, "no EAGAIN");
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u64 = 0x1111};
	epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
	ev.events = EPOLLIN;
	ev.data.u64 = 0x2222;
	epoll_ctl(ep, EPOLL_CTL_ADD, pfd[0], &ev);
	struct epoll_event out[4];
	CHECK("epoll: nothing ready yet", epoll_wait(ep, out, 4, 50) == 0, "spurious event");
	if (write(pfd[1], "p", 1) != 1 || send(s, "e", 1, 0) != 1)
		return;
	int seen = 0;
	for (int i = 0; i < 50 && seen != 3; i++) {
		int n = epoll_wait(ep, out, 4, 100);
		for (int k = 0; k < n; k++) {
			seen |= out[k].data.u64 == 0x1111 ? 1 : out[k].data.u64 == 0x2222 ? 2 : 4;
			if (out[k].data.u64 == 0x2222 && read(pfd[0], &c, 1) != 1) /* level: drain it */
				seen |= 8;
		}
	}
	CHECK("epoll: the synack socket (edge-triggered) and a pipe, with the program's data", seen == 3, "seen=%d", seen);
	CHECK("the echo byte", recv(s, &c, 1, 0) == 1 && c == 'e', "no echo");
	CHECK("edge-triggered: no new edge without new data", epoll_wait(ep, out, 4, 50) == 0, "unexpected event");
	close(ep);
	close(pfd[0]);
	close(pfd[1]);
	close(s);
}

static void forked_child(void)
{
	int s = connected();
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		errno = 0;
		ssize_t r = recv(s, &c, 1, MSG_DONTWAIT);
		int e = errno;
		int n = socket(AF_INET, SOCK_STREAM, 0);
		int e2 = errno;
		int closed = close(s);
		_exit(r == -1 && e == ENOTSUP && n == -1 && e2 == ENOTSUP && closed == 0 ? 0 : 1);
	}
	int st = -1;
	waitpid(pid, &st, 0);
	CHECK("a forked child: ENOTSUP on the parent's socket and on a new one; close works",
	      WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %d", st);
	CHECK("the parent's socket still works after the child closed its copy",
	      send(s, "f", 1, 0) == 1 && recv(s, (char[1]){0}, 1, 0) == 1, "broken");
	close(s);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: probe KERNEL_ADDR ECHO_PORT CLOSED_PORT\n");
		return 2;
	}
	echo_addr = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
	inet_pton(AF_INET, argv[1], &echo_addr.sin_addr);
	closed_addr = echo_addr;
	closed_addr.sin_port = htons((uint16_t)atoi(argv[3]));
	errors();
	state_calls();
	eintr();
	nonblocking_and_waiting();
	forked_child();
	return failures ? 1 : 0;
}
