/* State inference and segment marks from what crossed the wire (render/infer.h). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "render/infer.h"

#define S SYNACK_TH_SYN
#define A SYNACK_TH_ACK
#define F SYNACK_TH_FIN
#define R SYNACK_TH_RST
#define P SYNACK_TH_PSH

struct run {
	struct synack_infer inf;
	/* each endpoint's states in order, as a string "SYN-SENT ESTABLISHED ..." */
	char path[2][256];
	unsigned marks[64];
	uint32_t dupn[64];
	int n;
	uint64_t t;
};

static void seg(struct run *r, int dir, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len,
		uint16_t win)
{
	struct synack_tcp_seg s = {.flags = flags, .seq = seq, .ack = ack, .len = len, .win = win};
	struct synack_infer_result res;
	r->t += 10000; /* 10 ms apart */
	synack_infer_segment(&r->inf, dir, &s, r->t, &res);
	for (int i = 0; i < res.nchanges; i++) {
		char *p = r->path[res.ch[i].ep];
		size_t n = strlen(p);
		snprintf(p + n, sizeof r->path[0] - n, "%s%s%s", n ? " " : "",
			 synack_state_name(res.ch[i].to), res.ch[i].uncertain ? "?" : "");
	}
	cr_assert_lt(r->n, 64);
	r->dupn[r->n] = res.dupack_n;
	r->marks[r->n++] = res.marks;
}

static void handshake(struct run *r)
{
	synack_infer_init(&r->inf);
	seg(r, 0, S, 100, 0, 0, 65535);
	seg(r, 1, S | A, 500, 101, 0, 65535);
	seg(r, 0, A, 101, 501, 0, 65535);
}

Test(infer, handshake_and_close_by_the_active_opener)
{
	struct run r = {0};
	handshake(&r);
	cr_assert_str_eq(r.path[0], "SYN-SENT ESTABLISHED");
	cr_assert_str_eq(r.path[1], "LISTEN SYN-RECEIVED ESTABLISHED");
	seg(&r, 0, P | A, 101, 501, 10, 65535);
	seg(&r, 1, A, 501, 111, 0, 65535);
	seg(&r, 0, F | A, 111, 501, 0, 65535);
	cr_assert_str_eq(r.path[0], "SYN-SENT ESTABLISHED FIN-WAIT-1");
	seg(&r, 1, A, 501, 112, 0, 65535);
	seg(&r, 1, F | A, 501, 112, 0, 65535);
	seg(&r, 0, A, 112, 502, 0, 65535);
	cr_assert_str_eq(r.path[0], "SYN-SENT ESTABLISHED FIN-WAIT-1 FIN-WAIT-2 TIME-WAIT");
	cr_assert_str_eq(r.path[1], "LISTEN SYN-RECEIVED ESTABLISHED CLOSE-WAIT LAST-ACK CLOSED");
	cr_assert(synack_infer_closed(&r.inf));
	for (int i = 0; i < r.n; i++)
		cr_assert_eq(r.marks[i], 0, "segment %d marked %#x", i, r.marks[i]);
}

Test(infer, close_by_the_passive_opener_with_a_combined_fin_ack)
{
	struct run r = {0};
	handshake(&r);
	seg(&r, 1, F | A, 501, 101, 0, 65535);
	seg(&r, 0, F | A, 101, 502, 0, 65535); /* acks the FIN and closes in one */
	seg(&r, 1, A, 502, 102, 0, 65535);
	cr_assert_str_eq(r.path[1], "LISTEN SYN-RECEIVED ESTABLISHED FIN-WAIT-1 FIN-WAIT-2 "
				    "TIME-WAIT");
	cr_assert_str_eq(r.path[0], "SYN-SENT ESTABLISHED CLOSE-WAIT LAST-ACK CLOSED");
}

