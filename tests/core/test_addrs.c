/* The stack's own addresses: several, of both families. Configuration errors, which address
 * bind() accepts, which source connect() picks, input to any own address, listeners bound to
 * one address, and IPv6 refused at the IP layer (counted) until IPv6 has a codec. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "support/segtest.h"

#define ST_LOCAL2 0x0A000102u /* 10.0.1.2: a second IPv4 address of the stack */

static const uint8_t V6_LOCAL[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2}; /* 2001:db8::2 */
static const uint8_t V6_PEER[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};	/* 2001:db8::1 */

static void init_with(struct segtest *t, const struct synack_addr *addrs, size_t n)
{
	struct synack_config c;
	st_config(&c);
	c.naddrs = 0;
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(synack_config_add_addr(&c, addrs[i], 24), 0);
	st_init(t, &c);
}

/* Pops the next captured frame (st_next() insists on ST_LOCAL as the source): its source
 * address, and its TCP flags in *flags; the checksum must be right for that source. */
static uint32_t next_src(struct segtest *t, uint8_t *flags)
{
	cr_assert_lt(t->next, t->nframes, "a frame was sent");
	struct synack_ipv4 ip;
	const uint8_t *p;
	size_t n;
	const struct st_frame *f = &t->frames[t->next++];
	cr_assert_eq(synack_ipv4_parse(f->b, f->len, &ip, &p, &n), 0);
	struct synack_tcp_seg seg;
	cr_assert_eq(synack_tcp_parse(p, n, ST_V4(ip.src), ST_V4(ip.dst), true, &seg), 0);
	cr_assert_eq(ip.dst, ST_PEER);
	if (flags)
		*flags = seg.flags;
	return ip.src;
}

/* A segment from the peer to dst (IPv4, host order). */
static void send_to(struct segtest *t, uint32_t dst, uint16_t dport, uint8_t flags, uint32_t seq,
		    uint32_t ack)
{
	struct synack_tcp_seg seg;
	memset(&seg, 0, sizeof seg);
	seg.sport = ST_PEER_PORT;
	seg.dport = dport;
	seg.seq = seq;
	seg.ack = ack;
	seg.flags = flags;
	seg.win = 65535;
	uint8_t buf[128];
	int n = synack_tcp_emit(buf, sizeof buf, ST_V4(ST_PEER), ST_V4(dst), 1, &seg);
	cr_assert_gt(n, 0);
	st_send_raw(t, buf, (size_t)n);
}

/* ---- configuration ----------------------------------------------------------------------- */

Test(addrs, config_add_addr_checks_and_fills)
{
	struct synack_config c;
	synack_config_default(&c);
	cr_assert_eq(c.naddrs, 0, "no address by default");
	struct synack_addr v6 = synack_addr_v6(V6_LOCAL);
	cr_assert_eq(synack_config_add_addr(&c, synack_addr_v4(ST_LOCAL), 33), -EINVAL);
	cr_assert_eq(synack_config_add_addr(&c, v6, 129), -EINVAL);
	cr_assert_eq(synack_config_add_addr(&c, synack_addr_any(SYNACK_AF_INET), 24), -EINVAL);
	cr_assert_eq(synack_config_add_addr(&c, synack_addr_any(SYNACK_AF_INET6), 64), -EINVAL);
	cr_assert_eq(c.naddrs, 0, "refused additions leave the list alone");
	cr_assert_eq(synack_config_add_addr(&c, synack_addr_v4(ST_LOCAL), 32), 0);
	cr_assert_eq(synack_config_add_addr(&c, v6, 128), 0);
	cr_assert_eq(synack_config_add_addr(&c, v6, 64), 0, "already present: nothing to do");
	cr_assert_eq(c.naddrs, 2);
	cr_assert_eq(c.addrs[1].prefix_len, 128);
	for (uint32_t i = 2; i < SYNACK_STACK_ADDRS_MAX; i++)
		cr_assert_eq(synack_config_add_addr(&c, synack_addr_v4(0x0a000100u + i), 24), 0);
	cr_assert_eq(synack_config_add_addr(&c, synack_addr_v4(0x0a0001ffu), 24), -ENOSPC);
	cr_assert_eq(c.naddrs, SYNACK_STACK_ADDRS_MAX);
}

