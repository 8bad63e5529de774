/* synack drill: run packetdrill-language scripts against synack in-process on a virtual
 * clock. The work is in src/drill/; this file reads the command line and prints results. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "drill/drill.h"

static void usage(FILE *f)
{
	fputs("NAME\n"
	      "    synack drill - run packetdrill scripts against synack on a virtual clock\n\n"
	      "SYNOPSIS\n"
	      "    synack drill [-v] [--strict] [--tolerance_usecs=N] [--local_ip=A]\n"
	      "                 [--remote_ip=A] [--mss=N] SCRIPT...\n\n"
	      "DESCRIPTION\n"
	      "    Runs each SCRIPT, written in packetdrill's language, against a synack stack\n"
	      "    created for it in this process. Time is virtual: a script that waits out a\n"
	      "    60 s TIME-WAIT finishes at once, and every run is the same. The script plays\n"
	      "    the remote host: `<` lines are packets sent to synack, `>` lines packets synack\n"
	      "    must send, other lines system calls on synack's socket API and sysctl settings.\n\n"
	      "    A passing script prints nothing (one PASS line with several scripts); a failing\n"
	      "    one prints the script line, what was expected and what synack did, and the last\n"
	      "    segments. Scripts that need something synack cannot run (python blocks, shell\n"
	      "    commands other than the known sysctls, IPv6) are SKIPPED with the reason.\n\n"
	      "OPTIONS\n"
	      "    -v                   print every event and segment as it runs\n"
	      "    --tolerance_usecs=N  timing slack for outbound packets (default 4000); as in\n"
	      "                         packetdrill, 12.5% of the time since the previous event\n"
	      "                         is allowed when larger (--tolerance_percent=P)\n"
	      "    --local_ip=A         synack's address (default 192.168.0.1)\n"
	      "    --remote_ip=A        the script's address (default 192.0.2.1)\n"
	      "    --mss=N              the MSS synack announces (default synack's, 1460)\n"
	      "    --strict             also fail on packets synack sends after the last `>` line\n"
	      "                         (packetdrill leaves those unchecked)\n"
	      "    The same options may open a script; the command line wins.\n\n"
	      "EXIT STATUS\n"
	      "    0 if no script failed, 1 if one did, 2 on a usage error.\n\n"
	      "SEE ALSO\n"
	      "    docs/drill.md, tests/drill/README.md\n",
	      f);
}

static int parse_args(int argc, char **argv, struct drill_config *cfg, int *first)
{
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		struct drill_buf err = {0};
		if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			cfg->verbose = true;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 1;
		}
		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (strncmp(a, "--", 2) || drill_config_option(cfg, a + 2, false, &err) < 0) {
			fprintf(stderr, "synack drill: %s\n", err.p ? err.p : "unknown option");
			drill_buf_free(&err);
			return 2;
		}
		cfg->tolerance_set |= !strncmp(a, "--tolerance_usecs=", 18);
		cfg->local_ip_set |= !strncmp(a, "--local_ip=", 11);
		cfg->remote_ip_set |= !strncmp(a, "--remote_ip=", 12);
		cfg->mss_set |= !strncmp(a, "--mss=", 6);
		cfg->pct_set |= !strncmp(a, "--tolerance_percent=", 20);
	}
	*first = i;
	if (i >= argc) {
		fprintf(stderr, "synack drill: no SCRIPT (synack drill --help)\n");
		return 2;
	}
	return 0;
}

int synack_cmd_drill(int argc, char **argv)
{
	struct drill_config cfg;
	int first;
	drill_config_default(&cfg);
	int rc = parse_args(argc, argv, &cfg, &first);
	if (rc)
		return rc == 1 ? 0 : 2;
	int n[3] = {0, 0, 0};
	bool many = argc - first > 1;
	for (int i = first; i < argc; i++) {
		struct drill_result res;
		enum drill_status st = drill_run_file(argv[i], &cfg, &res);
		n[st]++;
		if (cfg.verbose && res.log.p)
			fputs(res.log.p, stdout);
		if (st == DRILL_PASS && (many || cfg.verbose))
			printf("PASS %s\n", argv[i]);
		else if (st == DRILL_SKIP)
			printf("SKIP %s: %s\n", argv[i], res.msg.p ? res.msg.p : "");
		else if (st == DRILL_FAIL)
			printf("%s%s", many ? "FAIL " : "", many ? argv[i] : "");
		if (st == DRILL_FAIL)
			printf("%s%s", many ? "\n" : "", res.msg.p ? res.msg.p : "");
		drill_result_free(&res);
	}
	if (many)
		printf("%d passed, %d failed, %d skipped\n", n[DRILL_PASS], n[DRILL_FAIL],
		       n[DRILL_SKIP]);
	fflush(stdout);
	return n[DRILL_FAIL] ? 1 : 0;
}
