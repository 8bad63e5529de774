/* Congestion control behind its ops table (cc.h): the registry by name, NewReno's exact
 * responses (RFC 5681 eq. 2-4, §3.2; RFC 6582 §3.2), the stack default from
 * synack_config.congestion and the per-socket TCP_CONGESTION option with Linux's errors. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "core/cc.h"
#include "core/tcb.h"
#include "support/segtest.h"

#define MSS 1000u

static struct cc reno(uint32_t cwnd, uint32_t ssthresh)
{
	struct cc cc;
	memset(&cc, 0xA5, sizeof cc);
	cc_set(&cc, &cc_newreno);
	cc.cwnd = cwnd;
	cc.ssthresh = ssthresh;
	return cc;
}

/* ---- the registry ---- */

Test(cc, registry_finds_reno_by_its_exact_name)
{
	cr_assert_eq(cc_find("reno"), &cc_newreno);
	cr_assert_str_eq(cc_newreno.name, "reno");
	cr_assert_null(cc_find("Reno"));
	cr_assert_null(cc_find("ren"));
	cr_assert_null(cc_find("renox"));
	cr_assert_eq(cc_find("cubic"), &cc_cubic);
	cr_assert_null(cc_find("bbr"));
	cr_assert_null(cc_find(""));
}

Test(cc, every_op_of_every_controller_is_set)
{
	const struct cc_ops *all[] = {&cc_newreno, &cc_cubic};
	for (size_t i = 0; i < 2; i++) {
		const struct cc_ops *o = all[i];
		cr_assert(o->init && o->on_ack && o->on_dupack && o->on_congestion &&
			  o->on_recovery_exit && o->on_rto && o->on_idle_restart, "%s", o->name);
		cr_assert_lt(strlen(o->name), SYNACK_CC_NAME_MAX);
	}
}

Test(cc, set_keeps_the_windows_and_zeroes_the_private_area)
{
	struct cc cc;
	memset(&cc, 0xA5, sizeof cc);
	cc.cwnd = 12345;
	cc.ssthresh = 678;
	cc_set(&cc, &cc_newreno);
	cr_assert_eq(cc.ops, &cc_newreno);
	cr_assert_eq(cc.cwnd, 12345);
	cr_assert_eq(cc.ssthresh, 678);
	for (size_t i = 0; i < CC_PRIV_BYTES; i++)
		cr_assert_eq(cc.priv.bytes[i], 0, "byte %zu", i);
	uint32_t *p = CC_PRIV(&cc, uint32_t);
	cr_assert_eq((void *)p, (void *)cc.priv.bytes);
}

/* ---- NewReno ---- */

Test(cc, newreno_init_sets_iw_and_a_high_ssthresh)
{
	struct cc cc = reno(0, 0);
	cc_newreno.init(&cc, MSS, 10 * MSS);
	cr_assert_eq(cc.cwnd, 10000);
	cr_assert_eq(cc.ssthresh, UINT32_MAX / 2);
}

Test(cc, newreno_slow_start_adds_min_of_acked_and_smss)
{
	struct cc cc = reno(10000, UINT32_MAX / 2);
	cc_newreno.on_ack(&cc, MSS, 500, false);
	cr_assert_eq(cc.cwnd, 10500);
	cc_newreno.on_ack(&cc, MSS, 3000, false);
	cr_assert_eq(cc.cwnd, 11500, "eq. 2: at most one SMSS per ACK");
}

Test(cc, newreno_congestion_avoidance_adds_smss_squared_over_cwnd)
{
	struct cc cc = reno(10000, 10000);
	cc_newreno.on_ack(&cc, MSS, 1000, false);
	cr_assert_eq(cc.cwnd, 10100, "1000*1000/10000");
	cc = reno(3000000, 1000);
	cc_newreno.on_ack(&cc, MSS, 1000, false);
	cr_assert_eq(cc.cwnd, 3000001, "at least one byte");
}

Test(cc, newreno_cwnd_never_passes_one_gib)
{
	struct cc cc = reno(CC_CWND_MAX - 10, UINT32_MAX / 2);
	cc_newreno.on_ack(&cc, MSS, 1000, false);
	cr_assert_eq(cc.cwnd, CC_CWND_MAX);
	cc_newreno.on_dupack(&cc, MSS);
	cr_assert_eq(cc.cwnd, CC_CWND_MAX);
}

