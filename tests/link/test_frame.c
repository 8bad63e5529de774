/* Frames with metadata through every link: the caps each declares, NEEDED frames completed
 * by links that do not offload (simnet), kept by those that pass caps through (fault, pcap),
 * completed before corruption (fault), and recorded complete in a capture (pcap). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "synack/link.h"
#include "synack/socket.h"
#include "synack/stack.h"
#include "synack/wire.h"

#define A 0x0A000001u /* 10.0.0.1 */
#define B 0x0A000002u /* 10.0.0.2 */
#define V4(x) (&(const struct synack_addr[1]){synack_addr_v4(x)}[0])

/* ---- a link that records what it is sent and plays back what it is given ------------- */

struct fake {
	struct synack_link link;
	size_t n;                          /* frames sent to it */
	uint8_t last[2048];
	struct synack_frame_meta last_meta;
	const uint8_t *rx;                 /* the one frame recv hands out, then NULL */
	struct synack_frame_meta rx_meta;
};

static int fake_send(struct synack_link *l, const uint8_t *f, const struct synack_frame_meta *m,
		     uint64_t now)
{
	struct fake *k = (struct fake *)l;
	cr_assert_leq(m->len, sizeof k->last);
	memcpy(k->last, f, m->len);
	k->last_meta = *m;
	k->n++;
	return 0;
}
static ssize_t fake_recv(struct synack_link *l, uint8_t *b, size_t cap,
			 struct synack_frame_meta *out, uint64_t now)
{
	struct fake *k = (struct fake *)l;
	if (!k->rx)
		return 0;
	memcpy(b, k->rx, k->rx_meta.len);
	*out = k->rx_meta;
	k->rx = NULL;
	return (ssize_t)out->len;
}
static uint64_t fake_next(struct synack_link *l) { return SYNACK_TIME_NEVER; }
static void fake_destroy(struct synack_link *l) {}
static const struct synack_link_ops fake_ops = {
	.send = fake_send, .recv = fake_recv, .next_arrival = fake_next, .destroy = fake_destroy};

static const struct synack_link_caps offload_caps = {
	.mtu = 9000, .max_gso = 65535, .gso_types = 1u << SYNACK_GSO_TCPV4,
	.tx_csum = 1, .rx_csum = 1, .rx_gro = 1,
};

static void fake_init(struct fake *k)
{
	memset(k, 0, sizeof *k);
	k->link.ops = &fake_ops;
	k->link.fd = -1;
	k->link.caps = offload_caps;
}

/* A data segment from A to B as an offloading sender makes it: the checksum field holds the
 * pseudo-header sum. *complete gets the same segment with its checksum filled in. */
static size_t needed_frame(uint8_t *f, uint8_t *complete, struct synack_frame_meta *m)
{
	static const char data[] = "offloaded checksums, odd length";
	struct synack_tcp_seg seg = {.sport = 40000, .dport = 80, .seq = 7, .ack = 9,
				     .flags = SYNACK_TH_ACK | SYNACK_TH_PSH, .win = 512,
				     .payload = (const uint8_t *)data, .len = sizeof data - 1};
	int n = synack_tcp_emit(complete, 256, V4(A), V4(B), 1, &seg);
	cr_assert_gt(n, 0);
	memcpy(f, complete, (size_t)n);
	uint16_t p = synack_tcp_pseudo_csum(V4(A), V4(B), (size_t)n - 20);
	f[36] = (uint8_t)(p >> 8);
	f[37] = (uint8_t)p;
	cr_assert(memcmp(f + 36, complete + 36, 2) != 0);
	*m = synack_frame_meta_plain(f, (size_t)n);
	m->csum = SYNACK_CSUM_NEEDED;
	m->csum_start = 20;
	m->csum_offset = 16;
	return (size_t)n;
}

static bool caps_eq(const struct synack_link_caps *x, const struct synack_link_caps *y)
{
	return x->mtu == y->mtu && x->max_gso == y->max_gso && x->gso_types == y->gso_types &&
	       x->tx_csum == y->tx_csum && x->rx_csum == y->rx_csum && x->rx_gro == y->rx_gro;
}

static const struct synack_link_caps no_caps;

/* ---- simnet -------------------------------------------------------------------------------- */

