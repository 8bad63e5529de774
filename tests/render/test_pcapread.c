/* The capture reader: pcap and pcapng in both byte orders, every supported link type, and
 * malformed, truncated and garbage files (which must give a clear error, never a crash). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "render/pcapread.h"

/* A growable byte string for building captures. */
struct bytes {
	uint8_t b[4096];
	size_t n;
	bool be; /* write multi-byte values big-endian */
};

static void put(struct bytes *s, const void *p, size_t n)
{
	if (n == 0)
		return;
	cr_assert(s->n + n <= sizeof s->b);
	memcpy(s->b + s->n, p, n);
	s->n += n;
}
static void put16(struct bytes *s, uint32_t v)
{
	uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
	if (s->be) {
		b[0] = (uint8_t)(v >> 8);
		b[1] = (uint8_t)v;
	}
	put(s, b, 2);
}
static void put32(struct bytes *s, uint32_t v)
{
	if (s->be) {
		put16(s, v >> 16);
		put16(s, v & 0xffff);
	} else {
		put16(s, v & 0xffff);
		put16(s, v >> 16);
	}
}

/* A minimal IPv4 header (20 bytes, proto TCP) followed by 20 zero bytes. */
static const uint8_t ip4[40] = {0x45, 0, 0,  40, 0, 1, 0x40, 0, 64, 6,
				0,    0, 10, 0,	 0, 1, 10,   0, 0,  2};
/* A minimal IPv6 header (40 bytes, payload length 0, Next Header 59: no next header). */
static const uint8_t ip6[40] = {0x60, 0, 0, 0, 0, 0, 59, 64};

static void pcap_hdr(struct bytes *s, uint32_t magic, uint32_t linktype)
{
	put32(s, magic);
	put16(s, 2);
	put16(s, 4);
	put32(s, 0);
	put32(s, 0);
	put32(s, 65535);
	put32(s, linktype);
}

static void pcap_rec(struct bytes *s, uint32_t sec, uint32_t frac, const void *link, size_t linklen,
		     const void *pkt, size_t caplen, size_t origlen)
{
	put32(s, sec);
	put32(s, frac);
	put32(s, (uint32_t)(linklen + caplen));
	put32(s, (uint32_t)(linklen + origlen));
	if (linklen)
		put(s, link, linklen);
	put(s, pkt, caplen);
}

struct result {
	int open_rc, last_rc, n;
	struct synack_pcap_pkt first; /* first.ip is not valid after read_all: see ip0 */
	uint8_t ip0[40];
	uint64_t t[8];
	struct synack_pcap_stats st;
	char err[200];
};

/* Reads a whole in-memory capture. */
static struct result read_all(const uint8_t *buf, size_t len)
{
	struct result res = {0};
	FILE *f = fmemopen((void *)buf, len ? len : 1, "rb");
	cr_assert_not_null(f);
	if (len == 0)
		fgetc(f); /* fmemopen refuses size 0: read the one byte away */
	struct synack_pcapread *r = NULL;
	res.open_rc = synack_pcapread_open(&r, f);
	if (res.open_rc == 0) {
		struct synack_pcap_pkt p;
		int rc;
		while ((rc = synack_pcapread_next(r, &p)) == 1) {
			if (res.n == 0) {
				res.first = p;
				memcpy(res.ip0, p.ip, p.ip_len < 40 ? p.ip_len : 40);
			}
			if (res.n < 8)
				res.t[res.n] = p.t_ns;
			cr_assert_leq(p.ip_len, SYNACK_PCAP_MAX_CAPLEN);
			cr_assert(p.ip[0] >> 4 == 4 || p.ip[0] >> 4 == 6, "only IP is handed out");
			res.n++;
		}
		res.last_rc = rc;
		cr_assert_eq(synack_pcapread_next(r, &p), rc, "errors and the end are sticky");
	}
	if (r) {
		res.st = *synack_pcapread_stats(r);
		snprintf(res.err, sizeof res.err, "%s", synack_pcapread_error(r));
	}
	synack_pcapread_close(r);
	fclose(f);
	return res;
}

