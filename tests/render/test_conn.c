/* Grouping segments into connections (render/conn.h): four-tuples, reuse after close, stats,
 * the bounded record and its replay as trace events. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "render/conn.h"
#include "render/ladder.h"
#include "render/ladder_backend.h"
#include "render/report.h"
#include "render/tsg.h"
#include "synack/wire.h"

/* A pointer to the IPv4 address x (host order) as a synack_addr, for the codec. */
#define ST_V4(x) (&(const struct synack_addr[1]){synack_addr_v4(x)}[0])

#define S SYNACK_TH_SYN
#define A SYNACK_TH_ACK
#define F SYNACK_TH_FIN
#define R SYNACK_TH_RST

static const uint32_t CLI = 0x0a000001, SRV = 0x0a000002;

static void pkt(struct synack_conns *t, uint64_t t_ms, bool from_cli, uint16_t cport, uint8_t flags,
		uint32_t seq, uint32_t ack, size_t len)
{
	static const uint8_t data[1460];
	struct synack_tcp_seg s = {
		.sport = from_cli ? cport : 80,
		.dport = from_cli ? 80 : cport,
		.seq = seq,
		.ack = ack,
		.flags = flags,
		.win = 65535,
		.payload = data,
		.len = len,
	};
	uint8_t buf[1600];
	int n = synack_tcp_emit(buf, sizeof buf, ST_V4(from_cli ? CLI : SRV),
				ST_V4(from_cli ? SRV : CLI), 1, &s);
	cr_assert_gt(n, 0);
	cr_assert_eq(synack_conns_packet(t, t_ms * 1000000ull, buf, (size_t)n), 0);
}

static void session(struct synack_conns *t, uint64_t t0, uint16_t cport, uint32_t isn, int ndata)
{
	pkt(t, t0 + 0, true, cport, S, isn, 0, 0);
	pkt(t, t0 + 1, false, cport, S | A, 9000, isn + 1, 0);
	pkt(t, t0 + 2, true, cport, A, isn + 1, 9001, 0);
	uint32_t seq = isn + 1;
	for (int i = 0; i < ndata; i++, seq += 100)
		pkt(t, t0 + 3 + (uint64_t)i, true, cport, A, seq, 9001, 100);
	pkt(t, t0 + 100, true, cport, F | A, seq, 9001, 0);
	pkt(t, t0 + 101, false, cport, F | A, 9001, seq + 1, 0);
	pkt(t, t0 + 102, true, cport, A, seq + 1, 9002, 0);
}

Test(conn, tuple_reuse_after_close_is_a_new_connection)
{
	struct synack_conns *t;
	struct synack_conns_opts o = {.keep_first = 100, .keep_last = 100};
	cr_assert_eq(synack_conns_new(&t, &o), 0);
	session(t, 0, 40000, 1000, 3);
	session(t, 1000, 40000, 5000, 1); /* same four-tuple, after TIME-WAIT */
	session(t, 2000, 40001, 1000, 0);
	cr_assert_eq(synack_conns_count(t), 3);
	const struct synack_conn *c = synack_conns_get(t, 0);
	cr_assert_eq(c->id, 1);
	cr_assert_str_eq(c->name[0], "10.0.0.1:40000");
	cr_assert_str_eq(c->name[1], "10.0.0.2:80");
	cr_assert_eq(c->st[0].segs, 7);
	cr_assert_eq(c->st[0].bytes, 300);
	cr_assert_eq(c->st[1].segs, 2);
	cr_assert_eq(c->st[1].bytes, 0);
	cr_assert_eq(c->first_us, 0);
	cr_assert_eq(c->last_us, 102000);
	cr_assert_eq(c->inf.st[0], SYNACK_TIME_WAIT);
	cr_assert_eq(c->inf.st[1], SYNACK_CLOSED);
	c = synack_conns_get(t, 1);
	cr_assert_eq(c->first_us, 1000000);
	cr_assert_eq(c->st[0].bytes, 100);
	cr_assert_eq(c->inf.d[0].isn, 5000);
	cr_assert_eq(synack_conns_stats(t)->tcp, 22);
	synack_conns_free(t);
}

