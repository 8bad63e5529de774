/* synack — the TUN link (Linux): a stack's side of a point-to-point IPv4/IPv6 device.
 *
 * The kernel sees a network interface; synack reads the packets the kernel routes to it from
 * the device's file descriptor and writes its own packets back, which the kernel receives as if
 * they came in on that interface. The device is opened IFF_TUN|IFF_NO_PI: every read and write
 * is one IPv4 or IPv6 packet (behind a virtio-net header when offloads are on, see
 * synack_tun_open_flags()). The link's fd is non-blocking and pollable, so the event loop
 * (loop.h) or any other one can wait on it.
 *
 * Opening a TUN device needs CAP_NET_ADMIN (root, or a network namespace of one's own):
 *
 *     struct synack_link *tun;
 *     int err = synack_tun_open("tun0", 0x0a4d0002, 24, NULL, &tun);   (10.77.0.2/24)
 *     if (err < 0) ...                      (-EPERM, -ENOENT without /dev/net/tun, ...)
 *     ... synack_loop_new(&loop, tun, &cfg, &hooks) ...
 *
 * and the kernel reaches the stack at 10.77.0.2 through tun0. Both families at once:
 *
 *     struct synack_tun_addr a[2] = {{synack_addr_v4(0x0a4d0002), 24}, {fd00::2 parsed, 64}};
 *     err = synack_tun_open_addrs("tun0", a, 2, 0, &info, &tun);
 *
 * (synack_parse_prefix() reads "10.77.0.2/24" and "fd00::2/64" into such entries.)
 */
#ifndef SYNACK_TUN_H
#define SYNACK_TUN_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "link.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default) /* the library exports what this header declares */

struct synack_tun_info {
	char name[16];       /* the device's name as the kernel gave it */
	bool created;        /* the device did not exist and was created (removed on destroy) */
	bool addr_set;       /* synack gave the kernel's side an address */
	uint32_t kernel_addr; /* the kernel's address on the device (host order), 0 if none */
	unsigned mtu;
	bool offload;        /* the vnet header and the kernel's offloads are on (see below) */
	bool addr6_set;      /* synack gave the kernel's side an IPv6 address */
	struct synack_addr kernel_addr6; /* the kernel's global IPv6 address on the device, or
					  * all zero (none, or no IPv6 address asked for) */
};

/* One of synack's addresses on the device and its prefix length (synack_tun_open_addrs()). */
struct synack_tun_addr {
	struct synack_addr addr; /* IPv4 (as ::ffff:a.b.c.d) or IPv6 */
	unsigned prefix;         /* 1..31 for IPv4, 1..127 for IPv6 */
};

/* synack_tun_open_flags() flags. */
#define SYNACK_TUN_NO_OFFLOAD 1u /* a plain device: no vnet header, no offload, caps zero */
#define SYNACK_TUN_MULTI_QUEUE 2u /* IFF_MULTI_QUEUE: this is queue 0, more attach with
				   * synack_tun_open_queue(); an existing single-queue device
				   * refuses it (-EINVAL) */

/* Opens TUN device `name` (creating it if it does not exist), brings it up, and makes sure
 * the kernel's side has an IPv4 address in addr/prefix: when the device has none, it is given
 * the first host address of the prefix that is not `addr` (x.x.x.1, or x.x.x.2 when synack is
 * .1) with the prefix's netmask, so the kernel routes the prefix to the device. Done with
 * ioctl() on an AF_INET socket (SIOCSIFFLAGS/SIOCSIFADDR/SIOCSIFNETMASK): no `ip` binary is
 * needed. `addr` is the stack's own address (host byte order; give the stack the same with
 * synack_config_add_addr(&cfg, synack_addr_v4(addr), prefix)). `info` may be NULL. The new
 * link is *out (destroy it with synack_link_destroy(), or hand it to synack_loop_new(), which
 * then owns it); closing a device that synack created removes it.
 * Errors: -EINVAL (bad name or prefix), -EADDRINUSE (the kernel holds `addr` on the device),
 * -ENOMEM, and the negative errno of open()/ioctl() (-EPERM without CAP_NET_ADMIN, -ENOENT
 * without /dev/net/tun, -EBUSY when another process holds the device). */
int synack_tun_open(const char *name, uint32_t addr, unsigned prefix, struct synack_tun_info *info,
		    struct synack_link **out);
/* The same with flags (SYNACK_TUN_*; synack_tun_open() passes 0). By default the device is
 * opened with IFF_VNET_HDR and the kernel's checksum and TCP segmentation offloads
 * (TUNSETOFFLOAD TUN_F_CSUM|TSO4|TSO6): frames of up to 64 KB travel both ways with their
 * checksum left unfinished, and the link's caps say so (mtu = the device's MTU, max_gso
 * 65535, tx_csum, rx_csum, rx_gro), so a stack given those caps sends large segments the
 * kernel cuts to the MTU. When the kernel refuses the offloads, info->offload is false and
 * the link declares nothing. SYNACK_TUN_NO_OFFLOAD opens a plain device. Errors: as
 * synack_tun_open(), and -EINVAL for an unknown flag. */