Test(frame, simnet_declares_nothing_and_delivers_needed_frames_complete)
{
	struct synack_simnet *net;
	struct synack_link *la, *lb;
	cr_assert_eq(synack_simnet_new(&net, 1), 0);
	cr_assert_eq(synack_simnet_attach(net, A, NULL, &la), 0);
	cr_assert_eq(synack_simnet_attach(net, B, NULL, &lb), 0);
	cr_assert(caps_eq(&la->caps, &no_caps));

	uint8_t f[256], complete[256], got[256];
	struct synack_frame_meta m, out;
	size_t n = needed_frame(f, complete, &m);
	uint8_t before[256];
	memcpy(before, f, n);
	cr_assert_eq(synack_link_send(la, f, &m, 0), 0);
	cr_assert_arr_eq(f, before, n, "the sender's frame is untouched");
	memset(&out, 0xee, sizeof out);
	cr_assert_eq(synack_link_recv(lb, got, sizeof got, &out, 0), (ssize_t)n);
	cr_assert_arr_eq(got, complete, n, "the wire carries the completed checksum");
	cr_assert_eq(out.csum, SYNACK_CSUM_NONE, "and the receiver is told to verify");
	cr_assert_eq(out.len, n);
	cr_assert_eq(out.family, SYNACK_AF_INET);
	cr_assert_eq(out.gso_type, SYNACK_GSO_NONE);

	m.csum = 7;
	cr_assert_eq(synack_link_send(la, f, &m, 0), -EINVAL);
	cr_assert_eq(synack_link_next_arrival(lb), SYNACK_TIME_NEVER, "nothing was sent");
	synack_link_destroy(la);
	synack_link_destroy(lb);
	synack_simnet_destroy(net);
}

/* ---- fault --------------------------------------------------------------------------------- */

Test(frame, fault_passes_caps_and_metadata_through)
{
	struct fake k;
	fake_init(&k);
	struct synack_link *f;
	struct synack_fault_params p = {.reorder = 1.0, .reorder_delay_us = 10};
	cr_assert_eq(synack_fault_wrap(&k.link, &p, 1, &f), 0);
	cr_assert(caps_eq(&f->caps, &offload_caps));

	uint8_t fr[256], complete[256];
	struct synack_frame_meta m;
	size_t n = needed_frame(fr, complete, &m);
	cr_assert_eq(synack_link_send(f, fr, &m, 100), 0);
	cr_assert_eq(k.n, 0, "held back");
	cr_assert_eq(synack_link_recv(f, fr + 200, 8, NULL, 110), 0); /* releases it */
	cr_assert_eq(k.n, 1);
	cr_assert_arr_eq(k.last, fr, n, "held and released unchanged, checksum left to offload");
	cr_assert_eq(k.last_meta.csum, SYNACK_CSUM_NEEDED);
	cr_assert_eq(k.last_meta.csum_start, 20);
	cr_assert_eq(k.last_meta.csum_offset, 16);
	cr_assert_eq(k.last_meta.len, n);

	/* Received frames pass with their metadata (VERIFIED from an offloading device). */
	k.rx = complete;
	k.rx_meta = synack_frame_meta_plain(complete, n);
	k.rx_meta.csum = SYNACK_CSUM_VERIFIED;
	struct synack_frame_meta out;
	uint8_t got[256];
	cr_assert_eq(synack_link_recv(f, got, sizeof got, &out, 120), (ssize_t)n);
	cr_assert_eq(out.csum, SYNACK_CSUM_VERIFIED);
	synack_link_destroy(f);
}

Test(frame, fault_completes_the_checksum_before_corrupting_so_damage_is_detected)
{
	struct fake k;
	fake_init(&k);
	struct synack_link *f;
	struct synack_fault_params p = {.corrupt = 1.0};
	cr_assert_eq(synack_fault_wrap(&k.link, &p, 42, &f), 0);
	uint8_t fr[256], complete[256];
	struct synack_frame_meta m;
	size_t n = needed_frame(fr, complete, &m);
	for (int i = 0; i < 500; i++) {
		cr_assert_eq(synack_link_send(f, fr, &m, (uint64_t)i), 0);
		cr_assert_eq(k.last_meta.csum, SYNACK_CSUM_NONE,
			     "a corrupted frame is never passed on as NEEDED (or VERIFIED)");
		cr_assert_eq(k.last_meta.len, n);
		cr_assert(memcmp(k.last, complete, n) != 0, "frame %d is corrupted", i);
		/* The receiver's checksums catch it: the IPv4 header's (which covers the
		 * addresses) or, the header intact, TCP's. */
		bool ip_ok = synack_csum_fold(synack_csum_add(0, k.last, 20)) == 0;
		bool tcp_ok = synack_tcp_csum(V4(A), V4(B), k.last + 20, n - 20) == 0;
		cr_assert(!ip_ok || !tcp_ok, "frame %d: the corruption passes both checksums", i);
	}
	synack_link_destroy(f);
}

