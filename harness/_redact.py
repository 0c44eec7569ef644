"""One redactor for the API key, in every spelling a router might echo it.

A hostile or careless router can send the key back raw, JSON-escaped in
whole or in part (``\\u0073\\u006b...``, ``sk-a\\/b``), base64-encoded (alone or as ``Bearer <key>``),
percent-encoded, as hex, or lower-cased in a header name. Redaction of the
raw bytes alone misses most of these, so every string that reaches an
artifact or the terminal passes through :class:`Redactor`: raw bytes as they
arrive, decoded JSON values, header names and values, and check messages.
"""

from __future__ import annotations

import base64
import re
import urllib.parse
from typing import Any

__all__ = ["KEY_PLACEHOLDER", "Redactor"]

#: What stands for the key in recorded headers, bodies, messages and curl lines.
KEY_PLACEHOLDER = "$ROUTER_API_KEY"


def _spellings(key: str) -> list[str]:
    """The forms of ``key`` a router may echo, longest first (so a longer form is replaced whole)."""
    raw = key.encode()
    forms = {key}
    for plain in (raw, b"Bearer " + raw):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(plain).decode()
            forms |= {encoded, encoded.rstrip("=")}
    forms.add(urllib.parse.quote(key, safe=""))
    forms.add("".join(f"%{b:02x}" for b in raw))
    forms.add(raw.hex())
    forms.add("".join(f"\\u{b:04x}" for b in raw))  # every character JSON-escaped
    return sorted(forms, key=len, reverse=True)


def _json_text_pattern(key: str) -> str:
    """A regex for ``key`` as JSON text may spell it with any of its characters escaped (``\\u0073``, ``\\/``):
    the raw body, and a message quoting it, then hold the key without ever holding its plain form."""
    def one(char: str) -> str:
        escapes = [re.escape(char), re.escape(f"\\u{ord(char):04x}")]
        if char in '/"\\':
            escapes.append(re.escape("\\" + char))
        return f"(?:{'|'.join(escapes)})"
    return "".join(one(c) for c in key)


class Redactor:
    """Replaces the API key, in any of its spellings, by :data:`KEY_PLACEHOLDER`.

    Matching ignores case throughout (hex and percent-encoding are
    case-free, a header name arrives lower-cased; a chance match of a key's
    length elsewhere is negligible). base64 forms match padded or not.
    With no key (``None`` or empty) every method returns its input unchanged.
    """

    def __init__(self, key: str | None) -> None:
        self._key = key or ""
        if not self._key:
            self._text = self._bytes = None
            return
        spellings = _spellings(self._key)
        self._lower = [f.lower() for f in spellings]
        self._lower_bytes = [f.encode() for f in self._lower]
        exact = "|".join([*(re.escape(f) for f in spellings), _json_text_pattern(self._key)])
        self._text = re.compile(exact, re.IGNORECASE)
        self._bytes = re.compile(exact.encode(), re.IGNORECASE)

    def __bool__(self) -> bool:
        return bool(self._key)

    def text(self, value: str) -> str:
        """``value`` with every spelling of the key replaced."""
        if self._text is None:
            return value
        lower = value.lower()  # a case-free substring search first: the regex only runs where the key may be
        maybe = "\\" in value or any(f in lower for f in self._lower)
        return self._text.sub(KEY_PLACEHOLDER, value) if maybe else value

    def bytes(self, value: bytes) -> bytes:
        """Raw bytes (a response body as it arrived) with every spelling of the key replaced."""
        if self._bytes is None:
            return value
        lower = value.lower()
        maybe = b"\\" in value or any(f in lower for f in self._lower_bytes)
        return self._bytes.sub(KEY_PLACEHOLDER.encode(), value) if maybe else value

    def value(self, value: Any) -> Any:
        """A decoded JSON value with every string in it (object names included) redacted."""
        if self._text is None:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(k) if isinstance(k, str) else k: self.value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        return value
