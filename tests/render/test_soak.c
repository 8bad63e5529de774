/* Large captures (make soak: SYNACK_SOAK=1): a generated ~200 MB capture (one long bulk
 * transfer with periodic losses, plus a thousand short connections) is read in one pass; the
 * process's peak memory must stay bounded by the connections, not grow with the packets. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "render/conn.h"
#include "synack/link.h"
#include "synack/wire.h"

/* A pointer to the IPv4 address x (host order) as a synack_addr, for the codec. */
#define ST_V4(x) (&(const struct synack_addr[1]){synack_addr_v4(x)}[0])

#define SOAK_BYTES (200ull << 20)

static long max_rss_kb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static void put(struct synack_pcap_writer *w, uint64_t t, uint32_t src, uint32_t dst, uint16_t sp,
		uint16_t dp, uint8_t flags, uint32_t seq, uint32_t ack, size_t len)
{
	static const uint8_t data[1460];
	struct synack_tcp_seg s = {.sport = sp,
				   .dport = dp,
				   .seq = seq,
				   .ack = ack,
				   .flags = flags,
				   .win = 65535,
				   .payload = data,
				   .len = len};
	uint8_t buf[1600];
	int n = synack_tcp_emit(buf, sizeof buf, ST_V4(src), ST_V4(dst), 0, &s);
	cr_assert_gt(n, 0);
	cr_assert_eq(synack_pcap_write(w, buf, (size_t)n, t), 0);
}

static uint64_t generate(const char *path, size_t *nshort)
{
	*nshort = 0;
	struct synack_pcap_writer *w;
	cr_assert_eq(synack_pcap_open(&w, path), 0);
	const uint32_t A = 0x0a000001, B = 0x0a000002;
	uint64_t t = 0, written = 0;
	uint32_t seq = 1000;
	put(w, t, A, B, 5000, 80, SYNACK_TH_SYN, seq - 1, 0, 0);
	put(w, t += 100, B, A, 80, 5000, SYNACK_TH_SYN | SYNACK_TH_ACK, 7, seq, 0);
	for (uint64_t i = 0; written < SOAK_BYTES; i++) {
		put(w, t += 10, A, B, 5000, 80, SYNACK_TH_ACK, seq, 8, 1460);
		if (i % 1000 == 999) /* a retransmission now and then */
			put(w, t += 10, A, B, 5000, 80, SYNACK_TH_ACK, seq, 8, 1460);
		seq += 1460;
		if (i % 2 == 1)
			put(w, t += 5, B, A, 80, 5000, SYNACK_TH_ACK, 8, seq, 0);
		written += 1516 + (i % 2 ? 56 : 0);
		if (i % 100 == 0) { /* a short connection from another port */
			uint16_t p = (uint16_t)(10000 + (i / 100) % 1000);
			(*nshort)++;
			put(w, t += 1, A, B, p, 80, SYNACK_TH_SYN, 1, 0, 0);
			put(w, t += 1, B, A, 80, p, SYNACK_TH_RST | SYNACK_TH_ACK, 0, 2, 0);
		}
	}
	cr_assert_eq(synack_pcap_close(w), 0);
	return written;
}

Test(soak, large_capture_in_bounded_memory, .timeout = 600)
{
	if (!getenv("SYNACK_SOAK"))
		cr_skip_test("set SYNACK_SOAK=1 (make soak) for the 200 MB capture");
	char path[64];
	snprintf(path, sizeof path, "/tmp/synack-soak-%d.pcap", (int)getpid());
	size_t nshort;
	uint64_t bytes = generate(path, &nshort);
	long before = max_rss_kb();
	struct synack_conns *t;
	struct synack_conns_opts o = {.keep_first = 1000, .keep_last = 1000};
	cr_assert_eq(synack_conns_new(&t, &o), 0);
	char err[256];
	struct synack_pcap_stats ps;
	int rc = synack_conns_read_file(t, path, &ps, err, sizeof err);
	remove(path);
	cr_assert_eq(rc, 0, "%s", err);
	long after = max_rss_kb();
	const struct synack_conn *bulk = synack_conns_get(t, 0);
	cr_assert_eq(bulk->st[0].bytes % 1460, 0);
	cr_assert_gt(bulk->st[0].retx_segs, 100);
	cr_assert_eq(synack_conns_count(t), 1 + nshort,
		     "a SYN on a tuple closed by a RST starts a new connection");
	fprintf(stderr, "soak: %llu MB, %llu packets, %zu connections, peak RSS %ld -> %ld KiB\n",
		(unsigned long long)(bytes >> 20), (unsigned long long)ps.records,
		synack_conns_count(t), before, after);
	/* 2000 records of ~150 bytes for the bulk transfer and a few for each short one: a few
	 * MiB at most, whatever the capture's size. */
	cr_assert_lt(after - before, 32 * 1024, "peak RSS grew by %ld KiB", after - before);
	synack_conns_free(t);
}
