#!/usr/bin/env python3
# Regenerates docs/demo.md (the scenario gallery) from the real output of `synack demo`.
#   scripts/demo_gallery.py build/synack docs/demo.md
import subprocess, sys
BIN = sys.argv[1]
OUT = sys.argv[2]

def run(args):
    return subprocess.run([BIN, "demo"] + args, capture_output=True, text=True).stdout

def ladder(text, keep=None):
    lines = text.rstrip("\n").split("\n")
    # drop the title/legend lines (the first 3 or 4) and keep the header, rows and summary
    start = next(i for i, l in enumerate(lines) if l.startswith("   time (s)"))
    body = lines[start:]
    if keep:
        body = keep(body)
    return "\n".join(body)

def head_tail(h, t):
    def f(body):
        if len(body) <= h + t + 1:
            return body
        return body[:h] + ["        ...  (%d rows not shown here)" % (len(body) - h - t)] + body[-t:]
    return f

S = [
 ("handshake", [], "What happens when a client connects, exchanges a message and closes?",
  "The three-way handshake (S, S., .), the client's 14-byte message and the server's echo, each acknowledged, then the four-way close: the client's FIN takes it to FIN-WAIT-1, the server's ACK to FIN-WAIT-2, the server's FIN to TIME-WAIT, where the client stays 2×MSL = 60 s on the virtual clock before CLOSED. The server goes CLOSE-WAIT → LAST-ACK → CLOSED.", None),
 ("simultaneous-open", [], "What if both sides connect to each other at the same moment?",
  "RFC 9293 §3.5 figure 7: both SYNs cross, each side goes SYN-SENT → SYN-RECEIVED and answers with a SYN-ACK. Here each SYN-ACK arrives at a side that already counts the peer's SYN as received, so its sequence number is taken as old: it is dropped (tcp_not_acceptable) and answered with an ACK, and those ACKs make both sides ESTABLISHED. (Figure 7 draws the crossing SYN-ACK itself completing the open; synack's engine takes one more step today.)", None),
 ("simultaneous-close", [], "What if both sides close at the same moment?",
  "Both applications call close() at 100 ms. The FINs cross, each side goes FIN-WAIT-1 → CLOSING (it got a FIN before the ACK of its own), and when the ACKs arrive both go to TIME-WAIT: here both sides wait 2×MSL.", None),
 ("half-close", [], "Can one side stop sending but keep receiving?",
  "The client sends its request and calls shutdown(SHUT_WR): its FIN ends only the client→server direction. The server, in CLOSE-WAIT, keeps sending 3000 bytes (two full segments and a last one with FIN), which the client, in FIN-WAIT-2, keeps acknowledging and reading.", None),
 ("refused", [], "What happens when nothing listens on the port?",
  "The server has no socket for port 80: it drops the SYN (tcp_no_socket) and answers with R. — seq 0 and ack = the SYN's seq + 1, because the SYN carried no ACK (RFC 9293 §3.10.7.1). The client in SYN-SENT accepts the RST since it acknowledges its SYN, and connect fails with ECONNREFUSED.", None),
 ("syn-timeout", [], "What if the server never answers?",
  "Every frame to the server is lost. The client retransmits its SYN with exponential backoff — 1, 3, 7, 15, 31 and 63 s after the first (RTO 1 s doubling) — and after the sixth retry (tcp_syn_retries = 6) gives up at 127 s with ETIMEDOUT.", None),
 ("lost-third-ack", [], "What if the last ACK of the handshake is lost?",
  "The network drops the client's pure ACK. The client is ESTABLISHED and sends its data at once; that data segment carries the same ACK, so when it reaches the server in SYN-RECEIVED it completes the handshake.", None),
 ("lost-last-ack", [], "What if the last ACK of the close is lost? (why TIME-WAIT exists)",
  "The client's ACK of the server's FIN is lost. The server in LAST-ACK retransmits its FIN when its retransmission timer fires; the client, still in TIME-WAIT, can answer it and the server reaches CLOSED. Without TIME-WAIT the retransmitted FIN would have met no connection and drawn a RST.", None),
 ("old-duplicate-syn", [], "Why does the handshake need three steps?",
  "RFC 9293 §3.5 figure 8. An old SYN from an earlier incarnation of the same connection (seq = ISS − 1000) arrives first; the server answers it. The client, in SYN-SENT, receives a SYN-ACK whose ACK does not acknowledge its own SYN and replies RST with seq = SEG.ACK; the server returns to LISTEN. The real SYN, held up in the network until 30 ms, then opens the connection normally. A two-step handshake would have opened a connection on the old SYN. This ladder shows absolute numbers so the mismatch is visible.", None),
 ("keepalive", [], "What if the peer disappears while the connection is idle?",
  "The client enables SO_KEEPALIVE with short settings (idle 10 s, interval 2 s, 3 probes, instead of Linux's 7200/75/9). At 1 s the server is cut off. After 10 s of silence the client sends a probe with seq = SND.NXT − 1 (one byte the peer has already acknowledged, so a live peer must answer), then two more 2 s apart; none is answered, and after the third interval the connection is reset with ETIMEDOUT. The server never learns: it is still ESTABLISHED.", None),
 ("abort", [], "How does a connection end abruptly?",
  "The client sets SO_LINGER {on, 0 s} and closes: instead of a FIN it sends R., and its connection is gone at once (no TIME-WAIT). The server's next read reports ECONNRESET.", None),
 ("syn-flood", [], "What does a SYN flood do, and how do SYN cookies defeat it?",
  "4,000 spoofed SYNs from random addresses in 198.18.0.0/15, 2,000 per virtual second, arrive at a server listening with backlog 4. The first four fill the SYN queue (SYN-RECEIVED, SYN-ACKs to addresses that will never answer); only those are drawn, and a note every 1,000 SYNs counts the rest. From then on the server answers each SYN with a SYN cookie (syncookies 1, the default, as Linux): a SYN-ACK whose ISN encodes the connection, keeping no state. Half a second into the flood the legitimate client connects: its SYN gets a cookie SYN-ACK, its ACK brings the cookie back, the server creates the connection from it (SYN-RECEIVED → ESTABLISHED in one step) and the echo and the close go through as if there were no flood.", None),
 ("syn-flood", ["--syncookies", "0"], "And without SYN cookies?",
  "The same flood with `--syncookies 0`: once the SYN queue is full every SYN is dropped (tcp_synq_full), the legitimate client's included. It retries at 1, 3 and 7 s — after the flood has stopped, but the spoofed half-open entries stay until their SYN-ACK retries run out, 63 s later — and gives up with ETIMEDOUT (syn_retries 3 here).", None),
 ("transfer", ["--bytes", "1048576"], "What does a bulk transfer look like?",
  "The client sends 1 MiB: MSS-sized segments (1448 bytes: 1460 minus the 12 bytes of the timestamp option) in flights limited by the congestion and receive windows, each acknowledged. The middle of the ladder is elided; the summary's SHA-256 of what was sent and what was read match.", None),
]

