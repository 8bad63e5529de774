/* synack — the TUN link (Linux): a stack's side of a point-to-point IPv4 device.
 *
 * The kernel sees a network interface; synack reads the packets the kernel routes to it from
 * the device's file descriptor and writes its own packets back, which the kernel receives as if
 * they came in on that interface. The device is opened IFF_TUN|IFF_NO_PI: every read and write
 * is one IPv4 packet (behind a virtio-net header when offloads are on, see
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
 * and the kernel reaches the stack at 10.77.0.2 through tun0.
 */
#ifndef SYNACK_TUN_H
#define SYNACK_TUN_H

#include <stdbool.h>
#include <stdint.h>

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
};

/* synack_tun_open_flags() flags. */
#define SYNACK_TUN_NO_OFFLOAD 1u /* a plain device: no vnet header, no offload, caps zero */
/* Batched writes through io_uring (a build with liburing; ignored otherwise): each frame of
 * up to 2 KB is copied into a slot and submitted at synack_link_flush() with the others, one
 * system call for the batch; larger frames are written at once, after the batch. The driver
 * must call synack_link_flush() (synack_loop does, once per wake-up; synack_mt after each
 * step and each application call). */
#define SYNACK_TUN_URING 2u

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
