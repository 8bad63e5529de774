#!/usr/bin/env python3
"""Writes the fuzz_pcap seed corpus: small captures in each format and link type the reader
handles (classic pcap in both byte orders, us and ns; pcapng with IDB/EPB/SPB), with IPv4 and
IPv6 packets (raw, LINKTYPE_IPV6, Ethernet 0x86DD, Linux cooked, BSD loopback)."""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(__file__))
from pkt import *  # noqa: E402,F403

C, S = 0x0A000001, 0x0A000002
syn = tcp_packet(C, S, 40000, 80, 1000, 0, SYN, 64240, LINUX_SYN)
data = tcp_packet(C, S, 40000, 80, 1001, 1, PSH | ACK, 502, NOP2 + TS(2, 1), b"hi\n")
ether = b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00"
vlan = b"\x02" * 6 + b"\x04" * 6 + b"\x81\x00\x00\x05\x08\x00"
sll = struct.pack("!HHH8sH", 0, 1, 6, b"\x02" * 8, 0x0800)
arp = b"\xff" * 6 + b"\x04" * 6 + b"\x08\x06" + b"\0" * 28
C6 = bytes([0x20, 0x01, 0x0D, 0xB8] + [0] * 11 + [1])
S6 = bytes([0x20, 0x01, 0x0D, 0xB8] + [0] * 11 + [2])
syn6 = tcp6_packet(C6, S6, 40000, 80, 1000, 0, SYN, 64800, MSS(1440) + SACKOK + TS(1000, 0) + WS(7))
data6 = tcp6_packet(S6, C6, 80, 40000, 5001, 1001, PSH | ACK, 502, NOP2 + TS(3, 2), b"hi\n")
# A Hop-by-Hop header (PadN) then a Fragment header (offset 0, M set) before TCP.
frag6 = tcp6_packet(C6, S6, 40000, 80, 1001, 5001, ACK, 502, b"", b"x" * 16,
                    ext=bytes([44, 0, 1, 4, 0, 0, 0, 0]) + bytes([6, 0, 0, 1, 0, 0, 0, 7]),
                    first_nh=0)
ether6 = b"\x02" * 6 + b"\x04" * 6 + b"\x86\xdd"
sll2_6 = struct.pack("!HHIHBB8s", 0x86DD, 0, 2, 1, 0, 6, b"\x02" * 8)


def classic(linktype, frames, endian="<", magic=0xA1B2C3D4, snap=65535, orig=None):
    out = struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, snap, linktype)
    for i, f in enumerate(frames):
        wire = orig if orig else len(f)
        out += struct.pack(endian + "IIII", 1700000000 + i, 1000 * i, len(f), wire) + f
    return out


def block(btype, body):
    while len(body) % 4:
        body += b"\0"
    n = 12 + len(body)
    return struct.pack("<II", btype, n) + body + struct.pack("<I", n)


def pcapng(frames, linktype=101):
    shb = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    # IDB: the link type, snaplen 0, option if_tsresol = 9 (ns), end of options
    idb = block(1, struct.pack("<HHI", linktype, 0, 0) + struct.pack("<HHB3x", 9, 1, 9) + b"\0" * 4)
    out = shb + idb
    for i, f in enumerate(frames):
        ts = 1700000000 * 10**9 + i
        body = struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(f), len(f)) + f
        out += block(6, body)
    out += block(3, struct.pack("<I", len(syn)) + syn)
    return out


seeds = {
    "raw_le": classic(101, [syn, data]),
    "raw_be_ns": classic(101, [syn], ">", 0xA1B23C4D),
    "ether_vlan_arp": classic(1, [ether + syn, vlan + data, arp]),
    "sll": classic(113, [sll + syn]),
    "null": classic(0, [struct.pack("<I", 2) + syn]),
    "snap_truncated": classic(101, [syn[:30]], snap=30, orig=len(syn)),
    "pcapng": pcapng([syn, data]),
    "raw_v6": classic(101, [syn6, syn, data6, frag6]),
    "linktype_ipv6": classic(229, [syn6, data6, syn]),
    "ether_v6": classic(1, [ether6 + syn6, vlan[:-2] + b"\x86\xdd" + data6, ether6 + syn]),
    "sll2_v6": classic(276, [sll2_6 + syn6, sll2_6 + frag6]),
    "null_v6": classic(0, [struct.pack("<I", 30) + syn6, struct.pack(">I", 24) + data6]),
    "pcapng_v6_ether": pcapng([ether6 + syn6, ether6 + data6], linktype=1),
}
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for name, b in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(b)
