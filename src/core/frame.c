/* Frame metadata: the checks on it and the checksum completion a device with checksum offload
 * performs (virtio-net's VIRTIO_NET_HDR_F_NEEDS_CSUM, Linux's CHECKSUM_PARTIAL).
 *
 * A frame marked SYNACK_CSUM_NEEDED carries in its transport checksum field the folded
 * pseudo-header sum (RFC 9293 §3.1), not complemented. The ones' complement sum from
 * csum_start to the end of the frame then covers the pseudo-header and the whole segment, so
 * its complement is the checksum RFC 1071 defines -- the same 16 bits a sender computing
 * everything itself puts there. */
#include <errno.h>

#include "synack/frame.h"
#include "synack/wire.h"

int synack_frame_meta_check(const struct synack_frame_meta *meta)
{
	if (!meta || meta->csum > SYNACK_CSUM_VERIFIED || meta->gso_type > SYNACK_GSO_TCPV6)
		return -EINVAL;
	if (meta->csum == SYNACK_CSUM_NEEDED &&
	    (uint32_t)meta->csum_start + meta->csum_offset + 2u > meta->len)
		return -EINVAL;
	return 0;
}

int synack_frame_csum_complete(uint8_t *frame, struct synack_frame_meta *meta)
{
	int err = synack_frame_meta_check(meta);
	if (err || !frame)
		return -EINVAL;
	if (meta->csum != SYNACK_CSUM_NEEDED)
		return 0;
	uint8_t *field = frame + meta->csum_start + meta->csum_offset;
	uint16_t sum = synack_csum_fold(
		synack_csum_add(0, frame + meta->csum_start, meta->len - meta->csum_start));
	field[0] = (uint8_t)(sum >> 8);
	field[1] = (uint8_t)sum;
	meta->csum = SYNACK_CSUM_NONE;
	return 0;
}