int synack_tun_open_flags(const char *name, uint32_t addr, unsigned prefix, unsigned flags,
			  struct synack_tun_info *info, struct synack_link **out);

/* Opens the device as synack_tun_open_flags() does for synack's addresses addrs[0..n): one or
 * two, at most one of each family. For each family the kernel's side gets an address when it
 * has none: IPv4 as above; IPv6 when the device has no global (non-link-local) address, the
 * first address of the prefix that is not synack's (prefix::1, or prefix::2 when synack is
 * prefix::1), with that prefix length (SIOCSIFADDR on an AF_INET6 socket; the kernel routes
 * the prefix to the device; a TUN device skips Duplicate Address Detection). Give the stack
 * the same addresses with synack_config_add_addr(). A device synack did not create keeps the
 * address it was given (host.c removes it). Frames of either family travel the same way,
 * with or without offloads (GSO type TCPV4 or TCPV6). Errors: as synack_tun_open_flags();
 * -EINVAL also for no address, more than one of a family or a prefix out of range;
 * -EAFNOSUPPORT when an IPv6 address is asked for and the kernel has IPv6 off on the device
 * (net.ipv6.conf.NAME.disable_ipv6 = 1, as in scripts/netns's namespaces without an IPv6
 * prefix) or at all; -EADDRINUSE when the kernel holds synack's address of either family. */
int synack_tun_open_addrs(const char *name, const struct synack_tun_addr *addrs, size_t n,
			  unsigned flags, struct synack_tun_info *info, struct synack_link **out);

/* Parses "A.B.C.D/NN" (NN in 1..31) or "IPV6/NN" (RFC 4291 text, NN in 1..127; the
 * IPv4-mapped form reads as IPv4) into addr and prefix. The prefix length is required.
 * Returns 0 or -EINVAL. */
int synack_parse_prefix(const char *s, struct synack_addr *addr, unsigned *prefix);

/* Attaches one more queue (descriptor) to the multi-queue device that info describes (the
 * info of synack_tun_open_flags(..., SYNACK_TUN_MULTI_QUEUE, ...)); queues are numbered in the
 * order they attach, the first 0. flags: SYNACK_TUN_NO_OFFLOAD, as the first queue was
 * opened (the device's offloads are shared; the new link declares the same caps). The new
 * link's info says created = false and addr_set = false: the device goes when its last queue
 * closes, whichever that is. Errors: -EINVAL (no such multi-queue device, bad flags), -ENOMEM,
 * those of open()/ioctl(). */
int synack_tun_open_queue(const struct synack_tun_info *info, unsigned flags,
			  struct synack_link **out);
/* What the kernel says of TUN device `name` (netlink RTM_GETLINK): whether it is
 * multi-queue, and how many queues (descriptors) are attached now (a multi-queue device's;
 * 0 for a single-queue one, whose kernel does not say: opening it tells, -EBUSY). Returns 0, -ENODEV (no such
 * device), -EINVAL (bad name, or not a TUN/TAP device), -EOPNOTSUPP (the kernel does not say),
 * or another negative errno. synack_tun_open_flags() refuses (-EBUSY) a device with queues
 * attached: a multi-queue device would otherwise take one more. */
int synack_tun_queues(const char *name, bool *multi_queue, unsigned *attached);
/* Makes the kernel choose the queue of each packet it sends into the device as
 * synack_flow_queue(source port, destination port, queues) (stack.h) for TCP over IPv4
 * (unfragmented) and IPv6 (TCP directly after the fixed header), and by the ports of the
 * quoted header for ICMPv4; every other packet goes to queue 0. Without it the kernel's own choice (its flow table, then a secret hash) is
 * consistent for connections the kernel opens but not, after 3 s without a packet from
 * synack, for those synack opens. l is any queue of the device. It loads an eBPF socket
 * filter program (bpf(2): CAP_BPF or CAP_SYS_ADMIN) and attaches it with TUNSETSTEERINGEBPF.
 * Errors: -EINVAL (not a TUN link), those of bpf() (-EPERM) and ioctl(). */
int synack_tun_steer(struct synack_link *l);

/* Parses "A.B.C.D/NN" (or "A.B.C.D", prefix 24; NN in 1..31) into addr (host byte order) and
 * prefix, the arguments of synack_tun_open(). Returns 0 or -EINVAL. */
int synack_parse_cidr(const char *s, uint32_t *addr, unsigned *prefix);
/* Parses "A.B.C.D" into addr (host byte order). Returns 0 or -EINVAL. */
int synack_parse_ipv4(const char *s, uint32_t *addr);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
