#!/usr/bin/env python3
"""bench/loss.sh's report: reads the result lines that loss_sim and the Linux cells left in $W
and prints the grid (goodput as a fraction of the ceiling, synack, Linux, ratio) and the 1 MiB
completion times. Not meant to run alone."""
import math
import os

W = os.environ["W"]
CAP = int(os.environ["CAP"])
LINUX = os.environ["LINUX"] == "1"
LOSSES = os.environ["LOSSES"].split()
SIM_LIMIT = int(os.environ["SIM_LIMIT"])
XFER_LIMIT = int(os.environ["XFER_LIMIT"])
BW = int(os.environ["BW"])
BW_BUF = int(os.environ["BW_BUF"])
ONLY = os.environ["ONLY"].split()
XFER_CC = os.environ.get("XFER_CC", "cubic").split()
MIB = 1 << 20
RTT = 0.1


def is_result(name):
    """A Linux cell's result file, not the relay's output or a log beside it."""
    return not name.endswith((".relay", ".err"))


def kv(line):
    return dict(p.split("=", 1) for p in line.split() if "=" in p)


def lines(path):
    try:
        with open(path) as f:
            return [kv(l) for l in f if l.strip()]
    except FileNotFoundError:
        return []


def ceiling(buf, bw):
    c = buf / RTT
    return min(c, bw / 8) if bw else c


def goodput(r, cap):
    """Bytes per second over the first cap seconds (or the whole transfer, if shorter)."""
    if not r or "at_cap" not in r:
        return None
    done = int(r.get("done_us", 0))
    got = int(r["at_cap"])
    if done and done <= cap * 1e6:
        return got / (done / 1e6)
    return got / cap