Test(addrs, stack_reports_its_addresses)
{
	struct synack_addr a[3] = {synack_addr_v4(ST_LOCAL), synack_addr_v6(V6_LOCAL),
				   synack_addr_v4(ST_LOCAL2)};
	struct segtest t;
	init_with(&t, a, 3);
	struct synack_ifaddr out[3];
	memset(out, 0, sizeof out);
	cr_assert_eq(synack_stack_addrs(t.s, out, 2), 3, "the count, even beyond cap");
	cr_assert(synack_addr_eq(&out[0].addr, &a[0]));
	cr_assert(synack_addr_eq(&out[1].addr, &a[1]));
	cr_assert(synack_addr_is_any(&out[2].addr), "nothing written past cap");
	for (int i = 0; i < 3; i++)
		cr_assert(synack_stack_has_addr(t.s, &a[i]));
	struct synack_addr peer6 = synack_addr_v6(V6_PEER);
	cr_assert_not(synack_stack_has_addr(t.s, ST_V4(ST_PEER)));
	cr_assert_not(synack_stack_has_addr(t.s, &peer6));
	st_fini(&t);
}

Test(addrs, config_with_too_many_addresses_is_einval)
{
	struct synack_config c;
	st_config(&c);
	c.naddrs = SYNACK_STACK_ADDRS_MAX + 1;
	c.output = (void (*)(void *, const uint8_t *, const struct synack_frame_meta *))1;
	struct synack_stack *s = NULL;
	cr_assert_eq(synack_stack_new(&s, &c), -EINVAL);
	cr_assert_null(s);
}

/* ---- bind and connect -------------------------------------------------------------------- */

Test(addrs, bind_takes_own_addresses_of_either_family_only)
{
	struct synack_addr a[2] = {synack_addr_v4(ST_LOCAL), synack_addr_v6(V6_LOCAL)};
	struct segtest t;
	init_with(&t, a, 2);
	struct synack_endpoint foreign4 = {synack_addr_v4(ST_PEER), 0};
	struct synack_endpoint foreign6 = {synack_addr_v6(V6_PEER), 0};
	struct synack_endpoint own6 = {synack_addr_v6(V6_LOCAL), 7000};
	struct synack_endpoint any6 = {synack_addr_any(SYNACK_AF_INET6), 7001};
	int fd = synack_socket(t.s);
	cr_assert_eq(synack_bind(t.s, fd, &foreign4), -EADDRNOTAVAIL);
	cr_assert_eq(synack_bind(t.s, fd, &foreign6), -EADDRNOTAVAIL);
	cr_assert_eq(synack_bind(t.s, fd, &own6), 0);
	struct synack_endpoint got;
	cr_assert_eq(synack_getsockname(t.s, fd, &got), 0);
	cr_assert(synack_addr_eq(&got.addr, &own6.addr));
	cr_assert_eq(got.port, 7000);
	/* bound to an IPv6 address: an IPv4 destination cannot be reached from it */
	struct synack_endpoint to4 = {synack_addr_v4(ST_PEER), 80};
	cr_assert_eq(synack_connect(t.s, fd, &to4), -EINVAL);
	int fd2 = synack_socket(t.s);
	cr_assert_eq(synack_bind(t.s, fd2, &any6), 0, ":: is the wildcard");
	st_expect_none(&t);
	st_fini(&t);
}

