/* pcap capture: the classic libpcap file format and a decorator that records a link.
 *
 * File layout (all fields in the writer's byte order; readers detect it from the magic):
 *   global header, 24 bytes: magic 0xa1b2c3d4 (microsecond timestamps), version 2.4,
 *     thiszone 0, sigfigs 0, snaplen 65535, network 101 (LINKTYPE_RAW: each record is a bare
 *     IPv4 or IPv6 packet, no link-layer header);
 *   per packet, 16 bytes: ts_sec, ts_usec, incl_len, orig_len; then incl_len bytes.
 * Frames longer than the snaplen are cut to it (orig_len keeps the real length).
 *
 * The decorator passes the wrapped link's capabilities through and every frame on unchanged,
 * metadata included. What it records is the packet as it is on the wire: a frame whose
 * transport checksum is left to offload (SYNACK_CSUM_NEEDED) is recorded with the checksum
 * completed, so tcpdump and Wireshark see no bad checksum that the device would have fixed.
 * A segmented frame (gso_type set: a TSO frame synack sends, or a GRO'd frame the kernel
 * hands over on an offloading TUN) is recorded as one packet of up to 64 KB, the way tcpdump
 * shows GSO frames on a device with segmentation offload, its checksum completed over the
 * whole frame; the MTU-sized pieces exist only inside the kernel.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synack/link.h"

#define PCAP_MAGIC 0xa1b2c3d4u
#define PCAP_SNAPLEN 65535u
#define PCAP_LINKTYPE_RAW 101u

struct synack_pcap_writer {
	FILE *f;
	int err; /* first write error, reported again by close */
	uint64_t size, limit; /* bytes in the file; the most it may hold (0: no limit) */
	uint64_t skipped;     /* records left out because of the limit */
};

static int put(struct synack_pcap_writer *w, const void *p, size_t n)
{
	if (w->err)
		return w->err;
	if (n && fwrite(p, 1, n, w->f) != n)
		w->err = errno ? -errno : -EIO;
	w->size += n;
	return w->err;
}

int synack_pcap_open(struct synack_pcap_writer **out, const char *path)
{
	struct synack_pcap_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->f = fopen(path, "wb");
	if (!w->f) {
		int err = errno ? -errno : -EIO;
		free(w);
		return err;
	}
	struct {
		uint32_t magic;
		uint16_t major, minor;
		int32_t thiszone;
		uint32_t sigfigs, snaplen, network;
	} hdr = {PCAP_MAGIC, 2, 4, 0, 0, PCAP_SNAPLEN, PCAP_LINKTYPE_RAW};
	_Static_assert(sizeof(hdr) == 24, "pcap global header is 24 bytes");
	int err = put(w, &hdr, sizeof(hdr));
	if (!err && fflush(w->f) != 0)
		err = -errno;
	if (err) {
		fclose(w->f);
		free(w);
		return err;
	}
	*out = w;
	return 0;
}

int synack_pcap_write(struct synack_pcap_writer *w, const uint8_t *frame, size_t len,
		      uint64_t t_us)
{
	size_t incl = len < PCAP_SNAPLEN ? len : PCAP_SNAPLEN;
	if (w->limit && w->size + 16 + incl > w->limit) {
		w->skipped++; /* the file stays a whole, readable capture up to the limit */
		return 0;
	}
	uint32_t rec[4] = {
		(uint32_t)(t_us / 1000000u),
		(uint32_t)(t_us % 1000000u),
		(uint32_t)incl,
		len > UINT32_MAX ? UINT32_MAX : (uint32_t)len,
	};
	int err = put(w, rec, sizeof(rec));
	if (!err)
		err = put(w, frame, incl);
	/* Flushed per record so a capture survives a crash and can be read while running. */
	if (!err && fflush(w->f) != 0)
		err = w->err = errno ? -errno : -EIO;
	return err;
}

