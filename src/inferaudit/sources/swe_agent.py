"""SWE-agent and mini-SWE-agent trajectories: one file is one task attempt (a Run).

mini-SWE-agent (``<instance>.traj.json``): ``info.model_stats`` holds
``instance_cost`` and ``api_calls``, ``info.config.model.model_name`` the
litellm model, ``info.exit_status`` how the agent stopped. Since v2 each
assistant message keeps its raw response (``extra.response.usage``) and cost
(``extra.cost``): those become Calls with exact buckets. A response the agent
could not parse leaves no message, so Calls can fall short of ``api_calls``.

litellm reports usage in OpenAI's shape: ``prompt_tokens`` includes
``prompt_tokens_details.cached_tokens``. For Anthropic it also keeps
``cache_read_input_tokens`` / ``cache_creation_input_tokens``; current
litellm counts both inside ``prompt_tokens`` (marked by
``prompt_tokens_details.cache_creation_tokens``), some mid-2025 releases only
the reads. A file where a prompt is smaller than its reads plus writes came
from such a release, and its writes are added back. Responses-API and raw
Anthropic usage are read too.

SWE-agent (``<instance>.traj``) keeps only totals, ``tokens_sent`` /
``tokens_received``: they become ``Run.tokens_reported`` with all of
``tokens_sent`` in ``input``, since no cache split is recorded (SWE-agent 1.x
even counts them with a local tokenizer, not from the provider's usage).

Neither records an evaluation: "Submitted" means a patch was produced, not
that it resolved the task, so the outcome stays "unknown" and the exit
status is kept as an Event. A trajectory has no id of its own, so a run is
keyed by task and file path.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any, Iterator

import orjson

from ..usage import Call, Event, Problem, Record, Run, Tokens
from .base import Cursor, FileSource, item_lines, read_document
from .timeparse import parse_ts

_PREFIX_PROVIDERS = {"anthropic": "anthropic", "openai": "openai", "gemini": "google"}
_BARE_PROVIDERS = (("gpt-", "openai"), ("o1", "openai"), ("o3", "openai"), ("o4", "openai"),
                   ("claude", "anthropic"), ("gemini", "google"))
_FIRST_KEY = re.compile(rb'\{\s*"(\w+)"')


class SWEAgentTrajectorySource(FileSource):
    name = "swe-agent"
    append_only = False  # both agents rewrite the whole document after every step

    def sniff(self, path: Path, head: bytes) -> bool:
        first = _FIRST_KEY.match(head.lstrip())
        if first and b'"model_stats"' in head and b'"instance_cost"' in head and b'"mini_version"' in head:
            return True  # mini-SWE-agent writes ``info`` (stats, config, version) first
        steps = b'"observation"' in head or b'"model_stats"' in head  # SWE-agent: trajectory steps come first
        return bool(first) and first.group(1) in (b"trajectory", b"environment") and steps

    def read(self, path: Path, cursor: Cursor) -> Iterator[Record]:
        read = read_document(path, cursor)
        if isinstance(read, Problem):
            yield read
            return
        data, doc = read
        info = doc.get("info") if isinstance(doc, dict) else None
        if not isinstance(info, dict):
            yield Problem(str(path), None, "no info object: not a trajectory")
            return
        mini = isinstance(doc.get("messages"), list)
        harness = "mini-swe-agent" if mini else "swe-agent"
        provider, model = _split_model(_model_name(info, doc))
        task = _task_id(doc, info, path)
        run_id = f"{harness}:{task}@{hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:10]}"
        stats = info.get("model_stats") if isinstance(info.get("model_stats"), dict) else {}
        stats_line = _line_of(data, b'"model_stats"')
        cost, calls = stats.get("instance_cost"), stats.get("api_calls")
        for key, value, kinds in (("instance_cost", cost, (int, float)), ("api_calls", calls, int)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, kinds)):
                yield Problem(str(path), stats_line, f"model_stats.{key} is {value!r}")
        cost = cost if isinstance(cost, (int, float)) and not isinstance(cost, bool) else None
        calls = calls if isinstance(calls, int) and not isinstance(calls, bool) else None
        times: list = []
        if mini:
            yield from _message_calls(doc["messages"], data, path, run_id, harness, provider, model, times)
        reported = None
        if "tokens_sent" in stats or "tokens_received" in stats:
            try:
                reported = Tokens(input=_n(stats.get("tokens_sent")), output=_n(stats.get("tokens_received")))
            except (TypeError, ValueError) as exc:
                yield Problem(str(path), stats_line, f"model_stats tokens: {exc}")
        explicit_cache = _dig(info, "config", "model", "set_cache_control")
        run = Run(
            run_id=run_id, source="swe-agent", harness=harness, model=model, provider=provider,
            cache_policy="explicit" if explicit_cache else None, task_id=task,
            started_at=min(times) if times else None, ended_at=max(times) if times else None,
            cost_reported=float(cost) if cost is not None else None, calls_reported=calls,
            tokens_reported=reported, source_file=str(path),
        )
        yield run
        if info.get("exit_status") is not None:
            yield Event(
                event_id=f"{run_id}:exit", kind="exit_status", source="swe-agent", at=run.ended_at, run_id=run_id,
                data={"exit_status": info.get("exit_status"), "submitted": bool(info.get("submission"))},
                source_file=str(path), source_line=_line_of(data, b'"exit_status"'),
            )


def _message_calls(messages: list, data: bytes, path: Path, run_id: str, harness: str,
                   provider: str | None, model: str | None, times: list) -> Iterator[Record]:
    """One Call per assistant message that kept its API response's usage."""
    lines: list = item_lines(data, "messages")
    if len(lines) != len(messages):
        lines = [None] * len(messages)
    found = []
    for index, (message, line) in enumerate(zip(messages, lines)):
        if not isinstance(message, dict):
            yield Problem(str(path), line, f"message {index} is not an object")
            continue
        extra = message.get("extra") if isinstance(message.get("extra"), dict) else {}
        at = parse_ts(extra.get("timestamp"))
        if at is not None:
            times.append(at)
        response = extra.get("response")
        if message.get("role") != "assistant" or not isinstance(response, dict):
            continue
        if not isinstance(response.get("usage"), dict):
            yield Problem(str(path), line, f"message {index}: response has no usage")
            continue
        found.append((index, line, message, extra, response, at))
    writes_outside = any(_writes_outside(r["usage"]) for *_, r, _ in found)
    for index, line, message, extra, response, at in found:
        try:
            tokens = _tokens(response["usage"], writes_outside)
        except (TypeError, ValueError) as exc:
            yield Problem(str(path), line, f"message {index}: unreadable usage: {exc}")
            continue
        cost = extra.get("cost")
        actions = extra.get("actions") or message.get("tool_calls") or []
        served = response.get("model")  # the dated model that answered, e.g. claude-sonnet-4-5-20250929
        yield Call(
            call_id=f"{run_id}:{index}", source="swe-agent", provider=provider,
            model=served if isinstance(served, str) else model, harness=harness, tokens=tokens, run_id=run_id,
            ended_at=at, cost_reported=float(cost) if isinstance(cost, (int, float)) and not isinstance(cost, bool) else None,
            tool_calls=len(actions) if isinstance(actions, list) else 0, source_file=str(path), source_line=line,
        )


