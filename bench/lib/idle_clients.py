#!/usr/bin/env python3
"""Opens N TLS connections to host:port, completes every handshake, holds them idle, then closes them.

Usage: idle_clients.py HOST PORT N CA_FILE READY_FILE HOLD_SECONDS
Writes the number of connections that completed their handshake to READY_FILE once all attempts are
done, then holds them for at most HOLD_SECONDS (or until terminated) so the proxy's memory can be read.
"""
import asyncio
import signal
import ssl
import sys

PARALLEL = 64  # handshakes in flight at once; enough to be quick, few enough not to hit accept backlogs


async def open_one(host, port, ctx, gate, held):
    async with gate:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port, ssl=ctx, server_hostname="localhost"), 20)
            held.append(writer)
        except (OSError, asyncio.TimeoutError, ssl.SSLError) as e:
            print(f"connect failed: {e!r}", file=sys.stderr)


async def main():
    host, port, n, ca, ready, hold = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], \
        sys.argv[5], float(sys.argv[6])
    ctx = ssl.create_default_context(cafile=ca)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    gate = asyncio.Semaphore(PARALLEL)
    held = []
    await asyncio.gather(*(open_one(host, port, ctx, gate, held) for _ in range(n)))
    with open(ready, "w") as f:
        f.write(f"{len(held)}\n")
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    try:
        await asyncio.wait_for(stop.wait(), hold)
    except asyncio.TimeoutError:
        pass
    for w in held:
        w.transport.abort()


if __name__ == "__main__":
    asyncio.run(main())
