/* synack drill — packets: building inbound frames and matching outbound ones.
 *
 * Sequence numbers as packetdrill maps them. The script plays the remote end: its own sequence
 * numbers go on the wire as written (its ISN is its first SYN's seq), while every number in
 * synack's space — the seq of an outbound packet, the ack of an inbound one, inbound SACK
 * blocks — is written relative to synack's ISN, which the runner learns from synack's first
 * SYN or SYN-ACK on each connection. So synack's ISN always reads as 0.
 *
 * Matching (RFC 9293 §3.1 header fields): flags exactly; seq, payload length, ack, window and
 * urgent pointer when written; options when written, in order (`<...>` checks none). The TS
 * val synack sends is not checked (as in packetdrill by default); its ecr is.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drill/runner.h"
#include "synack/trace.h"
#include "synack/wire.h"

#define OPT_UNKNOWN 99

struct drill_conn *drill_conn_for_port(struct drill_run *r, int port, bool create)
{
	if (port == 0 && r->def_conn >= 0)
		return &r->conns[r->def_conn];
	uint16_t rport = port ? (uint16_t)port : r->cfg.remote_port;
	for (size_t i = 0; i < r->nconns; i++)
		if (r->conns[i].rport == rport) {
			if (port == 0)
				r->def_conn = (int)i;
			return &r->conns[i];
		}
	if (!create || r->nconns == sizeof r->conns / sizeof r->conns[0])
		return NULL;
	struct drill_conn *c = &r->conns[r->nconns];
	memset(c, 0, sizeof *c);
	c->rport = rport;
	c->lport = r->cfg.bind_port;
	c->lport_known = true;
	if (port == 0)
		r->def_conn = (int)r->nconns;
	r->nconns++;
	return c;
}

static struct drill_conn *conn_by_rport(struct drill_run *r, uint16_t rport)
{
	for (size_t i = 0; i < r->nconns; i++)
		if (r->conns[i].rport == rport)
			return &r->conns[i];
	return NULL;
}

static uint32_t isn_of(const struct drill_conn *c)
{
	return c && c->isn_known ? c->local_isn : 0;
}

/* ---- option bytes ---- */

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Encodes the script's options in the order written, padded with zeros (EOL) to 32 bits.
 * Returns the length, or -1 if they do not fit in 40 bytes. */
/* An inbound ecr as packetdrill maps it: a TS val the script wrote on an outbound packet
 * becomes the val synack really sent (the latest mapping of it); any other value goes as
 * written. */
static uint32_t ts_ecr_live(const struct drill_conn *c, uint32_t ecr)
{
	unsigned n = c->ts_n < DRILL_TS_MAP ? c->ts_n : DRILL_TS_MAP;
	for (unsigned k = 0; k < n; k++) {
		unsigned i = (c->ts_n - 1 - k) % DRILL_TS_MAP;
		if (c->ts_script[i] == ecr)
			return c->ts_live[i];
	}
	return ecr;
}

static void ts_map_add(struct drill_conn *c, uint32_t script, uint32_t live)
{
	unsigned i = c->ts_n % DRILL_TS_MAP;
	c->ts_script[i] = script;
	c->ts_live[i] = live;
	c->ts_n++;
}

