/* synack serve: a built-in server on a TUN device. The work is in src/apps and src/host. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apps/server.h"
#include "commands.h"
#include "host/host.h"
#include "render/trace_file.h"

static const char serve_help[] =
	"NAME\n"
	"    synack serve - serve echo, discard, chargen or http on a TUN device\n"
	"\n"
	"SYNOPSIS\n"
	"    synack serve --tun NAME --addr A.B.C.D/NN|IPV6/NN [--addr ...] [--port P]\n"
	"                 --app echo|discard|chargen|http [--root DIR] [--pcap FILE] [--ctl PATH]\n"
	"                 [--max-conns N] [--trace FILE] [--idle-timeout S] [--header-timeout S]\n"
	"                 [--pcap-max SIZE] [--no-offload] [--threads N]\n"
	"\n"
	"DESCRIPTION\n"
	"    synack takes TUN device NAME (creating it if it does not exist, and bringing it up),\n"
	"    answers as A.B.C.D (and/or an IPv6 address: --addr twice, one of each family) and\n"
	"    serves the application on port P of both, one dual-stack listener ([::]). If the\n"
	"    device has no IPv4 address, the kernel's side gets the first other host address of\n"
	"    the prefix (.1, or .2 when synack is .1); likewise with no global IPv6 address\n"
	"    (prefix::1, or ::2), for which IPv6 must be on for the device (disable_ipv6 = 0).\n"
	"    It runs until SIGINT or SIGTERM, then stops listening, closes its\n"
	"    connections gracefully, waits (at most 3 s) until every close is acknowledged, resets\n"
	"    those whose peer has not finished (none is left half-open) and\n"
	"    exits 0. In the host's own network namespace (not one made for it, like\n"
	"    scripts/netns's), the changes made to it are printed: the TUN device created, the\n"
	"    address given to the kernel's side; both are undone on exit.\n"
	"\n"
	"OPTIONS\n"
	"    --tun NAME        the TUN device\n"
	"    --addr A.B.C.D/NN synack's address and prefix length (required: 10.77.0.2/24)\n"
	"    --addr IPV6/NN    an IPv6 one (fd00::2/64; NN 1 to 127), instead or as well\n"
	"    --app APP         echo (RFC 862), discard (RFC 863), chargen (RFC 864) or http\n"
	"                      (HTTP/1.1, keep-alive, GET and HEAD: a built-in page at / and the\n"
	"                      files under --root)\n"
	"    --port P          the port (default: 7 echo, 9 discard, 19 chargen, 80 http)\n"
	"    --root DIR        http: serve files under DIR (never outside it; must exist)\n"
	"    --pcap FILE       capture every frame to FILE (pcap, LINKTYPE_RAW)\n"
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
	"    --threads N       N stacks, one per core (1 to 64; default: the number of cores\n"
	"                      this process may run on, as nproc counts them,\n"
	"                      or 1 with --pcap or --trace, which need one stack): the device\n"
	"                      is opened multi-queue, one queue, thread and stack each; the\n"
	"                      kernel spreads connections over the queues by their ports\n"
	"                      (steered by a small eBPF program when the kernel takes it), and\n"
	"                      every stack listens. --max-conns is shared out between them;\n"
	"                      ss and nstat show the union. A device that exists without\n"
	"                      multi-queue gets 1 thread by default, and fails an explicit N > 1.\n"
	"                      On exit, the connections each stack accepted are printed\n"
	"\n"
	"EXIT STATUS\n"
	"    0 after a signal and a graceful close; 2 on a usage error; 3 if the device, the\n"
	"    capture, the trace, the control socket or the listening socket cannot be set up.\n"
	"\n"
	"EXAMPLE\n"
	"    scripts/netns shell\n"
	"    synack serve --tun tun0 --addr 10.77.0.2/24 --app http --ctl /tmp/synack.sock &\n"
	"    curl http://10.77.0.2/\n"
	"    Both families (IPv6 on for tun0: scripts/netns up NAME tun0 10.77.0.1/24 fd00::1/64):\n"
	"    synack serve --tun tun0 --addr 10.77.0.2/24 --addr fd00::2/64 --app http &\n"
	"    curl -6 'http://[fd00::2]/'; ping -6 fd00::2\n";

/* One stack, its loop and server: the only one, or one of --threads N, each on its thread. */
struct serve {
	struct synack_loop *loop;
	struct synack_stack *stack;
	struct synack_server *srv;
	bool stopping;
	uint64_t give_up_at; /* the end of the graceful close */
	/* --threads N > 1: */
	pthread_mutex_t lock; /* held while the loop works; free while it sleeps */
	int stopfd;           /* an eventfd: the main thread's "stop" (1) or "stop now" (2+) */
	int donefd;           /* the main thread's: written when this loop has returned */
	pthread_t thread;
	int err;              /* synack_loop_run()'s */
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
		synack_loop_set_alarm(sv->loop,
				      synack_server_tick(sv->srv, synack_stack_now(sv->stack)));
		return;
	}
	if (synack_stack_settled(sv->stack)) {
		synack_loop_stop(sv->loop);
	} else if (now >= sv->give_up_at) {
		/* Peers that never acknowledged our FIN: reset, not left half-open. */
		size_t n = synack_stack_abort_all(sv->stack);
		fprintf(stderr, "synack serve: %zu connection%s did not finish closing in 3 s: reset\n",
			n, n == 1 ? "" : "s");
		synack_loop_stop(sv->loop);
	} else
		synack_loop_set_alarm(sv->loop, now + 20000);
}

