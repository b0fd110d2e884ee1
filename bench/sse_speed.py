"""SSE parser throughput on about 10 MB of realistic OpenAI chat-completion chunks.

    python bench/sse_speed.py [--size-mb 10] [--repeats 5]

The gateway runs ``SSEParser.feed`` on every streamed byte beside the
passthrough, so this is the cost it adds per stream. The stream is built
from the shape of a recorded ``gpt-4.1-nano`` stream (one ~330-byte
``data:`` event per token), then fed as a network would cut it: one event
per read, fixed-size reads, ``\\r\\n`` line ends, and Anthropic-style
``event:`` lines. Prints the best of ``--repeats`` runs per case, in MB/s.
"""

from __future__ import annotations

import argparse
import json
import random
import time

from inferaudit.providers.sse import SSEParser

WORDS = "the quick brown fox jumps over a lazy dog while Harmony Day celebrates cultural unity".split()


def chunk(i: int, text: str) -> bytes:
    body = {
        "id": "chatcmpl-D8Z5oo6uDh67AD85p73ksdT1KxhE0",
        "object": "chat.completion.chunk",
        "created": 1770933892,
        "model": "gpt-4.1-nano-2025-04-14",
        "service_tier": "default",
        "system_fingerprint": "fp_de604bd877",
        "choices": [{"index": 0, "delta": {"content": text}, "logprobs": None, "finish_reason": None}],
        "usage": None,
        "obfuscation": "Qup1BsQ3"[: i % 9],
    }
    return b"data: " + json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode() + b"\n\n"


def build(size: int) -> list[bytes]:
    rng, events, total = random.Random(1), [], 0
    while total < size:
        events.append(chunk(len(events), " " + rng.choice(WORDS)))
        total += len(events[-1])
    return events


def cut(stream: bytes, size: int) -> list[bytes]:
    return [stream[i : i + size] for i in range(0, len(stream), size)]


def best_rate(pieces: list[bytes], repeats: int) -> tuple[float, int]:
    megabytes = sum(map(len, pieces)) / 1e6
    best, count = 0.0, 0
    for _ in range(repeats):
        parser = SSEParser()
        start = time.perf_counter()
        count = sum(len(parser.feed(piece)) for piece in pieces) + len(parser.flush())
        best = max(best, megabytes / (time.perf_counter() - start))
    return best, count


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--size-mb", type=float, default=10.0)
    args.add_argument("--repeats", type=int, default=5)
    opts = args.parse_args()
    events = build(int(opts.size_mb * 1e6))
    stream = b"".join(events)
    cases = {
        "one event per read": events,
        "1 KiB reads": cut(stream, 1024),
        "4 KiB reads": cut(stream, 4096),
        "16 KiB reads": cut(stream, 16384),
        "64 KiB reads": cut(stream, 65536),
        "4 KiB reads, \\r\\n line ends": cut(stream.replace(b"\n", b"\r\n"), 4096),
        "4 KiB reads, event: lines": cut(b"".join(b"event: content_block_delta\n" + e for e in events), 4096),
    }
    print(f"{len(stream) / 1e6:.1f} MB, {len(events)} events, best of {opts.repeats}\n")
    print("| reads | MB/s | events |\n|---|---:|---:|")
    for name, pieces in cases.items():
        rate, count = best_rate(pieces, opts.repeats)
        print(f"| {name} | {rate:,.0f} | {count} |")


if __name__ == "__main__":
    main()
