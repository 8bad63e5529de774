/* tunrelay — a test helper for tests/render/netns.sh: a lossy, slow wire between two kernels.
 *
 * Opens TUN device DEV_A inside network namespace NS_A and DEV_B inside NS_B (a TUN device
 * lives in the namespace where it is attached; the descriptor stays bound to it after the
 * process moves on with setns()), then forwards every IPv4 packet read from one to the other:
 * held for --delay-ms (one way, so the round trip is twice that), then sent through synack's
 * fault decorator (synack_fault_wrap: loss, duplication, reordering, corruption, all drawn from
 * --seed). Kernel TCP in NS_A then talks to kernel TCP in NS_B across it, so tcpdump on either
 * device sees real retransmissions, and FINs sent at the same instant cross inside the relay.
 *
 *   tunrelay NS_A DEV_A NS_B DEV_B [--delay-ms N] [--loss P] [--dup P] [--reorder P]
 *            [--corrupt P] [--seed S] [--seconds N]
 *
 * NS_* are paths such as /run/netns/NAME. The devices must exist and be configured (addresses,
 * up): the script does that with `ip tuntap add`. Prints "tunrelay: ready" once both are open,
 * exits after --seconds (default 60) or on SIGTERM/SIGINT, and prints what it did to stderr.
 * Built by netns.sh against libsynack.a; not part of the library.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "synack/tun.h"
#include "synack/link.h"

#define QCAP 8192       /* frames waiting out the delay, per direction */
#define FRAME_MAX 65536 /* a TUN read never returns more than one IPv4 packet */

struct slot {
	uint64_t due;
	struct synack_frame_meta meta; /* as the reading link gave it; meta.len bytes */
	uint8_t *data;
};

/* One direction: frames read from `from`, delayed, sent into `to` (a fault decorator). */
struct dir {
	struct synack_link *from, *to;
	struct slot q[QCAP]; /* FIFO: a fixed delay keeps the order */
	size_t head, n;
	uint64_t read, sent, overflow, send_err, not_ipv4;
};

static volatile sig_atomic_t stop;
static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "tunrelay: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