static int encode_opts(const struct drill_packet *pk, const struct drill_conn *c,
		       uint32_t isn, uint8_t *out)
{
	uint8_t b[64];
	int n = 0;
	for (int i = 0; i < pk->nopts && n < 44; i++) {
		const struct drill_opt *o = &pk->opts[i];
		switch (o->kind) {
		case DRILL_OPT_EOL: b[n++] = SYNACK_TCPOPT_EOL; break;
		case DRILL_OPT_NOP: b[n++] = SYNACK_TCPOPT_NOP; break;
		case DRILL_OPT_MSS:
			b[n++] = SYNACK_TCPOPT_MSS;
			b[n++] = 4;
			b[n++] = (uint8_t)(o->a >> 8);
			b[n++] = (uint8_t)o->a;
			break;
		case DRILL_OPT_WSCALE:
			b[n++] = SYNACK_TCPOPT_WSCALE;
			b[n++] = 3;
			b[n++] = (uint8_t)o->a;
			break;
		case DRILL_OPT_SACKOK:
			b[n++] = SYNACK_TCPOPT_SACK_PERM;
			b[n++] = 2;
			break;
		case DRILL_OPT_SACK:
			b[n++] = SYNACK_TCPOPT_SACK;
			b[n++] = (uint8_t)(2 + 8 * o->nblocks);
			for (int k = 0; k < o->nblocks && n < 56; k++) {
				put32(b + n, o->blocks[k][0] + isn);
				put32(b + n + 4, o->blocks[k][1] + isn);
				n += 8;
			}
			break;
		case DRILL_OPT_TS:
			b[n++] = SYNACK_TCPOPT_TS;
			b[n++] = 10;
			put32(b + n, o->a);
			put32(b + n + 4, (pk->flags & SYNACK_TH_ACK) ? ts_ecr_live(c, o->b) : o->b);
			n += 8;
			break;
		case DRILL_OPT_FO:
			b[n++] = SYNACK_TCPOPT_FASTOPEN;
			b[n++] = (uint8_t)(2 + o->a);
			memcpy(b + n, o->cookie, o->a);
			n += (int)o->a;
			break;
		case DRILL_OPT_FOEXP:
			b[n++] = SYNACK_TCPOPT_EXP;
			b[n++] = (uint8_t)(4 + o->a);
			b[n++] = SYNACK_TCPOPT_FASTOPEN_MAGIC >> 8;
			b[n++] = SYNACK_TCPOPT_FASTOPEN_MAGIC & 0xff;
			memcpy(b + n, o->cookie, o->a);
			n += (int)o->a;
			break;
		}
	}
	while (n % 4)
		b[n++] = SYNACK_TCPOPT_EOL;
	if (n > SYNACK_TCP_OPT_MAX)
		return -1;
	memcpy(out, b, (size_t)n);
	return n;
}

/* Reads option bytes as they were sent into script options (raw kinds kept for unknowns).
 * SACK blocks are taken relative to `isn`. Stops after EOL. */
static int decode_opts(const uint8_t *p, size_t len, uint32_t isn, struct drill_opt *o, int max)
{
	int n = 0;
	size_t i = 0;
	while (i < len && n < max) {
		struct drill_opt *x = &o[n++];
		memset(x, 0, sizeof *x);
		if (p[i] == SYNACK_TCPOPT_EOL) {
			x->kind = DRILL_OPT_EOL;
			break;
		}
		if (p[i] == SYNACK_TCPOPT_NOP) {
			x->kind = DRILL_OPT_NOP;
			i++;
			continue;
		}
		size_t ol = i + 1 < len ? p[i + 1] : 0;
		if (ol < 2 || i + ol > len) {
			x->kind = OPT_UNKNOWN;
			x->a = p[i];
			break;
		}
		switch (p[i]) {
		case SYNACK_TCPOPT_MSS:
			x->kind = DRILL_OPT_MSS;
			x->a = ol == 4 ? (uint32_t)(p[i + 2] << 8 | p[i + 3]) : 0;
			break;
		case SYNACK_TCPOPT_WSCALE:
			x->kind = DRILL_OPT_WSCALE;
			x->a = ol == 3 ? p[i + 2] : 0;
			break;
		case SYNACK_TCPOPT_SACK_PERM: x->kind = DRILL_OPT_SACKOK; break;
		case SYNACK_TCPOPT_SACK:
			x->kind = DRILL_OPT_SACK;
			for (size_t k = 2; k + 8 <= ol && x->nblocks < 4; k += 8) {
				x->blocks[x->nblocks][0] = get32(p + i + k) - isn;
				x->blocks[x->nblocks][1] = get32(p + i + k + 4) - isn;
				x->nblocks++;
			}
			break;
		case SYNACK_TCPOPT_TS:
			x->kind = DRILL_OPT_TS;
			if (ol == 10) {
				x->a = get32(p + i + 2);
				x->b = get32(p + i + 6);
			}
			break;
		case SYNACK_TCPOPT_FASTOPEN:
			x->kind = ol <= 18 ? DRILL_OPT_FO : OPT_UNKNOWN;
			x->a = ol <= 18 ? (uint32_t)(ol - 2) : p[i];
			if (ol <= 18)
				memcpy(x->cookie, p + i + 2, ol - 2);
			break;
		case SYNACK_TCPOPT_EXP:
			if (ol >= 4 && ol <= 20 && p[i + 2] == 0xF9 && p[i + 3] == 0x89) {
				x->kind = DRILL_OPT_FOEXP;
				x->a = (uint32_t)(ol - 4);
				memcpy(x->cookie, p + i + 4, ol - 4);
			} else {
				x->kind = OPT_UNKNOWN;
				x->a = p[i];
			}
			break;
		default:
			x->kind = OPT_UNKNOWN;
			x->a = p[i];
		}
		i += ol;
	}
	return n;
}

