/* synack tsg: the time-sequence graph of one direction of a connection in a capture, as SVG.
 * The drawing is src/render/tsg.c; this parses flags.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "render/conn.h"
#include "render/tsg.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: synack tsg FILE.pcap [--conn A:P-B:P] [--dir A:P] [--first N] [--last N]\n"
		"                  [-o graph.svg]\n"
		"Draws the time-sequence graph of the data sent by --dir's endpoint (default: the\n"
		"side that sent more) of the connection --conn (default: the first): data "
		"segments\n"
		"as bars, the ACK and receive-window lines, retransmissions and SACK blocks in "
		"their\n"
		"own colours. Open the SVG in a browser: the wheel zooms, dragging pans,\n"
		"double-click resets. --first/--last: segments kept (default 20000 each).\n");
}

struct tsg_args {
	const char *in, *out_path;
	struct synack_conns_opts co;
	bool has_dir;
	struct synack_endpoint dir_ep;
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

static int parse_args(int argc, char **argv, struct tsg_args *a)
{
	a->co.keep_first = a->co.keep_last = 20000;
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (o[0] != '-' || !o[1]) {
			if (a->in)
				return fprintf(stderr, "synack tsg: one input file only\n"), -1;
			a->in = o;
			continue;
		}
		if (!val)
			return fprintf(stderr, "synack tsg: %s needs a value\n", o), -1;
		i++;
		char *end;
		if (!strcmp(o, "--conn")) {
			if (synack_conn_spec_parse(val, &a->co.fa, &a->co.fb) < 0)
				return fprintf(stderr,
					       "synack tsg: --conn wants A.B.C.D:P-E.F.G.H:P\n"),
				       -1;
			a->co.filter = true;
		} else if (!strcmp(o, "--dir")) {
			if (parse_dir(val, &a->dir_ep) < 0)
				return fprintf(stderr, "synack tsg: --dir wants A.B.C.D:P\n"), -1;
			a->has_dir = true;
		} else if (!strcmp(o, "--first") || !strcmp(o, "--last")) {
			unsigned long v = strtoul(val, &end, 10);
			if (*end || v > 10000000)
				return fprintf(stderr, "synack tsg: %s wants a count\n", o), -1;
			*(o[2] == 'f' ? &a->co.keep_first : &a->co.keep_last) = (uint32_t)v;
		} else if (!strcmp(o, "-o")) {
			a->out_path = val;
		} else {
			return fprintf(stderr, "synack tsg: unknown option '%s'\n", o), -1;
		}
	}
	if (!a->in)
		return fprintf(stderr, "synack tsg: no input file\n"), -1;
	return 0;
}

int synack_cmd_tsg(int argc, char **argv)
{
	struct tsg_args a = {0};
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return usage(stdout), 0;
	if (parse_args(argc, argv, &a) < 0)
		return usage(stderr), 2;
	struct synack_conns *t;
	if (synack_conns_new(&t, &a.co) < 0)
		return 1;
	char err[256];
	int rc = synack_conns_read_file(t, a.in, NULL, err, sizeof err);
	if (rc < 0)
		fprintf(stderr, "synack tsg: %s\n", err);
	const struct synack_conn *c = synack_conns_get(t, 0);
	if (!c) {
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
	struct synack_tsg_opts o = {.dir = synack_tsg_busiest_dir(c), .standalone = true};
	if (a.has_dir) {
		if (synack_addr_eq(&a.dir_ep.addr, &c->ep[0].addr) &&
		    a.dir_ep.port == c->ep[0].port)
			o.dir = 0;
		else if (synack_addr_eq(&a.dir_ep.addr, &c->ep[1].addr) &&
			 a.dir_ep.port == c->ep[1].port)
			o.dir = 1;
		else
			fprintf(stderr,
				"synack tsg: --dir is neither end of the connection; using %s\n",
				c->name[o.dir]);
	}
	FILE *out = a.out_path ? fopen(a.out_path, "w") : stdout;
	if (!out) {
		fprintf(stderr, "synack tsg: %s: %s\n", a.out_path, strerror(errno));
		synack_conns_free(t);
		return 1;
	}
	int wrc = synack_tsg_svg(out, c, &o);
	if (out != stdout && fclose(out) != 0)
		wrc = -EIO;
	if (wrc < 0)
		fprintf(stderr, "synack tsg: writing the graph failed\n");
	synack_conns_free(t);
	return rc < 0 || wrc < 0 ? 1 : 0;
}
