"""``codex exec --json`` output: the JSONL event stream Codex CLI prints headless.

The current stream (``codex-rs/exec/src/exec_events.rs``) is ``thread.started``
(``thread_id``), ``turn.started``, ``item.*``, then ``turn.completed`` with
``usage: {input_tokens, cached_input_tokens, output_tokens}`` (newer CLIs add
``reasoning_output_tokens``) or ``turn.failed``. That usage is the thread's
*cumulative* total, not the turn's: the exec processor copies
``ThreadTokenUsage.total`` (openai/codex#17539). So a turn is the delta from
the previous ``turn.completed`` of the same thread in this file, and a total
that went down means a new process restarted the count. A turn spans several
API calls; it becomes one Call tagged ``granularity: turn``.

Known gap: a thread resumed with ``codex exec resume`` starts from the usage
restored from its rollout, which this stream cannot see, so its first turn
here includes the earlier ones. The rollout itself (source ``codex``) has
exact per-call counts; import one or the other, or tokens count twice.

Older CLIs printed raw protocol events ``{"id": .., "msg": {"type": ..}}``:
``token_count`` first carried one response's usage flat, later an ``info``
with cumulative ``total_token_usage``; ``session_configured`` names the model.
Input counts include cached input and output includes reasoning, as in the
rollouts. The current stream has no model, so it stays None there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import orjson

from ..usage import Call, Event, Problem, Record, Run, Tokens
from .base import Cursor, FileSource, iter_objects

HARNESS = "codex"
PROVIDER = "openai"
# in Tokens.from_prompt_including_cached's order; cache writes (GPT-5.6 and later) are inside input_tokens
_FIELDS = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens", "cache_write_input_tokens")
_TOOL_ITEMS = {"command_execution", "file_change", "mcp_tool_call", "web_search", "collab_tool_call"}


class CodexExecSource(FileSource):
    name = "codex-exec"
    append_only = True

    def sniff(self, path: Path, head: bytes) -> bool:
        for raw in head.splitlines()[:20]:
            if not raw.strip():
                continue
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue  # a malformed or cut-off line: let a later one decide
            if not isinstance(obj, dict):
                return False
            msg = obj.get("msg")
            if isinstance(msg, dict) and isinstance(msg.get("type"), str) and "id" in obj:
                return True  # legacy protocol events
            kind = obj.get("type")
            if isinstance(kind, str):
                return kind.partition(".")[0] in ("thread", "turn", "item") and "." in kind
        return False

    def read(self, path: Path, cursor: Cursor) -> Iterator[Record]:
        st = cursor.state
        st.setdefault("totals", {})  # thread -> last cumulative usage seen
        st.setdefault("threads", [])
        for item in iter_objects(path, cursor):
            if isinstance(item, Problem):
                yield item
                continue
            line_no, obj = item
            try:
                if isinstance(obj.get("msg"), dict):
                    yield from self._legacy(obj["msg"], st, path, line_no)
                else:
                    yield from self._event(obj, st, path, line_no)
            except (TypeError, ValueError) as exc:
                yield Problem(str(path), line_no, f"unreadable {obj.get('type') or 'event'}: {exc}")
        for thread in st["threads"] or ([path.stem] if st.get("calls") else []):
            yield Run(
                run_id=f"{self.name}:{thread}",
                source=self.name,
                harness=HARNESS,
                model=None,  # the audit takes the model that did most of the work
                provider=PROVIDER,
                cache_policy="auto",  # OpenAI caches prompt prefixes automatically
                task_id=thread,
                source_file=str(path),
            )

    def _event(self, obj: dict, st: dict, path: Path, line_no: int) -> Iterator[Record]:
        kind = obj.get("type")
        if kind == "thread.started":
            _start_thread(st, obj.get("thread_id"))
        elif kind == "turn.started":
            st["tools"] = 0
        elif kind == "item.completed":
            item = obj.get("item") if isinstance(obj.get("item"), dict) else {}
            if item.get("type") in _TOOL_ITEMS:
                st["tools"] = st.get("tools", 0) + 1
        elif kind == "turn.completed":
            usage = _usage(obj.get("usage"), "usage")
            delta = _delta(st["totals"], st.get("thread") or "", usage)
            if delta is not None:
                yield self._call(delta, st, path, line_no, {"granularity": "turn"}, st.pop("tools", 0))
        elif kind in ("turn.failed", "error"):
            error = obj.get("error") if isinstance(obj.get("error"), dict) else obj
            yield Event(
                event_id=f"{self.name}:{st.get('thread') or path.stem}:{line_no}",
                kind=kind.replace(".", "_"),
                source=self.name,
                run_id=f"{self.name}:{st['thread']}" if st.get("thread") else None,
                session_id=st.get("thread"),
                data={"message": error.get("message")},
                source_file=str(path),
                source_line=line_no,
            )

    def _legacy(self, msg: dict, st: dict, path: Path, line_no: int) -> Iterator[Record]:
        kind = msg.get("type")
        if kind == "session_configured":
            _start_thread(st, msg.get("session_id"))
            st["model"] = msg.get("model") if isinstance(msg.get("model"), str) else st.get("model")
        elif kind == "token_count":
            if "info" not in msg:
                yield self._call(_usage(msg, "token_count"), st, path, line_no, {}, 0)  # one response's usage
                return
            info = msg.get("info")
            if not isinstance(info, dict):
                return  # a rate-limit-only update carries no usage
            if info.get("total_token_usage") is not None:
                delta = _delta(st["totals"], st.get("thread") or "", _usage(info["total_token_usage"], "total_token_usage"))
            else:
                delta = _usage(info.get("last_token_usage"), "last_token_usage")
            if delta is not None:
                yield self._call(delta, st, path, line_no, {}, 0)

    def _call(self, usage: list[int], st: dict, path: Path, line_no: int, tags: dict, tools: int) -> Call:
        tokens = Tokens.from_prompt_including_cached(*usage)
        thread = st.get("thread") or path.stem
        st["calls"] = st.get("calls", 0) + 1
        return Call(
            call_id=f"{self.name}:{thread}:{line_no}",
            source=self.name,
            provider=PROVIDER,
            model=st.get("model"),
            harness=HARNESS,
            tokens=tokens,
            run_id=f"{self.name}:{thread}",
            session_id=st.get("thread"),
            tool_calls=tools,
            tags=tags,
            source_file=str(path),
            source_line=line_no,
        )


def _start_thread(st: dict, thread: Any) -> None:
    if isinstance(thread, str) and thread:
        st["thread"] = thread
        if thread not in st["threads"]:
            st["threads"].append(thread)


def _usage(raw: Any, where: str) -> list[int]:
    """``[input, cached, output, reasoning, cache writes]`` from a usage object; missing or odd counts raise."""
    if not isinstance(raw, dict):
        raise TypeError(f"{where} is {raw!r}")
    out = []
    for key in _FIELDS:
        value = raw.get(key)
        if value is None and key in ("input_tokens", "output_tokens"):
            raise ValueError(f"{where}.{key} missing")
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise TypeError(f"{where}.{key} is {value!r}")
        out.append(value or 0)
    return out


def _delta(totals: dict[str, list[int]], thread: str, now: list[int]) -> list[int] | None:
    """The usage since the previous cumulative total of ``thread``; None when nothing changed."""
    before = totals.get(thread)
    totals[thread] = now
    if before is not None and len(before) < len(now):  # a cursor saved before a field existed: it counted 0
        before = [*before, *[0] * (len(now) - len(before))]
    if before is None or any(n < b for n, b in zip(now, before)):
        return now  # first total seen, or a new process restarted the count
    delta = [n - b for n, b in zip(now, before)]
    return delta if any(delta) else None
