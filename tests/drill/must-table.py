#!/usr/bin/env python3
"""Prints the RFC 9293 MUST table of tests/drill/README.md from the scripts' header comments.

Usage: python3 tests/drill/must-table.py [path/to/rfc9293-requirements.csv]
Each script names the requirements it covers (MUST-N) in its opening comment; requirements no
script covers get the reason from WHY below."""
import collections, csv, glob, os, re, sys

WHY = {
    'MUST-3': "not expressible: packetdrill's language cannot send a bad checksum; the codec's unit tests (tests/unit/test_wire.c) cover it",
    'MUST-6': "not expressible: the language has no syntax for an unknown option kind",
    'MUST-7': "not expressible: option lengths are generated from the option written",
    'MUST-8': "not observable: scripts see synack's ISN only as 0 (relative); covered by the ISN unit tests",
    'MUST-9': "not observable from a script (a property of the keyed hash)",
    'MUST-45': "the source address is always the stack's (bind to another address fails, `api/bind-foreign-address.pkt`)",
    'MUST-50': "IP options: the runner sends no IP options (not in packetdrill's TCP syntax)",
    'MUST-51': "IP options: no API", 'MUST-52': "IP options: no API", 'MUST-53': "IP options: no API",
    'SHLD-25': "not yet: the engine counts ICMP errors (IcmpInDestUnreachs) but reports no soft error to the application",
    'MUST-60': "implied by the MUST-61 scripts (every write is sent; nothing waits for a PSH)",
    'MUST-68': "every option synack sends is decoded by the runner, which rejects a missing length; no script targets it alone",
    'MUST-2': "every outbound packet of every script: the runner verifies synack's IP and TCP checksums before matching",
}
# Rows whose feature needs its own answer (the ID is shared with another feature).
BY_FEATURE = {
    'IPv6 Send-MSS default is 1220': "— not applicable: synack speaks IPv4",
    'Negative advice to IP on R1 retransmissions': "— not observable: synack has no routing layer to advise",
    '*  Abort on Dest Unreach (0,1,5)': "`icmp/dest-unreachable-not-fatal.pkt`",
    '*  Abort on Time Exceeded': "`icmp/time-exceeded-not-fatal.pkt`",
    '*  Abort on Param Problem': "`icmp/parameter-problem-not-fatal.pkt`",
}
NOTE = {'MUST-23': " (Linux's 127 s default, below the requirement: see above)"}

here = os.path.dirname(os.path.abspath(__file__))
csv_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, '../../../../shared/rfc9293-requirements.csv')
cov = collections.defaultdict(set)
for f in sorted(glob.glob(os.path.join(here, '*/*.pkt'))):
    head = ''
    for line in open(f):
        if not line.startswith('//'):
            break
        head += line
    for a, b in re.findall(r'MUST-(\d+)(?:/(\d+))?', head):
        for n in (a, b):
            if n:
                cov['MUST-' + n].add(os.path.relpath(f, here))
seen = set()
for r in csv.DictReader(open(csv_path)):
    if 'MUST' not in r['level'] or (r['reqid'], r['feature']) in seen:
        continue
    seen.add((r['reqid'], r['feature']))
    rid = r['reqid']
    if r['feature'] in BY_FEATURE:
        cell = BY_FEATURE[r['feature']]
    elif cov.get(rid):
        cell = ', '.join('`%s`' % f for f in sorted(cov[rid])) + NOTE.get(rid, '')
    else:
        cell = '— ' + WHY.get(rid, 'not covered yet')
    print('| %s | %s | %s | %s |' % (rid, r['group'], r['feature'].replace('|', '/'), cell))
