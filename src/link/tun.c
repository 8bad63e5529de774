/* synack — the TUN link (Linux), see tun.h.
 *
 * One read() returns one packet and one write() sends one; the host loop calls recv until it
 * returns 0 to take every packet that is waiting per wake-up. The device is configured with
 * ioctl() rather than netlink or `ip`: it is four calls, needs no external program, and works
 * in any network namespace the process is in.
 *
 * Offloads (the default; SYNACK_TUN_NO_OFFLOAD turns them off): the device is opened with
 * IFF_VNET_HDR, so every read and write starts with a struct virtio_net_hdr (10 bytes,
 * TUNSETVNETHDRSZ), and TUNSETOFFLOAD tells the kernel that synack takes and gives partial
 * checksums and TCP segments of up to 64 KB (TUN_F_CSUM|TUN_F_TSO4|TUN_F_TSO6; no USO, no
 * ECN: synack does not use them). The header maps onto the frame metadata one to one:
 *
 *   virtio_net_hdr                    synack_frame_meta
 *   flags NEEDS_CSUM, csum_start/off  csum NEEDED, csum_start/csum_offset
 *   flags DATA_VALID                  csum VERIFIED (receive only)
 *   gso_type TCPV4/TCPV6, gso_size    gso_type, gso_size, hdr_len
 *
 * so the kernel's large segments reach the stack whole, with their checksum unfinished (the
 * kernel produced them and trusts them), and the stack's large segments are cut and
 * checksummed by the kernel. The link then declares caps {mtu = the device's MTU, max_gso =
 * 65535, gso TCPV4|TCPV6, tx_csum, rx_csum, rx_gro}. Without offloads (the flag, or a kernel
 * that refuses TUNSETOFFLOAD) the link declares nothing: a SYNACK_CSUM_NEEDED frame is then
 * completed in a copy before the write, and what is read comes out SYNACK_CSUM_NONE.
 */
#include "synack/tun.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#ifdef SYNACK_HAVE_LIBURING
#include <liburing.h>
#define URING_SLOTS 128u
/* Frames up to this size are batched; a larger one (a 64 KB TSO frame) is written at once
 * after the batch: copying it into a slot cost more CPU than the write() saved (measured:
 * synack connect +34% CPU per byte with 64 KB frames copied, -31% with 1500-byte ones). */
#define URING_MAX_FRAME 2048u
#define URING_SLOT_SIZE (sizeof(struct virtio_net_hdr) + URING_MAX_FRAME)
#endif

struct tun_link {
	struct synack_link link; /* first: the vtable's view */
#ifdef SYNACK_HAVE_LIBURING
	/* SYNACK_TUN_URING: frames up to URING_MAX_FRAME are copied into slots and submitted
	 * together at flush (one io_uring_enter for what a wake-up produced) instead of one
	 * write() each. The device's write never waits, so a submitted batch is written, in
	 * order, before io_uring_enter returns. */
	bool uring;
	struct io_uring ring;
	uint8_t *slots;            /* URING_SLOTS x URING_SLOT_SIZE */
	uint32_t free_slots[URING_SLOTS], nfree;
	uint32_t queued;           /* prepared, not yet submitted */
	uint64_t uring_errors;     /* writes the device refused (seen in their completions) */
#endif
	struct synack_tun_info info;
	uint8_t *scratch; /* a frame's copy with its checksum completed */
	size_t scratch_cap;
	bool vnet;        /* every read and write carries a struct virtio_net_hdr */
	uint64_t rx_bad_hdr; /* reads whose header made no sense (the frame went on as NONE) */
};

/* The offloads asked of the kernel: partial checksums, TCP segmentation both families. */
#define TUN_OFFLOADS (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6)

/* The virtio header the kernel expects in front of frame (the host's byte order is the
 * device's: a legacy tun device without TUNSETVNETLE on a little-endian machine). */
static struct virtio_net_hdr vnet_from_meta(const struct synack_frame_meta *m)
{
	struct virtio_net_hdr h;
	memset(&h, 0, sizeof h);
	if (m->csum == SYNACK_CSUM_NEEDED) {
		h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h.csum_start = m->csum_start;
		h.csum_offset = m->csum_offset;
	}
	if (m->gso_type != SYNACK_GSO_NONE) {
		h.gso_type = m->gso_type == SYNACK_GSO_TCPV4 ? VIRTIO_NET_HDR_GSO_TCPV4
							     : VIRTIO_NET_HDR_GSO_TCPV6;
		h.gso_size = m->gso_size;
		h.hdr_len = m->hdr_len;
	}
	return h;
}

/* The metadata of a frame read after header h. A header that does not fit the frame (a
 * checksum field outside it, an unknown segmentation type) is counted and the frame goes on
 * as SYNACK_CSUM_NONE, unsegmented: the stack verifies the checksum itself and drops what
 * fails. */
