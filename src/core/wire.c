/* The packet codec: IPv4 headers (RFC 791 §3.1), TCP headers (RFC 9293 §3.1) and TCP options
 * (MSS: RFC 9293 §3.7.1; window scale and timestamps: RFC 7323; SACK: RFC 2018).
 *
 * Parsers validate everything the protocol code will rely on, never read outside
 * [buf, buf+len), and return a negative synack_drop_reason for malformed input. Emitters write
 * the layouts Linux writes, byte for byte, so captures of synack and of Linux compare equal. */
#include <string.h>

#include "core/bytes.h"
#include "core/wire_enc.h"
#include "synack/trace.h"
#include "synack/wire.h"

#define TCPOLEN_MSS 4
#define TCPOLEN_WSCALE 3
#define TCPOLEN_SACK_PERM 2
#define TCPOLEN_TS 10
#define TCPOLEN_SACK_BASE 2
#define TCPOLEN_SACK_BLOCK 8
/* RFC 7323 §2.3: "If a Window Scale option is received with a shift.cnt value larger than 14,
 * the TCP SHOULD log the error but MUST use 14 instead of the specified value." */
#define TCP_MAX_WSCALE 14

/* ---- IPv4 ---------------------------------------------------------------------------------- */

int synack_ipv4_parse(const uint8_t *buf, size_t len, struct synack_ipv4 *ip,
		      const uint8_t **payload, size_t *plen)
{
	if (len < SYNACK_IPV4_HDR_MIN)
		return -SYNACK_DROP_IP_TRUNCATED;
	if (buf[0] >> 4 != 4)
		return -SYNACK_DROP_IP_VERSION;
	size_t ihl = (size_t)(buf[0] & 0x0f) * 4;
	if (ihl < SYNACK_IPV4_HDR_MIN || ihl > len)
		return -SYNACK_DROP_IP_BAD_IHL;
	/* RFC 791 §3.1: "Total Length is the length of the datagram ... including internet header
	 * and data." More than the frame is a truncation; less is what every link with a minimum
	 * frame size does to a short datagram (Ethernet pads to 46 bytes of payload), so the
	 * bytes beyond it are trimmed, as Linux's ip_rcv_core does (pskb_trim_rcsum). */
	uint16_t total = get16(buf + 2);
	if (total > len || total < ihl)
		return -SYNACK_DROP_IP_BAD_TOTLEN;
	/* RFC 791 §3.1: "The checksum field is the 16 bit one's complement of the one's
	 * complement sum of all 16 bit words in the header." Summed with itself it gives zero. */
	if (synack_csum_fold(synack_csum_add(0, buf, ihl)) != 0)
		return -SYNACK_DROP_IP_BAD_CSUM;

	uint16_t frag = get16(buf + 6);
	ip->ihl = (uint8_t)ihl;
	ip->tos = buf[1];
	ip->total_len = total;
	ip->id = get16(buf + 4);
	ip->df = (frag & 0x4000) != 0;
	ip->mf = (frag & 0x2000) != 0;
	ip->frag_off = frag & 0x1fff;
	ip->ttl = buf[8];
	ip->proto = buf[9];
	ip->src = get32(buf + 12);
	ip->dst = get32(buf + 16);
	if (payload)
		*payload = buf + ihl;
	if (plen)
		*plen = total - ihl;
	return 0;
}

/* Writes a 20-byte header (no IP options); ip->ihl and ip->total_len are ignored. Returns 20,
 * or -1 when cap < 20 or the datagram would not fit the 16-bit Total Length. */
