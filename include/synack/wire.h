/* synack — the packet codec: IPv4 (RFC 791) and TCP (RFC 9293 §3.1) headers, TCP options
 * (MSS, window scale and timestamps of RFC 7323, SACK of RFC 2018, NOP, EOL) and the Internet
 * checksum (RFC 1071) with the TCP pseudo-header.
 *
 * Parse once into plain validated structs; protocol code never reads raw header bytes. Emit is
 * the inverse. Parsers never read outside [buf, buf+len) and return a negative
 * synack_drop_reason (see trace.h) for malformed input.
 */
#ifndef SYNACK_WIRE_H
#define SYNACK_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default) /* the library exports what this header declares */

#define SYNACK_IPPROTO_ICMP 1
#define SYNACK_PROTO_TCP 6
#define SYNACK_IPV4_HDR_MIN 20
#define SYNACK_TCP_HDR_MIN 20
#define SYNACK_IPV6_HDR_LEN 40
/* IPv6 Next Header values (RFC 8200 §4, IANA): extension headers and ICMPv6. */
#define SYNACK_IPPROTO_HOPOPTS 0
#define SYNACK_IPPROTO_ROUTING 43
#define SYNACK_IPPROTO_FRAGMENT 44
#define SYNACK_IPPROTO_ICMPV6 58
#define SYNACK_IPPROTO_NONE 59
#define SYNACK_IPPROTO_DSTOPTS 60
#define SYNACK_TCP_OPT_MAX 40

/* TCP flags, as in the header byte. */
#define SYNACK_TH_FIN 0x01
#define SYNACK_TH_SYN 0x02
#define SYNACK_TH_RST 0x04
#define SYNACK_TH_PSH 0x08
#define SYNACK_TH_ACK 0x10
#define SYNACK_TH_URG 0x20
#define SYNACK_TH_ECE 0x40
#define SYNACK_TH_CWR 0x80

/* TCP option kinds. */
#define SYNACK_TCPOPT_EOL 0
#define SYNACK_TCPOPT_NOP 1
#define SYNACK_TCPOPT_MSS 2
#define SYNACK_TCPOPT_WSCALE 3
#define SYNACK_TCPOPT_SACK_PERM 4
#define SYNACK_TCPOPT_SACK 5
#define SYNACK_TCPOPT_TS 8
#define SYNACK_TCPOPT_FASTOPEN 34 /* RFC 7413 §4.1.1 */
#define SYNACK_TCPOPT_EXP 254     /* RFC 6994 experimental; TFO's magic 0xF989 */
#define SYNACK_TCPOPT_FASTOPEN_MAGIC 0xF989

struct synack_ipv4 {
	uint8_t ihl;        /* header length in bytes */
	uint8_t tos;
	uint16_t total_len;
	uint16_t id;
	bool df, mf;
	uint16_t frag_off;  /* in 8-byte units */
	uint8_t ttl;
	uint8_t proto;
	uint32_t src, dst;  /* host byte order */
};

/* An IPv6 packet (RFC 8200 §3) and what the walk over its extension headers (§4) found. */
struct synack_ipv6 {
	uint8_t tclass;
	uint32_t flow;        /* the 20-bit flow label */
	uint16_t payload_len; /* as in the header: extension headers + upper layer */
	uint8_t next;         /* the fixed header's Next Header */
	uint8_t hop_limit;
	struct synack_addr src, dst;
	/* Filled by synack_ipv6_parse's walk: */
	uint8_t proto;        /* the upper-layer protocol (or the Next Header after a fragment) */
	uint16_t proto_at;    /* offset of the Next Header field that named proto */
	uint16_t hdr_len;     /* fixed + extension headers: the upper layer starts here */
	bool frag;            /* a Fragment header other than an atomic one (RFC 6946) */
	bool mf;
	uint16_t frag_off;    /* in 8-byte units */
	uint32_t frag_id;
	uint16_t frag_at;     /* offset of the Fragment header */
	uint16_t frag_nh_at;  /* offset of the Next Header field that named it */
	/* When the walk fails with a reason that RFC 8200 answers with a Parameter Problem
	 * (RFC 4443 §3.4): send it with this code, pointing at this offset. */
	bool pp_send;
	uint8_t pp_code;
	uint32_t pp_ptr;
};

