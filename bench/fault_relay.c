/* fault_relay — two kernels joined through synack's simulated path and fault link, on the real
 * clock: how bench/loss.sh measures Linux under exactly the impairment synack gets in the
 * simulator.
 *
 *   fault_relay NS_A DEV_A NS_B DEV_B [a=ADDR] [b=ADDR] [loss=P] [dup=P] [reorder=P]
 *               [corrupt=P] [reorder_us=U] [delay_us=U] [bw=BPS] [qlimit=FRAMES] [seed=N]
 *               [seconds=N]
 *
 * Opens the (existing, configured) plain TUN device DEV_A inside network namespace NS_A (a
 * path such as /run/netns/NAME) and DEV_B inside NS_B. Between them sits a synack_simnet with
 * two endpoints, ADDR_A (default 10.9.0.1, the A kernel's address) and ADDR_B (10.9.0.2), each
 * with the path {delay_us (default 50000), bandwidth BPS (0: none), queue limit FRAMES (0: the
 * simnet default)} and each wrapped in synack_fault_wrap() with the given rates: what kernel A
 * writes to DEV_A is sent on endpoint A (its faults, its path) and comes out of endpoint B
 * into DEV_B when the path delivers it, and the other way round. Time is CLOCK_MONOTONIC in
 * microseconds since start; the process sleeps in ppoll() until a device is readable or the
 * network's next delivery is due. These are the same simnet and fault code the simulator
 * runs synack's stacks on (bench/loss_sim.c), so only the stacks differ.
 *
 * Prints "fault_relay: ready" on stderr when both devices are open; exits after `seconds`
 * (default 600) or on SIGTERM/SIGINT, printing one line of counts on stdout:
 *   frames_ab=N frames_ba=N lost=N dup=N corrupt=N reorder=N taildrop=N win_a=W win_b=W
 *   late_avg_us=U late_max_us=U
 * win_a/win_b: the largest receive window each kernel announced (bytes, scaled by the window
 * scale of its SYN); late: how long after a delivery was due the relay woke up to make it (a
 * process on a shared machine is not woken on the microsecond), the mean over deliveries
 * and the largest. Written for bench/loss.sh; not part of the library.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* setns(), ppoll() */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
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

#include "synack/synack.h"

#define BUF_MAX 65536

static volatile sig_atomic_t stop;
static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void die(const char *what, const char *why)
{
	fprintf(stderr, "fault_relay: %s: %s\n", what, why);
	exit(1);
}