void synack_pcap_set_limit(struct synack_pcap_writer *w, uint64_t max_bytes)
{
	w->limit = max_bytes;
}

uint64_t synack_pcap_skipped(const struct synack_pcap_writer *w) { return w->skipped; }

int synack_pcap_close(struct synack_pcap_writer *w)
{
	if (!w)
		return 0;
	int err = w->err;
	if (fclose(w->f) != 0 && !err)
		err = errno ? -errno : -EIO;
	free(w);
	return err;
}

/* ---- the decorator ------------------------------------------------------------------------ */

struct pcap_link {
	struct synack_link link; /* first: the vtable sees this */
	struct synack_link *inner;
	struct synack_pcap_writer *w;
	uint8_t *scratch; /* a frame's copy with its checksum completed */
	size_t scratch_cap;
};

/* Records a frame as the wire carries it. Capture never blocks traffic: a failure to record
 * is the writer's error (reported by close), not the link's. */
static void capture(struct pcap_link *p, const uint8_t *frame,
		    const struct synack_frame_meta *meta, uint64_t now_us)
{
	if (meta->csum != SYNACK_CSUM_NEEDED) {
		(void)synack_pcap_write(p->w, frame, meta->len, now_us);
		return;
	}
	if (meta->len > p->scratch_cap) {
		uint8_t *b = realloc(p->scratch, meta->len);
		if (!b)
			return;
		p->scratch = b;
		p->scratch_cap = meta->len;
	}
	memcpy(p->scratch, frame, meta->len);
	struct synack_frame_meta m = *meta;
	if (synack_frame_csum_complete(p->scratch, &m) == 0)
		(void)synack_pcap_write(p->w, p->scratch, m.len, now_us);
}

static int pcap_send(struct synack_link *l, const uint8_t *frame,
		     const struct synack_frame_meta *meta, uint64_t now_us)
{
	struct pcap_link *p = (struct pcap_link *)l;
	if (synack_frame_meta_check(meta) < 0)
		return -EINVAL;
	capture(p, frame, meta, now_us);
	return synack_link_send(p->inner, frame, meta, now_us);
}

static ssize_t pcap_recv(struct synack_link *l, uint8_t *buf, size_t cap,
			 struct synack_frame_meta *out, uint64_t now_us)
{
	struct pcap_link *p = (struct pcap_link *)l;
	ssize_t n = synack_link_recv(p->inner, buf, cap, out, now_us);
	if (n <= 0)
		return n;
	if (out->len != (size_t)n || synack_frame_meta_check(out) < 0)
		*out = synack_frame_meta_plain(buf, (size_t)n); /* a link that broke its contract */
	capture(p, buf, out, now_us);
	return n;
}

static uint64_t pcap_next_arrival(struct synack_link *l)
{
	return synack_link_next_arrival(((struct pcap_link *)l)->inner);
}

static void pcap_destroy(struct synack_link *l)
{
	struct pcap_link *p = (struct pcap_link *)l;
	synack_link_destroy(p->inner);
	(void)synack_pcap_close(p->w);
	free(p->scratch);
	free(p);
}

static void pcap_flush(struct synack_link *l, uint64_t now_us)
{
	synack_link_flush(((struct pcap_link *)l)->inner, now_us);
}

static const struct synack_link_ops pcap_ops = {
	.flush = pcap_flush,
	.send = pcap_send,
	.recv = pcap_recv,
	.next_arrival = pcap_next_arrival,
	.destroy = pcap_destroy,
};

int synack_pcap_wrap(struct synack_link *inner, struct synack_pcap_writer *w,
		     struct synack_link **out)
{
	if (!inner || !w || !out)
		return -EINVAL;
	struct pcap_link *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->link.ops = &pcap_ops;
	p->link.fd = inner->fd;
	p->link.caps = inner->caps;
	p->inner = inner;
	p->w = w;
	*out = &p->link;
	return 0;
}
