"""Two snapshots of a provider's spec, compared on exactly the fields the gateway reads or writes.

One :class:`Finding` per declared path (``unchanged``, ``changed``,
``added``, ``removed``, or ``missing``: in neither snapshot, with a note
saying why the gateway uses it anyway), plus one per key that appeared in or
left an object the gateway reads into (``new field`` / ``field removed``), and
per key inside an object the gateway keeps whole (usage extras).

A finding *touches* the gateway when a path it uses changed, appeared or
went away, when a whole-kept object (usage) gained or lost a key (a new token
count may need a bucket), or when an object the gateway writes gained a
required key. ``inferaudit drift check`` exits 1 when any finding touches.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .catalog import ProviderApi
from .fields import SERVER_KEYS, FieldUse, gateway_fields
from .spec import Shape, Spec

WHOLE_DEPTH = 3  # how deep keys are compared inside an object kept whole


@dataclass(frozen=True, slots=True)
class Finding:
    obj: str
    schema: str
    path: str
    mode: str  # "read", "write", "read+write", or "" for a key the gateway does not name
    status: str  # unchanged | changed | added | removed | missing | new field | field removed
    detail: str
    touches: bool

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def compare(api: ProviderApi, old: Spec, new: Spec) -> list[Finding]:
    """Every finding for ``api``'s declared fields, old snapshot against new."""
    uses = gateway_fields(api.modules)
    findings: list[Finding] = []
    for use in uses:
        schema = api.schemas.get(use.obj)
        if schema is None:
            raise ValueError(f"field table names object {use.obj!r}, which the {api.name} catalog does not map")
        base = _whole_base(use.path)
        if base is None:
            findings.append(_field(api, schema, use, old.lookup(schema, use.path), new.lookup(schema, use.path)))
        elif use.reads:  # a subtree the gateway keeps as it comes (usage extras)
            named = {u.path for u in uses if u.obj == use.obj}
            findings.extend(f for f in _whole(schema, use, base, old, new) if f.path not in named)
    findings.extend(_siblings(api, uses, old, new))
    return findings


def _whole_base(path: str) -> str | None:
    if path == "*" or path.endswith(":*"):
        return path[:-1]
    if path.endswith(".*"):
        return path[:-2]
    return None


def _field(api: ProviderApi, schema: str, use: FieldUse, before: Shape | None, after: Shape | None) -> Finding:
    def row(status: str, detail: str, touches: bool) -> Finding:
        return Finding(use.obj, schema, use.path, use.mode, status, detail, touches)

    if before is None and after is None:
        return row("missing", api.note(use.obj, use.path), False)
    if before is None:
        return row("added", f"now in the spec: {_describe(after)}", True)
    if after is None:
        return row("removed", f"was {_describe(before)}", True)
    changes = shape_changes(before, after)
    return row("changed", "; ".join(changes), True) if changes else row("unchanged", _describe(after), False)


def shape_changes(before: Shape, after: Shape) -> list[str]:
    """What a client would notice between two shapes of one field, in words."""
    out: list[str] = []
    old_types, new_types = before.types - {"null"}, after.types - {"null"}
    if old_types != new_types:
        out.append(f"type {_types(old_types)} -> {_types(new_types)}")
    if ("null" in before.types) != ("null" in after.types):
        out.append("now nullable" if "null" in after.types else "no longer nullable")
    if before.required != after.required:
        out.append("now required" if after.required else "no longer required")
    if before.enum != after.enum:
        if before.enum is None or after.enum is None:
            out.append("enum dropped (any value)" if after.enum is None else f"now an enum: {_list(after.enum)}")
        else:
            if after.enum - before.enum:
                out.append(f"enum values added: {_list(after.enum - before.enum)}")
            if before.enum - after.enum:
                out.append(f"enum values removed: {_list(before.enum - after.enum)}")
    if before.carriers != after.carriers and before.carriers is not None and after.carriers is not None:
        if after.carriers - before.carriers:
            out.append(f"now also on events: {_list(after.carriers - before.carriers)}")
        if before.carriers - after.carriers:
            out.append(f"no longer on events: {_list(before.carriers - after.carriers)}")
    return out


