/* synack — the TUN link (Linux): synack's side of a point-to-point IPv4 device.
 *
 * The kernel sees a network interface; synack reads the packets the kernel routes to it from
 * the device's file descriptor and writes its own packets back, which the kernel receives as if
 * they came in on that interface. IFF_TUN|IFF_NO_PI: every read and write is one bare IPv4
 * packet.
 */
#ifndef SYNACK_LINK_TUN_H
#define SYNACK_LINK_TUN_H

#include <stdbool.h>
#include <stdint.h>

#include "synack/link.h"

struct synack_tun_info {
	char name[16];       /* the device's name as the kernel gave it */
	bool created;        /* the device did not exist and was created (removed on destroy) */
	bool addr_set;       /* synack gave the kernel's side an address */
	uint32_t kernel_addr; /* the kernel's address on the device (host order), 0 if none */
	unsigned mtu;
};

/* Opens TUN device `name` (creating it if it does not exist), brings it up, and makes sure
 * the kernel's side has an IPv4 address in addr/prefix: when the device has none, it is given
 * the first host address of the prefix that is not `addr` (x.x.x.1, or x.x.x.2 when synack is
 * .1) with the prefix's netmask, so the kernel routes the prefix to the device. Done with
 * ioctl() on an AF_INET socket (SIOCSIFFLAGS/SIOCSIFADDR/SIOCSIFNETMASK): no `ip` binary is
 * needed. The link's fd is non-blocking.
 * Errors: -EINVAL (bad name or prefix), -EADDRINUSE (the kernel holds `addr` on the device),
 * and the negative errno of open()/ioctl() (-EPERM without CAP_NET_ADMIN, -ENOENT without
 * /dev/net/tun, -EBUSY when another process holds the device). */
int synack_tun_open(const char *name, uint32_t addr, unsigned prefix, struct synack_tun_info *info,
		    struct synack_link **out);

/* Parses "A.B.C.D/NN" (or "A.B.C.D", prefix 24). Returns 0 or -EINVAL. */
int synack_parse_cidr(const char *s, uint32_t *addr, unsigned *prefix);
/* Parses "A.B.C.D". Returns 0 or -EINVAL. */
int synack_parse_ipv4(const char *s, uint32_t *addr);

#endif
