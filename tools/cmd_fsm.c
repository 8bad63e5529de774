/* synack fsm: RFC 9293's state diagram with the transitions each side of a connection took,
 * from a capture, a live trace or a demo scenario. The work is in src/render/fsm.c; this
 * parses flags and picks the input.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "demo/scenario.h"
#include "render/conn.h"
#include "render/conn_trace.h"
#include "render/fsm.h"
#include "render/svg_ladder.h"

enum fsm_format { FSM_SVG, FSM_HTML, FSM_TEXT };

struct fsm_args {
	const char *in, *trace, *out_path;
	enum fsm_format fmt;
	bool filter;
	struct synack_endpoint fa, fb;
	int demo_at; /* argv index of "demo", or 0 */
};

static void usage(FILE *f)
{
	fputs("NAME\n"
	      "    synack fsm - RFC 9293's state diagram, lit by a connection\n\n"
	      "SYNOPSIS\n"
	      "    synack fsm FILE.pcap|FILE.jsonl [--conn A:P-B:P] [--format svg|html|text] [-o OUT]\n"
	      "    synack fsm --trace FILE.jsonl [--conn A:P-B:P] [--format F] [-o OUT]\n"
	      "    synack fsm demo [--scenario NAME] [demo options] [--format F] [-o OUT]\n\n"
	      "DESCRIPTION\n"
	      "    Draws the eleven states and every transition of RFC 9293's Figure 5, laid\n"
	      "    out as the classic diagram, once per side of the connection. The transitions\n"
	      "    the side took are drawn in its colour, numbered in order, and labelled with\n"
	      "    what caused them: the segment received (rcv S.), the timer that fired, or\n"
	      "    the call (connect(), close()), and the segment sent (snd S.). Transitions\n"
	      "    the figure does not have (an abort to CLOSED) are dashed. Below each\n"
	      "    diagram the steps are listed with their times.\n"
	      "    From a capture the states are inferred (see synack ladder); from a live\n"
	      "    trace (serve/connect --trace) and a demo they are the stack's own.\n"
	      "    One connection: the first, or the one --conn names.\n\n"
	      "OPTIONS\n"
	      "    --conn A:P-B:P  the connection to draw (either order)\n"
	      "    --format F      svg (default), html (a page holding the SVG), or text (the\n"
	      "                    numbered steps, one per line)\n"
	      "    -o OUT          write to OUT instead of standard output\n"
	      "    demo ...        run a demo scenario (synack demo --help for its options)\n\n"
	      "EXIT STATUS\n"
	      "    0 when drawn, 1 when the input could not be read or has no state changes,\n"
	      "    2 on bad usage.\n",
	      f);
}

static int usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, "synack fsm: %s%s%s%s\n", msg, arg ? " '" : "", arg ? arg : "",
		arg ? "'" : "");
	return -1;
}

/* Takes fsm's own options; with "demo", everything after it except -o/--format goes to the
 * demo's parser. */
static int parse_args(int argc, char **argv, struct fsm_args *a, int *demo_argc, char **demo_argv)
{
	*demo_argc = 0;
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		bool takes = !strcmp(o, "-o") || !strcmp(o, "--format") || !strcmp(o, "--trace") ||
			     (!strcmp(o, "--conn") && !a->demo_at);
		if (takes && !val)
			return usage_error("option needs a value:", o);
		if (!strcmp(o, "-o")) {
			a->out_path = val;
		} else if (!strcmp(o, "--format")) {
			if (!strcmp(val, "svg"))
				a->fmt = FSM_SVG;
			else if (!strcmp(val, "html"))
				a->fmt = FSM_HTML;
			else if (!strcmp(val, "text"))
				a->fmt = FSM_TEXT;
			else
				return usage_error("--format: want svg, html or text, not", val);
		} else if (!strcmp(o, "--trace")) {
			a->trace = val;
		} else if (a->demo_at) {
			demo_argv[(*demo_argc)++] = argv[i];
			continue;
		} else if (!strcmp(o, "--conn")) {
			if (synack_conn_spec_parse(val, &a->fa, &a->fb) < 0)
				return usage_error("--conn: want A.B.C.D:P-E.F.G.H:P, not", val);
			a->filter = true;
		} else if (!strcmp(o, "demo") && !a->in) {
			a->demo_at = i;
			demo_argv[(*demo_argc)++] = argv[i];
			continue;
		} else if (o[0] == '-' && o[1]) {
			return usage_error("unknown option", o);
		} else if (!a->in) {
			a->in = o;
		} else {
			return usage_error("one input only; also got", o);
		}
		i += takes;
	}
	if (!a->in && !a->trace && !a->demo_at)
		return usage_error("no input: give FILE.pcap, --trace FILE or demo", NULL);
	if ((a->in != NULL) + (a->trace != NULL) + (a->demo_at != 0) > 1)
		return usage_error("one input only: FILE.pcap, --trace FILE or demo", NULL);
	return 0;
}