Test(conn, filter_and_non_tcp)
{
	struct synack_conns *t;
	struct synack_conns_opts o = {.keep_first = 10, .filter = true};
	cr_assert_eq(synack_conn_spec_parse("10.0.0.2:80-10.0.0.1:40001", &o.fa, &o.fb), 0);
	cr_assert_eq(synack_conns_new(&t, &o), 0);
	session(t, 0, 40000, 1000, 1);
	session(t, 1000, 40001, 1000, 1);
	uint8_t icmp[28] = {0x45, 0, 0, 28, 0, 0, 0, 0, 64, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2};
	uint16_t ck = synack_csum_fold(synack_csum_add(0, icmp, 20));
	icmp[10] = (uint8_t)(ck >> 8); /* the fold is in network order as stored bytes */
	icmp[11] = (uint8_t)ck;
	synack_conns_packet(t, 5, icmp, sizeof icmp);
	cr_assert_eq(synack_conns_count(t), 1);
	cr_assert_eq(synack_conns_get(t, 0)->ep[0].port, 40001);
	cr_assert_eq(synack_conns_stats(t)->filtered, 7);
	cr_assert_eq(synack_conns_stats(t)->non_tcp + synack_conns_stats(t)->malformed, 1);
	synack_conns_free(t);
}

Test(conn, spec_parse_rejects_garbage)
{
	struct synack_endpoint a, b;
	cr_assert_eq(synack_conn_spec_parse("1.2.3.4:5-6.7.8.9:10", &a, &b), 0);
	cr_assert(synack_addr_is_v4(&a.addr));
	cr_assert_eq(synack_addr_get_v4(&a.addr), 0x01020304u);
	cr_assert_eq(b.port, 10);
	const char *bad[] = {"",
			     "1.2.3.4:5",
			     "1.2.3.4-5.6.7.8",
			     "1.2.3.400:5-1.2.3.4:5",
			     "1.2.3.4:70000-1.2.3.4:5",
			     "1.2.3.4:5x-1.2.3.4:5",
			     "2001:db8::1:80-1.2.3.4:5",
			     "[1.2.3.4]:5-1.2.3.4:5",
			     "[2001:db8::1:80-1.2.3.4:5",
			     "[2001:db8::1]-1.2.3.4:5",
			     NULL};
	for (int i = 0; bad[i]; i++)
		cr_assert_eq(synack_conn_spec_parse(bad[i], &a, &b), -EINVAL, "%s", bad[i]);
	cr_assert_eq(synack_conn_spec_parse(NULL, &a, &b), -EINVAL);
}

