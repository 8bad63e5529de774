/* The packet codec: IPv4 and TCP parse/emit, option layouts, malformed input, flag notation. */
#include <criterion/criterion.h>
#include <string.h>

#include "synack/trace.h"
#include "synack/wire.h"

/* A pointer to the IPv4 address x (host order) as a synack_addr, for the codec. */
#define ST_V4(x) (&(const struct synack_addr[1]){synack_addr_v4(x)}[0])

#define A_CLIENT 0x0a000001u /* 10.0.0.1 */
#define A_SERVER 0x0a000002u /* 10.0.0.2 */

static void assert_bytes(const uint8_t *got, int got_len, const uint8_t *want, size_t want_len)
{
	cr_assert_eq(got_len, (int)want_len, "length %d, want %zu", got_len, want_len);
	for (size_t i = 0; i < want_len; i++)
		cr_assert_eq(got[i], want[i], "byte %zu: %02x, want %02x", i, got[i], want[i]);
}

/* ---- flags ------------------------------------------------------------------------------- */

Test(wire, flags_tcpdump_notation)
{
	static const struct {
		uint8_t f;
		const char *s;
	} cases[] = {
		{SYNACK_TH_SYN, "S"},
		{SYNACK_TH_SYN | SYNACK_TH_ACK, "S."},
		{SYNACK_TH_ACK, "."},
		{SYNACK_TH_PSH | SYNACK_TH_ACK, "P."},
		{SYNACK_TH_FIN | SYNACK_TH_ACK, "F."},
		{SYNACK_TH_FIN | SYNACK_TH_PSH | SYNACK_TH_ACK, "FP."},
		{SYNACK_TH_RST, "R"},
		{SYNACK_TH_RST | SYNACK_TH_ACK, "R."},
		{SYNACK_TH_SYN | SYNACK_TH_ECE | SYNACK_TH_CWR, "SEW"},
		{SYNACK_TH_SYN | SYNACK_TH_ACK | SYNACK_TH_ECE, "S.E"},
		{SYNACK_TH_URG | SYNACK_TH_ACK, ".U"},
		{0xff, "FSRP.UEW"},
		{0, "none"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[12];
		cr_assert_str_eq(synack_tcp_flags_str(cases[i].f, buf, sizeof(buf)), cases[i].s,
				 "flags 0x%02x", cases[i].f);
	}
}

Test(wire, flags_respects_small_buffers)
{
	char buf[4] = {'x', 'x', 'x', 'x'};
	cr_assert_str_eq(synack_tcp_flags_str(0xff, buf, 3), "FS");
	cr_assert_eq(buf[3], 'x');
	cr_assert_str_eq(synack_tcp_flags_str(0, buf, 4), "");
}

/* ---- option layouts (Linux's tcp_options_write) ----------------------------------------- */

static struct synack_tcp_opts syn_opts(bool mss, bool sack, bool ts, bool ws)
{
	struct synack_tcp_opts o = {0};
	o.has_mss = mss;
	o.mss = 1460;
	o.sack_ok = sack;
	o.has_ts = ts;
	o.ts_val = 0x01020304;
	o.ts_ecr = 0x05060708;
	o.has_wscale = ws;
	o.wscale = 7;
	return o;
}

Test(wire, syn_opts_all)
{
	struct synack_tcp_opts o = syn_opts(true, true, true, true);
	uint8_t out[40];
	static const uint8_t want[] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 1, 2, 3, 4,
				       5, 6, 7,    8,    1, 3, 3, 7};
	assert_bytes(out, synack_tcp_opts_emit(&o, true, out), want, sizeof(want));
}

Test(wire, syn_opts_without_ts)
{
	struct synack_tcp_opts o = syn_opts(true, true, false, true);
	uint8_t out[40];
	static const uint8_t want[] = {2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7};
	assert_bytes(out, synack_tcp_opts_emit(&o, true, out), want, sizeof(want));
}

Test(wire, syn_opts_ts_without_sack)
{
	struct synack_tcp_opts o = syn_opts(true, false, true, true);
	uint8_t out[40];
	static const uint8_t want[] = {2, 4, 0x05, 0xb4, 1, 1, 8, 10, 1, 2, 3, 4,
				       5, 6, 7,    8,    1, 3, 3, 7};
	assert_bytes(out, synack_tcp_opts_emit(&o, true, out), want, sizeof(want));
}

Test(wire, syn_opts_without_ws)
{
	uint8_t out[40];
	struct synack_tcp_opts o = syn_opts(true, true, false, false);
	static const uint8_t want1[] = {2, 4, 0x05, 0xb4, 1, 1, 4, 2};
	assert_bytes(out, synack_tcp_opts_emit(&o, true, out), want1, sizeof(want1));

	o = syn_opts(true, true, true, false);
	static const uint8_t want2[] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8};
	assert_bytes(out, synack_tcp_opts_emit(&o, true, out), want2, sizeof(want2));

	o = syn_opts(true, false, false, false);
	static const uint8_t want3[] = {2, 4, 0x05, 0xb4};
	assert_bytes(out, synack_tcp_opts_emit(&o, true, out), want3, sizeof(want3));

	o = syn_opts(false, false, false, false);
	cr_assert_eq(synack_tcp_opts_emit(&o, true, out), 0);
}

