#!/usr/bin/env python3
"""Writes the fuzz_wire seed corpus: packets of each kind the codec must handle."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from pkt import *  # noqa: E402,F403

C, S = 0x0A000001, 0x0A000002
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
}
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for name, b in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(b)
