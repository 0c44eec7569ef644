"""Checks of the JSON text itself: what RFC 8259 forbids (MUST) or warns against (SHOULD), on every answer.

Every profile documents JSON answers; JSON is RFC 8259. Python's parser
forgives a byte order mark, ``NaN`` and duplicate names, and strict clients
(Go, Rust's serde, browsers' ``JSON.parse`` for ``NaN``) do not, so each is a
finding here rather than a silent fix (see :mod:`harness._json`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..spec import Profile, Source
from ..spec.requirements import JSON_INTEROPERABLE, JSON_STRICT
from ._context import CheckContext
from ._registry import CheckResult, check

__all__: list[str] = []

_RFC_8259 = "https://www.rfc-editor.org/rfc/rfc8259"


def _strict_source(profile: Profile, target: Any) -> Source:
    return Source("RFC 8259", "Implementations MUST NOT add a byte order mark (U+FEFF) to the beginning of a "
                  "networked-transmitted JSON text. [...] Numeric values that cannot be represented in the grammar "
                  "below (such as Infinity and NaN) are not permitted.",
                  title="RFC 8259: The JavaScript Object Notation (JSON) Data Interchange Format", url=_RFC_8259)


def _interoperable_source(profile: Profile, target: Any) -> Source:
    return Source("RFC 8259", "The names within an object SHOULD be unique. [...] good interoperability can be "
                  "achieved by implementations that expect no more precision or range than these [IEEE 754 "
                  "binary64 numbers] provide",
                  title="RFC 8259: The JavaScript Object Notation (JSON) Data Interchange Format", url=_RFC_8259)


@check(JSON_STRICT, kinds=("valid", "stream", "invalid", "auth"), cites=_strict_source,
       title="every JSON answer is JSON text: no byte order mark, no NaN or Infinity")
def json_strict(ctx: CheckContext) -> Iterator[CheckResult]:
    parsed = ctx.parsed_json
    if parsed is None:
        return  # not JSON at all: the content type and schema checks say so
    problems = (["a UTF-8 byte order mark before the text"] if parsed.bom else []) + \
        [f"{token} (not a JSON number)" for token in parsed.not_numbers[:3]]
    yield ctx.result(JSON_STRICT, not problems, "; ".join(problems))


@check(JSON_INTEROPERABLE, kinds=("valid", "stream", "invalid", "auth"), level="SHOULD", cites=_interoperable_source,
       title="every JSON answer has unique object names and numbers a 64-bit float can hold")
def json_interoperable(ctx: CheckContext) -> Iterator[CheckResult]:
    parsed = ctx.parsed_json
    if parsed is None:
        return
    problems = [f"name {name!r} given twice in one object (a strict reader may keep either)"
                for name in parsed.duplicates[:3]] + \
        [f"number {token} is beyond a 64-bit float" for token in parsed.out_of_range[:3]]
    yield ctx.result(JSON_INTEROPERABLE, not problems, "; ".join(problems))