/* ---- pcap ---------------------------------------------------------------------------------- */

Test(frame, pcap_records_complete_checksums_and_passes_frames_unchanged)
{
	char path[] = "/tmp/synack-frame-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
	struct fake k;
	fake_init(&k);
	struct synack_pcap_writer *w;
	cr_assert_eq(synack_pcap_open(&w, path), 0);
	struct synack_link *cap;
	cr_assert_eq(synack_pcap_wrap(&k.link, w, &cap), 0);
	cr_assert(caps_eq(&cap->caps, &offload_caps));

	uint8_t fr[256], complete[256], orig[256];
	struct synack_frame_meta m;
	size_t n = needed_frame(fr, complete, &m);
	memcpy(orig, fr, n);
	cr_assert_eq(synack_link_send(cap, fr, &m, 1000), 0);
	cr_assert_arr_eq(fr, orig, n, "the caller's frame is untouched");
	cr_assert_arr_eq(k.last, orig, n, "the inner link gets the frame as it was sent");
	cr_assert_eq(k.last_meta.csum, SYNACK_CSUM_NEEDED, "and its metadata");
	cr_assert_eq(k.last_meta.csum_start, 20);

	/* A NEEDED frame received (from a local offloading sender) is recorded complete too. */
	k.rx = orig;
	k.rx_meta = m;
	uint8_t got[256];
	struct synack_frame_meta out;
	cr_assert_eq(synack_link_recv(cap, got, sizeof got, &out, 2000), (ssize_t)n);
	cr_assert_arr_eq(got, orig, n);
	cr_assert_eq(out.csum, SYNACK_CSUM_NEEDED);
	synack_link_destroy(cap); /* closes the writer */

	FILE *fp = fopen(path, "rb");
	cr_assert_not_null(fp);
	static uint8_t file[4096];
	size_t flen = fread(file, 1, sizeof file, fp);
	fclose(fp);
	unlink(path);
	cr_assert_eq(flen, 24 + 2 * (16 + n), "two records");
	const uint8_t *r1 = file + 24 + 16, *r2 = r1 + n + 16;
	cr_assert_arr_eq(r1, complete, n, "the capture shows the checksum the device would send");
	cr_assert_arr_eq(r2, complete, n);
	cr_assert_eq(synack_tcp_csum(V4(A), V4(B), r1 + 20, n - 20), 0, "tcpdump sees a good checksum");
}

/* ---- the helpers ----------------------------------------------------------------------------- */

Test(frame, csum_complete_checks_the_field_is_inside_the_frame)
{
	uint8_t fr[256], complete[256];
	struct synack_frame_meta m;
	size_t n = needed_frame(fr, complete, &m);
	struct synack_frame_meta bad = m;
	bad.csum_start = (uint16_t)(n - 17);
	cr_assert_eq(synack_frame_csum_complete(fr, &bad), -EINVAL);
	cr_assert_eq(synack_frame_csum_complete(fr, NULL), -EINVAL);
	struct synack_frame_meta none = synack_frame_meta_plain(fr, n);
	cr_assert_eq(synack_frame_csum_complete(fr, &none), 0, "nothing to do");
	cr_assert(memcmp(fr, complete, n) != 0);
	cr_assert_eq(synack_frame_csum_complete(fr, &m), 0);
	cr_assert_eq(m.csum, SYNACK_CSUM_NONE);
	cr_assert_arr_eq(fr, complete, n);

	uint8_t v6[40] = {0x60};
	cr_assert_eq(synack_frame_meta_plain(v6, sizeof v6).family, SYNACK_AF_INET6);
	cr_assert_eq(synack_frame_meta_plain(v6, 0).family, 0);
	uint8_t junk[4] = {0x10};
	cr_assert_eq(synack_frame_meta_plain(junk, sizeof junk).family, 0);
}

/* ---- end to end: an offloading sender over a corrupting, non-offloading wire ------------ */

struct host {
	struct synack_stack *s;
	struct synack_link *link;
	uint64_t *now;
	size_t needed_out; /* frames the stack left to offload */
};

static void host_out(void *ctx, const uint8_t *f, const struct synack_frame_meta *m)
{
	struct host *h = ctx;
	h->needed_out += m->csum == SYNACK_CSUM_NEEDED;
	(void)synack_link_send(h->link, f, m, *h->now);
}

