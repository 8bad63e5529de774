/* Frames with metadata (frame.h): checksum offload on the way out (caps.tx_csum), trusted
 * checksums on the way in (SYNACK_CSUM_VERIFIED / NEEDED), and the MTU bounding every frame
 * (caps.mtu). */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "support/segtest.h"

/* One conversation, the same whatever the caps: passive open with SACK, data both ways,
 * the stack's FIN, and a RST for a segment to a closed port. */
static void conversation(struct segtest *t)
{
	int lfd = st_listen(t, 80, 4);
	struct synack_tcp_opts o = {.has_mss = true, .mss = 1460, .sack_ok = true};
	ST_IN(t, .flags = F_S, .seq = 0, .opts = o);
	struct st_seg sa;
	st_expect_ack(t, F_S | F_A, 1, &sa);
	uint32_t iss = sa.seq;
	ST_IN(t, .flags = F_A, .seq = 1, .ack = iss + 1);
	int fd = synack_accept(t->s, lfd, NULL);
	cr_assert_geq(fd, 0);
	ST_IN(t, .flags = F_A | F_P, .seq = 1, .ack = iss + 1, .data = "hello", .len = 5);
	static uint8_t data[3001]; /* odd: the last segment has an odd length */
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 7 + 3);
	cr_assert_eq(synack_send(t->s, fd, data, sizeof data, 0), (ssize_t)sizeof data);
	cr_assert_eq(synack_close(t->s, fd), 0);
	ST_IN(t, .flags = F_S, .seq = 77, .dport = 81); /* nobody there: RST */
}

Test(offload, tx_csum_frames_complete_to_the_bytes_a_caps_less_stack_sends)
{
	struct segtest plain, off;
	struct synack_config cfg;
	st_config(&cfg);
	st_init(&plain, &cfg);
	cfg.caps.tx_csum = 1;
	st_init(&off, &cfg);
	conversation(&plain);
	conversation(&off);
	cr_assert_eq(off.nframes, plain.nframes);
	cr_assert_geq(plain.nframes, 6, "SYN-ACK, ACK, data, FIN, RST: %zu", plain.nframes);
	size_t differ = 0;
	for (size_t i = 0; i < plain.nframes; i++) {
		const struct st_frame *p = &plain.frames[i], *o = &off.frames[i];
		cr_assert_eq(p->meta.csum, SYNACK_CSUM_NONE);
		cr_assert_eq(p->meta.len, p->len);
		cr_assert_eq(p->meta.family, SYNACK_AF_INET);
		cr_assert_eq(o->meta.csum, SYNACK_CSUM_NEEDED, "frame %zu", i);
		cr_assert_eq(o->meta.csum_start, 20, "the TCP header follows a 20-byte IPv4 header");
		cr_assert_eq(o->meta.csum_offset, 16);
		cr_assert_eq(o->meta.len, p->len);
		cr_assert_eq(o->meta.family, SYNACK_AF_INET);
		cr_assert_eq(o->meta.gso_type, SYNACK_GSO_NONE);
		cr_assert_eq(o->len, p->len);
		/* Only the TCP checksum field differs, and it holds the pseudo-header sum. */
		cr_assert_arr_eq(o->b, p->b, 36, "IPv4 header (checksum included) and ports..");
		cr_assert_arr_eq(o->b + 38, p->b + 38, p->len - 38);
		uint16_t field = (uint16_t)(o->b[36] << 8 | o->b[37]);
		cr_assert_eq(field, synack_tcp_pseudo_csum(ST_V4(ST_LOCAL), ST_V4(ST_PEER), p->len - 20), "frame %zu", i);
		differ += memcmp(o->b + 36, p->b + 36, 2) != 0;
		uint8_t done[ST_FRAME_CAP];
		memcpy(done, o->b, o->len);
		struct synack_frame_meta m = o->meta;
		cr_assert_eq(synack_frame_csum_complete(done, &m), 0);
		cr_assert_eq(m.csum, SYNACK_CSUM_NONE);
		cr_assert_arr_eq(done, p->b, p->len, "frame %zu completes to the caps-less bytes", i);
	}
	cr_assert_eq(differ, plain.nframes, "every offloaded field differs from the complete one");
	st_fini(&plain);
	st_fini(&off);
}

