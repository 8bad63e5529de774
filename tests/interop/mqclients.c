/* Kernel clients for `synack serve --threads` (tests/interop/mq.sh): COUNT connections to an
 * echo server at ADDR:PORT from the kernel's source ports FIRST.., so that the queue each
 * lands on is known (synack_flow_queue()). All are opened first; then "open" is printed and
 * the program waits (at most 20 s) for the file GO to exist, so the caller can look at the
 * server while every connection is established; then each sends 1000 bytes, half-closes,
 * reads the echo to the end and checks it byte for byte.
 *
 *   mqclients ADDR PORT FIRST COUNT QUEUES GO
 *
 * Prints "echoed N of COUNT; expected per queue: a b ..." and exits 0 when all echoed. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "synack/stack.h"

#define MAXC 512

int main(int argc, char **argv)
{
	struct sockaddr_in to = {.sin_family = AF_INET};
	if (argc != 7 || inet_pton(AF_INET, argv[1], &to.sin_addr) != 1)
		return fprintf(stderr, "usage: mqclients ADDR PORT FIRST COUNT QUEUES GO\n"), 2;
	int port = atoi(argv[2]), first = atoi(argv[3]), count = atoi(argv[4]);
	int queues = atoi(argv[5]);
	if (count < 1 || count > MAXC || first < 1024 || first + count > 65535 || queues < 1 ||
	    queues > 64)
		return fprintf(stderr, "mqclients: bad numbers\n"), 2;
	to.sin_port = htons((uint16_t)port);
	int fd[MAXC], per[64] = {0};
	struct timeval tv = {5, 0};
	for (int i = 0; i < count; i++) {
		uint16_t sp = (uint16_t)(first + i);
		per[synack_flow_queue(sp, (uint16_t)port, (unsigned)queues)]++;
		fd[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int one = 1;
		setsockopt(fd[i], SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		setsockopt(fd[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		setsockopt(fd[i], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
		struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons(sp)};
		if (bind(fd[i], (struct sockaddr *)&me, sizeof me) < 0 ||
		    connect(fd[i], (struct sockaddr *)&to, sizeof to) < 0) {
			fprintf(stderr, "mqclients: connection %d from port %u: %s\n", i, sp,
				strerror(errno));
			close(fd[i]);
			fd[i] = -1;
		}
	}
	printf("open\n");
	fflush(stdout);
	struct stat st;
	for (int t = 0; t < 400 && stat(argv[6], &st) < 0; t++)
		usleep(50000);
	unsigned char msg[1000], got[1001];
	for (int i = 0; i < (int)sizeof msg; i++)
		msg[i] = (unsigned char)(i * 13 + 5);
	int ok = 0;
	for (int i = 0; i < count; i++) {
		if (fd[i] < 0)
			continue;
		size_t n = 0;
		if (write(fd[i], msg, sizeof msg) == (ssize_t)sizeof msg && shutdown(fd[i], SHUT_WR) == 0) {
			ssize_t r;
			while (n < sizeof got && (r = read(fd[i], got + n, sizeof got - n)) > 0)
				n += (size_t)r;
		}
		ok += n == sizeof msg && !memcmp(got, msg, sizeof msg);
		close(fd[i]);
	}
	printf("echoed %d of %d; expected per queue:", ok, count);
	for (int q = 0; q < queues; q++)
		printf(" %d", per[q]);
	printf("\n");
	return ok == count ? 0 : 1;
}