static int from_pcap(const struct fsm_args *a, struct synack_fsm *f, char *title, size_t cap)
{
	struct synack_conns_opts co = {.keep_first = 4000, .keep_last = 4000,
				       .filter = a->filter, .fa = a->fa, .fb = a->fb};
	struct synack_conns *t;
	if (synack_conns_new(&t, &co) < 0)
		return -ENOMEM;
	struct synack_pcap_stats ps;
	char err[256] = "";
	int rc = synack_conns_load(t, a->in, &ps, err, sizeof err);
	if (rc < 0)
		fprintf(stderr, "synack fsm: %s\n", err);
	if (synack_conns_count(t) == 0) {
		if (rc == 0)
			fprintf(stderr, "synack fsm: %s: no TCP connection%s\n", a->in,
				a->filter ? " matching --conn" : "");
		synack_conns_free(t);
		return -ENOENT;
	}
	const struct synack_conn *c = synack_conns_get(t, 0);
	synack_fsm_init(f, c->name[0], c->name[1]);
	synack_conn_replay(c, synack_fsm_trace, f);
	snprintf(title, cap, "%s: %s - %s", a->in, c->name[0], c->name[1]);
	synack_conns_free(t);
	return rc < 0 ? rc : 0;
}

/* A trace: the connection --conn names, or the best one found by a first pass (when the
 * stream can be read twice; else the first one with a state change). */
static int from_stream(FILE *in, const struct fsm_args *a, struct synack_fsm *f, const char *name)
{
	struct synack_trace_read_stats st = {0};
	char opener[64];
	bool have = synack_trace_first_opener(in, opener, sizeof opener) == 0;
	synack_fsm_init(f, have ? opener : NULL, NULL);
	struct synack_endpoint pa, pb;
	bool lock = a->filter;
	if (lock) {
		pa = a->fa, pb = a->fb;
	} else if (have) { /* first_opener rewound it: it can be read twice */
		static struct synack_fsm_pick pick;
		memset(&pick, 0, sizeof pick);
		synack_trace_read(in, synack_fsm_pick_trace, &pick, false, NULL, NULL, &st);
		lock = synack_fsm_pick_best(&pick, &pa, &pb) && fseek(in, 0, SEEK_SET) == 0;
	}
	if (lock) {
		f->locked = true;
		f->la = pa;
		f->lb = pb;
	}
	int rc = synack_trace_read(in, synack_fsm_trace, f, false, NULL, NULL, &st);
	if (rc < 0)
		fprintf(stderr, "synack fsm: %s: read error\n", name);
	if (st.events == 0) {
		fprintf(stderr, "synack fsm: %s: no trace events\n", name);
		return -ENOENT;
	}
	return rc;
}