static void serve_signal(void *ctx, int signo)
{
	(void)signo;
	struct serve *sv = ctx;
	if (sv->stopping) {
		synack_loop_stop(sv->loop); /* a second signal: leave now */
		return;
	}
	sv->stopping = true;
	synack_server_shutdown(sv->srv);
	uint64_t now = synack_monotonic_us();
	sv->give_up_at = now + 3000000;
	synack_loop_set_alarm(sv->loop, now);
}

/* --threads: the main thread's word, on this loop's thread. */
static void serve_stopfd(void *ctx, int fd, uint32_t events)
{
	(void)events;
	struct serve *sv = ctx;
	eventfd_t v;
	if (eventfd_read(fd, &v) < 0)
		return;
	serve_signal(sv, SIGTERM);
	if (v > 1)
		serve_signal(sv, SIGTERM);
}

static void serve_wait(void *ctx, bool waiting)
{
	struct serve *sv = ctx;
	if (waiting)
		pthread_mutex_unlock(&sv->lock);
	else
		pthread_mutex_lock(&sv->lock);
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
	unsigned threads; /* 0: not given */
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
		{"threads", required_argument, 0, 'n'},
		{0, 0, 0, 0}};
	unsigned long v;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 't': a->host.tun = optarg; break;
		case 'a':
			if (synack_cli_add_addr("synack serve", a->host.cidr, optarg))
				return 2;
			break;
		case 'r': a->app.root = optarg; break;
		case 'w': a->host.pcap = optarg; break;
		case 'O': a->host.no_offload = true; break;
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
		case 'n':
			if (!parse_uint(optarg, SYNACK_HOST_QUEUES_MAX, &v) || v == 0)
				return usage_error("--threads: want 1 to 64, not", optarg);
			a->threads = (unsigned)v;
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
	if (!a->host.tun || !a->host.cidr[0] || !a->have_app)
		return usage_error("--tun, --addr and --app are required", NULL);
	int rc = synack_cli_check_tun_addr("synack serve", a->host.tun, a->host.cidr);
	if (rc)
		return rc;
	struct stat st;
	if (a->app.root && (stat(a->app.root, &st) < 0 || !S_ISDIR(st.st_mode)))
		return usage_error("--root: not a directory:", a->app.root);
	if (a->threads > 1 && (a->host.pcap || a->host.trace))
		return usage_error("--threads: more than one stack cannot share --pcap or --trace; got",
				   a->host.pcap ? "--pcap" : "--trace");
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

