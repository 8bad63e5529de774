/* synack tsg: the time-sequence graph of one direction of a connection in a capture, and its
 * companion graphs (bytes in flight, RTT, throughput), as SVG. The drawing is
 * src/render/tsg.c and tsg_more.c; this parses flags.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "render/conn.h"
#include "render/conn_trace.h"
#include "render/svg_ladder.h"
#include "render/tsg.h"

enum graph { GRAPH_TSG, GRAPH_MORE, GRAPH_ALL, GRAPH_CWND };

static void usage(FILE *f)
{
	fputs("NAME\n"
	      "    synack tsg - the time-sequence graph of a TCP connection in a capture\n\n"
	      "SYNOPSIS\n"
	      "    synack tsg FILE.pcap|FILE.jsonl [--conn A:P-B:P] [--dir A:P]\n"
	      "                         [--graph tsg|more|all|cwnd]\n"
	      "                         [--from S] [--to S] [--first N] [--last N] [-o OUT.svg]\n\n"
	      "DESCRIPTION\n"
	      "    Draws the data sent by --dir's endpoint (default: the side that sent more) of\n"
	      "    the connection --conn (default: the first), as tcptrace does: time across, the\n"
	      "    sequence number up; each segment a bar with serifs, retransmissions red with an\n"
	      "    R above them, out-of-order orange, window probes purple; the ACK line (green),\n"
	      "    the receive window line (grey, scaled, dotted along the top where it leaves the\n"
	      "    plot), SACK blocks (blue), duplicate ACKs (yellow diamonds, the third marked 3)\n"
	      "    and zero windows (Z). The time axis is in µs, ms, s or minutes as the span asks.\n"
	      "    --graph more draws the companions instead: bytes in flight (what a capture shows\n"
	      "    of the congestion window), RTT samples (Karn's rule) and throughput; all draws\n"
	      "    both, one above the other. A JSON-lines trace (serve/connect --trace, demo\n"
	      "    --format jsonl) is drawn as a capture of the segments its stacks sent; where\n"
	      "    the sender is a synack stack its trace carries its cwnd and ssthresh, and the\n"
	      "    first companion draws them (step lines) with its own bytes in flight instead\n"
	      "    of the estimate; --graph cwnd draws that panel alone. Open the SVG in a\n"
	      "    browser: dragging selects a time and sequence range to zoom into (a readout\n"
	      "    says which), the wheel zooms, double-click resets.\n\n"
	      "OPTIONS\n"
	      "    --conn A:P-B:P  the connection (either order); IPv6 as [addr]:port\n"
	      "    --dir A:P       the sending endpoint whose data is drawn\n"
	      "    --graph G       tsg (default), more (the companions), all, or cwnd (the\n"
	      "                    congestion window alone: in flight from a capture)\n"
	      "    --from S, --to S  only segments in this window (seconds since the capture's\n"
	      "                    first packet): a zoom\n"
	      "    --first N, --last N  segments kept per connection (default 20000 each)\n"
	      "    -o OUT.svg      write to OUT.svg instead of standard output\n\n"
	      "EXIT STATUS\n"
	      "    0 when drawn, 1 when the capture could not be read or holds no TCP connection,\n"
	      "    2 on bad usage (an unknown option, a bad value, --dir not an end of the\n"
	      "    connection).\n",
	      f);
}

struct tsg_args {
	const char *in, *out_path;
	struct synack_conns_opts co;
	bool has_dir;
	const char *dir_str;
	struct synack_endpoint dir_ep;
	enum graph graph;
};

static int parse_dir(const char *s, struct synack_endpoint *e)
{
	char spec[SYNACK_ADDR_STRLEN + 32];
	struct synack_endpoint dummy;
	if (!s || strlen(s) > SYNACK_ADDR_STRLEN + 8) /* [IPv6]:port */
		return -EINVAL;
	snprintf(spec, sizeof spec, "%s-0.0.0.0:0", s);
	return synack_conn_spec_parse(spec, e, &dummy);
}

static int bad(const char *opt, const char *val, const char *rule)
{
	fprintf(stderr, "synack tsg: %s: bad value '%s' (want %s)\n", opt, val, rule);
	return -1;
}

static int parse_secs(const char *s, uint64_t *us)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end || v < 0 || v > 1e12)
		return -EINVAL;
	*us = (uint64_t)(v * 1e6 + 0.5);
	return 0;
}

