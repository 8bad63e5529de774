#!/usr/bin/env python3
"""Writes the fuzz_wire seed corpus: packets of each kind the codec must handle."""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(__file__))
from pkt import *  # noqa: E402,F403

C, S = 0x0A000001, 0x0A000002
C6 = bytes([0xFD] + [0] * 14 + [1])
S6 = bytes([0xFD] + [0] * 14 + [2])
SYN6_OPTS = MSS(1440) + SACKOK + TS(1, 0) + WS(7)
HBH = bytes([60, 0, 1, 4, 0, 0, 0, 0])     # Hop-by-Hop, PadN; next: Destination Options
DSTOPT = bytes([6, 0, 1, 4, 0, 0, 0, 0])   # Destination Options, PadN; next: TCP


def v4_fragment(mf, off):
    p = bytearray(tcp_packet(C, S, 40000, 80, 1, 0, SYN, 1, b"", b"y" * 24))
    p[6:8] = struct.pack("!H", (0x2000 if mf else 0) | off)
    p[10:12] = b"\0\0"
    p[10:12] = struct.pack("!H", csum(bytes(p[:20])))
    return bytes(p)


seeds = {
    "syn": tcp_packet(C, S, 40000, 80, 1000, 0, SYN, 64240, LINUX_SYN),
    "synack": tcp_packet(S, C, 80, 40000, 5000, 1001, SYN | ACK, 65160, LINUX_SYN),
    "data_ts": tcp_packet(C, S, 40000, 80, 1001, 5001, PSH | ACK, 502, NOP2 + TS(2, 1),
                          b"hello, world\n"),
    "sack": tcp_packet(S, C, 80, 40000, 5001, 1001, ACK, 502,
                       NOP2 + TS(3, 2) + SACK([(2000, 3000), (4000, 5000)])),
    "fin": tcp_packet(C, S, 40000, 80, 1014, 5001, FIN | ACK, 502),
    "rst": tcp_packet(S, C, 80, 40000, 5001, 0, RST),
    "ipopts": tcp_packet(C, S, 1, 2, 3, 4, ACK, 5, b"", b"x", ip_opts=b"\1\1\1\0"),
    "badopt": tcp_packet(C, S, 40000, 80, 1, 0, SYN, 1, bytes([2, 1, 0, 0])),
    # Fragments of both families, and IPv6 with extension headers before TCP
    "v4-frag-first": v4_fragment(True, 0),
    "v4-frag-later": v4_fragment(False, 3),
    "v6-syn": tcp6_packet(C6, S6, 40000, 80, 1000, 0, SYN, 64800, SYN6_OPTS),
    "v6-hbh-dst-data": tcp6_packet(C6, S6, 40000, 80, 1001, 1, PSH | ACK, 502,
                                   NOP2 + TS(2, 1), b"hello\n", ext=HBH + DSTOPT, first_nh=0),
    "v6-frag": tcp6_packet(C6, S6, 40000, 80, 1001, 1, ACK, 502, b"", b"z" * 16,
                           ext=bytes([6, 0, 0, 1, 0, 0, 0, 9]), first_nh=44),
    "v6-atomic-frag": tcp6_packet(C6, S6, 40000, 80, 1001, 1, ACK, 502, b"", b"z" * 16,
                                  ext=bytes([6, 0, 0, 0, 0, 0, 0, 9]), first_nh=44),
}
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for name, b in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(b)
