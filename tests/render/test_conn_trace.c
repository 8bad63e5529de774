/* Reading a JSON-lines trace back into trace events (render/conn_trace.h): every field the
 * jsonl backend writes, escapes, and lines that are not events (skipped, never a crash). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "render/conn_trace.h"

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