static void *serve_thread(void *arg)
{
	struct serve *sv = arg;
	pthread_mutex_lock(&sv->lock);
	sv->err = synack_loop_run(sv->loop);
	pthread_mutex_unlock(&sv->lock);
	(void)eventfd_write(sv->donefd, 1);
	return NULL;
}

/* --threads N > 1: the control socket's answers over every stack. */
struct serve_all {
	struct serve *q;
	unsigned n;
	struct synack_ctl_rates rates;
};

static void answer_all(void *ctx, const char *req, FILE *out)
{
	struct serve_all *all = ctx;
	const struct synack_stack *st[SYNACK_HOST_QUEUES_MAX];
	for (unsigned i = 0; i < all->n; i++) {
		pthread_mutex_lock(&all->q[i].lock);
		st[i] = all->q[i].stack;
	}
	synack_ctl_answer_stacks(st, all->n, &all->rates, synack_monotonic_us(), req, out);
	for (unsigned i = all->n; i-- > 0;)
		pthread_mutex_unlock(&all->q[i].lock);
}

/* The main thread of --threads N > 1: signals and the control socket, until every loop has
 * returned. */
static void serve_main(struct serve *q, unsigned n, int sigfd, int donefd, int ctlfd)
{
	struct serve_all all = {.q = q, .n = n};
	all.rates.prev_us = synack_monotonic_us(); /* the first rates: since the start */
	unsigned done = 0, signals = 0;
	while (done < n) {
		struct pollfd p[3] = {{sigfd, POLLIN, 0}, {donefd, POLLIN, 0}, {ctlfd, POLLIN, 0}};
		if (poll(p, ctlfd >= 0 ? 3 : 2, -1) < 0)
			continue; /* EINTR */
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
				signals++;
				for (unsigned i = 0; i < n; i++)
					(void)eventfd_write(q[i].stopfd, 1);
			}
		}
		eventfd_t v;
		if ((p[1].revents & POLLIN) && eventfd_read(donefd, &v) == 0) {
			done += (unsigned)v;
			/* A loop that failed (its device) takes the others down with it. */
			for (unsigned i = 0; i < n && signals == 0; i++)
				if (q[i].err)
					for (unsigned k = 0; k < n; k++)
						(void)eventfd_write(q[k].stopfd, 2);
		}
		if (ctlfd >= 0 && (p[2].revents & POLLIN)) {
			int cfd = accept4(ctlfd, NULL, NULL, SOCK_CLOEXEC);
			if (cfd >= 0) {
				synack_ctl_serve_client(cfd, answer_all, &all);
				close(cfd);
			}
		}
	}
}

/* Runs every queue's loop on a thread of its own; the main thread keeps the signals and the
 * control socket (a client is answered blocking, with 1 s timeouts). Returns the first loop
 * error. */
static int serve_threads(struct serve *q, unsigned n, int ctlfd, int sigfd, int donefd)
{
	unsigned started = 0;
	for (unsigned i = 0; i < n; i++) {
		q[i].donefd = donefd;
		if (pthread_create(&q[i].thread, NULL, serve_thread, &q[i]) != 0)
			break;
		started++;
	}
	if (started < n) {
		fprintf(stderr, "synack serve: cannot start thread %u of %u\n", started + 1, n);
		for (unsigned i = 0; i < started; i++)
			(void)eventfd_write(q[i].stopfd, 2);
	}
	serve_main(q, started, sigfd, donefd, ctlfd);
	int err = 0;
	for (unsigned i = 0; i < started; i++) {
		pthread_join(q[i].thread, NULL);
		if (!err)
			err = q[i].err;
	}
	return started < n && !err ? -EAGAIN : err;
}