Test(wire, syn_opts_mss_ws_only)
{
	struct synack_tcp_opts o = syn_opts(true, false, false, true);
	uint8_t out[40];
	static const uint8_t want[] = {2, 4, 0x05, 0xb4, 1, 3, 3, 7};
	assert_bytes(out, synack_tcp_opts_emit(&o, true, out), want, sizeof(want));
}

Test(wire, data_opts_ts)
{
	struct synack_tcp_opts o = syn_opts(true, true, true, true); /* SYN-only ones ignored */
	uint8_t out[40];
	static const uint8_t want[] = {1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8};
	assert_bytes(out, synack_tcp_opts_emit(&o, false, out), want, sizeof(want));
}

static void set_sacks(struct synack_tcp_opts *o, int n)
{
	o->sack_count = (uint8_t)n;
	for (int i = 0; i < n; i++) {
		o->sack[i].left = 0x10000000u * (uint32_t)(i + 1);
		o->sack[i].right = 0x10000000u * (uint32_t)(i + 1) + 0x100;
	}
}

Test(wire, data_opts_ts_and_sack_capped_at_three)
{
	struct synack_tcp_opts o = syn_opts(false, false, true, false);
	set_sacks(&o, 4);
	uint8_t out[40];
	int n = synack_tcp_opts_emit(&o, false, out);
	cr_assert_eq(n, 40);
	static const uint8_t head[] = {1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8, 1, 1, 5, 26,
				       0x10, 0, 0, 0, 0x10, 0, 1, 0};
	for (size_t i = 0; i < sizeof(head); i++)
		cr_assert_eq(out[i], head[i], "byte %zu", i);
	cr_assert_eq(out[39], 0x00);
	cr_assert_eq(out[36], 0x30, "third block's right edge");
}

Test(wire, data_opts_sack_only_four_blocks)
{
	struct synack_tcp_opts o = {0};
	set_sacks(&o, 4);
	uint8_t out[40];
	int n = synack_tcp_opts_emit(&o, false, out);
	cr_assert_eq(n, 36);
	cr_assert_eq(out[0], 1);
	cr_assert_eq(out[1], 1);
	cr_assert_eq(out[2], 5);
	cr_assert_eq(out[3], 34);
	cr_assert_eq(out[4 + 24], 0x40, "fourth block's left edge");
	o.sack_count = 1;
	static const uint8_t want[] = {1, 1, 5, 10, 0x10, 0, 0, 0, 0x10, 0, 1, 0};
	assert_bytes(out, synack_tcp_opts_emit(&o, false, out), want, sizeof(want));
}

Test(wire, data_opts_nothing)
{
	struct synack_tcp_opts o = {0};
	uint8_t out[40];
	cr_assert_eq(synack_tcp_opts_emit(&o, false, out), 0);
}

Test(wire, raw_opts_verbatim_padded_with_eol)
{
	struct synack_tcp_opts o = syn_opts(true, true, true, true);
	static const uint8_t raw[] = {3, 3, 9, 1, 1, 2, 4, 0x12, 0x34};
	memcpy(o.raw, raw, sizeof(raw));
	o.raw_len = sizeof(raw);
	uint8_t out[40];
	memset(out, 0xee, sizeof(out));
	static const uint8_t want[] = {3, 3, 9, 1, 1, 2, 4, 0x12, 0x34, 0, 0, 0};
	assert_bytes(out, synack_tcp_opts_emit(&o, true, out), want, sizeof(want));
	o.raw_len = 40;
	cr_assert_eq(synack_tcp_opts_emit(&o, false, out), 40);
	o.raw_len = 41;
	cr_assert_eq(synack_tcp_opts_emit(&o, false, out), -1);
}

/* ---- option round trips ----------------------------------------------------------------- */

Test(wire, syn_opts_round_trip_every_combination)
{
	for (int m = 0; m < 16; m++) {
		struct synack_tcp_opts o = syn_opts(m & 1, m & 2, m & 4, m & 8);
		uint8_t out[40];
		int n = synack_tcp_opts_emit(&o, true, out);
		cr_assert_geq(n, 0);
		cr_assert_eq(n % 4, 0, "combination %d padded", m);
		struct synack_tcp_opts p;
		cr_assert_eq(synack_tcp_opts_parse(out, (size_t)n, &p), 0, "combination %d", m);
		cr_assert_eq(p.has_mss, o.has_mss, "combination %d", m);
		cr_assert_eq(p.sack_ok, o.sack_ok, "combination %d", m);
		cr_assert_eq(p.has_ts, o.has_ts, "combination %d", m);
		cr_assert_eq(p.has_wscale, o.has_wscale, "combination %d", m);
		if (o.has_mss)
			cr_assert_eq(p.mss, 1460);
		if (o.has_ts) {
			cr_assert_eq(p.ts_val, o.ts_val);
			cr_assert_eq(p.ts_ecr, o.ts_ecr);
		}
		if (o.has_wscale)
			cr_assert_eq(p.wscale, 7);
		cr_assert_eq(p.sack_count, 0);
		cr_assert_eq(p.raw_len, n);
		cr_assert_eq(memcmp(p.raw, out, (size_t)n), 0);
	}
}

