/* SYN-RECEIVED as a compact request entry (tcp_req.c), for both families: a passive child that
 * only waits for the peer costs its entry (104 bytes IPv4, 128 IPv6) and nothing else, and
 * whatever happens to it next — its SYN-ACK's retransmission, the final ACK, a RST, its
 * listener's close, ss — goes as it did when it was a whole connection block. The counting
 * allocator of the segtest shows the bytes. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "core/tcp_req.h"
#include "support/segtest.h"

#define SEC 1000000ull
#define ISN 5000u

/* The peer's SYN: Linux's options (MSS, SACK-permitted, timestamps, window scale 7). */
static const struct synack_tcp_opts syn_opts = {.has_mss = true,
						.mss = 1440,
						.sack_ok = true,
						.has_ts = true,
						.ts_val = 111,
						.has_wscale = true,
						.wscale = 7};

/* A dual-stack segtest (10.0.0.2 and fd00::2) listening on port 80 with cookies off, the peer
 * speaking IPv6 (v6) or IPv4. A first half-open connection from port 39999, reset, has made
 * the stack allocate what it keeps for its life (output buffers); *base is the live bytes
 * after it. */
static int setup(struct segtest *t, bool v6, size_t *base)
{
	struct synack_config cfg;
	st_config(&cfg);
	cfg.syncookies = 0;
	cr_assert_eq(synack_config_add_addr(&cfg, synack_addr_v6(ST_V6_LOCAL), 64), 0);
	st_init(t, &cfg);
	if (v6) {
		t->local = synack_addr_v6(ST_V6_LOCAL);
		t->peer = synack_addr_v6(ST_V6_PEER);
	}
	int lfd = st_listen(t, ST_SERVER_PORT, 16);
	ST_IN(t, .flags = F_S, .seq = 1, .sport = 39999, .opts = syn_opts);
	struct st_seg sa;
	st_expect_ack(t, F_S | F_A, 2, &sa);
	ST_IN(t, .flags = F_R, .seq = 2, .sport = 39999);
	cr_assert_eq(st_count_state(t, SYNACK_SYN_RECEIVED), 0);
	*base = t->live_bytes;
	return lfd;
}

static size_t entry_size(bool v6)
{
	return v6 ? sizeof(struct tcp_req6) : sizeof(struct tcp_req4);
}

/* The SYN from ST_PEER_PORT; its SYN-ACK in *sa, checked. */
static void syn(struct segtest *t, struct st_seg *sa)
{
	ST_IN(t, .flags = F_S, .seq = ISN, .opts = syn_opts);
	st_expect_ack(t, F_S | F_A, ISN + 1, sa);
	cr_assert(synack_addr_eq(&sa->src, &t->local) && synack_addr_eq(&sa->dst, &t->peer));
	cr_assert(sa->opts.has_mss && sa->opts.sack_ok && sa->opts.has_ts && sa->opts.has_wscale);
	cr_assert_eq(sa->opts.mss, synack_addr_is_v4(&t->peer) ? 1460 : 1440);
	cr_assert_eq(sa->opts.ts_ecr, 111);
}

/* One half-open connection is its entry's bytes: not a block's (928). */
static void half_open_costs_its_entry(bool v6)
{
	struct segtest t;
	size_t base;
	setup(&t, v6, &base);
	struct st_seg sa;
	syn(&t, &sa);
	cr_assert_eq(t.live_bytes - base, entry_size(v6), "%zu B for a half-open connection",
		     t.live_bytes - base);
	cr_assert_eq(st_count_state(&t, SYNACK_SYN_RECEIVED), 1);
	st_fini(&t);
}

Test(tcp_req, an_ipv6_syn_leaves_a_128_byte_entry_not_a_block)
{
	cr_assert_eq(sizeof(struct tcp_req6), 128);
	half_open_costs_its_entry(true);
}

Test(tcp_req, an_ipv4_syn_leaves_a_104_byte_entry)
{
	cr_assert_eq(sizeof(struct tcp_req4), 104);
	half_open_costs_its_entry(false);
}

struct find_ctx {
	uint16_t rport;
	struct synack_tcp_info info;
	int fd, n;
};

static void find_visit(void *ctx, int fd, const struct synack_tcp_info *i)
{
	struct find_ctx *f = ctx;
	if (i->remote.port != f->rport)
		return;
	f->info = *i;
	f->fd = fd;
	f->n++;
}

