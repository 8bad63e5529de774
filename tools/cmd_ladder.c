/* synack ladder: the ladder diagram of a capture (pcap/pcapng) or of a live trace (JSON lines
 * from --trace), one per TCP connection, with each endpoint's inferred RFC 9293 states.
 * The work is in src/render (pcapread, conn, infer, ladder, svg_ladder); this parses flags.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "render/conn.h"
#include "render/conn_trace.h"
#include "render/ladder.h"
#include "render/ladder_backend.h"
#include "render/report.h"

#define DEFAULT_KEEP 1000

struct ladder_args {
	const char *in, *out_path, *trace;
	enum synack_ladder_format fmt;
	struct synack_conns_opts co;
	bool absolute, verbose, raw_window;
	unsigned max_rows;
};

static void usage(FILE *f)
{
	fprintf(f,
		"NAME\n"
		"    synack ladder - the ladder diagram of TCP conversations in a capture or a trace\n\n"
		"SYNOPSIS\n"
		"    synack ladder FILE.pcap [--conn A:P-B:P] [--format text|svg|html|jsonl]\n"
		"                  [--absolute] [--verbose] [--raw-window] [--from S] [--to S]\n"
		"                  [--first N] [--last N] [--max-rows N] [-o OUT]\n"
		"    synack ladder --trace FILE.jsonl [...]   (a .jsonl FILE is recognised too)\n\n"
		"DESCRIPTION\n"
		"    Draws each TCP connection as a ladder: a column per endpoint, an arrow per\n"
		"    segment in tcpdump's notation (flags, seq/ack relative to each ISN, the window\n"
		"    scaled by the negotiated shift, len), the options of SYNs and SACKs on a line\n"
		"    under the arrow, each endpoint's inferred RFC 9293 states ('?' when the capture\n"
		"    missed the start), marks (retx, dup-ack, out-of-order, zero-window,\n"
		"    window-probe) and a break line for gaps of a second or more. A trace written by\n"
		"    one live stack (serve/connect --trace) gives one ladder per connection, the\n"
		"    peer in its own column, times from the trace's first event.\n\n"
		"OPTIONS\n"
		"    --conn A:P-B:P  one connection (either order); IPv6 as [addr]:port\n"
		"    --format F      text (default, 100 columns), svg (one connection), html (all),\n"
		"                    jsonl (one JSON object per event)\n"
		"    --absolute      seq/ack as on the wire\n"
		"    --verbose, -v   every segment's options in full, the window scaled and raw\n"
		"    --raw-window    win= is the header field, unscaled\n"
		"    --from S, --to S  only segments in this window (seconds since the first packet)\n"
		"    --first N, --last N  segments kept per connection (default %d each); the middle\n"
		"                    is replaced by a marker\n"
		"    --max-rows N    elide the middle of ladders longer than N rows\n"
		"    --trace FILE    a JSON-lines trace instead of a capture\n"
		"    -o OUT          write to OUT instead of standard output\n\n"
		"EXIT STATUS\n"
		"    0 when drawn; 1 when the input cannot be read, is damaged (what came before the\n"
		"    damage is drawn) or holds no TCP connection; 2 on bad usage.\n",
		DEFAULT_KEEP);
}

static int parse_u(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;
	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_secs(const char *s, uint64_t *us)
{
	char *end;
	if (!s || !*s)
		return -EINVAL;
	double v = strtod(s, &end);
	if (*end || v < 0 || v > 1e12)
		return -EINVAL;
	*us = (uint64_t)(v * 1e6 + 0.5);
	return 0;
}

static int parse_args(int argc, char **argv, struct ladder_args *a)
{
	bool first_set = false, last_set = false;
	unsigned long long v;
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		bool takes = true;
		static const char *const valued[] = {"--conn", "--format", "--from", "--to",
						     "--first", "--last", "--max-rows", "-o",
						     "--trace"};
		for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++)
			if (!strcmp(o, valued[k]) && !val)
				return fprintf(stderr, "synack ladder: %s needs a value\n", o), -1;
		if (!strcmp(o, "--conn")) {
			if (synack_conn_spec_parse(val, &a->co.fa, &a->co.fb) < 0)
				return fprintf(stderr,
					       "synack ladder: --conn: want A.B.C.D:P-E.F.G.H:P, not '%s'\n",
					       val ? val : ""),
				       -1;
			a->co.filter = true;
		} else if (!strcmp(o, "--format")) {
			if (synack_ladder_format_parse(val, &a->fmt) < 0)
				return fprintf(stderr,
					       "synack ladder: --format: want text, svg, html or jsonl, "
					       "not '%s'\n",
					       val ? val : ""),
				       -1;
		} else if (!strcmp(o, "--from") || !strcmp(o, "--to")) {
			uint64_t *dst = o[2] == 'f' ? &a->co.from_us : &a->co.to_us;
			if (parse_secs(val, dst) < 0)
				return fprintf(stderr,
					       "synack ladder: %s: want seconds since the first packet, "
					       "not '%s'\n",
					       o, val ? val : ""),
				       -1;
		} else if (!strcmp(o, "--first") || !strcmp(o, "--last") ||
			   !strcmp(o, "--max-rows")) {
			if (parse_u(val, 10000000, &v) < 0)
				return fprintf(stderr,
					       "synack ladder: %s: want a count up to 10000000, not '%s'\n",
					       o, val ? val : ""),
				       -1;
			if (o[2] == 'f')
				a->co.keep_first = (uint32_t)v, first_set = true;
			else if (o[2] == 'l')
				a->co.keep_last = (uint32_t)v, last_set = true;
			else
				a->max_rows = (unsigned)v;
		} else if (!strcmp(o, "-o")) {
			a->out_path = val;
		} else if (!strcmp(o, "--trace")) {
			a->trace = val;
		} else {
			takes = false;
			if (!strcmp(o, "--absolute"))
				a->absolute = true;
			else if (!strcmp(o, "--verbose") || !strcmp(o, "-v"))
				a->verbose = true;
			else if (!strcmp(o, "--raw-window"))
				a->raw_window = true;
			else if (o[0] == '-' && o[1])
				return fprintf(stderr,
					       "synack ladder: unknown option '%s' (synack ladder --help)\n",
					       o),
				       -1;
			else if (!a->in)
				a->in = o;
			else
				return fprintf(stderr, "synack ladder: one input file only\n"), -1;
		}
		if (takes && !val)
			return fprintf(stderr, "synack ladder: %s needs a value\n", o), -1;
		i += takes;
	}
	if (!first_set && !last_set)
		a->co.keep_first = a->co.keep_last = DEFAULT_KEEP;
	if (!a->in && !a->trace)
		return fprintf(stderr, "synack ladder: no input file\n"), -1;
	return 0;
}

static int draw_conn(const struct ladder_args *a, FILE *out, const struct synack_conn *c)
{
	char title[160];
	snprintf(title, sizeof title, "connection %u: %s - %s", c->id, c->name[0], c->name[1]);
	struct synack_ladder_opts lo = {
		.format = a->fmt,
		.out = out,
		.left = c->name[0],
		.right = c->name[1],
		.absolute = a->absolute,
		.verbose = a->verbose,
		.raw_window = a->raw_window,
		.max_rows = a->max_rows,
		.title = title,
	};
	struct synack_ladder *l;
	int rc = synack_ladder_new(&l, &lo);
	if (rc < 0)
		return rc;
	synack_conn_replay(c, synack_ladder_trace, l);
	rc = synack_ladder_finish(l);
	synack_ladder_free(l);
	if (c->outside && a->fmt == SYNACK_LADDER_TEXT)
		fprintf(out, "(%llu segments outside --from/--to not shown)\n",
			(unsigned long long)c->outside);
	return rc;
}

static void summary(const char *in, const struct synack_pcap_stats *ps,
		    const struct synack_conns_stats *cs, size_t nconns)
{
	uint64_t skipped = ps->truncated + ps->non_ip + ps->bad_link + cs->non_tcp +
			   cs->fragments + cs->malformed;
	if (cs->mended)
		fprintf(stderr,
			"synack ladder: %s: %llu IPv4 headers had an offloaded checksum or length "
			"(a capture on the sending host): mended and used\n",
			in, (unsigned long long)cs->mended);
	if (!skipped)
		return;
	fprintf(stderr,
		"synack ladder: %s: %llu packets, %llu TCP segments in %zu connections; skipped "
		"%llu: %llu cut short by the snapshot length, %llu not IP, %llu unknown link, "
		"%llu not TCP, %llu fragments, %llu malformed\n",
		in, (unsigned long long)ps->records, (unsigned long long)cs->tcp, nconns,
		(unsigned long long)skipped, (unsigned long long)ps->truncated,
		(unsigned long long)ps->non_ip, (unsigned long long)ps->bad_link,
		(unsigned long long)cs->non_tcp, (unsigned long long)cs->fragments,
		(unsigned long long)cs->malformed);
}

/* Times relative to the trace's first event: a live stack's clock is the host's monotonic one. */
struct shifted {
	struct synack_ladder *l;
	uint64_t t0;
};