/* The cores this process may run on (its affinity mask, as nproc counts them). */
static unsigned cores(void)
{
	cpu_set_t set;
	long n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set)
							    : sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > SYNACK_HOST_QUEUES_MAX ? SYNACK_HOST_QUEUES_MAX : (unsigned)n;
}

/* Everything one `synack serve` runs: the host (device, loops) and a struct serve per stack. */
struct serve_run {
	struct synack_host h;
	struct serve q[SYNACK_HOST_QUEUES_MAX];
	unsigned n;                /* stacks */
	struct synack_loop_hooks hooks;
	int sigfd, donefd, ctlfd;  /* --threads N > 1: the main thread's */
};

/* Opens the device and queue 0's loop for r->n stacks; the default number falls back to one
 * on a device that takes no more (one made without multi-queue). Returns 0 or an exit code. */
static int open_host(struct serve_run *r, struct serve_args *a, bool explicit_threads)
{
	uint32_t max_conns = a->app.max_conns;
	char why[256];
	int err;
	for (;;) {
		/* Connections in TIME-WAIT and SYN-RECEIVED need slots beyond the served ones. */
		a->app.max_conns = (max_conns + r->n - 1) / r->n;
		a->host.max_sockets = a->app.max_conns * 2 + 64;
		a->host.queues = r->n;
		r->hooks = (struct synack_loop_hooks){.on_ready = serve_ready, .on_signal = serve_signal,
						      .on_alarm = serve_alarm, .ctx = &r->q[0]};
		if (r->n > 1) {
			r->hooks.flags = SYNACK_LOOP_NO_SIGNALS;
			r->hooks.on_wait = serve_wait;
		}
		err = synack_host_open(&r->h, &a->host, &r->hooks, why, sizeof why);
		if (err == -EINVAL && r->n > 1 && !explicit_threads) {
			r->n = 1;
			continue;
		}
		break;
	}
	if (err) {
		fprintf(stderr, "synack serve: %s\n", why);
		return 3;
	}
	return 0;
}

/* Each stack's loop (queue 0's is made), its stop descriptor and its server. Returns 0 or
 * a negative errno, said on stderr. */
static int start_stacks(struct serve_run *r, const struct synack_app_opts *app)
{
	for (unsigned i = 0; i < r->n; i++) {
		struct serve *sv = &r->q[i];
		pthread_mutex_init(&sv->lock, NULL);
		int err = 0;
		if (i > 0) {
			struct synack_loop_hooks hq = r->hooks;
			hq.ctx = sv;
			err = synack_host_add_queue(&r->h, i, &hq);
		}
		if (err) {
			fprintf(stderr, "synack serve: cannot start stack %u: %s\n", i, strerror(-err));
			return err;
		}
		sv->loop = r->h.qloop[i];
		sv->stack = synack_loop_stack(sv->loop);
		if (r->n > 1) {
			sv->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
			if (sv->stopfd < 0 ||
			    synack_loop_add_fd(sv->loop, sv->stopfd, POLLIN, serve_stopfd, sv) < 0) {
				fprintf(stderr, "synack serve: cannot start stack %u\n", i);
				return -EMFILE;
			}
		}
		err = synack_server_new(&sv->srv, sv->stack, app);
		if (err) {
			fprintf(stderr, "synack serve: cannot listen on port %u: %s\n",
				app->port ? app->port : synack_app_default_port(app->kind),
				strerror(-err));
			return err;
		}
		synack_loop_set_alarm(sv->loop, synack_monotonic_us()); /* the timeouts' first check */
	}
	return 0;
}

/* --threads N > 1: SIGINT and SIGTERM blocked in every thread (they inherit the mask) and
 * read by the main thread, which also answers the control socket. Returns 0 or a negative
 * errno, said on stderr. */