static void format_opts(const struct drill_opt *o, int n, char *out, size_t cap)
{
	size_t k = 0;
	out[0] = '\0';
	for (int i = 0; i < n && k < cap; i++) {
		const char *sep = i ? "," : "";
		switch (o[i].kind) {
		case DRILL_OPT_EOL: k += (size_t)snprintf(out + k, cap - k, "%seol", sep); break;
		case DRILL_OPT_NOP: k += (size_t)snprintf(out + k, cap - k, "%snop", sep); break;
		case DRILL_OPT_MSS:
			k += (size_t)snprintf(out + k, cap - k, "%smss %u", sep, o[i].a);
			break;
		case DRILL_OPT_WSCALE:
			k += (size_t)snprintf(out + k, cap - k, "%swscale %u", sep, o[i].a);
			break;
		case DRILL_OPT_SACKOK:
			k += (size_t)snprintf(out + k, cap - k, "%ssackOK", sep);
			break;
		case DRILL_OPT_SACK:
			k += (size_t)snprintf(out + k, cap - k, "%ssack", sep);
			for (int b = 0; b < o[i].nblocks && k < cap; b++)
				k += (size_t)snprintf(out + k, cap - k, " %u:%u", o[i].blocks[b][0],
						      o[i].blocks[b][1]);
			break;
		case DRILL_OPT_TS:
			k += (size_t)snprintf(out + k, cap - k, "%sTS val %u ecr %u", sep, o[i].a,
					      o[i].b);
			break;
		case DRILL_OPT_FO:
		case DRILL_OPT_FOEXP:
			k += (size_t)snprintf(out + k, cap - k, "%s%s%s", sep,
					      o[i].kind == DRILL_OPT_FO ? "FO" : "FOEXP",
					      o[i].a ? " " : "");
			for (uint32_t b = 0; b < o[i].a && k < cap; b++)
				k += (size_t)snprintf(out + k, cap - k, "%02x", o[i].cookie[b]);
			break;
		default:
			k += (size_t)snprintf(out + k, cap - k, "%s<kind %u>", sep, o[i].a);
		}
	}
}

static void format_flags(uint8_t f, char *out)
{
	static const struct { uint8_t bit; char c; } order[] = {
		{SYNACK_TH_FIN, 'F'}, {SYNACK_TH_SYN, 'S'}, {SYNACK_TH_RST, 'R'},
		{SYNACK_TH_PSH, 'P'}, {SYNACK_TH_URG, 'U'}, {SYNACK_TH_ECE, 'E'},
		{SYNACK_TH_CWR, 'W'}, {SYNACK_TH_ACK, '.'}};
	int n = 0;
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
		if (f & order[i].bit)
			out[n++] = order[i].c;
	if (n == 0)
		out[n++] = '-';
	out[n] = '\0';
}

/* ---- parsing frames ---- */

struct parsed {
	struct synack_addr src, dst;
	uint8_t tos, ttl; /* IPv6: traffic class and hop limit */
	bool df;          /* IPv6: always (routers never fragment, RFC 8200 §5) */
	struct synack_tcp_seg seg;
};

static int parse_frame(const uint8_t *frame, size_t len, struct parsed *p, const char **why)
{
	const uint8_t *l4;
	size_t l4len;
	uint8_t proto;
	int rc;
	if (len > 0 && frame[0] >> 4 == 6) {
		struct synack_ipv6 ip6;
		rc = synack_ipv6_parse(frame, len, &ip6, &l4, &l4len);
		p->src = ip6.src;
		p->dst = ip6.dst;
		p->tos = ip6.tclass;
		p->ttl = ip6.hop_limit;
		p->df = true;
		proto = ip6.proto;
	} else {
		struct synack_ipv4 ip;
		rc = synack_ipv4_parse(frame, len, &ip, &l4, &l4len);
		p->src = synack_addr_v4(ip.src);
		p->dst = synack_addr_v4(ip.dst);
		p->tos = ip.tos;
		p->ttl = ip.ttl;
		p->df = ip.df;
		proto = ip.proto;
	}
	if (rc < 0) {
		*why = synack_drop_reason_name((enum synack_drop_reason)-rc);
		return -1;
	}
	if (proto != SYNACK_PROTO_TCP) {
		*why = "not a TCP packet";
		return -1;
	}
	rc = synack_tcp_parse(l4, l4len, &p->src, &p->dst, true, &p->seg);
	if (rc < 0) {
		*why = synack_drop_reason_name((enum synack_drop_reason)-rc);
		return -1;
	}
	return 0;
}

