/* synack — frames with metadata, and what a link can do with them.
 *
 * Every frame handed between the stack and a link is one IP packet plus a small struct saying
 * what the packet is and what work is left to do on it, in the spirit of Linux's
 * virtio_net_hdr and smoltcp's DeviceCapabilities. A link declares its capabilities
 * (struct synack_link_caps); the stack asks a link only for what it declared. A link that
 * declares nothing (the zero struct) gets what synack always sent: one complete packet of at
 * most one MSS segment with every checksum filled in.
 */
#ifndef SYNACK_FRAME_H
#define SYNACK_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default) /* the library exports what this header declares */

/* The largest IP packet (RFC 791 Total Length is 16 bits): a frame's length without caps.mtu. */
#define SYNACK_FRAME_MAX 65535u

/* The transport checksum of a frame. */
enum synack_csum_state {
	/* Sending: every checksum is complete. Receiving: nothing is known; the stack verifies. */
	SYNACK_CSUM_NONE = 0,
	/* Sending: the transport checksum field holds only the pseudo-header sum; whoever
	 * transmits the frame finishes it over [csum_start, end) and stores it at
	 * csum_start + csum_offset (the link's checksum offload). Receiving: the frame came
	 * from a local sender that had not filled it in yet; it is trusted like VERIFIED. */
	SYNACK_CSUM_NEEDED = 1,
	/* Receiving: the link (or the device behind it) verified the transport checksum.
	 * Sending: means nothing; links treat it as NONE. */
	SYNACK_CSUM_VERIFIED = 2,
};

/* Segmentation of a large frame (sending: the link or device cuts it into segments of
 * gso_size payload bytes; receiving: the link coalesced segments of that size). */
enum synack_gso_type {
	SYNACK_GSO_NONE = 0,
	SYNACK_GSO_TCPV4 = 1,
	SYNACK_GSO_TCPV6 = 2,
};

struct synack_frame_meta {
	uint32_t len;        /* bytes of the IP packet */
	uint8_t family;      /* SYNACK_AF_INET or SYNACK_AF_INET6 (addr.h); 0 when unknown */
	uint8_t csum;        /* enum synack_csum_state */
	uint8_t gso_type;    /* enum synack_gso_type */
	uint16_t gso_size;   /* payload bytes per segment when gso_type != NONE */
	uint16_t hdr_len;    /* IP + transport header bytes when gso_type != NONE */
	uint16_t csum_start; /* offset of the transport header when csum == NEEDED */
	uint16_t csum_offset; /* offset of the checksum field from csum_start (TCP: 16) */
};

/* What a link can carry. The zero struct means: frames of up to 65535 bytes, complete
 * checksums, no segmentation either way (what every link declared before offloads). */
struct synack_link_caps {
	uint32_t mtu;          /* largest frame the link carries unsegmented; 0: 65535 */
	uint32_t max_gso;      /* largest frame with gso_type set (e.g. 65535); 0: no TSO */
	uint32_t gso_types;    /* bit (1 << SYNACK_GSO_*) for each type the link can segment */
	uint8_t tx_csum;       /* 1: the link completes SYNACK_CSUM_NEEDED frames */
	uint8_t rx_csum;       /* 1: received frames may arrive marked VERIFIED or NEEDED */
	uint8_t rx_gro;        /* 1: received frames may be coalesced (gso_type set) */
};

/* The metadata of a plain frame: len bytes, complete checksums, no segmentation; the family
 * read from the IP version field (0 when it is neither 4 nor 6). */
static inline struct synack_frame_meta synack_frame_meta_plain(const uint8_t *frame, size_t len)
{
	struct synack_frame_meta m = {.len = (uint32_t)len};
	uint8_t v = len ? (uint8_t)(frame[0] >> 4) : 0;
	m.family = v == 4 ? SYNACK_AF_INET : v == 6 ? SYNACK_AF_INET6 : 0;
	return m;
}

/* Finishes the checksum of a SYNACK_CSUM_NEEDED frame in place, as a device with checksum
 * offload does: the 16-bit ones' complement sum of frame[csum_start, len) -- whose checksum
 * field holds the pseudo-header sum -- is complemented and stored at csum_start +
 * csum_offset; meta->csum becomes SYNACK_CSUM_NONE. Any other state: nothing to do, 0.
 * Errors: -EINVAL (NULL, or the checksum field does not lie inside the frame). */
int synack_frame_csum_complete(uint8_t *frame, struct synack_frame_meta *meta);

/* Whether meta can be acted on: not NULL, csum and gso_type known values, and for
 * SYNACK_CSUM_NEEDED the checksum field inside the frame. (What the bytes hold is the
 * receiver's business: a short or malformed packet is dropped and counted, not an error.)
 * Returns 0 or -EINVAL. */
int synack_frame_meta_check(const struct synack_frame_meta *meta);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
