/* synack drill: run packetdrill-language scripts against synack in-process on a virtual
 * clock. The work is in src/drill/; this file reads the command line and prints results. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "drill/drill.h"

static void usage(FILE *f)
{
	fputs("NAME\n"
	      "    synack drill - run packetdrill scripts against synack on a virtual clock\n\n"
	      "SYNOPSIS\n"
	      "    synack drill [-v] [--strict] [--summary] [-D NAME[=VALUE]] [--tolerance_usecs=N]\n"
	      "                 [--local_ip=A] [--remote_ip=A] [--mss=N] [--init_scripts=F,...]\n"
	      "                 SCRIPT...\n\n"
	      "DESCRIPTION\n"
	      "    Runs each SCRIPT, written in packetdrill's language, against a synack stack\n"
	      "    created for it in this process. Time is virtual: a script that waits out a\n"
	      "    60 s TIME-WAIT finishes at once, and every run is the same. The script plays\n"
	      "    the remote host: `<` lines are packets sent to synack, `>` lines packets synack\n"
	      "    must send, other lines system calls on synack's socket API and sysctl settings.\n\n"
	      "    A passing script prints nothing (one PASS line with several scripts); a failing\n"
	      "    one prints the script line, what was expected and what synack did, and the last\n"
	      "    segments. Scripts that need something synack cannot run (an unknown sysctl or\n"
	      "    shell command, a missing option or call, IPv6) are SKIPPED with a one-line\n"
	      "    reason, never failed.\n\n"
	      "OPTIONS\n"
	      "    -v                   print every event and segment as it runs\n"
	      "    --tolerance_usecs=N  timing slack for outbound packets (default 4000); as in\n"
	      "                         packetdrill, 12.5% of the time since the previous event\n"
	      "                         is allowed when larger (--tolerance_percent=P)\n"
	      "    --local_ip=A         synack's address (default 192.168.0.1)\n"
	      "    --remote_ip=A        the script's address (default 192.0.2.1)\n"
	      "    --mss=N              inbound payloads larger than N go as N-byte segments\n"
	      "                         (packetdrill's meaning; default: one frame)\n"
	      "    -D NAME[=VALUE]      define NAME for #ifdef lines and as a constant in calls\n"
	      "                         (--define=NAME=VALUE in a script); none by default\n"
	      "    --init_scripts=F,... shell scripts run before each script (sysctl lines;\n"
	      "                         a defaults.sh that is missing reads as Linux's)\n"
	      "    --summary            after the results, pass/fail/skip counts and the most\n"
	      "                         frequent skip reasons\n"
	      "    --strict             also fail on packets synack sends after the last `>` line\n"
	      "                         (packetdrill leaves those unchecked)\n"
	      "    The same options may open a script; the command line wins.\n\n"
	      "EXIT STATUS\n"
	      "    0 if no script failed, 1 if one did, 2 on a usage error.\n\n"
	      "SEE ALSO\n"
	      "    docs/drill.md, tests/drill/README.md\n",
	      f);
}

static int parse_args(int argc, char **argv, struct drill_config *cfg, int *first,
		      bool *summary)
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
		if (!strcmp(a, "--summary")) {
			*summary = true;
			continue;
		}
		if (!strncmp(a, "-D", 2)) {
			const char *def = a[2] ? a + 2 : (i + 1 < argc ? argv[++i] : "");
			if (drill_define_set(cfg, def) < 0) {
				fprintf(stderr, "synack drill: bad definition -D %s\n", def);
				return 2;
			}
			continue;
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
		cfg->init_set |= !strncmp(a, "--init_scripts=", 15);
	}
	*first = i;
	if (i >= argc) {
		fprintf(stderr, "synack drill: no SCRIPT (synack drill --help)\n");
		return 2;
	}
	return 0;
}

/* Skip reasons, counted: "line 12: unsupported: X" is counted as "X". */
struct reasons {
	char *text[256];
	int count[256];
	int n;
};

static void count_reason(struct reasons *rs, const char *msg)
{
	const char *u = strstr(msg, "unsupported: ");
	const char *why = u ? u + 13 : msg;
	if (!u && !strncmp(msg, "line ", 5) && strchr(msg, ':'))
		why = strchr(msg, ':') + 2;
	size_t len = strcspn(why, "\n");
	for (int i = 0; i < rs->n; i++)
		if (strlen(rs->text[i]) == len && !strncmp(rs->text[i], why, len)) {
			rs->count[i]++;
			return;
		}
	if (rs->n == 256)
		return;
	rs->text[rs->n] = strndup(why, len);
	rs->count[rs->n++] = 1;
}

static void print_summary(const int *n, struct reasons *rs)
{
	printf("summary: %d passed, %d failed, %d skipped\n", n[DRILL_PASS], n[DRILL_FAIL],
	       n[DRILL_SKIP]);
	for (int shown = 0; shown < 10 && rs->n > 0; shown++) {
		int best = 0;
		for (int i = 1; i < rs->n; i++)
			if (rs->count[i] > rs->count[best])
				best = i;
		if (rs->count[best] == 0)
			break;
		if (shown == 0)
			printf("top skip reasons:\n");
		printf("  %5d  %s\n", rs->count[best], rs->text[best]);
		rs->count[best] = 0;
	}
	for (int i = 0; i < rs->n; i++)
		free(rs->text[i]);
}

int synack_cmd_drill(int argc, char **argv)
{
	struct drill_config cfg;
	int first;
	bool summary = false;
	drill_config_default(&cfg);
	int rc = parse_args(argc, argv, &cfg, &first, &summary);
	if (rc)
		return rc == 1 ? 0 : 2;
	int n[3] = {0, 0, 0};
	struct reasons rs = {.n = 0};
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
		if (st == DRILL_SKIP)
			count_reason(&rs, res.msg.p ? res.msg.p : "");
		drill_result_free(&res);
	}
	if (many)
		printf("%d passed, %d failed, %d skipped\n", n[DRILL_PASS], n[DRILL_FAIL],
		       n[DRILL_SKIP]);
	if (summary)
		print_summary(n, &rs);
	else
		for (int i = 0; i < rs.n; i++)
			free(rs.text[i]);
	fflush(stdout);
	return n[DRILL_FAIL] ? 1 : 0;
}
