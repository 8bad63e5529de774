/* synack top: a live view of a running synack, like `ss -ti` and `nstat` refreshed: every
 * connection with its state, cwnd, rtt, bytes and retransmissions, then the counters that
 * changed since the last refresh with their rates. It asks the control socket (src/host/ctl.c)
 * for "ss -i" and "nstat" each time; the differences are worked out here.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "host/ctl.h"

static const char top_help[] =
	"NAME\n"
	"    synack top - a live view of a running synack: connections and changing counters\n"
	"\n"
	"SYNOPSIS\n"
	"    synack top --ctl PATH [--interval S] [--count N]\n"
	"\n"
	"DESCRIPTION\n"
	"    Every S seconds, asks the synack whose control socket is PATH (synack serve --ctl\n"
	"    PATH) for its connections and counters and redraws: each connection as synack ss -i\n"
	"    shows it (state, queues, endpoints; cwnd in segments, rtt/rttvar and rto in ms,\n"
	"    unacked segments, retransmissions current/total, bytes acknowledged and received),\n"
	"    then the counters that changed since the previous refresh, with the change and the\n"
	"    rate per second (the first refresh lists every counter that is not zero). On a\n"
	"    terminal the screen is cleared between refreshes; otherwise each refresh is a block\n"
	"    that starts with a line of dashes, so the output can be logged.\n"
	"\n"
	"OPTIONS\n"
	"    --ctl PATH      the control socket\n"
	"    --interval S    seconds between refreshes (default 1; 0.05 to 3600)\n"
	"    --count N       stop after N refreshes (default: until SIGINT, SIGTERM or the synack\n"
	"                    goes away)\n"
	"\n"
	"EXIT STATUS\n"
	"    0 after --count refreshes or a signal; 1 if nobody answers at PATH (at the start or\n"
	"    later); 2 on a usage error.\n";

#define MAX_COUNTERS 160

struct sample {
	size_t n;
	struct {
		char name[48];
		unsigned long long v;
	} c[MAX_COUNTERS];
	double t; /* seconds, monotonic */
};

static volatile sig_atomic_t stop;

