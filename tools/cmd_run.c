/* synack run: start an unmodified program with its TCP on synack (the LD_PRELOAD layer,
 * src/preload). This file only checks the arguments, sets the environment and execs. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "synack/tun.h"

static const char run_help[] =
	"NAME\n"
	"    synack run - run a program with its TCP over synack on a TUN device\n"
	"\n"
	"SYNOPSIS\n"
	"    synack run --tun NAME --addr A.B.C.D/NN|IPV6/NN [--addr ...] [--gw ADDR]\n"
	"               [--pcap FILE] [--ctl PATH] [--trace FILE] [--max-sockets N]\n"
	"               -- CMD [ARGS...]\n"
	"\n"
	"DESCRIPTION\n"
	"    Runs CMD with libsynack-preload.so in LD_PRELOAD, like torsocks or proxychains. The\n"
	"    program's TCP sockets of each family synack has an address of (AF_INET for an IPv4\n"
	"    --addr, AF_INET6 for an IPv6 one; --addr twice for both) become synack sockets on\n"
	"    TUN device NAME, answering as those addresses; an AF_INET6 socket is dual-stack\n"
	"    (IPv4 peers as ::ffff:a.b.c.d) unless IPV6_V6ONLY is set. UDP, Unix sockets, TCP of\n"
	"    a family synack has no address of, files and pipes stay the kernel's, and so does\n"
	"    TCP to or bound to 127.0.0.0/8 or ::1. The stack starts with the program's first\n"
	"    TCP socket (a thread inside the program drives the device and the timers). One\n"
	"    process per device: a child that execs and opens TCP sockets while its parent\n"
	"    holds the device gets EACCES and a message; a forked child cannot use its parent's\n"
	"    synack sockets.\n"
	"    See docs/preload.md for every intercepted call and the limits.\n"
	"\n"
	"OPTIONS\n"
	"    --tun NAME        the TUN device (created if it does not exist)\n"
	"    --addr A.B.C.D/NN synack's address and prefix length (10.77.0.2/24)\n"
	"    --addr IPV6/NN    an IPv6 one (fd00::2/64; NN 1 to 127), instead or as well (one of\n"
	"                      each family at most); the device needs IPv6 on\n"
	"    --gw ADDR         the kernel's address on the device (either family), checked when\n"
	"                      the stack starts (a TUN is point to point: every packet goes to\n"
	"                      the kernel, which routes it)\n"
	"    --pcap FILE       capture every frame to FILE (pcap, LINKTYPE_RAW)\n"
	"    --ctl PATH        a control socket for `synack ss` and `synack nstat`\n"
	"    --trace FILE      the stack's trace events as JSON lines (`synack ladder --trace`)\n"
	"    --max-sockets N   sockets and connections the stack holds (default 16384)\n"
	"\n"
	"EXIT STATUS\n"
	"    CMD's; 2 on a usage error; 126 if CMD cannot be run, 127 if it is not found.\n"
	"\n"
	"EXAMPLE\n"
	"    scripts/netns shell\n"
	"    synack run --tun tun0 --addr 10.77.0.2/24 --ctl /tmp/s.sock -- \\\n"
	"        python3 -m http.server 8000 &\n"
	"    curl http://10.77.0.2:8000/\n"
	"    synack run --tun tun0 --addr 10.77.0.2/24 -- curl http://10.77.0.1/\n"
	"    synack run --tun tun0 --addr 10.77.0.2/24 --addr fd00:77::2/64 -- \\\n"
	"        python3 -m http.server --bind :: 8000 &    # both families, one socket\n"
	"    curl -6 'http://[fd00:77::2]:8000/'\n";

static int usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, "synack run: %s%s%s\n", msg, arg ? " " : "", arg ? arg : "");
	fprintf(stderr, "usage: synack run --tun NAME --addr A.B.C.D/NN|IPV6/NN [OPTIONS] -- CMD "
			"[ARGS...] (synack run --help)\n");
	return 2;
}

/* The preload library: $SYNACK_PRELOAD, else beside this binary (the build tree), else in
 * ../lib (an installed tree). */
static int find_preload(char *out, size_t cap)
{
	const char *env = getenv("SYNACK_PRELOAD");
	if (env) /* absolute: the program may chdir before the loader... of its children runs */
		return realpath(env, out) && strlen(out) < cap ? 0 : -1;
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return -1;
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	static const char *const rel[] = {"/libsynack-preload.so", "/../lib/libsynack-preload.so"};
	for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++)
		if (snprintf(out, cap, "%s%s", exe, rel[i]) < (int)cap && access(out, R_OK) == 0)
			return 0;
	return -1;
}

