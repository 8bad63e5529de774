/* synack — the TUN link (Linux), see tun.h.
 *
 * Both families travel the same way: a TUN device carries bare IP packets, and the version
 * nibble says which (the core dispatches on it); with offloads the kernel marks its IPv6
 * segments GSO_TCPV6 and checksums them from offset 40, and the stack's large IPv6 segments go
 * out the same way (SYNACK_GSO_TCPV6).
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
 * that refuses TUNSETOFFLOAD) the link declares only its MTU: a SYNACK_CSUM_NEEDED frame is then
 * completed in a copy before the write, and what is read comes out SYNACK_CSUM_NONE.
 *
 * Multi-queue (SYNACK_TUN_MULTI_QUEUE, synack_tun_open_queue()): every descriptor attached
 * to the device with IFF_MULTI_QUEUE is one queue, numbered in the order they attach; the
 * kernel picks the queue of each packet it sends into the device. Left to itself (automq) it
 * uses its flow table: the queue that last wrote a packet of the flow, or, when there is
 * none (a new flow, or one whose entry aged out after 3 s without a write from synack's
 * side), a secret per-boot hash of the flow. A passive open is therefore always consistent
 * (its SYN's queue is the hash's, and only that queue's stack ever writes for it), but an
 * active open is not: its replies land on the hash's queue, unknown to synack, once the
 * entry has aged. synack_tun_steer() replaces the choice with a small eBPF program
 * (TUNSETSTEERINGEBPF) computing synack_flow_queue() of the TCP ports, a function synack
 * knows, so an active open picks a local port whose flow lands on its own queue.
 */
#include "synack/tun.h"
#include "synack/stack.h"
#include "link/tun_steer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <linux/ipv6.h> /* struct in6_ifreq */
#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

