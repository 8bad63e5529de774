/* Initial sequence numbers, RFC 6528 §3:
 *
 *   ISN = M + F(localip, localport, remoteip, remoteport, secretkey)
 *
 * "where M is the 4 microsecond timer, and F() is a pseudorandom function (PRF) of the
 * connection-id". F is SipHash-2-4 keyed with the stack's secret, so an off-path attacker
 * cannot guess the ISN of a connection, while a new incarnation of the same 4-tuple still
 * starts above the old one's numbers as the clock advances. */
#include "core/siphash.h"
#include "core/tcb.h"

seq_t isn_generate(const struct synack_stack *s, const struct synack_tuple *t)
{
	uint8_t id[12];
	id[0] = (uint8_t)(t->laddr >> 24);
	id[1] = (uint8_t)(t->laddr >> 16);
	id[2] = (uint8_t)(t->laddr >> 8);
	id[3] = (uint8_t)t->laddr;
	id[4] = (uint8_t)(t->raddr >> 24);
	id[5] = (uint8_t)(t->raddr >> 16);
	id[6] = (uint8_t)(t->raddr >> 8);
	id[7] = (uint8_t)t->raddr;
	id[8] = (uint8_t)(t->lport >> 8);
	id[9] = (uint8_t)t->lport;
	id[10] = (uint8_t)(t->rport >> 8);
	id[11] = (uint8_t)t->rport;
	uint32_t f = (uint32_t)synack_siphash24(s->cfg.secret, id, sizeof id);
	uint32_t m = (uint32_t)(s->now_us / 4);
	return m + f;
}
