/* ICMP input (RFC 792): counted, then dropped. A minimal placeholder that the real-wire work
 * takes over (echo, destination unreachable → soft errors on connections). */
#include "core/icmp.h"

void synack_icmp_input(struct synack_stack *s, const struct synack_ipv4 *ip, const uint8_t *msg,
		       size_t len, const uint8_t *frame, size_t frame_len)
{
	(void)ip;
	(void)frame_len;
	(void)frame;
	stack_count(s, SYNACK_CTR_IcmpInMsgs);
	if (len < 8) {
		stack_drop(s, SYNACK_DROP_ICMP_MALFORMED, NULL, NULL, frame, frame_len);
		return;
	}
	if (msg[0] == 3)
		stack_count(s, SYNACK_CTR_IcmpInDestUnreachs);
}
