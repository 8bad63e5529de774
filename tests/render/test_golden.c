/* Golden ladders: scripted conversations (every segment chosen by hand, as a packetdrill script
 * would) are written as pcaps with synack's own pcap writer, read back, and drawn as text; the
 * drawing must match tests/render/golden/NAME.txt byte for byte. The inferred final states are
 * checked too. SYNACK_UPDATE_GOLDEN=1 rewrites the expected files (and the pcaps beside them,
 * which tests/render/run.sh draws through the command line).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "render/conn.h"
#include "render/ladder.h"
#include "synack/link.h"
#include "synack/wire.h"

/* A pointer to the IPv4 address x (host order) as a synack_addr, for the codec. */
#define ST_V4(x) (&(const struct synack_addr[1]){synack_addr_v4(x)}[0])

#define S SYNACK_TH_SYN
#define A SYNACK_TH_ACK
#define F SYNACK_TH_FIN
#define R SYNACK_TH_RST
#define P SYNACK_TH_PSH

#define GOLDEN "tests/render/golden/"

struct script {
	struct synack_pcap_writer *w;
	uint64_t t;
	uint16_t cport;
};

static const uint32_t CLI = 0xc0a80001, SRV = 0xc0a80002; /* 192.168.0.1, .2 */

/* One segment, dt_us after the previous, from the client (c=1) or the server. */
static void seg(struct script *s, uint64_t dt_us, int c, uint8_t flags, uint32_t seq, uint32_t ack,
		uint16_t win, size_t len)
{
	static const uint8_t data[1460];
	struct synack_tcp_seg g = {
		.sport = c ? s->cport : 80,
		.dport = c ? 80 : s->cport,
		.seq = seq,
		.ack = ack,
		.flags = flags,
		.win = win,
		.payload = data,
		.len = len,
	};
	if (flags & S) {
		g.opts.has_mss = true;
		g.opts.mss = 1460;
		g.opts.has_wscale = true;
		g.opts.wscale = 0;
	}
	uint8_t buf[1600];
	int n = synack_tcp_emit(buf, sizeof buf, ST_V4(c ? CLI : SRV), ST_V4(c ? SRV : CLI), 0, &g);
	cr_assert_gt(n, 0);
	s->t += dt_us;
	cr_assert_eq(synack_pcap_write(s->w, buf, (size_t)n, s->t), 0);
}

static void sack(struct script *s, uint64_t dt_us, uint32_t seq, uint32_t ack, uint32_t l,
		 uint32_t r)
{
	struct synack_tcp_seg g = {
		.sport = 80, .dport = s->cport, .seq = seq, .ack = ack, .flags = A, .win = 65535};
	g.opts.sack_count = 1;
	g.opts.sack[0] = (struct synack_sack_block){l, r};
	uint8_t buf[200];
	int n = synack_tcp_emit(buf, sizeof buf, ST_V4(SRV), ST_V4(CLI), 0, &g);
	cr_assert_gt(n, 0);
	s->t += dt_us;
	cr_assert_eq(synack_pcap_write(s->w, buf, (size_t)n, s->t), 0);
}

static void handshake(struct script *s)
{
	seg(s, 0, 1, S, 1000, 0, 65535, 0);
	seg(s, 10000, 0, S | A, 5000, 1001, 65535, 0);
	seg(s, 10000, 1, A, 1001, 5001, 65535, 0);
}

static void sc_handshake_close(struct script *s)
{
	handshake(s);
	seg(s, 1000, 1, P | A, 1001, 5001, 65535, 100);
	seg(s, 10000, 0, A, 5001, 1101, 65535, 0);
	seg(s, 1000, 0, P | A, 5001, 1101, 65535, 300);
	seg(s, 10000, 1, A, 1101, 5301, 65535, 0);
	seg(s, 5000, 1, F | A, 1101, 5301, 65535, 0);
	seg(s, 10000, 0, A, 5301, 1102, 65535, 0);
	seg(s, 2000, 0, F | A, 5301, 1102, 65535, 0);
	seg(s, 10000, 1, A, 1102, 5302, 65535, 0);
}

