#!/usr/bin/env python3
"""Cross-check synack's segment marks against Wireshark's TCP analysis (tshark).

usage: tshark_check.py SYNACK PCAP [A:P-B:P]
For one connection (the capture's only one, or the one given), the segments synack marks as
retransmissions, duplicate ACKs (with their number) and zero windows must be exactly the ones
tshark marks. Prints the comparison; exits 1 on a difference, 0 when they agree.
"""
import json
import subprocess
import sys


def synack_marks(binary, pcap, conn):
    cmd = [binary, 'ladder', pcap, '--format', 'jsonl', '--first', '100000', '--last', '0']
    if conn:
        cmd += ['--conn', conn]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    marks = []
    for line in out.splitlines():
        ev = json.loads(line)
        if ev.get('ev') != 'tx':
            continue
        note = ev.get('note', '')
        m = set()
        if ev.get('retx'):
            m.add('retx')
        for part in note.split(','):
            if part.startswith('dup-ack #'):
                m.add('dup' + part[len('dup-ack #'):])
            if part == 'zero-window':
                m.add('zero')
        marks.append(m)
    return marks


def tshark_marks(pcap, conn):
    # Out-Of-Order counts as a retransmission: tshark calls a segment below the highest
    # sequence number sent Out-Of-Order rather than a retransmission when it follows the
    # previous segment within 3 ms, which on a simulated clock (a SACK hole resent at the
    # instant its ACK arrives) is a retransmission, as it is wherever the capture is taken
    # at the sender.
    fields = ['tcp.analysis.retransmission', 'tcp.analysis.fast_retransmission',
              'tcp.analysis.spurious_retransmission', 'tcp.analysis.duplicate_ack_num',
              'tcp.analysis.zero_window', 'tcp.analysis.out_of_order']
    cmd = ['tshark', '-n', '-r', pcap, '-o', 'tcp.relative_sequence_numbers:TRUE', '-T', 'fields']
    for f in fields:
        cmd += ['-e', f]
    filt = 'tcp'
    if conn:
        a, b = conn.split('-')
        (ha, pa), (hb, pb) = a.rsplit(':', 1), b.rsplit(':', 1)
        ha, hb = ha.strip('[]'), hb.strip('[]')  # [IPv6]:port
        ip = 'ipv6' if ':' in ha else 'ip'
        filt = ('%s.addr==%s && %s.addr==%s && tcp.port==%s && tcp.port==%s'
                % (ip, ha, ip, hb, pa, pb))
    cmd += ['-Y', filt]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    marks = []
    for line in out.splitlines():
        v = (line.split('\t') + [''] * 6)[:6]
        m = set()
        if v[0] or v[1] or v[2] or v[5]:
            m.add('retx')
        if v[3]:
            m.add('dup' + v[3])
        if v[4]:
            m.add('zero')
        marks.append(m)
    return marks


def main():
    binary, pcap = sys.argv[1], sys.argv[2]
    conn = sys.argv[3] if len(sys.argv) > 3 else None
    mine, theirs = synack_marks(binary, pcap, conn), tshark_marks(pcap, conn)
    if len(mine) != len(theirs):
        print('%s: synack drew %d segments, tshark has %d' % (pcap, len(mine), len(theirs)))
        return 1
    bad = [(i + 1, sorted(a), sorted(b)) for i, (a, b) in enumerate(zip(mine, theirs)) if a != b]
    for i, a, b in bad:
        print('%s segment %d: synack %s, tshark %s' % (pcap, i, a or '-', b or '-'))
    n = sum(1 for m in mine if m)
    print('%s: %d segments, %d marked, %s' % (pcap, len(mine), n,
                                              'as tshark' if not bad else 'DIFFERENT'))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