Test(addrs, connect_sources_from_the_first_address_of_the_family)
{
	/* An IPv6 address first: an IPv4 connection must still leave from an IPv4 address. */
	struct synack_addr a[3] = {synack_addr_v6(V6_LOCAL), synack_addr_v4(ST_LOCAL2),
				   synack_addr_v4(ST_LOCAL)};
	struct segtest t;
	init_with(&t, a, 3);
	int fd = synack_socket(t.s);
	struct synack_endpoint to = {synack_addr_v4(ST_PEER), 80};
	cr_assert_eq(synack_connect(t.s, fd, &to), -EINPROGRESS);
	uint8_t fl;
	cr_assert_eq(next_src(&t, &fl), ST_LOCAL2);
	cr_assert_eq(fl, F_S);
	struct synack_endpoint me;
	cr_assert_eq(synack_getsockname(t.s, fd, &me), 0);
	cr_assert(synack_addr_eq(&me.addr, &a[1]));
	st_fini(&t);
}

Test(addrs, connect_from_a_bound_address)
{
	struct synack_addr a[2] = {synack_addr_v4(ST_LOCAL), synack_addr_v4(ST_LOCAL2)};
	struct segtest t;
	init_with(&t, a, 2);
	int fd = synack_socket(t.s);
	struct synack_endpoint me = {synack_addr_v4(ST_LOCAL2), 0};
	cr_assert_eq(synack_bind(t.s, fd, &me), 0);
	struct synack_endpoint to = {synack_addr_v4(ST_PEER), 80};
	cr_assert_eq(synack_connect(t.s, fd, &to), -EINPROGRESS);
	uint8_t fl;
	cr_assert_eq(next_src(&t, &fl), ST_LOCAL2);
	cr_assert_eq(fl, F_S);
	st_expect_none(&t);
	st_fini(&t);
}

Test(addrs, ipv6_destination_without_an_ipv6_address_is_enetunreach)
{
	struct segtest t;
	st_init(&t, NULL); /* 10.0.0.2 only */
	int fd = synack_socket(t.s);
	struct synack_endpoint to6 = {synack_addr_v6(V6_PEER), 80};
	cr_assert_eq(synack_connect(t.s, fd, &to6), -ENETUNREACH);
	cr_assert_eq(st_state(&t, fd), SYNACK_CLOSED);
	st_expect_none(&t);
	struct synack_endpoint me;
	cr_assert_eq(synack_getsockname(t.s, fd, &me), 0);
	cr_assert_eq(me.port, 0, "a refused connect binds no port");
	/* the socket is still usable for IPv4 */
	struct synack_endpoint to4 = {synack_addr_v4(ST_PEER), 80};
	cr_assert_eq(synack_connect(t.s, fd, &to4), -EINPROGRESS);
	st_fini(&t);
}

Test(addrs, ipv6_multicast_and_unspecified_destinations)
{
	struct synack_addr a[1] = {synack_addr_v6(V6_LOCAL)};
	struct segtest t;
	init_with(&t, a, 1);
	int fd = synack_socket(t.s);
	static const uint8_t all_nodes[16] = {0xff, 0x02, [15] = 1};
	struct synack_endpoint mc = {synack_addr_v6(all_nodes), 80};
	struct synack_endpoint any = {synack_addr_any(SYNACK_AF_INET6), 80};
	cr_assert_eq(synack_connect(t.s, fd, &mc), -ENETUNREACH);
	cr_assert_eq(synack_connect(t.s, fd, &any), -EINVAL);
	st_fini(&t);
}

/* A connection to an IPv6 peer leaves from the stack's IPv6 address, in an IPv6 packet with
 * the MSS of an IPv6 path (MTU - 60), and nothing of it is counted as IPv4. */
