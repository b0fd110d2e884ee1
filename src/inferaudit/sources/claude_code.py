"""Claude Code session logs (``~/.claude/projects/<project>/<session>.jsonl``).

One API response is written as several lines (one per content block),
early lines carrying partial output counts: calls are deduplicated on
``message.id`` + ``requestId`` keeping the largest counts. Subagent logs
(``<session>/subagents/agent-*.jsonl``) carry the parent's ``sessionId``, so
their calls land in the parent session's run; the ``agent-*.meta.json``
beside one (Claude Code 2.1 on) belongs to its unit and gives the calls an
``agent_type`` tag (``general-purpose``, ``Explore``, ...). Retries
(``system``/``api_error`` lines) and compactions (``compact_boundary``) are
kept as events.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

from ..usage import Call, Event, Problem, Record, Run, Tokens
from .base import Cursor, FileSource, iter_objects, load_json
from .timeparse import parse_ts

HARNESS = "claude-code"
SYNTHETIC_MODEL = "<synthetic>"  # Claude Code's own placeholder messages: no API call behind them


class ClaudeCodeSource(FileSource):
    name = "claude-code"
    append_only = True

    def sniff(self, path: Path, head: bytes) -> bool:
        # every Claude Code line type carries one of these; other formats' ids are named differently
        if b'"sessionId"' in head and (b'"parentUuid"' in head or b'"isSidechain"' in head):
            return True
        return b'"leafUuid"' in head or b'"type":"file-history-snapshot"' in head[:200]

    def members(self, path: Path) -> list[Path]:
        meta = _meta_path(path)
        return [path, meta] if meta else [path]

    def read(self, path: Path, cursor: Cursor) -> Iterator[Record]:
        calls: dict[str, _Pending] = {}
        agent_type = None
        meta = _meta_path(path)
        if meta:
            doc = load_json(meta)
            if isinstance(doc, dict) and isinstance(doc.get("agentType"), str):
                agent_type = doc["agentType"]
            elif cursor.offset == 0:  # reported once, with the log's first read, not again on each resume
                yield doc if isinstance(doc, Problem) else Problem(str(meta), 1, "subagent meta file without an agentType")
        session_id = cursor.state.get("session_id")
        first: datetime | None = None
        last: datetime | None = None
        for item in iter_objects(path, cursor, want=_wanted):
            if isinstance(item, Problem):
                yield item
                continue
            line_no, obj = item
            session_id = obj.get("sessionId") or session_id
            at = parse_ts(obj.get("timestamp"))
            if at is not None:
                first = at if first is None or at < first else first
                last = at if last is None or at > last else last
            kind = obj.get("type")
            try:
                if kind == "assistant":
                    problem = _take_assistant(obj, at, line_no, calls)
                    if problem:
                        yield Problem(str(path), line_no, problem)
                elif kind == "system":
                    event = _system_event(obj, at, session_id, path, line_no)
                    if event:
                        yield event
            except (TypeError, ValueError, AttributeError) as exc:
                yield Problem(str(path), line_no, f"unreadable {kind} line: {exc}")
        cursor.state["session_id"] = session_id
        run_id = f"{HARNESS}:{session_id}" if session_id else f"{HARNESS}:{path.stem}"
        for key, pending in calls.items():
            yield Call(
                call_id=f"{HARNESS}:{key}",
                source=self.name,
                provider="anthropic",
                model=pending.model,
                harness=HARNESS,
                tokens=pending.tokens,
                run_id=run_id,
                session_id=session_id,
                started_at=pending.first,
                ended_at=pending.last,
                cost_reported=pending.cost,
                tool_calls=len(pending.tools),
                tags=_tags(pending.agent, agent_type),
                source_file=str(path),
                source_line=pending.line,
            )
        if first is not None or calls:
            yield Run(
                run_id=run_id,
                source=self.name,
                harness=HARNESS,
                model=None,  # the audit takes the model that did most of the work
                provider="anthropic",
                task_id=session_id,
                started_at=first,
                ended_at=last,
                source_file=str(path),
            )


def _meta_path(path: Path) -> Path | None:
    """A subagent log's metadata file (``subagents/agent-<id>.meta.json`` beside its ``.jsonl``), if there is one."""
    if path.parent.name != "subagents":
        return None
    meta = path.with_name(f"{path.stem}.meta.json")
    return meta if meta.is_file() else None


