/* The TCP encoder's inside door (wire.c), for the stack's output path. */
#ifndef SYNACK_CORE_WIRE_ENC_H
#define SYNACK_CORE_WIRE_ENC_H

#include <stdbool.h>

#include "synack/wire.h"

/* synack_tcp_encode(), with the checksum field left 0 when csum is false (the link will
 * finish it: caps.tx_csum), so a 64 KB frame is not summed only to be overwritten. */
int tcp_encode(uint8_t *out, size_t cap, const struct synack_addr *src,
	       const struct synack_addr *dst, const struct synack_tcp_seg *seg, bool csum);

#endif