Test(pcapread, classic_little_endian_microseconds_raw)
{
	struct bytes s = {0};
	pcap_hdr(&s, 0xa1b2c3d4u, SYNACK_LINKTYPE_RAW);
	pcap_rec(&s, 10, 500, NULL, 0, ip4, 40, 40);
	pcap_rec(&s, 11, 999999, NULL, 0, ip4, 40, 40);
	struct result r = read_all(s.b, s.n);
	cr_assert_eq(r.open_rc, 0);
	cr_assert_eq(r.last_rc, 0);
	cr_assert_eq(r.n, 2);
	cr_assert_eq(r.t[0], 10000500000ull);
	cr_assert_eq(r.t[1], 11999999000ull);
	cr_assert_eq(r.first.ip_len, 40);
	cr_assert_eq(r.first.linktype, SYNACK_LINKTYPE_RAW);
	cr_assert_eq(r.first.record, 1);
	cr_assert_eq(r.st.records, 2);
	cr_assert_eq(r.st.ip, 2);
}

Test(pcapread, classic_big_endian_nanoseconds)
{
	struct bytes s = {.be = true};
	pcap_hdr(&s, 0xa1b23c4du, SYNACK_LINKTYPE_IPV4);
	pcap_rec(&s, 3, 123456789, NULL, 0, ip4, 40, 40);
	struct result r = read_all(s.b, s.n);
	cr_assert_eq(r.open_rc, 0);
	cr_assert_eq(r.n, 1);
	cr_assert_eq(r.t[0], 3123456789ull);
}

/* Raw IP link types carry both families, told apart by the version nibble; anything else
 * there is not IP. */
Test(pcapread, raw_link_types_carry_both_families)
{
	static const uint8_t ip5[40] = {0x50};
	uint32_t types[] = {SYNACK_LINKTYPE_RAW, SYNACK_LINKTYPE_DLT_RAW1, SYNACK_LINKTYPE_DLT_RAW2};
	for (int i = 0; i < 3; i++) {
		struct bytes s = {0};
		pcap_hdr(&s, 0xa1b2c3d4u, types[i]);
		pcap_rec(&s, 1, 0, NULL, 0, ip5, 40, 40);
		pcap_rec(&s, 1, 0, NULL, 0, ip6, 40, 40);
		pcap_rec(&s, 1, 0, NULL, 0, ip4, 40, 40);
		struct result r = read_all(s.b, s.n);
		cr_assert_eq(r.n, 2);
		cr_assert_eq(r.st.ip, 2);
		cr_assert_eq(r.st.non_ip, 1);
		cr_assert_eq(memcmp(r.ip0, ip6, 40), 0);
		cr_assert_eq(r.first.record, 2, "record numbers count skipped packets too");
	}
}

/* LINKTYPE_IPV4 and LINKTYPE_IPV6 name their family: a packet of the other is not theirs. */
Test(pcapread, linktype_ipv4_and_ipv6_hold_their_own_family)
{
	struct bytes s = {0};
	pcap_hdr(&s, 0xa1b2c3d4u, SYNACK_LINKTYPE_IPV6);
	pcap_rec(&s, 1, 0, NULL, 0, ip4, 40, 40);
	pcap_rec(&s, 2, 0, NULL, 0, ip6, 40, 40);
	struct result r = read_all(s.b, s.n);
	cr_assert_eq(r.n, 1);
	cr_assert_eq(r.st.non_ip, 1);
	cr_assert_eq(r.first.linktype, SYNACK_LINKTYPE_IPV6);
	cr_assert_eq(memcmp(r.ip0, ip6, 40), 0);
	struct bytes s4 = {0};
	pcap_hdr(&s4, 0xa1b2c3d4u, SYNACK_LINKTYPE_IPV4);
	pcap_rec(&s4, 1, 0, NULL, 0, ip6, 40, 40);
	pcap_rec(&s4, 2, 0, NULL, 0, ip4, 40, 40);
	r = read_all(s4.b, s4.n);
	cr_assert_eq(r.n, 1);
	cr_assert_eq(r.st.non_ip, 1);
	cr_assert_eq(memcmp(r.ip0, ip4, 40), 0);
}

