/* The ladder renderer (text and jsonl) and SHA-256, driven with synthetic trace events. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render/ladder.h"
#include "render/sha256.h"
#include "synack/wire.h"

/* A pointer to the IPv4 address x (host order) as a synack_addr, for the codec. */
#define ST_V4(x) (&(const struct synack_addr[1]){synack_addr_v4(x)}[0])

#define C_ADDR 0x0a000001u /* 10.0.0.1 */
#define S_ADDR 0x0a000002u /* 10.0.0.2 */
#define C_PORT 40000
#define S_PORT 80

struct rig {
	char *buf;
	size_t len;
	FILE *f;
	struct synack_ladder *l;
	uint8_t frame[1600];
};

static void rig_open(struct rig *r, enum synack_ladder_format fmt, bool absolute, unsigned max)
{
	memset(r, 0, sizeof *r);
	r->f = open_memstream(&r->buf, &r->len);
	cr_assert(r->f);
	struct synack_ladder_opts o = {.format = fmt,
				       .out = r->f,
				       .left = "client",
				       .right = "server",
				       .left_addr = synack_addr_v4(C_ADDR),
				       .right_addr = synack_addr_v4(S_ADDR),
				       .absolute = absolute,
				       .max_rows = max};
	cr_assert_eq(synack_ladder_new(&r->l, &o), 0);
}

/* Finishes and returns the output's lines (NULL-terminated; free with free(lines[0]) and
 * free(lines)). */
