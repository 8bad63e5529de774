#!/usr/bin/env python3
"""Writes the IPv6 capture fixtures of tests/render/v6/ (committed; run again only to change
them): the packets of golden/v6_handshake.pcap (a simulated IPv6 handshake and echo, written by
synack's own pcap writer: `synack demo --ipv6 --pcap`) in the other containers and link types
a capture of IPv6 comes in. Each must draw exactly golden/v6_handshake.txt (tests/render/run.sh).

  handshake.pcapng          pcapng, little-endian, LINKTYPE_RAW, nanosecond timestamps
  handshake_ipv6.pcap       classic pcap, LINKTYPE_IPV6 (229)
  handshake_ether.pcap      classic pcap, Ethernet, EtherType 0x86DD (one frame VLAN-tagged)
  handshake_ether_be.pcapng pcapng, big-endian section, Ethernet interface
  handshake_sll2.pcap       classic pcap, Linux cooked v2 (tcpdump -i any), protocol 0x86DD
  handshake_null.pcap       classic pcap, BSD loopback, AF_INET6 = 30 (macOS)
and one dual-stack capture:
  dualstack.pcapng          two interfaces (Ethernet with IPv4, raw with IPv6): the IPv4
                            golden/handshake_close.pcap and the IPv6 handshake interleaved
usage: tests/render/v6/make.py   (from the repository root)
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, '..', 'golden')


def read_pcap(path):
    data = open(path, 'rb').read()
    magic, = struct.unpack('<I', data[:4])
    assert magic == 0xA1B2C3D4, 'a little-endian microsecond pcap'
    off, recs = 24, []
    while off < len(data):
        sec, usec, incl, orig = struct.unpack('<IIII', data[off:off + 16])
        recs.append((sec * 1000000 + usec, data[off + 16:off + 16 + incl]))
        off += 16 + incl
    return recs


def classic(linktype, frames):
    out = struct.pack('<IHHiIII', 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype)
    for t_us, f in frames:
        out += struct.pack('<IIII', t_us // 1000000, t_us % 1000000, len(f), len(f)) + f
    return out


def block(e, btype, body):
    body += b'\0' * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack(e + 'II', btype, n) + body + struct.pack(e + 'I', n)


def pcapng(e, linktypes, frames):
    """frames: (t_us, interface, frame); timestamps in nanoseconds (if_tsresol 9)."""
    out = block(e, 0x0A0D0D0A, struct.pack(e + 'IHHq', 0x1A2B3C4D, 1, 0, -1))
    for lt in linktypes:
        opts = struct.pack(e + 'HH', 9, 1) + b'\x09\0\0\0' + struct.pack(e + 'HH', 0, 0)
        out += block(e, 1, struct.pack(e + 'HHI', lt, 0, 0) + opts)
    for t_us, ifc, f in frames:
        ts = t_us * 1000
        out += block(e, 6, struct.pack(e + 'IIIII', ifc, ts >> 32, ts & 0xFFFFFFFF, len(f),
                                        len(f)) + f)
    return out


MACS = b'\x02\x00\x00\x00\x00\x02' + b'\x02\x00\x00\x00\x00\x01'
ETH6 = MACS + b'\x86\xdd'
VLAN6 = MACS + b'\x81\x00\x00\x05\x86\xdd'
ETH4 = MACS + b'\x08\x00'
SLL2_6 = struct.pack('!HHIHBB8s', 0x86DD, 0, 2, 1, 0, 6, MACS[:6] + b'\0\0')


def main():
    v6 = read_pcap(os.path.join(GOLDEN, 'v6_handshake.pcap'))
    v4 = read_pcap(os.path.join(GOLDEN, 'handshake_close.pcap'))
    files = {
        'handshake.pcapng': pcapng('<', [101], [(t, 0, f) for t, f in v6]),
        'handshake_ipv6.pcap': classic(229, v6),
        'handshake_ether.pcap': classic(1, [(t, (VLAN6 if i == 3 else ETH6) + f)
                                            for i, (t, f) in enumerate(v6)]),
        'handshake_ether_be.pcapng': pcapng('>', [1], [(t, 0, ETH6 + f) for t, f in v6]),
        'handshake_sll2.pcap': classic(276, [(t, SLL2_6 + f) for t, f in v6]),
        'handshake_null.pcap': classic(0, [(t, struct.pack('<I', 30) + f) for t, f in v6]),
    }
    # Dual stack: the IPv4 conversation's times shifted by 5 ms so the two interleave.
    both = sorted([(t + 5000, 0, ETH4 + f) for t, f in v4] + [(t, 1, f) for t, f in v6],
                  key=lambda r: r[0])
    files['dualstack.pcapng'] = pcapng('<', [1, 101], both)
    for name, data in files.items():
        with open(os.path.join(HERE, name), 'wb') as f:
            f.write(data)


if __name__ == '__main__':
    main()
