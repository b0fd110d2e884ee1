"""Gemini CLI chat recordings (``~/.gemini/tmp/<project_hash>/chats/session-*.json[l]``).

Two layouts carry the same records. Older CLIs rewrite one JSON document
(``sessionId``, ``projectHash``, ``startTime``, ``lastUpdated``, ``messages``);
newer ones append JSONL: a metadata line, then message records re-appended
whole whenever they change (the last copy of an ``id`` wins), ``{"$set": ...}``
metadata patches (which may restate every message) and ``{"$rewindTo": id}``
markers. A rewind hides messages from the UI, but their API calls were
billed, so they are kept. Subagent logs (``chats/<parent session>/*.jsonl``,
``kind: "subagent"``) land in the parent session's run.

Each ``gemini`` message with ``tokens`` is one API call: the CLI keeps the
last ``usageMetadata`` of the response stream. ``input`` (promptTokenCount)
includes ``cached``; ``thoughts`` are billed as output but reported beside
``output``. ``tool`` is toolUsePromptTokenCount: the prompt of server-side
tools (search grounding, URL context). Gemini bills it as input and reports
it *on top of* promptTokenCount (totalTokenCount = prompt + candidates +
thoughts + toolUse, per the API reference and real responses such as 70 +
53 + 199 + 79 = 401), so it is added to the plain ``input`` bucket.
Calls are keyed by message id, so a session the CLI migrated from ``.json``
to ``.jsonl`` is not counted twice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from ..usage import Call, Problem, Record, Run, Tokens
from .base import Cursor, FileSource, item_lines, iter_jsonl, read_document
from .timeparse import parse_ts

HARNESS = "gemini-cli"
PROVIDER = "google"


class GeminiCliSource(FileSource):
    name = "gemini-cli"
    append_only = True  # the JSONL layout grows; a JSON document is always read whole

    def sniff(self, path: Path, head: bytes) -> bool:
        return head.lstrip()[:1] == b"{" and b'"projectHash"' in head and b'"sessionId"' in head

    def read(self, path: Path, cursor: Cursor) -> Iterator[Record]:
        if _is_document(path):
            cursor.offset, cursor.line = 0, 0
            cursor.state.clear()
            records: Iterator = _document(path, cursor)
        else:
            records = iter_jsonl(path, cursor)
        state = cursor.state
        meta: dict[str, Any] = state.setdefault("meta", {})
        emitted: dict[str, list] = state.setdefault("emitted", {})
        messages: dict[str, tuple[dict, int | None]] = {}
        for item in records:
            if isinstance(item, Problem):
                yield item
                continue
            line_no, record = item
            if not isinstance(record, dict):
                yield Problem(str(path), line_no, "not a JSON object")
                continue
            yield from _take(record, line_no, meta, messages, path)
        for msg_id, (message, line_no) in messages.items():
            if message.get("type") != "gemini" or message.get("tokens") is None:
                continue
            try:
                tokens = _tokens(message["tokens"])
            except (TypeError, ValueError) as exc:
                yield Problem(str(path), line_no, f"message {msg_id}: unreadable tokens: {exc}")
                continue
            tools = message.get("toolCalls")
            tool_calls = len(tools) if isinstance(tools, list) else 0
            signature = [*tokens.as_dict().values(), tool_calls]
            if emitted.get(msg_id) == signature:
                continue  # already yielded by an earlier read of this file
            emitted[msg_id] = signature
            yield Call(
                call_id=f"{HARNESS}:{meta.get('session') or path.stem}:{msg_id}",
                source=self.name,
                provider=PROVIDER,
                model=message.get("model") if isinstance(message.get("model"), str) else None,
                harness=HARNESS,
                tokens=tokens,
                run_id=_run_id(meta, path),
                session_id=meta.get("session"),
                ended_at=parse_ts(message.get("timestamp")),
                tool_calls=tool_calls,
                tags={"agent": meta["session"]} if meta.get("parent") and meta.get("session") else {},
                source_file=str(path),
                source_line=line_no,
            )
        if meta.get("session") or emitted:
            yield Run(
                run_id=_run_id(meta, path),
                source=self.name,
                harness=HARNESS,
                model=None,  # the audit takes the model that did most of the work
                provider=PROVIDER,
                cache_policy="auto",  # Gemini caches repeated prompt prefixes implicitly
                task_id=meta.get("parent") or meta.get("session"),
                started_at=parse_ts(meta.get("first")),
                ended_at=parse_ts(meta.get("last")),
                source_file=str(path),
            )


def _take(record: dict, line_no: int | None, meta: dict, messages: dict, path: Path) -> Iterator[Problem]:
    """Fold one record (metadata, patch, rewind, message) into ``meta`` and ``messages``."""
    if "$rewindTo" in record:
        return  # hidden from the UI, still billed: keep what was recorded
    patch = record.get("$set")
    if isinstance(patch, dict):
        record = patch
    elif isinstance(record.get("id"), str):
        yield from _take_message(record, line_no, meta, messages, path)
        return
    if isinstance(record.get("sessionId"), str):
        meta["session"] = record["sessionId"]
    if record.get("kind") == "subagent" and path.parent.name != "chats":
        meta["parent"] = path.parent.name  # the CLI nests subagent logs under the parent's session id
    for key in ("startTime", "lastUpdated"):
        _seen_time(meta, record.get(key))
    listed = record.get("messages")
    if isinstance(listed, list):
        lines = record.get("_lines") or [line_no] * len(listed)
        for message, at_line in zip(listed, lines):
            yield from _take_message(message, at_line, meta, messages, path)


def _take_message(message: Any, line_no: int | None, meta: dict, messages: dict, path: Path) -> Iterator[Problem]:
    if not isinstance(message, dict) or not isinstance(message.get("id"), str):
        yield Problem(str(path), line_no, "message without an id")
        return
    _seen_time(meta, message.get("timestamp"))
    old = messages.get(message["id"])
    if old is None:
        messages[message["id"]] = (message, line_no)
    else:  # a re-appended copy: later non-null fields win, the first line is kept
        merged = {**old[0], **{k: v for k, v in message.items() if v is not None}}
        messages[message["id"]] = (merged, old[1])


def _seen_time(meta: dict, value: Any) -> None:
    at = parse_ts(value)
    if at is None:
        return
    first, last = parse_ts(meta.get("first")), parse_ts(meta.get("last"))
    if first is None or at < first:
        meta["first"] = at.isoformat()
    if last is None or at > last:
        meta["last"] = at.isoformat()


def _tokens(raw: Any) -> Tokens:
    if not isinstance(raw, dict):
        raise TypeError(f"tokens is {raw!r}")
    for key in ("input", "output"):
        if key not in raw:
            raise ValueError(f"tokens.{key} missing")
    prompt, cached, output, thoughts, tool = (_count(raw, k) for k in ("input", "cached", "output", "thoughts", "tool"))
    return Tokens.from_prompt_including_cached(prompt + tool, cached, output, thoughts, reasoning_in_output=False)


def _count(raw: dict, key: str) -> int:
    value = raw.get(key)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise TypeError(f"tokens.{key} is {value!r}")
    return int(value)


def _run_id(meta: dict, path: Path) -> str:
    return f"{HARNESS}:{meta.get('parent') or meta.get('session') or path.stem}"


def _is_document(path: Path) -> bool:
    """The CLI pretty-prints whole documents (``{`` alone on line 1); JSONL lines are complete objects."""
    with open(path, "rb") as fh:
        return fh.readline().strip() == b"{"


def _document(path: Path, cursor: Cursor) -> Iterator[tuple[int, Any] | Problem]:
    """A whole JSON document as one record, with the line of each message for problems."""
    read = read_document(path, cursor)
    if isinstance(read, Problem):
        yield read
        return
    data, doc = read
    if isinstance(doc, dict) and isinstance(doc.get("messages"), list):
        lines = item_lines(data, "messages")
        if len(lines) == len(doc["messages"]):
            doc["_lines"] = lines
    yield (1, doc)