/* Ethernet's EtherType 0x86DD (tagged or not) is IPv6; the type must match the packet. */
Test(pcapread, ethernet_ipv6)
{
	uint8_t eth6[14] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x86, 0xdd};
	uint8_t vlan6[18] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x81, 0x00, 0, 5, 0x86, 0xdd};
	struct bytes s = {0};
	pcap_hdr(&s, 0xa1b2c3d4u, SYNACK_LINKTYPE_ETHERNET);
	pcap_rec(&s, 1, 0, eth6, 14, ip6, 40, 40);
	pcap_rec(&s, 1, 0, vlan6, 18, ip6, 40, 40);
	pcap_rec(&s, 1, 0, eth6, 14, ip4, 40, 40); /* 0x86DD, but an IPv4 packet */
	struct result r = read_all(s.b, s.n);
	cr_assert_eq(r.n, 2);
	cr_assert_eq(r.first.ip_len, 40);
	cr_assert_eq(memcmp(r.ip0, ip6, 40), 0, "the Ethernet header is stripped");
	cr_assert_eq(r.st.non_ip, 1);
}

/* BSD loopback: AF_INET6 is 10, 24, 28 or 30 depending on the system that wrote the file, in
 * either byte order (NULL: the host's, LOOP: network order). */
Test(pcapread, bsd_loopback_ipv6)
{
	static const uint32_t afs[] = {10, 24, 28, 30};
	for (int i = 0; i < 4; i++) {
		uint8_t le[4] = {(uint8_t)afs[i], 0, 0, 0}, be[4] = {0, 0, 0, (uint8_t)afs[i]};
		struct bytes s = {0};
		pcap_hdr(&s, 0xa1b2c3d4u, SYNACK_LINKTYPE_NULL);
		pcap_rec(&s, 1, 0, le, 4, ip6, 40, 40);
		pcap_rec(&s, 1, 0, be, 4, ip6, 40, 40);
		struct result r = read_all(s.b, s.n);
		cr_assert_eq(r.n, 2, "AF %u", afs[i]);
		cr_assert_eq(memcmp(r.ip0, ip6, 40), 0);
	}
	uint8_t af23[4] = {23, 0, 0, 0};
	struct bytes s = {0};
	pcap_hdr(&s, 0xa1b2c3d4u, SYNACK_LINKTYPE_LOOP);
	pcap_rec(&s, 1, 0, af23, 4, ip6, 40, 40);
	struct result r = read_all(s.b, s.n);
	cr_assert_eq(r.n, 0);
	cr_assert_eq(r.st.non_ip, 1);
}

Test(pcapread, ethernet_with_vlan_tags_and_arp)
{
	uint8_t eth[14] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x08, 0x00};
	uint8_t vlan[18] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x81, 0x00, 0, 5, 0x08, 0x00};
	uint8_t qinq[22] = {1,	2,    3,    4, 5, 6,	7,    8, 9, 10,	  11,
			    12, 0x88, 0xa8, 0, 7, 0x81, 0x00, 0, 5, 0x08, 0x00};
	uint8_t arp[14] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x08, 0x06};
	struct bytes s = {0};
	pcap_hdr(&s, 0xa1b2c3d4u, SYNACK_LINKTYPE_ETHERNET);
	pcap_rec(&s, 1, 0, eth, 14, ip4, 40, 40);
	pcap_rec(&s, 1, 0, vlan, 18, ip4, 40, 40);
	pcap_rec(&s, 1, 0, qinq, 22, ip4, 40, 40);
	pcap_rec(&s, 1, 0, arp, 14, ip4, 28, 28);
	pcap_rec(&s, 1, 0, eth, 10, NULL, 0, 0); /* runt: link header cut short */
	struct result r = read_all(s.b, s.n);
	cr_assert_eq(r.n, 3);
	cr_assert_eq(r.first.ip_len, 40);
	cr_assert_eq(r.st.non_ip, 1);
	cr_assert_eq(r.st.bad_link, 1);
	cr_assert_eq(r.st.records, 5);
}

