/* synack — a stack on a real wire, see host.h. */
#include "host/host.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/ipv6.h> /* struct in6_ifreq */
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(char *why, size_t cap, int err, const char *what, const char *arg)
{
	snprintf(why, cap, "%s %s: %s", what, arg ? arg : "", strerror(-err));
	return err;
}

/* What to do about the TUN device's usual errors. */
static int tun_fail(char *why, size_t cap, int err, const char *name)
{
	const char *hint = "";
	switch (err) {
	case -EPERM:
	case -EACCES:
		hint = "; run as root, or give the program CAP_NET_ADMIN (sudo setcap "
		       "cap_net_admin+ep build/synack), or work in a namespace (scripts/netns shell)";
		break;
	case -ENOENT:
	case -ENODEV:
		hint = "; /dev/net/tun is missing: load the tun module (modprobe tun)";
		break;
	case -EBUSY:
		hint = "; another process holds the device (another synack?): pick another --tun name";
		break;
	case -EINVAL:
		hint = name && strlen(name) >= IFNAMSIZ
			       ? "; a device name has at most 15 characters"
			       : "; the name is not a TUN device's (is it another kind of interface?)";
		break;
	case -EADDRINUSE:
		hint = "; the kernel already has that address on the device: give synack another "
		       "--addr in the prefix";
		break;
	case -EAFNOSUPPORT:
		hint = "; IPv6 is off on the device: turn it on (sysctl -w "
		       "net.ipv6.conf.DEVICE.disable_ipv6=0; in a namespace from scripts/netns, "
		       "give `netns up` an IPv6 prefix)";
		break;
	default:
		break;
	}
	snprintf(why, cap, "--tun %s: %s%s", name ? name : "", strerror(-err), hint);
	return err;
}

/* Whether this process runs in the host's own network namespace (that of PID 1). */
static bool host_netns(void)
{
	struct stat self, init;
	if (stat("/proc/self/ns/net", &self) < 0 || stat("/proc/1/ns/net", &init) < 0)
		return false; /* cannot tell: say nothing */
	return self.st_ino == init.st_ino && self.st_dev == init.st_dev;
}

static const char *ipv4_str(uint32_t a, char *buf, size_t cap)
{
	snprintf(buf, cap, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
	return buf;
}

/* "10.77.0.1/24 and fd00::1/64": the kernel's addresses synack gave the device. */
static void kernel_addrs_str(const struct synack_host *h, char *buf, size_t cap)
{
	char ka[16], k6[SYNACK_ADDR_STRLEN];
	unsigned p4 = 0, p6 = 0;
	for (size_t i = 0; i < h->naddrs; i++)
		*(synack_addr_is_v4(&h->addrs[i].addr) ? &p4 : &p6) = h->addrs[i].prefix;
	synack_addr_str(&h->tun.kernel_addr6, k6, sizeof k6);
	ipv4_str(h->tun.kernel_addr, ka, sizeof ka);
	if (h->tun.addr_set && h->tun.addr6_set)
		snprintf(buf, cap, "%s/%u and %s/%u", ka, p4, k6, p6);
	else if (h->tun.addr_set)
		snprintf(buf, cap, "%s/%u", ka, p4);
	else
		snprintf(buf, cap, "%s/%u", k6, p6);
}

static void announce(const struct synack_host *h)
{
	bool set = h->tun.addr_set || h->tun.addr6_set;
	if (!h->in_host_netns || (!h->tun.created && !set))
		return;
	fprintf(stderr, "%s: changing this host's network (not a namespace made for synack):%s%s%s",
		h->cmd, h->tun.created ? " created TUN device " : "",
		h->tun.created ? h->tun.name : "", h->tun.created && set ? ";" : "");
	if (set) {
		char ka[96];
		kernel_addrs_str(h, ka, sizeof ka);
		fprintf(stderr, " gave the kernel's side of %s %s (a route to the prefix)",
			h->tun.name, ka);
	}
	fprintf(stderr, "; undone when synack exits\n");
}

/* The IPv6 address synack gave the kernel's side of the device (SIOCDIFADDR). */
static bool remove_kernel_addr6(const struct synack_host *h)
{
	unsigned prefix = 0;
	for (size_t i = 0; i < h->naddrs; i++)
		if (!synack_addr_is_v4(&h->addrs[i].addr))
			prefix = h->addrs[i].prefix;
	int s = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return false;
	struct in6_ifreq r;
	memset(&r, 0, sizeof r);
	memcpy(&r.ifr6_addr, h->tun.kernel_addr6.b, 16);
	r.ifr6_prefixlen = prefix;
	r.ifr6_ifindex = (int)if_nametoindex(h->tun.name);
	bool ok = ioctl(s, SIOCDIFADDR, &r) == 0;
	close(s);
	return ok;
}

/* The kernel's addresses synack gave a device that outlives it (one it did not create: a
 * device it created goes away with its descriptor, addresses and routes with it). */
static void remove_kernel_addr(const struct synack_host *h)
{
	bool ok = true;
	if (h->tun.addr_set) {
		int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		struct ifreq ifr;
		memset(&ifr, 0, sizeof ifr);
		snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", h->tun.name);
		struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0)};
		memcpy(&ifr.ifr_addr, &sin, sizeof sin);
		ok = s >= 0 && ioctl(s, SIOCSIFADDR, &ifr) == 0;
		if (s >= 0)
			close(s);
	}
	if (h->tun.addr6_set && !remove_kernel_addr6(h))
		ok = false;
	if (h->in_host_netns) {
		char ka[96];
		kernel_addrs_str(h, ka, sizeof ka);
		fprintf(stderr, "%s: %s %s from %s\n", h->cmd, ok ? "removed" : "could not remove",
			ka, h->tun.name);
	}
}

