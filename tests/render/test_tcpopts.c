/* TCP options in tcpdump's notation (render/tcpopts.h) and what the ladder does with them: the
 * window scaled by the negotiated shift (RFC 7323 §2.2), the options line under an arrow, the
 * verbose form, and options surviving a JSON-lines trace. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render/conn_trace.h"
#include "render/ladder.h"
#include "render/tcpopts.h"
#include "synack/wire.h"

/* Linux's SYN layout: MSS 1460, SACK-permitted, TS val 1 ecr 0, NOP, WS 7. */
static const uint8_t linux_syn[] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1,
				    0, 0, 0, 0, 1, 3, 3, 7};

Test(tcpopts, full_is_tcpdump_notation)
{
	char buf[160];
	synack_tcp_opts_str(linux_syn, sizeof linux_syn, SYNACK_OPTS_FULL, NULL, buf, sizeof buf);
	cr_assert_str_eq(buf, "<mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7>");
}

Test(tcpopts, compact_drops_padding_and_timestamp_values)
{
	char buf[160];
	synack_tcp_opts_str(linux_syn, sizeof linux_syn, SYNACK_OPTS_COMPACT, NULL, buf,
			    sizeof buf);
	cr_assert_str_eq(buf, "<mss 1460,sackOK,TS,wscale 7>");
}

Test(tcpopts, sack_blocks_relative_and_absolute)
{
	/* NOP NOP SACK with two blocks: 1001..2001 and 3001..4001 past a base of 1000. */
	const uint8_t o[] = {1, 1, 5, 18, 0, 0, 0x07, 0xd1, 0, 0, 0x0b, 0xb9,
			     0, 0, 0x0f, 0xa1, 0, 0, 0x13, 0x89};
	char buf[160];
	uint32_t base = 1000;
	synack_tcp_opts_str(o, sizeof o, SYNACK_OPTS_FULL, &base, buf, sizeof buf);
	cr_assert_str_eq(buf, "<nop,nop,sack 2 {1001:2001}{3001:4001}>");
	synack_tcp_opts_str(o, sizeof o, SYNACK_OPTS_COMPACT, NULL, buf, sizeof buf);
	cr_assert_str_eq(buf, "<sack {2001:3001}{4001:5001}>");
}

Test(tcpopts, eol_unknown_and_malformed)
{
	char buf[160];
	const uint8_t eol[] = {2, 4, 0x02, 0x18, 0, 0, 0, 0};
	synack_tcp_opts_str(eol, sizeof eol, SYNACK_OPTS_FULL, NULL, buf, sizeof buf);
	cr_assert_str_eq(buf, "<mss 536,eol>");
	const uint8_t unknown[] = {34, 4, 0xab, 0xcd};
	synack_tcp_opts_str(unknown, sizeof unknown, SYNACK_OPTS_FULL, NULL, buf, sizeof buf);
	cr_assert_str_eq(buf, "<opt-34 0xabcd>");
	const uint8_t short_mss[] = {2, 3, 5};
	synack_tcp_opts_str(short_mss, sizeof short_mss, SYNACK_OPTS_FULL, NULL, buf, sizeof buf);
	cr_assert_str_eq(buf, "<bad-opt>");
	const uint8_t overrun[] = {1, 8, 10, 0};
	synack_tcp_opts_str(overrun, sizeof overrun, SYNACK_OPTS_FULL, NULL, buf, sizeof buf);
	cr_assert_str_eq(buf, "<nop,bad-opt>");
	synack_tcp_opts_str(linux_syn, 0, SYNACK_OPTS_FULL, NULL, buf, sizeof buf);
	cr_assert_str_eq(buf, "");
	const uint8_t pad[] = {1, 1, 0, 0};
	synack_tcp_opts_str(pad, sizeof pad, SYNACK_OPTS_COMPACT, NULL, buf, sizeof buf);
	cr_assert_str_eq(buf, "", "padding alone is no option in the compact form");
}

Test(tcpopts, truncated_output_stays_terminated)
{
	char buf[12];
	synack_tcp_opts_str(linux_syn, sizeof linux_syn, SYNACK_OPTS_FULL, NULL, buf, sizeof buf);
	cr_assert_eq(strlen(buf), sizeof buf - 1);
	cr_assert_eq(strncmp(buf, "<mss 1460,s", 11), 0);
}