/* ss lists the entry as the block it stands for. */
Test(tcp_req, ss_lists_an_ipv6_entry_as_its_block)
{
	struct segtest t;
	size_t base;
	setup(&t, true, &base);
	struct st_seg sa;
	syn(&t, &sa);
	struct find_ctx f = {.rport = ST_PEER_PORT};
	synack_stack_foreach(t.s, find_visit, &f);
	cr_assert_eq(f.n, 1);
	cr_assert_eq(f.fd, -1);
	cr_assert_eq(f.info.state, SYNACK_SYN_RECEIVED);
	cr_assert(synack_addr_eq(&f.info.local.addr, &t.local));
	cr_assert_eq(f.info.local.port, ST_SERVER_PORT);
	cr_assert(synack_addr_eq(&f.info.remote.addr, &t.peer));
	cr_assert_eq(f.info.iss, sa.seq);
	cr_assert_eq(f.info.irs, ISN);
	cr_assert_eq(f.info.snd_una, sa.seq);
	cr_assert_eq(f.info.snd_nxt, sa.seq + 1);
	cr_assert_eq(f.info.rcv_nxt, ISN + 1);
	cr_assert_eq(f.info.snd_wscale, 7);
	cr_assert_eq(f.info.rcv_wscale, sa.opts.wscale);
	cr_assert(f.info.ts_ok && f.info.sack_ok);
	cr_assert_eq(f.info.rcv_mss, 1440);
	cr_assert_eq(f.info.snd_mss, 1440 - 12, "the timestamp option's 12 bytes off");
	cr_assert_eq(f.info.rto_us, 1000000);
	st_fini(&t);
}

/* The retransmission timer wakes the entry: the same SYN-ACK goes again (seq, ack, window,
 * options, flow label) at 1 s and 3 s, and the connection sleeps again in between. */
Test(tcp_req, an_ipv6_entry_retransmits_its_syn_ack_and_sleeps_again)
{
	struct segtest t;
	size_t base;
	setup(&t, true, &base);
	struct st_seg sa, re;
	syn(&t, &sa);
	cr_assert_neq(sa.flow, 0);
	static const uint64_t at[] = {1, 3};
	for (size_t i = 0; i < 2; i++) {
		st_at(&t, at[i] * SEC - 1);
		st_expect_none(&t);
		st_at(&t, at[i] * SEC);
		st_expect(&t, F_S | F_A, sa.seq, ISN + 1, &re);
		cr_assert_eq(re.win, sa.win);
		cr_assert_eq(re.flow, sa.flow, "the flow's label");
		cr_assert_eq(re.hop_limit, sa.hop_limit);
		cr_assert_eq(re.opts.mss, 1440);
		cr_assert(re.opts.sack_ok && re.opts.has_ts && re.opts.has_wscale);
		cr_assert_eq(re.opts.wscale, sa.opts.wscale);
		cr_assert_eq(re.opts.ts_ecr, 111);
		cr_assert_eq(re.opts.ts_val, sa.opts.ts_val + at[i] * 1000, "a 1 ms clock");
		cr_assert_eq(t.live_bytes - base, sizeof(struct tcp_req6), "asleep again");
	}
	cr_assert_eq(st_counter(&t, SYNACK_CTR_RetransSegs), 2);
	st_fini(&t);
}

/* The final ACK (after a retransmission) wakes the entry into ESTABLISHED with what the SYN
 * negotiated, and the connection's data carries the right numbers and options. */
Test(tcp_req, the_final_ack_wakes_an_ipv6_entry_into_established)
{
	struct segtest t;
	size_t base;
	int lfd = setup(&t, true, &base);
	struct st_seg sa, re;
	syn(&t, &sa);
	st_at(&t, 1 * SEC);
	st_expect(&t, F_S | F_A, sa.seq, ISN + 1, &re);
	st_at(&t, 1 * SEC + 40000);
	/* The peer echoes the retransmission's timestamp: a 40 ms sample (RFC 7323 §4). */
	struct synack_tcp_opts ts = {.has_ts = true, .ts_val = 222, .ts_ecr = re.opts.ts_val};
	ST_IN(&t, .flags = F_A, .seq = ISN + 1, .ack = sa.seq + 1, .opts = ts);
	st_expect_none(&t);
	struct synack_endpoint peer;
	int fd = synack_accept(t.s, lfd, &peer);
	cr_assert_geq(fd, 0);
	cr_assert(synack_addr_eq(&peer.addr, &t.peer));
	cr_assert_eq(peer.port, ST_PEER_PORT);
	struct synack_tcp_info ti;
	synack_tcp_info(t.s, fd, &ti);
	cr_assert_eq(ti.state, SYNACK_ESTABLISHED);
	cr_assert_eq(ti.irs, ISN);
	cr_assert_eq(ti.iss, sa.seq);
	cr_assert_eq(ti.snd_una, sa.seq + 1);
	cr_assert_eq(ti.rcv_nxt, ISN + 1);
	cr_assert_eq(ti.snd_wscale, 7);
	cr_assert_eq(ti.rcv_wscale, sa.opts.wscale);
	cr_assert(ti.ts_ok && ti.sack_ok);
	cr_assert_eq(ti.snd_mss, 1428);
	cr_assert_eq(ti.total_retrans, 1, "the SYN-ACK's retransmission, kept by the entry");
	cr_assert_eq(ti.rtt_us, 40000);
	cr_assert_eq(ti.rto_us, 200000, "40 + 4 * 20 ms, up to RTO.min");
	cr_assert_eq(ti.snd_wnd, 65535u << 7, "the ACK's window, scaled");
	cr_assert(st_saw_state(&t, SYNACK_SYN_RECEIVED, SYNACK_ESTABLISHED));
	cr_assert_eq(synack_send(t.s, fd, "hi", 2, 0), 2);
	struct st_seg d;
	cr_assert(st_next(&t, &d));
	cr_assert_eq(d.flags, F_A | F_P);
	cr_assert_eq(d.seq, sa.seq + 1);
	cr_assert_eq(d.ack, ISN + 1);
	cr_assert_eq(d.len, 2);
	cr_assert_arr_eq(d.data, "hi", 2);
	cr_assert(d.opts.has_ts);
	cr_assert_eq(d.opts.ts_ecr, 222);
	cr_assert_eq(d.opts.ts_val, sa.opts.ts_val + 1040);
	cr_assert_eq(d.flow, sa.flow);
	st_fini(&t);
}