/* --progress: what a user waiting on a connect wants to see, from the trace events. */
static void progress(struct synack_host *h, const struct synack_trace_event *ev)
{
	struct synack_host_progress *p = &h->prog;
	char ra[SYNACK_ADDR_STRLEN];
	if (ev->kind == SYNACK_TRACE_TX && ev->seg &&
	    (ev->seg->flags & (SYNACK_TH_SYN | SYNACK_TH_ACK)) == SYNACK_TH_SYN) {
		if (!p->opened) {
			p->opened = true;
			p->t_open = ev->t_us;
			fprintf(stderr, "%s: SYN to %s:%u\n", h->cmd,
				synack_addr_str(&ev->remote.addr, ra, sizeof ra), ev->remote.port);
		} else {
			p->syn_retries++;
			fprintf(stderr, "%s: no answer after %.1f s: SYN retry %u\n", h->cmd,
				(double)(ev->t_us - p->t_open) / 1e6, p->syn_retries);
		}
		return;
	}
	if (ev->kind == SYNACK_TRACE_STATE && ev->to == SYNACK_ESTABLISHED && !p->connected) {
		p->connected = true;
		p->last_print = ev->t_us;
		fprintf(stderr, "%s: connected in %.1f ms\n", h->cmd,
			(double)(ev->t_us - p->t_open) / 1e3);
		return;
	}
	if (ev->seg && ev->kind == SYNACK_TRACE_TX && !ev->retx)
		p->sent += ev->seg->len;
	else if (ev->seg && ev->kind == SYNACK_TRACE_RX)
		p->rcvd += ev->seg->len;
	else
		return;
	if (p->connected && ev->t_us - p->last_print >= 1000000) {
		p->last_print = ev->t_us;
		fprintf(stderr, "%s: %llu bytes sent, %llu received\n", h->cmd,
			(unsigned long long)p->sent, (unsigned long long)p->rcvd);
	}
}

static void host_trace(void *ctx, const struct synack_trace_event *ev)
{
	struct synack_host *h = ctx;
	if (h->prog.on)
		progress(h, ev);
	if (h->trace_next)
		h->trace_next(h->trace_next_ctx, ev);
}

