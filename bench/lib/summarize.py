#!/usr/bin/env python3
"""Turns the raw lines of bench/run (one per measurement) into Markdown tables.

Input columns (tab-separated): scenario proxy round units seconds cpu_seconds errors extra.
For every scenario and proxy: the median over rounds, the spread (lowest and highest round), and the
ratio to the best peer, where peers are every proxy other than tlsproxy and its engine variants.
Throughput is compared with the fastest peer, CPU per unit with the peer that spends the least; the
two are often different peers.

The optional second file holds the warm-up runs in the same format (their last run per proxy and
scenario carries warmup=idle or warmup=cap). Under each table, a list gives every proxy's warm-up time
with the CPU its JIT compiler spent in it, and the compiler threads' median share of the proxy's CPU in
the measured runs (the jit= field), which shows whether the compiler was still busy while measured.
"""
import statistics
import sys
from collections import defaultdict

SCENARIOS = {
    "S1": ("S1 terminate, keep-alive: wrk https -> proxy -> http backend, 1 KiB responses",
           "req/s", "CPU µs/req"),
    "S2": ("S2 full handshake per request: new connection and no resumption, ECDSA P-256, X25519",
           "handshakes/s", "CPU µs/handshake"),
    "S2r": ("S2r resumed handshake per request: new connection, the client offers its last session",
            "handshakes/s", "CPU µs/handshake"),
    "S3": ("S3 bulk tunnel: iperf3 -> proxy (originate) -> proxy (terminate) -> iperf3, one stream",
           "MB/s", "CPU s/GB (both legs)"),
    "S4": ("S4 originate, keep-alive: wrk http -> proxy -> https backend, 1 KiB responses",
           "req/s", "CPU µs/req"),
    "S4c": ("S4c originate, new connection per request: wrk http -> proxy -> https backend (set-up latency)",
            "req/s", "CPU µs/req"),
    "S5": ("S5 idle TLS connections held open (growth of the proxy's anonymous PSS / connections)",
           "KiB/conn", "PSS before, MiB"),
}


def is_peer(proxy):
    return not proxy.startswith("tlsproxy")


def fields(extra):
    """The key=value words of the extra column."""
    return dict(p.split("=", 1) for p in extra.split() if "=" in p)


def jit_share(extra):
    """The compiler threads' share of the run's CPU: a fraction, "-" without compiler threads, or None."""
    jit = fields(extra).get("jit")
    return jit if jit in (None, "-") else float(jit)


def read(path):
    """scenario -> proxy -> [(units, seconds, cpu, errors, extra)], and the proxies in order of appearance."""
    data = defaultdict(lambda: defaultdict(list))
    order = []
    with open(path) as lines:
        for line in lines:
            f = line.rstrip("\n").split("\t")
            if len(f) < 8:
                continue
            scenario, proxy = f[0], f[1]
            if proxy not in order:
                order.append(proxy)
            data[scenario][proxy].append((int(f[3]), float(f[4]), float(f[5]), int(f[6]), f[7]))
    return data, order


def percent(x):
    return f"{x * 100:.1f} %"


def warm_up_note(proxy, rows):
    """How long PROXY was warmed up, what its compiler spent meanwhile, and what ended the warm-up."""
    shares = [(cpu, jit_share(extra)) for _, _, cpu, _, extra in rows]
    compiled = [cpu * jit for cpu, jit in shares if isinstance(jit, float)]
    details = [f"compiler {fmt(sum(compiled))} CPU-s"] if compiled else []
    stop, last = fields(rows[-1][4]).get("warmup"), shares[-1][1]
    if stop == "cap" and isinstance(last, float):
        details.append(f"cap reached, {percent(last)} in the last run")
    elif stop is None:
        details.append("ended by a failed run")
    text = f"{proxy} {sum(round(seconds) for _, seconds, *_ in rows)} s"
    return text + (f" ({', '.join(details)})" if details else "")


def compiler_notes(runs, warmups, order):
    """List items under a scenario's table: the warm-up per proxy, and the compiler's share while measured."""
    notes = []
    warmed = [warm_up_note(proxy, warmups[proxy]) for proxy in order if proxy in warmups]
    if warmed:
        notes.append("- warm-up: " + ", ".join(warmed))
    busy, without = [], []
    for proxy in order:
        shares = [jit_share(extra) for *_, extra in runs.get(proxy, [])]
        if shares and all(j == "-" for j in shares):
            without.append(proxy)
        elif shares and all(isinstance(j, float) for j in shares):
            busy.append(f"{proxy} {percent(statistics.median(shares))}")
    if busy:
        note = "- JIT compiler threads' share of the proxy's CPU in the measured runs (median): " + ", ".join(busy)
        notes.append(note + (f"; no compiler threads in {', '.join(without)}" if without else ""))
    return notes


