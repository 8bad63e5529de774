#!/usr/bin/env python3
"""Writes the fuzz_stack seed corpus: programs in fuzz_stack.c's encoding that open, use and
close connections both ways, so the fuzzer starts from deep states instead of finding the
handshake on its own."""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(__file__))
from pkt import LINUX_SYN, NOP2, TS  # noqa: E402

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
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for name, prog in dict(passive=passive, active=active, cookies=cookies, blind=blind).items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(bytes([7]) + prog)  # first byte: the stack's seed