int synack_ipv4_emit(uint8_t *out, size_t cap, const struct synack_ipv4 *ip, size_t plen)
{
	if (cap < SYNACK_IPV4_HDR_MIN || plen > 0xffff - SYNACK_IPV4_HDR_MIN)
		return -1;
	uint16_t frag = (uint16_t)((ip->df ? 0x4000 : 0) | (ip->mf ? 0x2000 : 0) |
				   (ip->frag_off & 0x1fff));
	out[0] = 0x45;
	out[1] = ip->tos;
	put16(out + 2, (uint16_t)(SYNACK_IPV4_HDR_MIN + plen));
	put16(out + 4, ip->id);
	put16(out + 6, frag);
	out[8] = ip->ttl;
	out[9] = ip->proto;
	put16(out + 10, 0);
	put32(out + 12, ip->src);
	put32(out + 16, ip->dst);
	put16(out + 10, synack_csum_fold(synack_csum_add(0, out, SYNACK_IPV4_HDR_MIN)));
	return SYNACK_IPV4_HDR_MIN;
}

/* ---- TCP options --------------------------------------------------------------------------- */

/* RFC 7413 §4.1.1: "Length ... 2 (a cookie request) ... 6 to 18 (inclusive) and even": a
 * cookie of 4..16 bytes, even. Like Linux, an option of another length is ignored (not an
 * error: the SYN is then an ordinary one). */
static void opt_fastopen(const uint8_t *cookie, uint8_t n, bool exp, struct synack_tcp_opts *opts)
{
	if (n != 0 && (n < 4 || n > 16 || (n & 1)))
		return;
	opts->has_fo = true;
	opts->fo_exp = exp;
	opts->fo_len = n;
	memcpy(opts->fo_cookie, cookie, n);
}

/* Checks one option whose kind and length are known to lie inside the buffer, and records it.
 * Options of unknown kind are skipped: RFC 9293 §3.1 "a TCP implementation MUST be able to
 * receive a TCP Option in any segment" and MUST ignore options it does not implement
 * (MUST-64/MUST-68). */
static int opt_record(const uint8_t *o, uint8_t olen, struct synack_tcp_opts *opts)
{
	switch (o[0]) {
	case SYNACK_TCPOPT_MSS:
		if (olen != TCPOLEN_MSS)
			return -SYNACK_DROP_TCP_BAD_OPTION;
		opts->has_mss = true;
		opts->mss = get16(o + 2);
		return 0;
	case SYNACK_TCPOPT_WSCALE:
		if (olen != TCPOLEN_WSCALE)
			return -SYNACK_DROP_TCP_BAD_OPTION;
		opts->has_wscale = true;
		opts->wscale = o[2] > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : o[2];
		return 0;
	case SYNACK_TCPOPT_SACK_PERM:
		if (olen != TCPOLEN_SACK_PERM)
			return -SYNACK_DROP_TCP_BAD_OPTION;
		opts->sack_ok = true;
		return 0;
	case SYNACK_TCPOPT_TS:
		if (olen != TCPOLEN_TS)
			return -SYNACK_DROP_TCP_BAD_OPTION;
		opts->has_ts = true;
		opts->ts_val = get32(o + 2);
		opts->ts_ecr = get32(o + 6);
		return 0;
	case SYNACK_TCPOPT_SACK: {
		/* RFC 2018 §3: "Length: Variable", 8*n+2 bytes for n blocks; at least one block
		 * (an empty SACK option reports nothing), at most four in 40 bytes. */
		size_t n = (size_t)(olen - TCPOLEN_SACK_BASE) / TCPOLEN_SACK_BLOCK;
		if (olen < TCPOLEN_SACK_BASE + TCPOLEN_SACK_BLOCK ||
		    (olen - TCPOLEN_SACK_BASE) % TCPOLEN_SACK_BLOCK != 0)
			return -SYNACK_DROP_TCP_BAD_OPTION;
		for (size_t i = 0; i < n; i++) {
			opts->sack[i].left = get32(o + 2 + 8 * i);
			opts->sack[i].right = get32(o + 6 + 8 * i);
		}
		opts->sack_count = (uint8_t)n;
		return 0;
	}
	case SYNACK_TCPOPT_FASTOPEN:
		opt_fastopen(o + 2, (uint8_t)(olen - 2), false, opts);
		return 0;
	case SYNACK_TCPOPT_EXP:
		if (olen >= 4 && get16(o + 2) == SYNACK_TCPOPT_FASTOPEN_MAGIC)
			opt_fastopen(o + 4, (uint8_t)(olen - 4), true, opts);
		return 0;
	default:
		return 0;
	}
}

