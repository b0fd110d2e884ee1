"""The 2x2 tiles of the project's llama.cpp build: whether they are there, and a switch.

``make llamacpp`` builds llama-cpp-python with ``patches/llama-cpp-python-0.3.36-tiles.patch``:
on AVX2 CPUs a Q4_1 or Q8_0 matrix product computes two weight rows times two
token columns per kernel call, each dot product bit-identical to stock
ggml's one-column kernel. A batch of n tokens (a speculative verify pass,
a prompt) then costs less: a 9-token pass of SmolLM2's Q4_1 about 3.7-4.5
single-token steps against 4.6-5.4 on stock kernels (BENCHMARKS.md). A single
token costs the same: one token's product streams every weight once and is
bound by memory here, and a two-rows-by-one-token kernel, tried, made the
decoding step slower, not faster. The tiles are on by default;
``stock_kernels()`` switches them off for a stretch of code, which gives stock
ggml's kernels in the same process (the benchmarks' stock peer). A library
built without the patch has no switch: ``available()`` is False and
``stock_kernels()`` changes nothing.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from .llamacpp import _lib

FEATURE = b"INFERAUDIT_TILES = 1"
_cpu: ctypes.CDLL | None = None


@cache
def available() -> bool:
    """Whether llama-cpp-python was built with the patch, on a CPU build that has the tiles (fixed per process)."""
    return FEATURE in _lib().llama_print_system_info()


def loaded_copies() -> list[str]:
    """The libggml-cpu files mapped into this process (one once llama.cpp is loaded; a second would be a stray copy)."""
    paths = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split(None, 5)  # address perms offset dev inode path
            if len(fields) == 6 and Path(fields[5].strip()).name.startswith("libggml-cpu.so"):
                paths.add(fields[5].strip())
    return sorted(paths)


def _ggml_cpu() -> ctypes.CDLL:
    """libggml-cpu as llama.cpp runs it: the very file the dynamic loader mapped for libggml (its soname,
    ``libggml-cpu.so.0``). pip installs the ``.so`` names as copies, not links: opening another one would
    load a second library whose switch changes nothing."""
    global _cpu
    if _cpu is None:
        mapped = loaded_copies()
        if len(mapped) != 1:
            raise RuntimeError(f"expected llama.cpp's libggml-cpu mapped once in this process, found {mapped or 'none'}")
        cpu = ctypes.CDLL(mapped[0])
        cpu.ggml_cpu_set_tiles.argtypes, cpu.ggml_cpu_set_tiles.restype = [ctypes.c_bool], None
        cpu.ggml_cpu_get_tiles.argtypes, cpu.ggml_cpu_get_tiles.restype = [], ctypes.c_bool
        _cpu = cpu
    return _cpu


def enabled() -> bool:
    """Whether products run on the tiles now."""
    return available() and bool(_ggml_cpu().ggml_cpu_get_tiles())


def set_enabled(on: bool) -> bool:
    """Switch the tiles on or off; returns the previous state (False without the patch, where nothing changes)."""
    if not available():
        return False
    cpu = _ggml_cpu()
    previous = bool(cpu.ggml_cpu_get_tiles())
    cpu.ggml_cpu_set_tiles(on)
    return previous


@contextmanager
def stock_kernels() -> Iterator[None]:
    """Stock ggml's one-column kernels inside the block (no other thread may run llama.cpp meanwhile)."""
    previous = set_enabled(False)
    try:
        yield
    finally:
        if previous:
            set_enabled(True)