static void host_new(struct host *h, uint32_t addr, struct synack_link *link, uint64_t *now,
		     bool tx_csum)
{
	struct synack_config c;
	synack_config_default(&c);
	synack_config_add_addr(&c, synack_addr_v4(addr), 24);
	c.seed = addr;
	c.output = host_out;
	c.output_ctx = h;
	c.caps = link->caps;
	c.caps.tx_csum = tx_csum; /* what a device behind the link would finish */
	h->link = link;
	h->now = now;
	h->needed_out = 0;
	cr_assert_eq(synack_stack_new(&h->s, &c), 0);
}

static void host_rx(struct host *h)
{
	static uint8_t buf[70000];
	struct synack_frame_meta m;
	ssize_t n;
	while ((n = synack_link_recv(h->link, buf, sizeof buf, &m, *h->now)) > 0) {
		cr_assert_eq(m.len, (size_t)n);
		cr_assert_eq(synack_stack_input_frame(h->s, buf, &m, *h->now), 0);
	}
}

Test(frame, offloaded_checksums_survive_a_corrupting_wire_byte_exact)
{
	struct synack_simnet *net;
	struct synack_link *ea, *eb, *fa;
	struct synack_sim_path path = {.delay_us = 1000};
	cr_assert_eq(synack_simnet_new(&net, 3), 0);
	cr_assert_eq(synack_simnet_attach(net, A, &path, &ea), 0);
	cr_assert_eq(synack_simnet_attach(net, B, &path, &eb), 0);
	struct synack_fault_params p = {.corrupt = 0.1};
	cr_assert_eq(synack_fault_wrap(ea, &p, 9, &fa), 0);
	uint64_t now = 0;
	struct host a, b;
	host_new(&a, A, fa, &now, true);
	host_new(&b, B, eb, &now, false);

	int l = synack_socket(b.s);
	cr_assert_eq(synack_bind(b.s, l, &(struct synack_endpoint){.port = 80}), 0);
	cr_assert_eq(synack_listen(b.s, l, 4), 0);
	int c = synack_socket(a.s);
	cr_assert_eq(synack_connect(a.s, c, &(struct synack_endpoint){.addr = synack_addr_v4(B), .port = 80}),
		     -EINPROGRESS);
	static uint8_t data[200000], got[sizeof data];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 131 + (i >> 9));
	size_t sent = 0, rcvd = 0;
	int s = -1;
	for (int step = 0; step < 200000 && rcvd < sizeof data; step++) {
		host_rx(&a);
		host_rx(&b);
		synack_stack_poll(a.s, now);
		synack_stack_poll(b.s, now);
		if (s < 0)
			s = synack_accept(b.s, l, NULL);
		ssize_t n = synack_send(a.s, c, data + sent, sizeof data - sent, 0);
		if (n > 0)
			sent += (size_t)n;
		if (s >= 0) {
			n = synack_recv(b.s, s, got + rcvd, sizeof got - rcvd, 0);
			if (n > 0)
				rcvd += (size_t)n;
		}
		uint64_t next = synack_link_next_arrival(fa);
		uint64_t t = synack_link_next_arrival(eb);
		next = t < next ? t : next;
		t = synack_stack_next_deadline(a.s);
		next = t < next ? t : next;
		t = synack_stack_next_deadline(b.s);
		next = t < next ? t : next;
		if (next != SYNACK_TIME_NEVER && next > now)
			now = next;
	}
	cr_assert_eq(rcvd, sizeof data, "all the data arrived (%zu of %zu)", rcvd, sizeof data);
	cr_assert_arr_eq(got, data, sizeof data, "byte-exact");
	struct synack_fault_stats fs;
	cr_assert_eq(synack_fault_stats(fa, &fs), 0);
	cr_assert_gt(fs.corrupt, 5, "the wire did corrupt frames (%llu of %llu)",
		     (unsigned long long)fs.corrupt, (unsigned long long)fs.frames);
	cr_assert_gt(a.needed_out, 100, "the sender left its checksums to offload");
	struct synack_counters ctr;
	synack_stack_counters(b.s, &ctr);
	cr_assert_gt(ctr.drops[SYNACK_DROP_TCP_BAD_CSUM] + ctr.drops[SYNACK_DROP_IP_BAD_CSUM], 0,
		     "and the receiver caught the damage by checksum");
	synack_stack_destroy(a.s);
	synack_stack_destroy(b.s);
	synack_link_destroy(fa);
	synack_link_destroy(eb);
	synack_simnet_destroy(net);
}
