/* The TUN link's pure parts: the address parser serve and connect share
 * (synack_parse_prefix()) and the argument checks of synack_tun_open_addrs(), which refuse a
 * bad set of addresses before any device is touched (so no root is needed here; the device
 * itself is tested against the kernel in tests/interop/). */
#include <criterion/criterion.h>
#include <errno.h>

#include "synack/tun.h"

static void parses(const char *text, const char *addr, unsigned prefix)
{
	struct synack_addr a, want;
	unsigned p = 0;
	cr_assert_eq(synack_parse_prefix(text, &a, &p), 0, "%s", text);
	cr_assert_eq(synack_addr_parse(addr, &want), 0);
	cr_assert(synack_addr_eq(&a, &want), "%s", text);
	cr_assert_eq(p, prefix, "%s", text);
}

static void refused(const char *text)
{
	struct synack_addr a = synack_addr_v4(0x01020304);
	unsigned p = 99;
	cr_assert_eq(synack_parse_prefix(text, &a, &p), -EINVAL, "%s", text);
	struct synack_addr untouched = synack_addr_v4(0x01020304);
	cr_assert(synack_addr_eq(&a, &untouched), "%s: left untouched", text);
	cr_assert_eq(p, 99u, "%s: left untouched", text);
}

Test(tun, parse_prefix_takes_both_families_with_their_ranges)
{
	parses("10.77.0.2/24", "10.77.0.2", 24);
	parses("10.77.0.2/31", "10.77.0.2", 31);
	parses("fd00::2/64", "fd00::2", 64);
	parses("fd00:77::2/127", "fd00:77::2", 127);
	parses("2001:db8::1/1", "2001:db8::1", 1);
	parses("::ffff:10.0.0.1/24", "10.0.0.1", 24); /* the mapped form is IPv4 */
	struct synack_addr a;
	unsigned p;
	cr_assert_eq(synack_parse_prefix("::ffff:10.0.0.1/24", &a, &p), 0);
	cr_assert(synack_addr_is_v4(&a));
	refused("10.77.0.2");       /* the prefix length is required */
	refused("fd00::2");
	refused("10.77.0.2/32");    /* no room for the kernel's side */
	refused("10.77.0.2/0");
	refused("fd00::2/128");
	refused("fd00::2/0");
	refused("fd00::2/+64");
	refused("fd00::2/-1");
	refused("fd00::2/ 64");     /* strtol would skip the space */
	refused("10.0.0.2/24/8");
	refused("fd00::2/64x");
	refused("fd00::2/");
	refused("[fd00::2]/64");    /* no brackets */
	refused("fe80::1%tun0/64"); /* no zone */
	refused("fd00::g/64");
	refused("10.0.0.300/24");
	refused("");
	refused(NULL);
	refused("1111:2222:3333:4444:5555:6666:7777:8888:9999/64");
}

Test(tun, open_addrs_refuses_a_bad_set_before_touching_a_device)
{
	struct synack_link *l = (struct synack_link *)1;
	struct synack_tun_addr v4 = {synack_addr_v4(0x0a4d0002), 24}, v4b = {synack_addr_v4(0x0a4e0002), 24};
	struct synack_tun_addr v6 = {.prefix = 64}, v6b = {.prefix = 64};
	cr_assert_eq(synack_addr_parse("fd00::2", &v6.addr), 0);
	cr_assert_eq(synack_addr_parse("fd01::2", &v6b.addr), 0);
	struct synack_tun_addr two4[2] = {v4, v4b}, two6[2] = {v6, v6b}, three[3] = {v4, v6, v6b};
	cr_assert_eq(synack_tun_open_addrs("t0", NULL, 1, 0, NULL, &l), -EINVAL);
	cr_assert_null(l);
	cr_assert_eq(synack_tun_open_addrs("t0", &v4, 0, 0, NULL, &l), -EINVAL, "no address");
	cr_assert_eq(synack_tun_open_addrs("t0", two4, 2, 0, NULL, &l), -EINVAL, "two IPv4");
	cr_assert_eq(synack_tun_open_addrs("t0", two6, 2, 0, NULL, &l), -EINVAL, "two IPv6");
	cr_assert_eq(synack_tun_open_addrs("t0", three, 3, 0, NULL, &l), -EINVAL, "three");
	struct synack_tun_addr bad = v6;
	bad.prefix = 128;
	cr_assert_eq(synack_tun_open_addrs("t0", &bad, 1, 0, NULL, &l), -EINVAL, "/128");
	bad = v4;
	bad.prefix = 32;
	cr_assert_eq(synack_tun_open_addrs("t0", &bad, 1, 0, NULL, &l), -EINVAL, "/32");
	cr_assert_eq(synack_tun_open_addrs("t0", &v4, 1, 0x80, NULL, &l), -EINVAL, "unknown flag");
	cr_assert_eq(synack_tun_open_addrs("a-name-of-16-chr", &v4, 1, 0, NULL, &l), -EINVAL);
	cr_assert_eq(synack_tun_open_flags("t0", 0x0a4d0002, 32, 0, NULL, &l), -EINVAL);
	cr_assert_null(l);
}