struct synack_sack_block {
	uint32_t left, right;
};

/* Parsed TCP options. `raw`/`raw_len` keep the option bytes as they were on the wire, so a
 * test can check their order exactly. */
struct synack_tcp_opts {
	bool has_mss, has_wscale, sack_ok, has_ts;
	uint16_t mss;
	uint8_t wscale;
	uint32_t ts_val, ts_ecr;
	uint8_t sack_count;
	struct synack_sack_block sack[4];
	/* TCP Fast Open (RFC 7413 §4.1.1): kind 34, or the experimental kind 254 with magic
	 * 0xF989 (fo_exp); fo_len 0 is a cookie request, else a cookie of 4..16 bytes. */
	bool has_fo, fo_exp;
	uint8_t fo_len;
	uint8_t fo_cookie[16];
	uint8_t raw_len;
	uint8_t raw[SYNACK_TCP_OPT_MAX];
};

struct synack_tcp_seg {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t doff;       /* header length in bytes */
	uint8_t flags;      /* SYNACK_TH_* */
	uint16_t win;       /* raw header field, unscaled */
	uint16_t urp;
	struct synack_tcp_opts opts;
	const uint8_t *payload; /* points into the parsed buffer */
	size_t len;             /* payload length */
};

/* What to put in a TCP header's options when emitting (in this order, Linux's layout:
 * SYN: MSS, SACK-permitted+TS (or NOP NOP TS / NOP NOP SACK-perm), NOP WS; other segments:
 * NOP NOP TS, then NOP NOP SACK blocks). Set raw_len > 0 to emit `raw` verbatim instead. */

/* Internet checksum helpers (RFC 1071). */
uint32_t synack_csum_add(uint32_t sum, const void *data, size_t len);
uint16_t synack_csum_fold(uint32_t sum);
/* Checksum of a TCP segment (header+payload, checksum field included as it is) with the
 * pseudo-header of the addresses' family: IPv4's (RFC 9293 §3.1) when both are IPv4, IPv6's
 * (RFC 8200 §8.1) otherwise; 0 when a received segment is valid. */
uint16_t synack_tcp_csum(const struct synack_addr *src, const struct synack_addr *dst,
			 const uint8_t *tcp, size_t len);
/* The pseudo-header's sum alone for a TCP segment of len bytes, folded, not complemented: the
 * checksum field of a segment whose checksum is left to offload (frame.h). */
uint16_t synack_tcp_pseudo_csum(const struct synack_addr *src, const struct synack_addr *dst,
				size_t len);

/* Parses an IPv4 header. On success returns 0, fills *ip and sets *payload and *plen to the
 * transport bytes (total_len bounds them: link padding after the datagram is trimmed). Errors (negative synack_drop_reason):
 * IP_TRUNCATED, IP_VERSION, IP_BAD_IHL, IP_BAD_TOTLEN, IP_BAD_CSUM. Fragments are not an
 * error here (ip->mf / ip->frag_off tell). */
int synack_ipv4_parse(const uint8_t *buf, size_t len, struct synack_ipv4 *ip,
		      const uint8_t **payload, size_t *plen);
/* Parses an IPv6 packet: the fixed header (version, payload length against the buffer: bytes
 * beyond it are link padding and are trimmed, fewer are IP_BAD_TOTLEN) and every extension
 * header up to the upper layer (hop-by-hop first only, destination options, routing,
 * fragment), whose options are checked by their action bits (RFC 8200 §4.2). On success
 * returns 0, fills *ip and sets *payload and *plen to the bytes after ip->hdr_len. Errors
 * (negative synack_drop_reason): IP_TRUNCATED, IP_VERSION, IP_BAD_TOTLEN (also a jumbogram,
 * payload length 0), IP6_BAD_EXTHDR, IP6_RH0 (a type 0 routing header with segments left,
 * RFC 5095), IP6_UNKNOWN_OPTION; ip->pp_* say whether to answer with a Parameter Problem. */
int synack_ipv6_parse(const uint8_t *buf, size_t len, struct synack_ipv6 *ip,
		      const uint8_t **payload, size_t *plen);
