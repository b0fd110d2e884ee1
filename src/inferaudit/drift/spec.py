"""One OpenAPI document, and what it says about one JSON path of one schema.

A path is written the way the gateway's field tables write it: dotted keys,
``[]`` after a key for each item of that array (``choices[].delta.content``).
A schema that is a union of events (``ResponseStreamEvent``) is narrowed first
by its ``type`` value (``response.completed``), or ``*`` for every variant.

``$ref`` is followed; ``allOf`` parts are merged into one object;
``oneOf``/``anyOf`` are unions: a key is present when any variant has it, its
types and enum values are those of all variants together, and it is required
only when every variant that has it requires it. A nullable field
(``anyOf: [X, {type: null}]``) therefore reads as types ``{object, null}``.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

try:  # libyaml parses a 3 MB spec in under a second; the pure-Python loader takes several
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

REF_PREFIX = "#/components/schemas/"
CACHE_VERSION = 1


class SpecError(ValueError):
    """A spec file that cannot be read, or a schema it does not define."""


@dataclass(frozen=True, slots=True)
class Shape:
    """What a spec says about one path: enough to tell a change a client would notice."""

    types: frozenset[str]
    required: bool
    enum: frozenset[str] | None = None  # None: any value of its types
    properties: frozenset[str] = frozenset()  # keys of the object(s) found there
    carriers: frozenset[str] | None = None  # for a ``*`` event lookup: the event types that have the path


@dataclass(frozen=True, slots=True)
class Segment:
    key: str
    each: bool  # ``key[]``: step into the array's items


def parse_path(path: str) -> tuple[str | None, tuple[Segment, ...]]:
    """``"error:error.message"`` -> (``"error"``, segments); a path without ``:`` has no event selector."""
    selector, _, rest = path.rpartition(":") if ":" in path else (None, "", path)
    segments: list[Segment] = []
    for part in rest.split(".") if rest else ():
        each = part.endswith("[]")
        segments.append(Segment(part[:-2] if each else part, each))
    return selector or None, tuple(segments)


class Spec:
    """An OpenAPI 3.x document's ``components.schemas``, queried by path."""

    def __init__(self, document: Any, source: str) -> None:
        if not isinstance(document, dict) or not isinstance(document.get("components"), dict):
            raise SpecError(f"{source}: not an OpenAPI document (no components)")
        self.source = source
        self.schemas: dict[str, Any] = document["components"].get("schemas") or {}
        info = document.get("info") if isinstance(document.get("info"), dict) else {}
        self.version = str(info.get("version", "?"))
        self._flat: dict[int, list[dict[str, Any]]] = {}

    # -- lookup ----------------------------------------------------------------

    def has_schema(self, name: str) -> bool:
        return name in self.schemas

    def lookup(self, schema: str, path: str) -> Shape | None:
        """The shape at ``path`` inside ``schema``, or None when the spec has no such field."""
        if schema not in self.schemas:
            raise SpecError(f"{self.source}: no schema {schema!r} in components.schemas")
        selector, segments = parse_path(path)
        roots = self._variants(self.schemas[schema])
        if selector is None:
            return self._walk(roots, segments)
        if selector != "*":
            return self._walk([v for v in roots if selector in _tags(v)], segments)
        found = [(v, self._walk([v], segments)) for v in roots]
        found = [(v, shape) for v, shape in found if shape is not None]
        if not found:
            return None
        shapes = [shape for _, shape in found]
        return Shape(
            types=frozenset().union(*(s.types for s in shapes)),
            required=all(s.required for s in shapes),
            enum=_union_enums([s.enum for s in shapes]),
            properties=frozenset().union(*(s.properties for s in shapes)),
            carriers=frozenset().union(*(_tags(v) for v, _ in found)),
        )

    def _walk(self, variants: list[dict[str, Any]], segments: tuple[Segment, ...]) -> Shape | None:
        if not variants:
            return None
        required = True
        for segment in segments:
            found: list[dict[str, Any]] = []
            flags: list[bool] = []
            for variant in variants:
                prop = variant["properties"].get(segment.key)
                if prop is not None:
                    found.extend(self._variants(prop))
                    flags.append(segment.key in variant["required"])
            if not found:
                return None
            required = all(flags)
            if segment.each:
                found = [item for v in found if v["items"] is not None for item in self._variants(v["items"])]
                if not found:
                    return None
            variants = found
        return Shape(
            types=frozenset(t for v in variants for t in v["types"]),
            required=required,
            enum=_union_enums([v["enum"] for v in variants if v["types"] != {"null"}]),
            properties=frozenset(k for v in variants for k in v["properties"]),
        )

    # -- schema flattening ------------------------------------------------------

    def _resolve(self, node: Any) -> Any:
        seen: set[str] = set()
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if not ref.startswith(REF_PREFIX) or ref in seen:
                return {}  # an external or circular reference: an open schema
            seen.add(ref)
            node = self.schemas.get(ref[len(REF_PREFIX):], {})
        return node if isinstance(node, dict) else {}

    def _variants(self, node: Any) -> list[dict[str, Any]]:
        """``node`` as a list of plain variants (unions spread out, ``allOf`` merged)."""
        node = self._resolve(node)
        key = id(node)
        if key not in self._flat:
            self._flat[key] = []  # a recursive schema reads as open while it is being flattened
            self._flat[key] = self._flatten(node)
        return self._flat[key]

    def _flatten(self, node: dict[str, Any]) -> list[dict[str, Any]]:
        for union in ("oneOf", "anyOf"):
            if isinstance(node.get(union), list):
                return [v for member in node[union] for v in self._variants(member)]
        own = _plain(node)
        if not isinstance(node.get("allOf"), list):
            return [own]
        merged = own
        for part in node["allOf"]:
            for variant in self._variants(part):
                merged = _merge(merged, variant)
        return [merged]