struct tun_link {
	struct synack_link link; /* first: the vtable's view */
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

static int tun_send(struct synack_link *l, const uint8_t *frame,
		    const struct synack_frame_meta *meta, uint64_t now_us)
{
	(void)now_us;
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
	if (l->fd >= 0)
		close(l->fd);
	free(((struct tun_link *)l)->scratch);
	free(l);
}

static const struct synack_link_ops tun_ops = {
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

/* The same for IPv6: prefix::1, or prefix::2 when synack is prefix::1 (the other one of a
 * /127). */
static struct synack_addr kernel_side_addr6(const struct synack_addr *addr, unsigned prefix)
{
	struct synack_addr k = *addr;
	if (prefix == 127) {
		k.b[15] ^= 1u;
		return k;
	}
	for (unsigned i = 0; i < 16; i++) {
		unsigned keep = prefix > 8 * i ? prefix - 8 * i : 0;
		if (keep < 8)
			k.b[i] &= (uint8_t)(0xFFu << (8 - keep));
	}
	k.b[15] |= 1u;
	if (synack_addr_eq(&k, addr))
		k.b[15] = 2;
	return k;
}

/* Gives the kernel's side an IPv4 address in addr/prefix if the device has none. */
static int configure4(int s, struct ifreq *ifr, struct synack_tun_info *info, uint32_t addr,
		      unsigned prefix)
{
	if (ioctl(s, SIOCGIFADDR, ifr) == 0) {
		info->kernel_addr = get_sin(&ifr->ifr_addr);
		return info->kernel_addr == addr ? -EADDRINUSE : 0;
	}
	if (errno != EADDRNOTAVAIL)
		return -errno;
	info->kernel_addr = kernel_side_addr(addr, prefix);
	set_sin(&ifr->ifr_addr, info->kernel_addr);
	if (ioctl(s, SIOCSIFADDR, ifr) < 0)
		return -errno;
	set_sin(&ifr->ifr_netmask, 0xFFFFFFFFu << (32 - prefix));
	if (ioctl(s, SIOCSIFNETMASK, ifr) < 0)
		return -errno;
	info->addr_set = true;
	return 0;
}

/* The device's first global (not link-local) IPv6 address, from /proc/net/if_inet6 (one line
 * per address: 32 hex digits, ifindex, prefix length, scope, flags, name). Returns 1 and *out,
 * 0 when it has none, -EAFNOSUPPORT when the kernel has no IPv6. */
static int kernel_addr6(const char *name, struct synack_addr *out)
{
	FILE *f = fopen("/proc/net/if_inet6", "re");
	if (!f)
		return -EAFNOSUPPORT;
	char hex[33], dev[IFNAMSIZ + 1];
	unsigned idx, plen, scope, flags;
	int found = 0;
	while (!found && fscanf(f, "%32s %x %x %x %x %16s", hex, &idx, &plen, &scope, &flags,
				dev) == 6) {
		if (strcmp(dev, name) || scope != 0)
			continue;
		for (int i = 0; i < 16; i++) {
			unsigned v;
			if (sscanf(hex + 2 * i, "%2x", &v) != 1)
				break;
			out->b[i] = (uint8_t)v;
		}
		found = 1;
	}
	fclose(f);
	return found;
}

/* Whether IPv6 is turned off on the device (net.ipv6.conf.NAME.disable_ipv6 = 1). */
static bool ipv6_disabled(const char *name)
{
	char path[96];
	snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/disable_ipv6", name);
	FILE *f = fopen(path, "re");
	if (!f)
		return true; /* no IPv6 in this kernel, or none on the device */
	int c = fgetc(f);
	fclose(f);
	return c == '1';
}

/* Gives the kernel's side an IPv6 address in addr/prefix if the device has no global one:
 * SIOCSIFADDR on an AF_INET6 socket with a struct in6_ifreq (the kernel adds the prefix
 * route; a TUN device is IFF_NOARP, so the address skips Duplicate Address Detection). */
static int configure6(struct synack_tun_info *info, const struct synack_addr *addr,
		      unsigned prefix)
{
	if (ipv6_disabled(info->name))
		return -EAFNOSUPPORT;
	int have = kernel_addr6(info->name, &info->kernel_addr6);
	if (have < 0)
		return have;
	if (have)
		return synack_addr_eq(&info->kernel_addr6, addr) ? -EADDRINUSE : 0;
	int s = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	struct in6_ifreq r;
	memset(&r, 0, sizeof r);
	info->kernel_addr6 = kernel_side_addr6(addr, prefix);
	memcpy(&r.ifr6_addr, info->kernel_addr6.b, 16);
	r.ifr6_prefixlen = prefix;
	r.ifr6_ifindex = (int)if_nametoindex(info->name);
	int err = ioctl(s, SIOCSIFADDR, &r) < 0 ? -errno : 0;
	close(s);
	info->addr6_set = !err;
	if (err)
		memset(&info->kernel_addr6, 0, sizeof info->kernel_addr6);
	return err;
}

/* Brings the device up and gives the kernel's side an address of each family synack has
 * (addrs, checked) if it has none. */
static int configure(struct synack_tun_info *info, const struct synack_tun_addr *addrs, size_t n)
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
	for (size_t i = 0; i < n && !err; i++)
		if (synack_addr_is_v4(&addrs[i].addr))
			err = configure4(s, &ifr, info, synack_addr_get_v4(&addrs[i].addr),
					 addrs[i].prefix);
	if (!err && ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		err = -errno;
	if (!err && !(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
			err = -errno;
	}
	close(s);
	/* IPv6 after the link is up: addrconf creates the device's IPv6 state on the way. */
	for (size_t i = 0; i < n && !err; i++)
		if (!synack_addr_is_v4(&addrs[i].addr))
			err = configure6(info, &addrs[i].addr, addrs[i].prefix);
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

/* Asks the device for the queue's flags: the same on every queue (the last attach's flags
 * are the device's). */
static short tun_iff(unsigned flags)
{
	short f = (short)(IFF_TUN | IFF_NO_PI);
	if (!(flags & SYNACK_TUN_NO_OFFLOAD))
		f |= IFF_VNET_HDR;
	if (flags & SYNACK_TUN_MULTI_QUEUE)
		f |= IFF_MULTI_QUEUE;
	return f;
}

/* The attributes in [p, end), as a table by type (the last of each type wins). */
static void nl_parse(const uint8_t *p, const uint8_t *end, const struct nlattr **tb, int max)
{
	while (p + NLA_HDRLEN <= end) {
		const struct nlattr *x = (const void *)p;
		if (x->nla_len < NLA_HDRLEN || p + x->nla_len > end)
			break;
		int type = x->nla_type & NLA_TYPE_MASK;
		if (type <= max)
			tb[type] = x;
		p += NLA_ALIGN(x->nla_len);
	}
}

static void nl_nested(const struct nlattr *a, const struct nlattr **tb, int max)
{
	nl_parse((const uint8_t *)a + NLA_HDRLEN, (const uint8_t *)a + a->nla_len, tb, max);
}

int synack_tun_queues(const char *name, bool *multi_queue, unsigned *attached)
{
	if (!name || !*name || strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (s < 0)
		return -errno;
	struct timeval tv = {1, 0};
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	struct {
		struct nlmsghdr h;
		struct ifinfomsg i;
		uint8_t attrs[64];
	} req;
	memset(&req, 0, sizeof req);
	size_t nlen = strlen(name) + 1;
	struct nlattr *a = (struct nlattr *)req.attrs;
	a->nla_type = IFLA_IFNAME;
	a->nla_len = (uint16_t)(NLA_HDRLEN + nlen);
	memcpy(req.attrs + NLA_HDRLEN, name, nlen);
	req.h.nlmsg_len = (uint32_t)(NLMSG_LENGTH(sizeof req.i) + NLA_ALIGN(a->nla_len));
	req.h.nlmsg_type = RTM_GETLINK;
	req.h.nlmsg_flags = NLM_F_REQUEST;
	req.h.nlmsg_seq = 1;
	req.i.ifi_family = AF_UNSPEC;
	uint8_t buf[16384]; /* one link: its attributes fit */
	ssize_t n = -1;
	if (send(s, &req, req.h.nlmsg_len, 0) == (ssize_t)req.h.nlmsg_len)
		n = recv(s, buf, sizeof buf, 0);
	int err = n < 0 ? -errno : -EIO;
	close(s);
	const struct nlmsghdr *h = (const void *)buf;
	if (n < (ssize_t)sizeof *h || !NLMSG_OK(h, (size_t)n))
		return err;
	if (h->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(h);
		return e->error ? e->error : -EIO;
	}
	if (h->nlmsg_type != RTM_NEWLINK || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
		return -EIO;
	const uint8_t *attrs = (const uint8_t *)NLMSG_DATA(h) + NLMSG_ALIGN(sizeof(struct ifinfomsg));
	const struct nlattr *top[IFLA_MAX + 1] = {0}, *info[IFLA_INFO_MAX + 1] = {0},
			    *tun[IFLA_TUN_MAX + 1] = {0};
	nl_parse(attrs, (const uint8_t *)h + h->nlmsg_len, top, IFLA_MAX);
	if (top[IFLA_LINKINFO])
		nl_nested(top[IFLA_LINKINFO], info, IFLA_INFO_MAX);
	const struct nlattr *kind = info[IFLA_INFO_KIND];
	if (!kind || kind->nla_len < NLA_HDRLEN + 3 ||
	    memcmp((const uint8_t *)kind + NLA_HDRLEN, "tun", 3) || !info[IFLA_INFO_DATA])
		return -EINVAL; /* not a TUN/TAP device */
	nl_nested(info[IFLA_INFO_DATA], tun, IFLA_TUN_MAX);
	const struct nlattr *mq = tun[IFLA_TUN_MULTI_QUEUE], *nq = tun[IFLA_TUN_NUM_QUEUES];
	if (!mq || mq->nla_len < NLA_HDRLEN + 1)
		return -EOPNOTSUPP;
	*multi_queue = *((const uint8_t *)mq + NLA_HDRLEN) != 0;
	uint32_t q = 0; /* only a multi-queue device says */
	if (*multi_queue && nq && nq->nla_len >= NLA_HDRLEN + 4)
		memcpy(&q, (const uint8_t *)nq + NLA_HDRLEN, sizeof q);
	*attached = q;
	return 0;
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
	if (prefix < 1 || prefix > 31)
		return -EINVAL;
	struct synack_tun_addr a = {synack_addr_v4(addr), prefix};
	return synack_tun_open_addrs(name, &a, 1, flags, info, out);
}

/* At most one address of each family, each prefix in range. */
static bool addrs_ok(const struct synack_tun_addr *addrs, size_t n)
{
	if (!addrs || n < 1 || n > 2)
		return false;
	for (size_t i = 0; i < n; i++) {
		bool v4 = synack_addr_is_v4(&addrs[i].addr);
		if (addrs[i].prefix < 1 || addrs[i].prefix > (v4 ? 31u : 127u))
			return false;
		if (i && v4 == synack_addr_is_v4(&addrs[0].addr))
			return false;
	}
	return true;
}

int synack_tun_open_addrs(const char *name, const struct synack_tun_addr *addrs, size_t n,
			  unsigned flags, struct synack_tun_info *info, struct synack_link **out)
{
	*out = NULL;
	if (!name || !*name || strlen(name) >= IFNAMSIZ || !addrs_ok(addrs, n) ||
	    (flags & ~(unsigned)(SYNACK_TUN_NO_OFFLOAD | SYNACK_TUN_MULTI_QUEUE)))
		return -EINVAL;
	struct tun_link *t = calloc(1, sizeof *t);
	if (!t)
		return -ENOMEM;
	t->link.ops = &tun_ops;
	t->link.caps = (struct synack_link_caps){0}; /* no offload yet (see the top of the file) */
	t->info.created = if_nametoindex(name) == 0;
	/* A multi-queue device takes any number of queues: one another process holds would
	 * take ours too, and share its traffic with us. Ask the kernel first (a kernel without
	 * the answer leaves the check to TUNSETIFF). */
	bool mq;
	unsigned held;
	if (!t->info.created && synack_tun_queues(name, &mq, &held) == 0 && held > 0) {
		free(t);
		return -EBUSY;
	}
	t->link.fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->link.fd < 0) {
		int err = -errno;
		free(t);
		return err;
	}
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	bool want = !(flags & SYNACK_TUN_NO_OFFLOAD);
	ifr.ifr_flags = tun_iff(flags);
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
		err = configure(&t->info, addrs, n);
	/* A plain link declares its MTU too: the stack then leaves off the SACK blocks that would
	 * push a full data segment past it (they made 1512-byte frames on a 1500-byte device). */
	if (t->info.offload)
		t->link.caps = offload_caps(t->info.mtu);
	else
		t->link.caps.mtu = t->info.mtu;
	if (err) {
		tun_destroy(&t->link);
		return err;
	}
	if (info)
		*info = t->info;
	*out = &t->link;
	return 0;
}

int synack_tun_open_queue(const struct synack_tun_info *info, unsigned flags,
			  struct synack_link **out)
{
	*out = NULL;
	if (!info || !info->name[0] || (flags & ~(unsigned)SYNACK_TUN_NO_OFFLOAD))
		return -EINVAL;
	struct tun_link *t = calloc(1, sizeof *t);
	if (!t)
		return -ENOMEM;
	t->link.ops = &tun_ops;
	t->info = *info;
	t->info.created = false; /* the device goes with its last queue, whichever that is */
	t->info.addr_set = false;
	t->link.fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->link.fd < 0) {
		int err = -errno;
		free(t);
		return err;
	}
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	ifr.ifr_flags = tun_iff(flags | SYNACK_TUN_MULTI_QUEUE);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", info->name);
	if (ioctl(t->link.fd, TUNSETIFF, &ifr) < 0) {
		int err = -errno;
		tun_destroy(&t->link);
		return err;
	}
	/* The header size and offloads are the device's: the first queue set them. */
	t->vnet = !(flags & SYNACK_TUN_NO_OFFLOAD);
	if (info->offload && t->vnet)
		t->link.caps = offload_caps(info->mtu);
	else
		t->link.caps.mtu = info->mtu;
	*out = &t->link;
	return 0;
}

/* One eBPF instruction. */
static struct bpf_insn bpf_op(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	struct bpf_insn i;
	memset(&i, 0, sizeof i);
	i.code = code;
	i.dst_reg = dst & 0xf;
	i.src_reg = src & 0xf;
	i.off = off;
	i.imm = imm;
	return i;
}

/* The steering program: synack_flow_queue()'s hash of a TCP segment's two ports, from an
 * IPv4 header (unfragmented: the later pieces of a fragmented datagram have no ports, so
 * every fragment goes to queue 0) or an IPv6 header directly followed by TCP. An ICMPv4
 * message is steered by the two ports of the header it quotes (an error about one of our
 * segments: its ports, in either order, give the same queue); for an echo request those
 * bytes are the payload's, and any stack answers it. Every other packet goes to queue 0.
 * The kernel takes the 16-bit result modulo the number of queues. LD_ABS and LD_IND read
 * the packet from the IP header (a TUN device has no link header) in network order and
 * leave the value in host order; a read past the end returns 0 at once. */
static int steer_prog(struct bpf_insn *p)
{
	enum { V6 = 24, TCP4 = 22, MIX = 27, ZERO = 34 };
	int n = 0;
#define J(code, dst, imm, to) bpf_op(BPF_JMP | (code), dst, 0, (int16_t)((to) - (n + 1)), imm)
	const uint8_t ldb = BPF_LD | BPF_ABS | BPF_B, ldh = BPF_LD | BPF_ABS | BPF_H,
		      ldw = BPF_LD | BPF_ABS | BPF_W;
	p[n++] = bpf_op(BPF_ALU64 | BPF_MOV | BPF_X, 6, 1, 0, 0);     /* 0: r6 = ctx */
	p[n++] = bpf_op(ldb, 0, 0, 0, 0);                             /* version, IHL */
	p[n++] = bpf_op(BPF_ALU64 | BPF_MOV | BPF_X, 7, 0, 0, 0);
	p[n++] = bpf_op(BPF_ALU64 | BPF_RSH | BPF_K, 7, 0, 0, 4);
	p[n] = J(BPF_JEQ | BPF_K, 7, 6, V6), n++;
	p[n] = J(BPF_JNE | BPF_K, 7, 4, ZERO), n++;                   /* 5 */
	p[n++] = bpf_op(ldh, 0, 0, 0, 6);                             /* MF, offset */
	p[n++] = bpf_op(BPF_ALU64 | BPF_AND | BPF_K, 0, 0, 0, 0x3fff);
	p[n] = J(BPF_JNE | BPF_K, 0, 0, ZERO), n++;
	p[n++] = bpf_op(ldb, 0, 0, 0, 0);
	p[n++] = bpf_op(BPF_ALU64 | BPF_AND | BPF_K, 0, 0, 0, 0xf);   /* 10 */
	p[n++] = bpf_op(BPF_ALU64 | BPF_LSH | BPF_K, 0, 0, 0, 2);
	p[n++] = bpf_op(BPF_ALU64 | BPF_MOV | BPF_X, 8, 0, 0, 0);     /* r8 = header bytes */
	p[n++] = bpf_op(ldb, 0, 0, 0, 9);                             /* protocol */
	p[n] = J(BPF_JEQ | BPF_K, 0, IPPROTO_TCP, TCP4), n++;
	p[n] = J(BPF_JNE | BPF_K, 0, IPPROTO_ICMP, ZERO), n++;        /* 15 */
	p[n++] = bpf_op(BPF_LD | BPF_IND | BPF_B, 0, 8, 0, 8);        /* the quoted header */
	p[n++] = bpf_op(BPF_ALU64 | BPF_AND | BPF_K, 0, 0, 0, 0xf);
	p[n++] = bpf_op(BPF_ALU64 | BPF_LSH | BPF_K, 0, 0, 0, 2);
	p[n++] = bpf_op(BPF_ALU64 | BPF_ADD | BPF_X, 8, 0, 0, 0);
	p[n++] = bpf_op(BPF_LD | BPF_IND | BPF_W, 0, 8, 0, 8);        /* 20: its ports */
	p[n] = J(BPF_JA, 0, 0, MIX), n++;
	p[n++] = bpf_op(BPF_LD | BPF_IND | BPF_W, 0, 8, 0, 0);        /* 22 TCP4: ports */
	p[n] = J(BPF_JA, 0, 0, MIX), n++;
	p[n++] = bpf_op(ldb, 0, 0, 0, 6);                             /* 24 V6: next header */
	p[n] = J(BPF_JNE | BPF_K, 0, IPPROTO_TCP, ZERO), n++;
	p[n++] = bpf_op(ldw, 0, 0, 0, 40);                            /* ports */
	p[n++] = bpf_op(BPF_ALU64 | BPF_MOV | BPF_X, 1, 0, 0, 0);     /* 27 MIX */
	p[n++] = bpf_op(BPF_ALU64 | BPF_RSH | BPF_K, 1, 0, 0, 16);
	p[n++] = bpf_op(BPF_ALU64 | BPF_AND | BPF_K, 0, 0, 0, 0xffff);
	p[n++] = bpf_op(BPF_ALU64 | BPF_XOR | BPF_X, 0, 1, 0, 0);     /* 30: sport ^ dport */
	p[n++] = bpf_op(BPF_ALU | BPF_MUL | BPF_K, 0, 0, 0, (int32_t)SYNACK_FLOW_MIX);
	p[n++] = bpf_op(BPF_ALU | BPF_RSH | BPF_K, 0, 0, 0, 16);
	p[n++] = bpf_op(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	p[n++] = bpf_op(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0);     /* 34 ZERO */
	p[n++] = bpf_op(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
#undef J
	return n;
}

int tun_steer_load(void)
{
	struct bpf_insn prog[48];
	int n = steer_prog(prog);
	static const char license[] = "GPL";
	union bpf_attr a;
	memset(&a, 0, sizeof a);
	a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	a.insn_cnt = (uint32_t)n;
	a.insns = (uint64_t)(uintptr_t)prog;
	a.license = (uint64_t)(uintptr_t)license;
	int fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof a);
	return fd < 0 ? -errno : fd;
}

int synack_tun_steer(struct synack_link *l)
{
	if (!l || l->ops != &tun_ops)
		return -EINVAL;
	int fd = tun_steer_load();
	if (fd < 0)
		return fd;
	int err = ioctl(l->fd, TUNSETSTEERINGEBPF, &fd) < 0 ? -errno : 0;
	close(fd); /* the device holds the program */
	return err;
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

int synack_parse_prefix(const char *s, struct synack_addr *addr, unsigned *prefix)
{
	char buf[64];
	if (!s || strlen(s) >= sizeof buf)
		return -EINVAL;
	snprintf(buf, sizeof buf, "%s", s);
	char *slash = strchr(buf, '/');
	if (!slash)
		return -EINVAL;
	*slash = '\0';
	struct synack_addr a;
	if (synack_addr_parse(buf, &a) < 0)
		return -EINVAL;
	unsigned max = synack_addr_is_v4(&a) ? 31 : 127;
	char *end;
	long p = strtol(slash + 1, &end, 10);
	if (slash[1] < '0' || slash[1] > '9' || *end || p < 1 || p > (long)max) /* digits only */
		return -EINVAL;
	*addr = a;
	*prefix = (unsigned)p;
	return 0;
}