/* RFC 9293 §3.1: an option is either a single octet of option-kind (EOL, NOP) or an
 * option-kind octet, an option-length octet (counting kind and length) and option-data. */
int synack_tcp_opts_parse(const uint8_t *buf, size_t len, struct synack_tcp_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	if (len > SYNACK_TCP_OPT_MAX)
		return -SYNACK_DROP_TCP_BAD_OPTION;
	memcpy(opts->raw, buf, len);
	opts->raw_len = (uint8_t)len;

	size_t i = 0;
	while (i < len) {
		uint8_t kind = buf[i];
		if (kind == SYNACK_TCPOPT_EOL)
			break; /* "End of Option List": the rest is padding */
		if (kind == SYNACK_TCPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= len)
			return -SYNACK_DROP_TCP_BAD_OPTION; /* no room for the length octet */
		uint8_t olen = buf[i + 1];
		if (olen < 2 || olen > len - i)
			return -SYNACK_DROP_TCP_BAD_OPTION;
		int rc = opt_record(buf + i, olen, opts);
		if (rc < 0)
			return rc;
		i += olen;
	}
	return 0;
}

static uint8_t *emit_nop_nop(uint8_t *p)
{
	p[0] = SYNACK_TCPOPT_NOP;
	p[1] = SYNACK_TCPOPT_NOP;
	return p + 2;
}

static uint8_t *emit_ts_body(uint8_t *p, const struct synack_tcp_opts *opts)
{
	p[0] = SYNACK_TCPOPT_TS;
	p[1] = TCPOLEN_TS;
	put32(p + 2, opts->ts_val);
	put32(p + 6, opts->ts_ecr);
	return p + TCPOLEN_TS;
}

/* Fast Open last, as Linux writes it: kind 34 (or 254 + magic), the cookie, then NOP NOP when
 * the option's length leaves the word two bytes short. */
static uint8_t *emit_fastopen(uint8_t *p, const struct synack_tcp_opts *opts)
{
	if (!opts->has_fo)
		return p;
	size_t len;
	if (opts->fo_exp) {
		len = 4u + opts->fo_len;
		p[0] = SYNACK_TCPOPT_EXP;
		p[1] = (uint8_t)len;
		put16(p + 2, SYNACK_TCPOPT_FASTOPEN_MAGIC);
		memcpy(p + 4, opts->fo_cookie, opts->fo_len);
	} else {
		len = 2u + opts->fo_len;
		p[0] = SYNACK_TCPOPT_FASTOPEN;
		p[1] = (uint8_t)len;
		memcpy(p + 2, opts->fo_cookie, opts->fo_len);
	}
	p += len;
	if ((len & 3) == 2)
		p = emit_nop_nop(p);
	return p;
}

/* Linux's SYN layout (tcp_options_write): MSS; then SACK-permitted folded into the two bytes
 * before the timestamp, or NOP NOP TS, or NOP NOP SACK-permitted; then NOP WS. */
static uint8_t *emit_syn_opts(uint8_t *p, const struct synack_tcp_opts *opts)
{
	if (opts->has_mss) {
		p[0] = SYNACK_TCPOPT_MSS;
		p[1] = TCPOLEN_MSS;
		put16(p + 2, opts->mss);
		p += TCPOLEN_MSS;
	}
	if (opts->has_ts) {
		if (opts->sack_ok) {
			p[0] = SYNACK_TCPOPT_SACK_PERM;
			p[1] = TCPOLEN_SACK_PERM;
			p += 2;
		} else {
			p = emit_nop_nop(p);
		}
		p = emit_ts_body(p, opts);
	} else if (opts->sack_ok) {
		p = emit_nop_nop(p);
		p[0] = SYNACK_TCPOPT_SACK_PERM;
		p[1] = TCPOLEN_SACK_PERM;
		p += 2;
	}
	if (opts->has_wscale) {
		p[0] = SYNACK_TCPOPT_NOP;
		p[1] = SYNACK_TCPOPT_WSCALE;
		p[2] = TCPOLEN_WSCALE;
		p[3] = opts->wscale;
		p += 4;
	}
	return emit_fastopen(p, opts);
}