def _plain(node: dict[str, Any]) -> dict[str, Any]:
    kind = node.get("type")
    types = set(kind) if isinstance(kind, list) else ({kind} if isinstance(kind, str) else set())
    enum = node.get("enum")
    values = {str(v) for v in enum} if isinstance(enum, list) else None
    if "const" in node:
        values = {str(node["const"])}
    properties = node.get("properties") if isinstance(node.get("properties"), dict) else {}
    if not types:
        types = {"object"} if properties else ({"array"} if "items" in node else set())
    required = set(node.get("required") or ())
    return {"types": types, "enum": values, "properties": dict(properties), "required": required, "items": node.get("items")}


def _merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    types = (a["types"] & b["types"]) or (a["types"] | b["types"])
    enum = a["enum"] if b["enum"] is None else (b["enum"] if a["enum"] is None else a["enum"] & b["enum"])
    return {"types": types, "enum": enum, "properties": {**a["properties"], **b["properties"]},
            "required": a["required"] | b["required"], "items": a["items"] if a["items"] is not None else b["items"]}


def _tags(variant: dict[str, Any]) -> frozenset[str]:
    """The ``type`` values an event variant declares (its discriminator)."""
    prop = variant["properties"].get("type")
    if not isinstance(prop, dict):
        return frozenset()
    values = prop.get("enum") or ([prop["const"]] if "const" in prop else [])
    return frozenset(str(v) for v in values)


def _union_enums(enums: list[frozenset[str] | set[str] | None]) -> frozenset[str] | None:
    """The values all variants allow together; None (any value) as soon as one variant is open."""
    if not enums or any(e is None for e in enums):
        return None
    return frozenset().union(*enums)


# -- loading -------------------------------------------------------------------


def read_document(path: Path) -> Any:
    """A YAML or JSON spec file (``.gz`` allowed), parsed."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SpecError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    try:
        return yaml.load(raw, Loader=_Loader)  # JSON is YAML too
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: not valid YAML/JSON ({exc})") from None


def load_spec(path: Path, *, cache_dir: Path | None = None) -> Spec:
    """The spec in ``path``; with ``cache_dir``, the parsed document is kept there, keyed by the file's bytes."""
    path = Path(path)
    if cache_dir is None:
        return Spec(read_document(path), str(path))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:24]
    cached = cache_dir / f"spec-{CACHE_VERSION}-{digest}.pickle"
    try:
        with cached.open("rb") as handle:
            return Spec(pickle.load(handle), str(path))
    except (OSError, pickle.UnpicklingError, EOFError):
        pass
    document = read_document(path)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(pickle.dumps(document, protocol=pickle.HIGHEST_PROTOCOL))
        partial.replace(cached)
    except OSError:
        pass  # a read-only home only costs the parse next time
    return Spec(document, str(path))


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "inferaudit"