def _tags(agent: str | None, agent_type: str | None) -> dict[str, str]:
    tags = {"agent": agent} if agent else {}
    if agent and agent_type:
        tags["agent_type"] = agent_type
    return tags


_SKIPPED_TYPES = (b'"type":"user"', b'"type":"progress"', b'"type":"file-history-snapshot"', b'"type":"queue-operation"')


def _wanted(raw: bytes) -> bool:
    """False only for lines that are surely user, progress or snapshot lines: most of a log's bytes.

    Claude Code writes a line's top-level ``type`` within its first few
    hundred bytes for these kinds (an assistant line's comes after its
    content). A match counts only if no ``{`` comes before it, which proves
    it is a top-level key, not one inside the message; anything unsure is
    parsed, and the parsed type decides.
    """
    head = raw[:640]
    for marker in _SKIPPED_TYPES:
        i = head.find(marker)
        if i > 0 and head.find(b"{", 1, i) < 0:
            return False
    return True


class _Pending:
    __slots__ = ("model", "tokens", "first", "last", "line", "tools", "cost", "agent")

    def __init__(self, model: str, tokens: Tokens, at: datetime | None, line: int, agent: str | None):
        self.model = model
        self.tokens = tokens
        self.first = at
        self.last = at
        self.line = line
        self.tools: set[str] = set()
        self.cost: float | None = None
        self.agent = agent


def _take_assistant(obj: dict[str, Any], at: datetime | None, line_no: int, calls: dict[str, _Pending]) -> str | None:
    message = obj.get("message")
    if not isinstance(message, dict):
        return "assistant line without a message"
    model = message.get("model")
    usage = message.get("usage")
    if model == SYNTHETIC_MODEL or obj.get("isApiErrorMessage"):
        return None
    if not isinstance(usage, dict):
        return None  # older lines without usage carry no accounting
    tokens = Tokens.from_anthropic(usage)
    key = f"{message.get('id')}:{obj.get('requestId')}"
    if message.get("id") is None:
        key = f"uuid:{obj.get('uuid')}"
    pending = calls.get(key)
    if pending is None:
        pending = calls[key] = _Pending(model, tokens, at, line_no, obj.get("agentId"))
    else:
        pending.tokens = pending.tokens.max(tokens)
        if at is not None:
            pending.first = at if pending.first is None or at < pending.first else pending.first
            pending.last = at if pending.last is None or at > pending.last else pending.last
    cost = obj.get("costUSD")
    if isinstance(cost, (int, float)):
        pending.cost = max(pending.cost or 0.0, float(cost))
    for block in message.get("content") or ():
        if isinstance(block, dict) and block.get("type") == "tool_use":
            pending.tools.add(str(block.get("id")))
    return None


def _system_event(obj: dict[str, Any], at: datetime | None, session_id: str | None, path: Path, line_no: int) -> Event | None:
    subtype = obj.get("subtype")
    if subtype == "api_error":
        error = obj.get("error") if isinstance(obj.get("error"), dict) else {}
        data = {
            "status": error.get("status"),
            "retry_attempt": obj.get("retryAttempt"),
            "max_retries": obj.get("maxRetries"),
            "retry_in_ms": obj.get("retryInMs"),
        }
        kind = "api_retry"
    elif subtype == "compact_boundary":
        meta = obj.get("compactMetadata") or {}
        data = {"trigger": meta.get("trigger"), "pre_tokens": meta.get("preTokens")}
        kind = "compact_boundary"
    elif subtype == "turn_duration":
        data = {"duration_ms": obj.get("durationMs")}
        kind = "turn_duration"
    else:
        return None
    return Event(
        event_id=f"{HARNESS}:{obj.get('uuid') or f'{path}:{line_no}'}",
        kind=kind,
        source="claude-code",
        at=at,
        run_id=f"{HARNESS}:{session_id}" if session_id else None,
        session_id=session_id,
        data=data,
        source_file=str(path),
        source_line=line_no,
    )
