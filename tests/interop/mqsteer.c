/* Do replies reach the stack that opened the connection? (issue 10, one stack per core)
 *
 * Opens a multi-queue TUN device of 2 queues, a stack on each (synack_mt: a thread each),
 * and a kernel listener. Each stack opens CONNS connections to the kernel; the kernel accepts
 * them all; then every connection stays idle for IDLE seconds, long enough for the kernel's
 * tun flow table to forget which queue wrote last (3 s). Then the kernel sends 1000 bytes on
 * each and the opener must receive them byte-exact. A segment the kernel puts on the other
 * queue reaches a stack that does not know the connection, which answers with a reset.
 *
 *   mqsteer steer|auto DEVICE CONNS IDLE
 *
 * steer: the eBPF steering program (synack_tun_steer()) and connect()'s port choice
 * (cfg.steer_queues); auto: the kernel's own choice (its flow table, then its hash) and any
 * port. Prints one line: the mode, the connections established, and how many got their data;
 * exits 0 when every connection got it, 1 otherwise, 2 when it could not set up. Run it in a
 * network namespace of its own: it takes 10.89.0.0/24 on DEVICE.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "synack/mt.h"
#include "synack/tun.h"

#define QUEUES 2
#define MAXC 256
#define SADDR 0x0a590002u /* 10.89.0.2: synack */
#define KADDR 0x0a590001u /* 10.89.0.1: the kernel */
#define KPORT 5000

static int fail(const char *what, int err)
{
	fprintf(stderr, "mqsteer: %s: %s\n", what, strerror(err < 0 ? -err : err));
	return 2;
}

int main(int argc, char **argv)
{
	if (argc != 5 || (strcmp(argv[1], "steer") && strcmp(argv[1], "auto")))
		return fprintf(stderr, "usage: mqsteer steer|auto DEVICE CONNS IDLE\n"), 2;
	bool steer = !strcmp(argv[1], "steer");
	int conns = atoi(argv[3]), idle = atoi(argv[4]);
	if (conns < 1 || conns > MAXC / QUEUES || idle < 0)
		return fprintf(stderr, "mqsteer: CONNS 1..%d, IDLE >= 0\n", MAXC / QUEUES), 2;

	struct synack_tun_info info;
	struct synack_link *link[QUEUES];
	int err = synack_tun_open_flags(argv[2], SADDR, 24, SYNACK_TUN_MULTI_QUEUE, &info, &link[0]);
	if (err)
		return fail("open", err);
	for (int q = 1; q < QUEUES; q++)
		if ((err = synack_tun_open_queue(&info, 0, &link[q])))
			return fail("open queue", err);
	if (steer && (err = synack_tun_steer(link[0])))
		return fail("steer", err);

	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in ka = {.sin_family = AF_INET, .sin_port = htons(KPORT),
				 .sin_addr.s_addr = htonl(KADDR)};
	if (bind(ls, (struct sockaddr *)&ka, sizeof ka) < 0 || listen(ls, MAXC) < 0)
		return fail("kernel listener", errno);

	struct synack_mt *mt[QUEUES];
	for (int q = 0; q < QUEUES; q++) {
		struct synack_config cfg;
		synack_config_default(&cfg);
		synack_config_add_addr(&cfg, synack_addr_v4(SADDR), 24);
		cfg.caps = link[q]->caps;
		if (steer) {
			cfg.steer_queues = QUEUES;
			cfg.steer_queue = (uint16_t)q;
		}
		if ((err = synack_mt_new(&mt[q], link[q], &cfg)))
			return fail("stack", err);
	}
	/* Opens, one stack after the other; the kernel accepts after each. */
	int fd[MAXC], kfd[MAXC], owner[MAXC], n = 0, established = 0;
	struct synack_endpoint remote = {.addr = synack_addr_v4(KADDR), .port = KPORT};
	for (int i = 0; i < conns * QUEUES; i++) {
		int q = i % QUEUES;
		owner[n] = q;
		fd[n] = synack_mt_socket(mt[q], 0);
		kfd[n] = -1;
		uint64_t to = 2000000;
		synack_mt_setsockopt(mt[q], fd[n], SYNACK_SOL_SOCKET, SYNACK_SO_SNDTIMEO, &to, sizeof to);
		synack_mt_setsockopt(mt[q], fd[n], SYNACK_SOL_SOCKET, SYNACK_SO_RCVTIMEO, &to, sizeof to);
		if (fd[n] >= 0 && synack_mt_connect(mt[q], fd[n], &remote) == 0) {
			struct pollfd p = {ls, POLLIN, 0};
			if (poll(&p, 1, 2000) == 1)
				kfd[n] = accept(ls, NULL, NULL);
			established += kfd[n] >= 0;
		}
		n++;
	}
	sleep((unsigned)idle);
	uint8_t msg[1000], got[1000];
	for (int i = 0; i < (int)sizeof msg; i++)
		msg[i] = (uint8_t)(i * 7 + 3);
	for (int i = 0; i < n; i++)
		if (kfd[i] >= 0)
			(void)!write(kfd[i], msg, sizeof msg);
	int delivered = 0;
	for (int i = 0; i < n; i++) {
		if (kfd[i] < 0)
			continue;
		ssize_t r = synack_mt_recv(mt[owner[i]], fd[i], got, sizeof got, SYNACK_MSG_WAITALL);
		delivered += r == (ssize_t)sizeof got && !memcmp(got, msg, sizeof msg);
	}
	printf("mqsteer %s: %d queues, %d connections opened by synack, %d established, %d got "
	       "their data after %d s idle\n",
	       argv[1], QUEUES, n, established, delivered, idle);
	for (int i = 0; i < n; i++) {
		if (kfd[i] >= 0)
			close(kfd[i]);
		if (fd[i] >= 0)
			synack_mt_close(mt[owner[i]], fd[i]);
	}
	for (int q = 0; q < QUEUES; q++)
		synack_mt_destroy(mt[q]);
	close(ls);
	return delivered == n ? 0 : 1;
}
