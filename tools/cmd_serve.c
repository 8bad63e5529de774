/* synack serve: a built-in server on a TUN device. The work is in src/apps and src/host. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "apps/server.h"
#include "commands.h"
#include "host/host.h"
#include "render/trace_file.h"

static const char serve_help[] =
	"NAME\n"
	"    synack serve - serve echo, discard, chargen or http on a TUN device\n"
	"\n"
	"SYNOPSIS\n"
	"    synack serve --tun NAME --addr A.B.C.D/NN [--port P] --app echo|discard|chargen|http\n"
	"                 [--root DIR] [--pcap FILE] [--ctl PATH] [--max-conns N] [--trace FILE]\n"
	"                 [--idle-timeout S] [--header-timeout S] [--pcap-max SIZE] [--no-offload]\n"
	"                 [--loss P] [--dup P] [--reorder P] [--corrupt P]\n"
	"\n"
	"DESCRIPTION\n"
	"    synack takes TUN device NAME (creating it if it does not exist, and bringing it up),\n"
	"    answers as A.B.C.D and serves the application on port P. If the device has no IPv4\n"
	"    address, the kernel's side gets the first other host address of the prefix (.1, or .2\n"
	"    when synack is .1). It runs until SIGINT or SIGTERM, then stops listening, closes its\n"
	"    connections gracefully, waits (at most 3 s) until every close is acknowledged, resets\n"
	"    those whose peer has not finished (none is left half-open) and\n"
	"    exits 0. In the host's own network namespace (not one made for it, like\n"
	"    scripts/netns's), the changes made to it are printed: the TUN device created, the\n"
	"    address given to the kernel's side; both are undone on exit.\n"
	"\n"
	"OPTIONS\n"
	"    --tun NAME        the TUN device\n"
	"    --addr A.B.C.D/NN synack's address and prefix length (required: 10.77.0.2/24)\n"
	"    --app APP         echo (RFC 862), discard (RFC 863), chargen (RFC 864) or http\n"
	"                      (HTTP/1.1, keep-alive, GET and HEAD: a built-in page at / and the\n"
	"                      files under --root)\n"
	"    --port P          the port (default: 7 echo, 9 discard, 19 chargen, 80 http)\n"
	"    --root DIR        http: serve files under DIR (never outside it; must exist)\n"
	"    --pcap FILE       capture every frame to FILE (pcap, LINKTYPE_RAW); with offloads a\n"
	"                      large segment (up to 64 KB) is one packet, as tcpdump shows GSO,\n"
	"                      its checksum completed: the MTU-sized pieces exist only in the kernel\n"
	"    --pcap-max SIZE   stop capturing before FILE passes SIZE bytes (K, M, G suffixes;\n"
	"                      default: no limit); the file stays a whole capture of the start\n"
	"    --ctl PATH        a control socket (mode 0600) for `synack ss` and `synack nstat`\n"
	"    --max-conns N     serve at most N connections at once; more are closed on accept\n"
	"                      (default 1000)\n"
	"    --trace FILE      write the stack's trace events to FILE as JSON lines\n"
	"    --idle-timeout S  reset a connection that has not moved for S seconds: nothing\n"
	"                      received, nothing of ours acknowledged (default 60; 0: never)\n"
	"    --header-timeout S  http: reset a connection whose request head is not complete\n"
	"                      S seconds after it began (default 20; 0: never), so slow clients\n"
	"                      (slowloris) cannot hold the --max-conns slots\n"
	"    --no-offload      a plain TUN device: no virtio-net header, so no checksum or\n"
	"                      segmentation offload (by default the kernel and synack exchange\n"
	"                      TCP segments of up to 64 KB with their checksums unfinished)\n"
	"    --loss P, --dup P, --reorder P, --corrupt P\n"
	"                      test the peer's recovery: lose, duplicate, reorder (hold back\n"
	"                      1 ms) or corrupt (1-3 bits, the checksum completed first) each\n"
	"                      frame synack sends with probability P (0 to 1; default 0), through\n"
	"                      the fault link (a fixed seed); the capture holds what reached the device\n"
	"\n"
	"EXIT STATUS\n"
	"    0 after a signal and a graceful close; 2 on a usage error; 3 if the device, the\n"
	"    capture, the trace, the control socket or the listening socket cannot be set up.\n"
	"\n"
	"EXAMPLE\n"
	"    scripts/netns shell\n"
	"    synack serve --tun tun0 --addr 10.77.0.2/24 --app http --ctl /tmp/synack.sock &\n"
	"    curl http://10.77.0.2/\n";

struct serve {
	struct synack_host h;
	struct synack_server *srv;
	bool stopping;
	uint64_t give_up_at; /* the end of the graceful close */
};

