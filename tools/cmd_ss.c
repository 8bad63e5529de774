/* synack ss: a running synack's connections, like ss -tan (src/host/ctl.c does the work). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "host/ctl.h"

static const char ss_help[] =
	"NAME\n"
	"    synack ss - list the connections of a running synack, like ss -tan\n"
	"\n"
	"SYNOPSIS\n"
	"    synack ss --ctl PATH [-i|-m]\n"
	"\n"
	"DESCRIPTION\n"
	"    Asks the synack whose control socket is PATH (synack serve --ctl PATH) for every\n"
	"    listener and connection it holds, including those no application holds any more\n"
	"    (SYN-RECV, FIN-WAIT-2, TIME-WAIT, ...). Columns as ss -tan prints them: State,\n"
	"    Recv-Q, Send-Q, Local Address:Port, Peer Address:Port; states as ss names them\n"
	"    (LISTEN, SYN-SENT, SYN-RECV, ESTAB, FIN-WAIT-1, FIN-WAIT-2, CLOSE-WAIT, CLOSING,\n"
	"    LAST-ACK, TIME-WAIT). For a listener, Recv-Q is the accept queue and Send-Q the\n"
	"    backlog.\n"
	"\n"
	"OPTIONS\n"
	"    --ctl PATH   the control socket\n"
	"    -i           also a line of TCP internals per connection: options (ts, sack),\n"
	"                 wscale, rto (ms), rtt/rttvar (ms), mss, rcvmss, cwnd (segments),\n"
	"                 windows, unacked segments, retrans (current/total), bytes\n"
	"                 acknowledged and received\n"
	"    -m           also a line of memory per connection, like ss -m:\n"
	"                 skmem:(r<held for received data>,rb<receive buffer size>,t0,\n"
	"                 tb<send buffer size>,f0,w<held for queued data>,o0,bl0,d0), bytes;\n"
	"                 buffers hold memory (16 KiB chunks) only while data is queued\n"
	"\n"
	"EXIT STATUS\n"
	"    0 on success, 1 if nobody answers at PATH, 2 on a usage error.\n";

int synack_cmd_ss(int argc, char **argv)
{
	static const struct option opts[] = {
		{"ctl", required_argument, 0, 'c'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
	const char *ctl = NULL;
	bool internals = false, memory = false;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":imh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': ctl = optarg; break;
		case 'i': internals = true; break;
		case 'm': memory = true; break;
		case 'h': fputs(ss_help, stdout); return 0;
		default:
			fprintf(stderr, "synack ss: %s '%s' (usage: synack ss --ctl PATH [-i|-m])\n",
				c == ':' ? "this option needs a value:" : "unknown option",
				argv[optind - 1]);
			return 2;
		}
	}
	if (internals && memory) {
		fprintf(stderr, "synack ss: -m: one of -i and -m (usage: synack ss --ctl PATH [-i|-m])\n");
		return 2;
	}
	if (!ctl || optind != argc) {
		fprintf(stderr, "synack ss: %s (usage: synack ss --ctl PATH [-i|-m])\n",
			!ctl ? "--ctl PATH is required" : "unexpected argument");
		return 2;
	}
	int err = synack_ctl_query(ctl, internals ? "ss -i" : memory ? "ss -m" : "ss", stdout);
	if (err) {
		fprintf(stderr, "synack ss: %s: %s\n", ctl, strerror(-err));
		return 1;
	}
	return 0;
}