Test(pcapread, linux_cooked_sll_and_sll2)
{
	uint8_t sll[16] = {0, 4, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00};
	uint8_t sll2[20] = {0x08, 0x00, 0, 0, 0, 0, 0, 3, 0, 1, 4, 6, 1, 2, 3, 4, 5, 6, 0, 0};
	uint8_t sll_v6[16] = {0, 4, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x86, 0xdd};
	uint8_t sll_arp[16] = {0, 4, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x06};
	uint8_t sll2_v6[20] = {0x86, 0xdd, 0, 0, 0, 0, 0, 3, 0, 1, 4, 6, 1, 2, 3, 4, 5, 6, 0, 0};
	struct bytes s = {0};
	pcap_hdr(&s, 0xa1b2c3d4u, SYNACK_LINKTYPE_LINUX_SLL);
	pcap_rec(&s, 1, 0, sll, 16, ip4, 40, 40);
	pcap_rec(&s, 1, 0, sll_v6, 16, ip6, 40, 40);
	pcap_rec(&s, 1, 0, sll_arp, 16, ip4, 28, 28);
	struct result r = read_all(s.b, s.n);
	cr_assert_eq(r.n, 2);
	cr_assert_eq(r.st.non_ip, 1);
	cr_assert_eq(memcmp(r.ip0, ip4, 40), 0, "the 16-byte SLL header is stripped");

	struct bytes s2 = {0};
	pcap_hdr(&s2, 0xa1b2c3d4u, SYNACK_LINKTYPE_LINUX_SLL2);
	pcap_rec(&s2, 1, 0, sll2_v6, 20, ip6, 40, 40);
	pcap_rec(&s2, 1, 0, sll2, 20, ip4, 40, 40);
	r = read_all(s2.b, s2.n);
	cr_assert_eq(r.n, 2);
	cr_assert_eq(r.first.ip_len, 40);
	cr_assert_eq(memcmp(r.ip0, ip6, 40), 0, "the 20-byte SLL2 header is stripped");
}

Test(pcapread, snaplen_truncated_packets_are_counted_and_skipped)
{
	struct bytes s = {0};
	pcap_hdr(&s, 0xa1b2c3d4u, SYNACK_LINKTYPE_RAW);
	pcap_rec(&s, 1, 0, NULL, 0, ip4, 30, 1500);
	pcap_rec(&s, 2, 0, NULL, 0, ip4, 40, 40);
	struct result r = read_all(s.b, s.n);
	cr_assert_eq(r.n, 1);
	cr_assert_eq(r.st.truncated, 1);
	cr_assert_eq(r.t[0], 2000000000ull);
}

Test(pcapread, unknown_linktype_is_skipped_with_a_count)
{
	struct bytes s = {0};
	pcap_hdr(&s, 0xa1b2c3d4u, 147); /* a user link type */
	pcap_rec(&s, 1, 0, NULL, 0, ip4, 40, 40);
	struct result r = read_all(s.b, s.n);
	cr_assert_eq(r.n, 0);
	cr_assert_eq(r.last_rc, 0);
	cr_assert_eq(r.st.bad_link, 1);
}

/* ---- pcapng ------------------------------------------------------------------------------ */

static void ng_shb(struct bytes *s)
{
	put32(s, 0x0A0D0D0Au);
	put32(s, 28);
	put32(s, 0x1A2B3C4Du);
	put16(s, 1);
	put16(s, 0);
	put32(s, 0xffffffffu);
	put32(s, 0xffffffffu);
	put32(s, 28);
}

static void ng_idb(struct bytes *s, uint32_t linktype, int tsresol)
{
	uint32_t len = tsresol >= 0 ? 20 + 12 : 20;
	put32(s, 1);
	put32(s, len);
	put16(s, linktype);
	put16(s, 0);
	put32(s, 0);
	if (tsresol >= 0) {
		put16(s, 9);
		put16(s, 1);
		uint8_t opt[4] = {(uint8_t)tsresol, 0, 0, 0};
		put(s, opt, 4);
		put32(s, 0); /* opt_endofopt */
	}
	put32(s, len);
}

static void ng_epb(struct bytes *s, uint32_t ifid, uint64_t ts, const void *pkt, size_t caplen,
		   size_t origlen)
{
	size_t pad = (4 - caplen % 4) % 4;
	uint32_t len = (uint32_t)(32 + caplen + pad);
	put32(s, 6);
	put32(s, len);
	put32(s, ifid);
	put32(s, (uint32_t)(ts >> 32));
	put32(s, (uint32_t)ts);
	put32(s, (uint32_t)caplen);
	put32(s, (uint32_t)origlen);
	put(s, pkt, caplen);
	uint8_t z[4] = {0};
	put(s, z, pad);
	put32(s, len);
}

static void ng_spb(struct bytes *s, const void *pkt, size_t n)
{
	uint32_t len = (uint32_t)(16 + n);
	put32(s, 3);
	put32(s, len);
	put32(s, (uint32_t)n);
	put(s, pkt, n);
	put32(s, len);
}

static void ng_unknown(struct bytes *s)
{
	put32(s, 0x00000BADu);
	put32(s, 16);
	put32(s, 0xdeadbeefu);
	put32(s, 16);
}