static void shifted_event(void *ctx, const struct synack_trace_event *ev)
{
	const struct shifted *sh = ctx;
	struct synack_trace_event e = *ev;
	e.t_us = ev->t_us >= sh->t0 ? ev->t_us - sh->t0 : 0;
	synack_ladder_event(sh->l, &e);
}

/* One ladder of a trace: everything (filter false), or one connection. */
static int trace_ladder(FILE *in, const struct synack_ladder_opts *lo, uint64_t t0, bool filter,
			const struct synack_endpoint *fa, const struct synack_endpoint *fb,
			struct synack_trace_read_stats *st)
{
	struct shifted sh = {NULL, t0};
	if (synack_ladder_new(&sh.l, lo) < 0)
		return -ENOMEM;
	int rc = synack_trace_read(in, shifted_event, &sh, filter, fa, fb, st);
	rc = synack_ladder_finish(sh.l) < 0 ? -EIO : rc;
	synack_ladder_free(sh.l);
	return rc;
}

static bool same_ep(const struct synack_endpoint *x, const struct synack_endpoint *y)
{
	return !memcmp(&x->addr, &y->addr, sizeof x->addr) && x->port == y->port;
}

/* A live stack's trace (one host traced, its peers are the kernel or another program): one
 * ladder per connection, the traced host in its own column and the peer in the other, the
 * peer's segments drawn from their arrival. */
