/* Reading a JSON-lines trace back into trace events (render/conn_trace.h): every field the
 * jsonl backend writes, escapes, and lines that are not events (skipped, never a crash). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "render/conn.h"
#include "render/conn_trace.h"
#include "render/tsg.h"

Test(conn_trace, segment_event)
{
	struct synack_trace_event ev;
	struct synack_trace_line_store st;
	const char *l =
		"{\"t_us\":10000,\"host\":\"server\",\"ev\":\"rx\",\"src\":\"10.0.0.1:40000\","
		"\"dst\":\"10.0.0.2:80\",\"flags\":\"FP.\",\"seq\":4294967295,\"ack\":7,"
		"\"win\":1024,\"len\":14,\"retx\":true,\"note\":\"dup-ack #2\"}\n";
	cr_assert_eq(synack_trace_parse_line(l, &ev, &st), 0);
	cr_assert_eq(ev.kind, SYNACK_TRACE_RX);
	cr_assert_eq(ev.t_us, 10000);
	cr_assert_str_eq(ev.host, "server");
	cr_assert_not_null(ev.seg);
	cr_assert_eq(ev.seg->flags, SYNACK_TH_FIN | SYNACK_TH_PSH | SYNACK_TH_ACK);
	cr_assert_eq(ev.seg->seq, 4294967295u);
	cr_assert_eq(ev.seg->ack, 7);
	cr_assert_eq(ev.seg->win, 1024);
	cr_assert_eq(ev.seg->len, 14);
	cr_assert_eq(ev.seg->sport, 40000);
	cr_assert(ev.retx);
	cr_assert_str_eq(ev.note, "dup-ack #2");
	cr_assert(ev.has_conn);
	cr_assert_eq(synack_addr_get_v4(&ev.local.addr), 0x0a000002u,
		     "an arrival: local is the receiver");
	cr_assert_eq(ev.remote.port, 40000);
	cr_assert_not(ev.has_cc, "a line without cwnd has no congestion state");
}

Test(conn_trace, congestion_fields)
{
	struct synack_trace_event ev;
	struct synack_trace_line_store st;
	const char *l =
		"{\"t_us\":5,\"host\":\"client\",\"ev\":\"tx\",\"src\":\"10.0.0.1:40000\","
		"\"dst\":\"10.0.0.2:80\",\"flags\":\".\",\"seq\":1,\"ack\":2,\"win\":9,\"len\":0,"
		"\"retx\":false,\"cwnd\":14480,\"ssthresh\":7240,\"srtt_us\":20000,"
		"\"in_flight\":2896}\n";
	cr_assert_eq(synack_trace_parse_line(l, &ev, &st), 0);
	cr_assert(ev.has_cc);
	cr_assert_eq(ev.cwnd, 14480);
	cr_assert_eq(ev.ssthresh, 7240);
	cr_assert_eq(ev.srtt_us, 20000);
	cr_assert_eq(ev.in_flight, 2896);
	/* ssthresh left out: unset (infinite), as the writer leaves it out */
	const char *l2 = "{\"t_us\":5,\"host\":\"client\",\"ev\":\"rx\",\"src\":\"10.0.0.2:80\","
			 "\"dst\":\"10.0.0.1:40000\",\"flags\":\".\",\"seq\":2,\"ack\":1,"
			 "\"win\":9,\"len\":0,\"retx\":false,\"cwnd\":3000,\"srtt_us\":0,"
			 "\"in_flight\":0}\n";
	cr_assert_eq(synack_trace_parse_line(l2, &ev, &st), 0);
	cr_assert(ev.has_cc);
	cr_assert_eq(ev.cwnd, 3000);
	cr_assert_eq(ev.ssthresh, UINT32_MAX);
}

/* A one-stack trace of a sender: the companion's first panel is its cwnd and ssthresh as
 * step lines at the exact places, not the in-flight estimate; without the fields it is. */
/* One segment line of the client's trace, without its end: the congestion fields follow. */
#define SEG(t, ev, s, d, fl, seq, ack, len)                                                     \
	"{\"t_us\":" #t ",\"host\":\"client\",\"ev\":\"" ev "\",\"src\":\"" s "\",\"dst\":\"" d \
	"\",\"flags\":\"" fl "\",\"seq\":" #seq ",\"ack\":" #ack ",\"win\":60000,\"len\":" #len \
	",\"retx\":false"
