/* A streaming pcap/pcapng reader: one record buffer, one pass, every length checked before it
 * is used. Formats: the classic libpcap format (pcap-savefile(5)) and pcapng
 * (draft-ietf-opsawg-pcapng: Section Header, Interface Description, Enhanced Packet, Simple
 * Packet and the obsolete Packet block; other blocks are skipped).
 */
#include "render/pcapread.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du
#define NG_SHB 0x0A0D0D0Au
#define NG_IDB 0x00000001u
#define NG_PB 0x00000002u
#define NG_SPB 0x00000003u
#define NG_EPB 0x00000006u
#define NG_BOM 0x1A2B3C4Du
#define NG_MAX_IFACES 1024u
/* A packet block's body: its fixed fields, the packet, and room for options. */
#define BLOCK_MAX (SYNACK_PCAP_MAX_CAPLEN + 65536u)

struct ng_iface {
	uint32_t linktype;
	uint32_t snaplen;
	uint8_t tsresol; /* if_tsresol as in the option: bit 7 set = power of two */
	int64_t tsoffset_s;
};

struct synack_pcapread {
	FILE *f;
	enum synack_pcap_format fmt;
	bool swap; /* the file's byte order is not ours */
	bool ns;   /* classic pcap with nanosecond timestamps */
	uint32_t linktype;
	uint64_t offset; /* bytes consumed so far */
	int err;
	char msg[200];
	struct ng_iface *ifaces;
	uint32_t n_ifaces;
	uint64_t last_t_ns; /* for SPB, which carries no timestamp */
	struct synack_pcap_stats st;
	uint8_t *buf; /* BLOCK_MAX bytes */
};

static int fail(struct synack_pcapread *r, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct synack_pcapread *r, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof r->msg, fmt, ap);
	va_end(ap);
	r->err = err;
	return err;
}

static uint16_t rd16(const struct synack_pcapread *r, const uint8_t *p)
{
	uint16_t v = (uint16_t)(p[0] | p[1] << 8); /* little-endian ... */
	return r->swap ? (uint16_t)(v >> 8 | v << 8) : v;
}

static uint32_t bswap32(uint32_t v)
{
	return v >> 24 | (v >> 8 & 0xff00u) | (v << 8 & 0xff0000u) | v << 24;
}

/* Files are read as little-endian values; `swap` means the file is big-endian. The host's own
 * order does not matter because every value is assembled from bytes. */