static void serve_ready(void *ctx, int fd, unsigned events)
{
	struct serve *sv = ctx;
	if (sv->srv)
		synack_server_ready(sv->srv, fd, events);
}

/* The apps' timeouts; while stopping, every 20 ms, whether every close has been
 * acknowledged. */
static void serve_alarm(void *ctx, uint64_t now)
{
	struct serve *sv = ctx;
	if (!sv->stopping) {
		synack_loop_set_alarm(sv->h.loop,
				      synack_server_tick(sv->srv, synack_stack_now(sv->h.stack)));
		return;
	}
	if (synack_stack_settled(sv->h.stack)) {
		synack_loop_stop(sv->h.loop);
	} else if (now >= sv->give_up_at) {
		/* Peers that never acknowledged our FIN: reset, not left half-open. */
		size_t n = synack_stack_abort_all(sv->h.stack);
		fprintf(stderr, "synack serve: %zu connection%s did not finish closing in 3 s: reset\n",
			n, n == 1 ? "" : "s");
		synack_loop_stop(sv->h.loop);
	} else
		synack_loop_set_alarm(sv->h.loop, now + 20000);
}

static void serve_signal(void *ctx, int signo)
{
	(void)signo;
	struct serve *sv = ctx;
	if (sv->stopping) {
		synack_loop_stop(sv->h.loop); /* a second signal: leave now */
		return;
	}
	sv->stopping = true;
	synack_server_shutdown(sv->srv);
	uint64_t now = synack_monotonic_us();
	sv->give_up_at = now + 3000000;
	synack_loop_set_alarm(sv->h.loop, now);
}

static int usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, "synack serve: %s%s%s%s (synack serve --help)\n", msg, arg ? " '" : "",
		arg ? arg : "", arg ? "'" : "");
	return 2;
}

static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (!*s || *end || errno || v > max || s[0] == '-')
		return false;
	*out = v;
	return true;
}

struct serve_args {
	struct synack_host_opts host;
	struct synack_app_opts app;
	bool have_app;
};