#define C "10.0.0.1:40000"
#define S "10.0.0.2:80"

static char *companions(bool with_cc, size_t *n)
{
	static const char *const lines[6] = {
		SEG(0, "tx", C, S, "S", 100, 0, 0),	    SEG(1000, "rx", S, C, "S.", 500, 101, 0),
		SEG(1000, "tx", C, S, ".", 101, 501, 0),    SEG(2000, "tx", C, S, "P.", 101, 501, 1000),
		SEG(3000, "rx", S, C, ".", 501, 1101, 0),   SEG(4000, "tx", C, S, "P.", 1101, 501, 1000),
	};
	static const char *const cc[6] = {
		"", "", ",\"cwnd\":10000,\"srtt_us\":0,\"in_flight\":0",
		",\"cwnd\":10000,\"srtt_us\":0,\"in_flight\":0",
		",\"cwnd\":10000,\"srtt_us\":0,\"in_flight\":1000",
		",\"cwnd\":5000,\"ssthresh\":5000,\"srtt_us\":1000,\"in_flight\":0",
	};
	char full[2600];
	size_t len = 0;
	for (int i = 0; i < 6; i++)
		len += (size_t)snprintf(full + len, sizeof full - len, "%s%s}\n", lines[i],
					with_cc ? cc[i] : "");
	FILE *in = fmemopen(full, strlen(full), "r");
	cr_assert_not_null(in);
	struct synack_conns *t;
	struct synack_conns_opts co = {.keep_first = 100, .keep_last = 100};
	cr_assert_eq(synack_conns_new(&t, &co), 0);
	cr_assert_eq(synack_conns_read_trace(t, in), 6);
	fclose(in);
	char *svg = NULL;
	FILE *out = open_memstream(&svg, n);
	struct synack_tsg_opts o = {.dir = 0, .standalone = true, .cwnd_only = true};
	cr_assert_eq(synack_tsg_companions_svg(out, synack_conns_get(t, 0), &o), 0);
	fclose(out);
	synack_conns_free(t);
	return svg;
}

Test(conn_trace, companion_draws_the_traced_cwnd)
{
	size_t n;
	char *svg = companions(true, &n);
	/* x: 90 + t/4000 * 840; y: 230 - v/11000 * 170 (the top is 1.1 x the largest cwnd) */
	cr_assert_not_null(strstr(svg, "<path class=\"cw\" d=\"M300.0 75.5H510.0V75.5H720.0V75.5"
				       "H930.0V152.7H930.0\"/>"),
			   "%s", svg);
	cr_assert_not_null(strstr(svg, "<path class=\"ss\" d=\"M930.0 152.7H930.0\"/>"),
			   "ssthresh starts where it is set");
	cr_assert_not_null(strstr(svg, "<path class=\"cl\" d=\"M300.0 230.0H510.0V230.0H720.0"
				       "V214.5H930.0V230.0H930.0\"/>"),
			   "the stack's own bytes in flight");
	cr_assert_not_null(strstr(svg, "congestion window and ssthresh, as the sender"));
	cr_assert_null(strstr(svg, "estimated"));
	free(svg);
	svg = companions(false, &n);
	cr_assert_null(strstr(svg, "class=\"cw\""), "no cwnd without the fields");
	cr_assert_not_null(strstr(svg, "estimated from the wire"));
	free(svg);
}

