"""Soak: the gateway at a steady moderate rate for a long time, ledger on; memory and latency must stay flat.

    .venv/bin/python bench/soak.py [--minutes 30] [--rate 40] [--warmup-minutes 3]

Processes: the emulator (loopback upstream) and ``inferaudit serve`` (DuckDB
ledger on, attribution headers on every request), driven by an open-loop
client in this process: requests start on a fixed schedule (``--rate`` per
second: a mix of OpenAI JSON, OpenAI SSE and Anthropic SSE), whether or not
earlier ones have finished, so a slow gateway shows up as latency, not as
a lower rate. Every minute: the gateway's resident memory (``/proc/PID/status``
VmRSS), requests, errors, added latency p50/p99 (request time through the
gateway; the emulator answers at once). At the end: memory growth after the
warm-up (target under 10%), the spread of the per-minute percentiles, and
the ledger's row count against the requests sent (every one must be there).
Writes ``bench/out/soak.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from inferaudit.testing.ports import free_port  # noqa: E402
from inferaudit.testing.traffic import request_for  # noqa: E402

KINDS = [("openai", False), ("openai", True), ("anthropic", True)]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def wait_up(url: str, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(url) as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if time.time() > deadline:
                raise SystemExit(f"{url} did not come up")
            await asyncio.sleep(0.1)


async def soak(args, gateway_url: str, gateway_pid: int) -> list[dict]:
    minutes: list[dict] = []
    current = {"latencies": [], "errors": 0}
    connector = aiohttp.TCPConnector(limit=256)
    headers = {"x-inferaudit-user": "soak", "x-inferaudit-feature": "steady"}
    async with aiohttp.ClientSession(connector=connector) as session:
        async def one(i: int) -> None:
            kind, stream = KINDS[i % len(KINDS)]
            path, body = request_for(kind, stream, i)
            start = time.perf_counter()
            try:
                async with session.post(gateway_url + path, json=body, headers=headers) as r:
                    await r.read()
                    ok = r.status == 200
            except aiohttp.ClientError:
                ok = False
            bucket = current
            if ok:
                bucket["latencies"].append(time.perf_counter() - start)
            else:
                bucket["errors"] += 1

        def close_window() -> None:
            nonlocal current
            lat = sorted(current["latencies"])
            row = {"minute": len(minutes) + 1, "requests": len(lat) + current["errors"], "errors": current["errors"],
                   "p50_ms": 1e3 * lat[len(lat) // 2] if lat else None,
                   "p99_ms": 1e3 * lat[min(len(lat) - 1, int(0.99 * len(lat)))] if lat else None,
                   "rss_mib": rss_mib(gateway_pid)}
            minutes.append(row)
            fmt = lambda ms: f"{ms:.2f} ms" if ms is not None else "-"
            print(f"minute {row['minute']:>3}: {row['requests']:>6} req, {row['errors']} errors, p50 "
                  f"{fmt(row['p50_ms'])}, p99 {fmt(row['p99_ms'])}, RSS {row['rss_mib']:.1f} MiB", flush=True)
            current = {"latencies": [], "errors": 0}

        tasks: set[asyncio.Task] = set()
        begin = time.perf_counter()
        sent = 0
        minute_end = begin + 60
        total_end = begin + 60 * args.minutes
        while True:
            now = time.perf_counter()
            if now >= total_end:
                break
            if now >= minute_end:
                close_window()
                minute_end += 60
            due = begin + sent / args.rate
            if now < due:
                await asyncio.sleep(min(due - now, minute_end - now, total_end - now))
                continue
            task = asyncio.create_task(one(sent))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            sent += 1
        if tasks:
            await asyncio.gather(*tasks)
        if current["latencies"] or current["errors"] or not minutes:
            close_window()  # the last (possibly partial) window, with the requests still in flight at the end
    return minutes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--rate", type=float, default=40, help="requests per second")
    parser.add_argument("--warmup-minutes", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("bench/out/soak.json"))
    args = parser.parse_args()
    py = sys.executable
    work = Path(tempfile.mkdtemp(prefix="inferaudit-soak-"))
    emu_port, gw_port = free_port(), free_port()
    procs = [subprocess.Popen([py, "-m", "inferaudit.testing.emulator", "--port", str(emu_port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    config = work / "gateway.yaml"
    config.write_text(
        f"listen: {{host: 127.0.0.1, port: {gw_port}}}\n"
        "providers:\n"
        f"  openai: {{base_url: 'http://127.0.0.1:{emu_port}', protocol: openai-chat, api_key: sk-up}}\n"
        f"  anthropic: {{base_url: 'http://127.0.0.1:{emu_port}', protocol: anthropic-messages, api_key: sk-up}}\n"
        "default_providers: {openai-chat: openai, anthropic-messages: anthropic}\n")
    ledger = work / "soak.duckdb"
    cli = Path(py).parent / "inferaudit"
    gateway = subprocess.Popen([str(cli), "serve", "--config", str(config), "--ledger", str(ledger)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(gateway)
    try:
        asyncio.run(wait_up(f"http://127.0.0.1:{emu_port}/v1/models"))
        asyncio.run(wait_up(f"http://127.0.0.1:{gw_port}/healthz"))
        minutes = asyncio.run(soak(args, f"http://127.0.0.1:{gw_port}", gateway.pid))
    finally:
        gateway.send_signal(signal.SIGTERM)
        gateway.wait(60)
        for p in procs[:-1]:
            p.terminate()
            p.wait(10)
    import duckdb

    rows = duckdb.connect(str(ledger), read_only=True).execute("SELECT count(*) FROM calls").fetchone()[0]
    sent = sum(m["requests"] for m in minutes)
    after = [m for m in minutes if m["minute"] > args.warmup_minutes] or minutes
    base, last = after[0]["rss_mib"], after[-1]["rss_mib"]
    p50s, p99s = [m["p50_ms"] for m in after if m["p50_ms"]], [m["p99_ms"] for m in after if m["p99_ms"]]
    summary = {
        "date": time.strftime("%Y-%m-%d"), "minutes": args.minutes, "rate": args.rate, "requests": sent,
        "errors": sum(m["errors"] for m in minutes), "ledger_rows": rows,
        "rss_after_warmup_mib": base, "rss_end_mib": last, "rss_max_mib": max(m["rss_mib"] for m in after),
        "rss_growth": (last - base) / base,
        "p50_ms_median": statistics.median(p50s), "p50_ms_range": [min(p50s), max(p50s)],
        "p99_ms_median": statistics.median(p99s), "p99_ms_range": [min(p99s), max(p99s)],
        "cpus": os.cpu_count(), "per_minute": minutes,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=1))
    print(f"\nsoak {args.minutes:g} min at {args.rate:g} req/s: {sent:,} requests, {summary['errors']} errors, "
          f"ledger rows {rows:,} ({'all there' if rows == sent else 'MISMATCH'})")
    print(f"RSS after {args.warmup_minutes}-min warm-up {base:.1f} MiB, end {last:.1f} MiB, max "
          f"{summary['rss_max_mib']:.1f} MiB: growth {summary['rss_growth']:+.1%} (target < +10%)")
    print(f"p50 per minute {min(p50s):.2f}-{max(p50s):.2f} ms (median {summary['p50_ms_median']:.2f}); "
          f"p99 {min(p99s):.2f}-{max(p99s):.2f} ms (median {summary['p99_ms_median']:.2f})")


if __name__ == "__main__":
    main()