def _tokens(usage: dict, writes_outside: bool) -> Tokens:
    if "prompt_tokens" in usage:  # OpenAI chat shape: litellm's normal form
        details = usage.get("prompt_tokens_details") or {}
        read = _n(details.get("cached_tokens")) or _n(usage.get("cache_read_input_tokens"))
        write = _n(usage.get("cache_creation_input_tokens")) or _n(details.get("cache_creation_tokens"))
        write_1h = _n((details.get("cache_creation_token_details") or {}).get("ephemeral_1h_input_tokens"))
        prompt = _n(usage["prompt_tokens"])
        if not write:  # OpenAI's own count (GPT-5.6 and later), inside prompt_tokens like cached_tokens
            write = _n(details.get("cache_write_tokens"))
        elif writes_outside and details.get("cache_creation_tokens") is None:
            prompt += write
        output = _n(usage.get("completion_tokens"))
        # litellm estimates Anthropic thinking tokens with a local tokenizer: never more than the output
        reasoning = min(_n((usage.get("completion_tokens_details") or {}).get("reasoning_tokens")), output)
        if read + write > prompt:
            raise ValueError(f"cache reads and writes ({read + write}) exceed prompt_tokens ({prompt})")
        return Tokens(input=prompt - read - write, cache_read=read, cache_write_5m=write - min(write_1h, write),
                      cache_write_1h=min(write_1h, write), output=output, reasoning=reasoning)
    if "cache_read_input_tokens" in usage or "cache_creation_input_tokens" in usage:
        return Tokens.from_anthropic(usage)  # raw Anthropic: input excludes cache reads and writes
    if "input_tokens" in usage:  # Responses API: input includes cached
        return Tokens.from_prompt_including_cached(
            _n(usage["input_tokens"]), _n((usage.get("input_tokens_details") or {}).get("cached_tokens")),
            _n(usage.get("output_tokens")), _n((usage.get("output_tokens_details") or {}).get("reasoning_tokens")),
            _n((usage.get("input_tokens_details") or {}).get("cache_write_tokens")),
        )
    raise ValueError("usage has neither prompt_tokens nor input_tokens")