Test(addrs, ipv6_connection_leaves_from_the_ipv6_address)
{
	struct synack_addr a[2] = {synack_addr_v4(ST_LOCAL), synack_addr_v6(V6_LOCAL)};
	struct segtest t;
	init_with(&t, a, 2);
	t.local = a[1];
	t.peer = synack_addr_v6(V6_PEER);
	int fd = synack_socket(t.s);
	struct synack_endpoint to6 = {synack_addr_v6(V6_PEER), 80};
	cr_assert_eq(synack_connect(t.s, fd, &to6), -EINPROGRESS);
	cr_assert_eq(st_state(&t, fd), SYNACK_SYN_SENT);
	struct st_seg syn;
	cr_assert(st_next(&t, &syn));
	cr_assert_eq(syn.flags, F_S);
	cr_assert(synack_addr_eq(&syn.src, &a[1]));
	cr_assert(synack_addr_eq(&syn.dst, &to6.addr));
	cr_assert_eq(syn.opts.mss, 1440);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_IpOutNoRoutes), 0);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_Ip6OutRequests), 1);
	cr_assert_eq(st_counter(&t, SYNACK_CTR_IpOutRequests), 0);
	struct synack_endpoint me, peer;
	cr_assert_eq(synack_getsockname(t.s, fd, &me), 0);
	cr_assert(synack_addr_eq(&me.addr, &a[1]), "the IPv6 source");
	cr_assert_eq(synack_getpeername(t.s, fd, &peer), 0);
	cr_assert(synack_addr_eq(&peer.addr, &to6.addr));
	cr_assert_eq(peer.port, 80);
	st_fini(&t);
}

/* ---- input to several addresses ---------------------------------------------------------- */

Test(addrs, a_wildcard_listener_answers_on_every_own_address)
{
	struct synack_addr a[2] = {synack_addr_v4(ST_LOCAL), synack_addr_v4(ST_LOCAL2)};
	struct segtest t;
	init_with(&t, a, 2);
	int lfd = st_listen(&t, ST_SERVER_PORT, 8);
	send_to(&t, ST_LOCAL2, ST_SERVER_PORT, F_S, 1000, 0);
	uint8_t fl;
	cr_assert_eq(next_src(&t, &fl), ST_LOCAL2, "the SYN-ACK leaves from the SYN's address");
	cr_assert_eq(fl, F_S | F_A);
	send_to(&t, ST_LOCAL2, ST_SERVER_PORT, F_A, 1001, 0); /* wrong ack: reset */
	cr_assert_eq(next_src(&t, &fl), ST_LOCAL2);
	cr_assert_eq(fl, F_R);
	send_to(&t, 0x0A000202u, ST_SERVER_PORT, F_S, 2000, 0); /* not ours */
	st_expect_none(&t);
	cr_assert_eq(st_drops(&t, SYNACK_DROP_IP_NOT_FOR_US), 1);
	cr_assert_eq(synack_accept(t.s, lfd, NULL), -EAGAIN);
	st_fini(&t);
}

Test(addrs, a_listener_bound_to_one_address_hears_only_it)
{
	struct synack_addr a[2] = {synack_addr_v4(ST_LOCAL), synack_addr_v4(ST_LOCAL2)};
	struct segtest t;
	init_with(&t, a, 2);
	int lfd = synack_socket(t.s);
	struct synack_endpoint ep = {synack_addr_v4(ST_LOCAL2), ST_SERVER_PORT};
	cr_assert_eq(synack_bind(t.s, lfd, &ep), 0);
	cr_assert_eq(synack_listen(t.s, lfd, 8), 0);
	uint8_t fl;
	send_to(&t, ST_LOCAL, ST_SERVER_PORT, F_S, 1000, 0);
	cr_assert_eq(next_src(&t, &fl), ST_LOCAL);
	cr_assert_eq(fl, F_R | F_A, "no socket for 10.0.0.2:80: reset");
	cr_assert_eq(st_drops(&t, SYNACK_DROP_TCP_NO_SOCKET), 1);
	send_to(&t, ST_LOCAL2, ST_SERVER_PORT, F_S, 2000, 0);
	cr_assert_eq(next_src(&t, &fl), ST_LOCAL2);
	cr_assert_eq(fl, F_S | F_A);
	st_expect_none(&t);
	st_fini(&t);
}