/* Paths become absolute: the program may chdir (nginx does) before its first socket. */
static int set_path(const char *name, const char *path)
{
	if (!path)
		return 0;
	char buf[PATH_MAX];
	if (path[0] != '/') {
		if (!getcwd(buf, sizeof buf) || strlen(buf) + strlen(path) + 2 > sizeof buf)
			return -1;
		strcat(buf, "/");
		strcat(buf, path);
		path = buf;
	}
	return setenv(name, path, 1);
}

struct run_args {
	const char *tun, *cidr[2], *gw, *pcap, *ctl, *trace, *max;
	char addrs[128]; /* SYNACK_ADDR: the --addr values, comma-separated */
};

/* An address of either family, without a prefix length. */
static bool gw_ok(const char *gw)
{
	char buf[64];
	struct synack_addr g;
	unsigned prefix;
	if (strchr(gw, '/') || strlen(gw) + 4 >= sizeof buf)
		return false;
	snprintf(buf, sizeof buf, "%s/%s", gw, strchr(gw, ':') ? "64" : "24");
	return synack_parse_prefix(buf, &g, &prefix) == 0;
}

static int parse(int argc, char **argv, struct run_args *a)
{
	static const struct option opts[] = {
		{"tun", required_argument, 0, 't'},   {"addr", required_argument, 0, 'a'},
		{"gw", required_argument, 0, 'g'},    {"pcap", required_argument, 0, 'w'},
		{"ctl", required_argument, 0, 'c'},   {"trace", required_argument, 0, 'T'},
		{"max-sockets", required_argument, 0, 'm'}, {"help", no_argument, 0, 'h'},
		{0, 0, 0, 0}};
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 't': a->tun = optarg; break;
		case 'a':
			if (synack_cli_add_addr("synack run", a->cidr, optarg))
				return 2;
			break;
		case 'g': a->gw = optarg; break;
		case 'w': a->pcap = optarg; break;
		case 'c': a->ctl = optarg; break;
		case 'T': a->trace = optarg; break;
		case 'm': a->max = optarg; break;
		case 'h': fputs(run_help, stdout); return 1;
		default: return usage_error("unknown or incomplete option", argv[optind - 1]);
		}
	}
	if (!a->tun || !a->cidr[0])
		return usage_error("--tun and --addr are required", NULL);
	int rc = synack_cli_check_tun_addr("synack run", a->tun, a->cidr);
	if (rc)
		return rc;
	snprintf(a->addrs, sizeof a->addrs, "%s%s%s", a->cidr[0], a->cidr[1] ? "," : "",
		 a->cidr[1] ? a->cidr[1] : "");
	if (a->gw && !gw_ok(a->gw))
		return usage_error("bad --gw (want A.B.C.D or an IPv6 address)", a->gw);
	char *end;
	if (a->max && (strtoul(a->max, &end, 10) == 0 || *end))
		return usage_error("bad --max-sockets", a->max);
	if (optind >= argc)
		return usage_error("no command (put it after --)", NULL);
	return 0;
}

int synack_cmd_run(int argc, char **argv)
{
	struct run_args a = {0};
	int rc = parse(argc, argv, &a);
	if (rc)
		return rc == 1 ? 0 : rc;
	char lib[PATH_MAX];
	if (find_preload(lib, sizeof lib) < 0) {
		fprintf(stderr, "synack run: cannot find libsynack-preload.so (beside synack, in "
				"../lib, or set SYNACK_PRELOAD)\n");
		return 2;
	}
	const char *old = getenv("LD_PRELOAD");
	char pre[2 * PATH_MAX];
	/* Ours goes last: a sanitizer runtime preloaded by the caller must stay first. */
	snprintf(pre, sizeof pre, "%s%s%s", old ? old : "", old && *old ? ":" : "", lib);
	if (setenv("LD_PRELOAD", pre, 1) || setenv("SYNACK_TUN", a.tun, 1) ||
	    setenv("SYNACK_ADDR", a.addrs, 1) || (a.gw && setenv("SYNACK_GW", a.gw, 1)) ||
	    (a.max && setenv("SYNACK_MAX_SOCKETS", a.max, 1)) || set_path("SYNACK_PCAP", a.pcap) ||
	    set_path("SYNACK_CTL", a.ctl) || set_path("SYNACK_TRACE", a.trace)) {
		fprintf(stderr, "synack run: cannot set the environment: %s\n", strerror(errno));
		return 2;
	}
	execvp(argv[optind], argv + optind);
	int err = errno;
	fprintf(stderr, "synack run: %s: %s\n", argv[optind], strerror(err));
	return err == ENOENT ? 127 : 126;
}
