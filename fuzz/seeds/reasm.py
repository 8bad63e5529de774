#!/usr/bin/env python3
"""Writes the fuzz_reasm seed corpus: sequences of fragments ([u8 dt][u16 len][packet] each,
fuzz_reasm.c) for both families: a SYN cut in three, in order, reversed, with a duplicate, with
an overlap, left incomplete past the timeout, and (IPv6) with Hop-by-Hop and Destination
Options headers around the Fragment header; and the two families interleaved."""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(__file__))
from pkt import *  # noqa: E402,F403

C4, S4 = 0x0A000001, 0x0A000002
C6 = bytes([0xFD] + [0] * 14 + [1])
S6 = bytes([0xFD] + [0] * 14 + [2])
syn4 = tcp_packet(C4, S4, 40000, 80, 1000, 0, SYN, 64240, LINUX_SYN)
syn6 = tcp6_packet(C6, S6, 40001, 80, 2000, 0, SYN, 64800, MSS(1440) + SACKOK + TS(1, 0) + WS(7))
CUTS = [(0, 16), (16, 32), (32, 40)]  # the 40-byte SYN in 8-byte multiples


def frag4(ident, off, data, more):
    flags = (0x2000 if more else 0) | (off // 8)
    ip = struct.pack("!BBHHHBBHII", 0x45, 0, 20 + len(data), ident, flags, 64, 6, 0, C4, S4)
    return ip[:10] + struct.pack("!H", csum(ip)) + ip[12:] + data


def frag6(ident, off, data, more, hbh=False, dst=False):
    """[Hop-by-Hop (PadN)] Fragment [Destination Options (PadN)] data; the Destination
    Options header belongs to the fragmentable part, so it goes in the first fragment only."""
    fh_next = 60 if dst else 6
    fh = struct.pack("!BBHI", fh_next, 0, off | (1 if more else 0), ident)
    ext, first = fh, 44
    if hbh:
        ext, first = bytes([44, 0, 1, 4, 0, 0, 0, 0]) + fh, 0
    body = (bytes([6, 0, 1, 4, 0, 0, 0, 0]) if dst and off == 0 else b"") + data
    return struct.pack("!IHBB", 6 << 28, len(ext) + len(body), first, 64) + C6 + S6 + ext + body


def pieces(kind, ident, order, **kw):
    seg = (syn4[20:] if kind == 4 else syn6[40:])
    out = []
    for i in order:
        a, b = CUTS[i]
        more = b < len(seg)
        if kind == 4:
            out.append(frag4(ident, a, seg[a:b], more))
        else:
            # with a Destination Options header first, offsets after it move by 8
            shift = 8 if kw.get("dst") and a > 0 else 0
            out.append(frag6(ident, a + shift, seg[a:b], more, **kw))
    return out


def rec(pkts, dts=None):
    dts = dts or [0] * len(pkts)
    return b"".join(struct.pack("!BH", dt, len(p)) + p for dt, p in zip(dts, pkts))


seeds = {
    "v4_in_order": rec(pieces(4, 7, [0, 1, 2])),
    "v4_reversed": rec(pieces(4, 7, [2, 1, 0])),
    "v4_duplicate": rec(pieces(4, 7, [0, 0, 1, 2])),
    "v4_overlap": rec(pieces(4, 7, [0]) + [frag4(7, 8, syn4[28:44], True)] + pieces(4, 7, [1, 2])),
    "v4_timeout": rec(pieces(4, 7, [0, 1]) + pieces(4, 7, [2]), [0, 0, 70]),
    "v6_in_order": rec(pieces(6, 9, [0, 1, 2])),
    "v6_reversed": rec(pieces(6, 9, [2, 1, 0])),
    "v6_duplicate": rec(pieces(6, 9, [1, 0, 1, 2])),
    "v6_overlap": rec(pieces(6, 9, [0]) + [frag6(9, 8, syn6[48:64], True)] + pieces(6, 9, [1, 2])),
    "v6_timeout": rec(pieces(6, 9, [0, 1]) + pieces(6, 9, [2]), [0, 0, 130]),
    "v6_hbh_frag": rec(pieces(6, 9, [0, 1, 2], hbh=True)),
    "v6_frag_dstopts": rec(pieces(6, 9, [0, 1, 2], dst=True)),
    "v6_atomic": rec([frag6(3, 0, syn6[40:], False, hbh=True)]),
    "both_interleaved": rec([x for pair in zip(pieces(4, 5, [0, 1, 2]), pieces(6, 5, [2, 0, 1]))
                             for x in pair]),
}
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for name, b in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(b)
