/* synack nstat: a running synack's counters, like nstat (src/host/ctl.c does the work). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "host/ctl.h"

static const char nstat_help[] =
	"NAME\n"
	"    synack nstat - show the counters of a running synack, like nstat -a\n"
	"\n"
	"SYNOPSIS\n"
	"    synack nstat --ctl PATH\n"
	"\n"
	"DESCRIPTION\n"
	"    Asks the synack whose control socket is PATH for its counters and prints those that\n"
	"    are not zero, named as Linux's nstat names them (IpInReceives, TcpActiveOpens,\n"
	"    TcpPassiveOpens, TcpExtListenOverflows, ...), with absolute values since synack\n"
	"    started, in nstat's layout: name, value, rate per second since the previous\n"
	"    synack nstat (or since synack started). Packets dropped by the\n"
	"    stack follow, one line per reason, as SynackDrop_<reason>.\n"
	"\n"
	"OPTIONS\n"
	"    --ctl PATH   the control socket\n"
	"\n"
	"EXIT STATUS\n"
	"    0 on success, 1 if nobody answers at PATH, 2 on a usage error.\n";

int synack_cmd_nstat(int argc, char **argv)
{
	static const struct option opts[] = {
		{"ctl", required_argument, 0, 'c'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
	const char *ctl = NULL;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': ctl = optarg; break;
		case 'h': fputs(nstat_help, stdout); return 0;
		default:
			fprintf(stderr, "synack nstat: %s '%s' (usage: synack nstat --ctl PATH)\n",
				c == ':' ? "this option needs a value:" : "unknown option",
				argv[optind - 1]);
			return 2;
		}
	}
	if (!ctl || optind != argc) {
		fprintf(stderr, "synack nstat: %s (usage: synack nstat --ctl PATH)\n",
			!ctl ? "--ctl PATH is required" : "unexpected argument");
		return 2;
	}
	int err = synack_ctl_query(ctl, "nstat", stdout);
	if (err) {
		fprintf(stderr, "synack nstat: %s: %s\n", ctl, strerror(-err));
		return 1;
	}
	return 0;
}