Test(infer, simultaneous_close_goes_through_closing)
{
	struct run r = {0};
	handshake(&r);
	seg(&r, 0, F | A, 101, 501, 0, 65535);
	seg(&r, 1, F | A, 501, 101, 0, 65535); /* sent before the other FIN arrived */
	seg(&r, 0, A, 102, 502, 0, 65535);
	seg(&r, 1, A, 502, 102, 0, 65535);
	cr_assert_str_eq(r.path[0], "SYN-SENT ESTABLISHED FIN-WAIT-1 CLOSING TIME-WAIT");
	cr_assert_str_eq(r.path[1], "LISTEN SYN-RECEIVED ESTABLISHED FIN-WAIT-1 CLOSING TIME-WAIT");
}

Test(infer, rst_from_a_port_without_listener)
{
	struct run r = {0};
	synack_infer_init(&r.inf);
	seg(&r, 0, S, 100, 0, 0, 65535);
	seg(&r, 1, R | A, 0, 101, 0, 0);
	cr_assert_str_eq(r.path[0], "SYN-SENT CLOSED");
	cr_assert_str_eq(r.path[1], "LISTEN", "the listener assumed at the SYN ...");
	cr_assert_eq(r.inf.st[1], SYNACK_CLOSED, "... was not there");
	cr_assert_eq(r.marks[1], SYNACK_MARK_RST);
	cr_assert(synack_infer_closed(&r.inf));
}

Test(infer, rst_in_established_closes_both)
{
	struct run r = {0};
	handshake(&r);
	seg(&r, 1, R, 501, 0, 0, 0);
	cr_assert_str_eq(r.path[1], "LISTEN SYN-RECEIVED ESTABLISHED CLOSED");
	cr_assert_str_eq(r.path[0], "SYN-SENT ESTABLISHED CLOSED");
}

Test(infer, capture_started_mid_connection_is_uncertain)
{
	struct run r = {0};
	synack_infer_init(&r.inf);
	seg(&r, 0, P | A, 1000, 2000, 100, 65535);
	seg(&r, 1, A, 2000, 1100, 0, 65535);
	seg(&r, 0, F | A, 1100, 2000, 0, 65535);
	seg(&r, 1, F | A, 2000, 1101, 0, 65535);
	seg(&r, 0, A, 1101, 2001, 0, 65535);
	cr_assert_str_eq(r.path[0], "ESTABLISHED? FIN-WAIT-1? FIN-WAIT-2? TIME-WAIT?");
	cr_assert_str_eq(r.path[1], "ESTABLISHED? CLOSE-WAIT? LAST-ACK? CLOSED");
	struct synack_tcp_seg syn = {.flags = S, .seq = 7};
	cr_assert(synack_infer_is_new_syn(&r.inf, 0, &syn), "a SYN after the close is new");
}

Test(infer, retransmission_and_out_of_order)
{
	struct run r = {0};
	handshake(&r);			     /* rtt 20 ms */
	seg(&r, 0, A, 101, 501, 100, 65535); /* 3: 101..201 */
	seg(&r, 0, A, 301, 501, 100, 65535); /* 4: gap 201..301 */
	r.t -= 9000;
	seg(&r, 0, A, 201, 501, 100, 65535); /* 5: fills the gap 1 ms later (< RTT): reordering */
	seg(&r, 0, A, 101, 501, 100, 65535); /* 6: seen already */
	seg(&r, 0, A, 501, 501, 100, 65535); /* 7: gap 401..501 */
	r.t += 1000000;
	seg(&r, 0, A, 401, 501, 100, 65535); /* 8: fills it a second later: a retransmission */
	cr_assert_eq(r.marks[3], 0);
	cr_assert_eq(r.marks[4], 0);
	cr_assert_eq(r.marks[5], SYNACK_MARK_OOO);
	cr_assert_eq(r.marks[6], SYNACK_MARK_RETX);
	cr_assert_eq(r.marks[8], SYNACK_MARK_RETX);
}