def measures(scenario, rows):
    """Per-round (primary, secondary) figures of one proxy; primary higher is better except S5."""
    out = []
    for units, seconds, cpu, errors, extra in rows:
        if scenario == "S5":
            kv = fields(extra)
            pss0, pss1 = int(kv["pss0_kb"]), int(kv["pss1_kb"])
            anon0, anon1 = int(kv.get("anon0_kb", 0)), int(kv.get("anon1_kb", 0))
            grown = anon1 - anon0 if anon0 or anon1 else pss1 - pss0
            out.append((grown / units, pss0 / 1024, errors))
        elif scenario == "S3":
            gb = units / 1e9
            out.append((units / 1e6 / seconds, cpu / gb if gb else float("nan"), errors))
        else:
            p99 = fields(extra).get("p99_us")
            out.append((units / seconds, cpu * 1e6 / units if units else float("nan"), errors,
                        int(p99) / 1000 if p99 else float("nan")))
    return out


def fmt(x):
    if x != x:
        return "n/a"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def main():
    data, order = read(sys.argv[1])
    warmups, warmed = read(sys.argv[2]) if len(sys.argv) > 2 else ({}, [])
    everyone = order + [p for p in warmed if p not in order]

    overview = []
    for scenario, (title, primary, secondary) in SCENARIOS.items():
        if scenario not in data:
            continue
        lower_better = scenario == "S5"
        med = {}
        for proxy in order:
            if proxy in data[scenario]:
                m = measures(scenario, data[scenario][proxy])
                med[proxy] = (statistics.median(x[0] for x in m), statistics.median(x[1] for x in m),
                              min(x[0] for x in m), max(x[0] for x in m), sum(x[2] for x in m), len(m),
                              statistics.median(x[3] for x in m) if len(m[0]) > 3 else None)
        peers = [p for p in med if is_peer(p)]
        best = best2 = None
        if peers:
            pick = min if lower_better else max
            best = pick(peers, key=lambda p: med[p][0])
            if scenario != "S5":
                best2 = min(peers, key=lambda p: med[p][1])
        print(f"### {title}\n")
        if scenario == "S5":
            print(f"| proxy | {primary} (median) | spread (min-max) | × best peer | {secondary} | failed | runs |")
            print("|---|---:|---:|---:|---:|---:|---:|")
        else:
            print(f"| proxy | {primary} (median) | spread (min-max) | × best peer | {secondary} (median) "
                  f"| × lowest peer | p99 ms | errors | runs |")
            print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for proxy, (v, c, lo, hi, err, n, p99) in med.items():
            r1 = fmt(v / med[best][0]) if best else "-"
            if scenario == "S5":
                print(f"| {proxy} | {fmt(v)} | {fmt(lo)}-{fmt(hi)} | {r1} | {fmt(c)} | {err} | {n} |")
            else:
                r2 = fmt(c / med[best2][1]) if best2 else "-"
                print(f"| {proxy} | {fmt(v)} | {fmt(lo)}-{fmt(hi)} | {r1} | {fmt(c)} | {r2} "
                      f"| {fmt(p99) if p99 is not None else '-'} | {err} | {n} |")
        print()
        notes = compiler_notes(data[scenario], warmups.get(scenario, {}), everyone)
        if notes:
            print("\n".join(notes) + "\n")
        for proxy in med:
            if not is_peer(proxy) and best:
                row = [scenario, primary, proxy, fmt(med[proxy][0]), f"{best} {fmt(med[best][0])}",
                       fmt(med[proxy][0] / med[best][0])]
                if best2:
                    row += [fmt(med[proxy][1]), f"{best2} {fmt(med[best2][1])}",
                            fmt(med[proxy][1] / med[best2][1])]
                else:
                    row += ["-", "-", "-"]
                overview.append(row)

    if overview:
        print("### tlsproxy against the best peer\n")
        print("| scenario | figure | proxy | value | best peer | × | CPU per unit | lowest-CPU peer | × |")
        print("|---|---|---|---:|---|---:|---:|---|---:|")
        for row in overview:
            print("| " + " | ".join(row) + " |")
        print()


if __name__ == "__main__":
    main()
