/* pcap capture: the file is classic pcap (magic a1b2c3d4, v2.4, snaplen 65535, LINKTYPE_RAW),
 * read back byte for byte; the decorator records both directions; tcpdump can read it. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "link/simnet_util.h"
#include "synack/link.h"
#include "synack/stack.h"

static char path[64];

static void mkpath(void)
{
	strcpy(path, "/tmp/synack-pcap-XXXXXX");
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
}

static void rmpath(void)
{
	unlink(path);
}

static uint8_t *slurp(size_t *len)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f);
	static uint8_t buf[1 << 18];
	*len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	return buf;
}

/* Appends a uint32/uint16 in the writer's (host) byte order, as the format says. */
static size_t app32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
	return 4;
}
static size_t app16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
	return 2;
}

static size_t expect_header(uint8_t *p)
{
	size_t n = 0;
	n += app32(p + n, 0xa1b2c3d4);
	n += app16(p + n, 2);
	n += app16(p + n, 4);
	n += app32(p + n, 0); /* thiszone */
	n += app32(p + n, 0); /* sigfigs */
	n += app32(p + n, 65535);
	n += app32(p + n, 101); /* LINKTYPE_RAW */
	return n;
}

static size_t expect_record(uint8_t *p, uint64_t t_us, const uint8_t *f, size_t len, size_t incl)
{
	size_t n = 0;
	n += app32(p + n, (uint32_t)(t_us / 1000000));
	n += app32(p + n, (uint32_t)(t_us % 1000000));
	n += app32(p + n, (uint32_t)incl);
	n += app32(p + n, (uint32_t)len);
	memcpy(p + n, f, incl);
	return n + incl;
}

Test(pcap, file_reads_back_byte_exact, .init = mkpath, .fini = rmpath)
{
	struct synack_pcap_writer *w;
	cr_assert_eq(synack_pcap_open(&w, path), 0);
	uint8_t f1[60], f2[1500];
	mkframe(f1, sizeof(f1), ADDR(10, 0, 0, 1), ADDR(10, 0, 0, 2), 1);
	mkframe(f2, sizeof(f2), ADDR(10, 0, 0, 2), ADDR(10, 0, 0, 1), 2);
	cr_assert_eq(synack_pcap_write(w, f1, sizeof(f1), 0), 0);
	cr_assert_eq(synack_pcap_write(w, f2, sizeof(f2), 1234567), 0);
	cr_assert_eq(synack_pcap_write(w, f1, sizeof(f1), 3000000000000ull), 0);
	cr_assert_eq(synack_pcap_close(w), 0);

	static uint8_t want[4096];
	size_t n = expect_header(want);
	n += expect_record(want + n, 0, f1, sizeof(f1), sizeof(f1));
	n += expect_record(want + n, 1234567, f2, sizeof(f2), sizeof(f2));
	n += expect_record(want + n, 3000000000000ull, f1, sizeof(f1), sizeof(f1));
	size_t got_len;
	const uint8_t *got = slurp(&got_len);
	cr_assert_eq(got_len, n);
	cr_assert_arr_eq(got, want, n);
}

Test(pcap, frames_beyond_the_snaplen_are_cut, .init = mkpath, .fini = rmpath)
{
	struct synack_pcap_writer *w;
	cr_assert_eq(synack_pcap_open(&w, path), 0);
	static uint8_t big[70000];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	cr_assert_eq(synack_pcap_write(w, big, sizeof(big), 5), 0);
	cr_assert_eq(synack_pcap_close(w), 0);
	static uint8_t want[70100];
	size_t n = expect_header(want);
	n += expect_record(want + n, 5, big, sizeof(big), 65535);
	size_t got_len;
	const uint8_t *got = slurp(&got_len);
	cr_assert_eq(got_len, n);
	cr_assert_arr_eq(got, want, n);
}

Test(pcap, open_reports_errno)
{
	struct synack_pcap_writer *w = NULL;
	cr_assert_eq(synack_pcap_open(&w, "/nonexistent-dir/x.pcap"), -ENOENT);
	cr_assert_null(w);
}