Test(infer, duplicate_acks_window_update_zero_window_and_probe)
{
	struct run r = {0};
	handshake(&r);
	seg(&r, 0, A, 101, 501, 1000, 65535); /* 3 */
	seg(&r, 1, A, 501, 1101, 0, 65535);   /* 4 */
	seg(&r, 0, A, 1101, 501, 1000, 65535);
	seg(&r, 1, A, 501, 1101, 0, 65535); /* 6: dup #1 */
	seg(&r, 1, A, 501, 1101, 0, 65535); /* 7: dup #2 */
	seg(&r, 1, A, 501, 2101, 0, 0);	    /* 8: zero window */
	seg(&r, 0, A, 2101, 501, 1, 65535); /* 9: window probe */
	seg(&r, 0, A, 2101, 501, 1, 65535); /* 10: probe again (not a retransmission) */
	seg(&r, 1, A, 501, 2101, 0, 4096);  /* 11: window update */
	cr_assert_eq(r.marks[6], SYNACK_MARK_DUPACK);
	cr_assert_eq(r.dupn[6], 1);
	cr_assert_eq(r.marks[7], SYNACK_MARK_DUPACK);
	cr_assert_eq(r.dupn[7], 2);
	cr_assert_eq(r.marks[8], SYNACK_MARK_ZEROWIN);
	cr_assert_eq(r.marks[9], SYNACK_MARK_PROBE);
	cr_assert_eq(r.marks[10], SYNACK_MARK_PROBE);
	cr_assert_eq(r.marks[11], SYNACK_MARK_WINUPD);
	char buf[96];
	cr_assert_str_eq(synack_infer_marks_str(SYNACK_MARK_DUPACK | SYNACK_MARK_ZEROWIN, 3, buf,
						sizeof buf),
			 "dup-ack #3,zero-window");
}

Test(infer, keepalive_is_not_a_retransmission)
{
	struct run r = {0};
	handshake(&r);
	seg(&r, 0, A, 100, 501, 0, 65535);
	cr_assert_eq(r.marks[3], SYNACK_MARK_KEEPALIVE);
}

Test(infer, sequence_wrap)
{
	struct run r = {0};
	synack_infer_init(&r.inf);
	seg(&r, 0, S, 0xFFFFFF00u, 0, 0, 65535);
	seg(&r, 1, S | A, 500, 0xFFFFFF01u, 0, 65535);
	seg(&r, 0, A, 0xFFFFFF01u, 501, 0x200, 65535); /* crosses 2^32 */
	seg(&r, 0, A, 0xFFFFFF01u, 501, 0x200, 65535);
	seg(&r, 0, F | A, 0x101u, 501, 0, 65535);
	seg(&r, 1, A, 501, 0x102u, 0, 65535);
	cr_assert_eq(r.marks[2], 0);
	cr_assert_eq(r.marks[3], SYNACK_MARK_RETX);
	cr_assert_str_eq(r.path[0], "SYN-SENT ESTABLISHED FIN-WAIT-1 FIN-WAIT-2");
}

Test(infer, window_scaling_needs_both_sides)
{
	struct synack_infer inf;
	synack_infer_init(&inf);
	struct synack_infer_result res;
	struct synack_tcp_seg syn = {.flags = S, .seq = 1};
	syn.opts.has_wscale = true;
	syn.opts.wscale = 7;
	synack_infer_segment(&inf, 0, &syn, 0, &res);
	cr_assert_eq(synack_infer_window(&inf, 0, 100, false), 100, "peer has not agreed");
	struct synack_tcp_seg sa = {.flags = S | A, .seq = 9, .ack = 2};
	sa.opts.has_wscale = true;
	sa.opts.wscale = 2;
	synack_infer_segment(&inf, 1, &sa, 1, &res);
	cr_assert_eq(synack_infer_window(&inf, 0, 100, false), 12800);
	cr_assert_eq(synack_infer_window(&inf, 1, 100, false), 400);
	cr_assert_eq(synack_infer_window(&inf, 1, 100, true), 100, "never on a SYN");
}