static int live_ladders(const struct ladder_args *a, FILE *in, FILE *out,
			const struct synack_trace_summary *sm, struct synack_trace_read_stats *st)
{
	int rc = 0;
	unsigned drawn = 0;
	bool one = a->fmt == SYNACK_LADDER_SVG;
	for (size_t i = 0; i < sm->nconns && rc == 0; i++) {
		const struct synack_endpoint *ea = &sm->conns[i].a, *eb = &sm->conns[i].b;
		if (a->co.filter && !((same_ep(ea, &a->co.fa) && same_ep(eb, &a->co.fb)) ||
				      (same_ep(ea, &a->co.fb) && same_ep(eb, &a->co.fa))))
			continue;
		if (one && drawn)
			break;
		char na[32], nb[32], title[160];
		synack_endpoint_str(ea, na, sizeof na);
		synack_endpoint_str(eb, nb, sizeof nb);
		snprintf(title, sizeof title,
			 "connection %zu: %s - %s (times since the trace's first event)", i + 1, na,
			 nb);
		struct synack_ladder_opts lo = {
			.format = a->fmt, .out = out, .absolute = a->absolute,
			.verbose = a->verbose, .raw_window = a->raw_window,
			.max_rows = a->max_rows, .title = title, .untraced_peer = true,
			.left = sm->conns[i].host_a[0] ? sm->conns[i].host_a : na,
			.right = sm->conns[i].host_b[0] ? sm->conns[i].host_b : nb,
			.left_addr = ea->addr, .right_addr = eb->addr,
		};
		if (drawn && a->fmt == SYNACK_LADDER_TEXT)
			fputc('\n', out);
		rc = fseek(in, 0, SEEK_SET) == 0 ? 0 : -EIO;
		if (rc == 0)
			rc = trace_ladder(in, &lo, sm->t0_us, true, ea, eb, st);
		drawn++;
	}
	if (!drawn && rc == 0) {
		fprintf(stderr, "synack ladder: no connection%s in the trace\n",
			a->co.filter ? " matching --conn" : "");
		return 1;
	}
	if (one && drawn && sm->nconns > 1 && !a->co.filter)
		fprintf(stderr, "synack ladder: %zu connections; drew connection 1 (pick one with "
				"--conn)\n", sm->nconns);
	return rc < 0 ? 1 : 0;
}