static struct synack_frame_meta vnet_to_meta(struct tun_link *t, const struct virtio_net_hdr *h,
					     const uint8_t *frame, size_t len)
{
	struct synack_frame_meta m = synack_frame_meta_plain(frame, len);
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		m.csum = SYNACK_CSUM_NEEDED;
		m.csum_start = h->csum_start;
		m.csum_offset = h->csum_offset;
	} else if (h->flags & VIRTIO_NET_HDR_F_DATA_VALID) {
		m.csum = SYNACK_CSUM_VERIFIED;
	}
	uint8_t type = h->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
	if (type == VIRTIO_NET_HDR_GSO_TCPV4 || type == VIRTIO_NET_HDR_GSO_TCPV6) {
		m.gso_type = type == VIRTIO_NET_HDR_GSO_TCPV4 ? SYNACK_GSO_TCPV4 : SYNACK_GSO_TCPV6;
		m.gso_size = h->gso_size;
		m.hdr_len = h->hdr_len;
	}
	if (synack_frame_meta_check(&m) < 0 ||
	    (type != VIRTIO_NET_HDR_GSO_NONE && m.gso_type == SYNACK_GSO_NONE)) {
		t->rx_bad_hdr++;
		m = synack_frame_meta_plain(frame, len);
	}
	return m;
}

/* The bytes to write for frame: itself, or a completed copy when its checksum was left to
 * offload. NULL when memory ran out. */
static const uint8_t *wire_bytes(struct tun_link *t, const uint8_t *frame,
				 const struct synack_frame_meta *meta)
{
	if (meta->csum != SYNACK_CSUM_NEEDED)
		return frame;
	if (meta->len > t->scratch_cap) {
		uint8_t *b = realloc(t->scratch, meta->len);
		if (!b)
			return NULL;
		t->scratch = b;
		t->scratch_cap = meta->len;
	}
	memcpy(t->scratch, frame, meta->len);
	struct synack_frame_meta m = *meta;
	(void)synack_frame_csum_complete(t->scratch, &m); /* meta was checked: cannot fail */
	return t->scratch;
}

#ifdef SYNACK_HAVE_LIBURING
static void uring_reap(struct tun_link *t)
{
	struct io_uring_cqe *cqe;
	while (io_uring_peek_cqe(&t->ring, &cqe) == 0) {
		if (cqe->res < 0)
			t->uring_errors++;
		t->free_slots[t->nfree++] = (uint32_t)io_uring_cqe_get_data64(cqe);
		io_uring_cqe_seen(&t->ring, cqe);
	}
}

static void tun_flush(struct synack_link *l, uint64_t now_us)
{
	(void)now_us;
	struct tun_link *t = (struct tun_link *)l;
	if (!t->uring)
		return;
	if (t->queued) {
		(void)io_uring_submit(&t->ring);
		t->queued = 0;
	}
	uring_reap(t);
}

static int uring_send(struct tun_link *t, const struct virtio_net_hdr *h, const uint8_t *frame,
		      size_t len)
{
	uring_reap(t);
	if (t->nfree == 0) {
		struct io_uring_cqe *cqe;
		(void)io_uring_submit(&t->ring);
		t->queued = 0;
		if (io_uring_wait_cqe(&t->ring, &cqe) < 0)
			return -EAGAIN;
		uring_reap(t);
		if (t->nfree == 0)
			return -EAGAIN;
	}
	struct io_uring_sqe *sqe = io_uring_get_sqe(&t->ring);
	if (!sqe) {
		(void)io_uring_submit(&t->ring);
		t->queued = 0;
		sqe = io_uring_get_sqe(&t->ring);
		if (!sqe)
			return -EAGAIN;
	}
	uint32_t slot = t->free_slots[--t->nfree];
	uint8_t *b = t->slots + (size_t)slot * URING_SLOT_SIZE;
	size_t hl = t->vnet ? sizeof *h : 0;
	if (hl)
		memcpy(b, h, hl);
	memcpy(b + hl, frame, len);
	io_uring_prep_write(sqe, t->link.fd, b, (unsigned)(hl + len), 0);
	io_uring_sqe_set_data64(sqe, slot);
	t->queued++;
	return 0;
}
#endif

