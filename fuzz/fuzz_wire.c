/* Fuzz target: the packet codec (include/synack/wire.h).
 *
 * Every input is used five ways, each with the invariants the codec promises:
 *  1. as a whole IPv4 packet: parse never reads outside the buffer; a parsed TCP segment's
 *     fields agree with its bytes; re-emitting it gives back the same TCP bytes (checksum
 *     included when it verified) and re-parses to the same fields;
 *  2. as a bare TCP segment (checksum not verified): emit then parse round-trips, and the
 *     emitted segment's checksum verifies;
 *  3. as option bytes: parse accepts or rejects, never crashes; what it accepts is bounded
 *     (wscale <= 14, at most 4 SACK blocks) and re-emits byte for byte;
 *  4. as a recipe for structured options: emitted in Linux's layout and parsed back, every
 *     option that belongs in that kind of segment comes back equal;
 *  5. as a packet of either family for synack_ip_parse(): it agrees with the family's own
 *     parser (result, addresses, protocol, fragment or not, payload bounds), and an IPv6 TCP
 *     segment (after any extension headers) that verifies re-emits like an IPv4 one;
 * plus the checksum against a plain RFC 1071 reference on the same bytes. */
#include "fuzz.h"

#include "synack/trace.h"
#include "synack/wire.h"

/* A pointer to the IPv4 address x (host order) as a synack_addr, for the codec. */
#define ST_V4(x) (&(const struct synack_addr[1]){synack_addr_v4(x)}[0])

#define SRC 0x0a000001u
#define DST 0x0a000002u