out = []
out.append("""# synack demo — the scenario gallery

`synack demo` runs a client (10.0.0.1, port 40000) and a server (10.0.0.2, port 80), two synack
stacks on a simulated network with a virtual clock — no root, no network — and draws what
they do as a ladder diagram: time on the left, one lifeline per host, each segment an arrow
drawn at its send time with its flags in tcpdump notation (S, S., ., P., F., R, R.), seq, ack,
window (the raw header field) and length; each side's state changes in its own column where
they happen; losses (`---X`), drops with their reason, timers and errors beside the lifeline.
`make demo` runs the default scenario and then every one below.

Reading the ladders:

- seq/ack are relative to each direction's first sequence number (its ISN), as tcpdump shows
  them; `--absolute` prints the raw numbers (the old-duplicate-syn scenario always does).
- `---->` a segment sent; its arrival is implied. `---X` lost by the link. `---.....` held back
  by the link, drawn again (`.....>`) when it arrives late. `~~~~>` a segment no host on the
  diagram sent (spoofed or injected), or one sent to an address off the diagram.
- A state name appears in its host's column on the row where the change happens; a segment a
  host sends at that same instant shares the row (SYN-SENT with the SYN). Notes beside a
  lifeline: drops with the stack's reason, errors reported to the application, timers.
- The link has a 10 ms one-way delay by default (`--delay`), so a reply appears 10 ms after
  the segment that caused it.
- `--format jsonl` prints every event (arrivals included) as one JSON object per line and
  ends with a summary line; that stream is what `tests/demo/test_scenarios.c` checks:

```
{"t_us":0,"host":"client","ev":"tx","src":"10.0.0.1:40000","dst":"10.0.0.2:80","flags":"S","seq":N,"ack":0,"win":64240,"len":0,"retx":false}
{"t_us":10000,"host":"server","ev":"state","conn":"10.0.0.2:80-10.0.0.1:40000","from":"LISTEN","to":"SYN-RECEIVED"}
{"ev":"summary","sent_bytes":14,"recv_bytes":14,"sent_sha256":"...","recv_sha256":"...","client_final":"CLOSED","server_final":"CLOSED"}
```

Options: `--scenario NAME`, `--list`, `--format text|jsonl|svg|html`, `--absolute`,
`--max-rows N`, `--loss P --dup P --reorder P --corrupt P` (per frame, both directions),
`--delay MS --jitter MS --seed N`, `--bytes N --mss N --msl MS --syn-retries N
--synack-retries N --syncookies N`, `--limit S`, `--pcap FILE` (a capture of the client's link for tcpdump
or Wireshark), `--ipv6` (every scenario over IPv6, below). The same options give the same output,
byte for byte.
The excerpts below are real output (`synack demo --scenario NAME`); `scripts/demo_gallery.py
build/synack docs/demo.md` regenerates this page.
""")
for name, extra, q, expl, keep in S:
    text = run(["--scenario", name] + extra)
    cmd = "synack demo --scenario " + name + ("" if not extra else " " + " ".join(extra))
    out.append("## %s\n\n**%s**\n\n`%s`\n\n%s\n\n```\n%s\n```\n" % (name, q, cmd, expl, ladder(text, keep)))

