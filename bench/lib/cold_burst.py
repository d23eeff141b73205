#!/usr/bin/env python3
"""Cold-start bursts against a proxy that was just started (scenario C of bench/run).

  cold_burst.py measure START_EPOCH READY PATH PORT CA
      READY is http://HOST:PORT/PATH (ready when it answers 200: tlsproxy's /readyz) or tcp:PORT (ready when
      the port accepts: the peers). Polls every 10 ms for up to 60 s, then opens BURSTS bursts of SIZE
      connections at once, GAP seconds apart; each connection (plain HTTP for PATH=orig, TLS verified against
      CA for PATH=term) sends one GET /1k and reads the 1 KiB response. Each connection's time runs from
      before its connect to the last byte, so set-up (connect, handshakes, dial) is included. Prints one line:
      ready_s=... p50_1=... max_1=... p50_5=... max_5=... errors=...  (milliseconds; ready_s in seconds
      since START_EPOCH, the moment the proxy process was spawned).
  cold_burst.py summarize FILE
      FILE holds bench/run's lines of scenario C (tab-separated, the key=value words in the last column);
      prints a Markdown table: per proxy and path, the median over fresh starts and the range.
"""
import asyncio
import os
import ssl
import statistics
import sys
import time
import urllib.request
from collections import defaultdict

# The scenario is 5 bursts of 50; a smoke test of the script itself may make them smaller.
BURSTS = int(os.environ.get("COLD_BURSTS", "5"))
SIZE = int(os.environ.get("COLD_SIZE", "50"))
GAP = 0.5
REQUEST = b"GET /1k HTTP/1.1\r\nHost: localhost\r\n\r\n"


async def ready(target, deadline):
    while time.time() < deadline:
        try:
            if target.startswith("tcp:"):
                _, w = await asyncio.open_connection("127.0.0.1", int(target[4:]))
                w.close()
                return True
            code = await asyncio.to_thread(lambda: urllib.request.urlopen(target, timeout=1).status)
            if code == 200:
                return True
        except OSError:
            pass
        await asyncio.sleep(0.01)
    return False


async def one(port, ctx):
    t = time.perf_counter()
    r, w = await asyncio.wait_for(asyncio.open_connection(
        "127.0.0.1", port, ssl=ctx, server_hostname="localhost" if ctx else None), 30)
    w.write(REQUEST)
    head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 30)
    if b" 200 " not in head.split(b"\r\n", 1)[0]:
        raise OSError("status: " + head.split(b"\r\n", 1)[0].decode(errors="replace"))
    await asyncio.wait_for(r.readexactly(1024), 30)
    w.close()
    return (time.perf_counter() - t) * 1e3


async def measure(start, target, path, port, ca):
    if not await ready(target, time.time() + 60):
        print("ready_s=- errors=not_ready")
        return
    ready_s = time.time() - start
    ctx = None
    if path == "term":
        ctx = ssl.create_default_context(cafile=ca)
    bursts, errors = [], 0
    for i in range(BURSTS):
        began = time.perf_counter()
        results = await asyncio.gather(*[one(port, ctx) for _ in range(SIZE)], return_exceptions=True)
        ok = sorted(x for x in results if isinstance(x, float))
        errors += len(results) - len(ok)
        bursts.append(ok)
        if i < BURSTS - 1:
            await asyncio.sleep(max(0.0, GAP - (time.perf_counter() - began)))

    def p50(x):
        return f"{statistics.median(x):.1f}" if x else "-"

    def mx(x):
        return f"{max(x):.1f}" if x else "-"

    print(f"ready_s={ready_s:.3f} p50_1={p50(bursts[0])} max_1={mx(bursts[0])} p50_5={p50(bursts[-1])} "
          f"max_5={mx(bursts[-1])} errors={errors}")


def summarize(path):
    rows = defaultdict(lambda: defaultdict(list))
    order = []
    with open(path) as lines:
        for line in lines:
            f = line.rstrip("\n").split("\t")
            if len(f) < 8 or f[0] != "C":
                continue
            kv = dict(p.split("=", 1) for p in f[7].split() if "=" in p)
            key = (f[1], kv.get("path", "?"))
            if key not in order:
                order.append(key)
            for k in ("ready_s", "p50_1", "max_1", "p50_5"):
                if kv.get(k, "-") != "-":
                    rows[key][k].append(float(kv[k]))
    print("### C cold start: fresh start, then 5 bursts of 50 new connections 0.5 s apart, one GET /1k each")
    print()
    print("Median over fresh starts (lowest-highest). Times in ms from before connect to the last byte.")
    print()
    print("| proxy | path | start to ready, s | first burst p50 | first burst max | fifth burst p50 |")
    print("|---|---|---:|---:|---:|---:|")
    for key in order:
        cells = []
        for k in ("ready_s", "p50_1", "max_1", "p50_5"):
            v = rows[key][k]
            cells.append(f"{statistics.median(v):.{3 if k == 'ready_s' else 1}f} ({min(v):g}-{max(v):g})"
                         if v else "-")
        print(f"| {key[0]} | {key[1]} | " + " | ".join(cells) + " |")
    print()


if __name__ == "__main__":
    if sys.argv[1] == "summarize":
        summarize(sys.argv[2])
    else:
        asyncio.run(measure(float(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6]))