/* io_uring write batching (when built with liburing) is off by default: SYNACK_TUN_URING=1
 * in the environment turns it on (bench/README.md). It was turned off when, with it on, the
 * interop suite's 64 MiB echo from synack without offloads stalled: the kernel stopped taking
 * synack's segments. The cause was synack's send window overshooting the kernel's (fixed in
 * tcp_ack.c's window_update); it stays off until a CI run has had it on. */
static bool uring_wanted(void)
{
	const char *e = getenv("SYNACK_TUN_URING");
	return e && strcmp(e, "1") == 0;
}

int synack_host_open(struct synack_host *h, const struct synack_host_opts *o,
		     const struct synack_loop_hooks *hooks, char *why, size_t why_cap)
{
	memset(h, 0, sizeof *h);
	h->cmd = o->cmd ? o->cmd : "synack";
	h->in_host_netns = host_netns();
	h->prog.on = o->progress;
	h->queues = o->queues > 1 ? o->queues : 1;
	h->no_offload = o->no_offload;
	for (size_t i = 0; i < 2 && o->cidr[i]; i++) {
		struct synack_tun_addr *a = &h->addrs[h->naddrs++];
		if (synack_parse_prefix(o->cidr[i], &a->addr, &a->prefix) < 0)
			return fail(why, why_cap, -EINVAL, "--addr: want A.B.C.D/NN or IPV6/NN, not",
				    o->cidr[i]);
	}
	if (h->naddrs == 2 &&
	    synack_addr_is_v4(&h->addrs[0].addr) == synack_addr_is_v4(&h->addrs[1].addr))
		return fail(why, why_cap, -EINVAL, "--addr: one address of each family at most, not",
			    o->cidr[1]);
	if (h->queues > SYNACK_HOST_QUEUES_MAX ||
	    (h->queues > 1 && (o->pcap || o->trace || o->progress || o->loss > 0 || o->dup > 0 ||
			       o->reorder > 0 || o->corrupt > 0)))
		return fail(why, why_cap, -EINVAL,
			    "more than one queue with a capture, a trace or the fault link", "");
	struct synack_link *link;
	unsigned tflags = (o->no_offload ? SYNACK_TUN_NO_OFFLOAD : 0) |
			  (h->queues > 1 ? SYNACK_TUN_MULTI_QUEUE : 0) |
			  (uring_wanted() ? SYNACK_TUN_URING : 0);
	int err = synack_tun_open_addrs(o->tun, h->addrs, h->naddrs, tflags, &h->tun, &link);
	if (err == -EINVAL && h->queues > 1 && if_nametoindex(o->tun) != 0) {
		snprintf(why, why_cap, "--tun %s: the device exists without multi-queue: remove it, "
			 "create it with `ip tuntap add %s mode tun multi_queue`, or use --threads 1",
			 o->tun, o->tun);
		return err;
	}
	if (err)
		return tun_fail(why, why_cap, err, o->tun);
	announce(h);
	for (unsigned q = 1; q < h->queues; q++) {
		err = synack_tun_open_queue(&h->tun, tflags & SYNACK_TUN_NO_OFFLOAD, &h->qlink[q]);
		if (err) {
			synack_link_destroy(link);
			synack_host_close(h);
			return tun_fail(why, why_cap, err, o->tun);
		}
	}
	/* Without the program, the kernel's own choice still keeps every connection the kernel
	 * opens on one queue; only the ports of our own connects are then left to chance. */
	h->steered = h->queues > 1 && synack_tun_steer(link) == 0;
	if (o->pcap) {
		struct synack_pcap_writer *w;
		struct synack_link *wrapped;
		err = synack_pcap_open(&w, o->pcap);
		if (!err)
			synack_pcap_set_limit(w, o->pcap_max);
		if (!err && (err = synack_pcap_wrap(link, w, &wrapped)) < 0)
			synack_pcap_close(w);
		if (err) {
			synack_link_destroy(link);
			return fail(why, why_cap, err, "cannot write capture", o->pcap);
		}
		link = wrapped;
	}
	if (o->loss > 0 || o->dup > 0 || o->reorder > 0 || o->corrupt > 0) {
		struct synack_fault_params fp = {.loss = o->loss, .dup = o->dup,
						 .reorder = o->reorder, .corrupt = o->corrupt};
		struct synack_link *wrapped;
		err = synack_fault_wrap(link, &fp, 1, &wrapped);
		if (err) {
			synack_link_destroy(link);
			return fail(why, why_cap, err, "cannot add the fault link", "--loss");
		}
		link = wrapped;
	}
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.name = o->name;
	for (size_t i = 0; i < h->naddrs; i++) /* parse_prefix checked them */
		synack_config_add_addr(&cfg, h->addrs[i].addr, h->addrs[i].prefix);
	if (o->max_sockets)
		cfg.max_sockets = o->max_sockets;
	cfg.sndbuf_max = 4194304; /* the library default too (tcp_autotune.c) */
	if (h->tun.mtu >= 576 && h->tun.mtu - 40 < cfg.mss)
		cfg.mss = (uint16_t)(h->tun.mtu - 40);
	if (h->steered)
		cfg.steer_queues = (uint16_t)h->queues;
	if (o->trace) {
		err = o->trace_sink.open && o->trace_sink.close
			      ? o->trace_sink.open(&h->trace_state, o->trace, &cfg)
			      : -EINVAL;
		if (!err)
			h->trace_close = o->trace_sink.close;
		if (err) {
			synack_link_destroy(link);
			return fail(why, why_cap, err, "cannot write trace", o->trace);
		}
	}
	if (h->prog.on) { /* progress first, then the trace file */
		h->trace_next = cfg.trace;
		h->trace_next_ctx = cfg.trace_ctx;
		cfg.trace = host_trace;
		cfg.trace_ctx = h;
	}
	h->cfg = cfg;
	err = synack_loop_new(&h->loop, link, &cfg, hooks);
	if (err) {
		synack_link_destroy(link);
		synack_host_close(h);
		return fail(why, why_cap, err, "cannot start the stack", "");
	}
	h->stack = synack_loop_stack(h->loop);
	h->qloop[0] = h->loop;
	if (o->ctl && h->queues == 1 && (err = synack_ctl_open(&h->ctl, o->ctl, h->loop)) < 0) {
		synack_host_close(h);
		return fail(why, why_cap, err, "cannot open control socket", o->ctl);
	}
	return 0;
}

