/* synack connect: a client on a TUN device. The work is in src/host/xfer.c. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "host/host.h"
#include "host/xfer.h"
#include "render/trace_file.h"

/* Exit codes, one per way of failing. */
enum {
	EXIT_OK = 0,
	EXIT_OTHER = 1,       /* any other error (local I/O, ...) */
	EXIT_USAGE = 2,
	EXIT_SETUP = 3,       /* device, capture, trace or file could not be opened */
	EXIT_REFUSED = 4,     /* ECONNREFUSED: a RST answered the SYN */
	EXIT_TIMEDOUT = 5,    /* ETIMEDOUT: no answer to the SYN, or the connection timed out */
	EXIT_RESET = 6,       /* ECONNRESET/EPIPE: the peer reset an established connection */
	EXIT_UNREACH = 7,     /* EHOSTUNREACH/ENETUNREACH/EACCES...: ICMP(v6) destination unreachable */
	EXIT_INTERRUPTED = 8, /* SIGINT/SIGTERM: the connection was aborted with a RST */
};

static const char connect_help[] =
	"NAME\n"
	"    synack connect - connect over a TUN device, send a file, receive until the peer closes\n"
	"\n"
	"SYNOPSIS\n"
	"    synack connect --tun NAME --addr A.B.C.D/NN|IPV6/NN [--addr ...] HOST:PORT\n"
	"                   [--send FILE|-] [--recv FILE|-] [--pcap FILE] [--trace FILE] [--quiet]\n"
	"                   [--no-offload]\n"
	"\n"
	"DESCRIPTION\n"
	"    synack takes TUN device NAME (as `synack serve` does), answers as its --addr and\n"
	"    connects to HOST:PORT: A.B.C.D:PORT, or [IPV6]:PORT in brackets, from the --addr of\n"
	"    the same family (--addr may be given twice, one of each). It sends FILE (or standard\n"
	"    input), shuts its write half (FIN), and receives until the peer closes, while\n"
	"    sending. Without --send nothing\n"
	"    is sent and synack closes only after the peer has closed (the peer closes first).\n"
	"    Received bytes go to --recv (a file, or - for standard output), or are discarded.\n"
	"    On SIGINT or SIGTERM the connection is aborted with a RST. Progress goes to standard\n"
	"    error: the SYN, each SYN retry (the kernel's defaults wait 127 s before giving up),\n"
	"    the time to connect, and the bytes sent and received once a second and at the end.\n"
	"    In the host's own network namespace, the changes made to it (a TUN device created, an\n"
	"    address given to the kernel's side) are printed, and undone on exit.\n"
	"\n"
	"OPTIONS\n"
	"    --tun NAME, --addr A.B.C.D/NN|IPV6/NN, --pcap FILE, --trace FILE, --no-offload\n"
	"                      as for synack serve\n"
	"    --send FILE|-     what to send\n"
	"    --recv FILE|-     where to write what is received\n"
	"    --quiet, -q       no progress lines (errors are still printed)\n"
	"\n"
	"EXIT STATUS\n"
	"    0  everything was sent and acknowledged by the peer's close; everything received\n"
	"    1  another error        2  usage error       3  setup failed (device, files)\n"
	"    4  connection refused   5  timed out         6  connection reset by the peer\n"
	"    7  host or network unreachable (ICMP, ICMPv6) 8  interrupted (aborted with a RST)\n"
	"    A failure prints one line on standard error.\n";

struct client {
	struct synack_host h;
	struct synack_xfer *x;
	bool finished;
	uint64_t give_up_at;
};

static void client_check(struct client *c)
{
	if (!c->finished && synack_xfer_done(c->x)) {
		c->finished = true;
		c->give_up_at = synack_monotonic_us() + 2000000;
		synack_loop_set_alarm(c->h.loop, synack_monotonic_us());
	}
}

static void client_ready(void *ctx, int fd, unsigned events)
{
	struct client *c = ctx;
	synack_xfer_ready(c->x, fd, events);
	client_check(c);
}

static void client_signal(void *ctx, int signo)
{
	(void)signo;
	struct client *c = ctx;
	synack_xfer_abort(c->x);
	client_check(c);
}

/* After the transfer: give the last ACKs (ours in LAST-ACK) up to 2 s to settle. */
static void client_alarm(void *ctx, uint64_t now)
{
	struct client *c = ctx;
	if (synack_stack_settled(c->h.stack) || now >= c->give_up_at)
		synack_loop_stop(c->h.loop);
	else
		synack_loop_set_alarm(c->h.loop, now + 10000);
}

static int exit_code(int err)
{
	switch (err) {
	case 0: return EXIT_OK;
	case -ECONNREFUSED: return EXIT_REFUSED;
	case -ETIMEDOUT: return EXIT_TIMEDOUT;
	case -ECONNRESET:
	case -EPIPE: return EXIT_RESET;
	case -EHOSTUNREACH:
	case -ENETUNREACH:
	case -EHOSTDOWN:
	case -ENONET:
	case -EPROTO:
	case -ENOPROTOOPT:
	case -EACCES: return EXIT_UNREACH; /* ICMPv6 administratively prohibited, as Linux */
	case -EINTR: return EXIT_INTERRUPTED;
	default: return EXIT_OTHER;
	}
}

static int usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, "synack connect: %s%s%s%s (synack connect --help)\n", msg, arg ? " '" : "",
		arg ? arg : "", arg ? "'" : "");
	return EXIT_USAGE;
}

struct connect_args {
	struct synack_host_opts host;
	const char *send, *recv, *target;
};

