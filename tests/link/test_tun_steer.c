/* The TUN link's steering program (src/link/tun.c), run by the kernel on crafted packets
 * (bpf(BPF_PROG_TEST_RUN)): it must compute synack_flow_queue()'s hash of the ports for TCP
 * over IPv4 (with and without IP options) and IPv6, of the quoted header's ports for an ICMP
 * error, and 0 for fragments, other protocols and packets too short to hold ports. Loading
 * it needs CAP_BPF or CAP_SYS_ADMIN: without, the tests are skipped. */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "link/tun_steer.h"
#include "synack/stack.h"

static int prog = -1;

static void load(void)
{
	prog = tun_steer_load();
	if (prog == -EPERM || prog == -EACCES || prog == -ENOSYS)
		cr_skip_test("bpf(2) refused (%s): not privileged", strerror(-prog));
	cr_assert_geq(prog, 0, "tun_steer_load: %s", strerror(-prog));
}

static void unload(void)
{
	if (prog >= 0)
		close(prog);
}

TestSuite(tun_steer, .init = load, .fini = unload);

/* The program's return value for an IP packet (the test run wants an Ethernet header in
 * front, which the kernel pulls before the program sees the packet, as a TUN device's). */
static uint32_t run(const uint8_t *ip, size_t len, uint16_t ethertype)
{
	uint8_t pkt[256] = {0};
	cr_assert_leq(len + 14, sizeof pkt);
	pkt[12] = (uint8_t)(ethertype >> 8);
	pkt[13] = (uint8_t)ethertype;
	memcpy(pkt + 14, ip, len);
	union bpf_attr a;
	memset(&a, 0, sizeof a);
	a.test.prog_fd = (uint32_t)prog;
	a.test.data_in = (uint64_t)(uintptr_t)pkt;
	a.test.data_size_in = (uint32_t)(len + 14);
	a.test.repeat = 1;
	cr_assert_eq(syscall(SYS_bpf, BPF_PROG_TEST_RUN, &a, sizeof a), 0, "test run: %s",
		     strerror(errno));
	return a.test.retval;
}

/* What the kernel then takes modulo the queues: all 16 bits of the hash. */
static uint32_t hash(uint16_t a, uint16_t b) { return synack_flow_queue(a, b, 65536); }

/* An IPv4 header of ihl words (options zero) with protocol proto, then 20 bytes: ports sp
 * and dp first. */
static size_t v4(uint8_t *b, unsigned ihl, uint8_t proto, uint16_t frag, uint16_t sp, uint16_t dp)
{
	memset(b, 0, 100);
	b[0] = (uint8_t)(0x40 | ihl);
	b[6] = (uint8_t)(frag >> 8);
	b[7] = (uint8_t)frag;
	b[8] = 64;
	b[9] = proto;
	uint8_t *t = b + ihl * 4;
	t[0] = (uint8_t)(sp >> 8), t[1] = (uint8_t)sp, t[2] = (uint8_t)(dp >> 8), t[3] = (uint8_t)dp;
	size_t len = ihl * 4 + 20;
	b[2] = (uint8_t)(len >> 8);
	b[3] = (uint8_t)len;
	return len;
}

Test(tun_steer, tcp_over_ipv4_by_its_ports)
{
	uint8_t b[100];
	size_t n = v4(b, 5, 6, 0x4000 /* DF */, 40001, 80);
	cr_assert_eq(run(b, n, 0x0800), hash(40001, 80));
	cr_assert_neq(hash(40001, 80), 0, "a hash that cannot be told from 'not steered'");
	n = v4(b, 7, 6, 0, 51234, 7); /* 8 bytes of options: the ports move */
	cr_assert_eq(run(b, n, 0x0800), hash(51234, 7));
}

Test(tun_steer, fragments_and_other_protocols_go_to_queue_0)
{
	uint8_t b[100];
	size_t n = v4(b, 5, 6, 0x2000 /* MF */, 40001, 80);
	cr_assert_eq(run(b, n, 0x0800), 0);
	n = v4(b, 5, 6, 0x00b9 /* a later piece */, 40001, 80);
	cr_assert_eq(run(b, n, 0x0800), 0);
	n = v4(b, 5, 17 /* UDP */, 0, 40001, 80);
	cr_assert_eq(run(b, n, 0x0800), 0);
	n = v4(b, 5, 6, 0, 40001, 80);
	cr_assert_eq(run(b, 22, 0x0800), 0, "no room for the ports");
}

Test(tun_steer, an_icmp_error_by_the_ports_it_quotes)
{
	uint8_t b[100], inner[100];
	/* Destination unreachable, fragmentation needed, quoting one of synack's segments
	 * (synack's port 80 to the kernel's 40001): the queue of that connection. */
	v4(inner, 5, 6, 0x4000, 80, 40001);
	memset(b, 0, sizeof b);
	b[0] = 0x45;
	b[8] = 64;
	b[9] = 1;
	b[20] = 3;
	b[21] = 4;
	memcpy(b + 28, inner, 28);
	cr_assert_eq(run(b, 56, 0x0800), hash(40001, 80));
}

Test(tun_steer, tcp_over_ipv6_directly_after_the_header)
{
	uint8_t b[100] = {0};
	b[0] = 0x60;
	b[5] = 20;
	b[6] = 6;
	b[7] = 64;
	b[40] = 0x9c, b[41] = 0x41; /* 40001 */
	b[42] = 0x00, b[43] = 0x50; /* 80 */
	cr_assert_eq(run(b, 60, 0x86dd), hash(40001, 80));
	b[6] = 0; /* a hop-by-hop header first: not looked into */
	cr_assert_eq(run(b, 60, 0x86dd), 0);
}