void drill_packet_format(struct drill_run *r, const uint8_t *frame, size_t len, bool inbound,
			 char *out, size_t cap)
{
	struct parsed p;
	const char *why = "";
	if (parse_frame(frame, len, &p, &why) < 0) {
		snprintf(out, cap, "(malformed: %s)", why);
		return;
	}
	const struct synack_tcp_seg *s = &p.seg;
	struct drill_conn *c = conn_by_rport(r, inbound ? s->sport : s->dport);
	uint32_t isn = isn_of(c);
	uint32_t seq = inbound ? s->seq : s->seq - isn;
	char flags[12], ack[24] = "", opts[200] = "", port[24] = "";
	format_flags(s->flags, flags);
	if (s->flags & SYNACK_TH_ACK)
		snprintf(ack, sizeof ack, " ack %u", inbound ? s->ack - isn : s->ack);
	uint16_t rport = inbound ? s->sport : s->dport;
	if (r->nconns > 1 || (c && rport != r->cfg.remote_port && rport != r->cfg.connect_port))
		snprintf(port, sizeof port, "port %u ", rport);
	if (s->opts.raw_len) {
		struct drill_opt o[DRILL_MAX_OPTS];
		int n = decode_opts(s->opts.raw, s->opts.raw_len, inbound ? isn : 0, o,
				    DRILL_MAX_OPTS);
		opts[0] = ' ';
		opts[1] = '<';
		format_opts(o, n, opts + 2, sizeof opts - 4);
		strcat(opts, ">");
	}
	static const char *const ecn[4] = {"", "[ect1] ", "[ect0] ", "[ce] "};
	snprintf(out, cap, "%s%s%s %u:%u(%zu)%s win %u%s", port, ecn[p.tos & 3], flags, seq,
		 seq + (uint32_t)s->len,
		 s->len, ack, s->win, opts);
}

/* ---- learning synack's ports and ISN ---- */

void drill_packet_learn(struct drill_run *r, const uint8_t *frame, size_t len)
{
	struct parsed p;
	const char *why;
	if (parse_frame(frame, len, &p, &why) < 0)
		return;
	struct drill_conn *c = conn_by_rport(r, p.seg.dport);
	if (!c) {
		if (r->nconns == sizeof r->conns / sizeof r->conns[0])
			return;
		c = &r->conns[r->nconns++];
		memset(c, 0, sizeof *c);
		c->rport = p.seg.dport;
	}
	if (!c->lport_known || (p.seg.flags & SYNACK_TH_SYN)) {
		c->lport = p.seg.sport;
		c->lport_known = true;
	}
	if (p.seg.flags & SYNACK_TH_SYN) {
		c->local_isn = p.seg.seq;
		c->isn_known = true;
	}
}

/* ---- inbound ---- */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* An ICMP message (RFC 792) about a segment synack sent: the ICMP header, then synack's IPv4
 * header and the first 8 bytes of its TCP header (ports and sequence number), as a router
 * would quote them. */
/* The ICMPv6 message (RFC 4443) an ICMP type and code of a script stand for in IPv6 mode:
 * fragmentation needed is Packet Too Big (the MTU in the 32-bit field), protocol unreachable
 * a Parameter Problem code 1 (unrecognized Next Header at offset 6), net and host unreachable
 * no route (0) and address unreachable (3), port unreachable 4, administratively prohibited
 * 1; anything else keeps its numbers. A Packet Too Big carries the MTU 20 bytes larger, as
 * the link's is, so the MSS it leaves is the script's. */
static void icmp6_of(const struct drill_packet *pk, uint8_t *type, uint8_t *code, uint32_t *param)
{
	static const uint8_t unreach6[16] = {0, 3, 0, 4, 0, 0, 0, 3, 0, 1, 1, 0, 3, 1, 1, 1};
	*type = pk->icmp_type;
	*code = pk->icmp_code;
	*param = 0;
	if (pk->icmp_type != 3 || pk->icmp_code >= 16)
		return;
	*type = 1;
	*code = unreach6[pk->icmp_code];
	if (pk->icmp_code == 4) {
		*type = 2;
		*code = 0;
		*param = pk->has_mtu ? pk->mtu + 20u : 1280; /* the link's MTU is 20 larger */
	} else if (pk->icmp_code == 2) {
		*type = 4;
		*code = 1;
		*param = 6;
	}
}

