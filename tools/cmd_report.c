/* synack report: one self-contained HTML page for a capture (src/render/report.c draws it). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "render/conn.h"
#include "render/conn_trace.h"
#include "render/report.h"

static void usage(FILE *f)
{
	fputs("NAME\n"
	      "    synack report - one self-contained HTML page about the TCP in a capture\n\n"
	      "SYNOPSIS\n"
	      "    synack report FILE.pcap|FILE.jsonl [-o report.html] [--conn A:P-B:P]\n"
	      "                  [--max-conns N] [--first N] [--last N]\n\n"
	      "DESCRIPTION\n"
	      "    Writes one HTML page that loads nothing from the network: the capture's\n"
	      "    summary, the connection list (endpoints, duration, bytes each way,\n"
	      "    retransmissions, final inferred states) and, for each connection, its ladder,\n"
	      "    its state diagram (synack fsm), its time-sequence graph and the companion\n"
	      "    graphs (bytes in flight, RTT, throughput). The wheel zooms a picture, dragging\n"
	      "    pans, double-click resets. A JSON-lines trace is drawn as a capture of the\n"
	      "    segments its stacks sent.\n\n"
	      "OPTIONS\n"
	      "    -o OUT          write to OUT instead of standard output\n"
	      "    --conn A:P-B:P  one connection (either order); IPv6 as [addr]:port\n"
	      "    --max-conns N   connections drawn (default 50; the table lists all)\n"
	      "    --first N, --last N  segments kept per connection (default 200 each)\n\n"
	      "EXIT STATUS\n"
	      "    0 when written; 1 when the capture cannot be read or is damaged; 2 on bad\n"
	      "    usage.\n",
	      f);
}

static int parse_count(const char *s, unsigned long *v)
{
	char *end;
	if (!s || !*s)
		return -EINVAL;
	*v = strtoul(s, &end, 10);
	return *end || *v > 10000000 ? -EINVAL : 0;
}

int synack_cmd_report(int argc, char **argv)
{
	const char *in = NULL, *out_path = NULL;
	struct synack_conns_opts co = {.keep_first = 200, .keep_last = 200};
	struct synack_report_opts ro = {0};
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		unsigned long v;
		if (!strcmp(o, "--help") || !strcmp(o, "-h"))
			return usage(stdout), 0;
		if (o[0] != '-' || !o[1]) {
			if (in)
				return fprintf(stderr, "synack report: one input file only (also got '%s')\n",
					       o), 2;
			in = o;
			continue;
		}
		if (!val)
			return fprintf(stderr, "synack report: %s needs a value\n", o), 2;
		i++;
		if (!strcmp(o, "-o")) {
			out_path = val;
		} else if (!strcmp(o, "--conn")) {
			if (synack_conn_spec_parse(val, &co.fa, &co.fb) < 0)
				return fprintf(stderr,
					       "synack report: --conn: want A.B.C.D:P-E.F.G.H:P, not '%s'\n",
					       val),
				       2;
			co.filter = true;
		} else if (!strcmp(o, "--max-conns") && parse_count(val, &v) == 0) {
			ro.max_conns = (unsigned)v;
		} else if (!strcmp(o, "--first") && parse_count(val, &v) == 0) {
			co.keep_first = (uint32_t)v;
		} else if (!strcmp(o, "--last") && parse_count(val, &v) == 0) {
			co.keep_last = (uint32_t)v;
		} else if (!strcmp(o, "--max-conns") || !strcmp(o, "--first") || !strcmp(o, "--last")) {
			fprintf(stderr, "synack report: %s: want a count up to 10000000, not '%s'\n", o,
				val);
			return 2;
		} else {
			fprintf(stderr, "synack report: unknown option '%s' (synack report --help)\n", o);
			return 2;
		}
	}
	if (!in)
		return fprintf(stderr, "synack report: no input file (synack report --help)\n"), 2;
	struct synack_conns *t;
	if (synack_conns_new(&t, &co) < 0)
		return 1;
	struct synack_pcap_stats ps = {0};
	char err[256] = "";
	int rc = synack_conns_load(t, in, &ps, err, sizeof err);
	if (rc < 0)
		fprintf(stderr, "synack report: %s\n", err);
	if (rc < 0 && synack_conns_count(t) == 0) {
		synack_conns_free(t);
		return 1;
	}
	FILE *out = out_path ? fopen(out_path, "w") : stdout;
	if (!out) {
		fprintf(stderr, "synack report: %s: %s\n", out_path, strerror(errno));
		synack_conns_free(t);
		return 1;
	}
	ro.input_name = in;
	ro.pcap = &ps;
	ro.error = rc < 0 ? err : NULL;
	int wrc = synack_report_html(out, t, &ro);
	if (out != stdout && fclose(out) != 0)
		wrc = -EIO;
	if (wrc < 0)
		fprintf(stderr, "synack report: writing the report failed\n");
	if (synack_conns_count(t) == 0)
		fprintf(stderr, "synack report: %s: no TCP connection\n", in);
	synack_conns_free(t);
	return rc < 0 || wrc < 0 ? 1 : 0;
}