/* IPv6 endpoints are written [addr]:port (RFC 5952 §6), in names and in specs. */
Test(conn, spec_parse_and_names_of_ipv6_endpoints)
{
	struct synack_endpoint a, b;
	cr_assert_eq(synack_conn_spec_parse("[2001:DB8::1]:80-10.0.0.1:40000", &a, &b), 0);
	static const uint8_t want[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	cr_assert_eq(memcmp(a.addr.b, want, 16), 0);
	cr_assert_eq(a.port, 80);
	cr_assert_eq(synack_addr_get_v4(&b.addr), 0x0a000001u);
	char buf[SYNACK_ADDR_STRLEN + 8];
	cr_assert_str_eq(synack_endpoint_str(&a, buf, sizeof buf), "[2001:db8::1]:80");
	cr_assert_str_eq(synack_endpoint_str(&b, buf, sizeof buf), "10.0.0.1:40000");
}

/* IPv6 packets are tracked like IPv4 ones, beside them (the same ports, another family: another
 * connection), named [addr]:port; IPv6 fragments are counted and skipped, an atomic fragment
 * (RFC 6946) is a whole packet, and a Hop-by-Hop header before TCP is walked over. */
Test(conn, ipv6_and_ipv4_side_by_side)
{
	static const uint8_t c6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	static const uint8_t s6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
	struct synack_addr ca = synack_addr_v6(c6), sa = synack_addr_v6(s6);
	struct synack_conns *t;
	struct synack_conns_opts o = {.keep_first = 10};
	cr_assert_eq(synack_conns_new(&t, &o), 0);
	session(t, 0, 40000, 1000, 1); /* IPv4: 7 segments */
	struct synack_tcp_seg syn = {.sport = 40000, .dport = 80, .seq = 5000, .flags = S,
				     .win = 64800};
	struct synack_tcp_seg sack = {.sport = 80, .dport = 40000, .seq = 7000, .ack = 5001,
				      .flags = S | A, .win = 64260};
	uint8_t buf[200], ext[200];
	int n = synack_tcp_emit(buf, sizeof buf, &ca, &sa, 0, &syn);
	cr_assert_gt(n, 40);
	cr_assert_eq(synack_conns_packet(t, 3000000ull, buf, (size_t)n), 0);
	/* The SYN-ACK behind a Hop-by-Hop header (PadN) and an atomic Fragment header. */
	n = synack_tcp_emit(buf, sizeof buf, &sa, &ca, 0, &sack);
	cr_assert_gt(n, 40);
	static const uint8_t hbh[8] = {44, 0, 1, 4, 0, 0, 0, 0}, frag[8] = {6, 0, 0, 0, 0, 0, 0, 1};
	memcpy(ext, buf, 40);
	memcpy(ext + 40, hbh, 8);
	memcpy(ext + 48, frag, 8);
	memcpy(ext + 56, buf + 40, (size_t)n - 40);
	ext[6] = 0; /* the fixed header's Next Header: Hop-by-Hop */
	ext[5] = (uint8_t)(ext[5] + 16);
	cr_assert_eq(synack_conns_packet(t, 3010000ull, ext, (size_t)n + 16), 0);
	/* A real fragment (offset 0, M set) of the next segment: counted, not used. */
	ext[48 + 3] = 1;
	cr_assert_eq(synack_conns_packet(t, 3020000ull, ext, (size_t)n + 16), 0);
	cr_assert_eq(synack_conns_count(t), 2);
	const struct synack_conn *c = synack_conns_get(t, 1);
	cr_assert_str_eq(c->name[0], "[2001:db8::1]:40000");
	cr_assert_str_eq(c->name[1], "[2001:db8::2]:80");
	cr_assert_eq(c->st[0].segs, 1);
	cr_assert_eq(c->st[1].segs, 1, "the SYN-ACK behind extension headers");
	cr_assert_eq(c->inf.st[1], SYNACK_SYN_RECEIVED, "%s", synack_state_name(c->inf.st[1]));
	const struct synack_conns_stats *st = synack_conns_stats(t);
	cr_assert_eq(st->tcp, 9);
	cr_assert_eq(st->fragments, 1);
	cr_assert_eq(st->malformed, 0);
	cr_assert_str_eq(synack_conns_get(t, 0)->name[0], "10.0.0.1:40000");
	synack_conns_free(t);
}

struct seen {
	int tx, state, note;
	uint64_t gap_note_t;
	char note_text[96];
	uint32_t seqs[64];
};

static void sink(void *ctx, const struct synack_trace_event *ev)
{
	struct seen *s = ctx;
	if (ev->kind == SYNACK_TRACE_TX) {
		cr_assert_not_null(ev->seg);
		if (s->tx < 64)
			s->seqs[s->tx] = ev->seg->seq;
		s->tx++;
	} else if (ev->kind == SYNACK_TRACE_STATE) {
		s->state++;
	} else if (ev->kind == SYNACK_TRACE_NOTE) {
		s->note++;
		snprintf(s->note_text, sizeof s->note_text, "%s", ev->note);
	}
}

Test(conn, keeps_first_and_last_and_replays_with_a_gap_note)
{
	struct synack_conns *t;
	struct synack_conns_opts o = {.keep_first = 4, .keep_last = 3};
	cr_assert_eq(synack_conns_new(&t, &o), 0);
	session(t, 0, 40000, 1000, 20); /* 3 + 20 + 3 = 26 segments */
	const struct synack_conn *c = synack_conns_get(t, 0);
	cr_assert_eq(c->total_recs, 26);
	cr_assert_eq(synack_conn_elided(c), 19);
	struct seen s = {0};
	synack_conn_replay(c, sink, &s);
	cr_assert_eq(s.tx, 7);
	cr_assert_eq(s.note, 1);
	cr_assert_str_eq(s.note_text, "... 19 segments not shown ...");
	cr_assert_eq(s.seqs[3], 1001, "the first data segment is the 4th kept");
	cr_assert_eq(s.seqs[4], 1001 + 2000, "then the FIN");
	cr_assert_eq(s.seqs[5], 9001);
	cr_assert_eq(s.seqs[6], 1001 + 2001);
	/* client SYN-SENT ESTABLISHED, server LISTEN SYN-RECEIVED ESTABLISHED in the head;
	 * client FIN-WAIT-1 FIN-WAIT-2 TIME-WAIT, server CLOSE-WAIT LAST-ACK CLOSED in the tail */
	cr_assert_eq(s.state, 11);
	synack_conns_free(t);
}

/* Random segments on a few tuples (any flags, any numbers) through inference, the bounded
 * record and every renderer: nothing may crash or read out of bounds (make SAN=1 unit), and
 * the bookkeeping must add up. */

static void discard(void *ctx, const struct synack_trace_event *ev)
{
	synack_ladder_trace(ctx, ev);
}

Test(conn, random_segments_never_break_inference_or_renderers)
{
	struct synack_conns *t;
	struct synack_conns_opts o = {.keep_first = 50, .keep_last = 50};
	cr_assert_eq(synack_conns_new(&t, &o), 0);
	uint32_t x = 99;
	uint64_t segs = 0;
	for (int i = 0; i < 20000; i++) {
		x = x * 1664525u + 1013904223u;
		uint8_t flags = (uint8_t)(x >> 24);
		uint32_t seq = (x >> 4) % 5 == 0 ? x : 1000 + (x >> 20) % 4000;
		uint32_t ack = (x >> 7) % 7 == 0 ? x * 3 : 2000 + (x >> 18) % 4000;
		pkt(t, (uint64_t)i, (x >> 3) & 1, (uint16_t)(40000 + ((x >> 9) % 3)), flags, seq,
		    ack, (x >> 11) % 4 == 0 ? (x >> 13) % 1400 : 0);
		segs++;
	}
	uint64_t recs = 0;
	for (size_t i = 0; i < synack_conns_count(t); i++) {
		const struct synack_conn *c = synack_conns_get(t, i);
		recs += c->total_recs;
		cr_assert_eq(c->total_recs, c->st[0].segs + c->st[1].segs);
		cr_assert_leq(c->nhead, 50);
		cr_assert_leq(c->ntail, 50);
		for (int ep = 0; ep < 2; ep++)
			cr_assert_lt((unsigned)c->inf.st[ep], SYNACK_STATE_COUNT);
		char *buf = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&buf, &len);
		for (int fmt = 0; fmt < SYNACK_LADDER_FORMAT_COUNT; fmt++) {
			struct synack_ladder_opts lo = {
				.format = (enum synack_ladder_format)fmt, .out = m, .max_rows = 40};
			struct synack_ladder *l;
			cr_assert_eq(synack_ladder_new(&l, &lo), 0);
			synack_conn_replay(c, discard, l);
			cr_assert_eq(synack_ladder_finish(l), 0);
			synack_ladder_free(l);
		}
		struct synack_tsg_opts to = {.dir = (int)(i % 2)};
		cr_assert_eq(synack_tsg_svg(m, c, &to), 0);
		fclose(m);
		cr_assert_gt(len, 0);
		free(buf);
	}
	cr_assert_eq(recs, segs);
	cr_assert_eq(synack_conns_stats(t)->tcp, segs);
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	struct synack_report_opts ro = {.input_name = "random <&> \"names\""};
	cr_assert_eq(synack_report_html(m, t, &ro), 0);
	fclose(m);
	cr_assert(strstr(buf, "random &lt;&amp;&gt; &quot;names&quot;"), "names are escaped");
	free(buf);
	synack_conns_free(t);
}