static int parse_args(int argc, char **argv, struct serve_args *a)
{
	static const struct option opts[] = {
		{"tun", required_argument, 0, 't'},   {"addr", required_argument, 0, 'a'},
		{"port", required_argument, 0, 'p'},  {"app", required_argument, 0, 'A'},
		{"root", required_argument, 0, 'r'},  {"pcap", required_argument, 0, 'w'},
		{"ctl", required_argument, 0, 'c'},   {"max-conns", required_argument, 0, 'm'},
		{"trace", required_argument, 0, 'T'}, {"help", no_argument, 0, 'h'},
		{"idle-timeout", required_argument, 0, 'I'},
		{"pcap-max", required_argument, 0, 'P'},
		{"header-timeout", required_argument, 0, 'H'},
		{"no-offload", no_argument, 0, 'O'},
		{"loss", required_argument, 0, 'L'}, {"dup", required_argument, 0, 'D'},
		{"reorder", required_argument, 0, 'R'}, {"corrupt", required_argument, 0, 'C'},
		{0, 0, 0, 0}};
	unsigned long v;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 't': a->host.tun = optarg; break;
		case 'a': a->host.cidr = optarg; break;
		case 'r': a->app.root = optarg; break;
		case 'w': a->host.pcap = optarg; break;
		case 'O': a->host.no_offload = true; break;
		case 'L': if (synack_cli_prob("synack serve", "loss", optarg, &a->host.loss)) return 2; break;
		case 'D': if (synack_cli_prob("synack serve", "dup", optarg, &a->host.dup)) return 2; break;
		case 'R': if (synack_cli_prob("synack serve", "reorder", optarg, &a->host.reorder)) return 2; break;
		case 'C': if (synack_cli_prob("synack serve", "corrupt", optarg, &a->host.corrupt)) return 2; break;
		case 'c': a->host.ctl = optarg; break;
		case 'T':
			a->host.trace = optarg;
			a->host.trace_sink = (struct synack_trace_sink){synack_trace_file_open,
								    synack_trace_file_close};
			break;
		case 'h': fputs(serve_help, stdout); return 1;
		case 'p':
			if (!parse_uint(optarg, 65535, &v) || v == 0)
				return usage_error("--port: want 1 to 65535, not", optarg);
			a->app.port = (uint16_t)v;
			break;
		case 'm':
			if (!parse_uint(optarg, 1000000, &v) || v == 0)
				return usage_error("--max-conns: want 1 to 1000000, not", optarg);
			a->app.max_conns = (uint32_t)v;
			break;
		case 'P': {
			char *end;
			errno = 0;
			unsigned long long b = strtoull(optarg, &end, 10);
			unsigned shift = *end == 'K' ? 10 : *end == 'M' ? 20 : *end == 'G' ? 30 : 0;
			if (shift)
				end++;
			if (optarg[0] == '-' || end == optarg || *end || errno || b == 0 ||
			    b > (1ull << 40) >> shift)
				return usage_error("--pcap-max: want a size like 1000000, 500K, 100M or 2G, not",
						   optarg);
			a->host.pcap_max = (uint64_t)b << shift;
			break;
		}
		case 'I':
		case 'H':
			if (!parse_uint(optarg, 86400, &v))
				return usage_error(c == 'I' ? "--idle-timeout: want 0 to 86400 seconds, not"
							    : "--header-timeout: want 0 to 86400 seconds, not",
						   optarg);
			*(c == 'I' ? &a->app.idle_timeout_ms : &a->app.header_timeout_ms) =
				(uint32_t)v * 1000;
			break;
		case 'A':
			if (synack_app_parse(optarg, &a->app.kind) < 0)
				return usage_error("--app: want echo, discard, chargen or http, not", optarg);
			a->have_app = true;
			break;
		case ':': return usage_error("this option needs a value:", argv[optind - 1]);
		default: return usage_error("unknown option", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument", argv[optind]);
	if (!a->host.tun || !a->host.cidr || !a->have_app)
		return usage_error("--tun, --addr and --app are required", NULL);
	int rc = synack_cli_check_tun_addr("synack serve", a->host.tun, a->host.cidr);
	if (rc)
		return rc;
	struct stat st;
	if (a->app.root && (stat(a->app.root, &st) < 0 || !S_ISDIR(st.st_mode)))
		return usage_error("--root: not a directory:", a->app.root);
	if (a->app.root && a->app.kind != SYNACK_APP_HTTP)
		return usage_error("--root is for --app http only; got --app", synack_app_name(a->app.kind));
	return 0;
}

/* Each connection may hold a file open (http); make room for --max-conns of them. */
static void raise_nofile(uint32_t want)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < want + 64) {
		rl.rlim_cur = want + 64 < rl.rlim_max ? want + 64 : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int synack_cmd_serve(int argc, char **argv)
{
	struct serve_args a = {.host = {.name = "synack", .cmd = "synack serve"},
			       .app = {.max_conns = 1000,
				       .idle_timeout_ms = 60000,
				       .header_timeout_ms = 20000}};
	int rc = parse_args(argc, argv, &a);
	if (rc)
		return rc == 1 ? 0 : rc;
	/* Connections in TIME-WAIT and SYN-RECEIVED need slots beyond the served ones. */
	a.host.max_sockets = a.app.max_conns * 2 + 64;
	raise_nofile(a.app.max_conns);

	struct serve sv = {0};
	struct synack_loop_hooks hooks = {serve_ready, serve_signal, serve_alarm, &sv};
	char why[256];
	int err = synack_host_open(&sv.h, &a.host, &hooks, why, sizeof why);
	if (err) {
		fprintf(stderr, "synack serve: %s\n", why);
		return 3;
	}
	err = synack_server_new(&sv.srv, sv.h.stack, &a.app);
	if (err) {
		fprintf(stderr, "synack serve: cannot listen on port %u: %s\n",
			a.app.port ? a.app.port : synack_app_default_port(a.app.kind), strerror(-err));
		synack_host_close(&sv.h);
		return 3;
	}
	char ip[32];
	uint32_t x = sv.h.addr;
	snprintf(ip, sizeof ip, "%u.%u.%u.%u", x >> 24, (x >> 16) & 255, (x >> 8) & 255, x & 255);
	fprintf(stderr, "synack serve: %s on %s:%u (device %s)\n", synack_app_name(a.app.kind), ip,
		a.app.port ? a.app.port : synack_app_default_port(a.app.kind), sv.h.tun.name);
	synack_loop_set_alarm(sv.h.loop, synack_monotonic_us()); /* the timeouts' first check */
	err = synack_loop_run(sv.h.loop);
	synack_server_destroy(sv.srv);
	synack_host_close(&sv.h);
	if (err) {
		fprintf(stderr, "synack serve: the device failed: %s\n", strerror(-err));
		return 1;
	}
	return 0;
}