def median_run(rs):
    """The run with the median goodput (the lower middle one of an even count)."""
    if not rs:
        return None
    rs = sorted(rs, key=lambda r: goodput(r, CAP))
    return rs[(len(rs) - 1) // 2]


def fmt(x, w=7):
    return f"{'—':>{w}}" if x is None else f"{x:{w}.3f}"


def ratio(a, b, w=7):
    if a is None or b is None or b == 0:
        return f"{'—':>{w}}"
    return f"{a / b:{w}.2f}"


def pct(x):
    return f"{float(x) * 100:g}%"


def grid():
    rows = [(b, f"{b // 1024} KiB", 0) for b in (8192, 32768, 131072)]
    rows.append(("bw", f"{BW_BUF // MIB} MiB @ {BW // 1000000} Mb/s", BW))
    print()
    print(f"Goodput as a fraction of the ceiling (window/RTT; min(window/RTT, bottleneck) in the last"
          f" row), first {CAP} s or the whole 10 MiB if sooner, one run per cell:")
    head = f"{'buffers':<19} {'':<8}" + "".join(f"{pct(l):>8}" for l in LOSSES)
    print(head)
    wins = {}
    lates = {}
    for key, name, bw in rows:
        buf = BW_BUF if key == "bw" else key
        c = ceiling(buf, bw)
        s = [lines(f"{W}/sim-g-{key}-{l}") for l in LOSSES]
        s = [x[0] if x else None for x in s]
        lall = [[r for r in lines(f"{W}/linux-g-{key}-{l}") if "at_cap" in r] for l in LOSSES]
        lx = [median_run(x) for x in lall]
        gs = [goodput(r, CAP) for r in s]
        gl = [goodput(r, CAP) if r else None for r in lx]
        reps = sorted({len(x) for x in lall if len(x) > 1})
        fs = [g / c if g is not None else None for g in gs]
        fl = [g / c if g is not None else None for g in gl]
        print(f"{name:<19} {'synack':<8}" + "".join(f" {fmt(x)}" for x in fs))
        if LINUX:
            print(f"{'':<19} {'Linux':<8}" + "".join(f" {fmt(x)}" for x in fl)
                  + (f"  (median of {reps[0]} where several)" if reps else ""))
            print(f"{'':<19} {'ratio':<8}" + "".join(f" {ratio(a, b)}" for a, b in zip(fs, fl)))
        full = []
        for r in s:
            if r and int(r.get("done_us", 0)):
                full.append(10 * MIB / (int(r["done_us"]) / 1e6) / c)
            else:
                full.append(None)
        print(f"{'':<19} {'s 10MiB':<8}" + "".join(f" {fmt(x)}" for x in full))
        lates[name] = lateness(lx)
        wins[name] = (sorted(int(r["win"]) for r in s if r),
                      sorted(int(r.get("win_a", 0)) for r in lx if r and "win_a" in r))
    print(f"  s 10MiB: synack's whole 10 MiB on the virtual clock (— : not done in {SIM_LIMIT} s)")
    print("  largest receive window announced (synack | Linux, min..max over the row), and the"
          " relay's lateness delivering Linux's frames:")
    for name, (sw, lw) in wins.items():
        s = f"{sw[0]}..{sw[-1]}" if sw else "—"
        l = f"{lw[0]}..{lw[-1]}" if lw else "—"
        print(f"    {name:<19} {s:>18} | {l:<18} {lates[name] if LINUX else ''}")
    bad = [k for k in os.listdir(W) if k.startswith("linux-g-") and is_result(k)
           and "fail=" in open(f"{W}/{k}").read()]
    if bad:
        print("  Linux cells that failed to run:", " ".join(sorted(bad)))
    sim_bad = [k for k in os.listdir(W) if k.startswith("sim-") and "ok=0" in open(f"{W}/{k}").read()]
    if sim_bad:
        print("  synack runs with wrong bytes:", " ".join(sim_bad))


def quantile(xs, q):
    """Nearest rank over all runs; an unfinished one counts as infinite."""
    xs = sorted(xs)
    k = max(1, math.ceil(q * len(xs)))
    return xs[k - 1]


def tfmt(x, limit):
    return f">{limit} s" if math.isinf(x) else f"{x:.2f} s"


def lateness(rs):
    """The relay's lateness over a set of Linux results: mean of the means, largest."""
    rs = [r for r in rs if r and "late_avg_us" in r]
    if not rs:
        return "—"
    avg = sum(int(r["late_avg_us"]) for r in rs) / len(rs)
    mx = max(int(r["late_max_us"]) for r in rs)
    return f"{avg / 1000:.2f} ms mean, {mx / 1000:.1f} ms at most"


def xfer():
    print()
    print("1 MiB transfers, 128 KiB buffers, 2% duplication, 5% reordering (1 ms), 1% corruption:")
    print(f"{'loss':<6}{'stack':<13}{'done':>10}{'p50':>12}{'p99':>12}{'RTOs/xfer':>11}"
          f"{'retrans/xfer':>14}")
    late = []
    for loss in ("0.20", "0.30"):
        runs = [("synack", lines(f"{W}/sim-x-{loss}"), SIM_LIMIT)]
        for cc in XFER_CC:
            lx = []
            i = 0
            while os.path.exists(f"{W}/linux-x-{cc}-{loss}-{i}"):
                lx += lines(f"{W}/linux-x-{cc}-{loss}-{i}")
                i += 1
            late += lx
            runs.append((f"Linux {cc}", lx, XFER_LIMIT))
        res = {}
        for name, rs, limit in runs:
            rs = [r for r in rs if "done_us" in r]
            if not rs:
                continue
            t = [int(r["done_us"]) / 1e6 if int(r["done_us"]) else math.inf for r in rs]
            done = sum(1 for x in t if not math.isinf(x))
            rto = sum(int(r.get("rtos", 0)) for r in rs) / len(rs)
            rtx = sum(int(r.get("retrans", 0)) for r in rs) / len(rs)
            p50, p99 = quantile(t, 0.5), quantile(t, 0.99)
            res[name] = (p50, p99, rto)
            print(f"{pct(loss):<6}{name:<13}{done:>5}/{len(rs):<4}{tfmt(p50, limit):>12}"
                  f"{tfmt(p99, limit):>12}{rto:>11.1f}{rtx:>14.1f}")
        for name in res:
            if name == "synack" or "synack" not in res:
                continue
            a, b = res["synack"], res[name]
            r = [("—" if math.isinf(x) or math.isinf(y) or y == 0 else f"{x / y:.2f}x")
                 for x, y in zip(a, b)]
            print(f"{'':<6}{'s/' + name.split()[1]:<13}{'':>10}{r[0]:>12}{r[1]:>12}{r[2]:>11}")
    print(f"  done: finished within the limit ({SIM_LIMIT} s virtual for synack, {XFER_LIMIT} s"
          f" for Linux); an unfinished transfer counts as infinitely slow in the percentiles"
          f" (— where a ratio would compare with one); RTOs: TcpExtTCPTimeouts of both ends;"
          f" retrans: synack both ends, Linux the sender")
    if LINUX:
        print(f"  the relay's lateness delivering frames for these: {lateness(late)}")


if LINUX:
    ccs = set()
    for k in os.listdir(W):
        if k.startswith("linux-") and is_result(k):
            ccs |= {r.get("cc", "?") for r in lines(f"{W}/{k}")}
    print("Linux's congestion control, as its sender's TCP_CONGESTION read back:", " ".join(sorted(ccs)))
if "grid" in ONLY:
    grid()
if "xfer" in ONLY:
    xfer()