Test(tcpopts, bytes_of_parsed_and_of_built_options)
{
	struct synack_tcp_opts o;
	uint8_t out[40];
	cr_assert_eq(synack_tcp_opts_parse(linux_syn, sizeof linux_syn, &o), 0);
	cr_assert_eq(synack_tcp_opts_bytes(&o, true, out), sizeof linux_syn);
	cr_assert_eq(memcmp(out, linux_syn, sizeof linux_syn), 0);
	/* Built by a stack before emitting (no raw bytes): what the emitter would write. */
	struct synack_tcp_opts b = {.has_mss = true, .mss = 1460, .has_wscale = true,
				    .wscale = 7, .sack_ok = true, .has_ts = true, .ts_val = 1};
	cr_assert_eq(synack_tcp_opts_bytes(&b, true, out), sizeof linux_syn);
	cr_assert_eq(memcmp(out, linux_syn, sizeof linux_syn), 0);
	struct synack_tcp_opts none = {0};
	cr_assert_eq(synack_tcp_opts_bytes(&none, false, out), 0);
}

Test(tcpopts, hex_round_trip_and_errors)
{
	char hex[96];
	uint8_t back[40];
	synack_hex_str(linux_syn, sizeof linux_syn, hex, sizeof hex);
	cr_assert_str_eq(hex, "020405b40402080a00000001000000000103030" "7");
	cr_assert_eq(synack_hex_parse(hex, back, sizeof back), (int)sizeof linux_syn);
	cr_assert_eq(memcmp(back, linux_syn, sizeof linux_syn), 0);
	cr_assert_eq(synack_hex_parse("abc", back, sizeof back), -1);
	cr_assert_eq(synack_hex_parse("zz", back, sizeof back), -1);
	cr_assert_eq(synack_hex_parse("0011", back, 1), -1);
}

/* ---- through the ladder ------------------------------------------------------------------ */

struct out {
	char *buf;
	size_t len;
	FILE *f;
	struct synack_ladder *l;
};

static void open_ladder(struct out *o, enum synack_ladder_format fmt, bool verbose, bool raw)
{
	memset(o, 0, sizeof *o);
	o->f = open_memstream(&o->buf, &o->len);
	struct synack_ladder_opts lo = {.format = fmt, .out = o->f, .left = "client",
					.right = "server", .left_addr = synack_addr_v4(0x0a000001u),
					.right_addr = synack_addr_v4(0x0a000002u), .verbose = verbose,
					.raw_window = raw};
	cr_assert_eq(synack_ladder_new(&o->l, &lo), 0);
}

static void close_ladder(struct out *o)
{
	cr_assert_eq(synack_ladder_finish(o->l), 0);
	synack_ladder_free(o->l);
	fclose(o->f);
}

/* A TX of a segment with options, as a stack traces it (options built, not raw). */
static void tx(struct out *o, uint64_t t, bool client, uint8_t flags, uint32_t seq, uint32_t ack,
	       uint16_t win, const struct synack_tcp_opts *opts)
{
	struct synack_tcp_seg s = {.sport = client ? 40000 : 80, .dport = client ? 80 : 40000,
				   .seq = seq, .ack = ack, .flags = flags, .win = win};
	if (opts)
		s.opts = *opts;
	struct synack_trace_event ev = {.kind = SYNACK_TRACE_TX, .t_us = t,
					.host = client ? "client" : "server", .has_conn = true,
					.seg = &s};
	ev.local = (struct synack_endpoint){synack_addr_v4(client ? 0x0a000001u : 0x0a000002u),
					    client ? 40000 : 80};
	ev.remote = (struct synack_endpoint){synack_addr_v4(client ? 0x0a000002u : 0x0a000001u),
					     client ? 80 : 40000};
	synack_ladder_event(o->l, &ev);
}

static void scaled_conversation(struct out *o, int client_ws)
{
	struct synack_tcp_opts syn = {.has_mss = true, .mss = 1460, .sack_ok = true,
				      .has_ts = true, .ts_val = 1};
	syn.has_wscale = client_ws >= 0;
	syn.wscale = (uint8_t)(client_ws < 0 ? 0 : client_ws);
	struct synack_tcp_opts synack = syn;
	synack.has_wscale = true;
	synack.wscale = 2;
	synack.ts_val = 9;
	synack.ts_ecr = 1;
	tx(o, 0, true, SYNACK_TH_SYN, 100, 0, 64240, &syn);
	tx(o, 10000, false, SYNACK_TH_SYN | SYNACK_TH_ACK, 500, 101, 65160, &synack);
	struct synack_tcp_opts ts = {.has_ts = true, .ts_val = 2, .ts_ecr = 9};
	tx(o, 20000, true, SYNACK_TH_ACK, 101, 501, 1024, &ts);
	tx(o, 30000, false, SYNACK_TH_ACK, 501, 101, 1024, NULL);
}