static size_t build_ng(struct bytes *s)
{
	ng_shb(s);
	ng_idb(s, SYNACK_LINKTYPE_RAW, -1);   /* microseconds by default */
	ng_idb(s, SYNACK_LINKTYPE_IPV4, 9);   /* nanoseconds */
	ng_idb(s, SYNACK_LINKTYPE_RAW, 0x8a); /* 2^-10 seconds */
	ng_unknown(s);
	ng_epb(s, 0, 5000001ull, ip4, 40, 40);
	ng_epb(s, 1, 7000000123ull, ip4, 40, 40);
	ng_epb(s, 2, 3ull * 1024 + 512, ip4, 40, 40);
	ng_spb(s, ip4, 40);
	ng_epb(s, 0, 1, ip4, 39, 39); /* odd length: padded */
	return s->n;
}

Test(pcapng, little_endian_blocks_resolutions_and_unknown_blocks)
{
	struct bytes s = {0};
	build_ng(&s);
	struct result r = read_all(s.b, s.n);
	cr_assert_eq(r.open_rc, 0);
	cr_assert_eq(r.last_rc, 0, "%s", r.err);
	cr_assert_eq(r.n, 5);
	cr_assert_eq(r.t[0], 5000001000ull);
	cr_assert_eq(r.t[1], 7000000123ull);
	cr_assert_eq(r.t[2], 3500000000ull);
	cr_assert_eq(r.t[3], 3500000000ull, "a simple packet block takes the previous time");
	cr_assert_eq(r.t[4], 1000ull);
}

Test(pcapng, big_endian_section)
{
	struct bytes s = {.be = true};
	build_ng(&s);
	struct result r = read_all(s.b, s.n);
	cr_assert_eq(r.last_rc, 0, "%s", r.err);
	cr_assert_eq(r.n, 5);
	cr_assert_eq(r.t[1], 7000000123ull);
}

/* pcapng with IPv6: enhanced packet blocks on a raw, an IPv6 and an Ethernet interface, in
 * both byte orders. */
Test(pcapng, ipv6_on_raw_ipv6_and_ethernet_interfaces)
{
	uint8_t frame[54] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x86, 0xdd};
	memcpy(frame + 14, ip6, 40);
	for (int be = 0; be < 2; be++) {
		struct bytes s = {.be = be};
		ng_shb(&s);
		ng_idb(&s, SYNACK_LINKTYPE_RAW, -1);
		ng_idb(&s, SYNACK_LINKTYPE_IPV6, -1);
		ng_idb(&s, SYNACK_LINKTYPE_ETHERNET, -1);
		ng_epb(&s, 0, 1, ip6, 40, 40);
		ng_epb(&s, 1, 2, ip6, 40, 40);
		ng_epb(&s, 2, 3, frame, 54, 54);
		ng_epb(&s, 1, 4, ip4, 40, 40); /* an IPv4 packet on the IPv6 interface */
		struct result r = read_all(s.b, s.n);
		cr_assert_eq(r.last_rc, 0, "%s", r.err);
		cr_assert_eq(r.n, 3);
		cr_assert_eq(r.st.ip, 3);
		cr_assert_eq(r.st.non_ip, 1);
		cr_assert_eq(memcmp(r.ip0, ip6, 40), 0);
		cr_assert_eq(r.t[2], 3000ull);
	}
}

Test(pcapng, new_section_forgets_interfaces_and_may_change_byte_order)
{
	struct bytes s = {0};
	build_ng(&s);
	s.be = true;
	ng_shb(&s);
	ng_idb(&s, SYNACK_LINKTYPE_RAW, 9);
	ng_epb(&s, 0, 42, ip4, 40, 40);
	ng_epb(&s, 2, 42, ip4, 40, 40); /* interface 2 belonged to the first section */
	struct result r = read_all(s.b, s.n);
	cr_assert_eq(r.n, 6);
	cr_assert_eq(r.last_rc, -EINVAL);
	cr_assert(strstr(r.err, "interface 2"), "%s", r.err);
}

Test(pcapng, packet_for_undescribed_interface_is_an_error)
{
	struct bytes s = {0};
	ng_shb(&s);
	ng_epb(&s, 0, 1, ip4, 40, 40);
	struct result r = read_all(s.b, s.n);
	cr_assert_eq(r.last_rc, -EINVAL);
	cr_assert(strstr(r.err, "interface 0"), "%s", r.err);
}