static int from_demo(int argc, char **argv, const struct fsm_args *a, struct synack_fsm *f,
		     char *title, size_t cap)
{
	struct synack_demo_opts o;
	int rc = synack_demo_parse_args(argc, argv, &o, "synack fsm demo");
	if (rc)
		return rc == 1 ? 1 : -EINVAL;
	char *buf = NULL;
	size_t len = 0;
	o.out = open_memstream(&buf, &len);
	if (!o.out)
		return -ENOMEM;
	o.format = SYNACK_LADDER_JSONL;
	int err = synack_demo_run(&o, NULL);
	fclose(o.out);
	if (err < 0) {
		fprintf(stderr, "synack fsm: the scenario could not run (%s)\n", strerror(-err));
		free(buf);
		return err;
	}
	FILE *in = fmemopen(buf, len, "r");
	err = in ? from_stream(in, a, f, "demo") : -ENOMEM;
	if (in)
		fclose(in);
	free(buf);
	snprintf(title, cap, "synack demo --scenario %s", o.scenario ? o.scenario : "handshake");
	return err;
}

static int write_out(const struct fsm_args *a, const struct synack_fsm *f, const char *title)
{
	FILE *out = a->out_path ? fopen(a->out_path, "w") : stdout;
	if (!out) {
		fprintf(stderr, "synack fsm: -o: %s: %s\n", a->out_path, strerror(errno));
		return 1;
	}
	int rc;
	if (a->fmt == FSM_TEXT) {
		rc = synack_fsm_text(out, f);
	} else if (a->fmt == FSM_SVG) {
		rc = synack_fsm_svg(out, f, true, title);
	} else {
		fputs("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\">\n<head>"
		      "<meta charset=\"utf-8\"/>\n<title>",
		      out);
		synack_svg_text(out, title);
		fputs("</title>\n", out);
		synack_svg_style(out);
		fputs("</head>\n<body>\n", out);
		rc = synack_fsm_svg(out, f, false, title);
		synack_svg_zoom_script(out);
		fputs("</body>\n</html>\n", out);
	}
	if (out != stdout && fclose(out) != 0)
		rc = -EIO;
	if (rc < 0)
		fprintf(stderr, "synack fsm: writing the output failed\n");
	return rc < 0 ? 1 : 0;
}

static bool is_trace(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	bool yes = synack_trace_is_jsonl(f);
	fclose(f);
	return yes;
}

int synack_cmd_fsm(int argc, char **argv)
{
	struct fsm_args a = {.fmt = FSM_SVG};
	for (int i = 1; i < argc && strcmp(argv[i], "demo"); i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return usage(stdout), 0;
	char **dargv = calloc((size_t)argc + 1, sizeof *dargv);
	if (!dargv)
		return 1;
	int dargc, rc;
	static struct synack_fsm f; /* ~40 KB: not on the stack */
	char title[256] = "";
	if (parse_args(argc, argv, &a, &dargc, dargv) < 0) {
		free(dargv);
		return 2;
	}
	if (a.demo_at) {
		rc = from_demo(dargc, dargv, &a, &f, title, sizeof title);
	} else if (a.trace || is_trace(a.in)) {
		if (!a.trace)
			a.trace = a.in; /* a .jsonl given as FILE: the stack's own states, not inferred */
		FILE *in = strcmp(a.trace, "-") ? fopen(a.trace, "rb") : stdin;
		if (!in) {
			fprintf(stderr, "synack fsm: --trace: %s: %s\n", a.trace, strerror(errno));
			free(dargv);
			return 1;
		}
		rc = from_stream(in, &a, &f, a.trace);
		snprintf(title, sizeof title, "%s", a.trace);
		if (in != stdin)
			fclose(in);
	} else {
		rc = from_pcap(&a, &f, title, sizeof title);
	}
	free(dargv);
	if (rc == 1)
		return 0; /* demo --help / --list */
	if (rc == -EINVAL)
		return 2;
	if (rc < 0 && rc != -EIO)
		return 1;
	if (synack_fsm_steps(&f) == 0) {
		fprintf(stderr, "synack fsm: no state changes in this input\n");
		return 1;
	}
	int wrc = write_out(&a, &f, title);
	return rc < 0 ? 1 : wrc;
}