static void sc_server_closes_first(struct script *s)
{
	handshake(s);
	seg(s, 1000, 0, F | A, 5001, 1001, 65535, 0);
	seg(s, 10000, 1, F | A, 1001, 5002, 65535, 0);
	seg(s, 10000, 0, A, 5002, 1002, 65535, 0);
}

static void sc_simultaneous_close(struct script *s)
{
	handshake(s);
	seg(s, 1000, 1, F | A, 1001, 5001, 65535, 0);
	seg(s, 1, 0, F | A, 5001, 1001, 65535, 0);
	seg(s, 10000, 1, A, 1002, 5002, 65535, 0);
	seg(s, 1, 0, A, 5002, 1002, 65535, 0);
}

static void sc_refused(struct script *s)
{
	seg(s, 0, 1, S, 1000, 0, 65535, 0);
	seg(s, 10000, 0, R | A, 0, 1001, 0, 0);
}

static void sc_reset(struct script *s)
{
	handshake(s);
	seg(s, 1000, 1, P | A, 1001, 5001, 65535, 10);
	seg(s, 10000, 0, R | A, 5001, 1011, 0, 0);
}

/* Captured at the sender: the second segment is lost after the capture point; three duplicate
 * ACKs with SACK bring a fast retransmit; later the receiver's window closes, the sender
 * probes, the window opens. */
static void sc_lossy_transfer(struct script *s)
{
	handshake(s);
	for (uint32_t i = 0; i < 5; i++)
		seg(s, 100, 1, A, 1001 + i * 1000, 5001, 65535, 1000);
	seg(s, 10000, 0, A, 5001, 2001, 65535, 0);
	sack(s, 100, 5001, 2001, 3001, 4001);
	sack(s, 100, 5001, 2001, 3001, 5001);
	sack(s, 100, 5001, 2001, 3001, 6001);
	seg(s, 100, 1, A, 2001, 5001, 65535, 1000); /* fast retransmit */
	seg(s, 10000, 0, A, 5001, 6001, 65535, 0);
	seg(s, 100, 1, P | A, 6001, 5001, 65535, 1000);
	seg(s, 10000, 0, A, 5001, 7001, 0, 0);	    /* zero window */
	seg(s, 200000, 1, A, 7001, 5001, 65535, 1); /* window probe */
	seg(s, 10000, 0, A, 5001, 7001, 0, 0);
	seg(s, 100000, 0, A, 5001, 7001, 8192, 0); /* window update */
	seg(s, 100, 1, P | A, 7001, 5001, 65535, 500);
	seg(s, 10000, 0, A, 5001, 7501, 8192, 0);
	seg(s, 300000, 1, P | A, 7001, 5001, 65535, 500); /* a spurious timeout retransmission */
}

/* The capture starts after the handshake: states are shown as uncertain. */
static void sc_midstream(struct script *s)
{
	seg(s, 0, 1, P | A, 77001, 99001, 65535, 200);
	seg(s, 10000, 0, A, 99001, 77201, 65535, 0);
	seg(s, 1000, 1, F | A, 77201, 99001, 65535, 0);
	seg(s, 10000, 0, F | A, 99001, 77202, 65535, 0);
	seg(s, 10000, 1, A, 77202, 99002, 65535, 0);
}

/* Writes the scenario's pcap, draws it, compares with (or, updating, writes) the golden text.
 * Returns the connection table for more checks (the caller frees it). */
static struct synack_conns *golden(const char *name, void (*script)(struct script *))
{
	bool update = getenv("SYNACK_UPDATE_GOLDEN") != NULL;
	char pcap[256], txt[256];
	if (update)
		snprintf(pcap, sizeof pcap, GOLDEN "%s.pcap", name);
	else
		snprintf(pcap, sizeof pcap, "/tmp/synack-golden-%d-%s.pcap", (int)getpid(), name);
	snprintf(txt, sizeof txt, GOLDEN "%s.txt", name);
	struct script s = {.cport = 40000};
	cr_assert_eq(synack_pcap_open(&s.w, pcap), 0, "%s", pcap);
	script(&s);
	cr_assert_eq(synack_pcap_close(s.w), 0);

