/* synack — the TUN link's steering program (tun.c), for synack_tun_steer() and its test. */
#ifndef SYNACK_LINK_TUN_STEER_H
#define SYNACK_LINK_TUN_STEER_H

/* Loads the eBPF socket-filter program that synack_tun_steer() attaches (see tun.c): its
 * return value is the 16 high bits of (sport ^ dport) * SYNACK_FLOW_MIX of the packet's flow,
 * 0 for what it does not steer. Returns the program's descriptor or a negative errno (that
 * of bpf(2): -EPERM without CAP_BPF or CAP_SYS_ADMIN). */
int tun_steer_load(void);

#endif
