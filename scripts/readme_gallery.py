#!/usr/bin/env python3
"""Rewrites the scenario gallery in README.md (between the gallery markers) from docs/demo.md,
which scripts/demo_gallery.py regenerates from real `synack demo` output. For each scenario:
the question it answers, its command, and the rows of its ladder that make its point (the
rows it shares with the plain handshake are skipped).

    scripts/demo_gallery.py build/synack docs/demo.md && scripts/readme_gallery.py
"""
import re
import sys

BEGIN, END = "<!-- gallery:begin -->", "<!-- gallery:end -->"
ROWS = 11


def sections(text):
    for sec in re.split(r"^## ", text, flags=re.M)[1:]:
        name = sec.split("\n", 1)[0].strip()
        if " " in name:
            continue
        q = re.search(r"^\*\*(.+?)\*\*", sec, re.M)
        cmd = re.search(r"^`(synack demo[^`]*)`", sec, re.M)
        block = re.search(r"```\n(.*?)```", sec, re.S)
        lines = [l.rstrip() for l in block.group(1).split("\n")]
        # time rows, and the options line under an arrow (it belongs to the row above)
        rows = [l for l in lines if re.match(r"\s+\d+\.\d{6}", l) or re.match(r"\s+\|\s+<.*>", l)]
        head = [l for l in lines if l.startswith("   time (s)")][:1]
        # The addresses under the host names, when they are not the usual 10.0.0.1 and
        # 10.0.0.2 (the IPv6 entry's point is its addresses).
        at = lines.index(head[0]) + 1 if head else len(lines)
        if at < len(lines) and ":" in lines[at] and not re.match(r"\s+\d+\.\d{6}", lines[at]):
            head.append(lines[at])
        yield name, q.group(1) if q else "", cmd.group(1) if cmd else "", head + rows


def excerpt(rows, base):
    start = 0
    while start < min(len(rows), len(base)) and rows[start] == base[start]:
        start += 1
    start = max(0, start - 1)
    # A flood's spoofed rows (~~~) say less than what happens to the real client: skip them.
    while start < len(rows) and "~~~" in rows[start]:
        start += 1
    rows = rows[:start] + [r for r in rows[start:] if "~~~" not in r]
    part = rows[start:start + ROWS]
    head = ["   ..."] if start > 0 else []
    tail = ["   ..."] if start + ROWS < len(rows) else []
    return head + part + tail


def main():
    demo = open("docs/demo.md").read()
    secs = list(sections(demo))
    base = secs[0][3][1:] if secs else []
    out = []
    for name, question, cmd, rows in secs:
        nhead = 2 if len(rows) > 1 and rows[1].startswith("             ") and "|" not in rows[1] else 1
        head, rows = rows[:nhead], rows[nhead:]
        rows_out = rows[:ROWS] + (["   ..."] if len(rows) > ROWS else []) if name == "handshake" \
            else excerpt(rows, base)
        out.append(f"**{name}** — {question} `{cmd}`\n\n```\n" + "\n".join(head + rows_out) + "\n```\n")
    readme = open("README.md").read()
    if BEGIN not in readme or END not in readme:
        sys.exit("README.md has no gallery markers")
    pre, rest = readme.split(BEGIN, 1)
    _, post = rest.split(END, 1)
    open("README.md", "w").write(pre + BEGIN + "\n" + "\n".join(out) + END + post)


if __name__ == "__main__":
    main()
