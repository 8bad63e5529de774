/* The HTML report: see report.h. Ladders come from the ladder renderer's SVG backend (written to
 * memory, its XML declaration dropped so it can sit inside the page); graphs from tsg.c.
 */
#include "render/report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "render/fsm.h"
#include "render/infer.h"
#include "render/ladder.h"
#include "render/svg_ladder.h"
#include "render/tsg.h"

static void esc(FILE *f, const char *s)
{
	synack_svg_text(f, s);
}

static void page_head(FILE *f, const struct synack_report_opts *o)
{
	fputs("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n"
	      "<head>\n<meta charset=\"utf-8\"/>\n<title>synack report: ",
	      f);
	esc(f, o->input_name ? o->input_name : "capture");
	fputs("</title>\n<style>\n"
	      "body{font-family:DejaVu Sans,sans-serif;margin:24px;color:#222;background:#fff}\n"
	      "table{border-collapse:collapse;font-size:13px}\n"
	      "th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}\n"
	      "th{background:#f0f0f0}td.l{text-align:left;font-family:monospace}\n"
	      "td.bad{color:#d62728;font-weight:bold}\n"
	      "h2{margin-top:36px;border-bottom:1px solid #ccc}\n"
	      ".warn{color:#a60}.pic{overflow:auto;border:1px solid #eee;margin:8px 0}\n"
	      "</style>\n",
	      f);
	synack_svg_style(f);
	fputs("</head>\n<body>\n<h1>synack report: ", f);
	esc(f, o->input_name ? o->input_name : "capture");
	fputs("</h1>\n", f);
}

static void summary(FILE *f, const struct synack_conns *t, const struct synack_report_opts *o)
{
	const struct synack_conns_stats *cs = synack_conns_stats(t);
	fprintf(f, "<p>%zu TCP connection%s, %llu TCP segments", synack_conns_count(t),
		synack_conns_count(t) == 1 ? "" : "s", (unsigned long long)cs->tcp);
	if (o->pcap) {
		const struct synack_pcap_stats *p = o->pcap;
		fprintf(f,
			" in %llu packets (skipped: %llu cut short by the snapshot length, %llu "
			"not IP, %llu of an unknown link type",
			(unsigned long long)p->records, (unsigned long long)p->truncated,
			(unsigned long long)p->non_ip, (unsigned long long)p->bad_link);
		fprintf(f,
			", %llu not TCP, %llu fragments, %llu malformed; %llu IPv4 headers with an "
			"offloaded checksum or length mended)",
			(unsigned long long)cs->non_tcp, (unsigned long long)cs->fragments,
			(unsigned long long)cs->malformed, (unsigned long long)cs->mended);
	}
	fputs(". States are inferred from what crossed the wire; a '?' marks a capture that "
	      "started mid-connection.</p>\n",
	      f);
	if (o->error) {
		fputs("<p class=\"warn\">The capture could not be read to its end: ", f);
		esc(f, o->error);
		fputs("</p>\n", f);
	}
}

static void state_cell(FILE *f, const struct synack_conn *c, int ep)
{
	char buf[32];
	fputs("<td class=\"l\">", f);
	esc(f, synack_infer_state_str(c->inf.st[ep],
				      c->inf.uncertain && c->inf.st[ep] != SYNACK_CLOSED, buf,
				      sizeof buf));
	fputs("</td>", f);
}

