"""The SSE parser: the event-stream rules, and the same events however the bytes are cut."""

from __future__ import annotations

import random

import pytest

from inferaudit.providers.base import SSEEvent
from inferaudit.providers.errors import UpstreamProtocolError
from inferaudit.providers.sse import SSEParser, encode_event

E = SSEEvent

# One stream with every feature the parser must handle: a BOM, comments, event names,
# multi-line data, ids and retries to ignore, an event without data, multi-byte UTF-8
# (2, 3 and 4 bytes), a field without a colon, "data:" without a space and with two.
MIXED = (
    "\ufeff: keep-alive comment\n"
    "event: message_start\n"
    'data: {"type":"message_start"}\n'
    "\n"
    "id: 7\n"
    "retry: 3000\n"
    "data: first line\n"
    "data:second line, no space\n"
    "data:  two spaces keep one\n"
    "\n"
    "event: lonely-name-without-data\n"
    "\n"
    "data: héllo → 世界 🎉\n"
    "\n"
    "data\n"
    "\n"
    "data: [DONE]\n"
    "\n"
)
MIXED_EVENTS = [
    E("message_start", '{"type":"message_start"}'),
    E(None, "first line\nsecond line, no space\n two spaces keep one"),
    E(None, "héllo → 世界 🎉"),
    E(None, ""),  # a bare "data" field is an empty data line: dispatched with empty data
    E(None, "[DONE]"),
]
LINE_ENDS = {"lf": "\n", "crlf": "\r\n", "cr": "\r"}


def parse(stream: bytes, cuts: list[int] = ()) -> list[SSEEvent]:
    parser, events, start = SSEParser(), [], 0
    for cut in [*cuts, len(stream)]:
        events += parser.feed(stream[start:cut])
        start = cut
    return events + parser.flush()


@pytest.mark.parametrize("line_end", LINE_ENDS.values(), ids=LINE_ENDS.keys())
def test_event_stream_rules(line_end):
    assert parse(MIXED.replace("\n", line_end).encode()) == MIXED_EVENTS


@pytest.mark.parametrize("line_end", LINE_ENDS.values(), ids=LINE_ENDS.keys())
def test_split_at_every_byte_boundary_gives_the_same_events(line_end):
    stream = MIXED.replace("\n", line_end).encode()
    for cut in range(len(stream) + 1):
        assert parse(stream, [cut]) == MIXED_EVENTS, f"cut at byte {cut}: {stream[:cut]!r}"


def test_many_random_cuts_give_the_same_events():
    stream = (MIXED.replace("\n", "\r\n") * 5).encode()
    rng = random.Random(20261127)
    for _ in range(300):
        cuts = sorted(rng.sample(range(len(stream)), rng.randint(1, 40)))
        assert parse(stream, cuts) == MIXED_EVENTS * 5


def test_every_recorded_stream_parses_the_same_byte_by_byte(data):
    """Feeding one byte at a time puts a chunk boundary at every position of every fixture."""
    streams = sorted(data.path.glob("*.sse"))
    assert len(streams) >= 10
    for path in streams:
        stream = path.read_bytes()
        whole = parse(stream)
        assert whole, path.name
        assert parse(stream, list(range(1, len(stream)))) == whole, path.name


def test_cr_then_lf_in_the_next_chunk_is_one_line_end():
    parser = SSEParser()
    assert parser.feed(b"data: a\r") == []
    assert parser.feed(b"\n\r") == [E(None, "a")]  # "\r" + "\n" is one line end; the next "\r" is the blank line
    assert parser.feed(b"\ndata: b\r\n\r\n") == [E(None, "b")]  # and this "\n" completes that "\r\n"


def test_events_are_returned_as_soon_as_their_blank_line_arrives():
    parser = SSEParser()
    assert parser.feed(b'data: {"a": 1}\n') == []
    assert parser.feed(b"\n") == [E(None, '{"a": 1}')]
    assert parser.feed(b"data: x\n\ndata: y\n\ndata: partial") == [E(None, "x"), E(None, "y")]


def test_flush_keeps_an_unterminated_last_event_but_not_a_cut_line():
    parser = SSEParser()
    assert parser.feed(b'data: {"usage": 1}\n') == []
    assert parser.flush() == [E(None, '{"usage": 1}')]
    parser = SSEParser()
    assert parser.feed(b'data: {"usa') == []
    assert parser.flush() == []


def test_utf8_character_cut_between_chunks_is_decoded_whole():
    stream = "data: 世界\n\n".encode()
    cut = stream.index("界".encode()) + 1  # inside the 3-byte character
    assert parse(stream, [cut]) == [E(None, "世界")]


def test_an_event_larger_than_the_limit_is_a_protocol_error():
    parser = SSEParser(max_event_bytes=100)
    parser.feed(b"data: " + b"x" * 90)
    with pytest.raises(UpstreamProtocolError, match="larger than 100 bytes"):
        parser.feed(b"x" * 20)


def test_encode_event_round_trips():
    for event, line_end in [(E(None, "[DONE]"), "\n"), (E("error", "a\nb"), "\n"), (E(None, "{}"), "\r\n")]:
        assert parse(encode_event(event.data, event.event, line_end=line_end)) == [event]