static int from_trace(const struct ladder_args *a, FILE *in, FILE *out, const char *name)
{
	static struct synack_trace_summary sm; /* ~40 KB */
	struct synack_trace_read_stats st = {0};
	bool summed = synack_trace_summarize(in, &sm) == 0;
	int rc;
	if (summed && sm.nhosts == 1 && sm.nconns > 0) {
		rc = live_ladders(a, in, out, &sm, &st);
	} else {
		struct synack_ladder_opts lo = {
			.format = a->fmt, .out = out, .absolute = a->absolute,
			.verbose = a->verbose, .raw_window = a->raw_window,
			.max_rows = a->max_rows,
		};
		/* The active opener on the left, as for a capture (when it can be read twice). */
		char opener[64];
		if (synack_trace_first_opener(in, opener, sizeof opener) == 0)
			lo.left = opener;
		rc = trace_ladder(in, &lo, summed ? sm.t0_us : 0, a->co.filter, &a->co.fa,
				  &a->co.fb, &st);
		rc = rc < 0 ? 1 : 0;
	}
	if (st.bad)
		fprintf(stderr,
			"synack ladder: %s: %llu of %llu lines are not trace events: skipped\n",
			name, (unsigned long long)st.bad, (unsigned long long)st.lines);
	if (st.events == 0 && rc == 0) {
		fprintf(stderr, "synack ladder: %s: no trace events\n", name);
		return 1;
	}
	return rc;
}

static int from_pcap(const struct ladder_args *a, FILE *out)
{
	struct synack_conns *t;
	if (synack_conns_new(&t, &a->co) < 0)
		return 1;
	struct synack_pcap_stats ps = {0};
	char err[256] = "";
	int rc = synack_conns_read_file(t, a->in, &ps, err, sizeof err);
	size_t n = synack_conns_count(t);
	summary(a->in, &ps, synack_conns_stats(t), n);
	if (rc < 0)
		fprintf(stderr, "synack ladder: %s\n", err);
	if (n == 0 && rc == 0)
		fprintf(stderr, "synack ladder: %s: no TCP connection%s\n", a->in,
			a->co.filter ? " matching --conn" : "");
	if (a->fmt == SYNACK_LADDER_HTML && n > 1) { /* every ladder on one page */
		struct synack_report_opts ro = {.input_name = a->in,
						.pcap = &ps,
						.error = rc < 0 ? err : NULL,
						.max_conns = 1000000,
						.max_rows = a->max_rows,
						.ladders_only = true};
		int wrc = synack_report_html(out, t, &ro);
		synack_conns_free(t);
		return rc < 0 || wrc < 0 ? 1 : 0;
	}
	bool one = a->fmt == SYNACK_LADDER_SVG || a->fmt == SYNACK_LADDER_HTML;
	if (one && n > 1)
		fprintf(stderr,
			"synack ladder: %zu connections; drawing connection 1 (pick one with "
			"--conn, or see them all with synack report)\n",
			n);
	int wrc = 0;
	for (size_t i = 0; i < n && (!one || i == 0) && wrc == 0; i++) {
		if (i > 0 && a->fmt == SYNACK_LADDER_TEXT)
			fputc('\n', out);
		wrc = draw_conn(a, out, synack_conns_get(t, i));
	}
	synack_conns_free(t);
	if (wrc < 0)
		fprintf(stderr, "synack ladder: writing the output failed\n");
	return rc < 0 || n == 0 || wrc < 0 ? 1 : 0;
}

int synack_cmd_ladder(int argc, char **argv)
{
	struct ladder_args a = {.fmt = SYNACK_LADDER_TEXT};
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return usage(stdout), 0;
	if (parse_args(argc, argv, &a) < 0)
		return 2;
	FILE *out = a.out_path ? fopen(a.out_path, "w") : stdout;
	if (!out) {
		fprintf(stderr, "synack ladder: %s: %s\n", a.out_path, strerror(errno));
		return 1;
	}
	int rc;
	const char *name = a.trace ? a.trace : a.in;
	FILE *in = strcmp(name, "-") ? fopen(name, "rb") : stdin;
	if (!in) {
		fprintf(stderr, "synack ladder: %s: %s\n", name, strerror(errno));
		rc = 1;
	} else if (a.trace || synack_trace_is_jsonl(in)) {
		rc = from_trace(&a, in, out, name);
	} else {
		if (in != stdin)
			fclose(in);
		in = NULL;
		rc = from_pcap(&a, out);
	}
	if (in && in != stdin)
		fclose(in);
	if (out != stdout && fclose(out) != 0)
		rc = 1;
	return rc;
}
