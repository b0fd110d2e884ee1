"""Errors of the bench part.

::

    BenchError                 anything the bench cannot do
    ├── SuiteError             a suite or task file is malformed (names the file and the field)
    ├── TriplesError           a triples file is malformed (names the file and the field)
    └── HarnessError           a harness cannot be built or started (unknown adapter, binary missing)

Per-attempt trouble (a verifier that crashes, a model the gateway does not
serve) is not raised: it is recorded on the attempt, and the run goes on.
"""

from __future__ import annotations


class BenchError(Exception):
    """Something the bench cannot do; the message says what and where."""


class SuiteError(BenchError):
    """A suite or task file is malformed; the message names the file and the field."""


class TriplesError(BenchError):
    """A triples file is malformed; the message names the file and the field."""


class HarnessError(BenchError):
    """A harness adapter cannot be built or started."""