/* In IPv6 mode: the ICMPv6 message quoting synack's IPv6 header and 8 bytes of TCP. */
static void inject_icmp6(struct drill_run *r, const struct drill_event *ev,
			 const struct drill_conn *c)
{
	const struct drill_packet *pk = &ev->pkt;
	uint8_t frame[40 + 8 + 40 + 8];
	uint8_t *icmp = frame + 40, *inner = icmp + 8, *th = inner + 40;
	memset(frame, 0, sizeof frame);
	uint8_t type, code;
	uint32_t param;
	icmp6_of(pk, &type, &code, &param);
	icmp[0] = type;
	icmp[1] = code;
	put32(icmp + 4, param);
	struct synack_ipv6 ip = {.hop_limit = 64, .next = SYNACK_PROTO_TCP,
				 .src = r->cfg.local_ip6, .dst = r->cfg.remote_ip6};
	synack_ipv6_emit(inner, 40, &ip, 20 + pk->len);
	put16(th, c->lport);
	put16(th + 2, c->rport);
	put32(th + 4, isn_of(c) + (pk->has_seq ? pk->seq : 0));
	size_t mlen = sizeof frame - 40;
	uint32_t sum = synack_csum_add(0, r->cfg.remote_ip6.b, 16);
	sum = synack_csum_add(sum, r->cfg.local_ip6.b, 16);
	sum += (uint32_t)mlen + SYNACK_IPPROTO_ICMPV6;
	put16(icmp + 2, synack_csum_fold(synack_csum_add(sum, icmp, mlen)));
	ip.next = SYNACK_IPPROTO_ICMPV6;
	ip.src = r->cfg.remote_ip6;
	ip.dst = r->cfg.local_ip6;
	synack_ipv6_emit(frame, 40, &ip, mlen);
	char text[120];
	snprintf(text, sizeof text, "icmp6 type %u code %u [%u:%u(%u)]", type, code, pk->seq,
		 pk->end, pk->len);
	drill_history_add(r, r->now, true, text);
	synack_stack_input(r->stack, frame, sizeof frame, DRILL_CLOCK_BASE_US + (uint64_t)r->now);
}

static void inject_icmp(struct drill_run *r, const struct drill_event *ev,
			const struct drill_conn *c)
{
	const struct drill_packet *pk = &ev->pkt;
	if (r->cfg.ipv6) {
		inject_icmp6(r, ev, c);
		return;
	}
	uint8_t frame[20 + 8 + 20 + 8];
	uint8_t *icmp = frame + 20, *inner = icmp + 8, *th = inner + 20;
	memset(frame, 0, sizeof frame);
	icmp[0] = pk->icmp_type;
	icmp[1] = pk->icmp_code;
	if (pk->has_mtu)
		put16(icmp + 6, pk->mtu);
	struct synack_ipv4 ip = {.ihl = 20, .ttl = 64, .df = true, .proto = SYNACK_PROTO_TCP,
				 .src = r->cfg.local_ip, .dst = r->cfg.remote_ip};
	synack_ipv4_emit(inner, 20, &ip, 20 + pk->len);
	put16(th, c->lport);
	put16(th + 2, c->rport);
	put32(th + 4, isn_of(c) + (pk->has_seq ? pk->seq : 0));
	put16(icmp + 2, synack_csum_fold(synack_csum_add(0, icmp, sizeof frame - 20)));
	ip.proto = SYNACK_IPPROTO_ICMP;
	ip.src = r->cfg.remote_ip;
	ip.dst = r->cfg.local_ip;
	ip.id = ++r->ip_id;
	synack_ipv4_emit(frame, 20, &ip, sizeof frame - 20);
	char text[120];
	snprintf(text, sizeof text, "icmp type %u code %u [%u:%u(%u)]", pk->icmp_type,
		 pk->icmp_code, pk->seq, pk->end, pk->len);
	drill_history_add(r, r->now, true, text);
	synack_stack_input(r->stack, frame, sizeof frame, DRILL_CLOCK_BASE_US + (uint64_t)r->now);
}

/* Sets the ECN field, TOS, TTL and DF of a built IPv4 frame as the packet says, and fixes
 * its header checksum. */
/* IPv6: the traffic class (bits 4-11 of the first word) and the hop limit; there is no DF
 * and no header checksum. */
static void set_ip6_fields(uint8_t *frame, const struct drill_packet *pk)
{
	uint8_t tc = (uint8_t)((frame[0] & 0x0f) << 4 | frame[1] >> 4);
	if (pk->has_tos)
		tc = pk->tos;
	if (pk->has_ecn)
		tc = (uint8_t)((tc & ~3u) | pk->ecn);
	frame[0] = (uint8_t)(0x60 | tc >> 4);
	frame[1] = (uint8_t)((tc & 0x0f) << 4 | (frame[1] & 0x0f));
	if (pk->has_ttl)
		frame[7] = pk->ttl;
}