static int tun_send(struct synack_link *l, const uint8_t *frame,
		    const struct synack_frame_meta *meta, uint64_t now_us)
{
	struct tun_link *t = (struct tun_link *)l;
	if (synack_frame_meta_check(meta) < 0)
		return -EINVAL;
	if (meta->gso_type != SYNACK_GSO_NONE && !t->vnet)
		return -EINVAL; /* nobody to segment it: the stack was told caps it did not get */
	size_t len = meta->len;
	struct virtio_net_hdr h;
	if (t->vnet) {
		h = vnet_from_meta(meta);
	} else {
		frame = wire_bytes(t, frame, meta);
		if (!frame)
			return -ENOMEM;
	}
#ifdef SYNACK_HAVE_LIBURING
	if (t->uring && len <= URING_MAX_FRAME)
		return uring_send(t, &h, frame, len);
	if (t->uring)
		tun_flush(l, now_us); /* what is queued goes first: frames keep their order */
#endif
	struct iovec iov[2] = {{&h, sizeof h}, {(void *)frame, len}};
	for (;;) {
		ssize_t n = t->vnet ? writev(l->fd, iov, 2) : write(l->fd, frame, len);
		if (n >= 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == ENOBUFS)
			return -EAGAIN;
		return -errno;
	}
}

static ssize_t tun_recv(struct synack_link *l, uint8_t *buf, size_t cap,
			struct synack_frame_meta *out, uint64_t now_us)
{
	(void)now_us;
	struct tun_link *t = (struct tun_link *)l;
	struct virtio_net_hdr h;
	struct iovec iov[2] = {{&h, sizeof h}, {buf, cap}};
	for (;;) {
		ssize_t n = t->vnet ? readv(l->fd, iov, 2) : read(l->fd, buf, cap);
		if (t->vnet && n > 0) {
			if ((size_t)n < sizeof h)
				continue; /* no room for a frame: not from a vnet device; skip it */
			n -= (ssize_t)sizeof h;
			if (n == 0)
				continue;
		}
		if (n > 0)
			*out = t->vnet ? vnet_to_meta(t, &h, buf, (size_t)n)
				       : synack_frame_meta_plain(buf, (size_t)n);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			return 0;
		return -errno;
	}
}

static uint64_t tun_next_arrival(struct synack_link *l)
{
	(void)l;
	return SYNACK_TIME_NEVER;
}

static void tun_destroy(struct synack_link *l)
{
	/* Closing the last descriptor of a device that is not persistent removes it. */
#ifdef SYNACK_HAVE_LIBURING
	struct tun_link *t = (struct tun_link *)l;
	if (t->uring) {
		tun_flush(l, 0);
		while (t->nfree < URING_SLOTS) { /* writes still in flight use the slots */
			struct io_uring_cqe *cqe;
			if (io_uring_wait_cqe(&t->ring, &cqe) < 0)
				break;
			uring_reap(t);
		}
		io_uring_queue_exit(&t->ring);
		free(t->slots);
	}
#endif
	if (l->fd >= 0)
		close(l->fd);
	free(((struct tun_link *)l)->scratch);
	free(l);
}

static const struct synack_link_ops tun_ops = {
#ifdef SYNACK_HAVE_LIBURING
	.flush = tun_flush,
#endif
	.send = tun_send,
	.recv = tun_recv,
	.next_arrival = tun_next_arrival,
	.destroy = tun_destroy,
};

static void set_sin(struct sockaddr *sa, uint32_t addr)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(addr)};
	memcpy(sa, &sin, sizeof sin);
}

static uint32_t get_sin(const struct sockaddr *sa)
{
	struct sockaddr_in sin;
	memcpy(&sin, sa, sizeof sin);
	return ntohl(sin.sin_addr.s_addr);
}

/* The kernel's address on the device: the first host of the prefix that is not synack's. */
static uint32_t kernel_side_addr(uint32_t addr, unsigned prefix)
{
	if (prefix == 31)
		return addr ^ 1u;
	uint32_t mask = prefix ? 0xFFFFFFFFu << (32 - prefix) : 0;
	uint32_t first = (addr & mask) | 1u;
	return first == addr ? first + 1 : first;
}