/* RFC 1071 done the obvious way, as the reference. */
static uint16_t ref_csum(const uint8_t *p, size_t n)
{
	uint64_t sum = 0;
	for (size_t i = 0; i < n; i += 2)
		sum += (uint32_t)p[i] << 8 | (i + 1 < n ? p[i + 1] : 0);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void same_seg(const struct synack_tcp_seg *a, const struct synack_tcp_seg *b)
{
	FUZZ_ASSERT(a->sport == b->sport && a->dport == b->dport, "ports");
	FUZZ_ASSERT(a->seq == b->seq && a->ack == b->ack, "seq/ack");
	FUZZ_ASSERT(a->flags == b->flags && a->win == b->win && a->urp == b->urp, "flags/win/urp");
	FUZZ_ASSERT(a->doff == b->doff, "doff %u != %u", a->doff, b->doff);
	FUZZ_ASSERT(a->len == b->len, "len %zu != %zu", a->len, b->len);
	FUZZ_ASSERT(a->len == 0 || memcmp(a->payload, b->payload, a->len) == 0, "payload");
	/* The parser clears the whole struct first, so equal options compare equal bytewise. */
	FUZZ_ASSERT(memcmp(&a->opts, &b->opts, sizeof(a->opts)) == 0, "options");
}

static void check_seg_bounds(const struct synack_tcp_seg *seg, const uint8_t *tcp, size_t len)
{
	FUZZ_ASSERT(seg->doff >= SYNACK_TCP_HDR_MIN && seg->doff <= len && seg->doff % 4 == 0,
		    "doff %u of %zu", seg->doff, len);
	FUZZ_ASSERT(seg->payload == tcp + seg->doff && seg->len == len - seg->doff, "payload");
	FUZZ_ASSERT(seg->opts.raw_len == seg->doff - SYNACK_TCP_HDR_MIN, "raw_len");
	FUZZ_ASSERT(seg->opts.sack_count <= 4, "sack_count %u", seg->opts.sack_count);
	FUZZ_ASSERT(!seg->opts.has_wscale || seg->opts.wscale <= 14, "wscale %u", seg->opts.wscale);
	FUZZ_ASSERT(seg->seq == ((uint32_t)tcp[4] << 24 | (uint32_t)tcp[5] << 16 |
				 (uint32_t)tcp[6] << 8 | tcp[7]),
		    "seq");
	FUZZ_ASSERT(seg->flags == tcp[13], "flags");
}

/* Emits seg (options verbatim from raw) and parses the result with the checksum verified. */
static void reemit(const struct synack_tcp_seg *seg, uint32_t src, uint32_t dst,
		   const uint8_t *orig_tcp, bool orig_csum_ok)
{
	static uint8_t out[65536];
	int n = synack_tcp_emit(out, sizeof(out), ST_V4(src), ST_V4(dst), 7, seg);
	FUZZ_ASSERT(n == (int)(SYNACK_IPV4_HDR_MIN + seg->doff + seg->len), "emit length %d", n);

	struct synack_ipv4 ip;
	const uint8_t *tcp;
	size_t tlen;
	int rc = synack_ipv4_parse(out, (size_t)n, &ip, &tcp, &tlen);
	FUZZ_ASSERT(rc == 0, "emitted IPv4 header does not parse: %d", rc);
	FUZZ_ASSERT(ip.src == src && ip.dst == dst && ip.proto == SYNACK_PROTO_TCP && ip.id == 7,
		    "emitted IPv4 fields");
	struct synack_tcp_seg back;
	rc = synack_tcp_parse(tcp, tlen, ST_V4(src), ST_V4(dst), true, &back);
	FUZZ_ASSERT(rc == 0, "emitted segment does not parse: %d", rc);
	same_seg(seg, &back);
	/* Byte for byte the same, except: the four reserved bits after the data offset are not
	 * kept (RFC 9293 §3.1: "Must be zero in generated segments and must be ignored in received
	 * segments"), and the checksum is recomputed (it verified above). With those bits clear, a
	 * valid checksum comes back too, up to 1's complement's two zeros (0x0000 and 0xffff). */
	FUZZ_ASSERT(memcmp(tcp, orig_tcp, 12) == 0 && tcp[12] == (orig_tcp[12] & 0xf0) &&
			    memcmp(tcp + 13, orig_tcp + 13, 3) == 0 &&
			    memcmp(tcp + 18, orig_tcp + 18, tlen - 18) == 0,
		    "re-emitted header or payload differs");
	uint16_t c0 = (uint16_t)(orig_tcp[16] << 8 | orig_tcp[17]);
	uint16_t c1 = (uint16_t)(tcp[16] << 8 | tcp[17]);
	if (orig_csum_ok && (orig_tcp[12] & 0x0f) == 0)
		FUZZ_ASSERT(c0 == c1 || (c0 + c1 == 0xffff && (c0 == 0 || c1 == 0)),
			    "checksum %#x became %#x", c0, c1);
}

static void as_ipv4(const uint8_t *d, size_t n)
{
	struct synack_ipv4 ip;
	const uint8_t *pl = NULL;
	size_t plen = 0;
	if (synack_ipv4_parse(d, n, &ip, &pl, &plen) != 0)
		return;
	/* A frame may be padded past Total Length (Ethernet pads short frames): the datagram is
	 * trimmed to it, never longer than the frame. */
	FUZZ_ASSERT(ip.ihl >= 20 && ip.ihl <= ip.total_len && ip.total_len <= n, "ihl/total_len");
	FUZZ_ASSERT(pl == d + ip.ihl && plen == (size_t)ip.total_len - ip.ihl, "payload bounds");
	FUZZ_ASSERT(ref_csum(d, ip.ihl) == 0, "accepted a header whose checksum is wrong");
	if (ip.proto != SYNACK_PROTO_TCP)
		return;
	struct synack_tcp_seg seg;
	if (synack_tcp_parse(pl, plen, ST_V4(ip.src), ST_V4(ip.dst), true, &seg) == 0) {
		check_seg_bounds(&seg, pl, plen);
		reemit(&seg, ip.src, ip.dst, pl, true);
	}
}

/* An IPv6 TCP segment's round trip: emitted between the same addresses (synack_tcp_emit
 * builds a 40-byte header with no extension headers) and parsed back, checksum verified. */
static void reemit6(const struct synack_tcp_seg *seg, const struct synack_addr *src,
		    const struct synack_addr *dst, const uint8_t *orig_tcp)
{
	static uint8_t out[65536];
	int n = synack_tcp_emit(out, sizeof(out), src, dst, 0, seg);
	FUZZ_ASSERT(n == (int)(40 + seg->doff + seg->len), "emit length %d", n);
	struct synack_ipv6 ip;
	const uint8_t *tcp;
	size_t tlen;
	int rc = synack_ipv6_parse(out, (size_t)n, &ip, &tcp, &tlen);
	FUZZ_ASSERT(rc == 0 && ip.proto == SYNACK_PROTO_TCP && ip.hdr_len == 40, "emitted IPv6");
	FUZZ_ASSERT(synack_addr_eq(&ip.src, src) && synack_addr_eq(&ip.dst, dst), "addresses");
	struct synack_tcp_seg back;
	rc = synack_tcp_parse(tcp, tlen, src, dst, true, &back);
	FUZZ_ASSERT(rc == 0, "emitted IPv6 segment does not parse: %d", rc);
	same_seg(seg, &back);
	FUZZ_ASSERT(memcmp(tcp, orig_tcp, 12) == 0 && tcp[12] == (orig_tcp[12] & 0xf0) &&
			    memcmp(tcp + 13, orig_tcp + 13, 3) == 0 &&
			    memcmp(tcp + 18, orig_tcp + 18, tlen - 18) == 0,
		    "re-emitted IPv6 segment differs");
}

static void as_ip(const uint8_t *d, size_t n)
{
	struct synack_ip_hdr ip;
	const uint8_t *pl = NULL;
	size_t plen = 0;
	int rc = synack_ip_parse(d, n, &ip, &pl, &plen);
	if (n == 0 || (d[0] >> 4 != 4 && d[0] >> 4 != 6)) {
		FUZZ_ASSERT(rc == -(n ? SYNACK_DROP_IP_VERSION : SYNACK_DROP_IP_TRUNCATED),
			    "neither family: %d", rc);
		return;
	}
	struct synack_ipv4 v4;
	struct synack_ipv6 v6;
	const uint8_t *pl2 = NULL;
	size_t plen2 = 0;
	bool is4 = d[0] >> 4 == 4;
	int rc2 = is4 ? synack_ipv4_parse(d, n, &v4, &pl2, &plen2)
		      : synack_ipv6_parse(d, n, &v6, &pl2, &plen2);
	FUZZ_ASSERT(rc == rc2, "synack_ip_parse %d, the family's parser %d", rc, rc2);
	if (rc < 0)
		return;
	FUZZ_ASSERT(pl == pl2 && plen == plen2 && pl >= d && pl + plen <= d + n, "payload");
	FUZZ_ASSERT(ip.family == (is4 ? SYNACK_AF_INET : SYNACK_AF_INET6), "family");
	if (is4) {
		FUZZ_ASSERT(synack_addr_is_v4(&ip.src) && synack_addr_get_v4(&ip.src) == v4.src &&
				    synack_addr_get_v4(&ip.dst) == v4.dst,
			    "IPv4 addresses");
		FUZZ_ASSERT(ip.proto == v4.proto && ip.fragment == (v4.mf || v4.frag_off),
			    "IPv4 protocol or fragment");
		return;
	}
	FUZZ_ASSERT(!memcmp(ip.src.b, d + 8, 16) && !memcmp(ip.dst.b, d + 24, 16), "IPv6 addresses");
	FUZZ_ASSERT(ip.proto == v6.proto && ip.fragment == v6.frag, "IPv6 protocol or fragment");
	if (ip.proto != SYNACK_PROTO_TCP || ip.fragment)
		return;
	/* An IPv4-mapped address in an IPv6 header (RFC 4291 §2.5.5.2) never reaches TCP:
	 * ip6.c drops it as a martian source or a destination that is not ours. A synack_addr
	 * carries its family, so the codec reads it as IPv4 and cannot re-emit it as IPv6. */
	if (synack_addr_is_v4(&ip.src) || synack_addr_is_v4(&ip.dst))
		return;
	struct synack_tcp_seg seg;
	if (synack_tcp_parse(pl, plen, &ip.src, &ip.dst, true, &seg) == 0) {
		check_seg_bounds(&seg, pl, plen);
		reemit6(&seg, &ip.src, &ip.dst, pl);
	}
}

static void as_tcp(const uint8_t *d, size_t n)
{
	struct synack_tcp_seg seg;
	if (synack_tcp_parse(d, n, ST_V4(SRC), ST_V4(DST), false, &seg) != 0)
		return;
	check_seg_bounds(&seg, d, n);
	reemit(&seg, SRC, DST, d, synack_tcp_csum(ST_V4(SRC), ST_V4(DST), d, n) == 0);
}

static void as_opts(const uint8_t *d, size_t n)
{
	struct synack_tcp_opts o;
	if (n > SYNACK_TCP_OPT_MAX)
		n = SYNACK_TCP_OPT_MAX;
	if (synack_tcp_opts_parse(d, n, &o) != 0)
		return;
	FUZZ_ASSERT(o.sack_count <= 4 && (!o.has_wscale || o.wscale <= 14), "bounds");
	uint8_t out[SYNACK_TCP_OPT_MAX];
	int len = synack_tcp_opts_emit(&o, false, out);
	FUZZ_ASSERT(len >= (int)n && len % 4 == 0 && len <= SYNACK_TCP_OPT_MAX, "emit %d", len);
	FUZZ_ASSERT(memcmp(out, d, n) == 0, "verbatim emit differs");
}

/* Builds options from the input, emits them structured, parses them back. */
static void as_recipe(struct fuzz_input *in)
{
	struct synack_tcp_opts o;
	memset(&o, 0, sizeof(o));
	uint8_t sel = fuzz_u8(in);
	bool syn = sel & 0x20;
	o.has_mss = sel & 1;
	o.has_wscale = sel & 2;
	o.sack_ok = sel & 4;
	o.has_ts = sel & 8;
	o.mss = fuzz_u16(in);
	o.wscale = fuzz_u8(in) % 15;
	o.ts_val = fuzz_u32(in);
	o.ts_ecr = fuzz_u32(in);
	o.sack_count = (sel >> 6) + ((sel & 0x10) ? 1 : 0);
	for (int i = 0; i < o.sack_count; i++) {
		o.sack[i].left = fuzz_u32(in);
		o.sack[i].right = fuzz_u32(in);
	}
	uint8_t out[SYNACK_TCP_OPT_MAX];
	int len = synack_tcp_opts_emit(&o, syn, out);
	FUZZ_ASSERT(len >= 0 && len <= SYNACK_TCP_OPT_MAX && len % 4 == 0, "emit %d", len);
	struct synack_tcp_opts b;
	FUZZ_ASSERT(synack_tcp_opts_parse(out, (size_t)len, &b) == 0, "own options rejected");
	FUZZ_ASSERT(b.has_ts == o.has_ts, "ts presence");
	if (o.has_ts)
		FUZZ_ASSERT(b.ts_val == o.ts_val && b.ts_ecr == o.ts_ecr, "ts values");
	if (syn) {
		FUZZ_ASSERT(b.has_mss == o.has_mss && (!o.has_mss || b.mss == o.mss), "mss");
		FUZZ_ASSERT(b.has_wscale == o.has_wscale && (!o.has_wscale || b.wscale == o.wscale),
			    "wscale");
		FUZZ_ASSERT(b.sack_ok == o.sack_ok && b.sack_count == 0, "sack-permitted");
		return;
	}
	FUZZ_ASSERT(!b.has_mss && !b.has_wscale && !b.sack_ok, "SYN-only option outside a SYN");
	unsigned want = o.sack_count > (o.has_ts ? 3u : 4u) ? (o.has_ts ? 3u : 4u) : o.sack_count;
	FUZZ_ASSERT(b.sack_count == want, "sack blocks %u != %u", b.sack_count, want);
	for (unsigned i = 0; i < want; i++)
		FUZZ_ASSERT(b.sack[i].left == o.sack[i].left && b.sack[i].right == o.sack[i].right,
			    "sack block %u", i);
}

static void checksum(const uint8_t *d, size_t n)
{
	FUZZ_ASSERT(synack_csum_fold(synack_csum_add(0, d, n)) == ref_csum(d, n), "csum");
	/* Summing in two chunks split at an even offset gives the same result. */
	size_t half = (n / 2) & ~(size_t)1;
	uint32_t s = synack_csum_add(synack_csum_add(0, d, half), d + half, n - half);
	FUZZ_ASSERT(synack_csum_fold(s) == ref_csum(d, n), "chunked csum");
	char buf[12];
	synack_tcp_flags_str(n ? d[0] : 0, buf, (n % 13));
}

int synack_fuzz_wire(const uint8_t *data, size_t len);
int synack_fuzz_wire(const uint8_t *data, size_t len)
{
	as_ipv4(data, len);
	as_ip(data, len);
	as_tcp(data, len);
	as_opts(data, len);
	struct fuzz_input in = {data, len};
	as_recipe(&in);
	checksum(data, len);
	return 0;
}

#ifndef SYNACK_FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	return synack_fuzz_wire(data, len);
}
#endif
