#!/usr/bin/env python3
"""One side of a kernel-to-kernel TCP conversation for tests/render/netns.sh.

usage: kconv.py server|client SCENARIO SYNC_DIR PORT [ipv6]
The two sides run in different network namespaces; they step through the scenario together
with marker files in SYNC_DIR, so the shell can look at `ss -tan` between the steps. With
"ipv6" they talk over fd00:199::1 and fd00:199::2 instead of 10.199.0.1 and 10.199.0.2.
Scenarios: cfirst (the client closes first), sfirst (the server closes first), rst (the client
aborts with SO_LINGER 0), refused (nobody listens).
"""
import os
import socket
import struct
import sys
import time

SERVER, CLIENT = '10.199.0.2', '10.199.0.1'
FAMILY = socket.AF_INET
if len(sys.argv) > 5 and sys.argv[5] == 'ipv6':
    SERVER, CLIENT, FAMILY = 'fd00:199::2', 'fd00:199::1', socket.AF_INET6


def mark(d, name):
    open(os.path.join(d, name), 'w').close()


def wait(d, name, limit=20.0):
    end = time.time() + limit
    while not os.path.exists(os.path.join(d, name)):
        if time.time() > end:
            sys.exit('kconv: timed out waiting for ' + name)
        time.sleep(0.02)


def server(scen, d, port):
    ls = socket.socket(FAMILY)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((SERVER, port))
    ls.listen(1)
    mark(d, 'listening')
    c, _ = ls.accept()
    ls.close()
    c.recv(100)
    if scen == 'cfirst':
        while c.recv(100):
            pass
        mark(d, 'server_eof')
        wait(d, 'server_close')
        c.close()
        mark(d, 'server_closed')
    elif scen == 'sfirst':
        c.close()
        mark(d, 'server_closed')
        wait(d, 'done')
    elif scen == 'rst':
        try:
            while c.recv(100):
                pass
        except ConnectionResetError:
            pass
        mark(d, 'server_reset')
        c.close()


def client(scen, d, port):
    s = socket.socket(FAMILY)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((CLIENT, port + 1000))
    if scen == 'refused':
        try:
            s.connect((SERVER, port))
        except ConnectionRefusedError:
            mark(d, 'refused')
        return
    wait(d, 'listening')
    s.connect((SERVER, port))
    s.sendall(b'hello')
    if scen == 'cfirst':
        time.sleep(0.05)
        s.close()
        mark(d, 'client_closed')
    elif scen == 'sfirst':
        while s.recv(100):
            pass
        mark(d, 'client_eof')
        wait(d, 'client_close')
        s.close()
        mark(d, 'client_closed')
    elif scen == 'rst':
        time.sleep(0.05)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        s.close()
        mark(d, 'client_closed')


if __name__ == '__main__':
    role, scen, d, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    (server if role == 'server' else client)(scen, d, port)