Test(conn_trace, state_timer_error_drop_note)
{
	struct synack_trace_event ev;
	struct synack_trace_line_store st;
	cr_assert_eq(synack_trace_parse_line("{\"t_us\":5,\"host\":\"c\",\"ev\":\"state\",\"conn\":"
					     "\"10.0.0.1:1-10.0.0.2:2\",\"from\":\"FIN-WAIT-1\","
					     "\"to\":\"CLOSING\",\"uncertain\":true}",
					     &ev, &st),
		     0);
	cr_assert_eq(ev.kind, SYNACK_TRACE_STATE);
	cr_assert_eq(ev.from, SYNACK_FIN_WAIT_1);
	cr_assert_eq(ev.to, SYNACK_CLOSING);
	cr_assert(ev.uncertain);
	cr_assert_eq(ev.local.port, 1);
	cr_assert_eq(synack_trace_parse_line(
			     "{\"ev\":\"timer\",\"host\":\"c\",\"timer\":\"persist\"}", &ev, &st),
		     0);
	cr_assert_eq(ev.timer, SYNACK_TIMER_PERSIST);
	cr_assert_eq(
		synack_trace_parse_line(
			"{\"ev\":\"error\",\"host\":\"c\",\"errno\":\"ECONNREFUSED\"}", &ev, &st),
		0);
	cr_assert_eq(ev.err, -ECONNREFUSED);
	cr_assert_eq(
		synack_trace_parse_line(
			"{\"ev\":\"drop\",\"host\":\"s\",\"src\":\"1.2.3.4:5\",\"dst\":\"1.2.3.5:"
			"6\","
			"\"flags\":\"S\",\"seq\":1,\"ack\":0,\"win\":0,\"len\":0,\"retx\":false,"
			"\"reason\":\"tcp_synq_full\"}",
			&ev, &st),
		0);
	cr_assert_eq(ev.reason, SYNACK_DROP_TCP_SYNQ_FULL);
	cr_assert_eq(synack_trace_parse_line(
			     "{\"ev\":\"note\",\"note\":\"a \\\"quoted\\\" \\u0041\\\\ note\"}",
			     &ev, &st),
		     0);
	cr_assert_eq(ev.kind, SYNACK_TRACE_NOTE);
	cr_assert_str_eq(ev.note, "a \"quoted\" A\\ note");
}

Test(conn_trace, garbage_is_rejected)
{
	struct synack_trace_event ev;
	struct synack_trace_line_store st;
	const char *bad[] = {
		"",
		"not json",
		"{",
		"{\"ev\":\"tx\"",
		"{\"ev\":\"nonsense\"}",
		"{\"ev\":tx}x",
		"{\"ev\":\"tx\",}",
		"{\"a\":\"\\u12\"}",
		"{\"ev\":\"tx\" \"host\":\"x\"}",
		"[1,2,3]",
		"{\"ev\":\"tx\",\"k\":\"unterminated}",
		NULL,
	};
	for (int i = 0; bad[i]; i++)
		cr_assert_eq(synack_trace_parse_line(bad[i], &ev, &st), -EINVAL, "%s", bad[i]);
	/* A segment event without addresses parses, but has no segment to draw. */
	cr_assert_eq(synack_trace_parse_line("{\"ev\":\"tx\"}", &ev, &st), 0);
	cr_assert_null(ev.seg);
}

static int events;
static void count(void *ctx, const struct synack_trace_event *ev)
{
	events++;
}

Test(conn_trace, read_counts_bad_lines_and_filters)
{
	char big[6000];
	memset(big, 'x', sizeof big - 2);
	big[sizeof big - 2] = '\n';
	big[sizeof big - 1] = 0;
	char text[8000];
	snprintf(text, sizeof text,
		 "{\"ev\":\"state\",\"host\":\"a\",\"conn\":\"1.1.1.1:1-2.2.2.2:2\",\"to\":"
		 "\"LISTEN\"}\n"
		 "\n"
		 "garbage\n%s"
		 "{\"ev\":\"state\",\"host\":\"a\",\"conn\":\"1.1.1.1:9-2.2.2.2:2\",\"to\":"
		 "\"LISTEN\"}\n"
		 "{\"ev\":\"note\",\"note\":\"x\"}",
		 big);
	FILE *f = fmemopen(text, strlen(text), "r");
	cr_assert(synack_trace_is_jsonl(f));
	struct synack_endpoint a = {synack_addr_v4(0x01010101), 1},
			       b = {synack_addr_v4(0x02020202), 2};
	struct synack_trace_read_stats st;
	events = 0;
	cr_assert_eq(synack_trace_read(f, count, NULL, true, &a, &b, &st), 0);
	cr_assert_eq(st.bad, 2, "the garbage line and the over-long one");
	cr_assert_eq(st.events, 2, "the matching connection's event and the note");
	cr_assert_eq(events, 2);
	fclose(f);
}
