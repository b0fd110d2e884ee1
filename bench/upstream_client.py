"""The gateway's upstream client against aiohttp's ClientSession: CPU and wall time per request, one run.

    .venv/bin/python bench/upstream_client.py [--requests 3000] [--rounds 3]

One loopback upstream (the emulator, its own process, pinned to CPU 0)
answers both clients; this process is pinned to CPU 1 and sends one request
at a time over one kept-alive connection, reading every body to its end:
OpenAI chat JSON and OpenAI chat SSE (the bodies of bench/gateway_overhead.py).
CPU is this process's own (``time.process_time``), so the upstream's work is
not in it. The clients alternate within each round.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import orjson
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gateway_overhead import WORKLOADS

from inferaudit.gateway.upstream import UpstreamError, UpstreamPool
from inferaudit.testing.ports import free_port

HEADERS = {"content-type": "application/json", "authorization": "Bearer sk-bench"}


async def with_aiohttp(url: str, body: bytes, n: int) -> tuple[float, float, int]:
    connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=60)
    async with aiohttp.ClientSession(connector=connector, auto_decompress=False, skip_auto_headers=("User-Agent",)) as s:
        await (await s.post(url, data=body, headers=HEADERS)).read()  # the connection opens outside the timing
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(n):
            response = await s.post(url, data=body, headers=HEADERS)
            size = sum([len(chunk) async for chunk in response.content.iter_any()])
            response.release()
        return (time.process_time() - cpu) / n * 1e6, (time.perf_counter() - wall) / n * 1e6, size


async def with_upstream_pool(url: str, body: bytes, n: int) -> tuple[float, float, int]:
    pool = UpstreamPool()
    try:
        warm = await pool.request("POST", url, HEADERS, body)
        await warm.read()
        warm.release()
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(n):
            response = await pool.request("POST", url, HEADERS, body, first_byte=120)
            size = sum([len(chunk) async for chunk in response.iter_any()])
            response.release()
        return (time.process_time() - cpu) / n * 1e6, (time.perf_counter() - wall) / n * 1e6, size
    finally:
        await pool.close()


CLIENTS = {"aiohttp ClientSession": with_aiohttp, "inferaudit UpstreamPool": with_upstream_pool}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per client per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    port = free_port()
    upstream = subprocess.Popen(["taskset", "-c", "0", sys.executable, "-m", "inferaudit.testing.emulator", "--port", str(port)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if len(os.sched_getaffinity(0)) > 1:
        os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})
    results: dict[tuple[str, str], list[tuple[float, float, int]]] = {}
    try:
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                uvloop.run(with_upstream_pool(f"http://127.0.0.1:{port}/v1/models", b"", 1))
                break
            except UpstreamError:  # not listening yet
                time.sleep(0.2)
        for workload in ("openai-json", "openai-sse"):
            w = WORKLOADS[workload]
            url, body = f"http://127.0.0.1:{port}{w['path']}", orjson.dumps(w["body"])
            for r in range(args.rounds):
                order = list(CLIENTS) if r % 2 == 0 else list(reversed(CLIENTS))
                for name in order:
                    result = uvloop.run(CLIENTS[name](url, body, args.requests))
                    results.setdefault((workload, name), []).append(result)
                    print(f"[{workload} round {r + 1}] {name:24s} CPU {result[0]:6.1f} µs/req  wall {result[1]:6.1f} µs/req",
                          file=sys.stderr)
    finally:
        upstream.terminate()
        upstream.wait()
    print(f"\n{args.requests} requests per client per round, {args.rounds} rounds, medians\n")
    print("| workload | client | CPU µs/request | wall µs/request | body bytes | CPU vs aiohttp |")
    print("|---|---|---:|---:|---:|---:|")
    for workload in ("openai-json", "openai-sse"):
        base = statistics.median(r[0] for r in results[(workload, "aiohttp ClientSession")])
        for name in CLIENTS:
            rows = results[(workload, name)]
            cpu, wall = statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows)
            print(f"| {workload} | {name} | {cpu:.1f} | {wall:.1f} | {rows[0][2]:,} | {cpu / base:.2f}x |")


if __name__ == "__main__":
    main()