/* Other segments: NOP NOP TS, then NOP NOP SACK with as many blocks as fit (3 after a
 * timestamp, 4 without). MSS, WS and SACK-permitted belong to SYNs only (RFC 9293 §3.7.1,
 * RFC 7323 §2.2, RFC 2018 §2) and are not emitted here. */
static uint8_t *emit_data_opts(uint8_t *p, const struct synack_tcp_opts *opts)
{
	if (opts->has_ts)
		p = emit_ts_body(emit_nop_nop(p), opts);
	size_t n = opts->sack_count;
	size_t max = opts->has_ts ? 3 : 4;
	if (n > max)
		n = max;
	if (n == 0)
		return p;
	p = emit_nop_nop(p);
	p[0] = SYNACK_TCPOPT_SACK;
	p[1] = (uint8_t)(TCPOLEN_SACK_BASE + TCPOLEN_SACK_BLOCK * n);
	p += 2;
	for (size_t i = 0; i < n; i++) {
		put32(p, opts->sack[i].left);
		put32(p + 4, opts->sack[i].right);
		p += TCPOLEN_SACK_BLOCK;
	}
	return p;
}

int synack_tcp_opts_emit(const struct synack_tcp_opts *opts, bool syn, uint8_t *out)
{
	if (opts->raw_len > 0) {
		if (opts->raw_len > SYNACK_TCP_OPT_MAX)
			return -1;
		size_t n = opts->raw_len;
		memcpy(out, opts->raw, n);
		/* Pad with EOL (zero) to the 32-bit boundary the data offset counts in. */
		while (n % 4 != 0)
			out[n++] = SYNACK_TCPOPT_EOL;
		return (int)n;
	}
	uint8_t *end = syn ? emit_syn_opts(out, opts) : emit_data_opts(out, opts);
	return (int)(end - out);
}

/* ---- TCP segments -------------------------------------------------------------------------- */

int synack_tcp_parse(const uint8_t *buf, size_t len, const struct synack_addr *src,
		     const struct synack_addr *dst, bool verify_csum, struct synack_tcp_seg *seg)
{
	if (len < SYNACK_TCP_HDR_MIN)
		return -SYNACK_DROP_TCP_TRUNCATED;
	/* RFC 9293 §3.1: "Data Offset: 4 bits. The number of 32-bit words in the TCP header." */
	size_t doff = (size_t)(buf[12] >> 4) * 4;
	if (doff < SYNACK_TCP_HDR_MIN || doff > len)
		return -SYNACK_DROP_TCP_BAD_DOFF;
	/* MUST-2/MUST-3: the checksum is generated and checked on every segment. */
	if (verify_csum && synack_tcp_csum(src, dst, buf, len) != 0)
		return -SYNACK_DROP_TCP_BAD_CSUM;
	int rc = synack_tcp_opts_parse(buf + SYNACK_TCP_HDR_MIN, doff - SYNACK_TCP_HDR_MIN,
				       &seg->opts);
	if (rc < 0)
		return rc;
	seg->sport = get16(buf);
	seg->dport = get16(buf + 2);
	seg->seq = get32(buf + 4);
	seg->ack = get32(buf + 8);
	seg->doff = (uint8_t)doff;
	seg->flags = buf[13];
	seg->win = get16(buf + 14);
	seg->urp = get16(buf + 18);
	seg->payload = buf + doff;
	seg->len = len - doff;
	return 0;
}

int synack_tcp_encode(uint8_t *out, size_t cap, const struct synack_addr *src,
		      const struct synack_addr *dst, const struct synack_tcp_seg *seg)
{
	return tcp_encode(out, cap, src, dst, seg, true);
}