/* A capture on the sending host shows offloads unfinished: an IPv4 checksum of 0 and TSO
 * super-packets with a total length of 0. They are mended and counted, not dropped. */
Test(conn, offloaded_ip_checksum_and_tso_length_are_mended)
{
	struct synack_conns *t;
	struct synack_conns_opts o = {.keep_first = 10};
	cr_assert_eq(synack_conns_new(&t, &o), 0);
	static const uint8_t data[3000];
	struct synack_tcp_seg s = {.sport = 40000,
				   .dport = 80,
				   .seq = 1,
				   .ack = 1,
				   .flags = SYNACK_TH_ACK,
				   .win = 100,
				   .payload = data,
				   .len = 3000};
	uint8_t buf[3100];
	int n = synack_tcp_emit(buf, sizeof buf, ST_V4(CLI), ST_V4(SRV), 1, &s);
	cr_assert_gt(n, 0);
	buf[10] = buf[11] = 0; /* checksum left to the NIC */
	cr_assert_eq(synack_conns_packet(t, 1000, buf, (size_t)n), 0);
	buf[2] = buf[3] = 0; /* TSO: length left to the NIC too */
	cr_assert_eq(synack_conns_packet(t, 2000, buf, (size_t)n), 0);
	cr_assert_eq(synack_conns_stats(t)->mended, 2);
	cr_assert_eq(synack_conns_stats(t)->malformed, 0);
	cr_assert_eq(synack_conns_count(t), 1);
	cr_assert_eq(synack_conns_get(t, 0)->st[0].bytes, 6000);
	buf[0] = 0x4f; /* a header length beyond the packet stays malformed */
	cr_assert_eq(synack_conns_packet(t, 3000, buf, 30), 0);
	cr_assert_eq(synack_conns_stats(t)->malformed, 1);
	synack_conns_free(t);
}