Test(cc, newreno_congestion_event_halves_flight_and_inflates_by_three)
{
	struct cc cc = reno(20000, UINT32_MAX / 2);
	cc_newreno.on_congestion(&cc, MSS, 20000);
	cr_assert_eq(cc.ssthresh, 10000);
	cr_assert_eq(cc.cwnd, 13000);
	cc = reno(20000, UINT32_MAX / 2);
	cc_newreno.on_congestion(&cc, MSS, 3000);
	cr_assert_eq(cc.ssthresh, 2000, "never below 2*SMSS");
	cr_assert_eq(cc.cwnd, 5000);
}

Test(cc, newreno_recovery_dupacks_partial_and_full_acks)
{
	struct cc cc = reno(20000, UINT32_MAX / 2);
	cc_newreno.on_congestion(&cc, MSS, 20000);
	cc_newreno.on_dupack(&cc, MSS);
	cc_newreno.on_dupack(&cc, MSS);
	cr_assert_eq(cc.cwnd, 15000, "one SMSS per further duplicate ACK");
	cc_newreno.on_ack(&cc, MSS, 4000, true);
	cr_assert_eq(cc.cwnd, 12000, "partial ACK: deflate by 4000, add back one SMSS");
	cr_assert_eq(cc.ssthresh, 10000, "unchanged in recovery");
	cc_newreno.on_ack(&cc, MSS, 50000, true);
	cr_assert_eq(cc.cwnd, 1000, "deflation stops at zero, then one SMSS");
	cc_newreno.on_recovery_exit(&cc, MSS);
	cr_assert_eq(cc.cwnd, 10000, "full ACK: cwnd = ssthresh");
}

Test(cc, newreno_rto_one_segment_and_half_the_flight)
{
	struct cc cc = reno(30000, UINT32_MAX / 2);
	cc_newreno.on_rto(&cc, MSS, 8000);
	cr_assert_eq(cc.ssthresh, 4000);
	cr_assert_eq(cc.cwnd, 1000);
	cc_newreno.on_rto(&cc, MSS, 1000);
	cr_assert_eq(cc.ssthresh, 2000);
	cr_assert_eq(cc.cwnd, 1000);
}

/* ---- the stack default ---- */

static void out_nop(void *ctx, const uint8_t *f, const struct synack_frame_meta *m) {}

Test(cc, stack_default_is_cubic)
{
	struct synack_config c;
	synack_config_default(&c);
	cr_assert_str_eq(c.congestion, "cubic", "Linux's default");
}

Test(cc, stack_create_rejects_an_unknown_controller_with_enoent)
{
	struct synack_config c;
	st_config(&c);
	c.output = out_nop;
	strcpy(c.congestion, "bbr");
	struct synack_stack *s = (void *)1;
	cr_assert_eq(synack_stack_new(&s, &c), -ENOENT);
	cr_assert_null(s);
	memset(c.congestion, 'r', sizeof c.congestion); /* no NUL */
	cr_assert_eq(synack_stack_new(&s, &c), -EINVAL);
	cr_assert_null(s);
}

Test(cc, stack_empty_name_means_the_default)
{
	struct synack_config c;
	st_config(&c);
	c.output = out_nop;
	c.congestion[0] = '\0';
	struct synack_stack *s;
	cr_assert_eq(synack_stack_new(&s, &c), 0);
	struct synack_config got;
	synack_stack_get_config(s, &got);
	cr_assert_str_eq(got.congestion, "cubic");
	int fd = synack_socket(s);
	char name[SYNACK_CC_NAME_MAX];
	size_t len = sizeof name;
	cr_assert_eq(synack_getsockopt(s, fd, SYNACK_IPPROTO_TCP, SYNACK_TCP_CONGESTION, name, &len), 0);
	cr_assert_str_eq(name, "cubic");
	synack_stack_destroy(s);
}

/* ---- TCP_CONGESTION ---- */

