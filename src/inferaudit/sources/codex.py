"""Codex CLI rollouts (``~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl``).

Usage arrives as ``event_msg``/``token_count`` events whose
``info.total_token_usage`` is *cumulative* for the session; a call is the
delta between consecutive totals (repeated identical totals are the same
call reported twice). ``input_tokens`` includes ``cached_input_tokens``;
``output_tokens`` includes ``reasoning_output_tokens``. The model comes
from the latest ``turn_context``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from ..usage import Call, Problem, Record, Run, Tokens
from .base import Cursor, FileSource, iter_objects
from .timeparse import parse_ts

HARNESS = "codex"
# in Tokens.from_prompt_including_cached's order; cache writes (GPT-5.6 and later) are inside input_tokens
_FIELDS = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens", "cache_write_input_tokens")


class CodexRolloutSource(FileSource):
    name = "codex"
    append_only = True

    def sniff(self, path: Path, head: bytes) -> bool:
        return (b'"type":"session_meta"' in head or b'"type": "session_meta"' in head) and b'"payload"' in head

    def read(self, path: Path, cursor: Cursor) -> Iterator[Record]:
        state = cursor.state
        totals: dict[str, int] = state.get("totals") or dict.fromkeys(_FIELDS, 0)
        session_id = state.get("session_id")
        model = state.get("model")
        provider = state.get("provider") or "openai"
        first = parse_ts(state.get("first"))
        last = parse_ts(state.get("last"))
        calls = state.get("calls", 0)
        for item in iter_objects(path, cursor):
            if isinstance(item, Problem):
                yield item
                continue
            line_no, obj = item
            at = parse_ts(obj.get("timestamp"))
            if at is not None:
                first = at if first is None or at < first else first
                last = at if last is None or at > last else last
            kind = obj.get("type")
            payload = obj.get("payload") if isinstance(obj.get("payload"), dict) else {}
            if kind == "session_meta":
                session_id = payload.get("id") or session_id
                provider = payload.get("model_provider") or provider
            elif kind == "turn_context":
                model = payload.get("model") or model
            elif kind == "event_msg" and payload.get("type") == "token_count":
                info = payload.get("info")
                if not isinstance(info, dict):
                    continue  # rate-limit-only update: no usage
                try:
                    now = _totals(info.get("total_token_usage"))
                except (TypeError, ValueError) as exc:
                    yield Problem(str(path), line_no, f"unreadable token_count: {exc}")
                    continue
                delta = {k: now[k] - totals.get(k, 0) for k in _FIELDS}  # a cursor saved before a field existed lacks it
                if not any(delta.values()):
                    continue  # the same totals reported again
                if any(v < 0 for v in delta.values()):
                    yield Problem(str(path), line_no, "cumulative token totals went down; counted from here")
                    totals = now
                    continue
                totals = now
                calls += 1
                try:
                    tokens = Tokens.from_prompt_including_cached(*(delta[k] for k in _FIELDS))
                except ValueError as exc:
                    yield Problem(str(path), line_no, str(exc))
                    continue
                yield Call(
                    call_id=f"{HARNESS}:{session_id or path.stem}:{line_no}",
                    source=self.name,
                    provider=_provider(provider),
                    model=model,
                    harness=HARNESS,
                    tokens=tokens,
                    run_id=f"{HARNESS}:{session_id or path.stem}",
                    session_id=session_id,
                    ended_at=at,
                    source_file=str(path),
                    source_line=line_no,
                )
        state.update(
            totals=totals, session_id=session_id, model=model, provider=provider, calls=calls,
            first=first.isoformat() if first else None, last=last.isoformat() if last else None,
        )
        if session_id or calls:
            yield Run(
                run_id=f"{HARNESS}:{session_id or path.stem}",
                source=self.name,
                harness=HARNESS,
                model=None,
                provider=_provider(provider),
                cache_policy="auto",  # OpenAI caches prompt prefixes automatically
                task_id=session_id,
                started_at=first,
                ended_at=last,
                source_file=str(path),
            )


def _totals(raw: Any) -> dict[str, int]:
    if not isinstance(raw, dict):
        raise TypeError("total_token_usage missing")
    out = {}
    for key in _FIELDS:
        value = raw.get(key, 0) or 0
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{key} is {value!r}")
        out[key] = value
    return out


def _provider(name: str | None) -> str:
    return {"openai": "openai", "azure": "azure"}.get((name or "openai").lower(), name or "openai")
