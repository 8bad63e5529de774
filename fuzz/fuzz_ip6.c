/* Fuzz target: IPv6 (include/synack/wire.h's IPv6 codec, src/core/ip6.c, icmp6.c).
 *
 * Every input is used two ways:
 *  1. as a whole IPv6 packet for the codec: parse never reads outside the buffer; what it
 *     accepts is consistent (the upper layer starts at hdr_len within the payload length, a
 *     Parameter Problem pointer lies inside the packet); re-emitting the fixed header gives
 *     back the same 40 bytes (with the payload length parsed);
 *  2. as a packet from fd00::1 to a dual-stack stack at fd00::2 with a listener on :80 (the
 *     addresses are written over the input's so that the packet is for it): the stack takes
 *     it (TCP, ICMPv6, extension headers, errors it answers) without crashing, every frame it
 *     sends is an IPv6 or IPv4 packet that parses, and destroying it frees everything. */
#include "fuzz.h"

#include "synack/synack.h"

static const uint8_t LOCAL6[16] = {0xfd, [15] = 2};
static const uint8_t PEER6[16] = {0xfd, [15] = 1};

struct ip6_world {
	struct fuzz_alloc_count mem;
	size_t frames;
};

static void w6_output(void *ctx, const uint8_t *frame, const struct synack_frame_meta *meta)
{
	struct ip6_world *w = ctx;
	w->frames++;
	struct synack_ipv6 ip;
	const uint8_t *p;
	size_t plen;
	FUZZ_ASSERT(meta->family == SYNACK_AF_INET6, "family %u", meta->family);
	FUZZ_ASSERT(synack_ipv6_parse(frame, meta->len, &ip, &p, &plen) == 0, "a frame sent parses");
	FUZZ_ASSERT(memcmp(ip.src.b, LOCAL6, 16) == 0, "sent from our address");
}

static void codec(const uint8_t *data, size_t len)
{
	struct synack_ipv6 ip;
	const uint8_t *p = NULL;
	size_t plen = 0;
	int rc = synack_ipv6_parse(data, len, &ip, &p, &plen);
	if (ip.pp_send)
		FUZZ_ASSERT(rc < 0 && ip.pp_ptr < len, "pointer %u of %zu", ip.pp_ptr, len);
	if (rc < 0)
		return;
	size_t end = 40 + (size_t)ip.payload_len;
	FUZZ_ASSERT(end <= len, "payload length %u of %zu", ip.payload_len, len);
	FUZZ_ASSERT(ip.hdr_len >= 40 && ip.hdr_len <= end, "hdr_len %u", ip.hdr_len);
	FUZZ_ASSERT(p == data + ip.hdr_len && plen == end - ip.hdr_len, "payload");
	FUZZ_ASSERT(ip.proto_at < ip.hdr_len && data[ip.proto_at] == ip.proto, "proto_at");
	uint8_t again[40];
	FUZZ_ASSERT(synack_ipv6_emit(again, sizeof again, &ip, ip.payload_len) == 40, "emit");
	FUZZ_ASSERT(memcmp(again, data, 40) == 0, "the fixed header round-trips");
}

int synack_fuzz_ip6(const uint8_t *data, size_t len);
int synack_fuzz_ip6(const uint8_t *data, size_t len)
{
	codec(data, len);
	if (len < 40 || len > 4096)
		return 0;
	static uint8_t pkt[4096];
	memcpy(pkt, data, len);
	pkt[0] = (uint8_t)(0x60 | (pkt[0] & 0x0f));
	memcpy(pkt + 8, PEER6, 16);
	memcpy(pkt + 24, LOCAL6, 16);
	struct ip6_world w = {0};
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.name = "fuzz6";
	synack_config_add_addr(&cfg, synack_addr_v4(0x0a000002u), 24);
	synack_config_add_addr(&cfg, synack_addr_v6(LOCAL6), 64);
	memset(cfg.secret, 0x42, sizeof(cfg.secret));
	cfg.allocator = (struct synack_allocator){fuzz_count_alloc, fuzz_count_free, &w.mem};
	cfg.output = w6_output;
	cfg.output_ctx = &w;
	cfg.max_sockets = 8;
	struct synack_stack *s;
	if (synack_stack_new(&s, &cfg) != 0)
		return 0;
	int lfd = synack_socket(s);
	struct synack_endpoint any = {synack_addr_any(SYNACK_AF_INET6), 80};
	FUZZ_ASSERT(synack_bind(s, lfd, &any) == 0 && synack_listen(s, lfd, 4) == 0, "listener");
	synack_stack_input(s, pkt, len, 1000000);
	synack_stack_input(s, pkt, len, 1000001); /* twice: a duplicate finds state */
	synack_close(s, lfd);
	synack_stack_poll(s, 1000000 + 3600ull * 1000000);
	synack_stack_destroy(s);
	FUZZ_ASSERT(w.mem.blocks == 0 && w.mem.bytes == 0, "after destroy: %zu blocks, %zu bytes",
		    w.mem.blocks, w.mem.bytes);
	return 0;
}

#ifndef SYNACK_FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	return synack_fuzz_ip6(data, len);
}
#endif