static void set_ip_fields(uint8_t *frame, const struct drill_packet *pk)
{
	if (frame[0] >> 4 == 6) {
		set_ip6_fields(frame, pk);
		return;
	}
	if (pk->has_tos)
		frame[1] = pk->tos;
	if (pk->has_ecn)
		frame[1] = (uint8_t)((frame[1] & ~3u) | pk->ecn);
	if (pk->has_ttl)
		frame[8] = pk->ttl;
	if (pk->df)
		frame[6] = (uint8_t)((frame[6] & ~0x40) | (pk->df == 1 ? 0x40 : 0));
	frame[10] = frame[11] = 0;
	size_t ihl = (size_t)(frame[0] & 15) * 4;
	put16(frame + 10, synack_csum_fold(synack_csum_add(0, frame, ihl)));
}

static int send_one(struct drill_run *r, const struct drill_event *ev,
		    const struct synack_tcp_seg *seg)
{
	static const uint8_t zeros[65536];
	struct synack_tcp_seg s = *seg;
	s.payload = zeros;
	size_t cap = 60 + 60 + s.len;
	uint8_t *frame = malloc(cap);
	if (!frame)
		abort();
	struct synack_addr src = drill_remote_addr(&r->cfg), dst = drill_local_addr(&r->cfg);
	int n = synack_tcp_emit(frame, cap, &src, &dst, ++r->ip_id, &s);
	if (n < 0) {
		free(frame);
		drill_fail(r, ev, "inbound packet: cannot build the frame");
		return -1;
	}
	set_ip_fields(frame, &ev->pkt);
	char text[240];
	drill_packet_format(r, frame, (size_t)n, true, text, sizeof text);
	drill_history_add(r, r->now, true, text);
	synack_stack_input(r->stack, frame, (size_t)n, DRILL_CLOCK_BASE_US + (uint64_t)r->now);
	free(frame);
	return 0;
}

int drill_packet_inject(struct drill_run *r, const struct drill_event *ev)
{
	const struct drill_packet *pk = &ev->pkt;
	struct drill_conn *c = drill_conn_for_port(r, pk->port, true);
	if (!c) {
		drill_fail(r, ev, "inbound packet: too many connections");
		return -1;
	}
	if (!c->lport_known) {
		drill_fail(r, ev, "inbound packet: synack's port is not known yet (no SYN seen)");
		return -1;
	}
	if (pk->icmp) {
		inject_icmp(r, ev, c);
		return 0;
	}
	uint32_t isn = isn_of(c);
	struct synack_tcp_seg seg;
	memset(&seg, 0, sizeof seg);
	seg.sport = c->rport;
	seg.dport = c->lport;
	seg.seq = pk->seq;
	seg.ack = pk->has_ack ? pk->ack + isn : 0;
	seg.flags = pk->flags;
	seg.win = (uint16_t)(pk->has_win ? pk->win : 65535);
	seg.urp = (uint16_t)(pk->has_urg ? pk->urg : 0);
	int olen = pk->opts_mode == DRILL_OPTS_LIST ? encode_opts(pk, c, isn, seg.opts.raw) : 0;
	if (olen < 0) {
		drill_fail(r, ev, "inbound packet: options longer than 40 bytes");
		return -1;
	}
	seg.opts.raw_len = (uint8_t)olen;
	if (pk->len > 65000) {
		drill_fail(r, ev, "inbound packet: payload too long");
		return -1;
	}
	/* --mss (packetdrill's meaning): a payload larger than it goes as segments of that
	 * size, PSH and FIN on the last one only, as a sender's segmentation would cut it. */
	uint32_t mss = r->cfg.mss && !(pk->flags & SYNACK_TH_SYN) ? r->cfg.mss : 0;
	uint32_t off = 0;
	do {
		uint32_t n = mss && pk->len - off > mss ? mss : pk->len - off;
		bool last = off + n == pk->len;
		seg.seq = pk->seq + off;
		seg.len = n;
		seg.flags = last ? pk->flags : (uint8_t)(pk->flags & ~(SYNACK_TH_PSH | SYNACK_TH_FIN));
		if (send_one(r, ev, &seg) < 0)
			return -1;
		off += n;
	} while (off < pk->len);
	return 0;
}

/* ---- outbound ---- */

static void mismatch(char *why, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void mismatch(char *why, size_t cap, const char *fmt, ...)
{
	size_t k = strlen(why);
	if (k)
		k += (size_t)snprintf(why + k, cap - k, "; ");
	if (k < cap) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(why + k, cap - k, fmt, ap);
		va_end(ap);
	}
}