static char **rig_lines(struct rig *r, size_t *n)
{
	cr_assert_eq(synack_ladder_finish(r->l), 0);
	synack_ladder_free(r->l);
	fclose(r->f);
	char **lines = calloc(r->len + 2, sizeof *lines);
	size_t k = 0;
	for (char *p = r->buf; *p;) {
		lines[k++] = p;
		char *nl = strchr(p, '\n');
		if (!nl)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	*n = k;
	return lines;
}

static void state(struct rig *r, uint64_t t, bool client, enum synack_tcp_state from,
		  enum synack_tcp_state to)
{
	struct synack_trace_event ev = {.kind = SYNACK_TRACE_STATE, .t_us = t,
					.host = client ? "client" : "server", .has_conn = true,
					.from = from, .to = to};
	ev.local = client ? (struct synack_endpoint){synack_addr_v4(C_ADDR), C_PORT}
			  : (struct synack_endpoint){synack_addr_v4(S_ADDR), S_PORT};
	ev.remote = client ? (struct synack_endpoint){synack_addr_v4(S_ADDR), S_PORT}
			   : (struct synack_endpoint){synack_addr_v4(C_ADDR), C_PORT};
	synack_ladder_event(r->l, &ev);
}

/* A segment event. from_client says who sent the segment; kind says what happened to it
 * and host whose event it is (TX and link events: the sender; RX/DROP: the receiver). */
static void seg(struct rig *r, enum synack_trace_kind kind, uint64_t t, bool from_client,
		uint8_t flags, uint32_t seq, uint32_t ack, size_t len, bool retx)
{
	static const uint8_t payload[1500];
	struct synack_tcp_seg s = {.sport = from_client ? C_PORT : S_PORT,
				   .dport = from_client ? S_PORT : C_PORT, .seq = seq, .ack = ack,
				   .flags = flags, .win = 65535, .payload = payload, .len = len};
	uint32_t src = from_client ? C_ADDR : S_ADDR, dst = from_client ? S_ADDR : C_ADDR;
	int n = synack_tcp_emit(r->frame, sizeof r->frame, ST_V4(src), ST_V4(dst), 1, &s);
	cr_assert_gt(n, 0);
	bool link = kind >= SYNACK_TRACE_LOST;
	bool sender_event = kind == SYNACK_TRACE_TX || link;
	bool client_host = sender_event ? from_client : !from_client;
	struct synack_trace_event ev = {.kind = kind, .t_us = t,
					.host = client_host ? "client" : "server",
					.seg = link ? NULL : &s, .frame = r->frame,
					.frame_len = (size_t)n, .retx = retx,
					.reason = SYNACK_DROP_TCP_SYNQ_FULL};
	synack_ladder_event(r->l, &ev);
}

static void error_ev(struct rig *r, uint64_t t, bool client, int err)
{
	struct synack_trace_event ev = {.kind = SYNACK_TRACE_ERROR,
					.t_us = t,
					.host = client ? "client" : "server",
					.has_conn = true,
					.local = {synack_addr_v4(C_ADDR), C_PORT},
					.remote = {synack_addr_v4(S_ADDR), S_PORT},
					.err = err};
	synack_ladder_event(r->l, &ev);
}

static void timer_ev(struct rig *r, uint64_t t, bool client, enum synack_timer_kind k)
{
	struct synack_trace_event ev = {.kind = SYNACK_TRACE_TIMER,
					.t_us = t,
					.host = client ? "client" : "server",
					.has_conn = true,
					.local = {synack_addr_v4(C_ADDR), C_PORT},
					.remote = {synack_addr_v4(S_ADDR), S_PORT},
					.timer = k};
	synack_ladder_event(r->l, &ev);
}

#define S SYNACK_TH_SYN
#define A SYNACK_TH_ACK
#define F SYNACK_TH_FIN
#define P SYNACK_TH_PSH
#define R SYNACK_TH_RST

/* The three-way handshake and one data segment, 10 ms each way. */
static void handshake(struct rig *r)
{
	state(r, 0, false, SYNACK_CLOSED, SYNACK_LISTEN);
	state(r, 0, true, SYNACK_CLOSED, SYNACK_SYN_SENT);
	seg(r, SYNACK_TRACE_TX, 0, true, S, 1000, 0, 0, false);
	seg(r, SYNACK_TRACE_RX, 10000, true, S, 1000, 0, 0, false);
	state(r, 10000, false, SYNACK_LISTEN, SYNACK_SYN_RECEIVED);
	seg(r, SYNACK_TRACE_TX, 10000, false, S | A, 5000, 1001, 0, false);
	seg(r, SYNACK_TRACE_RX, 20000, false, S | A, 5000, 1001, 0, false);
	state(r, 20000, true, SYNACK_SYN_SENT, SYNACK_ESTABLISHED);
	seg(r, SYNACK_TRACE_TX, 20000, true, A, 1001, 5001, 0, false);
	seg(r, SYNACK_TRACE_TX, 20000, true, P | A, 1001, 5001, 12, false);
	seg(r, SYNACK_TRACE_RX, 30000, true, A, 1001, 5001, 0, false);
	state(r, 30000, false, SYNACK_SYN_RECEIVED, SYNACK_ESTABLISHED);
	seg(r, SYNACK_TRACE_RX, 30000, true, P | A, 1001, 5001, 12, false);
}

static const char *const handshake_text[] = {
	"seq/ack: relative to each direction's first sequence number (its ISN)",
	"----> sent (arrival implied)   --X lost by the link   ....> arrives late   ~~~~> "
	"spoofed/injected",
	"   time (s)  client                                                                    server",
	"             10.0.0.1                                                                  10.0.0.2",
	"   0.000000               |                                                          | LISTEN",
	"   0.000000  SYN-SENT     |------------------- S seq=0 win=65535 ------------------->|",
	"   0.010000               |<--------------- S. seq=0 ack=1 win=65535 ----------------| "
	"SYN-RECEIVED",
	"   0.020000  ESTABLISHED  |---------------- . seq=1 ack=1 win=65535 ---------------->|",
	"   0.020000               |------------ P. seq=1 ack=1 win=65535 len=12 ------------>|",
	"   0.030000               |                                                          | "
	"ESTABLISHED",
};

Test(ladder_text, handshake_rows_exact)
{
	struct rig r;
	rig_open(&r, SYNACK_LADDER_TEXT, false, 0);
	handshake(&r);
	size_t n;
	char **lines = rig_lines(&r, &n);
	size_t want = sizeof handshake_text / sizeof handshake_text[0];
	cr_assert_eq(n, want, "got %zu lines:\n%s", n, lines[0]);
	for (size_t i = 0; i < want; i++)
		cr_assert_str_eq(lines[i], handshake_text[i], "line %zu", i);
	for (size_t i = 0; i < n; i++)
		cr_assert_leq(strlen(lines[i]), 100, "line %zu is wider than 100 columns", i);
	free(lines[0]);
	free(lines);
}

Test(ladder_text, absolute_numbers)
{
	struct rig r;
	rig_open(&r, SYNACK_LADDER_TEXT, true, 0);
	handshake(&r);
	size_t n;
	char **lines = rig_lines(&r, &n);
	cr_assert_str_eq(lines[0], "seq/ack: absolute, as on the wire");
	cr_assert_str_eq(lines[6], "   0.010000               |<------------ S. seq=5000 ack=1001 "
				   "win=65535 -------------| SYN-RECEIVED");
	free(lines[0]);
	free(lines);
}

Test(ladder_text, lost_retransmitted_and_errors)
{
	struct rig r;
	rig_open(&r, SYNACK_LADDER_TEXT, false, 0);
	state(&r, 0, true, SYNACK_CLOSED, SYNACK_SYN_SENT);
	seg(&r, SYNACK_TRACE_TX, 0, true, S, 7, 0, 0, false);
	seg(&r, SYNACK_TRACE_LOST, 0, true, S, 7, 0, 0, false);
	timer_ev(&r, 1000000, true, SYNACK_TIMER_RETRANSMIT);
	seg(&r, SYNACK_TRACE_TX, 1000000, true, S, 7, 0, 0, true);
	seg(&r, SYNACK_TRACE_RX, 1010000, true, S, 7, 0, 0, true);
	seg(&r, SYNACK_TRACE_TX, 1010000, false, R | A, 0, 8, 0, false);
	seg(&r, SYNACK_TRACE_RX, 1020000, false, R | A, 0, 8, 0, false);
	error_ev(&r, 1020000, true, -ECONNREFUSED);
	state(&r, 1020000, true, SYNACK_SYN_SENT, SYNACK_CLOSED);
	timer_ev(&r, 2000000, true, SYNACK_TIMER_KEEPALIVE);
	timer_ev(&r, 3000000, true, SYNACK_TIMER_KEEPALIVE);
	seg(&r, SYNACK_TRACE_TX, 3000000, true, A, 7, 1, 0, false);
	size_t n;
	char **lines = rig_lines(&r, &n);
	/* A timer's note gives way to the send it causes at the same instant; a gap of a second or
	 * more between rows gets a break line saying how long (0.98 s does not). */
	static const char *const want[] = {
		"   0.000000  SYN-SENT     |--------- S seq=0 win=65535 ---------X                    |",
		"                          ~                 ~ ~ ~  1 s later  ~ ~ ~                  ~",
		"   1.000000               |---------------- S seq=0 win=65535 (retx) --------------->|",
		"   1.010000               |<--------------- R. seq=0 ack=1 win=65535 ----------------|",
		"   1.020000  CLOSED       | error ECONNREFUSED                                       |",
		"   2.000000               | keepalive timer                                          |",
		"                          ~                 ~ ~ ~  1 s later  ~ ~ ~                  ~",
		"   3.000000               |---------- . seq=0 ack=1 win=65535 (keepalive) ---------->|",
	};
	cr_assert_eq(n, 4 + 8, "%zu lines: %s", n, lines[n - 1]);
	for (size_t i = 0; i < 8; i++)
		cr_assert_str_eq(lines[4 + i], want[i], "line %zu: %s", i, lines[4 + i]);
	free(lines[0]);
	free(lines);
}

Test(ladder_text, loss_reported_before_the_send_still_marks_the_arrow)
{
	struct rig r;
	rig_open(&r, SYNACK_LADDER_TEXT, false, 0);
	seg(&r, SYNACK_TRACE_TX, 0, true, S, 7, 0, 0, false);
	seg(&r, SYNACK_TRACE_LOST, 5, false, S | A, 9, 8, 0, false);
	seg(&r, SYNACK_TRACE_TX, 5, false, S | A, 9, 8, 0, false);
	size_t n;
	char **lines = rig_lines(&r, &n);
	cr_assert_eq(n, 6);
	cr_assert_str_eq(lines[5], "   0.000005               |                    X----- S. seq=0 "
				   "ack=1 win=65535 ------|");
	free(lines[0]);
	free(lines);
}

Test(ladder_text, drops_and_injected_segments)
{
	struct rig r;
	rig_open(&r, SYNACK_LADDER_TEXT, false, 0);
	seg(&r, SYNACK_TRACE_TX, 0, true, S, 7, 0, 0, false);
	seg(&r, SYNACK_TRACE_DROP, 10000, true, S, 7, 0, 0, false);
	/* An old duplicate nobody here sent arrives at the server. */
	seg(&r, SYNACK_TRACE_RX, 20000, true, S, 3, 0, 0, false);
	/* Traced as received, then dropped by the sequence check: drawn once, then the note. */
	seg(&r, SYNACK_TRACE_DROP, 20000, true, S, 3, 0, 0, false);
	size_t n;
	char **lines = rig_lines(&r, &n);
	cr_assert_eq(n, 8);
	cr_assert_str_eq(lines[7], "   0.020000               |                     drop S seq=4294967292: "
				   "tcp_synq_full |");
	cr_assert_str_eq(lines[5], "   0.010000               |                              drop S "
				   "seq=0: tcp_synq_full |");
	cr_assert_str_eq(lines[6], "   0.020000               |~~~~~~~~~~~~~~~ S seq=4294967292 "
				   "win=65535 ~~~~~~~~~~~~~~>|");
	free(lines[0]);
	free(lines);
}

Test(ladder_text, elides_the_middle)
{
	struct rig r;
	rig_open(&r, SYNACK_LADDER_TEXT, false, 4);
	for (uint32_t i = 0; i < 10; i++)
		seg(&r, SYNACK_TRACE_TX, i * 1000, true, A, 1 + i * 100, 1, 100, false);
	size_t n;
	char **lines = rig_lines(&r, &n);
	cr_assert_eq(n, 4 + 2 + 1 + 2);
	cr_assert(strstr(lines[5], "seq=100 "), "%s", lines[5]);
	cr_assert_str_eq(lines[6], "        ...               :                      6 rows elided "
				   "                      :");
	cr_assert(strstr(lines[7], "seq=800 "), "%s", lines[7]);
	cr_assert(strstr(lines[8], "seq=900 "), "%s", lines[8]);
	free(lines[0]);
	free(lines);
}

Test(ladder_jsonl, every_event_absolute)
{
	struct rig r;
	rig_open(&r, SYNACK_LADDER_JSONL, false, 0);
	handshake(&r);
	seg(&r, SYNACK_TRACE_DROP, 40000, true, S, 1000, 0, 0, false);
	seg(&r, SYNACK_TRACE_LOST, 50000, true, F | A, 1013, 5001, 0, false);
	timer_ev(&r, 60000, true, SYNACK_TIMER_TIME_WAIT);
	error_ev(&r, 70000, true, -ETIMEDOUT);
	size_t n;
	char **lines = rig_lines(&r, &n);
	cr_assert_eq(n, 17);
	cr_assert_str_eq(lines[0], "{\"t_us\":0,\"host\":\"server\",\"ev\":\"state\",\"conn\":"
				   "\"10.0.0.2:80-10.0.0.1:40000\",\"from\":\"CLOSED\",\"to\":\"LISTEN\"}");
	cr_assert_str_eq(lines[2], "{\"t_us\":0,\"host\":\"client\",\"ev\":\"tx\",\"src\":"
				   "\"10.0.0.1:40000\",\"dst\":\"10.0.0.2:80\",\"flags\":\"S\","
				   "\"seq\":1000,\"ack\":0,\"win\":65535,\"win_scaled\":65535,\"len\":0,\"retx\":false}");
	cr_assert_str_eq(lines[6], "{\"t_us\":20000,\"host\":\"client\",\"ev\":\"rx\",\"src\":"
				   "\"10.0.0.2:80\",\"dst\":\"10.0.0.1:40000\",\"flags\":\"S.\","
				   "\"seq\":5000,\"ack\":1001,\"win\":65535,\"win_scaled\":65535,\"len\":0,\"retx\":false}");
	cr_assert_str_eq(lines[13], "{\"t_us\":40000,\"host\":\"server\",\"ev\":\"drop\",\"src\":"
				    "\"10.0.0.1:40000\",\"dst\":\"10.0.0.2:80\",\"flags\":\"S\","
				    "\"seq\":1000,\"ack\":0,\"win\":65535,\"win_scaled\":65535,\"len\":0,\"retx\":false,"
				    "\"reason\":\"tcp_synq_full\"}");
	cr_assert_str_eq(lines[14], "{\"t_us\":50000,\"host\":\"client\",\"ev\":\"lost\",\"src\":"
				    "\"10.0.0.1:40000\",\"dst\":\"10.0.0.2:80\",\"flags\":\"F.\","
				    "\"seq\":1013,\"ack\":5001,\"win\":65535,\"win_scaled\":65535,\"len\":0,\"retx\":false}");
	cr_assert_str_eq(lines[15], "{\"t_us\":60000,\"host\":\"client\",\"ev\":\"timer\",\"conn\":"
				    "\"10.0.0.1:40000-10.0.0.2:80\",\"timer\":\"time-wait\"}");
	cr_assert_str_eq(lines[16], "{\"t_us\":70000,\"host\":\"client\",\"ev\":\"error\",\"conn\":"
				    "\"10.0.0.1:40000-10.0.0.2:80\",\"errno\":\"ETIMEDOUT\"}");
	free(lines[0]);
	free(lines);
}

Test(ladder, options_and_names)
{
	enum synack_ladder_format f;
	cr_assert_eq(synack_ladder_format_parse("jsonl", &f), 0);
	cr_assert_eq(f, SYNACK_LADDER_JSONL);
	cr_assert_eq(synack_ladder_format_parse("svg", &f), 0);
	cr_assert_eq(f, SYNACK_LADDER_SVG);
	cr_assert_eq(synack_ladder_format_parse("png", &f), -EINVAL);
	struct synack_ladder *l;
	struct synack_ladder_opts o = {.format = SYNACK_LADDER_TEXT};
	cr_assert_eq(synack_ladder_new(&l, &o), -EINVAL, "no FILE");
	char b[16];
	cr_assert_str_eq(synack_errno_name(-ECONNRESET, b, sizeof b), "ECONNRESET");
	cr_assert_str_eq(synack_errno_name(-4095, b, sizeof b), "E4095");
}

static void digest_of(const char *msg, size_t len, char hex[65])
{
	struct synack_sha256 c;
	uint8_t d[SYNACK_SHA256_LEN];
	synack_sha256_init(&c);
	synack_sha256_update(&c, msg, len);
	synack_sha256_final(&c, d);
	synack_sha256_hex(d, hex);
}

/* FIPS 180-2 Appendix B examples (and the empty message). */
Test(sha256, fips_vectors)
{
	char hex[65];
	digest_of("abc", 3, hex);
	cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	digest_of("", 0, hex);
	cr_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	digest_of(two, strlen(two), hex);
	cr_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

Test(sha256, million_a_in_odd_pieces)
{
	struct synack_sha256 c;
	uint8_t d[SYNACK_SHA256_LEN];
	char hex[65], chunk[997];
	memset(chunk, 'a', sizeof chunk);
	synack_sha256_init(&c);
	for (size_t left = 1000000; left > 0;) {
		size_t n = left < sizeof chunk ? left : sizeof chunk;
		synack_sha256_update(&c, chunk, n);
		left -= n;
	}
	synack_sha256_final(&c, d);
	synack_sha256_hex(d, hex);
	cr_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

Test(ladder_text, late_arrival_and_capture_notes)
{
	struct rig r;
	rig_open(&r, SYNACK_LADDER_TEXT, false, 0);
	seg(&r, SYNACK_TRACE_TX, 0, true, S, 7, 0, 0, false);
	seg(&r, SYNACK_TRACE_REORDER, 0, true, S, 7, 0, 0, false);
	seg(&r, SYNACK_TRACE_RX, 30000, true, S, 7, 0, 0, false);
	struct synack_trace_event note = {.kind = SYNACK_TRACE_NOTE, .t_us = 40000,
					  .host = "client", .note = "120 segments not shown"};
	synack_ladder_event(r.l, &note);
	struct synack_trace_event st = {.kind = SYNACK_TRACE_STATE, .t_us = 50000,
					.host = "server", .from = SYNACK_CLOSED,
					.to = SYNACK_ESTABLISHED, .uncertain = true};
	synack_ladder_event(r.l, &st);
	size_t n;
	char **lines = rig_lines(&r, &n);
	static const char *const want[] = {
		"   0.000000               |--------- S seq=0 win=65535 ---------.....................|",
		"   0.030000               |................ S seq=0 win=65535 (late) ...............>|",
		"   0.040000               |                  120 segments not shown                  |",
		"   0.050000               |                                                          | "
		"ESTABLISHED?",
	};
	cr_assert_eq(n, 4 + 4);
	for (size_t i = 0; i < 4; i++)
		cr_assert_str_eq(lines[4 + i], want[i], "line %zu: %s", i, lines[4 + i]);
	free(lines[0]);
	free(lines);
}
