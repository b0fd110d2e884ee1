"""Which published spec describes each provider's objects, and the pinned snapshot of it.

One :class:`ProviderApi` per provider, in :data:`PROVIDERS`: the vendored
snapshot (``specs/<provider>/``, with its date; sources in ``specs/SOURCES.md``),
the schema each API object of the field tables lives in, where one object is
nested in another (a chat response's ``usage`` is a ``CompletionUsage``), and
a note for fields the gateway uses that the spec does not define.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import ModuleType

from .fields import OPENAI_MODULES


@dataclass(frozen=True)
class ProviderApi:
    name: str
    pinned: str  # file name under specs/<name>/
    pinned_date: str
    schemas: dict[str, str]  # API object (as the field tables name it) -> component schema
    mounts: tuple[tuple[str, str, str], ...]  # (object, path, nested object): that path holds that object
    modules: tuple[ModuleType, ...]
    notes: dict[str, str] = field(default_factory=dict)  # "object path" or "path" -> why the spec lacks it

    def pinned_path(self) -> Path:
        return Path(str(resources.files("inferaudit.drift") / "specs" / self.name / self.pinned))

    def note(self, obj: str, path: str) -> str:
        return self.notes.get(f"{obj} {path}") or self.notes.get(path) or self.notes["*"]


OPENAI = ProviderApi(
    name="openai",
    pinned="openapi-2026-05-13.yaml.gz",
    pinned_date="2026-05-13",
    schemas={
        "chat.request": "CreateChatCompletionRequest",
        "chat.response": "CreateChatCompletionResponse",
        "chat.chunk": "CreateChatCompletionStreamResponse",
        "chat.usage": "CompletionUsage",
        "chat.error": "ErrorResponse",
        "responses.request": "CreateResponse",
        "responses.response": "Response",
        "responses.usage": "ResponseUsage",
        "responses.event": "ResponseStreamEvent",
        "responses.error": "ErrorResponse",
    },
    mounts=(
        ("chat.response", "usage", "chat.usage"),
        ("chat.chunk", "usage", "chat.usage"),
        ("responses.response", "usage", "responses.usage"),
        ("responses.event", "*:response", "responses.response"),
    ),
    modules=OPENAI_MODULES,
    notes={
        "*": "not in this spec: an OpenAI-compatible server's field, read when present",
        "chat.chunk error": "a failure after the 200 (`data: {\"error\": ...}`); the API sends it and the "
        "openai SDK raises on it, the spec does not describe it",
        "chat.chunk error.message": "see `error`: mid-stream failures are not in the spec",
        "chat.response error": "OpenAI-compatible servers that answer 200 with an error object",
        "chat.response error.message": "see `error`",
        "choices[].delta.reasoning_content": "vLLM / DeepSeek / llama.cpp reasoning text",
        "choices[].delta.reasoning": "vLLM (newer) / Ollama reasoning text",
        "choices[].message.reasoning_content": "vLLM / DeepSeek / llama.cpp reasoning text",
        "choices[].message.reasoning": "vLLM (newer) / Ollama reasoning text",
        "choices[].message.content[].text": "servers that send a message's content as a list of text parts",
        "choices[].stop_reason": "vLLM: the stop string that ended the answer",
        "prompt_tokens_details.cache_write_tokens": "prompt-cache writes (GPT-5.6 and later; older specs lack it)",
        "message": "other protocols' error shape (one reader serves every protocol)",
        "detail": "FastAPI-style error bodies of self-hosted servers",
        "error:error.type": "recorded streams nest the error under `error`; the spec has it at the top level",
        "error:error.code": "recorded streams nest the error under `error`; the spec has it at the top level",
        "error:error.message": "recorded streams nest the error under `error`; the spec has it at the top level",
        "error:error.param": "recorded streams nest the error under `error`; the spec has it at the top level",
    },
)

PROVIDERS: dict[str, ProviderApi] = {api.name: api for api in (OPENAI,)}


def get(name: str) -> ProviderApi:
    try:
        return PROVIDERS[name]
    except KeyError:
        raise ValueError(f"no API catalog for provider {name!r}; known: {', '.join(sorted(PROVIDERS))}") from None