Test(pcapng, mismatched_trailing_length)
{
	struct bytes s = {0};
	ng_shb(&s);
	ng_idb(&s, SYNACK_LINKTYPE_RAW, -1);
	ng_epb(&s, 0, 1, ip4, 40, 40);
	s.b[s.n - 1] ^= 0x40;
	struct result r = read_all(s.b, s.n);
	cr_assert_eq(r.last_rc, -EINVAL);
	cr_assert(strstr(r.err, "trailing length"), "%s", r.err);
}

/* ---- malformed files ----------------------------------------------------------------------- */

Test(pcapread, empty_file)
{
	struct result r = read_all((const uint8_t *)"", 0);
	cr_assert_eq(r.open_rc, -ENODATA);
	cr_assert(strstr(r.err, "empty"), "%s", r.err);
}

Test(pcapread, not_a_capture)
{
	const char *txt = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	struct result r = read_all((const uint8_t *)txt, strlen(txt));
	cr_assert_eq(r.open_rc, -EINVAL);
	cr_assert(strstr(r.err, "not a pcap or pcapng file"), "%s", r.err);
}

Test(pcapread, truncated_header_and_record)
{
	struct bytes s = {0};
	pcap_hdr(&s, 0xa1b2c3d4u, SYNACK_LINKTYPE_RAW);
	struct result r = read_all(s.b, 10);
	cr_assert_eq(r.open_rc, -EINVAL);
	cr_assert(strstr(r.err, "truncated pcap file header"), "%s", r.err);

	pcap_rec(&s, 1, 0, NULL, 0, ip4, 40, 40);
	pcap_rec(&s, 1, 0, NULL, 0, ip4, 40, 40);
	r = read_all(s.b, s.n - 5);
	cr_assert_eq(r.n, 1, "the packets before the cut are read");
	cr_assert_eq(r.last_rc, -EINVAL);
	cr_assert(strstr(r.err, "truncated packet record"), "%s", r.err);
}

Test(pcapread, absurd_captured_length)
{
	struct bytes s = {0};
	pcap_hdr(&s, 0xa1b2c3d4u, SYNACK_LINKTYPE_RAW);
	put32(&s, 1);
	put32(&s, 0);
	put32(&s, 0x7fffffffu);
	put32(&s, 0x7fffffffu);
	struct result r = read_all(s.b, s.n);
	cr_assert_eq(r.last_rc, -EINVAL);
	cr_assert(strstr(r.err, "captured length 2147483647"), "%s", r.err);
}

Test(pcapread, unsupported_version)
{
	struct bytes s = {0};
	pcap_hdr(&s, 0xa1b2c3d4u, SYNACK_LINKTYPE_RAW);
	s.b[4] = 3;
	struct result r = read_all(s.b, s.n);
	cr_assert_eq(r.open_rc, -EINVAL);
	cr_assert(strstr(r.err, "version 3"), "%s", r.err);
}

/* Every prefix of a valid capture, and many randomly corrupted copies, are read to their end
 * or to an error; never past a buffer (run under `make SAN=1 unit`). */
Test(pcapread, every_truncation_and_random_corruption_is_safe)
{
	struct bytes s = {0};
	size_t n = build_ng(&s);
	struct bytes c = {0};
	pcap_hdr(&c, 0xa1b2c3d4u, SYNACK_LINKTYPE_ETHERNET);
	uint8_t eth[14] = {[12] = 0x08};
	pcap_rec(&c, 1, 0, eth, 14, ip4, 40, 40);
	pcap_rec(&c, 1, 0, eth, 14, ip4, 40, 40);
	const struct bytes *inputs[2] = {&s, &c};
	for (int k = 0; k < 2; k++) {
		const struct bytes *in = inputs[k];
		n = in->n;
		for (size_t cut = 0; cut < n; cut++) {
			struct result r = read_all(in->b, cut);
			cr_assert(r.open_rc < 0 || r.last_rc < 0 || r.n <= 5,
				  "a cut file is an error or shorter");
		}
		uint32_t x = 12345;
		for (int it = 0; it < 3000; it++) {
			uint8_t buf[4096];
			memcpy(buf, in->b, n);
			for (int flips = 0; flips < 1 + it % 4; flips++) {
				x = x * 1103515245u + 12345u;
				buf[(x >> 8) % n] = (uint8_t)(x >> 20);
			}
			struct result r = read_all(buf, n);
			cr_assert_leq(r.n, 8);
		}
	}
}
