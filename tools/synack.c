/* synack: dispatch to a subcommand. Each lives in tools/cmd_NAME.c and parses its own flags. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "synack/synack.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{"demo", synack_cmd_demo, "a client and a server on a simulated network, as a ladder"},
	{"drill", synack_cmd_drill, "run packetdrill-language scripts against synack"},
	{"serve", synack_cmd_serve, "serve echo/discard/chargen/http on a TUN device"},
	{"connect", synack_cmd_connect, "connect to a peer over a TUN device and move a file"},
	{"run", synack_cmd_run, "run a program with its TCP over synack (LD_PRELOAD)"},
	{"ss", synack_cmd_ss, "list a running synack's connections, like ss -tan"},
	{"nstat", synack_cmd_nstat, "show a running synack's counters, like nstat"},
	{"top", synack_cmd_top, "a live view of a running synack: connections and counters"},
	{"ladder", synack_cmd_ladder, "draw the ladder diagram of a pcap"},
	{"tsg", synack_cmd_tsg, "draw the time-sequence graph of a pcap"},
	{"report", synack_cmd_report, "write an HTML report of a pcap"},
	{"fsm", synack_cmd_fsm, "draw RFC 9293's state diagram lit by a connection"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: synack COMMAND [OPTIONS]   (synack COMMAND --help for each)\n"
		   "       synack --version | -V        print the version\n\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "synack: no command (synack --help lists them)\n");
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		if (argc > 2) {
			fprintf(stderr, "synack: %s takes no arguments\n", argv[1]);
			return 2;
		}
		printf("synack %s\n", synack_version());
		return 0;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "synack: unknown command '%s' (synack --help lists them)\n", argv[1]);
	return 2;
}
