/* synack report: one self-contained HTML page for a capture (src/render/report.c draws it). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "render/conn.h"
#include "render/report.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: synack report FILE.pcap [-o report.html] [--conn A:P-B:P]\n"
		   "                     [--max-conns N] [--first N] [--last N]\n"
		   "Writes one HTML page (no network resources): the connection list (endpoints,\n"
		   "duration, bytes each way, retransmissions, final inferred states) and each\n"
		   "connection's ladder and time-sequence graph (the first --max-conns, default "
		   "50).\n");
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
				return fprintf(stderr, "synack report: one input file only\n"), 2;
			in = o;
			continue;
		}
		if (!val)
			return fprintf(stderr, "synack report: %s needs a value\n", o),
			       usage(stderr), 2;
		i++;
		if (!strcmp(o, "-o")) {
			out_path = val;
		} else if (!strcmp(o, "--conn")) {
			if (synack_conn_spec_parse(val, &co.fa, &co.fb) < 0)
				return fprintf(stderr,
					       "synack report: --conn wants A.B.C.D:P-E.F.G.H:P\n"),
				       2;
			co.filter = true;
		} else if (!strcmp(o, "--max-conns") && parse_count(val, &v) == 0) {
			ro.max_conns = (unsigned)v;
		} else if (!strcmp(o, "--first") && parse_count(val, &v) == 0) {
			co.keep_first = (uint32_t)v;
		} else if (!strcmp(o, "--last") && parse_count(val, &v) == 0) {
			co.keep_last = (uint32_t)v;
		} else {
			fprintf(stderr, "synack report: bad option '%s %s'\n", o, val);
			return usage(stderr), 2;
		}
	}
	if (!in)
		return fprintf(stderr, "synack report: no input file\n"), usage(stderr), 2;
	struct synack_conns *t;
	if (synack_conns_new(&t, &co) < 0)
		return 1;
	struct synack_pcap_stats ps = {0};
	char err[256] = "";
	int rc = synack_conns_read_file(t, in, &ps, err, sizeof err);
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
