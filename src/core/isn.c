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
	/* For IPv4: the 12 bytes laddr, raddr, lport, rport, as before IPv6 existed. */
	uint8_t id[36];
	size_t n = synack_tuple_addr_bytes(&t->laddr, id);
	n += synack_tuple_addr_bytes(&t->raddr, id + n);
	id[n++] = (uint8_t)(t->lport >> 8);
	id[n++] = (uint8_t)t->lport;
	id[n++] = (uint8_t)(t->rport >> 8);
	id[n++] = (uint8_t)t->rport;
	uint32_t f = (uint32_t)synack_siphash24(s->cfg.secret, id, n);
	uint32_t m = (uint32_t)(s->now_us / 4);
	return m + f;
}