/* Enters namespace `ns` and opens TUN device `dev` there. */
static struct synack_link *open_in(const char *ns, const char *dev)
{
	int fd = open(ns, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die(ns, errno);
	if (setns(fd, CLONE_NEWNET) < 0)
		die("setns", errno);
	close(fd);
	struct synack_link *l;
	/* The script gave the kernel's side its address; 0.0.0.0 never clashes with it. */
	int err = synack_tun_open_flags(dev, 0, 24, SYNACK_TUN_NO_OFFLOAD, NULL, &l);
	if (err)
		die(dev, err);
	return l;
}

/* Reads every packet waiting on d->from into the delay queue. */
static void take(struct dir *d, uint8_t *buf, uint64_t delay_us)
{
	for (;;) {
		uint64_t now = now_us();
		struct synack_frame_meta meta;
		ssize_t n = synack_link_recv(d->from, buf, FRAME_MAX, &meta, now);
		if (n <= 0)
			return; /* 0: nothing waiting; an error (-EMSGSIZE) loses one packet */
		d->read++;
		if ((buf[0] >> 4) != 4) {
			d->not_ipv4++;
			continue;
		}
		if (d->n == QCAP) {
			d->overflow++;
			continue;
		}
		struct slot *s = &d->q[(d->head + d->n) % QCAP];
		s->data = malloc((size_t)n);
		if (!s->data)
			die("malloc", ENOMEM);
		memcpy(s->data, buf, (size_t)n);
		s->meta = meta;
		s->due = now + delay_us;
		d->n++;
	}
}

/* Sends the frames whose delay is over; returns the next due time (UINT64_MAX: none). */
static uint64_t give(struct dir *d)
{
	uint64_t now = now_us();
	while (d->n) {
		struct slot *s = &d->q[d->head];
		if (s->due > now)
			return s->due;
		int err = synack_link_send(d->to, s->data, &s->meta, now);
		if (err)
			d->send_err++;
		else
			d->sent++;
		free(s->data);
		d->head = (d->head + 1) % QCAP;
		d->n--;
	}
	return UINT64_MAX;
}

static double prob(const char *s)
{
	char *end;
	double p = strtod(s, &end);
	if (*end || !(p >= 0 && p <= 1)) {
		fprintf(stderr, "tunrelay: probability out of [0, 1]: %s\n", s);
		exit(2);
	}
	return p;
}

static void report(const char *name, const struct dir *d)
{
	struct synack_fault_stats st = {0};
	(void)synack_fault_stats(d->to, &st);
	fprintf(stderr,
		"tunrelay: %s: read %llu, sent %llu, lost %llu, dup %llu, reordered %llu, "
		"corrupted %llu, queue overflow %llu, send errors %llu, not IPv4 %llu\n",
		name, (unsigned long long)d->read, (unsigned long long)d->sent,
		(unsigned long long)st.lost, (unsigned long long)st.dup,
		(unsigned long long)st.reorder, (unsigned long long)st.corrupt,
		(unsigned long long)d->overflow, (unsigned long long)d->send_err,
		(unsigned long long)d->not_ipv4);
}

struct opts {
	struct synack_fault_params fault;
	uint64_t delay_us, seed, seconds;
};

static void parse(int argc, char **argv, struct opts *o)
{
	if (argc < 5) {
		fprintf(stderr, "usage: tunrelay NS_A DEV_A NS_B DEV_B [--delay-ms N] [--loss P] "
				"[--dup P] [--reorder P] [--corrupt P] [--seed S] [--seconds N]\n");
		exit(2);
	}
	*o = (struct opts){.seed = 1, .seconds = 60};
	for (int i = 5; i < argc; i += 2) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v) {
			fprintf(stderr, "tunrelay: %s needs a value\n", k);
			exit(2);
		}
		if (!strcmp(k, "--delay-ms"))
			o->delay_us = strtoull(v, NULL, 10) * 1000u;
		else if (!strcmp(k, "--loss"))
			o->fault.loss = prob(v);
		else if (!strcmp(k, "--dup"))
			o->fault.dup = prob(v);
		else if (!strcmp(k, "--reorder"))
			o->fault.reorder = prob(v);
		else if (!strcmp(k, "--corrupt"))
			o->fault.corrupt = prob(v);
		else if (!strcmp(k, "--seed"))
			o->seed = strtoull(v, NULL, 0);
		else if (!strcmp(k, "--seconds"))
			o->seconds = strtoull(v, NULL, 10);
		else {
			fprintf(stderr, "tunrelay: unknown option %s\n", k);
			exit(2);
		}
	}
}

int main(int argc, char **argv)
{
	struct opts o;
	parse(argc, argv, &o);
	struct synack_fault_params fp = o.fault;
	uint64_t delay_us = o.delay_us, seed = o.seed, seconds = o.seconds;
	struct synack_link *ta = open_in(argv[1], argv[2]);
	struct synack_link *tb = open_in(argv[3], argv[4]);
	static struct dir ab, ba;
	int err = synack_fault_wrap(tb, &fp, seed, &ab.to);
	if (!err)
		err = synack_fault_wrap(ta, &fp, seed ^ 0x9e3779b97f4a7c15ull, &ba.to);
	if (err)
		die("synack_fault_wrap", err);
	ab.from = ba.to; /* reads pass through the decorator untouched */
	ba.from = ab.to;

	struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: poll() returns */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	printf("tunrelay: ready\n");
	fflush(stdout);

	static uint8_t buf[FRAME_MAX];
	uint64_t end = now_us() + seconds * 1000000u;
	while (!stop) {
		uint64_t next = end;
		uint64_t t = give(&ab);
		next = t < next ? t : next;
		t = give(&ba);
		next = t < next ? t : next;
		/* frames the decorators hold back to reorder them */
		t = synack_link_next_arrival(ab.to);
		next = t < next ? t : next;
		t = synack_link_next_arrival(ba.to);
		next = t < next ? t : next;
		uint64_t now = now_us();
		if (now >= end)
			break;
		int ms = next > now ? (int)((next - now + 999) / 1000) : 0;
		struct pollfd pfd[2] = {{.fd = ta->fd, .events = POLLIN}, {.fd = tb->fd, .events = POLLIN}};
		if (poll(pfd, 2, ms) < 0 && errno != EINTR)
			die("poll", errno);
		take(&ab, buf, delay_us);
		take(&ba, buf, delay_us);
	}
	report("A->B", &ab);
	report("B->A", &ba);
	synack_link_destroy(ab.to);
	synack_link_destroy(ba.to);
	return 0;
}