/* A SYN to port 80 from the peer, its TCP checksum spoiled when bad is set. */
static size_t syn_frame(uint8_t *buf, size_t cap, uint16_t sport, bool bad)
{
	struct synack_tcp_seg seg = {.sport = sport, .dport = 80, .seq = 1000, .flags = F_S,
				     .win = 65535};
	int n = synack_tcp_emit(buf, cap, ST_V4(ST_PEER), ST_V4(ST_LOCAL), 1, &seg);
	cr_assert_gt(n, 0);
	if (bad)
		buf[37] ^= 0x5a;
	return (size_t)n;
}

static int input(struct segtest *t, const uint8_t *f, size_t len, uint8_t csum)
{
	struct synack_frame_meta m = synack_frame_meta_plain(f, len);
	m.csum = csum;
	if (csum == SYNACK_CSUM_NEEDED) {
		m.csum_start = 20;
		m.csum_offset = 16;
	}
	return synack_stack_input_frame(t->s, f, &m, t->now);
}

Test(offload, verified_input_skips_the_tcp_checksum_none_verifies_it)
{
	struct segtest t;
	st_init(&t, NULL);
	st_listen(&t, 80, 8);
	uint8_t f[128];
	size_t n = syn_frame(f, sizeof f, 40000, true);

	cr_assert_eq(input(&t, f, n, SYNACK_CSUM_NONE), 0);
	cr_assert_eq(st_drops(&t, SYNACK_DROP_TCP_BAD_CSUM), 1);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_InCsumErrors), 1);
	st_expect_none(&t);
	st_send_raw(&t, f, n); /* no metadata at all: the same */
	cr_assert_eq(st_drops(&t, SYNACK_DROP_TCP_BAD_CSUM), 2);
	st_expect_none(&t);

	cr_assert_eq(input(&t, f, n, SYNACK_CSUM_VERIFIED), 0);
	cr_assert_eq(st_drops(&t, SYNACK_DROP_TCP_BAD_CSUM), 2, "the link vouched for it");
	st_expect_ack(&t, F_S | F_A, 1001, NULL);

	/* NEEDED: a local sender left the sum to offload; trusted the same way. */
	n = syn_frame(f, sizeof f, 40001, true);
	cr_assert_eq(input(&t, f, n, SYNACK_CSUM_NEEDED), 0);
	st_expect_ack(&t, F_S | F_A, 1001, NULL);
	cr_assert_eq(st_drops(&t, SYNACK_DROP_TCP_BAD_CSUM), 2);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_InCsumErrors), 2);
	st_fini(&t);
}

Test(offload, a_needed_frame_from_an_offloading_stack_is_taken_as_needed_not_as_none)
{
	/* The client's SYN as an offloading stack sends it: the field holds the pseudo sum. */
	struct segtest c, s;
	struct synack_config cfg;
	st_config(&cfg);
	cfg.caps.tx_csum = 1;
	st_init(&c, &cfg);
	struct st_seg syn;
	st_start_connect(&c, &syn);
	const struct st_frame *f = &c.frames[0];
	cr_assert_eq(f->meta.csum, SYNACK_CSUM_NEEDED);

	/* The server answers to 10.0.0.2 too; feed it the client's frame with the addresses
	 * swapped would change the sums, so the server here is a stack at the client's
	 * destination: give it that address. */
	struct synack_config scfg;
	st_config(&scfg);
	scfg.naddrs = 0;
	synack_config_add_addr(&scfg, synack_addr_v4(ST_PEER), 24);
	st_init(&s, &scfg);
	st_listen(&s, ST_SERVER_PORT, 4);
	cr_assert_eq(synack_stack_input_frame(s.s, f->b, &f->meta, 0), 0);
	cr_assert_eq(s.nframes, 1, "NEEDED: trusted, the SYN is answered");
	struct synack_frame_meta none = f->meta;
	none.csum = SYNACK_CSUM_NONE;
	cr_assert_eq(synack_stack_input_frame(s.s, f->b, &none, 0), 0);
	cr_assert_eq(st_drops(&s, SYNACK_DROP_TCP_BAD_CSUM), 1,
		     "the same bytes without the promise: the pseudo sum alone is no checksum");
	cr_assert_eq(s.nframes, 1);
	st_fini(&s);
	st_fini(&c);
}

