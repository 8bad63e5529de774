# AF_INET6 sockets over synack, through Python's socket module (the ordinary libc calls), run by
# tests/preload/run.sh under `synack run --addr 10.77.0.2/24 --addr fd00:77::2/64`. Each check
# prints "ok NAME" or "FAIL NAME: why"; the expected values are what Linux answers.
# Usage: python3 probe6.py KADDR KADDR6 SADDR6 ECHO_PORT LISTEN_PORT
import errno
import os
import socket
import subprocess
import sys

kaddr, kaddr6, saddr6 = sys.argv[1], sys.argv[2], sys.argv[3]
echo_port, listen_port = int(sys.argv[4]), int(sys.argv[5])
failed = 0


def check(name, got, want):
    global failed
    if got == want:
        print("ok", name)
    else:
        failed += 1
        print("FAIL %s: got %r, want %r" % (name, got, want))


def err_of(fn):
    try:
        fn()
        return 0
    except OSError as e:
        return e.errno


def echo(s, data):
    s.sendall(data)
    got = b""
    while len(got) < len(data):
        b = s.recv(65536)
        if not b:
            break
        got += b
    return got


# A fresh AF_INET6 socket: dual-stack by default, unbound.
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
check("SO_DOMAIN of an AF_INET6 socket", s.getsockopt(socket.SOL_SOCKET, socket.SO_DOMAIN),
      socket.AF_INET6)
check("IPV6_V6ONLY defaults to 0 (bindv6only=0)",
      s.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY), 0)
check("getsockname of an unbound AF_INET6 socket", s.getsockname(), ("::", 0, 0, 0))
check("IPV6_UNICAST_HOPS reads 64",
      s.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS), 64)
check("IPV6_TCLASS set (accepted)",
      err_of(lambda: s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_TCLASS, 0x20)), 0)
check("an IPPROTO_IPV6 option synack does not implement (IPV6_RECVPKTINFO): ENOPROTOOPT",
      err_of(lambda: s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)),
      errno.ENOPROTOOPT)

# Connect over IPv6 to the kernel's echo server.
s.connect((kaddr6, echo_port))
check("getpeername after an IPv6 connect", s.getpeername()[:2], (kaddr6, echo_port))
me = s.getsockname()
check("getsockname: synack's IPv6 address and an ephemeral port",
      (me[0], me[1] >= 32768), (saddr6, True))
data = os.urandom(100000)
check("100,000 bytes echoed over IPv6, byte-exact", echo(s, data), data)
check("IPV6_V6ONLY after bind: EINVAL",
      err_of(lambda: s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)), errno.EINVAL)
s.close()

# A dual-stack socket connecting to an IPv4 peer through its v4-mapped address.
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.connect(("::ffff:" + kaddr, echo_port))
check("getpeername of a v4-mapped connection", s.getpeername()[:2], ("::ffff:" + kaddr, echo_port))
check("getsockname of a v4-mapped connection: synack's IPv4 address, mapped",
      s.getsockname()[0], "::ffff:10.77.0.2")
check("10,000 bytes echoed over the v4-mapped connection", echo(s, data[:10000]), data[:10000])
s.close()

# IPV6_V6ONLY set: an IPv4-mapped destination is unreachable, as on Linux.
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
check("IPV6_V6ONLY reads 1 once set", s.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY), 1)
check("IPV6_V6ONLY and a v4-mapped destination: ENETUNREACH",
      err_of(lambda: s.connect(("::ffff:" + kaddr, echo_port))), errno.ENETUNREACH)
s.close()

# IPv6 options on an IPv4 socket: Linux knows no such level there.
s4 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
check("IPPROTO_IPV6 on an AF_INET socket: ENOPROTOOPT",
      err_of(lambda: s4.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY)), errno.ENOPROTOOPT)
check("an AF_INET socket still reports AF_INET", s4.getsockopt(socket.SOL_SOCKET, socket.SO_DOMAIN),
      socket.AF_INET)
s4.close()

# A dual-stack listener: a kernel client of each family; the IPv4 one appears v4-mapped.
ls = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("::", listen_port))
ls.listen(4)
check("getsockname of a [::] listener", ls.getsockname()[:2], ("::", listen_port))
env = {k: v for k, v in os.environ.items() if not k.startswith("SYNACK_") and k != "LD_PRELOAD"}
client = ("import socket,sys; c=socket.create_connection((sys.argv[1], int(sys.argv[2])), 10); "
          "c.sendall(b'hi'); c.close()")
for peer, family_addr in ((kaddr, "::ffff:" + kaddr), (kaddr6, kaddr6)):
    dst = saddr6 if ":" in peer else "10.77.0.2"
    p = subprocess.Popen([sys.executable, "-c", client, dst, str(listen_port)], env=env)
    c, addr = ls.accept()
    check("accept on [::] from the kernel's %s: the peer as %s" % (peer, family_addr),
          addr[0], family_addr)
    check("...getpeername agrees", c.getpeername()[0], family_addr)
    check("...the bytes", c.recv(10), b"hi")
    c.close()
    p.wait(10)
ls.close()

# ::1 is the kernel's loopback: the socket moves to the kernel before connecting.
lo = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
lo.bind(("::1", 0))
lo.listen(1)
lport = lo.getsockname()[1]
c = socket.create_connection(("::1", lport), 10)
a, _ = lo.accept()
c.sendall(b"loop")
check("::1: a listener and a client on the kernel's loopback", a.recv(10), b"loop")
check("...getsockname from the kernel", c.getpeername()[:2], ("::1", lport))
for x in (a, c, lo):
    x.close()
sys.exit(1 if failed else 0)
