"""Audit speed against ccusage on ~1 GB of Claude Code logs, side by side in one run.

    python bench/audit_speed.py [--size-mb 1024] [--repeats 3]

Scales the bundled real Claude Code sessions (data/samples/claude-code) to
about --size-mb by copying them with fresh session, message, request and
line ids and shifted timestamps, then times, in turn:

  * ``inferaudit audit DIR --json`` cold (a new ledger each time),
  * ``inferaudit audit DIR --json`` warm (the same ledger again: nothing changed),
  * ``ccusage claude session --offline --json`` (npm ccusage@20.0.24, its
    linux-x64 native binary; pointed at the copy with CLAUDE_CONFIG_DIR).

Wall time is measured around each process; peak memory is the largest total
resident set of the process and its children, sampled from /proc every 20 ms.
It also checks that both tools agree on the total cost. Prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "data" / "samples" / "claude-code" / "spotter"
OUT = ROOT / "bench" / "out"
CCUSAGE_VERSION = "20.0.24"

_ID = re.compile(rb'"(msg_[A-Za-z0-9]+|req_[A-Za-z0-9]+)"')
_UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_TS = re.compile(rb'"timestamp":"(\d{4}-\d{2}-\d{2})T')


def scale(target_bytes: int, dest: Path) -> tuple[int, int]:
    """Copy the sample sessions into dest/projects/p<k>/ until target_bytes; return (bytes, copies)."""
    marker = dest / f".complete-{target_bytes}"
    if marker.exists():
        return int(marker.read_text()), len(list((dest / "projects").iterdir()))
    shutil.rmtree(dest, ignore_errors=True)
    files = sorted(p for p in SAMPLES.rglob("*.jsonl"))
    originals = {p: p.read_bytes() for p in files}
    written, k = 0, 0
    while written < target_bytes:
        suffix = f"{k:04x}".encode()
        fresh = lambda m: m.group(0)[:-4] + suffix  # noqa: E731  same length, new id per copy
        shift = timedelta(days=k % 300)
        redate = lambda m: b'"timestamp":"' + (datetime.fromisoformat(m.group(1).decode()) + shift).date().isoformat().encode() + b"T"  # noqa: E731
        for path, data in originals.items():
            data = _UUID.sub(fresh, data)
            data = _ID.sub(lambda m: b'"' + m.group(1) + b"_" + suffix + b'"', data)
            data = _TS.sub(redate, data)
            rel = path.relative_to(SAMPLES)
            rel = Path(_UUID.sub(fresh, str(rel).encode()).decode())
            target = dest / "projects" / f"p{k}" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            written += len(data)
        k += 1
    marker.write_text(str(written))
    return written, k


def ccusage_binary() -> Path:
    prefix = OUT / "node"
    binary = prefix / "node_modules" / "@ccusage" / "ccusage-linux-x64" / "bin" / "ccusage"
    if not binary.exists():
        prefix.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund",
                        f"ccusage@{CCUSAGE_VERSION}"], check=True, capture_output=True)
    return prefix / "node_modules" / ".bin" / "ccusage"


def _tree_rss(pid: int) -> int:
    total = 0
    pids = [pid]
    while pids:
        p = pids.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
                        break
            with open(f"/proc/{p}/task/{p}/children") as fh:
                pids.extend(int(c) for c in fh.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, int, bytes]:
    """Wall seconds, peak tree RSS bytes, and stdout of one run."""
    out = tempfile.TemporaryFile()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL, env=env)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            done.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    code = proc.wait()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    if code != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {code}")
    out.seek(0)
    return wall, peak, out.read()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    data = OUT / f"claude-{args.size_mb}mb"
    size, copies = scale(args.size_mb << 20, data)
    ccusage = ccusage_binary()
    inferaudit = str(Path(sys.executable).parent / "inferaudit")
    ledger = OUT / "bench-ledger.duckdb"
    env = {**os.environ, "CLAUDE_CONFIG_DIR": str(data)}
    audit_cmd = [inferaudit, "audit", str(data / "projects"), "--ledger", str(ledger), "--json", "-q"]
    cc_cmd = [str(ccusage), "claude", "session", "--offline", "--json"]

    results: dict[str, list[tuple[float, int]]] = {"cold": [], "warm": [], "ccusage": []}
    outputs = {}
    for _ in range(args.repeats):
        for name in ("ccusage", "cold", "warm"):
            if name == "cold":
                for p in (ledger, Path(str(ledger) + ".wal")):
                    p.unlink(missing_ok=True)
            wall, peak, stdout = timed(cc_cmd if name == "ccusage" else audit_cmd, env)
            results[name].append((wall, peak))
            outputs[name] = stdout

    ours = json.loads(outputs["warm"])["totals"]["cost_usd"]
    theirs = sum(s["totalCost"] for s in json.loads(outputs["ccusage"])["sessions"])
    cc_wall = statistics.median(w for w, _ in results["ccusage"])
    print(f"\n{size / 2**20:.0f} MiB of Claude Code logs ({copies} copies of the 3 bundled sessions + subagents), "
          f"{args.repeats} runs each, {datetime.now().date()}, {os.cpu_count()} cores\n")
    print(f"| command | wall median (s) | wall min-max (s) | peak RSS (MiB) | vs ccusage |")
    print(f"|---|---:|---:|---:|---:|")
    for name, label in (("ccusage", f"ccusage {CCUSAGE_VERSION} claude session --offline --json"),
                        ("cold", "inferaudit audit --json, cold (new ledger)"),
                        ("warm", "inferaudit audit --json, warm (same ledger)")):
        walls = [w for w, _ in results[name]]
        peak = max(p for _, p in results[name]) / 2**20
        med = statistics.median(walls)
        ratio = "1.00x" if name == "ccusage" else (f"{cc_wall / med:.2f}x faster" if med < cc_wall else f"{med / cc_wall:.2f}x slower")
        print(f"| {label} | {med:.2f} | {min(walls):.2f}-{max(walls):.2f} | {peak:.0f} | {ratio} |")
    print(f"\ntotal cost: inferaudit ${ours:,.2f}, ccusage ${theirs:,.2f} ({(ours - theirs) / theirs:+.3%})")


if __name__ == "__main__":
    main()