static void on_signal(int signo)
{
	(void)signo;
	stop = 1;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Asks for request; the answer in *buf (malloc'd). */
static int ask(const char *ctl, const char *request, char **buf)
{
	size_t len = 0;
	*buf = NULL;
	FILE *m = open_memstream(buf, &len);
	if (!m)
		return -ENOMEM;
	int err = synack_ctl_query(ctl, request, m);
	fclose(m);
	return err;
}

/* nstat's answer: "#synack" then "Name value rate" lines. */
static void parse_nstat(const char *text, struct sample *s)
{
	s->n = 0;
	for (const char *p = text; p && *p && s->n < MAX_COUNTERS;) {
		const char *nl = strchr(p, '\n');
		char name[48];
		unsigned long long v;
		if (*p != '#' && sscanf(p, "%47s %llu", name, &v) == 2) {
			snprintf(s->c[s->n].name, sizeof s->c[s->n].name, "%s", name);
			s->c[s->n].v = v;
			s->n++;
		}
		p = nl ? nl + 1 : NULL;
	}
}

static unsigned long long old_value(const struct sample *prev, const char *name, bool *found)
{
	for (size_t i = 0; i < prev->n; i++)
		if (!strcmp(prev->c[i].name, name)) {
			*found = true;
			return prev->c[i].v;
		}
	*found = false;
	return 0;
}

static void counters(FILE *out, const struct sample *now, const struct sample *prev, bool first)
{
	double dt = now->t - prev->t;
	unsigned shown = 0;
	if (first)
		fprintf(out, "counters (first refresh: every one that is not zero):\n");
	else
		fprintf(out, "counters that changed in the last %.2f s:\n", dt);
	for (size_t i = 0; i < now->n; i++) {
		bool found;
		unsigned long long was = old_value(prev, now->c[i].name, &found);
		if (first) {
			fprintf(out, "  %-32s %llu\n", now->c[i].name, now->c[i].v);
			shown++;
			continue;
		}
		if (found && was == now->c[i].v)
			continue;
		unsigned long long d = now->c[i].v - was;
		fprintf(out, "  %-32s %+12lld %10.1f/s   (total %llu)\n", now->c[i].name,
			(long long)d, dt > 0 ? (double)d / dt : 0.0, now->c[i].v);
		shown++;
	}
	if (!shown)
		fprintf(out, "  (none)\n");
}

static int refresh(const char *ctl, double interval, struct sample *now, struct sample *prev,
		   bool first, bool tty)
{
	char *ss = NULL, *ns = NULL;
	int err = ask(ctl, "ss -i", &ss);
	if (!err)
		err = ask(ctl, "nstat", &ns);
	if (err) {
		free(ss);
		free(ns);
		return err;
	}
	now->t = now_s();
	parse_nstat(ns, now);
	time_t wall = time(NULL);
	struct tm tm;
	localtime_r(&wall, &tm);
	if (tty)
		fputs("\033[H\033[2J", stdout);
	else
		puts("----------------------------------------------------------------------------");
	printf("synack top: %s   %02d:%02d:%02d   every %.2g s\n\n", ctl, tm.tm_hour, tm.tm_min,
	       tm.tm_sec, interval);
	fputs(ss, stdout);
	putchar('\n');
	counters(stdout, now, prev, first);
	fflush(stdout);
	free(ss);
	free(ns);
	return 0;
}

static int parse_args(int argc, char **argv, const char **ctl, double *interval, long *count)
{
	static const struct option opts[] = {{"ctl", required_argument, 0, 'c'},
					     {"interval", required_argument, 0, 'i'},
					     {"count", required_argument, 0, 'n'},
					     {"help", no_argument, 0, 'h'},
					     {0, 0, 0, 0}};
	int c;
	char *end;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': *ctl = optarg; break;
		case 'h': fputs(top_help, stdout); return 1;
		case 'i':
			*interval = strtod(optarg, &end);
			if (end == optarg || *end || !(*interval >= 0.05 && *interval <= 3600)) {
				fprintf(stderr, "synack top: --interval: want seconds from 0.05 to "
						"3600, not '%s'\n", optarg);
				return 2;
			}
			break;
		case 'n':
			*count = strtol(optarg, &end, 10);
			if (end == optarg || *end || *count < 1 || *count > 1000000000) {
				fprintf(stderr, "synack top: --count: want 1 or more, not '%s'\n",
					optarg);
				return 2;
			}
			break;
		case ':':
			fprintf(stderr, "synack top: %s needs a value\n", argv[optind - 1]);
			return 2;
		default:
			fprintf(stderr, "synack top: unknown option '%s' (synack top --help)\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "synack top: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (!*ctl) {
		fprintf(stderr, "synack top: --ctl PATH is required (synack top --help)\n");
		return 2;
	}
	return 0;
}

int synack_cmd_top(int argc, char **argv)
{
	const char *ctl = NULL;
	double interval = 1;
	long count = 0;
	int rc = parse_args(argc, argv, &ctl, &interval, &count);
	if (rc)
		return rc == 1 ? 0 : rc;
	static struct sample a, b;
	struct sample *now = &a, *prev = &b;
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	bool tty = isatty(STDOUT_FILENO);
	for (long i = 0; !stop && (!count || i < count); i++) {
		if (i) {
			struct timespec ts = {(time_t)interval,
					      (long)((interval - (double)(time_t)interval) * 1e9)};
			while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !stop)
				;
			if (stop)
				break;
		}
		int err = refresh(ctl, interval, now, prev, i == 0, tty);
		if (err) {
			fprintf(stderr, "synack top: --ctl %s: %s\n", ctl, strerror(-err));
			return 1;
		}
		struct sample *t = prev;
		prev = now;
		now = t;
	}
	return 0;
}
