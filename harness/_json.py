"""Reading a router's JSON strictly: what RFC 8259 forbids or warns against is found, never silently fixed.

Python's ``json`` module reads more than JSON: it skips a UTF-8 byte order
mark, takes ``NaN`` and ``Infinity``, turns ``1e999`` into infinity and
keeps the last of duplicate names. A router answer that relies on any of
that breaks strict clients, so the harness reads the body once, notes each
deviation (the checks judge them), and hands the checks a value that is
plain finite JSON: a non-finite number becomes a string naming it, so no
artifact the harness writes can carry ``NaN`` either.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Parsed", "parse"]

_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


@dataclass
class Parsed:
    """A body read as JSON: ``value`` (finite, duplicates resolved as Python does: the last wins) and the
    deviations found, each at most 20 times: ``bom`` (a byte order mark before the text), ``not_numbers``
    (``NaN``, ``Infinity``, ``-Infinity``: not JSON at all), ``out_of_range`` (numbers beyond an IEEE 754
    double, as written, e.g. ``1e999``), ``duplicates`` (object names given twice)."""

    value: Any
    bom: bool = False
    not_numbers: list[str] = field(default_factory=list)
    out_of_range: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)


def parse(raw: bytes) -> Parsed:
    """Read ``raw`` as JSON text; raises ``ValueError`` when it is not JSON at all (or nests absurdly deep)."""
    found = Parsed(None, bom=raw.startswith(_BOMS))

    def constant(token: str) -> str:
        if len(found.not_numbers) < 20:
            found.not_numbers.append(token)
        return f"<{token}: not a JSON number>"

    def number(token: str) -> float | str:
        value = float(token)
        if math.isfinite(value):
            return value
        if len(found.out_of_range) < 20:
            found.out_of_range.append(token[:40])
        return f"<{token[:40]}: beyond a 64-bit float>"

    def members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in pairs:
            if name in out and len(found.duplicates) < 20:
                found.duplicates.append(name[:80])
            out[name] = value
        return out

    try:
        found.value = json.loads(raw, parse_constant=constant, parse_float=number, object_pairs_hook=members)
    except RecursionError:
        raise ValueError("JSON nested too deeply to parse") from None
    return found