/* RFC 9293 §3.10.7.4: a RST in SYN-RECEIVED from a passive open sends the connection back
 * to LISTEN: the entry goes, all of its bytes with it, and nothing is sent. */
Test(tcp_req, a_rst_frees_an_ipv6_entry)
{
	struct segtest t;
	size_t base;
	int lfd = setup(&t, true, &base);
	struct st_seg sa;
	syn(&t, &sa);
	ST_IN(&t, .flags = F_R, .seq = ISN + 1);
	st_expect_none(&t);
	cr_assert_eq(t.live_bytes, base);
	cr_assert_eq(st_count_state(&t, SYNACK_SYN_RECEIVED), 0);
	cr_assert_eq(synack_accept(t.s, lfd, NULL), -EAGAIN);
	cr_assert_eq(synack_stack_next_deadline(t.s), SYNACK_TIME_NEVER, "no timer left");
	/* The tuple is free: the final ACK now finds no connection and draws a RST. */
	ST_IN(&t, .flags = F_A, .seq = ISN + 1, .ack = sa.seq + 1);
	st_expect(&t, F_R, sa.seq + 1, 0, NULL);
	st_fini(&t);
}

/* Closing a listener frees its entries, IPv4 and IPv6, and no other listener's. */
Test(tcp_req, closing_a_listener_frees_its_entries_only)
{
	struct segtest t;
	size_t base;
	int lfd = setup(&t, true, &base);
	st_listen(&t, 81, 16);
	base = t.live_bytes;
	struct st_seg sa, sa81;
	syn(&t, &sa); /* to port 80 */
	ST_IN(&t, .flags = F_S, .seq = ISN, .dport = 81, .opts = syn_opts);
	st_expect_ack(&t, F_S | F_A, ISN + 1, &sa81);
	struct synack_addr v6local = t.local, v6peer = t.peer;
	t.local = synack_addr_v4(ST_LOCAL);
	t.peer = synack_addr_v4(ST_PEER);
	syn(&t, &sa); /* IPv4, to port 80 */
	cr_assert_eq(t.live_bytes - base, 2 * sizeof(struct tcp_req6) + sizeof(struct tcp_req4));
	cr_assert_eq(st_count_state(&t, SYNACK_SYN_RECEIVED), 3);
	size_t before = t.live_bytes;
	cr_assert_eq(synack_close(t.s, lfd), 0);
	st_expect_none(&t);
	cr_assert_eq(st_count_state(&t, SYNACK_SYN_RECEIVED), 1, "port 81's");
	cr_assert_geq(before - t.live_bytes,
		      sizeof(struct tcp_req6) + sizeof(struct tcp_req4) + sizeof(struct synack_tcb),
		      "its two entries and the listener's block");
	/* Port 81's entry is whole: its final ACK establishes it. */
	t.local = v6local;
	t.peer = v6peer;
	ST_IN(&t, .flags = F_A, .seq = ISN + 1, .ack = sa81.seq + 1, .dport = 81,
	      .opts = {.has_ts = true, .ts_val = 112, .ts_ecr = sa81.opts.ts_val});
	st_expect_none(&t);
	cr_assert_eq(st_count_state(&t, SYNACK_ESTABLISHED), 1);
	/* No SYN-ACK retransmission left: only the fold check (tcb_flow.c), a quiet second on. */
	cr_assert_eq(synack_stack_next_deadline(t.s), t.now + 1000000u);
	st_fini(&t);
}
