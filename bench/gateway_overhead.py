"""Gateway overhead: direct vs a bare relay vs the inferaudit gateway vs the LiteLLM proxy, one run.

    .venv/bin/python bench/gateway_overhead.py [--seconds 3] [--warmup 1] [--rounds 2] [--no-litellm]

One loopback upstream (the emulator, one process) answers every target:

1. ``direct``: the load generator talks to the emulator itself;
2. ``relay``: a bare ~40-line aiohttp server + aiohttp client session
   (below, ``relay_main``) that parses nothing and forwards bytes, streams
   included: the near-limit reference for a Python proxy;
3. ``inferaudit``: ``inferaudit serve`` (uvicorn, httptools, uvloop) with
   the ledger on (a DuckDB file), usage parsed, attribution headers sent;
4. ``litellm``: the LiteLLM proxy (``litellm[proxy]==LITELLM_VERSION``,
   installed by this script into ``bench/out/litellm-venv``), no database,
   local cost map, one worker.

Workloads: OpenAI chat JSON, OpenAI chat SSE (``stream_options.include_usage``
on, so every target relays the same bytes), Anthropic messages SSE; each
at concurrency 1 and 32. The load generator is an aiohttp client in its own
process; every response is read to its end and checked (status 200, JSON
with usage, or a stream ending in ``[DONE]`` / ``message_stop``).

Placement on a 2-core machine (``--placement pinned``, the default): the
emulator, the load generator and this script share CPU 0; every proxy has
CPU 1 (all proxies run for the whole benchmark, only the one measured gets
traffic). So ``direct`` uses one core and a proxy adds one; a proxy's
throughput at concurrency 32 is capped by whichever core saturates first,
which is why the table shows each proxy's CPU per request and share of its
core. ``--placement shared`` leaves placement to the scheduler.

Rounds run every cell again with the targets in a rotated order. The
machine is shared, so CPU used by processes that are not ours is measured
from ``/proc/stat`` during every cell (and a cell waits up to
``--quiet-wait`` seconds for it to drop first); per cell, only the rounds
with at most ``--max-foreign`` cores of it count (else the least disturbed
round, marked †): their latencies are pooled (p50, p99), their throughputs
give a median. Gateway ledger rows are counted after the gateway has shut
down (its writer flushes on shutdown) and compared with the number of
requests it answered (smoke tests and warm-ups included).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

LITELLM_VERSION = "1.106.12"
# 1.109+ / 1.110+ pin companion wheels (litellm-proxy, litellm-proxy-extras 0.4.113+) that the
# package registry reachable here does not serve; 1.106.12 is the newest whose [proxy] extra installs.

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
WORK = OUT / "gateway-overhead"
LITELLM_VENV = OUT / "litellm-venv"
TARGETS = ("direct", "relay", "inferaudit", "litellm")
HZ = os.sysconf("SC_CLK_TCK")

CLIENT_KEY = "sk-bench-" + secrets.token_hex(20)
"""The key every client request carries: LiteLLM's master key (it refuses to start without a strong one);
the emulator accepts any key, and the gateway, with no virtual keys configured, checks none."""
PROMPT = [{"role": "user", "content": "Summarise the plot of Hamlet in two sentences, then name three themes."}]
ATTRIBUTION = {"x-inferaudit-user": "bench-user", "x-inferaudit-feature": "overhead-bench",
               "x-inferaudit-task": "gateway-overhead"}
WORKLOADS = {
    "openai-json": {
        "path": "/v1/chat/completions", "check": "json",
        "headers": {"authorization": "Bearer " + CLIENT_KEY, "content-type": "application/json", **ATTRIBUTION},
        "body": {"model": "gpt-4o-mini", "messages": PROMPT, "max_tokens": 256},
    },
    "openai-sse": {
        "path": "/v1/chat/completions", "check": "openai-sse",
        "headers": {"authorization": "Bearer " + CLIENT_KEY, "content-type": "application/json", **ATTRIBUTION},
        "body": {"model": "gpt-4o-mini", "messages": PROMPT, "max_tokens": 256, "stream": True,
                 "stream_options": {"include_usage": True}},
    },
    "anthropic-sse": {
        "path": "/v1/messages", "check": "anthropic-sse",
        "headers": {"x-api-key": CLIENT_KEY, "anthropic-version": "2023-06-01",
                    "content-type": "application/json", **ATTRIBUTION},
        "body": {"model": "claude-haiku-4-5", "messages": PROMPT, "max_tokens": 256, "stream": True},
    },
}


# --------------------------------------------------------------------------------------------
# the bare relay (runs as its own process: `gateway_overhead.py --role relay PORT UPSTREAM`)
# --------------------------------------------------------------------------------------------

async def relay_main(port: int, upstream: str) -> None:
    from aiohttp import ClientSession, ClientTimeout, TCPConnector, web

    hop = {"host", "content-length", "transfer-encoding", "connection", "keep-alive"}
    session = ClientSession(connector=TCPConnector(limit=0), auto_decompress=False,
                            timeout=ClientTimeout(total=None), skip_auto_headers=("User-Agent",))

    async def handle(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in hop}
        async with session.request(request.method, upstream + request.path_qs, data=body, headers=headers) as up:
            out = web.StreamResponse(status=up.status,
                                     headers={k: v for k, v in up.headers.items() if k.lower() not in hop})
            if up.content_length is not None:
                out.content_length = up.content_length
            await out.prepare(request)
            async for chunk in up.content.iter_any():
                await out.write(chunk)
            await out.write_eof()
            return out

    app = web.Application(client_max_size=64 << 20)
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, backlog=1024).start()
    print("relay ready", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()
    await session.close()


# --------------------------------------------------------------------------------------------
# the load generator (its own process: `gateway_overhead.py --role loadgen`, JSON lines on stdin)
# --------------------------------------------------------------------------------------------

def _check(kind: str, status: int, body: bytes) -> str | None:
    if status != 200:
        return f"HTTP {status}: {body[:200]!r}"
    if kind == "json":
        if not (body.rstrip().endswith(b"}") and b'"usage"' in body and b'"choices"' in body):
            return f"not a chat completion: {body[:200]!r}"
    elif kind == "openai-sse":
        if not body.rstrip().endswith(b"data: [DONE]"):
            return f"stream did not end with [DONE]: ...{body[-200:]!r}"
    elif kind == "anthropic-sse":
        if b"message_stop" not in body[-300:]:
            return f"stream did not end with message_stop: ...{body[-300:]!r}"
    return None


async def run_cell(spec: dict) -> dict:
    import aiohttp

    url, kind, conc = spec["url"], spec["check"], spec["concurrency"]
    body = json.dumps(spec["body"]).encode()
    headers = spec["headers"]
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    latencies: list[float] = []
    done_in_window = 0
    sent = ok = errors = nbytes = 0
    first_error: str | None = None
    async with aiohttp.ClientSession(connector=connector, auto_decompress=False,
                                     timeout=aiohttp.ClientTimeout(total=60)) as session:
        start = time.perf_counter()
        warm_end = start + spec["warmup"]
        end = warm_end + spec["seconds"]
        limit = spec.get("requests")  # a fixed count instead of a duration (smoke tests)

        async def worker() -> None:
            nonlocal done_in_window, sent, ok, errors, nbytes, first_error
            while True:
                if limit is not None:
                    if sent >= limit:
                        return
                elif time.perf_counter() >= end:
                    return
                sent += 1
                t0 = time.perf_counter()
                try:
                    async with session.post(url, data=body, headers=headers) as resp:
                        data = await resp.read()  # to the end of the body / stream
                        status = resp.status
                    problem = _check(kind, status, data)
                except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError) as exc:
                    problem = f"{type(exc).__name__}: {exc}"
                    data = b""
                t1 = time.perf_counter()
                if problem:
                    errors += 1
                    first_error = first_error or problem
                    continue
                ok += 1
                nbytes += len(data)
                if t0 >= warm_end and t1 <= end:
                    latencies.append((t1 - t0) * 1000.0)
                if warm_end <= t1 <= end:
                    done_in_window += 1

        await asyncio.gather(*(worker() for _ in range(conc)))
    return {"latencies": latencies, "done_in_window": done_in_window, "sent": sent, "ok": ok, "errors": errors,
            "first_error": first_error, "avg_bytes": nbytes / ok if ok else 0}


async def loadgen_main() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    print(json.dumps({"ready": True}), flush=True)
    while line := await reader.readline():
        spec = json.loads(line)
        try:
            result = await run_cell(spec)
        except Exception as exc:  # report, never die mid-benchmark
            result = {"latencies": [], "done_in_window": 0, "sent": 0, "ok": 0, "errors": 1,
                      "first_error": f"loadgen: {type(exc).__name__}: {exc}", "avg_bytes": 0}
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()


def run_loop(coro) -> None:
    try:
        import uvloop
        uvloop.run(coro)
    except ImportError:
        asyncio.run(coro)


# --------------------------------------------------------------------------------------------
# the orchestrator
# --------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, timeout: float) -> str | None:
    """None once GET url answers; else why not."""
    import urllib.error
    import urllib.request

    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            return f"exited with code {proc.returncode}"
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                r.read()
                return None
        except urllib.error.HTTPError:
            return None  # it answers
        except OSError:
            time.sleep(0.2)
    return f"no answer on {url} within {timeout:.0f}s"


def proc_cpu_ticks() -> dict[int, tuple[int, int]]:
    """pid -> (ppid, utime+stime ticks) for every process."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                raw = fh.read()
        except OSError:
            continue
        fields = raw[raw.rfind(b")") + 2:].split()
        out[int(entry)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    return out


def tree_ticks(snapshot: dict[int, tuple[int, int]], root: int) -> int:
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in snapshot.items():
        children.setdefault(ppid, []).append(pid)
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        if pid in snapshot:
            total += snapshot[pid][1]
        stack.extend(children.get(pid, ()))
    return total


def busy_ticks() -> int:
    with open("/proc/stat") as fh:
        parts = fh.readline().split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in parts[:8])
    return user + nice + system + irq + softirq + steal


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


