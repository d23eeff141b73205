#!/usr/bin/env python3
"""Summary of scenario F of bench/run: the proxy's CPU in the first minute of load after a fresh start.

  first_minute.py summarize FILE
      FILE holds bench/run's result lines (tab-separated: scenario proxy round units seconds cpu_seconds errors
      extra). The F lines are one per slice of S2's load (full handshakes) on a freshly started proxy, with
      slice=K among the key=value words. Prints a Markdown table per proxy, medians over the fresh starts: the
      CPU per handshake over the whole minute, in its first and its last slice, S2's steady-state figure from
      the same file when S2 ran, and the minute's figure as a multiple of the steady state (of the last slice
      when S2 did not run).
"""
import statistics
import sys
from collections import defaultdict


def read(path):
    """(proxy -> round -> [(slice, handshakes, cpu_s)]), proxy -> [S2 CPU per handshake, µs], proxy order."""
    first = defaultdict(lambda: defaultdict(list))
    steady = defaultdict(list)
    order = []
    with open(path) as lines:
        for line in lines:
            f = line.rstrip("\n").split("\t")
            if len(f) < 8 or int(f[3]) <= 0:
                continue
            proxy, units, cpu = f[1], int(f[3]), float(f[5])
            if f[0] == "S2":
                steady[proxy].append(cpu / units * 1e6)
            elif f[0] == "F":
                kv = dict(p.split("=", 1) for p in f[7].split() if "=" in p)
                first[proxy][f[2]].append((int(kv.get("slice", "0")), units, cpu))
                if proxy not in order:
                    order.append(proxy)
    return first, steady, order


def per_handshake(slices):
    return sum(c for _, _, c in slices) / sum(u for _, u, _ in slices) * 1e6


def summarize(path):
    first, steady, order = read(path)
    if not order:
        return
    print("### F first minute: a fresh start, then S2's load (full handshakes) for 60 s in slices")
    print()
    print("CPU of the proxy per handshake, µs; median over fresh starts (lowest-highest). The last column divides")
    print("the minute's figure by S2's steady state from this run (by the last slice's where S2 did not run).")
    print()
    print("| proxy | first 60 s | first slice | last slice | steady state (S2) | first 60 s ÷ steady |")
    print("|---|---:|---:|---:|---:|---:|")
    for proxy in order:
        rounds = [sorted(s) for s in first[proxy].values()]
        minute = [per_handshake(s) for s in rounds]
        head = [per_handshake(s[:1]) for s in rounds]
        tail = [per_handshake(s[-1:]) for s in rounds]
        ref = statistics.median(steady[proxy]) if steady[proxy] else statistics.median(tail)
        cells = [cell(minute), cell(head), cell(tail),
                 f"{statistics.median(steady[proxy]):.0f}" if steady[proxy] else "-",
                 f"{statistics.median(minute) / ref:.2f}"]
        print(f"| {proxy} | " + " | ".join(cells) + " |")
    print()


def cell(values):
    return f"{statistics.median(values):.0f} ({min(values):.0f}-{max(values):.0f})"


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "summarize":
        sys.exit(__doc__)
    summarize(sys.argv[2])
