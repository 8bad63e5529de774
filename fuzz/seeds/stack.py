#!/usr/bin/env python3
"""Writes the fuzz_stack seed corpus: programs in fuzz_stack.c's encoding that open, use and
close connections both ways, so the fuzzer starts from deep states instead of finding the
handshake on its own; and programs that reach keepalive probes, SACK loss recovery and ICMP
errors (ports unreachable, fragmentation needed, time exceeded) and echo."""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(__file__))
from pkt import LINUX_SYN, NOP2, TS, csum  # noqa: E402

SOCKET, BIND, LISTEN, ACCEPT, CONNECT, SEND, RECV, SHUTDOWN, CLOSE, SOCKOPT, NAME = range(11)
P80, P40000 = 0, 2  # pick_port selectors


def api(op, fd=0, arg=0, extra=b""):
    return bytes([9 | (op << 4), fd + 1, arg]) + extra


def seg(flags, reply=True, sport=P40000, dport=P80, dseq=0, dack=0, win=65535, opts=b"",
        payload=b"", sel=0):
    sel |= 1 if reply else 0
    b = bytes([0, sel])
    if not reply:
        b += bytes([sport, dport])
    b += struct.pack("!bbBH", dseq, dack, flags, win)
    b += struct.pack("!H", len(opts)) + opts + struct.pack("!H", len(payload)) + payload
    return b


def time_next():
    return bytes([5, 2])


def time_ms(ms):
    return bytes([5, 1]) + struct.pack("!H", ms)


def u32(v):
    return struct.pack("!I", v)


def sockopt(fd, sel, value):  # step_sockopt: option (sel >> 1) % 13, set when sel is even
    return api(SOCKOPT, fd, 0, bytes([sel, 1]) + u32(value) + u32(0))


KEEPALIVE, KEEPIDLE, KEEPINTVL, KEEPCNT = 6, 16, 18, 20


def sack_ack(advance_mss=0, blocks=((1, 1),), win=65535, ts_step=1):
    """An ACK at SND.UNA + advance_mss * MSS with SACK blocks [a, a + n) in MSS above SND.UNA
    (fuzz_stack.c's step_sack)."""
    sel = advance_mss | ((len(blocks) - 1) << 2)
    b = bytes([15, 1, sel]) + struct.pack("!H", win) + bytes([ts_step])
    for a, n in blocks:
        b += bytes([a, n - 1])
    return b


def icmp_error(sel, code=0, mtu=0, dseq=0, typ=0):
    """step_icmp: sel even; bit 1 set: type and code as given; else (sel >> 2) % 7 indexes
    {3, 3, 3, 11, 12, 4, 5} and bit 6 makes a type 3 "fragmentation needed"."""
    return bytes([15, 0, sel, typ, code]) + struct.pack("!H", mtu) + struct.pack("!b", dseq)


def icmp_echo(payload=b"ping"):
    return bytes([15, 0, 1, 0, 0, 0, 0]) + struct.pack("!H", len(payload)) + payload