static bool opts_equal(const struct drill_packet *pk, const struct drill_opt *a, int na)
{
	if (na > 0 && a[na - 1].kind == DRILL_OPT_EOL &&
	    (pk->nopts == 0 || pk->opts[pk->nopts - 1].kind != DRILL_OPT_EOL))
		na--; /* padding */
	if (na != pk->nopts)
		return false;
	for (int i = 0; i < na; i++) {
		const struct drill_opt *w = &pk->opts[i], *g = &a[i];
		if ((int)w->kind != (int)g->kind)
			return false;
		switch (w->kind) {
		case DRILL_OPT_MSS:
		case DRILL_OPT_WSCALE:
			if (w->a != g->a)
				return false;
			break;
		case DRILL_OPT_TS:
			if (w->b != g->b)
				return false; /* the ecr; the val is synack's clock */
			break;
		case DRILL_OPT_FO:
		case DRILL_OPT_FOEXP:
			if (w->a != g->a || memcmp(w->cookie, g->cookie, w->a))
				return false;
			break;
		case DRILL_OPT_SACK:
			if (w->nblocks != g->nblocks)
				return false;
			for (int b = 0; b < w->nblocks; b++)
				if (w->blocks[b][0] != g->blocks[b][0] ||
				    w->blocks[b][1] != g->blocks[b][1])
					return false;
			break;
		default:
			break;
		}
	}
	return true;
}

static void compare_fields(struct drill_run *r, const struct drill_packet *pk,
			   const struct parsed *p, char *why, size_t cap)
{
	const struct synack_tcp_seg *s = &p->seg;
	struct drill_conn *c = conn_by_rport(r, s->dport);
	uint32_t isn = isn_of(c);
	static const char *const ecn_names[5] = {"noecn", "ect1", "ect0", "ce", "ect01"};
	uint8_t ecn = p->tos & 3;
	bool ecn_ok = pk->ecn == DRILL_ECN_ECT01 ? ecn == DRILL_ECN_ECT0 || ecn == DRILL_ECN_ECT1
						 : ecn == pk->ecn;
	if (pk->has_ecn && !ecn_ok)
		mismatch(why, cap, "wrong ECN field: expected [%s] but synack sent [%s]",
			 ecn_names[pk->ecn], ecn_names[ecn]);
	if (pk->has_tos && p->tos != pk->tos)
		mismatch(why, cap, "wrong tos: expected (tos 0x%x) but synack sent (tos 0x%x)",
			 pk->tos, p->tos);
	if (pk->has_ttl && p->ttl != pk->ttl)
		mismatch(why, cap, "wrong ttl: expected (ttl %u) but synack sent (ttl %u)", pk->ttl,
			 p->ttl);
	if (pk->df && p->df != (pk->df == 1))
		mismatch(why, cap, "wrong DF bit: expected (%s) but synack sent (%s)",
			 pk->df == 1 ? "df" : "nodf", p->df ? "df" : "nodf");
	if (pk->port && s->dport != pk->port)
		mismatch(why, cap, "wrong port: expected port %u but synack sent to port %u",
			 (uint32_t)pk->port, s->dport);
	if (s->flags != pk->flags) {
		char w[12], g[12];
		format_flags(pk->flags, w);
		format_flags(s->flags, g);
		size_t k = strlen(why);
		snprintf(why + k, cap - k, "%swrong flags: expected %s but synack sent %s",
			 k ? "; " : "", w, g);
	}
	if (pk->has_seq && s->seq - isn != pk->seq)
		mismatch(why, cap, "wrong seq: expected %u but synack sent %u", pk->seq,
			 s->seq - isn);
	if (pk->has_seq && s->len != pk->len)
		mismatch(why, cap, "wrong length: expected (%u) but synack sent (%u)", pk->len,
			 (uint32_t)s->len);
	if (pk->has_ack && s->ack != pk->ack)
		mismatch(why, cap, "wrong ack: expected ack %u but synack sent ack %u", pk->ack,
			 s->ack);
	if (pk->has_win && s->win != pk->win)
		mismatch(why, cap, "wrong window: expected win %u but synack sent win %u", pk->win,
			 s->win);
	if (pk->has_urg && s->urp != pk->urg)
		mismatch(why, cap, "wrong urgent pointer: expected urg %u but synack sent urg %u",
			 pk->urg, s->urp);
	if (pk->opts_mode == DRILL_OPTS_LIST) {
		struct drill_opt o[DRILL_MAX_OPTS];
		int n = decode_opts(s->opts.raw, s->opts.raw_len, 0, o, DRILL_MAX_OPTS);
		if (!opts_equal(pk, o, n)) {
			char got[200];
			format_opts(o, n, got, sizeof got);
			size_t k = strlen(why);
			snprintf(why + k, cap - k, "%swrong options: synack sent <%s>",
				 k ? "; " : "", got);
		}
	}
}