static int one_option(struct tsg_args *a, const char *o, const char *val)
{
	char *end;
	if (!strcmp(o, "--conn")) {
		if (synack_conn_spec_parse(val, &a->co.fa, &a->co.fb) < 0)
			return bad(o, val, "A.B.C.D:P-E.F.G.H:P");
		a->co.filter = true;
	} else if (!strcmp(o, "--dir")) {
		if (parse_dir(val, &a->dir_ep) < 0)
			return bad(o, val, "A.B.C.D:P");
		a->has_dir = true;
		a->dir_str = val;
	} else if (!strcmp(o, "--graph")) {
		if (!strcmp(val, "tsg"))
			a->graph = GRAPH_TSG;
		else if (!strcmp(val, "more"))
			a->graph = GRAPH_MORE;
		else if (!strcmp(val, "all"))
			a->graph = GRAPH_ALL;
		else if (!strcmp(val, "cwnd"))
			a->graph = GRAPH_CWND;
		else
			return bad(o, val, "tsg, more, all or cwnd");
	} else if (!strcmp(o, "--from") || !strcmp(o, "--to")) {
		if (parse_secs(val, o[2] == 'f' ? &a->co.from_us : &a->co.to_us) < 0)
			return bad(o, val, "seconds since the capture's first packet");
	} else if (!strcmp(o, "--first") || !strcmp(o, "--last")) {
		unsigned long v = strtoul(val, &end, 10);
		if (!*val || *end || v > 10000000)
			return bad(o, val, "a count up to 10000000");
		*(o[2] == 'f' ? &a->co.keep_first : &a->co.keep_last) = (uint32_t)v;
	} else if (!strcmp(o, "-o")) {
		a->out_path = val;
	} else {
		fprintf(stderr, "synack tsg: unknown option '%s' (synack tsg --help)\n", o);
		return -1;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct tsg_args *a)
{
	a->co.keep_first = a->co.keep_last = 20000;
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (o[0] != '-' || !o[1]) {
			if (a->in)
				return fprintf(stderr, "synack tsg: one input file only (also got '%s')\n",
					       o), -1;
			a->in = o;
			continue;
		}
		if (!val)
			return fprintf(stderr, "synack tsg: %s needs a value\n", o), -1;
		i++;
		if (one_option(a, o, val) < 0)
			return -1;
	}
	if (a->co.to_us && a->co.to_us < a->co.from_us)
		return fprintf(stderr, "synack tsg: --to comes before --from\n"), -1;
	if (!a->in)
		return fprintf(stderr, "synack tsg: no input file (synack tsg --help)\n"), -1;
	return 0;
}

static bool ep_is(const struct synack_endpoint *a, const struct synack_endpoint *b)
{
	return synack_addr_eq(&a->addr, &b->addr) && a->port == b->port;
}

static int draw(FILE *out, const struct synack_conn *c, const struct tsg_args *a, int dir)
{
	struct synack_tsg_opts o = {.dir = dir, .standalone = true};
	if (a->graph == GRAPH_TSG)
		return synack_tsg_svg(out, c, &o);
	if (a->graph == GRAPH_MORE)
		return synack_tsg_companions_svg(out, c, &o);
	if (a->graph == GRAPH_CWND) {
		o.cwnd_only = true;
		return synack_tsg_companions_svg(out, c, &o);
	}
	/* both: two <svg> elements nested in one document */
	double w = 960, h1 = 540, h2 = 40 + 3 * 240;
	fprintf(out,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg "
		"xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" "
		"height=\"%.0f\">\n",
		w, h1 + h2, w, h1 + h2);
	synack_svg_style(out);
	o.standalone = false;
	fputs("<svg x=\"0\" y=\"0\" width=\"960\" height=\"540\">\n", out);
	int rc = synack_tsg_svg(out, c, &o);
	fputs("</svg>\n<svg x=\"0\" y=\"540\" width=\"960\" height=\"760\">\n", out);
	if (rc == 0)
		rc = synack_tsg_companions_svg(out, c, &o);
	fputs("</svg>\n", out);
	synack_svg_zoom_script(out);
	fputs("</svg>\n", out);
	return rc;
}

int synack_cmd_tsg(int argc, char **argv)
{
	struct tsg_args a = {0};
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return usage(stdout), 0;
	if (parse_args(argc, argv, &a) < 0)
		return 2;
	struct synack_conns *t;
	if (synack_conns_new(&t, &a.co) < 0)
		return 1;
	char err[256];
	int rc = synack_conns_load(t, a.in, NULL, err, sizeof err);
	if (rc < 0)
		fprintf(stderr, "synack tsg: %s\n", err);
	const struct synack_conn *c = synack_conns_get(t, 0);
	if (!c) {
		if (rc == 0) /* a read error already said why */
			fprintf(stderr, "synack tsg: %s: no TCP connection%s\n", a.in,
				a.co.filter ? " matching --conn" : "");
		synack_conns_free(t);
		return 1;
	}
	if (synack_conns_count(t) > 1)
		fprintf(stderr,
			"synack tsg: %zu connections; drawing connection 1 (%s - %s); pick "
			"one with --conn\n",
			synack_conns_count(t), c->name[0], c->name[1]);
	int dir = synack_tsg_busiest_dir(c);
	if (a.has_dir) {
		if (ep_is(&a.dir_ep, &c->ep[0]) || ep_is(&a.dir_ep, &c->ep[1])) {
			dir = ep_is(&a.dir_ep, &c->ep[0]) ? 0 : 1;
		} else {
			fprintf(stderr, "synack tsg: --dir: %s is neither end of the connection (%s - %s)\n",
				a.dir_str, c->name[0], c->name[1]);
			synack_conns_free(t);
			return 2;
		}
	}
	FILE *out = a.out_path ? fopen(a.out_path, "w") : stdout;
	if (!out) {
		fprintf(stderr, "synack tsg: -o: %s: %s\n", a.out_path, strerror(errno));
		synack_conns_free(t);
		return 1;
	}
	int wrc = draw(out, c, &a, dir);
	if (out != stdout && fclose(out) != 0)
		wrc = -EIO;
	if (wrc < 0)
		fprintf(stderr, "synack tsg: writing the graph failed\n");
	synack_conns_free(t);
	return rc < 0 || wrc < 0 ? 1 : 0;
}