	struct synack_conns *t;
	struct synack_conns_opts o = {.keep_first = 1000, .keep_last = 1000};
	cr_assert_eq(synack_conns_new(&t, &o), 0);
	char err[256];
	cr_assert_eq(synack_conns_read_file(t, pcap, NULL, err, sizeof err), 0, "%s", err);
	if (!update)
		remove(pcap);
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	for (size_t i = 0; i < synack_conns_count(t); i++) {
		const struct synack_conn *c = synack_conns_get(t, i);
		struct synack_ladder_opts lo = {.format = SYNACK_LADDER_TEXT,
						.out = m,
						.left = c->name[0],
						.right = c->name[1]};
		struct synack_ladder *l;
		cr_assert_eq(synack_ladder_new(&l, &lo), 0);
		synack_conn_replay(c, synack_ladder_trace, l);
		cr_assert_eq(synack_ladder_finish(l), 0);
		synack_ladder_free(l);
	}
	fclose(m);
	if (update) {
		FILE *f = fopen(txt, "w");
		cr_assert_not_null(f);
		fwrite(buf, 1, len, f);
		fclose(f);
	} else {
		FILE *f = fopen(txt, "r");
		cr_assert_not_null(f, "%s missing: run with SYNACK_UPDATE_GOLDEN=1", txt);
		char *want = calloc(1, 65536);
		size_t n = fread(want, 1, 65535, f);
		fclose(f);
		cr_assert_eq(n, len, "%s: %zu bytes expected, drawn %zu:\n%s", txt, n, len, buf);
		cr_assert_eq(memcmp(want, buf, len), 0, "%s differs; drawn:\n%s", txt, buf);
		free(want);
	}
	free(buf);
	return t;
}

static enum synack_tcp_state final(const struct synack_conns *t, int ep)
{
	return synack_conns_get(t, 0)->inf.st[ep];
}

Test(golden, handshake_close)
{
	struct synack_conns *t = golden("handshake_close", sc_handshake_close);
	cr_assert_eq(final(t, 0), SYNACK_TIME_WAIT);
	cr_assert_eq(final(t, 1), SYNACK_CLOSED);
	synack_conns_free(t);
}

Test(golden, server_closes_first)
{
	struct synack_conns *t = golden("server_closes_first", sc_server_closes_first);
	cr_assert_eq(final(t, 0), SYNACK_CLOSED);
	cr_assert_eq(final(t, 1), SYNACK_TIME_WAIT);
	synack_conns_free(t);
}

Test(golden, simultaneous_close)
{
	struct synack_conns *t = golden("simultaneous_close", sc_simultaneous_close);
	cr_assert_eq(final(t, 0), SYNACK_TIME_WAIT);
	cr_assert_eq(final(t, 1), SYNACK_TIME_WAIT);
	synack_conns_free(t);
}

Test(golden, refused)
{
	struct synack_conns *t = golden("refused", sc_refused);
	cr_assert_eq(final(t, 0), SYNACK_CLOSED);
	cr_assert_eq(final(t, 1), SYNACK_CLOSED);
	synack_conns_free(t);
}

Test(golden, reset)
{
	struct synack_conns *t = golden("reset", sc_reset);
	cr_assert(synack_conns_get(t, 0)->inf.reset);
	synack_conns_free(t);
}

Test(golden, lossy_transfer)
{
	struct synack_conns *t = golden("lossy_transfer", sc_lossy_transfer);
	const struct synack_conn *c = synack_conns_get(t, 0);
	cr_assert_eq(c->st[0].retx_segs, 2, "the fast retransmit and the spurious one");
	cr_assert_eq(c->st[0].retx_bytes, 1500);
	cr_assert_eq(c->st[0].bytes, 5000 + 1000 + 1000 + 1 + 500 + 500);
	synack_conns_free(t);
}

Test(golden, midstream)
{
	struct synack_conns *t = golden("midstream", sc_midstream);
	cr_assert(synack_conns_get(t, 0)->inf.uncertain);
	cr_assert_eq(final(t, 0), SYNACK_TIME_WAIT);
	synack_conns_free(t);
}