static int setcc(struct segtest *t, int fd, const void *v, size_t len)
{
	return synack_setsockopt(t->s, fd, SYNACK_IPPROTO_TCP, SYNACK_TCP_CONGESTION, v, len);
}

static int getcc(struct segtest *t, int fd, void *v, size_t *len)
{
	return synack_getsockopt(t->s, fd, SYNACK_IPPROTO_TCP, SYNACK_TCP_CONGESTION, v, len);
}

Test(cc, tcp_congestion_get_returns_the_padded_name)
{
	struct segtest t;
	st_init(&t, NULL);
	int fd = synack_socket(t.s);
	char b[32];
	memset(b, 'x', sizeof b);
	size_t len = sizeof b;
	cr_assert_eq(getcc(&t, fd, b, &len), 0);
	cr_assert_eq(len, SYNACK_CC_NAME_MAX, "at most 16 bytes, as Linux");
	cr_assert_eq(memcmp(b, "cubic\0\0\0\0\0\0\0\0\0\0\0", 16), 0, "the default");
	cr_assert_eq(b[16], 'x', "nothing written past the length");
	memset(b, 'x', sizeof b);
	len = 2;
	cr_assert_eq(getcc(&t, fd, b, &len), 0);
	cr_assert_eq(len, 2);
	cr_assert_eq(memcmp(b, "cux", 3), 0);
	cr_assert_eq(getcc(&t, fd, NULL, &len), -EINVAL);
	cr_assert_eq(getcc(&t, fd, b, NULL), -EINVAL);
	st_fini(&t);
}

Test(cc, tcp_congestion_set_known_unknown_and_bad_lengths)
{
	struct segtest t;
	st_init(&t, NULL);
	int fd = synack_socket(t.s);
	struct synack_tcb *c = t.s->fds[fd];
	cr_assert_eq(setcc(&t, fd, "reno", 4), 0);
	cr_assert_eq(setcc(&t, fd, "reno", 5), 0, "with its NUL");
	cr_assert_eq(setcc(&t, fd, "renovated", 4), 0, "the length ends the name");
	cr_assert_eq(setcc(&t, fd, "reno\0junk", 9), 0, "a NUL ends the name");
	cr_assert_eq(setcc(&t, fd, "bbr", 3), -ENOENT);
	cr_assert_eq(setcc(&t, fd, "ren", 3), -ENOENT);
	cr_assert_eq(setcc(&t, fd, "renorenorenorenoreno", 20), -ENOENT, "15 bytes at most");
	cr_assert_eq(setcc(&t, fd, "reno", 0), -EINVAL);
	cr_assert_eq(setcc(&t, fd, NULL, 4), -EINVAL);
	cr_assert_eq(c->fl->cc.ops, &cc_newreno, "errors change nothing");
	cr_assert_eq(setcc(&t, 77, "reno", 4), -EBADF);
	cr_assert_eq(setcc(&t, -1, "reno", 4), -EBADF);
	char b[16];
	size_t len = sizeof b;
	cr_assert_eq(getcc(&t, 77, b, &len), -EBADF);
	st_fini(&t);
}

Test(cc, tcp_congestion_mid_connection_keeps_the_windows)
{
	struct segtest t;
	st_init(&t, NULL);
	int fd = st_passive_open(&t, 1000, NULL);
	struct synack_tcb *c = t.s->fds[fd];
	uint32_t cwnd = c->fl->cc.cwnd, ssthresh = c->fl->cc.ssthresh;
	c->fl->cc.priv.u64[0] = 42;
	cr_assert_eq(setcc(&t, fd, "cubic", 5), 0);
	cr_assert_eq(c->fl->cc.cwnd, cwnd);
	cr_assert_eq(c->fl->cc.ssthresh, ssthresh);
	cr_assert_eq(c->fl->cc.priv.u64[0], 42, "the same controller is not restarted");
	cr_assert_eq(setcc(&t, fd, "reno", 4), 0);
	cr_assert_eq(c->fl->cc.ops, &cc_newreno);
	cr_assert_eq(c->fl->cc.cwnd, cwnd, "a switch keeps the windows");
	cr_assert_eq(c->fl->cc.priv.u64[0], 0, "and starts the new controller's state afresh");
	st_fini(&t);
}