/* Brings the device up and gives the kernel's side an address if it has none. */
static int configure(struct synack_tun_info *info, uint32_t addr, unsigned prefix)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", info->name);
	int err = 0;
	if (ioctl(s, SIOCGIFMTU, &ifr) == 0)
		info->mtu = (unsigned)ifr.ifr_mtu;
	if (ioctl(s, SIOCGIFADDR, &ifr) == 0) {
		info->kernel_addr = get_sin(&ifr.ifr_addr);
		if (info->kernel_addr == addr)
			err = -EADDRINUSE;
	} else if (errno == EADDRNOTAVAIL) {
		info->kernel_addr = kernel_side_addr(addr, prefix);
		set_sin(&ifr.ifr_addr, info->kernel_addr);
		if (ioctl(s, SIOCSIFADDR, &ifr) < 0)
			err = -errno;
		uint32_t mask = 0xFFFFFFFFu << (32 - prefix);
		set_sin(&ifr.ifr_netmask, mask);
		if (!err && ioctl(s, SIOCSIFNETMASK, &ifr) < 0)
			err = -errno;
		info->addr_set = !err;
	} else {
		err = -errno;
	}
	if (!err && ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		err = -errno;
	if (!err && !(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
			err = -errno;
	}
	close(s);
	return err;
}

/* Asks for the vnet header and the offloads on the device t has attached. Returns true when
 * the kernel took them all; otherwise the link goes on without (the header stays, zero). */
static bool enable_offloads(struct tun_link *t)
{
	int sz = (int)sizeof(struct virtio_net_hdr);
	if (ioctl(t->link.fd, TUNSETVNETHDRSZ, &sz) < 0)
		return false;
	return ioctl(t->link.fd, TUNSETOFFLOAD, (unsigned long)TUN_OFFLOADS) == 0;
}

static struct synack_link_caps offload_caps(unsigned mtu)
{
	struct synack_link_caps k = {
		.mtu = mtu,
		.max_gso = SYNACK_FRAME_MAX,
		.gso_types = 1u << SYNACK_GSO_TCPV4 | 1u << SYNACK_GSO_TCPV6,
		.tx_csum = 1,
		.rx_csum = 1,
		.rx_gro = 1,
	};
	return k;
}

int synack_tun_open(const char *name, uint32_t addr, unsigned prefix, struct synack_tun_info *info,
		    struct synack_link **out)
{
	return synack_tun_open_flags(name, addr, prefix, 0, info, out);
}

int synack_tun_open_flags(const char *name, uint32_t addr, unsigned prefix, unsigned flags,
			  struct synack_tun_info *info, struct synack_link **out)
{
	*out = NULL;
	if (!name || !*name || strlen(name) >= IFNAMSIZ || prefix < 1 || prefix > 31 ||
	    (flags & ~(unsigned)(SYNACK_TUN_NO_OFFLOAD | SYNACK_TUN_URING)))
		return -EINVAL;
	struct tun_link *t = calloc(1, sizeof *t);
	if (!t)
		return -ENOMEM;
	t->link.ops = &tun_ops;
	t->link.caps = (struct synack_link_caps){0}; /* no offload (see the top of the file) */
	t->info.created = if_nametoindex(name) == 0;
	t->link.fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->link.fd < 0) {
		int err = -errno;
		free(t);
		return err;
	}
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	bool want = !(flags & SYNACK_TUN_NO_OFFLOAD);
	ifr.ifr_flags = (short)(IFF_TUN | IFF_NO_PI | (want ? IFF_VNET_HDR : 0));
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
	int err = 0;
	if (ioctl(t->link.fd, TUNSETIFF, &ifr) < 0)
		err = -errno;
	snprintf(t->info.name, sizeof t->info.name, "%s", ifr.ifr_name);
	t->vnet = want && !err;
	t->info.offload = t->vnet && enable_offloads(t);
	/* Offloads are the device's, not the descriptor's: a persistent device keeps those an
	 * earlier user turned on, and the kernel would hand a plain reader 64 KB frames with
	 * unfinished checksums. A plain link turns them off. */
	if (!err && !t->info.offload && ioctl(t->link.fd, TUNSETOFFLOAD, 0UL) < 0)
		err = -errno;
	if (!err)
		err = configure(&t->info, addr, prefix);
	if (t->info.offload)
		t->link.caps = offload_caps(t->info.mtu);
	if (err) {
		tun_destroy(&t->link);
		return err;
	}
#ifdef SYNACK_HAVE_LIBURING
	if (flags & SYNACK_TUN_URING) {
		t->slots = malloc((size_t)URING_SLOTS * URING_SLOT_SIZE);
		if (t->slots && io_uring_queue_init(URING_SLOTS * 2, &t->ring, 0) == 0) {
			t->uring = true;
			for (uint32_t i = 0; i < URING_SLOTS; i++)
				t->free_slots[t->nfree++] = i;
		} else {
			free(t->slots);
			t->slots = NULL;
		}
	}
#endif
	if (info)
		*info = t->info;
	*out = &t->link;
	return 0;
}

int synack_parse_ipv4(const char *s, uint32_t *addr)
{
	struct in_addr in;
	if (!s || inet_pton(AF_INET, s, &in) != 1)
		return -EINVAL;
	*addr = ntohl(in.s_addr);
	return 0;
}

int synack_parse_cidr(const char *s, uint32_t *addr, unsigned *prefix)
{
	char buf[32];
	if (!s || strlen(s) >= sizeof buf)
		return -EINVAL;
	snprintf(buf, sizeof buf, "%s", s);
	*prefix = 24;
	char *slash = strchr(buf, '/');
	if (slash) {
		char *end;
		*slash = '\0';
		long p = strtol(slash + 1, &end, 10);
		if (end == slash + 1 || *end || p < 1 || p > 31)
			return -EINVAL;
		*prefix = (unsigned)p;
	}
	return synack_parse_ipv4(buf, addr);
}