Test(ladder_opts, window_scaled_by_each_senders_shift)
{
	struct out o;
	open_ladder(&o, SYNACK_LADDER_TEXT, false, false);
	scaled_conversation(&o, 7);
	close_ladder(&o);
	/* SYNs unscaled; then 1024<<7 from the client, 1024<<2 from the server. */
	cr_assert(strstr(o.buf, "S seq=0 win=64240 "), "%s", o.buf);
	cr_assert(strstr(o.buf, "S. seq=0 ack=1 win=65160 "), "%s", o.buf);
	cr_assert(strstr(o.buf, ". seq=1 ack=1 win=131072 "), "%s", o.buf);
	cr_assert(strstr(o.buf, ". seq=1 ack=1 win=4096 "), "%s", o.buf);
	/* The compact options line under each SYN, none under the ACKs (TS only). */
	cr_assert(strstr(o.buf, "|              <mss 1460,sackOK,TS,wscale 7>               |"),
		  "%s", o.buf);
	cr_assert(strstr(o.buf, "<mss 1460,sackOK,TS,wscale 2>"), "%s", o.buf);
	cr_assert_null(strstr(o.buf, "<TS>"), "%s", o.buf);
	free(o.buf);
}

Test(ladder_opts, no_scaling_unless_both_syns_offer_it)
{
	struct out o;
	open_ladder(&o, SYNACK_LADDER_TEXT, false, false);
	scaled_conversation(&o, -1); /* the client's SYN has no wscale */
	close_ladder(&o);
	cr_assert(strstr(o.buf, ". seq=1 ack=1 win=1024 "), "%s", o.buf);
	cr_assert_null(strstr(o.buf, "win=4096"), "%s", o.buf);
	free(o.buf);
}

Test(ladder_opts, verbose_and_raw_window)
{
	struct out o;
	open_ladder(&o, SYNACK_LADDER_TEXT, true, false);
	scaled_conversation(&o, 7);
	close_ladder(&o);
	cr_assert(strstr(o.buf, "win=131072 (1024<<7)"), "%s", o.buf);
	cr_assert(strstr(o.buf, "<mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7>"), "%s", o.buf);
	cr_assert(strstr(o.buf, "<nop,nop,TS val 2 ecr 9>"), "%s", o.buf);
	free(o.buf);
	open_ladder(&o, SYNACK_LADDER_TEXT, false, true);
	scaled_conversation(&o, 7);
	close_ladder(&o);
	cr_assert(strstr(o.buf, ". seq=1 ack=1 win=1024 "), "%s", o.buf);
	cr_assert_null(strstr(o.buf, "131072"), "%s", o.buf);
	free(o.buf);
}

Test(ladder_opts, midstream_scale_unknown)
{
	struct out o;
	open_ladder(&o, SYNACK_LADDER_TEXT, true, false);
	tx(&o, 0, true, SYNACK_TH_ACK, 101, 501, 1024, NULL);
	close_ladder(&o);
	cr_assert(strstr(o.buf, "win=1024 (scale unknown)"), "%s", o.buf);
	free(o.buf);
}

Test(ladder_opts, svg_carries_full_options)
{
	struct out o;
	open_ladder(&o, SYNACK_LADDER_SVG, false, false);
	scaled_conversation(&o, 7);
	close_ladder(&o);
	cr_assert(strstr(o.buf, "&lt;mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7&gt;"), "%s",
		  o.buf);
	cr_assert(strstr(o.buf, "win=131072"), "%s", o.buf);
	free(o.buf);
}

Test(ladder_opts, jsonl_round_trip_keeps_options)
{
	struct out o;
	open_ladder(&o, SYNACK_LADDER_JSONL, false, false);
	scaled_conversation(&o, 7);
	close_ladder(&o);
	cr_assert(strstr(o.buf, "\"win\":64240,\"win_scaled\":64240,"), "%s", o.buf);
	cr_assert(strstr(o.buf, "\"win\":1024,\"win_scaled\":131072,"), "%s", o.buf);
	cr_assert(strstr(o.buf, "\"opts\":\"mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7\","
				"\"optbytes\":\"020405b40402080a000000010000000001030307\""),
		  "%s", o.buf);
	/* Read back: the first line's segment has the same options. */
	struct synack_trace_event ev;
	struct synack_trace_line_store st;
	char *nl = strchr(o.buf, '\n');
	*nl = '\0';
	cr_assert_eq(synack_trace_parse_line(o.buf, &ev, &st), 0);
	cr_assert(ev.seg->opts.has_mss && ev.seg->opts.mss == 1460);
	cr_assert(ev.seg->opts.has_wscale && ev.seg->opts.wscale == 7);
	cr_assert(ev.seg->opts.sack_ok && ev.seg->opts.has_ts && ev.seg->opts.ts_val == 1);
	cr_assert_eq(ev.seg->opts.raw_len, 20);
	free(o.buf);
}