static void table(FILE *f, const struct synack_conns *t, unsigned max_conns)
{
	fputs("<table>\n<tr><th>#</th><th>endpoint A</th><th>endpoint B</th><th>start (s)</th>"
	      "<th>duration (s)</th><th>bytes A&#8594;B</th><th>bytes B&#8594;A</th>"
	      "<th>segments</th><th>retransmissions</th><th>final state A</th>"
	      "<th>final state B</th></tr>\n",
	      f);
	for (size_t i = 0; i < synack_conns_count(t); i++) {
		const struct synack_conn *c = synack_conns_get(t, i);
		uint64_t retx = c->st[0].retx_segs + c->st[1].retx_segs;
		fputs("<tr><td>", f);
		if (i < max_conns)
			fprintf(f, "<a href=\"#c%u\">%u</a>", c->id, c->id);
		else
			fprintf(f, "%u", c->id);
		fputs("</td><td class=\"l\">", f);
		esc(f, c->name[0]);
		fputs("</td><td class=\"l\">", f);
		esc(f, c->name[1]);
		fprintf(f,
			"</td><td>%.6f</td><td>%.6f</td><td>%llu</td><td>%llu</td><td>%llu</td>"
			"<td%s>%llu</td>",
			(double)c->first_us / 1e6, (double)(c->last_us - c->first_us) / 1e6,
			(unsigned long long)c->st[0].bytes, (unsigned long long)c->st[1].bytes,
			(unsigned long long)(c->st[0].segs + c->st[1].segs),
			retx ? " class=\"bad\"" : "", (unsigned long long)retx);
		state_cell(f, c, 0);
		state_cell(f, c, 1);
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

/* The ladder as an inline SVG element: rendered to memory, XML declaration dropped. */
static int ladder_inline(FILE *f, const struct synack_conn *c, unsigned max_rows)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	if (!m)
		return -ENOMEM;
	struct synack_ladder_opts lo = {
		.format = SYNACK_LADDER_SVG,
		.out = m,
		.left = c->name[0],
		.right = c->name[1],
		.max_rows = max_rows,
	};
	struct synack_ladder *l;
	int rc = synack_ladder_new(&l, &lo);
	if (rc == 0) {
		synack_conn_replay(c, synack_ladder_trace, l);
		rc = synack_ladder_finish(l);
		synack_ladder_free(l);
	}
	fclose(m);
	const char *p = buf;
	if (p && !strncmp(p, "<?xml", 5)) {
		const char *nl = strchr(p, '\n');
		p = nl ? nl + 1 : p + strlen(p);
	}
	if (rc == 0 && p)
		fputs(p, f);
	free(buf);
	return rc;
}

/* RFC 9293's state diagram with each side's inferred transitions. */
static int fsm_inline(FILE *f, const struct synack_conn *c)
{
	struct synack_fsm *m = malloc(sizeof *m);
	if (!m)
		return -ENOMEM;
	synack_fsm_init(m, c->name[0], c->name[1]);
	synack_conn_replay(c, synack_fsm_trace, m);
	int rc = 0;
	if (synack_fsm_steps(m)) {
		fputs("<h3>State diagram</h3>\n<div class=\"pic\">\n", f);
		rc = synack_fsm_svg(f, m, false, NULL);
		fputs("</div>\n", f);
	}
	free(m);
	return rc;
}

static int conn_section(FILE *f, const struct synack_conn *c, unsigned max_rows, bool tsg)
{
	fprintf(f, "<h2 id=\"c%u\">Connection %u: ", c->id, c->id);
	esc(f, c->name[0]);
	fputs(" &#8596; ", f);
	esc(f, c->name[1]);
	fputs("</h2>\n", f);
	uint64_t gap = synack_conn_elided(c);
	if (gap)
		fprintf(f,
			"<p class=\"warn\">%llu segments in the middle are not kept (the first and "
			"last ones are shown).</p>\n",
			(unsigned long long)gap);
	fputs("<h3>Ladder</h3>\n<div class=\"pic\">\n", f);
	int rc = ladder_inline(f, c, max_rows);
	if (!tsg) {
		fputs("</div>\n", f);
		return rc;
	}
	fputs("</div>\n", f);
	if (rc == 0)
		rc = fsm_inline(f, c);
	fputs("<h3>Time-sequence graph</h3>\n<div class=\"pic\">\n", f);
	struct synack_tsg_opts to = {.dir = synack_tsg_busiest_dir(c)};
	if (rc == 0)
		rc = synack_tsg_svg(f, c, &to);
	fputs("</div>\n<h3>In flight, RTT and throughput</h3>\n<div class=\"pic\">\n", f);
	if (rc == 0)
		rc = synack_tsg_companions_svg(f, c, &to);
	fputs("</div>\n", f);
	/* The other direction too when it carried data (a request/response, an echo). */
	to.dir = !to.dir;
	if (rc == 0 && c->st[to.dir].bytes > 0) {
		fputs("<div class=\"pic\">\n", f);
		rc = synack_tsg_svg(f, c, &to);
		fputs("</div>\n", f);
	}
	return rc;
}

int synack_report_html(FILE *f, const struct synack_conns *t, const struct synack_report_opts *o)
{
	unsigned max_conns = o->max_conns ? o->max_conns : 50;
	unsigned max_rows = o->max_rows ? o->max_rows : 400;
	page_head(f, o);
	summary(f, t, o);
	table(f, t, max_conns);
	if (synack_conns_count(t) > max_conns)
		fprintf(f, "<p class=\"warn\">Only the first %u connections are drawn.</p>\n",
			max_conns);
	int rc = 0;
	for (size_t i = 0; i < synack_conns_count(t) && i < max_conns && rc == 0; i++)
		rc = conn_section(f, synack_conns_get(t, i), max_rows, !o->ladders_only);
	synack_svg_zoom_script(f);
	fputs("<p style=\"color:#888;font-size:11px\">Made by synack report. Graphs: drag a "
	      "rectangle to zoom onto that range; ladders and diagrams: drag to pan. Wheel: zoom; "
	      "double-click: reset.</p>\n</body>\n</html>\n",
	      f);
	if (rc == 0 && ferror(f))
		rc = -EIO;
	return rc;
}