int tcp_encode(uint8_t *out, size_t cap, const struct synack_addr *src,
	       const struct synack_addr *dst, const struct synack_tcp_seg *seg, bool csum)
{
	uint8_t opts[SYNACK_TCP_OPT_MAX];
	int olen = synack_tcp_opts_emit(&seg->opts, (seg->flags & SYNACK_TH_SYN) != 0, opts);
	if (olen < 0)
		return -1;
	size_t doff = SYNACK_TCP_HDR_MIN + (size_t)olen;
	size_t tcplen = doff + seg->len;
	if (tcplen > 0xffff || cap < tcplen)
		return -1;

	uint8_t *t = out;
	put16(t, seg->sport);
	put16(t + 2, seg->dport);
	put32(t + 4, seg->seq);
	put32(t + 8, seg->ack);
	t[12] = (uint8_t)(doff / 4 << 4);
	t[13] = seg->flags;
	put16(t + 14, seg->win);
	put16(t + 16, 0);
	put16(t + 18, seg->urp);
	memcpy(t + SYNACK_TCP_HDR_MIN, opts, (size_t)olen);
	if (seg->len > 0)
		memcpy(t + doff, seg->payload, seg->len);
	if (csum)
		put16(t + 16, synack_tcp_csum(src, dst, t, tcplen));
	return (int)tcplen;
}

int synack_tcp_emit(uint8_t *out, size_t cap, const struct synack_addr *src,
		    const struct synack_addr *dst, uint16_t ip_id, const struct synack_tcp_seg *seg)
{
	if (synack_addr_is_v4(src) != synack_addr_is_v4(dst))
		return -1; /* no packet carries one address of each family */
	if (!synack_addr_is_v4(src)) {
		if (cap < SYNACK_IPV6_HDR_LEN)
			return -1;
		int n = synack_tcp_encode(out + SYNACK_IPV6_HDR_LEN, cap - SYNACK_IPV6_HDR_LEN, src,
					  dst, seg);
		struct synack_ipv6 ip6 = {.next = SYNACK_PROTO_TCP, .hop_limit = 64, .src = *src,
					  .dst = *dst};
		if (n < 0 || synack_ipv6_emit(out, cap, &ip6, (size_t)n) < 0)
			return -1;
		return SYNACK_IPV6_HDR_LEN + n;
	}
	if (cap < SYNACK_IPV4_HDR_MIN)
		return -1;
	int tcplen = synack_tcp_encode(out + SYNACK_IPV4_HDR_MIN, cap - SYNACK_IPV4_HDR_MIN, src,
				       dst, seg);
	if (tcplen < 0 || tcplen > 0xffff - SYNACK_IPV4_HDR_MIN)
		return -1;
	struct synack_ipv4 ip = {
		.df = true,
		.ttl = 64,
		.proto = SYNACK_PROTO_TCP,
		.id = ip_id,
		.src = synack_addr_get_v4(src),
		.dst = synack_addr_get_v4(dst),
	};
	synack_ipv4_emit(out, cap, &ip, (size_t)tcplen);
	return SYNACK_IPV4_HDR_MIN + tcplen;
}

/* tcpdump's notation (print-tcp.c): one letter per flag in the order F S R P, then "." for
 * ACK, then U E W; "none" when no flag is set. */
const char *synack_tcp_flags_str(uint8_t flags, char *buf, size_t cap)
{
	static const struct {
		uint8_t bit;
		char c;
	} order[] = {
		{SYNACK_TH_FIN, 'F'}, {SYNACK_TH_SYN, 'S'}, {SYNACK_TH_RST, 'R'},
		{SYNACK_TH_PSH, 'P'}, {SYNACK_TH_ACK, '.'}, {SYNACK_TH_URG, 'U'},
		{SYNACK_TH_ECE, 'E'}, {SYNACK_TH_CWR, 'W'},
	};
	if (cap == 0)
		return buf;
	size_t n = 0;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]) && n + 1 < cap; i++)
		if (flags & order[i].bit)
			buf[n++] = order[i].c;
	buf[n] = '\0';
	if (flags == 0 && cap >= 5)
		memcpy(buf, "none", 5);
	return buf;
}