class Bench:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs: list = []
        self.urls: dict[str, str] = {}
        self.unavailable: dict[str, str] = {}
        self.pinned = args.placement == "pinned" and (os.cpu_count() or 1) >= 2
        self.gateway_requests = 0

    # -- processes ---------------------------------------------------------------

    def spawn(self, name: str, cmd: list[str], cpus: set[int] | None, env: dict | None = None,
              stdout=None, stdin=None) -> subprocess.Popen:
        log = open(WORK / f"{name}.log", "wb")
        self.logs.append(log)

        def place() -> None:
            if cpus is not None and self.pinned:
                os.sched_setaffinity(0, cpus)

        proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **(env or {})}, preexec_fn=place,
                                stdout=stdout if stdout is not None else log, stderr=log, stdin=stdin,
                                start_new_session=True)
        self.procs[name] = proc
        return proc

    def stop(self, name: str, timeout: float = 30.0) -> None:
        proc = self.procs.get(name)
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGINT)
            proc.wait(timeout)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(5)

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.stop(name, timeout=10)
        for log in self.logs:
            log.close()

    def start(self) -> None:
        if WORK.exists():
            shutil.rmtree(WORK)
        WORK.mkdir(parents=True)
        if self.pinned:
            os.sched_setaffinity(0, {0})
        py = sys.executable
        port = free_port()
        self.spawn("emulator", [py, "-m", "inferaudit.testing.emulator", "--port", str(port)], {0})
        emulator_url = f"http://127.0.0.1:{port}"
        why = wait_http(emulator_url + "/v1/models", self.procs["emulator"], 30)
        if why:
            raise SystemExit(f"emulator did not start: {why}")
        self.urls["direct"] = emulator_url

        port = free_port()
        self.spawn("relay", [py, str(Path(__file__).resolve()), "--role", "relay", str(port), emulator_url], {1})
        self.urls["relay"] = f"http://127.0.0.1:{port}"

        port = free_port()
        ledger = WORK / "gateway-ledger.duckdb"
        config = WORK / "gateway.yaml"
        config.write_text(
            f"listen: {{host: 127.0.0.1, port: {port}}}\n"
            f"ledger: {ledger}\n"
            "providers:\n"
            f"  openai: {{base_url: '{emulator_url}', protocol: openai-chat, api_key: sk-upstream-openai}}\n"
            f"  anthropic: {{base_url: '{emulator_url}', protocol: anthropic-messages, api_key: sk-ant-upstream}}\n"
            "default_providers: {openai-chat: openai, anthropic-messages: anthropic}\n"
        )
        inferaudit = Path(sys.executable).parent / "inferaudit"
        self.spawn("inferaudit", [str(inferaudit), "serve", "--config", str(config)], {1})
        self.urls["inferaudit"] = f"http://127.0.0.1:{port}"

        for name, path in (("relay", "/v1/models"), ("inferaudit", "/healthz")):
            why = wait_http(self.urls[name] + path, self.procs[name], 60)
            if why:
                raise SystemExit(f"{name} did not start: {why} (log: {WORK / (name + '.log')})")

        if self.args.no_litellm or "litellm" not in self.args.targets:
            self.unavailable["litellm"] = "skipped (--no-litellm)"
        else:
            self.start_litellm(emulator_url)

        self.loadgen = self.spawn("loadgen", [py, str(Path(__file__).resolve()), "--role", "loadgen"], {0},
                                  stdout=subprocess.PIPE, stdin=subprocess.PIPE)
        ready = json.loads(self.loadgen.stdout.readline() or b"{}")
        if not ready.get("ready"):
            raise SystemExit(f"load generator did not start (log: {WORK / 'loadgen.log'})")

    def start_litellm(self, emulator_url: str) -> None:
        exe = LITELLM_VENV / "bin" / "litellm"
        python = LITELLM_VENV / "bin" / "python"
        if not exe.exists():
            print(f"installing litellm[proxy]=={LITELLM_VERSION} into {LITELLM_VENV} (once) ...", flush=True)
            try:
                if not python.exists():
                    subprocess.run([sys.executable, "-m", "venv", str(LITELLM_VENV)], check=True, timeout=120)
                result = subprocess.run([str(python), "-m", "pip", "install", "-q", f"litellm[proxy]=={LITELLM_VERSION}"],
                                        capture_output=True, text=True, timeout=900)
            except (subprocess.SubprocessError, OSError) as exc:
                self.unavailable["litellm"] = f"could not be installed: {exc}"
                return
            if result.returncode != 0 or not exe.exists():
                lines = [ln for ln in (result.stderr or result.stdout).strip().splitlines() if not ln.startswith("WARNING")]
                tail = " | ".join(ln if len(ln) <= 200 else ln[:200] + " ..." for ln in lines[-2:])
                self.unavailable["litellm"] = f"could not be installed: pip exit {result.returncode}: {tail}"
                return
        version = subprocess.run([str(python), "-c", "import importlib.metadata as m; print(m.version('litellm'))"],
                                 capture_output=True, text=True).stdout.strip()
        if version != LITELLM_VERSION:
            print(f"warning: {LITELLM_VENV} has litellm {version or '?'}, not the pinned {LITELLM_VERSION}", flush=True)
        self.litellm_version = version
        port = free_port()
        config = WORK / "litellm.yaml"
        config.write_text(
            "model_list:\n"
            "  - model_name: gpt-4o-mini\n"
            "    litellm_params:\n"
            "      model: openai/gpt-4o-mini\n"
            f"      api_base: {emulator_url}/v1\n"
            "      api_key: sk-upstream-openai\n"
            "  - model_name: claude-haiku-4-5\n"
            "    litellm_params:\n"
            "      model: anthropic/claude-haiku-4-5\n"
            f"      api_base: {emulator_url}\n"
            "      api_key: sk-ant-upstream\n"
            "litellm_settings:\n"
            "  telemetry: false\n"
            "  drop_params: true\n"
            "  set_verbose: false\n"
            "  json_logs: false\n"
            "general_settings:\n"
            f"  master_key: {CLIENT_KEY}\n"
            "  disable_spend_logs: true\n"
            "  disable_error_logs: true\n"
        )
        env = {"LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_TELEMETRY": "False", "LITELLM_LOG": "ERROR",
               "DISABLE_ADMIN_UI": "True", "HF_HUB_OFFLINE": "1", "NO_PROXY": "*",
               "DATABASE_URL": "", "REDIS_HOST": "", "LITELLM_DONT_SHOW_FEEDBACK_BOX": "true"}
        env = {k: v for k, v in env.items() if v}
        for var in ("DATABASE_URL", "REDIS_HOST", "REDIS_URL", "OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
            os.environ.pop(var, None)
        print(f"starting litellm {version} proxy ...", flush=True)
        self.spawn("litellm", [str(exe), "--config", str(config), "--host", "127.0.0.1", "--port", str(port),
                               "--num_workers", "1", "--telemetry", "False"], {1}, env=env)
        why = wait_http(f"http://127.0.0.1:{port}/health/liveliness", self.procs["litellm"], 240)
        if why:
            log = (WORK / "litellm.log").read_text(errors="replace").strip().splitlines()[-3:]
            self.unavailable["litellm"] = f"did not start: {why}: {' | '.join(log)}"
            self.stop("litellm", 10)
            return
        self.urls["litellm"] = f"http://127.0.0.1:{port}"

    # -- cells -------------------------------------------------------------------

    def cell(self, target: str, workload: str, conc: int, warmup: float, seconds: float,
             requests: int | None = None) -> dict:
        w = WORKLOADS[workload]
        spec = {"url": self.urls[target] + w["path"], "check": w["check"], "headers": w["headers"],
                "body": w["body"], "concurrency": conc, "warmup": warmup, "seconds": seconds,
                "requests": requests}
        roots = {name: p.pid for name, p in self.procs.items() if p.poll() is None}
        snap0, busy0, t0 = proc_cpu_ticks(), busy_ticks(), time.perf_counter()
        self.loadgen.stdin.write((json.dumps(spec) + "\n").encode())
        self.loadgen.stdin.flush()
        result = json.loads(self.loadgen.stdout.readline())
        snap1, busy1, elapsed = proc_cpu_ticks(), busy_ticks(), time.perf_counter() - t0
        ours = 0.0
        cpu = {}
        for name, pid in roots.items():
            delta = (tree_ticks(snap1, pid) - tree_ticks(snap0, pid)) / HZ
            cpu[name] = delta
            ours += delta
        me = os.getpid()
        ours += (snap1.get(me, (0, 0))[1] - snap0.get(me, (0, 0))[1]) / HZ
        result["cpu_s"] = cpu
        result["elapsed"] = elapsed
        result["foreign_cores"] = max(0.0, (busy1 - busy0) / HZ - ours) / elapsed
        if target == "inferaudit":
            self.gateway_requests += result["ok"] + result["errors"]
        return result

    def foreign_cores(self, window: float) -> float:
        """Cores used by processes not ours over the next ``window`` seconds."""
        roots = [p.pid for p in self.procs.values() if p.poll() is None] + [os.getpid()]
        snap0, busy0, t0 = proc_cpu_ticks(), busy_ticks(), time.perf_counter()
        time.sleep(window)
        snap1, busy1, elapsed = proc_cpu_ticks(), busy_ticks(), time.perf_counter() - t0
        ours = sum(tree_ticks(snap1, pid) - tree_ticks(snap0, pid) for pid in roots) / HZ
        return max(0.0, (busy1 - busy0) / HZ - ours) / elapsed

    def wait_quiet(self) -> None:
        """Wait (at most --quiet-wait seconds) until other processes leave the machine alone."""
        deadline = time.perf_counter() + self.args.quiet_wait
        while self.foreign_cores(0.3) > self.args.max_foreign and time.perf_counter() < deadline:
            pass

    def run(self) -> None:
        a = self.args
        live = [t for t in TARGETS if t in self.urls and (t == "direct" or t in a.targets)]
        # smoke test: every target answers every workload correctly
        for target in live[:]:
            for workload in WORKLOADS:
                r = self.cell(target, workload, 1, 0, 0, requests=3)
                if r["errors"] or r["ok"] != 3:
                    msg = f"{workload}: {r['first_error']}"
                    if target in ("direct", "relay", "inferaudit"):
                        raise SystemExit(f"{target} failed the smoke test: {msg}")
                    self.unavailable[target] = f"failed the smoke test: {msg}"
                    live.remove(target)
                    break
        self.live = live
        self.results: dict[tuple[str, str, int], list[dict]] = {}
        cells = [(w, c) for w in a.workloads for c in a.concurrency]
        total = len(cells) * len(live) * a.rounds
        done = 0
        started = time.perf_counter()
        for rnd in range(a.rounds):
            order = live[rnd % len(live):] + live[:rnd % len(live)]
            for workload, conc in cells:
                for target in order:
                    self.wait_quiet()
                    r = self.cell(target, workload, conc, a.warmup, a.seconds)
                    r["round"] = rnd
                    self.results.setdefault((target, workload, conc), []).append(r)
                    done += 1
                    rps = r["done_in_window"] / a.seconds
                    print(f"[{done}/{total} {time.perf_counter() - started:5.0f}s] round {rnd + 1} {workload:13s} "
                          f"c={conc:<2d} {target:10s} p50 {pct(r['latencies'], .5):7.2f} ms  p99 "
                          f"{pct(r['latencies'], .99):7.2f} ms  {rps:7.0f} req/s  errors {r['errors']}  "
                          f"foreign {r['foreign_cores']:.2f} cores", flush=True)

    # -- ledger check --------------------------------------------------------------

    def ledger_check(self) -> dict:
        import urllib.request

        with urllib.request.urlopen(self.urls["inferaudit"] + "/healthz", timeout=5) as r:
            health = json.loads(r.read())
        self.stop("inferaudit", timeout=60)  # the writer flushes what is queued on shutdown
        import duckdb

        con = duckdb.connect(str(WORK / "gateway-ledger.duckdb"), read_only=True)
        rows, ok, with_usage, attributed = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE status = 'ok'), "
            "count(*) FILTER (WHERE input > 0 AND output > 0), "
            "count(*) FILTER (WHERE user_id = 'bench-user' AND feature = 'overhead-bench') "
            "FROM calls WHERE source = 'gateway'").fetchone()
        con.close()
        spilled = sum(1 for p in (WORK / "inferaudit-spill").glob("*.ndjson") for _ in open(p, "rb")) \
            if (WORK / "inferaudit-spill").is_dir() else 0
        return {"served": self.gateway_requests, "rows": rows, "ok": ok, "with_usage": with_usage,
                "attributed": attributed, "spilled": spilled, "health_before_stop": health}

    # -- report ------------------------------------------------------------------

    def quiet_runs(self, target: str, workload: str, conc: int) -> list[dict]:
        """The rounds of a cell that other processes left alone; if none, the least disturbed one."""
        runs = self.results.get((target, workload, conc), [])
        quiet = [r for r in runs if r["foreign_cores"] <= self.args.max_foreign]
        return quiet or sorted(runs, key=lambda r: r["foreign_cores"])[:1]

    def report(self, ledger: dict | None) -> str:
        a = self.args
        lines = []
        cpu_note = ("emulator + load generator + this script pinned to CPU 0; each proxy pinned to CPU 1"
                    if self.pinned else "no pinning (the scheduler places every process)")
        lines.append(f"machine: {os.cpu_count()} cores; placement: {cpu_note}")
        lines.append(f"cells: {a.warmup:g} s warm-up + {a.seconds:g} s measured, {a.rounds} rounds (target order rotated); "
                     f"per cell, the rounds during which other processes used at most {a.max_foreign:g} cores "
                     "(else the least disturbed round, marked †): latencies pooled, req/s = median")
        if hasattr(self, "litellm_version"):
            lines.append(f"litellm: {self.litellm_version}")
        lines.append("")
        lines.append("| workload | conc | target | p50 ms | p99 ms | added p50 ms | added p99 ms | req/s "
                     "| proxy CPU µs/req | proxy core busy |")
        lines.append("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")
        self.summary: dict[tuple[str, int, str], dict] = {}
        for workload in a.workloads:
            for conc in a.concurrency:
                base = None
                for target in TARGETS:
                    runs = self.quiet_runs(target, workload, conc)
                    if not runs:
                        if target in self.unavailable:
                            lines.append(f"| {workload} | {conc} | {target} | — | — | — | — | — | — | — |")
                        continue
                    lat = [x for r in runs for x in r["latencies"]]
                    p50, p99 = pct(lat, .5), pct(lat, .99)
                    rps = statistics.median(r["done_in_window"] / a.seconds for r in runs)
                    if target == "direct":
                        base = (p50, p99)
                        cpu_us, busy = "—", "—"
                    else:
                        reqs = sum(r["ok"] + r["errors"] for r in runs)
                        cpu = sum(r["cpu_s"].get(target, 0.0) for r in runs)
                        wall = sum(r["elapsed"] for r in runs)
                        cpu_us, busy = f"{cpu / reqs * 1e6:.0f}", f"{cpu / wall:.0%}"
                    add50 = p50 - base[0] if base else float("nan")
                    add99 = p99 - base[1] if base else float("nan")
                    self.summary[(workload, conc, target)] = {"add50": add50, "add99": add99, "rps": rps,
                                                              "p50": p50, "p99": p99}
                    errors = sum(r["errors"] for r in self.results[(target, workload, conc)])
                    err = f" ({errors} errors)" if errors else ""
                    if runs[0]["foreign_cores"] > a.max_foreign:
                        err += " †"
                    self.summary[(workload, conc, target)]["rounds"] = len(runs)
                    if target != "direct":
                        self.summary[(workload, conc, target)]["cpu_us"] = cpu / reqs * 1e6
                    add = ("—", "—") if target == "direct" else (f"{add50:+.2f}", f"{add99:+.2f}")
                    lines.append(f"| {workload} | {conc} | {target}{err} | {p50:.2f} | {p99:.2f} | {add[0]} | {add[1]} "
                                 f"| {rps:,.0f} | {cpu_us} | {busy} |")
        for target, why in self.unavailable.items():
            lines.append("")
            lines.append(f"**{target}: {why}**")

        # stability of the baseline
        lines.append("")
        lines.append("direct p50 per round (ms), a check that the upstream is stable:")
        for workload in a.workloads:
            for conc in a.concurrency:
                runs = self.results.get(("direct", workload, conc), [])
                lines.append(f"  {workload} c={conc}: " + ", ".join(f"{pct(r['latencies'], .5):.3f}" for r in runs)
                             + "   req/s: " + ", ".join(f"{r['done_in_window'] / a.seconds:,.0f}" for r in runs)
                             + "   other processes (cores): " + ", ".join(f"{r['foreign_cores']:.2f}" for r in runs))
        foreign = [r["foreign_cores"] for runs in self.results.values() for r in runs]
        if foreign:
            noisy = sum(f > a.max_foreign for f in foreign)
            lines.append(f"CPU used by other processes during cells: median {statistics.median(foreign):.2f} cores, "
                         f"max {max(foreign):.2f} cores; {noisy} of {len(foreign)} cell rounds above "
                         f"{a.max_foreign:g} cores (left out where a quieter round exists)")
        if "openai-sse" in a.workloads:
            sizes = {t: statistics.mean(r["avg_bytes"] for (tt, w, c), runs in self.results.items() if tt == t
                                        for r in runs if w == "openai-sse") for t in self.live}
            lines.append("mean OpenAI SSE response size per target (bytes): "
                         + ", ".join(f"{t} {v:,.0f}" for t, v in sizes.items()))

        # targets
        lines.append("")
        lines.append("Targets (inferaudit vs the bare relay): added latency ≤ 1.5x the relay's at p50 and p99; "
                     "throughput ≥ 2/3 of the relay's")
        lines.append("")
        lines.append("(a ratio is gateway ÷ relay; where the relay adds under 0.1 ms, the ratio is n/a and the "
                     "gateway must add under 0.15 ms too. 'CPU capacity' = relay CPU per request ÷ gateway CPU per "
                     "request: the throughput ratio with both proxies saturating their core, for when the relay's "
                     "req/s is capped by CPU 0 instead)")
        lines.append("")
        lines.append("| workload | conc | added p50 ratio | added p99 ratio | throughput ratio | CPU capacity | met |")
        lines.append("|---|---:|---:|---:|---:|---:|---|")
        all_met, compared = True, 0
        for workload in a.workloads:
            for conc in a.concurrency:
                g = self.summary.get((workload, conc, "inferaudit"))
                r = self.summary.get((workload, conc, "relay"))
                if not g or not r:
                    continue
                def ratio(key: str) -> tuple[str, bool]:
                    if r[key] < 0.1:
                        return "n/a", g[key] < 0.15
                    return f"{g[key] / r[key]:.2f}x", g[key] / r[key] <= 1.5
                (r50, ok50), (r99, ok99) = ratio("add50"), ratio("add99")
                tput = g["rps"] / r["rps"] if r["rps"] else 0.0
                capacity = r["cpu_us"] / g["cpu_us"] if g.get("cpu_us") else 0.0
                checks = [("p50", ok50), ("p99", ok99), ("req/s", tput >= 2 / 3)]
                missed = [n for n, good in checks if not good]
                all_met &= not missed
                compared += 1
                verdict = "yes" if not missed else "no (" + ", ".join(missed) + ")"
                lines.append(f"| {workload} | {conc} | {r50} | {r99} | {tput:.2f}x | {capacity:.2f}x | {verdict} |")
        lines.append("")
        lines.append("no targets checked: the relay and the gateway were not both measured" if not compared
                     else "all targets met" if all_met else "targets NOT all met")
        if ledger:
            lines.append("")
            good = ledger["rows"] + ledger["spilled"] == ledger["served"]
            lines.append(f"gateway ledger: {ledger['rows']} rows ({ledger['ok']} ok, {ledger['with_usage']} with usage, "
                         f"{ledger['attributed']} with the attribution headers; {ledger['spilled']} spilled) for "
                         f"{ledger['served']} requests the gateway answered: "
                         + ("equal" if good else "MISMATCH"))
        return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--role", choices=("bench", "relay", "loadgen"), default="bench", help=argparse.SUPPRESS)
    parser.add_argument("role_args", nargs="*", help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=3.0, help="measured seconds per cell")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds per cell (connections open here)")
    parser.add_argument("--rounds", type=int, default=3, help="times every cell runs (target order rotated)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--placement", choices=("pinned", "shared"), default="pinned")
    parser.add_argument("--max-foreign", type=float, default=0.3,
                        help="a round of a cell is 'quiet' when other processes used at most this many cores during it")
    parser.add_argument("--quiet-wait", type=float, default=4.0,
                        help="most seconds to wait before a cell for other processes to quieten down")
    parser.add_argument("--targets", nargs="+", choices=TARGETS[1:], default=list(TARGETS[1:]),
                        help="proxies to measure (direct always runs)")
    parser.add_argument("--no-litellm", action="store_true", help="leave LiteLLM out")
    parser.add_argument("--workloads", nargs="+", choices=list(WORKLOADS), default=list(WORKLOADS),
                        help="workloads to measure (every one is smoke-tested)")
    parser.add_argument("--json-out", type=Path, default=WORK / "results.json")
    args = parser.parse_args()
    if args.role == "relay":
        run_loop(relay_main(int(args.role_args[0]), args.role_args[1]))
        return
    if args.role == "loadgen":
        run_loop(loadgen_main())
        return

    bench = Bench(args)
    try:
        bench.start()
        bench.run()
        ledger = bench.ledger_check() if "inferaudit" in bench.live else None
    finally:
        bench.stop_all()
    text = bench.report(ledger)
    print()
    print(text)
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps({
        "summary": {f"{w}|{c}|{t}": v for (w, c, t), v in bench.summary.items()},
        "unavailable": bench.unavailable, "ledger": ledger,
        "litellm_version": getattr(bench, "litellm_version", None), "args": {k: str(v) for k, v in vars(args).items()},
    }, indent=1))


if __name__ == "__main__":
    main()