def _whole(schema: str, use: FieldUse, base: str, old: Spec, new: Spec) -> list[Finding]:
    """Keys that appeared in or left an object the gateway keeps whole, to ``WHOLE_DEPTH`` levels."""
    out: list[Finding] = []
    frontier = [base]
    for _ in range(WHOLE_DEPTH):
        deeper: list[str] = []
        for path in frontier:
            before, after = old.lookup(schema, path), new.lookup(schema, path)
            old_keys = before.properties if before else frozenset()
            new_keys = after.properties if after else frozenset()
            for key in sorted(new_keys ^ old_keys):
                child = _join(path, key)
                if key in new_keys:
                    shape = new.lookup(schema, child)
                    detail = f"{_describe(shape)}; kept whole by {', '.join(use.reads)} (usage extras, no bucket)"
                    out.append(Finding(use.obj, schema, child, use.mode, "added", detail, True))
                else:
                    out.append(Finding(use.obj, schema, child, use.mode, "removed", "was in the kept-whole object", True))
            deeper.extend(_join(path, key) for key in sorted(old_keys & new_keys))
        frontier = deeper
    return out


def _siblings(api: ProviderApi, uses: list[FieldUse], old: Spec, new: Spec) -> list[Finding]:
    """Keys added to or removed from an object the gateway reads into or writes, which it does not name."""
    by_obj: dict[str, list[FieldUse]] = {}
    for use in uses:
        by_obj.setdefault(use.obj, []).append(use)
    out: list[Finding] = []
    for obj, obj_uses in sorted(by_obj.items()):
        schema = api.schemas[obj]
        named = {use.path for use in obj_uses}
        written = _parents([use for use in obj_uses if use.writes])
        wholes = [base for use in obj_uses if use.reads and (base := _whole_base(use.path)) is not None]
        for parent in sorted(_parents(obj_uses)):
            if any(_under(parent, base) for base in wholes):
                continue  # reported key by key as a kept-whole object
            writes = parent in written
            before, after = old.lookup(schema, parent), new.lookup(schema, parent)
            if before is None or after is None:
                continue
            for key in sorted(after.properties - before.properties):
                child = _join(parent, key)
                if child in named:
                    continue
                shape = new.lookup(schema, child)
                required = bool(shape and shape.required)
                detail = f"{_describe(shape)}; the gateway does not use it"
                if required and writes:
                    detail += "; required in an object the gateway writes"
                out.append(Finding(obj, schema, child, "", "new field", detail, required and writes))
            for key in sorted(before.properties - after.properties):
                child = _join(parent, key)
                if child not in named:
                    out.append(Finding(obj, schema, child, "", "field removed", "the gateway does not use it", False))
    return out


def _parents(uses: list[FieldUse]) -> set[str]:
    """Objects on the way to each declared path (``choices[]``, ``choices[].delta``, the root)."""
    out: set[str] = set()
    for use in uses:
        if _whole_base(use.path) is not None:
            continue
        event, _, rest = use.path.rpartition(":") if ":" in use.path else ("", "", use.path)
        if event == "*":
            continue  # every event at once: new event types show in ``*:type`` instead
        keys = rest.split(".")
        if any(key.removesuffix("[]") in SERVER_KEYS for key in keys):
            continue
        prefix = f"{event}:" if event else ""
        for i in range(len(keys)):
            out.add(prefix + ".".join(keys[:i]))
    return out


def _under(path: str, base: str) -> bool:
    return not base or path == base or path.startswith((base + ".", base + "[]"))


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path and not path.endswith(":") else f"{path}{key}"


def _types(types: frozenset[str]) -> str:
    return "|".join(sorted(types)) or "any"


def _list(values: frozenset[str]) -> str:
    return ", ".join(sorted(values))


def _describe(shape: Shape | None) -> str:
    if shape is None:
        return "absent"
    words = [_types(shape.types - {"null"})]
    if "null" in shape.types:
        words.append("nullable")
    words.append("required" if shape.required else "optional")
    if shape.enum is not None:
        values = sorted(shape.enum)
        words.append(f"enum({len(values)})" if len(values) > 6 else "enum: " + ", ".join(values))
    return ", ".join(words)