/* Either family's header, for code that reads whole packets whatever their version (a
 * capture reader, the fault link's trace, the ladder): the version nibble picks
 * synack_ipv4_parse() or synack_ipv6_parse(), and the fields every such reader needs are
 * lifted out; v4 or v6 (by family) holds the rest. */
struct synack_ip_hdr {
	int family;                  /* SYNACK_AF_INET or SYNACK_AF_INET6 */
	struct synack_addr src, dst; /* IPv4 as ::ffff:a.b.c.d */
	uint8_t proto;               /* the upper layer (IPv6: after the extension headers) */
	bool fragment;               /* a piece of a fragmented datagram (an IPv6 atomic
				      * fragment, RFC 6946, is whole and is not one) */
	struct synack_ipv4 v4;
	struct synack_ipv6 v6;
};
/* Parses an IPv4 or IPv6 packet by its version nibble. On success returns 0, fills *ip and
 * sets *payload and *plen to the upper layer's bytes (a fragment's data when ip->fragment).
 * Errors (negative synack_drop_reason): IP_TRUNCATED (an empty buffer), IP_VERSION (neither
 * 4 nor 6), and those of synack_ipv4_parse() or synack_ipv6_parse(). */
int synack_ip_parse(const uint8_t *buf, size_t len, struct synack_ip_hdr *ip,
		    const uint8_t **payload, size_t *plen);
/* Writes the 40-byte fixed header for a payload of plen bytes with Next Header ip->next
 * (tclass, flow, hop_limit, src, dst from ip). Returns 40, or -1 when cap < 40 or plen >
 * 65535. */
int synack_ipv6_emit(uint8_t *out, size_t cap, const struct synack_ipv6 *ip, size_t plen);

/* Parses a TCP segment carried between src and dst. verify_csum=false skips the checksum.
 * Errors: TCP_TRUNCATED, TCP_BAD_DOFF, TCP_BAD_CSUM, TCP_BAD_OPTION. */
int synack_tcp_parse(const uint8_t *buf, size_t len, const struct synack_addr *src,
		     const struct synack_addr *dst, bool verify_csum, struct synack_tcp_seg *seg);
/* Parses just the option bytes (used by the parser and by tests). Errors: TCP_BAD_OPTION. */
int synack_tcp_opts_parse(const uint8_t *buf, size_t len, struct synack_tcp_opts *opts);
/* Encodes options from the has_* fields (Linux order, see above; sack blocks as given) or
 * `raw` when raw_len > 0. Returns the padded length (multiple of 4), or -1 if > 40. */
int synack_tcp_opts_emit(const struct synack_tcp_opts *opts, bool syn, uint8_t *out);

/* The TCP encoder: writes the TCP header, options and payload of seg (no IP header) into out
 * (cap bytes), the checksum over the pseudo-header of src and dst's family. seg->doff is
 * computed; seg->payload/len are copied. Returns the segment length, or -1 if cap is too
 * small or the segment longer than 65535 bytes. The IP layer prepends its header. */
int synack_tcp_encode(uint8_t *out, size_t cap, const struct synack_addr *src,
		      const struct synack_addr *dst, const struct synack_tcp_seg *seg);
/* A whole packet for tests and tools that build them: an IPv4 header (DF set, TTL 64,
 * checksum filled) when both addresses are IPv4, else an IPv6 header (hop limit 64, flow
 * label 0, ip_id unused), and synack_tcp_encode()'s segment. Returns the packet length, or -1
 * for what it cannot build: cap too small, a packet or payload over 65535 bytes. */
int synack_tcp_emit(uint8_t *out, size_t cap, const struct synack_addr *src,
		    const struct synack_addr *dst, uint16_t ip_id,
		    const struct synack_tcp_seg *seg);
/* Writes an IPv4 header for a payload of plen bytes (checksum filled); returns 20. */
int synack_ipv4_emit(uint8_t *out, size_t cap, const struct synack_ipv4 *ip, size_t plen);

/* tcpdump's flag notation: "S", "S.", ".", "P.", "F.", "R", "R.", "FP.", ... (buf >= 12). */
const char *synack_tcp_flags_str(uint8_t flags, char *buf, size_t cap);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