static uint32_t rd32(const struct synack_pcapread *r, const uint8_t *p)
{
	uint32_t v =
		(uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	return r->swap ? bswap32(v) : v;
}

static uint32_t be16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

/* Reads exactly n bytes. Returns 1, 0 on a clean end of file before any byte, -EINVAL when
 * the file ends in the middle, -EIO on a read error. */
static int read_exact(struct synack_pcapread *r, void *dst, size_t n, const char *what)
{
	size_t got = fread(dst, 1, n, r->f);
	r->offset += got;
	if (got == n)
		return 1;
	if (ferror(r->f))
		return fail(r, -EIO, "read error at offset %llu", (unsigned long long)r->offset);
	if (got == 0 && what == NULL)
		return 0;
	return fail(r, -EINVAL, "truncated %s at offset %llu (the file is cut short)",
		    what ? what : "record", (unsigned long long)r->offset);
}

/* Skips n bytes by reading them (works on pipes). */
static int skip_bytes(struct synack_pcapread *r, uint64_t n, const char *what)
{
	while (n > 0) {
		size_t k = n > BLOCK_MAX ? BLOCK_MAX : (size_t)n;
		int rc = read_exact(r, r->buf, k, what);
		if (rc <= 0)
			return rc < 0 ? rc : fail(r, -EINVAL, "truncated %s", what);
		n -= k;
	}
	return 1;
}

/* ---- link layers ---------------------------------------------------------------------- */

#define ETH_IPV4 0x0800u
#define ETH_IPV6 0x86ddu

/* The packet after a link header: IPv4 or IPv6 by its version nibble; `want` (4 or 6) when the
 * link header already named the family, 0 when it did not (raw IP). */
static const uint8_t *ip_version_check(const uint8_t *p, size_t len, unsigned want,
				       size_t *ip_len, int *why)
{
	if (len < 1) {
		*why = 2;
		return NULL;
	}
	unsigned v = p[0] >> 4;
	if ((v != 4 && v != 6) || (want && v != want)) {
		*why = 1;
		return NULL;
	}
	*ip_len = len;
	return p;
}

/* The IP version an EtherType names (and SLL's protocol field, which holds one), or 0. */
static unsigned ethertype_version(uint32_t type)
{
	return type == ETH_IPV4 ? 4 : type == ETH_IPV6 ? 6 : 0;
}

static const uint8_t *strip_ether(const uint8_t *f, size_t len, size_t *ip_len, int *why)
{
	size_t off = 12;
	for (int tags = 0; tags < 4; tags++) {
		if (len < off + 2) {
			*why = 2;
			return NULL;
		}
		uint32_t type = be16(f + off);
		/* 802.1Q, 802.1ad and the old QinQ value carry a 4-byte tag before the type. */
		if (type == 0x8100u || type == 0x88a8u || type == 0x9100u) {
			off += 4;
			continue;
		}
		unsigned v = ethertype_version(type);
		if (!v) {
			*why = 1;
			return NULL;
		}
		return ip_version_check(f + off + 2, len - off - 2, v, ip_len, why);
	}
	*why = 1;
	return NULL;
}

/* BSD loopback: a 4-byte address family in the capturing host's order (NULL) or network order
 * (LOOP). AF_INET is 2 everywhere; AF_INET6 is 10 on Linux, 24 on NetBSD and OpenBSD, 28 on
 * FreeBSD and 30 on macOS (libpcap's BSD_AFNUM_INET6_* values, and Linux's own). */
static unsigned loop_af_version(uint32_t af)
{
	if (af == 2)
		return 4;
	return af == 10 || af == 24 || af == 28 || af == 30 ? 6 : 0;
}

static const uint8_t *strip_null(const uint8_t *f, size_t len, size_t *ip_len, int *why)
{
	if (len < 4) {
		*why = 2;
		return NULL;
	}
	uint32_t le =
		(uint32_t)f[0] | (uint32_t)f[1] << 8 | (uint32_t)f[2] << 16 | (uint32_t)f[3] << 24;
	unsigned v = loop_af_version(le);
	if (!v)
		v = loop_af_version(bswap32(le));
	if (!v) {
		*why = 1;
		return NULL;
	}
	return ip_version_check(f + 4, len - 4, v, ip_len, why);
}

/* Linux cooked captures: the protocol (an EtherType) at proto_at, the packet at hdr. */
static const uint8_t *strip_sll(const uint8_t *f, size_t len, size_t proto_at, size_t hdr,
				size_t *ip_len, int *why)
{
	if (len < hdr) {
		*why = 2;
		return NULL;
	}
	unsigned v = ethertype_version(be16(f + proto_at));
	if (!v) {
		*why = 1;
		return NULL;
	}
	return ip_version_check(f + hdr, len - hdr, v, ip_len, why);
}

const uint8_t *synack_pcap_strip_link(uint32_t linktype, const uint8_t *f, size_t len,
				      size_t *ip_len, int *why)
{
	*why = 0;
	switch (linktype) {
	case SYNACK_LINKTYPE_ETHERNET:
		return strip_ether(f, len, ip_len, why);
	case SYNACK_LINKTYPE_RAW:
	case SYNACK_LINKTYPE_DLT_RAW1:
	case SYNACK_LINKTYPE_DLT_RAW2:
		return ip_version_check(f, len, 0, ip_len, why);
	case SYNACK_LINKTYPE_IPV4:
		return ip_version_check(f, len, 4, ip_len, why);
	case SYNACK_LINKTYPE_IPV6:
		return ip_version_check(f, len, 6, ip_len, why);
	case SYNACK_LINKTYPE_NULL:
	case SYNACK_LINKTYPE_LOOP:
		return strip_null(f, len, ip_len, why);
	case SYNACK_LINKTYPE_LINUX_SLL: /* 16 bytes; protocol type at 14 */
		return strip_sll(f, len, 14, 16, ip_len, why);
	case SYNACK_LINKTYPE_LINUX_SLL2: /* 20 bytes; protocol type first */
		return strip_sll(f, len, 0, 20, ip_len, why);
	default:
		break;
	}
	*why = 2;
	return NULL;
}

/* ---- headers --------------------------------------------------------------------------- */

static int open_classic(struct synack_pcapread *r, const uint8_t *first4, uint32_t magic)
{
	uint8_t h[24];
	memcpy(h, first4, 4);
	int rc = read_exact(r, h + 4, 20, "pcap file header");
	if (rc < 0)
		return rc;
	r->fmt = SYNACK_PCAP_CLASSIC;
	r->swap = magic == bswap32(PCAP_MAGIC_US) || magic == bswap32(PCAP_MAGIC_NS);
	r->ns = rd32(r, h) == PCAP_MAGIC_NS;
	uint16_t major = rd16(r, h + 4);
	if (major != 2)
		return fail(r, -EINVAL, "pcap file header: unsupported version %u", major);
	/* The link type is the low 16 bits; the upper ones may describe an FCS. */
	r->linktype = rd32(r, h + 20) & 0xffffu;
	return 0;
}

static int parse_shb(struct synack_pcapread *r, const uint8_t *body, size_t blen);

static int open_ng(struct synack_pcapread *r, const uint8_t *first4)
{
	uint8_t h[8];
	memcpy(h, first4, 4);
	int rc = read_exact(r, h + 4, 4, "pcapng section header");
	if (rc < 0)
		return rc;
	r->fmt = SYNACK_PCAP_NG;
	return parse_shb(r, h, 0) < 0 ? r->err : 0;
}

int synack_pcapread_open(struct synack_pcapread **out, FILE *f)
{
	struct synack_pcapread *r = calloc(1, sizeof *r);
	if (!r)
		return -ENOMEM;
	r->buf = malloc(BLOCK_MAX);
	if (!r->buf) {
		free(r);
		return -ENOMEM;
	}
	r->f = f;
	*out = r;
	uint8_t m[4];
	int rc = read_exact(r, m, 4, "file header");
	if (rc == -EINVAL && r->offset == 0)
		return fail(r, -ENODATA, "empty file: no capture header");
	if (rc < 0)
		return rc;
	uint32_t le =
		(uint32_t)m[0] | (uint32_t)m[1] << 8 | (uint32_t)m[2] << 16 | (uint32_t)m[3] << 24;
	if (le == PCAP_MAGIC_US || le == PCAP_MAGIC_NS || le == bswap32(PCAP_MAGIC_US) ||
	    le == bswap32(PCAP_MAGIC_NS))
		return open_classic(r, m, le);
	if (le == NG_SHB)
		return open_ng(r, m);
	return fail(r, -EINVAL, "not a pcap or pcapng file (magic %02x%02x%02x%02x)", m[0], m[1],
		    m[2], m[3]);
}

/* ---- classic records ------------------------------------------------------------------- */

/* A record's frame, whatever the format: strip the link header and count what is skipped.
 * Returns 1 with *pkt filled, 0 when the packet is skipped. */
static int deliver(struct synack_pcapread *r, uint32_t linktype, const uint8_t *frame,
		   uint32_t caplen, uint32_t origlen, struct synack_pcap_pkt *pkt)
{
	r->st.records++;
	if (caplen < origlen) {
		r->st.truncated++;
		return 0;
	}
	int why;
	size_t ip_len;
	const uint8_t *ip = synack_pcap_strip_link(linktype, frame, caplen, &ip_len, &why);
	if (!ip) {
		if (why == 1)
			r->st.non_ip++;
		else
			r->st.bad_link++;
		return 0;
	}
	r->st.ip++;
	pkt->ip = ip;
	pkt->ip_len = ip_len;
	pkt->orig_len = origlen;
	pkt->linktype = linktype;
	pkt->record = r->st.records;
	return 1;
}

static int next_classic(struct synack_pcapread *r, struct synack_pcap_pkt *pkt)
{
	for (;;) {
		uint8_t h[16];
		uint64_t at = r->offset;
		int rc = read_exact(r, h, 16, NULL);
		if (rc <= 0)
			return rc;
		uint32_t sec = rd32(r, h), frac = rd32(r, h + 4);
		uint32_t caplen = rd32(r, h + 8), origlen = rd32(r, h + 12);
		if (caplen > SYNACK_PCAP_MAX_CAPLEN)
			return fail(r, -EINVAL,
				    "record at offset %llu: captured length %u is larger than %u "
				    "(corrupt file?)",
				    (unsigned long long)at, caplen, SYNACK_PCAP_MAX_CAPLEN);
		if ((rc = read_exact(r, r->buf, caplen, "packet record")) < 0)
			return rc;
		pkt->t_ns = (uint64_t)sec * 1000000000u + (r->ns ? frac : (uint64_t)frac * 1000u);
		pkt->iface = 0;
		if (deliver(r, r->linktype, r->buf, caplen, origlen, pkt))
			return 1;
	}
}

/* ---- pcapng blocks --------------------------------------------------------------------- */

/* The Section Header Block's body after the block type and length: byte-order magic, version,
 * section length, options. `blen` is the block length, read here when 0. A new section forgets
 * the previous one's interfaces. */
static int parse_shb(struct synack_pcapread *r, const uint8_t *h8, size_t blen)
{
	uint8_t bom[4];
	int rc = read_exact(r, bom, 4, "pcapng section header");
	if (rc < 0)
		return rc;
	uint32_t le = (uint32_t)bom[0] | (uint32_t)bom[1] << 8 | (uint32_t)bom[2] << 16 |
		      (uint32_t)bom[3] << 24;
	if (le == NG_BOM)
		r->swap = false;
	else if (le == bswap32(NG_BOM))
		r->swap = true;
	else
		return fail(r, -EINVAL,
			    "pcapng section header at offset %llu: bad byte-order magic",
			    (unsigned long long)(r->offset - 12));
	if (blen == 0)
		blen = rd32(r, h8 + 4);
	if (blen < 28 || blen % 4 != 0 || blen > BLOCK_MAX)
		return fail(r, -EINVAL, "pcapng section header: bad block length %zu", blen);
	/* version, section length, options, trailing length: skipped after the version check */
	if ((rc = read_exact(r, r->buf, blen - 12, "pcapng section header")) < 0)
		return rc;
	if (rd16(r, r->buf) != 1)
		return fail(r, -EINVAL, "pcapng: unsupported major version %u", rd16(r, r->buf));
	r->n_ifaces = 0;
	return 0;
}

/* Interface options: if_tsresol (9) and if_tsoffset (14). */
static void parse_idb_options(struct synack_pcapread *r, struct ng_iface *ifc, const uint8_t *o,
			      size_t len)
{
	while (len >= 4) {
		uint32_t code = rd16(r, o), olen = rd16(r, o + 2);
		size_t padded = 4 + ((olen + 3u) & ~3u);
		if (code == 0 || padded > len)
			return;
		if (code == 9 && olen >= 1)
			ifc->tsresol = o[4];
		if (code == 14 && olen >= 8) {
			uint64_t v = (uint64_t)rd32(r, o + 4) | (uint64_t)rd32(r, o + 8) << 32;
			if (r->swap) /* a 64-bit value: the halves swap too */
				v = (uint64_t)rd32(r, o + 8) | (uint64_t)rd32(r, o + 4) << 32;
			ifc->tsoffset_s = (int64_t)v;
		}
		o += padded;
		len -= padded;
	}
}

static int parse_idb(struct synack_pcapread *r, const uint8_t *body, size_t len)
{
	if (len < 8)
		return fail(r, -EINVAL, "pcapng interface block too short");
	if (r->n_ifaces >= NG_MAX_IFACES)
		return fail(r, -EINVAL, "pcapng: more than %u interfaces", NG_MAX_IFACES);
	if (!r->ifaces) {
		r->ifaces = calloc(NG_MAX_IFACES, sizeof *r->ifaces);
		if (!r->ifaces)
			return fail(r, -ENOMEM, "out of memory");
	}
	struct ng_iface *ifc = &r->ifaces[r->n_ifaces++];
	ifc->linktype = rd16(r, body);
	ifc->snaplen = rd32(r, body + 4);
	ifc->tsresol = 6;
	ifc->tsoffset_s = 0;
	parse_idb_options(r, ifc, body + 8, len - 8);
	return 0;
}

static uint64_t pow10u(unsigned n)
{
	uint64_t v = 1;
	while (n--)
		v *= 10;
	return v;
}

/* A 64-bit timestamp in the interface's units to nanoseconds. */
static uint64_t ng_time(const struct ng_iface *ifc, uint64_t ts)
{
	uint64_t ns;
	unsigned v = ifc->tsresol & 0x7fu;
	if (ifc->tsresol & 0x80u) {
		if (v >= 64)
			return 0;
		uint64_t frac = v ? ts & ((UINT64_C(1) << v) - 1) : 0;
		ns = (v ? ts >> v : ts) * 1000000000u +
		     (uint64_t)((double)frac * 1e9 / (double)(UINT64_C(1) << v));
	} else if (v <= 9) {
		ns = ts * pow10u(9 - v);
	} else {
		ns = v > 19 ? 0 : ts / pow10u(v - 9);
	}
	return ns + (uint64_t)ifc->tsoffset_s * 1000000000u;
}

static int ng_packet(struct synack_pcapread *r, uint32_t type, const uint8_t *b, size_t len,
		     struct synack_pcap_pkt *pkt)
{
	uint32_t ifid, caplen, origlen;
	size_t hdr;
	uint64_t ts = 0;
	if (type == NG_SPB) {
		if (len < 4)
			return fail(r, -EINVAL, "pcapng simple packet block too short");
		ifid = 0;
		hdr = 4;
		origlen = rd32(r, b);
		caplen = origlen;
		if (r->n_ifaces > 0 && r->ifaces[0].snaplen && caplen > r->ifaces[0].snaplen)
			caplen = r->ifaces[0].snaplen;
		if (caplen > len - 4)
			caplen = (uint32_t)(len - 4);
	} else {
		if (len < 20)
			return fail(r, -EINVAL, "pcapng packet block too short");
		/* PB (obsolete): interface id is 16 bits followed by a 16-bit drop count. */
		ifid = type == NG_PB ? rd16(r, b) : rd32(r, b);
		ts = (uint64_t)rd32(r, b + 4) << 32 | rd32(r, b + 8);
		caplen = rd32(r, b + 12);
		origlen = rd32(r, b + 16);
		hdr = 20;
		if (caplen > len - 20)
			return fail(r, -EINVAL,
				    "pcapng packet block at offset %llu: captured length %u "
				    "exceeds the block",
				    (unsigned long long)r->offset, caplen);
	}
	if (ifid >= r->n_ifaces)
		return fail(r, -EINVAL, "pcapng packet for interface %u, but only %u described",
			    ifid, r->n_ifaces);
	const struct ng_iface *ifc = &r->ifaces[ifid];
	pkt->t_ns = type == NG_SPB ? r->last_t_ns : ng_time(ifc, ts);
	r->last_t_ns = pkt->t_ns;
	pkt->iface = ifid;
	return deliver(r, ifc->linktype, b + hdr, caplen, origlen, pkt);
}

static int next_ng(struct synack_pcapread *r, struct synack_pcap_pkt *pkt)
{
	for (;;) {
		uint8_t h[8];
		uint64_t at = r->offset;
		int rc = read_exact(r, h, 8, NULL);
		if (rc <= 0)
			return rc;
		uint32_t type = rd32(r, h);
		if (type == NG_SHB) {
			if (parse_shb(r, h, 0) < 0)
				return r->err;
			continue;
		}
		uint32_t blen = rd32(r, h + 4);
		if (blen < 12 || blen % 4 != 0)
			return fail(r, -EINVAL, "pcapng block at offset %llu: bad length %u",
				    (unsigned long long)at, blen);
		bool wanted = type == NG_IDB || type == NG_EPB || type == NG_SPB || type == NG_PB;
		if (!wanted) {
			if (skip_bytes(r, blen - 8u, "pcapng block") < 0)
				return r->err;
			continue;
		}
		if (blen - 8u > BLOCK_MAX)
			return fail(r, -EINVAL,
				    "pcapng block at offset %llu: %u bytes is too large",
				    (unsigned long long)at, blen);
		if ((rc = read_exact(r, r->buf, blen - 8u, "pcapng block")) < 0)
			return rc;
		size_t body = blen - 12u; /* without the trailing length */
		if (rd32(r, r->buf + body) != blen)
			return fail(r, -EINVAL,
				    "pcapng block at offset %llu: trailing length does not match",
				    (unsigned long long)at);
		if (type == NG_IDB) {
			if (parse_idb(r, r->buf, body) < 0)
				return r->err;
			continue;
		}
		rc = ng_packet(r, type, r->buf, body, pkt);
		if (rc != 0)
			return rc;
	}
}

int synack_pcapread_next(struct synack_pcapread *r, struct synack_pcap_pkt *pkt)
{
	if (r->err)
		return r->err;
	memset(pkt, 0, sizeof *pkt);
	return r->fmt == SYNACK_PCAP_NG ? next_ng(r, pkt) : next_classic(r, pkt);
}

const char *synack_pcapread_error(const struct synack_pcapread *r)
{
	return r->msg;
}

const struct synack_pcap_stats *synack_pcapread_stats(const struct synack_pcapread *r)
{
	return &r->st;
}

enum synack_pcap_format synack_pcapread_format(const struct synack_pcapread *r)
{
	return r->fmt;
}

void synack_pcapread_close(struct synack_pcapread *r)
{
	if (!r)
		return;
	free(r->ifaces);
	free(r->buf);
	free(r);
}
