#!/usr/bin/env python3
"""Writes the fuzz_pair seed corpus: programs in fuzz_pair.c's encoding in which host A opens
connections to host B's listener and the two exchange data over clean and lossy links, so the
fuzzer starts from transfers in progress rather than having to find connect/listen/accept."""
import os
import struct
import sys

LISTEN, CONNECT, ACCEPT, SEND, SEND2, RECV, SHUTDOWN, CLOSE, SOCKOPT, FAULTS, CLOCK = range(11)
A, B = 0, 1


def op(kind, side, arg=0, extra=b""):
    return bytes([(kind << 1) | side, arg]) + extra


def send(side, fdsel, n):
    return op(SEND, side, fdsel, struct.pack("!H", n))


def recv(side, fdsel, n, peek=False):
    return op(RECV, side, fdsel | (0x80 if peek else 0), struct.pack("!H", n))


def ms(v, read_all=False):
    return op(CLOCK, A, 1 | (2 if read_all else 0), struct.pack("!H", v))


def faults(side, loss, dup=0, reorder=0, corrupt=0, hold=9):
    # loss/reorder: fraction * 512; dup/corrupt: fraction * 1024 (see set_faults)
    b = [int(loss * 512), int(dup * 1024), int(reorder * 512), int(corrupt * 1024), hold]
    return op(FAULTS, side, 0, bytes(min(255, x) for x in b))


def shutdown(side, fdsel, how):  # fd index must equal fdsel % nfds; how = (arg >> 3) % 3
    return op(SHUTDOWN, side, fdsel | (how << 3))


def header(seed, delay, cfg_a=(0x07, 0x00), cfg_b=(0x07, 0x00)):
    return bytes([seed, delay]) + bytes(cfg_a) + bytes(cfg_b)


# The usual opening: B listens on port 80 (fd index 0), A connects (A's fd index 0), B accepts
# after the handshake (B's connection is fd index 1).
def opening(wait_ms=300):
    return op(LISTEN, B, 0x02) + op(CONNECT, A, 0) + ms(wait_ms) + op(ACCEPT, B, 0)


OPEN = opening()

clean = (header(1, 100) + OPEN + send(A, 0, 19000) + ms(500, True) + send(B, 1, 5000)
         + ms(500, True) + shutdown(A, 0, 1) + ms(300, True) + op(CLOSE, B, 1) + ms(300, True)
         + op(CLOSE, A, 0))
lossy = (header(2, 100) + faults(A, 0.10, 0.02, 0.05, 0.01) + faults(B, 0.10, 0.02, 0.05, 0.01)
         + opening(3000) + send(A, 0, 19000) + send(B, 1, 19000) + ms(5000, True) + send(A, 0, 19000)
         + ms(20000, True) + shutdown(A, 0, 1) + shutdown(B, 1, 1) + ms(20000, True))
heavy = (header(3, 40, (0x03, 0x05), (0x07, 0x0a)) + faults(A, 0.35) + faults(B, 0.35, 0, 0.2)
         + opening(20000) + send(A, 0, 19000) + ms(30000, True) + send(A, 0, 19000) + ms(60000, True))
# A small receive buffer that B does not read: zero window, persist probes, then B reads.
zerownd = (header(4, 20, (0x07, 0x00), (0x23, 0x05)) + OPEN + send(A, 0, 19000)
           + send(A, 0, 19000) + ms(30000) + recv(B, 1, 3000) + ms(2000) + recv(B, 1, 60000, True)
           + recv(B, 1, 60000) + ms(2000, True) + op(CLOSE, A, 0) + ms(1000, True))
# An abortive close in the middle of a lossy transfer, and a reset for the other side.
abort = (header(5, 60) + faults(A, 0.05, 0, 0.1) + OPEN + send(A, 0, 19000) + ms(150)
         + op(CLOSE, A, 0x40) + ms(500, True) + send(B, 1, 100) + ms(500, True))
# Options: no timestamps, no SACK, no window scaling, MSS 536, NODELAY and CORK, reno.
plain = (header(6, 80, (0x50, 0x00), (0x40, 0x00)) + faults(A, 0.03, 0.03, 0.05, 0.03)
         + OPEN + op(SOCKOPT, A, 0, bytes([0]) + struct.pack("!H", 1))
         + op(SOCKOPT, B, 1, bytes([1]) + struct.pack("!H", 1))
         + send(A, 0, 3000) + send(B, 1, 3000) + ms(3000, True)
         + op(SOCKOPT, B, 1, bytes([1]) + struct.pack("!H", 0)) + ms(3000, True)
         + shutdown(B, 1, 2) + ms(3000, True))

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for name, prog in dict(clean=clean, lossy=lossy, heavy=heavy, zerownd=zerownd, abort=abort,
                       plain=plain).items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(prog)
