"""The fields the gateway reads and writes, gathered from the modules that read and write them.

Each wire-protocol and translation module declares, beside its code, the JSON
paths it touches per API object (its ``READS`` / ``WRITES`` tables). This
module only collects them; nothing here is a second, hand-kept list.

Path syntax: dotted keys; ``key[]`` steps into each item of an array; ``*``
(alone or as the last key) is a whole subtree read or written as it is
(usage extras, a tool's JSON schema); ``event:path`` narrows a stream-event
union to one event ``type`` (``*:path`` is any event).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from ..providers import openai_chat, openai_responses
from ..translate import (
    anthropic_events,
    anthropic_request,
    chat_to_responses_answer,
    chat_to_responses_chunks,
    chat_to_responses_request,
    common,
    gemini_answer,
    gemini_chunks,
    gemini_request,
    openai_chunks,
    openai_request,
    responses,
    responses_api,
    responses_events,
)

# Modules whose READS / WRITES tables describe the OpenAI protocols the gateway speaks.
OPENAI_MODULES: tuple[ModuleType, ...] = (
    openai_chat, openai_responses, common, anthropic_events, responses, openai_chunks, openai_request,
    anthropic_request, responses_api, responses_events, gemini_request, gemini_answer, gemini_chunks,
    chat_to_responses_request, chat_to_responses_answer, chat_to_responses_chunks,
)

# Keys of self-hosted servers' own objects (vLLM, SGLang, llama.cpp): read by the providers, not OpenAI's API.
SERVER_KEYS = frozenset(openai_chat.SERVER_EXTRAS)


@dataclass(frozen=True, slots=True)
class FieldUse:
    """One path of one API object, and which modules read or write it."""

    obj: str  # e.g. "chat.chunk"
    path: str  # e.g. "choices[].delta.tool_calls[].index"
    reads: tuple[str, ...] = ()  # module names (short)
    writes: tuple[str, ...] = ()

    @property
    def mode(self) -> str:
        return "+".join(m for m, used in (("read", self.reads), ("write", self.writes)) if used)


def gateway_fields(modules: tuple[ModuleType, ...] = OPENAI_MODULES) -> list[FieldUse]:
    """Every declared path, once per (object, path), with who reads and who writes it; sorted."""
    seen: dict[tuple[str, str], tuple[list[str], list[str]]] = {}
    for module in modules:
        name = module.__name__.rsplit(".", 1)[-1]
        for table, slot in (("READS", 0), ("WRITES", 1)):
            for obj, paths in getattr(module, table, {}).items():
                for path in paths:
                    users = seen.setdefault((obj, path), ([], []))[slot]
                    if name not in users:
                        users.append(name)
    return [FieldUse(obj, path, tuple(r), tuple(w)) for (obj, path), (r, w) in sorted(seen.items())]


def declared(modules: tuple[ModuleType, ...] = OPENAI_MODULES, *, table: str = "READS") -> dict[str, set[str]]:
    """Object -> declared paths, from one kind of table (``READS`` or ``WRITES``)."""
    out: dict[str, set[str]] = {}
    for module in modules:
        for obj, paths in getattr(module, table, {}).items():
            out.setdefault(obj, set()).update(paths)
    return out


# -- coverage: is a path the code touched among the declared ones? -----------------


def _split(path: str) -> tuple[str, list[str]]:
    event, _, rest = path.rpartition(":") if ":" in path else ("", "", path)
    return event, rest.split(".") if rest else []


def covers(declared_paths: set[str], path: str, *, whole: bool = False) -> bool:
    """Whether ``path`` (touched by code) is declared.

    A key read on the way to a declared path is covered (``choices`` for
    ``choices[].finish_reason``); a whole-object read (``whole``: iterating
    every key, as usage extras do) needs a declared ``*`` at or above it; a
    single key read is never covered by a ``*``, so a mapper that starts
    reading a new usage field must name it. Keys inside a self-hosted
    server's own objects (``metrics``, ``timings``, ...) are the
    speculative-decoding readers' business and are not OpenAI fields.
    """
    event, keys = _split(path)
    if any(key.removesuffix("[]") in SERVER_KEYS for key in keys):
        return True
    for candidate in declared_paths:
        cand_event, cand_keys = _split(candidate)
        if cand_event not in (event, "*"):
            continue
        if cand_keys and cand_keys[-1] == "*":
            if whole and keys[: len(cand_keys) - 1] == cand_keys[:-1]:
                return True
            continue
        if not whole and _bare(cand_keys[: len(keys)]) == _bare(keys):
            return True
    return False


def _bare(keys: list[str]) -> list[str]:
    """Keys without their ``[]``: reading ``choices`` itself is on the way to ``choices[].finish_reason``."""
    return [key.removesuffix("[]") for key in keys]