static int open_in(const char *ns, const char *dev)
{
	int nsfd = open(ns, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		die(ns, strerror(errno));
	if (setns(nsfd, CLONE_NEWNET) < 0)
		die("setns", strerror(errno));
	close(nsfd);
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		die("/dev/net/tun", strerror(errno));
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", dev);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		die(dev, strerror(errno));
	return fd;
}

static uint64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* One side: its device, its endpoint (fault-wrapped), and what its kernel announced. */
struct side {
	int fd;
	struct synack_link *link;
	uint64_t frames, taildrop, max_win;
	uint8_t wscale;
};

/* The largest window the kernel behind s announced (per RFC 7323 §2.2 the SYN's own window
 * is never scaled). */
static void note_window(struct side *s, const uint8_t *f, size_t n)
{
	struct synack_ipv4 ip;
	const uint8_t *tcp;
	size_t tlen;
	struct synack_tcp_seg seg;
	if (synack_ipv4_parse(f, n, &ip, &tcp, &tlen) != 0 || ip.proto != SYNACK_PROTO_TCP)
		return;
	struct synack_addr src = synack_addr_v4(ip.src), dst = synack_addr_v4(ip.dst);
	if (synack_tcp_parse(tcp, tlen, &src, &dst, false, &seg) != 0)
		return;
	if (seg.flags & SYNACK_TH_SYN) {
		s->wscale = seg.opts.has_wscale ? seg.opts.wscale : 0;
		return;
	}
	uint64_t w = (uint64_t)seg.win << s->wscale;
	if (w > s->max_win)
		s->max_win = w;
}

/* Everything the kernel behind `from` wrote goes onto its endpoint. */
static void pump_in(struct side *from, uint8_t *buf, uint64_t now)
{
	for (;;) {
		ssize_t n = read(from->fd, buf, BUF_MAX);
		if (n <= 0)
			return;
		from->frames++;
		note_window(from, buf, (size_t)n);
		if (synack_link_send_plain(from->link, buf, (size_t)n, now) == -EAGAIN)
			from->taildrop++;
	}
}

/* Everything the network has delivered to `to` by now goes to its kernel. */
static void pump_out(struct side *to, uint8_t *buf, uint64_t now)
{
	for (;;) {
		ssize_t n = synack_link_recv(to->link, buf, BUF_MAX, NULL, now);
		if (n <= 0)
			return;
		if (write(to->fd, buf, (size_t)n) != n)
			to->taildrop++;
	}
}

struct opts {
	struct synack_fault_params fp;
	struct synack_sim_path path;
	uint32_t a, b;
	uint64_t seed;
	long seconds;
};

static void parse(struct opts *o, const char *arg)
{
	const char *eq = strchr(arg, '=');
	if (!eq)
		die(arg, "expected NAME=VALUE");
	size_t k = (size_t)(eq - arg);
	const char *v = eq + 1;
	struct in_addr ia;
	if ((k == 1 && (arg[0] == 'a' || arg[0] == 'b'))) {
		if (inet_pton(AF_INET, v, &ia) != 1)
			die(arg, "not an IPv4 address");
		*(arg[0] == 'a' ? &o->a : &o->b) = ntohl(ia.s_addr);
		return;
	}
	char *end;
	double d = strtod(v, &end);
	if (*end || end == v || d < 0)
		die(arg, "not a number");
#define IS(name) (k == sizeof(name) - 1 && !strncmp(arg, name, k))
	if (IS("loss"))
		o->fp.loss = d;
	else if (IS("dup"))
		o->fp.dup = d;
	else if (IS("reorder"))
		o->fp.reorder = d;
	else if (IS("corrupt"))
		o->fp.corrupt = d;
	else if (IS("reorder_us"))
		o->fp.reorder_delay_us = (uint32_t)d;
	else if (IS("delay_us"))
		o->path.delay_us = (uint32_t)d;
	else if (IS("bw"))
		o->path.bandwidth_bps = (uint64_t)d;
	else if (IS("qlimit"))
		o->path.queue_limit = (uint32_t)d;
	else if (IS("seed"))
		o->seed = (uint64_t)d;
	else if (IS("seconds"))
		o->seconds = (long)d;
	else
		die(arg, "unknown option");
#undef IS
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: fault_relay NS_A DEV_A NS_B DEV_B [NAME=VALUE...]\n");
		return 2;
	}
	struct opts o = {.path = {.delay_us = 50000}, .a = 0x0a090001u, .b = 0x0a090002u,
			 .seed = 1, .seconds = 600};
	o.fp.reorder_delay_us = 1000;
	for (int i = 5; i < argc; i++)
		parse(&o, argv[i]);
	struct side a = {.fd = open_in(argv[1], argv[2])};
	struct side b = {.fd = open_in(argv[3], argv[4])};
	struct synack_simnet *net;
	struct synack_link *ea, *eb;
	if (synack_simnet_new(&net, o.seed) < 0 || synack_simnet_attach(net, o.a, &o.path, &ea) < 0 ||
	    synack_simnet_attach(net, o.b, &o.path, &eb) < 0 ||
	    synack_fault_wrap(ea, &o.fp, o.seed * 2 + 1, &a.link) < 0 ||
	    synack_fault_wrap(eb, &o.fp, o.seed * 2 + 2, &b.link) < 0)
		die("simnet", "cannot set up the network");
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	fprintf(stderr, "fault_relay: ready\n");
	static uint8_t buf[BUF_MAX];
	uint64_t start = mono_us(), end = (uint64_t)o.seconds * 1000000u;
	uint64_t due = SYNACK_TIME_NEVER, late_sum = 0, late_n = 0, late_max = 0;
	for (;;) {
		uint64_t now = mono_us() - start;
		if (stop || now >= end)
			break;
		if (due <= now) {
			late_sum += now - due;
			late_n++;
			if (now - due > late_max)
				late_max = now - due;
		}
		pump_out(&a, buf, now);
		pump_out(&b, buf, now);
		uint64_t next = synack_link_next_arrival(a.link);
		uint64_t nb = synack_link_next_arrival(b.link);
		if (nb < next)
			next = nb;
		due = next;
		if (next > end)
			next = end;
		uint64_t wait = next > now ? next - now : 0;
		struct timespec ts = {(time_t)(wait / 1000000u), (long)(wait % 1000000u) * 1000};
		struct pollfd p[2] = {{a.fd, POLLIN, 0}, {b.fd, POLLIN, 0}};
		if (ppoll(p, 2, wait ? &ts : &(struct timespec){0, 0}, NULL) < 0 && errno != EINTR)
			die("ppoll", strerror(errno));
		now = mono_us() - start;
		if (p[0].revents & POLLIN)
			pump_in(&a, buf, now);
		if (p[1].revents & POLLIN)
			pump_in(&b, buf, now);
	}
	struct synack_fault_stats fa, fb;
	synack_fault_stats(a.link, &fa);
	synack_fault_stats(b.link, &fb);
	printf("frames_ab=%llu frames_ba=%llu lost=%llu dup=%llu corrupt=%llu reorder=%llu "
	       "taildrop=%llu win_a=%llu win_b=%llu late_avg_us=%llu late_max_us=%llu\n",
	       (unsigned long long)a.frames, (unsigned long long)b.frames,
	       (unsigned long long)(fa.lost + fb.lost), (unsigned long long)(fa.dup + fb.dup),
	       (unsigned long long)(fa.corrupt + fb.corrupt),
	       (unsigned long long)(fa.reorder + fb.reorder),
	       (unsigned long long)(a.taildrop + b.taildrop), (unsigned long long)a.max_win,
	       (unsigned long long)b.max_win,
	       (unsigned long long)(late_n ? late_sum / late_n : 0), (unsigned long long)late_max);
	synack_link_destroy(a.link);
	synack_link_destroy(b.link);
	synack_simnet_destroy(net);
	return 0;
}
