#!/usr/bin/env python3
"""Builds IPv4/TCP and IPv6/TCP packets for the fuzz seed corpora (run once; the outputs are
committed). Usage from another script: from pkt import tcp_packet, tcp6_packet."""
import struct


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def tcp_packet(src, dst, sport, dport, seq, ack, flags, win=65535, opts=b"", payload=b"",
               ip_opts=b""):
    while len(opts) % 4:
        opts += b"\0"
    doff = (20 + len(opts)) // 4
    th = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, doff << 4, flags, win, 0, 0) + opts
    seg = th + payload
    pseudo = struct.pack("!IIBBH", src, dst, 0, 6, len(seg))
    c = csum(pseudo + seg)
    seg = seg[:16] + struct.pack("!H", c) + seg[18:]
    ihl = (20 + len(ip_opts)) // 4
    ip = struct.pack("!BBHHHBBHII", 0x40 | ihl, 0, 4 * ihl + len(seg), 1, 0x4000, 64, 6, 0,
                     src, dst) + ip_opts
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return ip + seg


def tcp6_packet(src, dst, sport, dport, seq, ack, flags, win=65535, opts=b"", payload=b"",
                ext=b"", first_nh=6):
    """src, dst: 16-byte addresses. ext: extension headers between the fixed header and TCP,
    the first of them named by first_nh (each must name the next; the last names TCP, 6)."""
    while len(opts) % 4:
        opts += b"\0"
    doff = (20 + len(opts)) // 4
    th = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, doff << 4, flags, win, 0, 0) + opts
    seg = th + payload
    pseudo = src + dst + struct.pack("!IxxxB", len(seg), 6)
    c = csum(pseudo + seg)
    seg = seg[:16] + struct.pack("!H", c) + seg[18:]
    ip = struct.pack("!IHBB", 6 << 28, len(ext) + len(seg), first_nh if ext else 6, 64)
    return ip + src + dst + ext + seg


FIN, SYN, RST, PSH, ACK = 1, 2, 4, 8, 16
MSS = lambda m: struct.pack("!BBH", 2, 4, m)
WS = lambda s: bytes([1, 3, 3, s])
SACKOK = bytes([4, 2])
TS = lambda v, e: struct.pack("!BBII", 8, 10, v, e)
NOP2 = b"\1\1"
SACK = lambda blocks: bytes([1, 1, 5, 2 + 8 * len(blocks)]) + b"".join(
    struct.pack("!II", l, r) for l, r in blocks)
LINUX_SYN = MSS(1460) + SACKOK + TS(1000, 0) + WS(7)