lossy = ladder(run(["--scenario", "handshake", "--loss", "0.2", "--seed", "2"]))
out.append("""## With a lossy link

**What does TCP do when the network loses segments?**

`synack demo --loss 0.2 --seed 2`

Any scenario can run over a worse network (`--loss`, `--dup`, `--reorder`, `--corrupt`,
`--jitter`). Here one frame in five is lost, in both directions: the first SYN is lost and
retransmitted after the initial 1 s RTO; the client's ACK completing the handshake is lost,
but its data segment carries the same acknowledgment; an ACK from the server is lost and the
next segment's cumulative ACK covers for it. The summary proves the bytes arrived intact.
Change `--seed` for another run; keep it to replay this one exactly.

```
%s
```
""" % lossy)
v6 = ladder(run(["--ipv6", "--scenario", "handshake"]))
out.append("""## ipv6

**Does it work the same over IPv6?**

`synack demo --ipv6 --scenario handshake`

`--ipv6` (`-6`) runs any scenario over IPv6: the client is 2001:db8::1 and the server
2001:db8::2 (RFC 3849's documentation prefix), the flood's spoofed peers come from 2001:2::/48
(RFC 5180's benchmarking prefix), and the TCP conversation is the same one: the engine never
sees the family. What changes is what the 40-byte IPv6 header takes: the MSS announced is
1440 (1460 less 20), so full segments carry 1428 bytes with timestamps, and the initial
windows are multiples of it (64800 = 45 × 1440 for the SYN, 64260 = 45 × 1428 for the
SYN-ACK). `--pcap` writes the IPv6 packets, which `synack ladder`, `tsg` and `report` read
back, as they read IPv6 captures from tcpdump or Wireshark (pcap or pcapng; raw IP, Ethernet
0x86DD, Linux cooked, BSD loopback).

```
%s
```
""" % v6)
open(OUT, "w").write("\n".join(out))
