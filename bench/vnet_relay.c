/* vnet_relay — the ceiling for any stack behind TUN: two kernels joined by a process that
 * copies packets between two TUN devices, one read() and one write() per packet and nothing
 * else (no protocol work at all).
 *
 *   vnet_relay NS_A DEV_A NS_B DEV_B [--plain] [--seconds N]
 *
 * Opens TUN device DEV_A inside network namespace NS_A (a path such as /run/netns/NAME) and
 * DEV_B inside NS_B (the devices exist and are configured; a descriptor stays bound to its
 * device after the process moves on with setns()), then forwards every packet read from one
 * to the other. By default both are opened with IFF_VNET_HDR and TUNSETOFFLOAD
 * TUN_F_CSUM|TSO4|TSO6, the virtio-net header passed through unchanged: the kernels exchange
 * 64 KB segments with partial checksums, as synack's offloading TUN link does. --plain opens
 * plain devices (one MTU-sized packet per read and write, every checksum done by the kernels):
 * the ceiling for synack --no-offload. Prints "vnet_relay: ready" when both are open, exits
 * after --seconds (default 600) or on SIGTERM/SIGINT and prints its packet counts to stderr.
 * Written for bench/fastpath.sh; not part of the library.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* setns() */
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define BUF_MAX (65536 + 64)

static volatile sig_atomic_t stop;
static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "vnet_relay: %s: %s\n", what, strerror(err));
	exit(1);
}

static int open_in(const char *ns, const char *dev, bool vnet)
{
	int nsfd = open(ns, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		die(ns, errno);
	if (setns(nsfd, CLONE_NEWNET) < 0)
		die("setns", errno);
	close(nsfd);
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		die("/dev/net/tun", errno);
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	ifr.ifr_flags = (short)(IFF_TUN | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0));
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", dev);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		die(dev, errno);
	unsigned long off = 0;
	if (vnet) {
		int sz = (int)sizeof(struct virtio_net_hdr);
		if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0)
			die("TUNSETVNETHDRSZ", errno);
		off = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
	}
	if (ioctl(fd, TUNSETOFFLOAD, off) < 0)
		die("TUNSETOFFLOAD", errno);
	return fd;
}

struct dir {
	int from, to;
	uint64_t pkts, bytes, drops;
};

/* Moves every packet waiting on d->from to d->to. */
static void pump(struct dir *d, uint8_t *buf)
{
	for (;;) {
		ssize_t n = read(d->from, buf, BUF_MAX);
		if (n <= 0)
			return; /* EAGAIN: nothing left */
		if (write(d->to, buf, (size_t)n) != n)
			d->drops++;
		d->pkts++;
		d->bytes += (uint64_t)n;
	}
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: vnet_relay NS_A DEV_A NS_B DEV_B [--plain] [--seconds N]\n");
		return 2;
	}
	bool vnet = true;
	long seconds = 600;
	for (int i = 5; i < argc; i++) {
		if (!strcmp(argv[i], "--plain"))
			vnet = false;
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = strtol(argv[++i], NULL, 10);
		else
			die(argv[i], EINVAL);
	}
	int a = open_in(argv[1], argv[2], vnet);
	int b = open_in(argv[3], argv[4], vnet);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	fprintf(stderr, "vnet_relay: ready (%s)\n", vnet ? "vnet header, offloads" : "plain");
	static uint8_t buf[BUF_MAX];
	struct dir ab = {a, b, 0, 0, 0}, ba = {b, a, 0, 0, 0};
	time_t end = time(NULL) + seconds;
	while (!stop && time(NULL) < end) {
		struct pollfd p[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
		if (poll(p, 2, 200) < 0 && errno != EINTR)
			die("poll", errno);
		if (p[0].revents & POLLIN)
			pump(&ab, buf);
		if (p[1].revents & POLLIN)
			pump(&ba, buf);
	}
	fprintf(stderr, "vnet_relay: A->B %llu packets %llu bytes (%llu dropped), B->A %llu packets %llu bytes (%llu dropped)\n",
		(unsigned long long)ab.pkts, (unsigned long long)ab.bytes, (unsigned long long)ab.drops,
		(unsigned long long)ba.pkts, (unsigned long long)ba.bytes, (unsigned long long)ba.drops);
	return 0;
}