static int parse_args(int argc, char **argv, struct connect_args *a)
{
	static const struct option opts[] = {
		{"tun", required_argument, 0, 't'},  {"addr", required_argument, 0, 'a'},
		{"send", required_argument, 0, 's'}, {"recv", required_argument, 0, 'r'},
		{"pcap", required_argument, 0, 'w'}, {"trace", required_argument, 0, 'T'},
		{"quiet", no_argument, 0, 'q'},      {"help", no_argument, 0, 'h'},
		{"no-offload", no_argument, 0, 'O'},
		{0, 0, 0, 0}};
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hq", opts, NULL)) != -1) {
		switch (c) {
		case 't': a->host.tun = optarg; break;
		case 'a':
			if (synack_cli_add_addr("synack connect", a->host.cidr, optarg))
				return 2;
			break;
		case 's': a->send = optarg; break;
		case 'r': a->recv = optarg; break;
		case 'w': a->host.pcap = optarg; break;
		case 'O': a->host.no_offload = true; break;
		case 'T':
			a->host.trace = optarg;
			a->host.trace_sink = (struct synack_trace_sink){synack_trace_file_open,
								    synack_trace_file_close};
			break;
		case 'h': fputs(connect_help, stdout); return -1;
		case 'q': a->host.progress = false; break;
		case ':': return usage_error("this option needs a value:", argv[optind - 1]);
		default: return usage_error("unknown option", argv[optind - 1]);
		}
	}
	if (optind + 1 != argc)
		return usage_error("want exactly one HOST:PORT", NULL);
	a->target = argv[optind];
	if (!a->host.tun || !a->host.cidr[0])
		return usage_error("--tun and --addr are required", NULL);
	return synack_cli_check_tun_addr("synack connect", a->host.tun, a->host.cidr);
}

/* A.B.C.D:PORT or [IPV6]:PORT. */
static int parse_hostport(const char *s, struct synack_endpoint *ep)
{
	char buf[64];
	const char *colon = strrchr(s, ':'), *host = s;
	size_t hlen = colon ? (size_t)(colon - s) : 0;
	if (colon && s[0] == '[') {
		if (hlen < 2 || s[hlen - 1] != ']')
			return -EINVAL;
		host = s + 1;
		hlen -= 2;
	}
	if (!colon || hlen >= sizeof buf)
		return -EINVAL;
	memcpy(buf, host, hlen);
	buf[hlen] = '\0';
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || port < 1 || port > 65535)
		return -EINVAL;
	ep->port = (uint16_t)port;
	struct synack_addr a;
	if (synack_addr_parse(buf, &a) < 0 || (s[0] == '[') == synack_addr_is_v4(&a))
		return -EINVAL; /* IPv6 only in brackets, and an IPv4 address never */
	ep->addr = a;
	return 0;
}

/* Has --addr given synack an address of the family of `to`? */
static bool have_family(const struct connect_args *a, const struct synack_addr *to)
{
	for (int i = 0; i < 2 && a->host.cidr[i]; i++) {
		struct synack_addr x;
		unsigned p;
		if (synack_parse_prefix(a->host.cidr[i], &x, &p) == 0 &&
		    synack_addr_is_v4(&x) == synack_addr_is_v4(to))
			return true;
	}
	return false;
}

static int open_file(const char *path, bool for_write)
{
	if (!path)
		return -1;
	if (!strcmp(path, "-"))
		return dup(for_write ? STDOUT_FILENO : STDIN_FILENO);
	return for_write ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)
			 : open(path, O_RDONLY | O_CLOEXEC);
}

int synack_cmd_connect(int argc, char **argv)
{
	struct connect_args a = {.host = {.name = "synack", .cmd = "synack connect", .progress = true}};
	int rc = parse_args(argc, argv, &a);
	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	struct synack_endpoint remote;
	if (parse_hostport(a.target, &remote) < 0)
		return usage_error("HOST:PORT: want A.B.C.D:PORT or [IPV6]:PORT, not", a.target);
	if (!have_family(&a, &remote.addr))
		return usage_error(synack_addr_is_v4(&remote.addr)
					   ? "HOST:PORT: an IPv4 peer needs an IPv4 --addr; got"
					   : "HOST:PORT: an IPv6 peer needs an IPv6 --addr; got",
				   a.host.cidr[0]);
	int in_fd = open_file(a.send, false), out_fd = open_file(a.recv, true);
	if ((a.send && in_fd < 0) || (a.recv && out_fd < 0)) {
		fprintf(stderr, "synack connect: %s: %s\n", in_fd < 0 && a.send ? a.send : a.recv,
			strerror(errno));
		return EXIT_SETUP;
	}
	struct client c = {0};
	struct synack_loop_hooks hooks = {.on_ready = client_ready, .on_signal = client_signal,
					  .on_alarm = client_alarm, .ctx = &c};
	char why[256];
	int err = synack_host_open(&c.h, &a.host, &hooks, why, sizeof why);
	if (err) {
		fprintf(stderr, "synack connect: %s\n", why);
		return EXIT_SETUP;
	}
	err = synack_xfer_start(&c.x, c.h.loop, &remote, in_fd, out_fd);
	if (!err)
		err = synack_loop_run(c.h.loop);
	if (!err)
		err = synack_xfer_error(c.x);
	if (err)
		fprintf(stderr, "synack connect: %s: %s\n", a.target,
			err == -EINTR ? "interrupted, connection aborted" : strerror(-err));
	synack_xfer_free(c.x);
	synack_host_close(&c.h);
	if (in_fd >= 0)
		close(in_fd);
	if (out_fd >= 0 && close(out_fd) < 0 && !err)
		err = -EIO;
	return exit_code(err);
}