Test(wire, data_opts_round_trip_ts_and_sack)
{
	for (int ts = 0; ts < 2; ts++) {
		for (int k = 0; k <= 4; k++) {
			struct synack_tcp_opts o = syn_opts(false, false, ts, false);
			set_sacks(&o, k);
			uint8_t out[40];
			int n = synack_tcp_opts_emit(&o, false, out);
			cr_assert_leq(n, 40);
			struct synack_tcp_opts p;
			cr_assert_eq(synack_tcp_opts_parse(out, (size_t)n, &p), 0);
			cr_assert_eq(p.has_ts, (bool)ts);
			int want = ts && k > 3 ? 3 : k;
			cr_assert_eq(p.sack_count, want, "ts=%d k=%d", ts, k);
			for (int i = 0; i < want; i++) {
				cr_assert_eq(p.sack[i].left, o.sack[i].left);
				cr_assert_eq(p.sack[i].right, o.sack[i].right);
			}
		}
	}
}

/* ---- option parsing details ------------------------------------------------------------- */

static int parse_opts(const uint8_t *b, size_t n, struct synack_tcp_opts *o)
{
	return synack_tcp_opts_parse(b, n, o);
}

Test(wire, opts_unknown_kind_skipped)
{
	/* kind 30 (MPTCP) length 4, then MSS. */
	static const uint8_t b[] = {30, 4, 0xaa, 0xbb, 2, 4, 0x02, 0x18};
	struct synack_tcp_opts o;
	cr_assert_eq(parse_opts(b, sizeof(b), &o), 0);
	cr_assert(o.has_mss);
	cr_assert_eq(o.mss, 536);
}

Test(wire, opts_eol_ends_list)
{
	/* After EOL everything is padding, even bytes that would be malformed options. */
	static const uint8_t b[] = {1, 1, 0, 2, 0, 0xff, 0xff, 0xff};
	struct synack_tcp_opts o;
	cr_assert_eq(parse_opts(b, sizeof(b), &o), 0);
	cr_assert(!o.has_mss);
	cr_assert_eq(o.raw_len, 8);
}

Test(wire, opts_wscale_clamped_to_14)
{
	static const uint8_t b[] = {1, 3, 3, 15};
	struct synack_tcp_opts o;
	cr_assert_eq(parse_opts(b, sizeof(b), &o), 0);
	cr_assert(o.has_wscale);
	cr_assert_eq(o.wscale, 14, "RFC 7323 §2.3: MUST use 14 instead");
}