def raw_ipv4(proto, payload, src=0x0a000001, dst=0x0a000002):
    """step_raw: an IPv4 packet of another protocol, which the stack answers with an ICMP
    error (protocol or port unreachable)."""
    ip = struct.pack("!BBHHHBBHII", 0x45, 0, 20 + len(payload), 7, 0, 64, proto, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    pkt = ip + payload
    return bytes([4]) + struct.pack("!H", len(pkt)) + pkt


def tunables(cookies, ts=True, sack=True, ws=True):
    return bytes([7, cookies | (4 if ts else 0) | (8 if sack else 0) | (16 if ws else 0)])


S, A, F, R, P = 2, 16, 1, 4, 8
passive = (
    api(SOCKET) + api(BIND, 0, P80) + api(LISTEN, 0, 4)
    + seg(S, reply=False, opts=LINUX_SYN)
    + seg(A, dack=1, opts=NOP2 + TS(1001, 0))
    + api(ACCEPT, 0, 0)
    + seg(P | A, dack=1, payload=b"hello")
    + api(RECV, 1, 2) + api(SEND, 1, 1, struct.pack("!H", 5) + b"world")
    + seg(A, dack=0) + seg(F | A, dack=0) + api(CLOSE, 1) + time_next() + time_next()
)
active = (
    api(SOCKET) + api(CONNECT, 0, P80)
    + seg(S | A, dack=1, opts=LINUX_SYN)
    + api(SEND, 0, 1, struct.pack("!H", 3000) + b"x" * 3000)
    + seg(A, dack=0) + time_ms(300) + seg(F | A, dack=0)
    + api(RECV, 0, 1) + api(CLOSE, 0) + time_next() + time_next()
)
cookies = (
    tunables(2) + api(SOCKET) + api(BIND, 0, P80) + api(LISTEN, 0, 1)
    + seg(S, reply=False, opts=LINUX_SYN)
    + seg(A, dack=1, opts=NOP2 + TS(1001, 0), payload=b"GET /")
    + api(ACCEPT, 0, 0) + api(RECV, 1, 2) + seg(R, dack=0)
)
blind = (
    api(SOCKET) + api(CONNECT, 0, P80) + seg(S | A, dack=1)
    + seg(R, dseq=5) + seg(S, dseq=7) + seg(A, dack=100) + seg(R, dseq=0) + time_next()
)
established = api(SOCKET) + api(CONNECT, 0, P80) + seg(S | A, dack=1, opts=LINUX_SYN)
# Keepalive after one idle second, probes every second, 2 unanswered ones abort; one probe is
# answered first.
keepalive = (
    established + sockopt(0, KEEPALIVE, 1) + sockopt(0, KEEPIDLE, 1) + sockopt(0, KEEPINTVL, 1)
    + sockopt(0, KEEPCNT, 2) + time_next() + time_next()
    + seg(A, dack=1, opts=NOP2 + TS(2000, 0)) + time_next() + time_next() + time_next()
    + time_next() + api(RECV, 0, 1) + api(CLOSE, 0)
)
# Five segments in flight, then duplicate ACKs whose SACK blocks cover the later ones: RFC 6675
# recovery, a partial ACK, the retransmission timer, and more SACKs.
sack = (
    established + api(SEND, 0, 1, struct.pack("!H", 7000) + b"s" * 7000)
    + sack_ack(0, ((1, 1),)) + sack_ack(0, ((1, 2),)) + sack_ack(0, ((1, 3),))
    + sack_ack(0, ((1, 4),)) + sack_ack(1, ((2, 3),)) + time_next()
    + sack_ack(0, ((3, 2), (1, 1))) + sack_ack(2, ((4, 1),), ts_step=5) + time_next()
    + sack_ack(3, ((5, 3), (1, 1), (3, 1))) + time_next() + api(CLOSE, 0) + time_next()
)
# ICMP: port unreachable for a SYN, fragmentation needed with data in flight, time exceeded,
# an echo request, and an error of a type the fuzzer picks.
icmp = (
    api(SOCKET) + api(CONNECT, 0, P80) + icmp_error(0, code=3) + time_next()
    + api(SOCKET) + api(CONNECT, 1, P80) + seg(S | A, dack=1, opts=LINUX_SYN)
    + api(SEND, 1, 1, struct.pack("!H", 4000) + b"i" * 4000) + icmp_error(0x40, mtu=1000)
    + icmp_error(0x40, mtu=68) + icmp_error(12, code=0) + icmp_error(0, code=1, dseq=-3)
    + icmp_echo(b"echo request") + icmp_error(2, typ=3, code=4, mtu=576) + time_next()
    + icmp_error(0, code=2) + time_next() + api(CLOSE, 1) + time_next()
    + raw_ipv4(17, struct.pack("!HHHH", 5353, 53, 12, 0) + b"dns?")
    + raw_ipv4(47, b"\0\0\x08\0gre") + time_ms(1200) + raw_ipv4(17, b"\0" * 12)
)
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for name, prog in dict(passive=passive, active=active, cookies=cookies, blind=blind,
                       keepalive=keepalive, sack=sack, icmp=icmp).items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(bytes([7]) + prog)  # first byte: the stack's seed