/* The decorator on a simulated endpoint: A's capture holds what A sent and what it received. */
static void capture_a_conversation(void)
{
	struct synack_simnet *net;
	struct synack_link *a, *b, *cap;
	struct synack_pcap_writer *w;
	struct synack_sim_path p = {.delay_us = 2500};
	cr_assert_eq(synack_simnet_new(&net, 1), 0);
	cr_assert_eq(synack_simnet_attach(net, ADDR(10, 0, 0, 1), &p, &a), 0);
	cr_assert_eq(synack_simnet_attach(net, ADDR(10, 0, 0, 2), &p, &b), 0);
	cr_assert_eq(synack_pcap_open(&w, path), 0);
	cr_assert_eq(synack_pcap_wrap(a, w, &cap), 0);

	uint8_t out[80], back[90], buf[128];
	mkframe(out, sizeof(out), ADDR(10, 0, 0, 1), ADDR(10, 0, 0, 2), 1);
	mkframe(back, sizeof(back), ADDR(10, 0, 0, 2), ADDR(10, 0, 0, 1), 2);
	cr_assert_eq(synack_link_send_plain(cap, out, sizeof(out), 1000), 0);
	cr_assert_eq(synack_link_recv(b, buf, sizeof(buf), NULL, 3500), 80);
	cr_assert_eq(synack_link_send_plain(b, back, sizeof(back), 3500), 0);
	cr_assert_eq(synack_link_next_arrival(cap), 6000);
	cr_assert_eq(synack_link_recv(cap, buf, sizeof(buf), NULL, 5999), 0);
	cr_assert_eq(synack_link_recv(cap, buf, sizeof(buf), NULL, 6000), 90);
	synack_link_destroy(cap); /* closes the file */
	synack_link_destroy(b);
	synack_simnet_destroy(net);

	static uint8_t want[512];
	size_t n = expect_header(want);
	n += expect_record(want + n, 1000, out, sizeof(out), sizeof(out));
	n += expect_record(want + n, 6000, back, sizeof(back), sizeof(back));
	size_t got_len;
	const uint8_t *got = slurp(&got_len);
	cr_assert_eq(got_len, n);
	cr_assert_arr_eq(got, want, n);
}

Test(pcap, decorator_captures_both_directions, .init = mkpath, .fini = rmpath)
{
	capture_a_conversation();
}

Test(pcap, tcpdump_reads_the_capture, .init = mkpath, .fini = rmpath)
{
	if (system("command -v tcpdump >/dev/null 2>&1") != 0) {
		cr_log_warn("tcpdump is not installed: skipping the tcpdump read-back check");
		cr_skip_test("tcpdump not installed");
	}
	capture_a_conversation();
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "tcpdump -r %s -nn >/dev/null 2>&1", path);
	int rc = system(cmd);
	cr_assert_eq(rc, 0, "tcpdump -r %s -nn exited with %d", path, rc);
}

Test(pcap, a_limit_keeps_the_file_whole_up_to_it, .init = mkpath, .fini = rmpath)
{
	struct synack_pcap_writer *w;
	cr_assert_eq(synack_pcap_open(&w, path), 0);
	uint8_t f1[60];
	mkframe(f1, sizeof(f1), ADDR(10, 0, 0, 1), ADDR(10, 0, 0, 2), 1);
	/* Header 24 + two records of 16 + 60: 176; a third would make 252. */
	synack_pcap_set_limit(w, 200);
	for (int i = 0; i < 5; i++)
		cr_assert_eq(synack_pcap_write(w, f1, sizeof(f1), (uint64_t)i), 0);
	cr_assert_eq(synack_pcap_skipped(w), 3);
	cr_assert_eq(synack_pcap_close(w), 0);
	static uint8_t want[512];
	size_t n = expect_header(want);
	n += expect_record(want + n, 0, f1, sizeof(f1), sizeof(f1));
	n += expect_record(want + n, 1, f1, sizeof(f1), sizeof(f1));
	size_t got_len;
	const uint8_t *got = slurp(&got_len);
	cr_assert_eq(got_len, n);
	cr_assert_arr_eq(got, want, n);
}