static int open_main_fds(struct serve_run *r, const char *ctl)
{
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	r->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	r->donefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->sigfd < 0 || r->donefd < 0) {
		fprintf(stderr, "synack serve: %s: %s\n", r->sigfd < 0 ? "signalfd" : "eventfd",
			strerror(errno));
		return -errno;
	}
	if (ctl && (r->ctlfd = synack_ctl_listen(ctl)) < 0) {
		fprintf(stderr, "synack serve: cannot open control socket %s: %s\n", ctl,
			strerror(-r->ctlfd));
		return r->ctlfd;
	}
	return 0;
}

static void say_serving(const struct serve_run *r, const struct synack_app_opts *app)
{
	unsigned port = app->port ? app->port : synack_app_default_port(app->kind);
	char ip[SYNACK_ADDR_STRLEN], on[2 * SYNACK_ADDR_STRLEN + 32] = "";
	for (size_t i = 0; i < r->h.naddrs; i++) {
		const struct synack_addr *x = &r->h.addrs[i].addr;
		synack_addr_str(x, ip, sizeof ip);
		size_t n = strlen(on);
		snprintf(on + n, sizeof on - n, synack_addr_is_v4(x) ? "%s%s:%u" : "%s[%s]:%u",
			 i ? " and " : "", ip, port);
	}
	fprintf(stderr, "synack serve: %s on %s (device %s", synack_app_name(app->kind), on,
		r->h.tun.name);
	if (r->n > 1)
		fprintf(stderr, ", %u queues, threads and stacks, %s)\n", r->n,
			r->h.steered ? "steered by port" : "the kernel's own steering");
	else
		fprintf(stderr, ")\n");
}

static void say_per_stack(const struct serve_run *r)
{
	if (r->n < 2)
		return;
	fprintf(stderr, "synack serve: connections accepted per stack:");
	for (unsigned i = 0; i < r->n; i++) {
		struct synack_counters c;
		synack_stack_counters(r->q[i].stack, &c);
		fprintf(stderr, " %llu", (unsigned long long)c.v[SYNACK_CTR_PassiveOpens]);
	}
	fprintf(stderr, "\n");
}

static void teardown(struct serve_run *r, const char *ctl)
{
	for (unsigned i = 0; i < r->n; i++) {
		synack_server_destroy(r->q[i].srv);
		if (r->q[i].stopfd >= 0)
			close(r->q[i].stopfd);
		pthread_mutex_destroy(&r->q[i].lock);
	}
	if (r->sigfd >= 0)
		close(r->sigfd);
	if (r->donefd >= 0)
		close(r->donefd);
	if (r->ctlfd >= 0) {
		close(r->ctlfd);
		unlink(ctl);
	}
	synack_host_close(&r->h);
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
	raise_nofile(a.app.max_conns);

	static struct serve_run r; /* one per process; too large for the stack */
	memset(&r, 0, sizeof r);
	r.sigfd = r.donefd = r.ctlfd = -1;
	for (unsigned i = 0; i < SYNACK_HOST_QUEUES_MAX; i++)
		r.q[i].stopfd = -1;
	bool explicit_threads = a.threads != 0;
	r.n = a.threads ? a.threads : (a.host.pcap || a.host.trace) ? 1 : cores();
	bool mq;
	unsigned held;
	/* By default a device that exists keeps its kind: one stack on a single-queue one. */
	if (!explicit_threads && r.n > 1 && synack_tun_queues(a.host.tun, &mq, &held) == 0 && !mq)
		r.n = 1;
	if ((rc = open_host(&r, &a, explicit_threads)))
		return rc;
	int err = start_stacks(&r, &a.app);
	if (!err && r.n > 1)
		err = open_main_fds(&r, a.host.ctl);
	if (err) {
		teardown(&r, a.host.ctl);
		return 3;
	}
	say_serving(&r, &a.app);
	err = r.n > 1 ? serve_threads(r.q, r.n, r.ctlfd, r.sigfd, r.donefd) : synack_loop_run(r.h.loop);
	say_per_stack(&r);
	teardown(&r, a.host.ctl);
	if (err) {
		fprintf(stderr, "synack serve: the device failed: %s\n", strerror(-err));
		return 1;
	}
	return 0;
}
