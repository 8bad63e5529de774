/* Fuzz target: fragment reassembly for both families (src/core/reasm.c, reached through
 * src/core/ip.c and ip6.c), with IPv6 extension headers around the Fragment header.
 *
 * fuzz_ip6 and fuzz_wire give the stack one packet at a time, so a datagram in several
 * fragments is never put together there. Here the input is a sequence of packets, each
 *   [u8 dt][u16 len][len bytes]
 * delivered dt x 0.5 s after the previous one (255 is past both reassembly timeouts, 30 s and
 * 60 s), into one dual-stack stack (10.0.0.2 and fd00::2) with a listener on port 80. The
 * version nibble says the family; the addresses are written over the packet's (10.0.0.1 ->
 * 10.0.0.2, fd00::1 -> fd00::2, the IPv4 header checksum recomputed) so that it is for the
 * stack and fragments of one datagram share their key.
 *
 * Invariants: every frame the stack sends parses as IPv4 or IPv6 from one of its addresses;
 * no more datagrams are reassembled or timed out than were asked for, per family; and after
 * an hour of virtual time and the stack's destruction nothing is left allocated. */
#include "fuzz.h"

#include "synack/synack.h"

#define RA_LOCAL4 0x0a000002u
#define RA_PEER4 0x0a000001u
static const uint8_t RA_LOCAL6[16] = {0xfd, [15] = 2};
static const uint8_t RA_PEER6[16] = {0xfd, [15] = 1};

struct ra_world {
	struct fuzz_alloc_count mem;
};

static void ra_output(void *ctx, const uint8_t *frame, const struct synack_frame_meta *meta)
{
	(void)ctx;
	struct synack_ip_hdr ip;
	const uint8_t *p;
	size_t plen;
	FUZZ_ASSERT(synack_ip_parse(frame, meta->len, &ip, &p, &plen) == 0, "a frame sent parses");
	struct synack_addr l4 = synack_addr_v4(RA_LOCAL4), l6 = synack_addr_v6(RA_LOCAL6);
	FUZZ_ASSERT(synack_addr_eq(&ip.src, &l4) || synack_addr_eq(&ip.src, &l6),
		    "sent from one of our addresses");
}

/* Writes the peer's and our addresses over the packet's (len >= the fixed header). */
static void readdress(uint8_t *pkt, size_t len)
{
	if (pkt[0] >> 4 == 6) {
		memcpy(pkt + 8, RA_PEER6, 16);
		memcpy(pkt + 24, RA_LOCAL6, 16);
		return;
	}
	static const uint8_t peer[4] = {10, 0, 0, 1}, local[4] = {10, 0, 0, 2};
	memcpy(pkt + 12, peer, 4);
	memcpy(pkt + 16, local, 4);
	size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;
	if (ihl < 20 || ihl > len)
		return;
	pkt[10] = pkt[11] = 0;
	uint16_t sum = synack_csum_fold(synack_csum_add(0, pkt, ihl));
	pkt[10] = (uint8_t)(sum >> 8);
	pkt[11] = (uint8_t)sum;
	if (synack_csum_fold(synack_csum_add(0, pkt, ihl)) != 0) { /* the other byte order */
		pkt[10] = (uint8_t)sum;
		pkt[11] = (uint8_t)(sum >> 8);
	}
}

static struct synack_stack *ra_stack(struct ra_world *w)
{
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.name = "fuzzreasm";
	synack_config_add_addr(&cfg, synack_addr_v4(RA_LOCAL4), 24);
	synack_config_add_addr(&cfg, synack_addr_v6(RA_LOCAL6), 64);
	memset(cfg.secret, 0x5a, sizeof(cfg.secret));
	cfg.allocator = (struct synack_allocator){fuzz_count_alloc, fuzz_count_free, &w->mem};
	cfg.output = ra_output;
	cfg.output_ctx = w;
	cfg.max_sockets = 8;
	struct synack_stack *s;
	return synack_stack_new(&s, &cfg) == 0 ? s : NULL;
}

static void check_counters(struct synack_stack *s)
{
	struct synack_counters c;
	synack_stack_counters(s, &c);
	FUZZ_ASSERT(c.v[SYNACK_CTR_IpReasmOKs] + c.v[SYNACK_CTR_IpReasmTimeout] <=
			    c.v[SYNACK_CTR_IpReasmReqds],
		    "IPv4: %llu reassembled and %llu timed out of %llu fragments",
		    (unsigned long long)c.v[SYNACK_CTR_IpReasmOKs],
		    (unsigned long long)c.v[SYNACK_CTR_IpReasmTimeout],
		    (unsigned long long)c.v[SYNACK_CTR_IpReasmReqds]);
	FUZZ_ASSERT(c.v[SYNACK_CTR_Ip6ReasmOKs] + c.v[SYNACK_CTR_Ip6ReasmTimeout] <=
			    c.v[SYNACK_CTR_Ip6ReasmReqds],
		    "IPv6: %llu reassembled and %llu timed out of %llu fragments",
		    (unsigned long long)c.v[SYNACK_CTR_Ip6ReasmOKs],
		    (unsigned long long)c.v[SYNACK_CTR_Ip6ReasmTimeout],
		    (unsigned long long)c.v[SYNACK_CTR_Ip6ReasmReqds]);
}

int synack_fuzz_reasm(const uint8_t *data, size_t len);
int synack_fuzz_reasm(const uint8_t *data, size_t len)
{
	struct ra_world w = {0};
	struct synack_stack *s = ra_stack(&w);
	if (!s)
		return 0;
	int lfd = synack_socket(s);
	struct synack_endpoint any = {synack_addr_any(SYNACK_AF_INET6), 80};
	FUZZ_ASSERT(synack_bind(s, lfd, &any) == 0 && synack_listen(s, lfd, 4) == 0, "listener");
	struct fuzz_input in = {data, len};
	static uint8_t pkt[4096];
	uint64_t now = 1000000;
	for (int n = 0; n < 256 && !fuzz_empty(&in); n++) {
		now += (uint64_t)fuzz_u8(&in) * 500000;
		size_t want = fuzz_u16(&in) % sizeof pkt;
		size_t k = want < in.n ? want : in.n;
		memcpy(pkt, in.p, k);
		in.p += k;
		in.n -= k;
		if (k >= 40 || (k >= 20 && pkt[0] >> 4 == 4))
			readdress(pkt, k);
		synack_stack_input(s, pkt, k, now);
		synack_stack_poll(s, now);
	}
	check_counters(s);
	synack_close(s, lfd);
	synack_stack_poll(s, now + 3600ull * 1000000);
	check_counters(s);
	synack_stack_destroy(s);
	FUZZ_ASSERT(w.mem.blocks == 0 && w.mem.bytes == 0, "after destroy: %zu blocks, %zu bytes",
		    w.mem.blocks, w.mem.bytes);
	return 0;
}

#ifndef SYNACK_FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	return synack_fuzz_reasm(data, len);
}
#endif
