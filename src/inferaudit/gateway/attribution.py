"""Who and what a request is for: gateway headers, the protocols' own fields, virtual keys, the client."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

HEADER_USER = b"x-inferaudit-user"
HEADER_FEATURE = b"x-inferaudit-feature"
HEADER_TASK = b"x-inferaudit-task"
HEADER_HARNESS = b"x-inferaudit-harness"
HEADER_TAGS = b"x-inferaudit-tags"  # "k=v,k2=v2"
HEADER_RUN = b"x-inferaudit-run"

# harnesses recognised by their user agent when they do not say who they are
USER_AGENTS: dict[str, str] = {
    "claude-cli/": "claude-code",
    "claude-code/": "claude-code",
    "codex_cli_rs/": "codex",
    "codex_exec/": "codex",
    "gemini-cli/": "gemini-cli",
    "aider/": "aider",
    "mini-swe-agent": "mini-swe-agent",
    "openai/python": "openai-python",
    "anthropic/python": "anthropic-python",
}


# harnesses that name their session in a header: the run id matches what their log importer uses,
# so a session seen both through the gateway and in its logs is one run
SESSION_HEADERS: dict[bytes, str] = {
    b"x-claude-code-session-id": "claude-code:{}",
}


@dataclass(slots=True)
class Attribution:
    user: str | None = None
    feature: str | None = None
    task: str | None = None
    run: str | None = None
    harness: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


def from_request(headers: dict[bytes, bytes], body: dict[str, Any], key_user: str | None, key_team: str | None) -> Attribution:
    """Headers win; then the protocol's own user fields; then the virtual key's owner."""
    def header(name: bytes) -> str | None:
        value = headers.get(name)
        return value.decode("utf-8", "replace") if value else None

    tags = _tags(header(HEADER_TAGS))
    if key_team:
        tags.setdefault("team", key_team)
    return Attribution(
        user=header(HEADER_USER) or _body_user(body) or key_user,
        feature=header(HEADER_FEATURE),
        task=header(HEADER_TASK),
        run=header(HEADER_RUN) or _session_run(headers),
        harness=header(HEADER_HARNESS) or _harness_from_agent(header(b"user-agent")),
        tags=tags,
    )


def _session_run(headers: dict[bytes, bytes]) -> str | None:
    for name, pattern in SESSION_HEADERS.items():
        value = headers.get(name)
        if value:
            return pattern.format(value.decode("utf-8", "replace"))
    return None


def _body_user(body: dict[str, Any]) -> str | None:
    user = body.get("user")  # OpenAI chat / responses
    if isinstance(user, str) and user:
        return user
    metadata = body.get("metadata")  # Anthropic messages
    if isinstance(metadata, dict) and isinstance(metadata.get("user_id"), str):
        return _structured_user(metadata["user_id"])
    return None


def _structured_user(raw: str) -> str:
    """Claude Code packs JSON into ``metadata.user_id`` (device, account, session): keep who, not which session."""
    if raw.startswith("{"):
        try:
            parsed = json.loads(raw)
        except ValueError:
            return raw
        if isinstance(parsed, dict):
            for key in ("account_uuid", "device_id"):
                if parsed.get(key):
                    return f"{key.split('_')[0]}:{parsed[key]}"
    return raw


def _harness_from_agent(agent: str | None) -> str | None:
    if not agent:
        return None
    lowered = agent.lower()
    for prefix, harness in USER_AGENTS.items():
        if lowered.startswith(prefix) or f" {prefix}" in lowered:
            return harness
    return None


def _tags(raw: str | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in (raw or "").split(","):
        key, sep, value = part.partition("=")
        if sep and key.strip():
            out[key.strip()] = value.strip()
    return out
