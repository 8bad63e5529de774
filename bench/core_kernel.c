/* Reference for benchmark 1 (NOT synack): the same one-way transfer through the Linux kernel's
 * TCP over loopback, inside this process: a receiver thread accepts on 127.0.0.1 and reads into
 * a 64 KiB buffer until EOF; the main thread connects and writes a pattern in 64 KiB writes.
 * Default socket buffers, MTU of lo (usually 65536), so this is a different thing from
 * synack's in-process figure: it includes system calls, copies into and out of the kernel and
 * loopback's large segments.
 *
 * Prints, per run and best/median over RUNS: wall time from connect() until the receiver has
 * read EOF, MB/s (10^6 bytes).
 * Usage: core_kernel [BYTES=n] [RUNS=n] */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core_util.h"

#define CHUNK (64u << 10)

struct rx {
	int lfd;
	uint64_t got;
	uint64_t end_ns;
};

static void *receiver(void *arg)
{
	struct rx *r = arg;
	static uint8_t buf[CHUNK];
	int fd = accept(r->lfd, NULL, NULL);
	if (fd < 0) {
		perror("accept");
		exit(1);
	}
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n <= 0)
			break;
		r->got += (uint64_t)n;
	}
	r->end_ns = bench_ns();
	close(fd);
	return NULL;
}

static double one_run(uint64_t total)
{
	static uint8_t buf[CHUNK];
	for (size_t i = 0; i < CHUNK; i++)
		buf[i] = (uint8_t)(i * 131u);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof a;
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 1) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &alen) < 0) {
		perror("listener");
		exit(1);
	}
	struct rx r = {.lfd = lfd};
	pthread_t th;
	pthread_create(&th, NULL, receiver, &r);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	uint64_t t0 = bench_ns();
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		perror("connect");
		exit(1);
	}
	for (uint64_t sent = 0; sent < total;) {
		size_t n = total - sent < CHUNK ? (size_t)(total - sent) : CHUNK;
		ssize_t k = write(fd, buf, n);
		if (k <= 0) {
			perror("write");
			exit(1);
		}
		sent += (uint64_t)k;
	}
	close(fd);
	pthread_join(th, NULL);
	close(lfd);
	if (r.got != total) {
		fprintf(stderr, "kernel: received %llu of %llu\n", (unsigned long long)r.got,
			(unsigned long long)total);
		exit(1);
	}
	return (double)(r.end_ns - t0) / 1e9;
}

int main(int argc, char **argv)
{
	uint64_t total = (uint64_t)bench_arg(argc, argv, "BYTES", 1L << 30);
	int runs = (int)bench_arg(argc, argv, "RUNS", 5);
	if (runs < 1 || runs > 64)
		runs = 5;
	bench_print_conditions("REFERENCE (not synack): Linux kernel TCP over loopback, one process");
	printf("sizes: bytes=%llu runs=%d write=read=%u bytes, default socket buffers, "
	       "sender and receiver threads\n",
	       (unsigned long long)total, runs, CHUNK);
	double mbs[64];
	for (int i = 0; i < runs; i++) {
		double s = one_run(total);
		mbs[i] = (double)total / s / 1e6;
		printf("run %d: %.3f s  %.1f MB/s\n", i + 1, s, mbs[i]);
		fflush(stdout);
	}
	double best, med = bench_median(mbs, runs, &best, 1);
	printf("RESULT kernel-loopback MB/s: best %.1f median %.1f\n", best, med);
	return 0;
}