int synack_host_add_queue(struct synack_host *h, unsigned q, const struct synack_loop_hooks *hooks)
{
	if (q == 0 || q >= h->queues || !h->qlink[q] || h->qloop[q])
		return -EINVAL;
	struct synack_config cfg = h->cfg;
	cfg.steer_queue = (uint16_t)q;
	int err = synack_loop_new(&h->qloop[q], h->qlink[q], &cfg, hooks);
	if (!err)
		h->qlink[q] = NULL; /* the loop owns it */
	return err;
}

void synack_host_close(struct synack_host *h)
{
	for (unsigned q = 1; q < SYNACK_HOST_QUEUES_MAX; q++) {
		synack_loop_destroy(h->qloop[q]);
		synack_link_destroy(h->qlink[q]);
		h->qloop[q] = NULL;
		h->qlink[q] = NULL;
	}
	h->qloop[0] = NULL;
	synack_ctl_close(h->ctl);
	h->ctl = NULL;
	bool had_loop = h->loop != NULL;
	synack_loop_destroy(h->loop);
	h->loop = NULL;
	if (had_loop && (h->tun.addr_set || h->tun.addr6_set) && !h->tun.created)
		remove_kernel_addr(h);
	if (had_loop && h->prog.on && h->prog.connected)
		fprintf(stderr, "%s: %llu bytes sent, %llu received\n", h->cmd,
			(unsigned long long)h->prog.sent, (unsigned long long)h->prog.rcvd);
	if (had_loop && h->in_host_netns && h->tun.created)
		fprintf(stderr, "%s: TUN device %s removed\n", h->cmd, h->tun.name);
	h->stack = NULL;
	if (h->trace_close)
		h->trace_close(h->trace_state);
	h->trace_state = NULL;
	h->trace_close = NULL;
}
