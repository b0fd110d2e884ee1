"""The importer seam: one small interface every log or result format implements.

A source is a pure parser. It is chosen by sniffing the first bytes of a
file (``sniff``), may claim sibling files that belong to the same unit
(``members``, e.g. an OpenHands result folder), and turns a unit into
records (``read``). It never touches the ledger.

Incremental reading: ``read`` receives a :class:`Cursor` with the byte
offset and state left by the previous read of the same file. An
append-only format (JSONL logs) resumes from there; a whole-document format
reads from the start and ends with the cursor at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol

import orjson

from ..usage import Problem, Record


@dataclass(slots=True)
class Cursor:
    """Where the previous read of a file stopped, and what it needs to carry on."""

    offset: int = 0  # bytes consumed: always at a line boundary
    line: int = 0  # lines consumed, so problems name the right line after a resume
    state: dict[str, Any] = field(default_factory=dict)


class Source(Protocol):
    """One log or result format."""

    name: str
    append_only: bool  # True: a grown file is read from the cursor, not from the start

    def sniff(self, path: Path, head: bytes) -> bool:
        """Whether ``head`` (the file's first bytes) is this format."""

    def members(self, path: Path) -> list[Path]:
        """Every file of the unit that ``path`` opens (usually just ``path``)."""

    def read(self, path: Path, cursor: Cursor) -> Iterator[Record]:
        """Yield records from ``cursor`` on; advance the cursor as lines are consumed."""


class FileSource:
    """Defaults for sources whose unit is a single file."""

    name = "?"
    append_only = False

    def members(self, path: Path) -> list[Path]:
        return [path]


CHUNK = 8 << 20


def iter_jsonl(
    path: Path, cursor: Cursor, want: Callable[[bytes], bool] | None = None
) -> Iterator[tuple[int, Any] | Problem]:
    """Parse a JSONL file from ``cursor``: ``(line_no, object)``, or a Problem per bad line.

    Reads in chunks, so memory stays flat on large files. A last line
    without its newline that does not parse is a write in progress or a
    truncated file: it is reported, but left unconsumed, so a later read
    picks it up once it is complete.

    ``want`` lets an importer skip the JSON parse of lines it has no use
    for (most of a Claude Code log is progress and tool output): such a
    line is only checked to be one whole JSON object (``{`` ... ``}``), so
    a truncated or garbled line is still reported.
    """
    loads = orjson.loads
    decode_error = orjson.JSONDecodeError
    with open(path, "rb") as fh:
        fh.seek(cursor.offset)
        carry = b""
        while True:
            chunk = fh.read(CHUNK)
            data = carry + chunk if carry else chunk
            if not chunk:
                break
            pos = 0
            while True:
                end = data.find(b"\n", pos)
                if end < 0:
                    break
                raw = data[pos:end]
                cursor.line += 1
                cursor.offset += end + 1 - pos
                pos = end + 1
                if not raw or raw.isspace():
                    continue
                if want is not None and not want(raw):
                    stripped = raw.strip()
                    if stripped[:1] != b"{" or stripped[-1:] != b"}":
                        yield Problem(str(path), cursor.line, "malformed JSON: not one whole JSON object")
                    continue
                try:
                    obj = loads(raw)
                except decode_error as exc:
                    yield Problem(str(path), cursor.line, f"malformed JSON: {exc}")
                    continue
                yield (cursor.line, obj)
            carry = data[pos:]
        if carry.strip():
            try:
                obj = loads(carry)
            except decode_error:
                yield Problem(str(path), cursor.line + 1, RETRY_MARK + "truncated last line (no newline)")
                return
            cursor.line += 1
            cursor.offset += len(carry)
            yield (cursor.line, obj)


RETRY_MARK = "[incomplete] "
"""Problems whose reason starts with this are dropped when the file is read again."""


def iter_objects(
    path: Path, cursor: Cursor, want: Callable[[bytes], bool] | None = None
) -> Iterator[tuple[int, dict[str, Any]] | Problem]:
    """Like :func:`iter_jsonl`, but a line that is valid JSON yet not an object is a Problem too."""
    for item in iter_jsonl(path, cursor, want):
        if isinstance(item, Problem) or isinstance(item[1], dict):
            yield item
        else:
            yield Problem(str(path), item[0], "not a JSON object")


def read_document(path: Path, cursor: Cursor) -> tuple[bytes, Any] | Problem:
    """A whole JSON document and its bytes; the cursor ends at its end whether it parses or not."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return Problem(str(path), None, f"cannot read: {exc.strerror or exc}")
    cursor.offset, cursor.line = len(data), data.count(b"\n")
    try:
        return data, orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        return Problem(str(path), getattr(exc, "lineno", None), f"malformed JSON: {exc}")


def item_lines(data: bytes, key: str) -> list[int]:
    """1-based lines where the items of top-level array ``key`` start, in a document indented by 2."""
    opening = f'  "{key}": ['.encode()
    out: list[int] = []
    inside = False
    for number, line in enumerate(data.split(b"\n"), 1):
        if line.startswith(b"  ]") and inside:
            break
        inside = inside or line.startswith(opening)
        if inside and line.rstrip() == b"    {":
            out.append(number)
    return out


def load_json(path: Path) -> Any | Problem:
    """A whole JSON document, or a Problem naming the file."""
    try:
        return orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        return Problem(str(path), _line_of(exc), f"malformed JSON: {exc}")
    except OSError as exc:
        return Problem(str(path), None, f"cannot read: {exc.strerror or exc}")


def _line_of(exc: orjson.JSONDecodeError) -> int | None:
    return getattr(exc, "lineno", None)