Test(wire, opts_malformed)
{
	static const struct {
		uint8_t b[12];
		size_t n;
		const char *what;
	} cases[] = {
		{{2, 0, 0, 0}, 4, "length 0"},
		{{2, 1, 0, 0}, 4, "length 1"},
		{{30, 1}, 2, "unknown kind, length 1"},
		{{30, 0}, 2, "unknown kind, length 0"},
		{{1, 1, 1, 2}, 4, "kind without a length octet"},
		{{2, 4, 5}, 3, "MSS runs past the header"},
		{{30, 9, 0, 0}, 4, "unknown option runs past the header"},
		{{2, 3, 5, 1}, 4, "MSS of length 3"},
		{{2, 5, 5, 0xb4, 0}, 5, "MSS of length 5"},
		{{3, 4, 7, 1}, 4, "WS of length 4"},
		{{3, 2, 1, 1}, 4, "WS of length 2"},
		{{4, 3, 0, 1}, 4, "SACK-permitted of length 3"},
		{{8, 8, 0, 0, 0, 0, 0, 0}, 8, "TS of length 8"},
		{{8, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 12, "TS of length 11"},
		{{5, 2, 1, 1}, 4, "SACK with no block"},
		{{5, 9, 0, 0, 0, 0, 0, 0, 0, 1}, 10, "SACK of length 9"},
		{{5, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 12, "SACK of length 11"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct synack_tcp_opts o;
		cr_assert_eq(parse_opts(cases[i].b, cases[i].n, &o), -SYNACK_DROP_TCP_BAD_OPTION,
			     "%s", cases[i].what);
	}
}

/* ---- IPv4 -------------------------------------------------------------------------------- */

static size_t make_packet(uint8_t *buf, size_t cap, const uint8_t *payload, size_t plen)
{
	struct synack_tcp_seg s = {0};
	s.sport = 40000;
	s.dport = 80;
	s.seq = 0xfffffff0u;
	s.ack = 0x12345678u;
	s.flags = SYNACK_TH_PSH | SYNACK_TH_ACK;
	s.win = 502;
	s.opts = syn_opts(false, false, true, false);
	s.payload = payload;
	s.len = plen;
	int n = synack_tcp_emit(buf, cap, ST_V4(A_CLIENT), ST_V4(A_SERVER), 0x1234, &s);
	cr_assert_gt(n, 0);
	return (size_t)n;
}

Test(wire, ipv4_emit_layout)
{
	struct synack_ipv4 ip = {.tos = 0x10, .id = 0xbeef, .df = true, .ttl = 64,
				 .proto = SYNACK_PROTO_TCP, .src = A_CLIENT, .dst = A_SERVER};
	uint8_t b[20];
	cr_assert_eq(synack_ipv4_emit(b, sizeof(b), &ip, 100), 20);
	const uint8_t want[] = {0x45, 0x10, 0x00, 120, 0xbe, 0xef, 0x40, 0x00, 64, 6,
				       b[10], b[11], 10, 0, 0, 1, 10, 0, 0, 2};
	assert_bytes(b, 20, want, sizeof(want));
	cr_assert_eq(synack_csum_fold(synack_csum_add(0, b, 20)), 0);
	cr_assert_eq(synack_ipv4_emit(b, 19, &ip, 100), -1);
	cr_assert_eq(synack_ipv4_emit(b, 20, &ip, 65516), -1);
}

Test(wire, ipv4_round_trip_fragment_fields)
{
	struct synack_ipv4 ip = {.id = 7, .mf = true, .frag_off = 0x1abc, .ttl = 3, .proto = 17,
				 .src = 0xc0a80001, .dst = 0xc0a800c7};
	uint8_t b[28] = {0};
	cr_assert_eq(synack_ipv4_emit(b, sizeof(b), &ip, 8), 20);
	struct synack_ipv4 p;
	const uint8_t *pl;
	size_t plen;
	cr_assert_eq(synack_ipv4_parse(b, sizeof(b), &p, &pl, &plen), 0);
	cr_assert_eq(p.ihl, 20);
	cr_assert_eq(p.total_len, 28);
	cr_assert_eq(p.id, 7);
	cr_assert(!p.df);
	cr_assert(p.mf);
	cr_assert_eq(p.frag_off, 0x1abc);
	cr_assert_eq(p.ttl, 3);
	cr_assert_eq(p.proto, 17);
	cr_assert_eq(p.src, 0xc0a80001u);
	cr_assert_eq(p.dst, 0xc0a800c7u);
	cr_assert_eq(pl, b + 20);
	cr_assert_eq(plen, 8);
}

Test(wire, ipv4_with_options)
{
	/* IHL 6: one word of IP options (NOP NOP NOP EOL); the payload starts at 24. */
	uint8_t b[30] = {0x46, 0, 0, 30, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
			 1, 1, 1, 0, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
	uint16_t c = synack_csum_fold(synack_csum_add(0, b, 24));
	b[10] = (uint8_t)(c >> 8);
	b[11] = (uint8_t)c;
	struct synack_ipv4 p;
	const uint8_t *pl;
	size_t plen;
	cr_assert_eq(synack_ipv4_parse(b, sizeof(b), &p, &pl, &plen), 0);
	cr_assert_eq(p.ihl, 24);
	cr_assert_eq(pl, b + 24);
	cr_assert_eq(plen, 6);
}

static void fix_ip_csum(uint8_t *b)
{
	b[10] = b[11] = 0;
	size_t ihl = (size_t)(b[0] & 15) * 4;
	uint16_t c = synack_csum_fold(synack_csum_add(0, b, ihl));
	b[10] = (uint8_t)(c >> 8);
	b[11] = (uint8_t)c;
}

Test(wire, ipv4_malformed)
{
	uint8_t b[80];
	struct synack_ipv4 ip;
	const uint8_t *pl;
	size_t plen;
	size_t n = make_packet(b, sizeof(b), NULL, 0);
	cr_assert_eq(synack_ipv4_parse(b, n, &ip, &pl, &plen), 0);

	for (size_t k = 0; k < 20; k++)
		cr_assert_eq(synack_ipv4_parse(b, k, &ip, &pl, &plen), -SYNACK_DROP_IP_TRUNCATED,
			     "%zu bytes", k);

	uint8_t c[80];
	memcpy(c, b, n);
	c[0] = 0x65; /* version 6 */
	cr_assert_eq(synack_ipv4_parse(c, n, &ip, &pl, &plen), -SYNACK_DROP_IP_VERSION);

	memcpy(c, b, n);
	c[0] = 0x44; /* IHL 4 */
	fix_ip_csum(c);
	cr_assert_eq(synack_ipv4_parse(c, n, &ip, &pl, &plen), -SYNACK_DROP_IP_BAD_IHL);
	c[0] = 0x40;
	cr_assert_eq(synack_ipv4_parse(c, n, &ip, &pl, &plen), -SYNACK_DROP_IP_BAD_IHL);
	c[0] = 0x46; /* IHL 24 bytes, but only 20 given */
	cr_assert_eq(synack_ipv4_parse(c, 20, &ip, &pl, &plen), -SYNACK_DROP_IP_BAD_IHL);

	/* Total length beyond the buffer: truncated datagram. */
	cr_assert_eq(synack_ipv4_parse(b, n - 1, &ip, &pl, &plen), -SYNACK_DROP_IP_BAD_TOTLEN);
	/* Total length short of the buffer: link padding, trimmed (RFC 791's Total Length rules). */
	memcpy(c, b, n);
	memset(c + n, 0, 18);
	cr_assert_eq(synack_ipv4_parse(c, n + 18, &ip, &pl, &plen), 0);
	cr_assert_eq(plen, n - 20, "the transport bytes end where Total Length says");
	cr_assert_eq(ip.total_len, n);
	/* Total length smaller than the header itself. */
	memcpy(c, b, n);
	c[2] = 0;
	c[3] = 19;
	fix_ip_csum(c);
	cr_assert_eq(synack_ipv4_parse(c, n, &ip, &pl, &plen), -SYNACK_DROP_IP_BAD_TOTLEN);

	/* Any single flipped bit in the header breaks the checksum (or an earlier check). */
	memcpy(c, b, n);
	c[8] ^= 0x01; /* TTL */
	cr_assert_eq(synack_ipv4_parse(c, n, &ip, &pl, &plen), -SYNACK_DROP_IP_BAD_CSUM);
	memcpy(c, b, n);
	c[11] ^= 0x80;
	cr_assert_eq(synack_ipv4_parse(c, n, &ip, &pl, &plen), -SYNACK_DROP_IP_BAD_CSUM);
	memcpy(c, b, n);
	c[n - 1] ^= 0xff; /* payload bytes are not covered by the IP checksum */
	cr_assert_eq(synack_ipv4_parse(c, n, &ip, &pl, &plen), 0);
}

/* ---- TCP --------------------------------------------------------------------------------- */

Test(wire, tcp_emit_layout)
{
	uint8_t b[80];
	static const uint8_t data[] = "hello";
	size_t n = make_packet(b, sizeof(b), data, 5);
	cr_assert_eq(n, 20 + 32 + 5);
	const uint8_t want[] = {
		0x45, 0x00, 0x00, 57,   0x12, 0x34, 0x40, 0x00, 64,   6,    b[10], b[11],
		10,   0,    0,    1,    10,   0,    0,    2,
		0x9c, 0x40, 0x00, 0x50, 0xff, 0xff, 0xff, 0xf0, 0x12, 0x34, 0x56, 0x78,
		0x80, 0x18, 0x01, 0xf6, b[36], b[37], 0x00, 0x00,
		1,    1,    8,    10,   1,    2,    3,    4,    5,    6,    7,    8,
		'h',  'e',  'l',  'l',  'o'};
	assert_bytes(b, (int)n, want, sizeof(want));
	cr_assert_eq(synack_csum_fold(synack_csum_add(0, b, 20)), 0, "IP checksum verifies");
	cr_assert_eq(synack_tcp_csum(ST_V4(A_CLIENT), ST_V4(A_SERVER), b + 20, n - 20), 0,
		     "TCP verifies");
}

Test(wire, tcp_round_trip)
{
	uint8_t b[80];
	static const uint8_t data[] = "odd!!";
	size_t n = make_packet(b, sizeof(b), data, 5);
	struct synack_ipv4 ip;
	const uint8_t *pl;
	size_t plen;
	cr_assert_eq(synack_ipv4_parse(b, n, &ip, &pl, &plen), 0);
	cr_assert(ip.df);
	cr_assert_eq(ip.ttl, 64);
	cr_assert_eq(ip.id, 0x1234);
	cr_assert_eq(ip.proto, SYNACK_PROTO_TCP);
	struct synack_tcp_seg s;
	cr_assert_eq(synack_tcp_parse(pl, plen, ST_V4(ip.src), ST_V4(ip.dst), true, &s), 0);
	cr_assert_eq(s.sport, 40000);
	cr_assert_eq(s.dport, 80);
	cr_assert_eq(s.seq, 0xfffffff0u);
	cr_assert_eq(s.ack, 0x12345678u);
	cr_assert_eq(s.doff, 32);
	cr_assert_eq(s.flags, SYNACK_TH_PSH | SYNACK_TH_ACK);
	cr_assert_eq(s.win, 502);
	cr_assert_eq(s.urp, 0);
	cr_assert(s.opts.has_ts);
	cr_assert_eq(s.opts.ts_val, 0x01020304u);
	cr_assert_eq(s.opts.ts_ecr, 0x05060708u);
	cr_assert_eq(s.len, 5);
	cr_assert_eq(s.payload, pl + 32);
	cr_assert_eq(memcmp(s.payload, "odd!!", 5), 0);
}

Test(wire, tcp_syn_round_trip_all_options)
{
	struct synack_tcp_seg s = {0};
	s.sport = 1;
	s.dport = 2;
	s.seq = 100;
	s.flags = SYNACK_TH_SYN;
	s.win = 65535;
	s.urp = 0x55aa;
	s.opts = syn_opts(true, true, true, true);
	uint8_t b[64];
	int n = synack_tcp_emit(b, sizeof(b), ST_V4(A_CLIENT), ST_V4(A_SERVER), 0, &s);
	cr_assert_eq(n, 60);
	cr_assert_eq(b[32], 0xa0, "data offset 10 words");
	struct synack_tcp_seg p;
	cr_assert_eq(synack_tcp_parse(b + 20, 40, ST_V4(A_CLIENT), ST_V4(A_SERVER), true, &p), 0);
	cr_assert(p.opts.has_mss && p.opts.sack_ok && p.opts.has_ts && p.opts.has_wscale);
	cr_assert_eq(p.urp, 0x55aa);
	cr_assert_eq(p.len, 0);
	cr_assert_eq(synack_tcp_emit(b, 59, ST_V4(A_CLIENT), ST_V4(A_SERVER), 0, &s), -1,
		     "cap too small");
}

Test(wire, tcp_emit_rejects_oversized)
{
	struct synack_tcp_seg s = {0};
	s.opts.raw_len = 41;
	uint8_t b[100];
	cr_assert_eq(synack_tcp_emit(b, sizeof(b), ST_V4(A_CLIENT), ST_V4(A_SERVER), 0, &s), -1);
	s.opts.raw_len = 0;
	static uint8_t big[65536];
	static uint8_t out[70000];
	s.payload = big;
	s.len = 65535 - 40;
	cr_assert_eq(synack_tcp_emit(out, sizeof(out), ST_V4(A_CLIENT), ST_V4(A_SERVER), 0, &s),
		     65535);
	s.len++;
	cr_assert_eq(synack_tcp_emit(out, sizeof(out), ST_V4(A_CLIENT), ST_V4(A_SERVER), 0, &s),
		     -1);
}

/* The seam between TCP and IP: synack_tcp_encode() writes exactly the TCP part of what
 * synack_tcp_emit() writes behind its IPv4 header. */
Test(wire, tcp_encode_is_the_tcp_part_of_emit)
{
	uint8_t whole[80], tcp[80];
	static const uint8_t data[] = "hello";
	size_t n = make_packet(whole, sizeof(whole), data, 5);
	struct synack_tcp_seg s;
	struct synack_ipv4 ip;
	const uint8_t *pl;
	size_t plen;
	cr_assert_eq(synack_ipv4_parse(whole, n, &ip, &pl, &plen), 0);
	cr_assert_eq(synack_tcp_parse(pl, plen, ST_V4(ip.src), ST_V4(ip.dst), true, &s), 0);
	int t = synack_tcp_encode(tcp, sizeof(tcp), ST_V4(A_CLIENT), ST_V4(A_SERVER), &s);
	assert_bytes(tcp, t, whole + 20, n - 20);
	cr_assert_eq(synack_tcp_encode(tcp, n - 21, ST_V4(A_CLIENT), ST_V4(A_SERVER), &s), -1,
		     "cap too small");
}

/* IPv6: the TCP encoder checksums over the IPv6 pseudo-header; the whole-packet helper
 * writes the 40-byte IPv6 header in front and refuses a mix of families. */
Test(wire, tcp_ipv6_encode_verifies_and_emit_builds_ipv6)
{
	static const uint8_t s6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	static const uint8_t d6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
	struct synack_addr src = synack_addr_v6(s6), dst = synack_addr_v6(d6);
	struct synack_tcp_seg s = {0};
	s.sport = 40000;
	s.dport = 80;
	s.seq = 7;
	s.flags = SYNACK_TH_SYN;
	s.win = 65535;
	s.opts = syn_opts(true, true, true, true);
	uint8_t b[100];
	int n = synack_tcp_encode(b, sizeof(b), &src, &dst, &s);
	cr_assert_eq(n, 40);
	cr_assert_eq(synack_tcp_csum(&src, &dst, b, (size_t)n), 0);
	struct synack_tcp_seg p;
	cr_assert_eq(synack_tcp_parse(b, (size_t)n, &src, &dst, true, &p), 0);
	cr_assert_eq(p.seq, 7);
	cr_assert_eq(synack_tcp_parse(b, (size_t)n, ST_V4(A_CLIENT), ST_V4(A_SERVER), true, &p),
		     -SYNACK_DROP_TCP_BAD_CSUM, "the IPv4 pseudo-header does not verify it");
	cr_assert_eq(synack_tcp_emit(b, sizeof(b), &src, &dst, 0, &s), 80);
	static const uint8_t fixed[8] = {0x60, 0, 0, 0, 0, 40, SYNACK_PROTO_TCP, 64};
	cr_assert_arr_eq(b, fixed, 8);
	cr_assert_arr_eq(b + 8, s6, 16);
	cr_assert_arr_eq(b + 24, d6, 16);
	cr_assert_eq(synack_tcp_csum(&src, &dst, b + 40, 40), 0);
	cr_assert_eq(synack_tcp_emit(b, 79, &src, &dst, 0, &s), -1, "cap too small");
	cr_assert_eq(synack_tcp_emit(b, sizeof(b), ST_V4(A_CLIENT), &dst, 0, &s), -1, "mixed");
}

Test(wire, tcp_malformed)
{
	uint8_t b[80];
	size_t n = make_packet(b, sizeof(b), (const uint8_t *)"xyz", 3);
	uint8_t *t = b + 20;
	size_t tl = n - 20;
	struct synack_tcp_seg s;
	cr_assert_eq(synack_tcp_parse(t, tl, ST_V4(A_CLIENT), ST_V4(A_SERVER), true, &s), 0);

	for (size_t k = 0; k < 20; k++)
		cr_assert_eq(synack_tcp_parse(t, k, ST_V4(A_CLIENT), ST_V4(A_SERVER), false, &s),
			     -SYNACK_DROP_TCP_TRUNCATED, "%zu bytes", k);

	uint8_t c[80];
	memcpy(c, t, tl);
	c[12] = 0x40; /* data offset 4 */
	cr_assert_eq(synack_tcp_parse(c, tl, ST_V4(A_CLIENT), ST_V4(A_SERVER), false, &s),
		     -SYNACK_DROP_TCP_BAD_DOFF);
	c[12] = 0x00;
	cr_assert_eq(synack_tcp_parse(c, tl, ST_V4(A_CLIENT), ST_V4(A_SERVER), false, &s),
		     -SYNACK_DROP_TCP_BAD_DOFF);
	c[12] = 0xf0; /* 60 bytes, but the segment has 35 */
	cr_assert_eq(synack_tcp_parse(c, tl, ST_V4(A_CLIENT), ST_V4(A_SERVER), false, &s),
		     -SYNACK_DROP_TCP_BAD_DOFF);
	/* Data offset exactly at the end is fine: options, no payload. */
	memcpy(c, t, tl);
	cr_assert_eq(synack_tcp_parse(c, 32, ST_V4(A_CLIENT), ST_V4(A_SERVER), false, &s), 0);
	cr_assert_eq(s.len, 0);
	cr_assert_eq(synack_tcp_parse(c, 31, ST_V4(A_CLIENT), ST_V4(A_SERVER), false, &s),
		     -SYNACK_DROP_TCP_BAD_DOFF);

	/* Checksum: a flipped payload bit, a wrong pseudo-header address. */
	memcpy(c, t, tl);
	c[tl - 1] ^= 0x04;
	cr_assert_eq(synack_tcp_parse(c, tl, ST_V4(A_CLIENT), ST_V4(A_SERVER), true, &s),
		     -SYNACK_DROP_TCP_BAD_CSUM);
	cr_assert_eq(synack_tcp_parse(c, tl, ST_V4(A_CLIENT), ST_V4(A_SERVER), false, &s), 0,
		     "verify_csum=false skips the check");
	cr_assert_eq(synack_tcp_parse(t, tl, ST_V4(A_CLIENT), ST_V4(A_SERVER + 1), true, &s),
		     -SYNACK_DROP_TCP_BAD_CSUM);

	/* A bad option inside a checksummed header. */
	memcpy(c, t, tl);
	c[20 + 3] = 9; /* TS length 9 */
	cr_assert_eq(synack_tcp_parse(c, tl, ST_V4(A_CLIENT), ST_V4(A_SERVER), false, &s),
		     -SYNACK_DROP_TCP_BAD_OPTION);
	c[20 + 3] = 30; /* TS length past the header */
	cr_assert_eq(synack_tcp_parse(c, tl, ST_V4(A_CLIENT), ST_V4(A_SERVER), false, &s),
		     -SYNACK_DROP_TCP_BAD_OPTION);
}

/* ---- robustness -------------------------------------------------------------------------- */

static uint64_t fuzz_state = 0x9e3779b97f4a7c15u;

static uint64_t fuzz_next(void)
{
	/* xorshift64*: only to make test inputs, deterministic. */
	fuzz_state ^= fuzz_state >> 12;
	fuzz_state ^= fuzz_state << 25;
	fuzz_state ^= fuzz_state >> 27;
	return fuzz_state * 0x2545f4914f6cdd1du;
}

static int parse_all(const uint8_t *b, size_t n, bool verify)
{
	struct synack_ipv4 ip;
	const uint8_t *pl;
	size_t plen;
	int rc = synack_ipv4_parse(b, n, &ip, &pl, &plen);
	if (rc < 0)
		return rc;
	cr_assert(pl >= b && pl + plen <= b + n);
	struct synack_tcp_seg s;
	rc = synack_tcp_parse(pl, plen, ST_V4(ip.src), ST_V4(ip.dst), verify, &s);
	if (rc < 0)
		return rc;
	cr_assert(s.payload >= pl && s.payload + s.len == pl + plen);
	cr_assert(s.opts.sack_count <= 4);
	return 0;
}

static bool is_codec_reason(int r)
{
	switch (r) {
	case SYNACK_DROP_IP_TRUNCATED:
	case SYNACK_DROP_IP_VERSION:
	case SYNACK_DROP_IP_BAD_IHL:
	case SYNACK_DROP_IP_BAD_TOTLEN:
	case SYNACK_DROP_IP_BAD_CSUM:
	case SYNACK_DROP_TCP_TRUNCATED:
	case SYNACK_DROP_TCP_BAD_DOFF:
	case SYNACK_DROP_TCP_BAD_CSUM:
	case SYNACK_DROP_TCP_BAD_OPTION:
		return true;
	default:
		return false;
	}
}

/* Random bytes, truncations and bit flips of valid packets: every result is 0 or one of the
 * codec's drop reasons, never a crash (run under `make SAN=1 unit` for out-of-bounds reads).
 * Each input sits in its own exact-size heap buffer so ASan sees a read past its end. */
Test(wire, fuzz_never_crashes)
{
	uint8_t valid[80];
	size_t vn = make_packet(valid, sizeof(valid), (const uint8_t *)"abcdefg", 7);
	int ok = 0;
	for (int iter = 0; iter < 100000; iter++) {
		size_t n = fuzz_next() % 80;
		uint8_t *b = malloc(n ? n : 1);
		uint64_t mode = fuzz_next() % 3;
		for (size_t i = 0; i < n; i++)
			b[i] = mode == 0 ? (uint8_t)fuzz_next() : (i < vn ? valid[i] : 0);
		if (mode == 2 && n > 0) {
			for (int f = 0; f < 3; f++)
				b[fuzz_next() % n] ^= (uint8_t)(1u << (fuzz_next() % 8));
		}
		if (mode != 0 && n >= 20 && fuzz_next() % 2) {
			b[2] = (uint8_t)(n >> 8); /* make the IP layer accept it, to reach TCP */
			b[3] = (uint8_t)n;
			b[0] = 0x45;
			fix_ip_csum(b);
		}
		int rc = parse_all(b, n, iter % 2);
		cr_assert(rc == 0 || is_codec_reason(-rc), "rc %d", rc);
		ok += rc == 0;
		struct synack_tcp_opts o;
		size_t on = n > 40 ? 40 : n;
		(void)synack_tcp_opts_parse(b, on, &o);
		free(b);
	}
	cr_assert_gt(ok, 0, "some mutated packets still parse");
}

/* synack_ip_parse: either family by the version nibble, with what readers of packets need
 * lifted out; its errors are the family parser's, or its own for no byte or another version. */
Test(wire, ip_parse_either_family)
{
	static const uint8_t c6[16] = {0xfd, [15] = 1}, s6[16] = {0xfd, [15] = 2};
	struct synack_addr c4 = synack_addr_v4(0x0a000001u), s4 = synack_addr_v4(0x0a000002u);
	struct synack_addr ca = synack_addr_v6(c6), sa = synack_addr_v6(s6);
	struct synack_tcp_seg seg = {.sport = 1, .dport = 2, .seq = 3, .flags = SYNACK_TH_SYN};
	uint8_t b[200];
	struct synack_ip_hdr ip;
	const uint8_t *p;
	size_t plen;
	int n = synack_tcp_emit(b, sizeof b, &c4, &s4, 9, &seg);
	cr_assert_eq(synack_ip_parse(b, (size_t)n, &ip, &p, &plen), 0);
	cr_assert_eq(ip.family, SYNACK_AF_INET);
	cr_assert(synack_addr_eq(&ip.src, &c4) && synack_addr_eq(&ip.dst, &s4));
	cr_assert_eq(ip.proto, SYNACK_PROTO_TCP);
	cr_assert_not(ip.fragment);
	cr_assert_eq(ip.v4.id, 9);
	cr_assert(p == b + 20 && plen == 20);
	b[6] = 0x20; /* MF */
	b[10] = b[11] = 0;
	uint16_t ck = synack_csum_fold(synack_csum_add(0, b, 20));
	b[10] = (uint8_t)(ck >> 8); /* the fold is in network order as stored bytes */
	b[11] = (uint8_t)ck;
	cr_assert_eq(synack_ip_parse(b, (size_t)n, &ip, &p, &plen), 0);
	cr_assert(ip.fragment, "an IPv4 fragment");
	b[11] ^= 1;
	cr_assert_eq(synack_ip_parse(b, (size_t)n, &ip, &p, &plen), -SYNACK_DROP_IP_BAD_CSUM);

	n = synack_tcp_emit(b, sizeof b, &ca, &sa, 0, &seg);
	cr_assert_eq(synack_ip_parse(b, (size_t)n, &ip, &p, &plen), 0);
	cr_assert_eq(ip.family, SYNACK_AF_INET6);
	cr_assert(synack_addr_eq(&ip.src, &ca) && synack_addr_eq(&ip.dst, &sa));
	cr_assert_eq(ip.proto, SYNACK_PROTO_TCP);
	cr_assert_not(ip.fragment);
	cr_assert(p == b + 40 && plen == 20);
	/* A Fragment header (offset 0, M set) between the fixed header and TCP. */
	memmove(b + 48, b + 40, 20);
	static const uint8_t frag[8] = {6, 0, 0, 1, 0, 0, 0, 7};
	memcpy(b + 40, frag, 8);
	b[5] = 28;
	b[6] = 44;
	cr_assert_eq(synack_ip_parse(b, 68, &ip, &p, &plen), 0);
	cr_assert(ip.fragment, "an IPv6 fragment");
	cr_assert_eq(ip.proto, SYNACK_PROTO_TCP);
	cr_assert_eq(ip.v6.frag_id, 7);
	cr_assert(p == b + 48 && plen == 20);
	b[43] = 0; /* offset 0, M clear: an atomic fragment, a whole packet (RFC 6946) */
	cr_assert_eq(synack_ip_parse(b, 68, &ip, &p, &plen), 0);
	cr_assert_not(ip.fragment);
	cr_assert_eq(synack_ip_parse(b, 39, &ip, &p, &plen), -SYNACK_DROP_IP_TRUNCATED);

	b[0] = 0x50;
	cr_assert_eq(synack_ip_parse(b, 68, &ip, &p, &plen), -SYNACK_DROP_IP_VERSION);
	cr_assert_eq(synack_ip_parse(b, 0, &ip, &p, &plen), -SYNACK_DROP_IP_TRUNCATED);
}