Test(offload, the_ip_header_checksum_is_verified_whatever_the_metadata)
{
	struct segtest t;
	st_init(&t, NULL);
	st_listen(&t, 80, 8);
	uint8_t f[128];
	size_t n = syn_frame(f, sizeof f, 40000, false);
	f[10] ^= 0x01;
	cr_assert_eq(input(&t, f, n, SYNACK_CSUM_VERIFIED), 0);
	cr_assert_eq(st_drops(&t, SYNACK_DROP_IP_BAD_CSUM), 1);
	st_expect_none(&t);
	st_fini(&t);
}

Test(offload, input_frame_rejects_bad_metadata_and_does_nothing)
{
	struct segtest t;
	st_init(&t, NULL);
	st_listen(&t, 80, 8);
	uint8_t f[128];
	size_t n = syn_frame(f, sizeof f, 40000, false);
	struct synack_frame_meta m = synack_frame_meta_plain(f, n);
	cr_assert_eq(synack_stack_input_frame(t.s, f, NULL, 0), -EINVAL);
	cr_assert_eq(synack_stack_input_frame(t.s, NULL, &m, 0), -EINVAL);
	m.csum = 3;
	cr_assert_eq(synack_stack_input_frame(t.s, f, &m, 0), -EINVAL);
	m.csum = SYNACK_CSUM_NONE;
	m.gso_type = 3;
	cr_assert_eq(synack_stack_input_frame(t.s, f, &m, 0), -EINVAL);
	m.gso_type = SYNACK_GSO_NONE;
	m.csum = SYNACK_CSUM_NEEDED;
	m.csum_start = (uint16_t)(n - 17);
	m.csum_offset = 16; /* the field would end one byte past the frame */
	cr_assert_eq(synack_stack_input_frame(t.s, f, &m, 0), -EINVAL);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_IpInReceives), 0, "nothing was taken");
	st_expect_none(&t);
	m.csum_start = (uint16_t)(n - 18);
	cr_assert_eq(synack_stack_input_frame(t.s, f, &m, 0), 0, "the field fits: taken");
	cr_assert_eq(st_counter(&t, SYNACK_CTR_IpInReceives), 1);
	st_fini(&t);
}

static void dummy_out(void *ctx, const uint8_t *f, const struct synack_frame_meta *m) {}

Test(offload, mtu_bounds_the_announced_mss_and_is_checked)
{
	struct synack_config cfg;
	synack_config_default(&cfg);
	synack_config_add_addr(&cfg, synack_addr_v4(ST_LOCAL), 24);
	cfg.output = dummy_out;
	struct synack_stack *s;
	cfg.caps.mtu = 103;
	cr_assert_eq(synack_stack_new(&s, &cfg), -EINVAL, "no room for the smallest MSS (64)");
	cfg.caps.mtu = 65536;
	cr_assert_eq(synack_stack_new(&s, &cfg), -EINVAL);
	cfg.caps.mtu = 104;
	cr_assert_eq(synack_stack_new(&s, &cfg), 0);
	struct synack_config got;
	synack_stack_get_config(s, &got);
	cr_assert_eq(got.mss, 64);
	synack_stack_destroy(s);

	struct segtest t;
	st_config(&cfg);
	cfg.caps.mtu = 576;
	st_init(&t, &cfg);
	st_listen(&t, 80, 4);
	struct synack_tcp_opts o = {.has_mss = true, .mss = 1460};
	ST_IN(&t, .flags = F_S, .seq = 0, .opts = o);
	struct st_seg sa;
	st_expect_ack(&t, F_S | F_A, 1, &sa);
	cr_assert(sa.opts.has_mss);
	cr_assert_eq(sa.opts.mss, 536, "MSS = MTU - 40");
	st_fini(&t);
}

/* Passive open with SACK, out-of-order data held, then two full segments of ours. Returns
 * the first data segment's frame. */