def _writes_outside(usage: dict) -> bool:
    """Whether this litellm usage left cache writes out of ``prompt_tokens`` (see the module note)."""
    details = usage.get("prompt_tokens_details") or {}
    if "prompt_tokens" not in usage or not isinstance(details, dict) or details.get("cache_creation_tokens") is not None:
        return False
    write, read, prompt = (usage.get("cache_creation_input_tokens"), details.get("cached_tokens"), usage["prompt_tokens"])
    counts = [v for v in (write, read, prompt) if isinstance(v, int)]
    return len(counts) == 3 and write > 0 and prompt < read + write  # odd counts are reported where usage is read


def _n(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value) or value < 0:
        raise TypeError(f"expected a token count, got {value!r}")
    return int(value)


def _model_name(info: dict, doc: dict) -> str | None:
    name = _dig(info, "config", "model", "model_name")
    if name is None:  # SWE-agent 1.x keeps its run config as a JSON string
        replay = doc.get("replay_config")
        try:
            replay = orjson.loads(replay) if isinstance(replay, str) else replay
        except orjson.JSONDecodeError:
            replay = None
        name = _dig(replay, "agent", "model", "name")
    return name if isinstance(name, str) and name else None


def _split_model(name: str | None) -> tuple[str | None, str | None]:
    """litellm names carry the provider as a prefix (``anthropic/claude-...``); bare names are guessed."""
    if name is None:
        return None, None
    prefix, slash, rest = name.partition("/")
    if slash:
        return _PREFIX_PROVIDERS.get(prefix, prefix), rest
    lowered = name.lower()
    return next((p for start, p in _BARE_PROVIDERS if lowered.startswith(start)), None), name


def _task_id(doc: dict, info: dict, path: Path) -> str:
    named = [v for v in (doc.get("instance_id"), info.get("instance_id")) if isinstance(v, str) and v]
    return named[0] if named else re.sub(r"\.traj(\.json)?$", "", path.name)


def _dig(obj: Any, *keys: str) -> Any:
    for key in keys:
        obj = obj.get(key) if isinstance(obj, dict) else None
    return obj


def _line_of(data: bytes, needle: bytes) -> int | None:
    at = data.find(needle)
    return data.count(b"\n", 0, at) + 1 if at >= 0 else None
