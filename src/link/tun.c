/* synack — the TUN link (Linux), see tun.h.
 *
 * One read() returns one packet and one write() sends one; the host loop calls recv until it
 * returns 0 to take every packet that is waiting per wake-up. The device is configured with
 * ioctl() rather than netlink or `ip`: it is four calls, needs no external program, and works
 * in any network namespace the process is in.
 *
 * Capabilities: none declared (IFF_VNET_HDR would bring the kernel's checksum and segmentation
 * offloads; not used yet). A SYNACK_CSUM_NEEDED frame is completed in a copy before the
 * write, and what is read comes out SYNACK_CSUM_NONE.
 */
#include "synack/tun.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

struct tun_link {
	struct synack_link link; /* first: the vtable's view */
	struct synack_tun_info info;
	uint8_t *scratch; /* a frame's copy with its checksum completed */
	size_t scratch_cap;
};

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
	if (synack_frame_meta_check(meta) < 0)
		return -EINVAL;
	size_t len = meta->len;
	frame = wire_bytes((struct tun_link *)l, frame, meta);
	if (!frame)
		return -ENOMEM;
	for (;;) {
		ssize_t n = write(l->fd, frame, len);
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
	for (;;) {
		ssize_t n = read(l->fd, buf, cap);
		if (n > 0)
			*out = synack_frame_meta_plain(buf, (size_t)n);
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

int synack_tun_open(const char *name, uint32_t addr, unsigned prefix, struct synack_tun_info *info,
		    struct synack_link **out)
{
	*out = NULL;
	if (!name || !*name || strlen(name) >= IFNAMSIZ || prefix < 1 || prefix > 31)
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
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
	int err = 0;
	if (ioctl(t->link.fd, TUNSETIFF, &ifr) < 0)
		err = -errno;
	snprintf(t->info.name, sizeof t->info.name, "%s", ifr.ifr_name);
	if (!err)
		err = configure(&t->info, addr, prefix);
	if (err) {
		tun_destroy(&t->link);
		return err;
	}
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