static const struct st_frame *sack_then_data(struct segtest *t, struct st_seg *ack_seg,
					     struct st_seg *data_seg)
{
	int lfd = st_listen(t, 80, 4);
	struct synack_tcp_opts o = {.has_mss = true, .mss = 1460, .sack_ok = true};
	ST_IN(t, .flags = F_S, .seq = 0, .opts = o);
	struct st_seg sa;
	st_expect_ack(t, F_S | F_A, 1, &sa);
	uint32_t iss = sa.seq;
	ST_IN(t, .flags = F_A, .seq = 1, .ack = iss + 1);
	int fd = synack_accept(t->s, lfd, NULL);
	ST_IN(t, .flags = F_A, .seq = 11, .ack = iss + 1, .data = "klmno", .len = 5);
	st_expect(t, F_A, iss + 1, 1, ack_seg);
	static uint8_t data[1072];
	cr_assert_eq(synack_send(t->s, fd, data, sizeof data, 0), (ssize_t)sizeof data);
	const struct st_frame *f = &t->frames[t->next];
	st_expect_data(t, F_A, iss + 1, 1, 536);
	t->next--;
	cr_assert(st_next(t, data_seg));
	return f;
}

Test(offload, sack_blocks_give_way_on_full_segments_so_frames_fit_the_mtu)
{
	struct segtest t;
	struct synack_config cfg;
	st_config(&cfg);
	cfg.caps.mtu = 576;
	st_init(&t, &cfg);
	struct st_seg ack, data;
	const struct st_frame *f = sack_then_data(&t, &ack, &data);
	cr_assert_eq(ack.opts.sack_count, 1, "the pure ACK carries the SACK block");
	cr_assert_eq(data.opts.sack_count, 0, "no room for it beside 536 bytes");
	cr_assert_eq(f->len, 576);
	st_fini(&t);

	/* Without an MTU (the same MSS), the block rides along and the frame grows. */
	st_config(&cfg);
	cfg.mss = 536;
	st_init(&t, &cfg);
	f = sack_then_data(&t, &ack, &data);
	cr_assert_eq(data.opts.sack_count, 1);
	cr_assert_eq(f->len, 576 + 12);
	st_fini(&t);
}

/* An IPv4 packet from the peer: proto, then len bytes of payload (ICMP: an echo request
 * whose checksum is filled). */
static size_t ip_packet(uint8_t *buf, uint8_t proto, size_t len)
{
	struct synack_ipv4 ip = {.ihl = 20, .id = 9, .ttl = 64, .proto = proto, .src = ST_PEER,
				 .dst = ST_LOCAL};
	synack_ipv4_emit(buf, 20 + len, &ip, len);
	uint8_t *m = buf + 20;
	memset(m, 0xab, len);
	if (proto == SYNACK_IPPROTO_ICMP) {
		m[0] = 8; /* echo request (RFC 792) */
		m[1] = 0;
		m[2] = m[3] = 0;
		uint16_t c = synack_csum_fold(synack_csum_add(0, m, len));
		m[2] = (uint8_t)(c >> 8);
		m[3] = (uint8_t)c;
	}
	return 20 + len;
}

Test(offload, icmp_frames_fit_the_mtu_and_keep_a_complete_checksum)
{
	struct segtest t;
	struct synack_config cfg;
	st_config(&cfg);
	cfg.caps.mtu = 300;
	cfg.caps.tx_csum = 1;
	st_init(&t, &cfg);
	static uint8_t p[1000];
	size_t n = ip_packet(p, SYNACK_IPPROTO_ICMP, 280); /* a 300-byte reply: fits */
	st_send_raw(&t, p, n);
	cr_assert_eq(t.nframes, 1);
	cr_assert_eq(t.frames[0].len, 300);
	cr_assert_eq(t.frames[0].meta.csum, SYNACK_CSUM_NONE, "offload is for TCP only");
	cr_assert_eq(synack_csum_fold(synack_csum_add(0, t.frames[0].b + 20, 280)), 0);
	n = ip_packet(p, SYNACK_IPPROTO_ICMP, 281); /* a 301-byte reply: not sent */
	st_send_raw(&t, p, n);
	cr_assert_eq(t.nframes, 1);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_IpFragFails), 1);

	/* Protocol unreachable quotes as much as fits the link (here less than 576). */
	n = ip_packet(p, 17, 800);
	st_send_raw(&t, p, n);
	cr_assert_eq(t.nframes, 2);
	cr_assert_eq(t.frames[1].len, 300);
	cr_assert_eq(t.frames[1].b[20], 3);
	cr_assert_eq(t.frames[1].b[21], 2);
	cr_assert_arr_eq(t.frames[1].b + 28, p, 300 - 28, "the quote is the packet's start");
	st_fini(&t);
}