/* A matched outbound packet whose script line wrote a TS val: remember what it stands for. */
static void learn_ts_val(struct drill_run *r, const struct drill_packet *pk,
			 const struct parsed *p)
{
	struct drill_conn *c = conn_by_rport(r, p->seg.dport);
	if (!c || pk->opts_mode != DRILL_OPTS_LIST)
		return;
	struct drill_opt o[DRILL_MAX_OPTS];
	int n = decode_opts(p->seg.opts.raw, p->seg.opts.raw_len, 0, o, DRILL_MAX_OPTS);
	for (int i = 0; i < pk->nopts; i++) {
		if (pk->opts[i].kind != DRILL_OPT_TS)
			continue;
		for (int k = 0; k < n; k++)
			if (o[k].kind == DRILL_OPT_TS)
				ts_map_add(c, pk->opts[i].a, o[k].a);
	}
}

int drill_packet_match(struct drill_run *r, const struct drill_event *ev,
		       const struct drill_frame *f)
{
	struct parsed p;
	const char *bad;
	char text[240];
	drill_packet_format(r, f->data, f->len, false, text, sizeof text);
	char ts[32];
	drill_fmt_time(f->t, ts, sizeof ts);
	if (parse_frame(f->data, f->len, &p, &bad) < 0) {
		drill_fail(r, ev, "outbound packet: synack sent a malformed packet (%s)", bad);
		return -1;
	}
	struct synack_addr want_src = drill_local_addr(&r->cfg), want_dst = drill_remote_addr(&r->cfg);
	if (!synack_addr_eq(&p.src, &want_src) || !synack_addr_eq(&p.dst, &want_dst)) {
		char a[SYNACK_ADDR_STRLEN], b[SYNACK_ADDR_STRLEN];
		drill_fail(r, ev, "outbound packet: wrong addresses (%s -> %s)",
			   synack_addr_str(&p.src, a, sizeof a), synack_addr_str(&p.dst, b, sizeof b));
		return -1;
	}
	char why[600] = "";
	compare_fields(r, &ev->pkt, &p, why, sizeof why);
	if (why[0]) {
		drill_fail(r, ev, "outbound packet: %s", why);
		drill_fail_detail(r, "synack: %s > %s", ts, text);
		return -1;
	}
	learn_ts_val(r, &ev->pkt, &p);
	return 0;
}

/* ---- TSO super-segments ---- */

/* Linux hands large segments to the NIC (TSO), and its scripts expect them as written:
 * `> P. 1:10001(10000) ack 1`. synack cuts segments itself, so such a line is matched
 * against the run of consecutive segments that covers the same range.
 * Returns how many queued frames the expectation takes: 1 for an ordinary packet (or one
 * that does not start such a run: the match reports why), the run's length, or 0 if the
 * frames queued so far end before the run does. */
size_t drill_packet_run_length(struct drill_run *r, const struct drill_packet *pk)
{
	if (!pk->has_seq || pk->len == 0 || r->nout == 0)
		return 1;
	uint32_t covered = 0;
	size_t k = 0;
	for (; k < r->nout; k++) {
		struct parsed p;
		const char *why;
		if (parse_frame(r->outq[k].data, r->outq[k].len, &p, &why) < 0)
			return 1;
		struct drill_conn *c = conn_by_rport(r, p.seg.dport);
		uint32_t seq = p.seg.seq - isn_of(c);
		if (seq != pk->seq + covered || p.seg.len == 0 || (p.seg.flags & SYNACK_TH_SYN))
			return 1;
		covered += (uint32_t)p.seg.len;
		if (k == 0 && covered >= pk->len)
			return 1;
		if (covered >= pk->len)
			return covered == pk->len ? k + 1 : 1;
	}
	return 0;
}

/* The expectation for segment i of n of a super-segment: its own range; PSH and FIN only
 * on the last (as TSO cuts them). */
void drill_packet_part(const struct drill_event *ev, const struct drill_frame *f,
		       uint32_t offset, bool last, struct drill_event *out)
{
	struct parsed p;
	const char *why;
	*out = *ev;
	if (parse_frame(f->data, f->len, &p, &why) < 0)
		return;
	out->pkt.seq = ev->pkt.seq + offset;
	out->pkt.len = (uint32_t)p.seg.len;
	out->pkt.end = out->pkt.seq + out->pkt.len;
	if (!last)
		out->pkt.flags &= (uint8_t)~(SYNACK_TH_PSH | SYNACK_TH_FIN);
}
