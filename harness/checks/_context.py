"""What a check sees: the case, the router's answer, and what is parsed or decoded from it (once).

Parsing is lazy and cached, so the ten checks of a valid answer decode its
images once, and an answer that is not JSON, or holds no images, never
crashes a check: the context says what is missing and the check judges that.
"""

from __future__ import annotations

import base64
import binascii
import io
from dataclasses import dataclass, field
from html.parser import HTMLParser
from functools import cached_property
from typing import Any, NamedTuple

from jsonschema.exceptions import ValidationError, best_match
from PIL import Image, UnidentifiedImageError

from ..derive.schema import compiled_validator
from .._json import Parsed
from ..rules.size import geometry, parse_size, size_segments
from ..spec import Case, ModelEndpoint, Profile
from ..spec.requirements import BehaviourId
from ..transport.client import Exchange
from ._registry import CheckResult

__all__ = ["NOT_A_REJECTION", "CheckContext", "Decoded", "DecodedImage", "decode_b64_image", "html_title", "largest_pixels"]

#: Statuses that mean "not allowed", "not here" or "slow down", never "rejected as invalid": a request answered so
#: was never judged against the rule it breaks (a 404 is the route or resource missing, 405 the method).
NOT_A_REJECTION = frozenset({401, 403, 404, 405, 407, 429})


@dataclass(frozen=True)
class DecodedImage:
    """``data[index]`` decoded: the image, or why it could not be (``problem``)."""

    index: int
    image: Image.Image | None
    problem: str = ""
    header: tuple[int, int, str | None] | None = None  # (width, height, PIL format) as the file declares them


class Decoded(NamedTuple):
    """An image file decoded (``image``), or why not (``problem``); ``header`` is (width in pixels, height in
    pixels, PIL format) as the file declares them, read even when it is too large to decode."""

    image: Image.Image | None
    problem: str
    header: tuple[int, int, str | None] | None = None


@dataclass
class CheckContext:
    """One case and its exchange, as the checks read them; ``target`` is the model endpoint the case names."""

    profile: Profile
    target: ModelEndpoint
    case: Case
    exchange: Exchange
    images_seen: list[Image.Image] = field(default_factory=list)
    _schema_errors: dict[str, ValidationError | None] = field(default_factory=dict, repr=False)

    def result(self, requirement: BehaviourId | str, passed: bool, message: str = "") -> CheckResult:
        """A result for ``requirement`` (a behaviour id is placed under this endpoint's prefix)."""
        rid = requirement.at(self.target.prefix) if isinstance(requirement, BehaviourId) else requirement
        return CheckResult(rid, passed, message)

    def no_answer(self, requirement: BehaviourId | str) -> CheckResult:
        """``requirement`` failed because no full HTTP answer arrived (timeout, reset, oversized body)."""
        return self.result(requirement, False, f"no answer: {self.exchange.error}")

    def expected(self, name: str) -> Any:
        """What the request asked for ``name``, documented defaults applied."""
        return self.target.effective(self.case.body).get(name)

    # ------------------------------------------------------------------ the answer

    @property
    def answered(self) -> bool:
        """A full HTTP answer arrived (no timeout, reset or oversized body)."""
        return self.exchange.error is None and self.exchange.status is not None

    @property
    def accepted(self) -> bool:
        return self.answered and self.exchange.status == 200

    @property
    def rejected(self) -> bool:
        """Refused as the case expects: 401/403 for an auth case; else a 4xx that is not an auth or load answer."""
        if not self.answered:
            return False
        status: int = self.exchange.status  # type: ignore[assignment]
        if self.case.kind == "auth":
            return status in (401, 403)
        return 400 <= status < 500 and status not in NOT_A_REJECTION

    @property
    def intermediary(self) -> bool:
        """The answer looks like a proxy's or load balancer's, not the router's: a 413, or an HTML page."""
        return self.answered and (self.exchange.status == 413 or
                                  self.exchange.content_type.split(";")[0].strip().lower() == "text/html")

    def describe(self) -> str:
        """The answer in one line: the transport error, or the status and the start of the body; a 413 and an
        HTML page (an intermediary's answer: a proxy, a load balancer) say so, with the request's size."""
        exchange = self.exchange
        if exchange.error:
            return exchange.error
        snippet = exchange.content[:200].decode("utf-8", "replace")
        sent = f"the request body was {exchange.request_bytes:,} bytes"
        if exchange.status == 413:
            return f"HTTP 413 (Content Too Large): {sent}, refused as too large by the router or a proxy in front of it"
        if exchange.content_type.split(";")[0].strip().lower() == "text/html":
            title = html_title(exchange.content)
            return (f"HTTP {exchange.status} with an HTML page{f' ({title!r})' if title else ''}, not the router's "
                    f"JSON: most likely an intermediary (proxy, gateway, load balancer) answered; {sent}")
        return f"HTTP {exchange.status}: {snippet}"

    @cached_property
    def parsed(self) -> tuple[Any, str | None]:
        """``(body, None)`` for a JSON body, else ``(None, why not)``."""
        try:
            return self.exchange.json(), None
        except ValueError as exc:
            return None, f"body is not JSON ({exc.__class__.__name__}: {str(exc)[:120]})"

    @property
    def body(self) -> Any:
        return self.parsed[0]

    @property
    def parsed_json(self) -> Parsed | None:
        """The body as read by :func:`harness._json.parse` (with its deviations), ``None`` when not JSON."""
        if not self.answered:
            return None
        try:
            return self.exchange.parsed_json()
        except ValueError:
            return None

    @property
    def data(self) -> list[Any] | None:
        """``data`` of a JSON object body when it is a list (else nothing more can be read)."""
        body = self.body
        return body["data"] if isinstance(body, dict) and isinstance(body.get("data"), list) else None

    def schema_error(self, kind: str) -> ValidationError | None:
        """The most relevant error of the body against the ``response`` or ``error`` schema (``None``: valid)."""
        if kind not in self._schema_errors:
            validator = compiled_validator(self.profile, kind, op=self.target if kind == "response" else None)
            self._schema_errors[kind] = best_match(validator.iter_errors(self.body))
        return self._schema_errors[kind]

    def schema_result(self, requirement: BehaviourId, kind: str) -> CheckResult:
        """``requirement`` judged by the body's validity against the ``kind`` schema, naming where it breaks."""
        _, problem = self.parsed
        if problem:
            return self.result(requirement, False, f"{problem}; {self.describe()}" if self.intermediary else problem)
        error = self.schema_error(kind)
        where = "/".join(str(p) for p in error.absolute_path) if error is not None else ""
        return self.result(requirement, error is None, f"{where or '(body)'}: {error.message[:300]}" if error else "")

    # ------------------------------------------------------------------ images

    @property
    def images_asked(self) -> int:
        """How many images the request asked for (``n``, default 1)."""
        n = self.expected("n")
        return n if isinstance(n, int) and not isinstance(n, bool) and 0 < n <= 128 else 1

    @property
    def max_pixels(self) -> int:
        """The most pixels an image of this answer is decoded at: 4x the asked ``size`` (at least 1024x1024),
        else twice the largest size the profile documents (at least 4096x4096); see :func:`largest_pixels`."""
        asked = parse_size(self.expected("size"))
        if asked is not None:
            return max(4 * asked[0] * asked[1], 1024 * 1024)
        return max(2 * largest_pixels(self.profile), 4096 * 4096)

    @cached_property
    def images(self) -> list[DecodedImage]:
        """The first :attr:`images_asked` items of ``data`` decoded from the field the request selects (``b64_json``
        or a fetched ``url``); more are never decoded (``data.count`` judges how many came). An image whose
        header declares more than :attr:`max_pixels` is not decoded either."""
        fields = self.target.image_fields_for(self.case.body)
        decoded = []
        for index, item in enumerate((self.data or [])[:self.images_asked]):
            image, problem, header = _image_of(item, fields, self.exchange, self.max_pixels)
            decoded.append(DecodedImage(index, image, problem, header))
            if image is not None:
                self.images_seen.append(image)
        return decoded


class _TitleParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.title, self._inside = "", False

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self._inside = tag == "title" and not self.title

    def handle_endtag(self, tag: str) -> None:
        self._inside = False

    def handle_data(self, data: str) -> None:
        if self._inside:
            self.title += data


def html_title(content: bytes) -> str:
    """The ``<title>`` of an HTML page (its first 4 kB; at most 120 characters), or ``""``."""
    parser = _TitleParser()
    parser.feed(content[:4096].decode("utf-8", "replace"))
    return " ".join(parser.title.split())[:120]


_LARGEST: dict[str, int] = {}


def largest_pixels(profile: Profile) -> int:
    """The most pixels any documented ``size`` of ``profile`` has (0 when it documents none as ``WxH``)."""
    if profile.sha256 not in _LARGEST:
        _LARGEST[profile.sha256] = _largest_pixels(profile)
    return _LARGEST[profile.sha256]


def _largest_pixels(profile: Profile) -> int:
    best = 0
    for target in profile.model_endpoints():
        param = target.params.get("size")
        if param is None:
            continue
        for value in param.rule_value("allowed") or param.choices or ():
            parsed = parse_size(value)
            best = max(best, parsed[0] * parsed[1] if parsed else 0)
        for w, _lo, hi, _step in size_segments(geometry(param), None) if geometry(param) else ():
            best = max(best, w * hi)
    return best


def _image_of(item: Any, fields: tuple[str, ...], exchange: Exchange, max_pixels: int) -> Decoded:
    """The decoded image of one ``data[]`` item, from the first of ``fields`` it carries."""
    if not isinstance(item, dict):
        return Decoded(None, f"not an object: {str(item)[:80]!r}")
    field_name = next((f for f in fields if item.get(f)), None)
    if field_name is None:
        present = [f for f in fields if f in item]
        if present:
            said = "empty" if item[present[0]] in ("", None) else repr(item[present[0]])[:40]
            return Decoded(None, f"{present[0]} is {said}")
        return Decoded(None, f"no {' or '.join(fields)} field")
    if field_name == "b64_json":
        return decode_b64_image(item[field_name], max_pixels)
    if not isinstance(item[field_name], str):
        return Decoded(None, f"{field_name} is not a string: {str(item[field_name])[:80]!r}")
    download = exchange.downloads.get(item[field_name])
    if download is None:
        return Decoded(None, f"url {str(item[field_name])[:120]!r} was not fetched")
    if download.error or download.status != 200:
        return Decoded(None, f"GET {download.url[:120]}: {download.error or f'HTTP {download.status}'}")
    return _open(download.content, max_pixels)


def decode_b64_image(b64: Any, max_pixels: int) -> Decoded:
    """The image a base64 string holds (never decoding more than ``max_pixels``), or why there is none."""
    if not isinstance(b64, str) or not b64:
        return Decoded(None, "no base64 image string")
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        return Decoded(None, f"not valid base64 ({exc})")
    return _open(raw, max_pixels)


def _open(raw: bytes, max_pixels: int) -> Decoded:
    """Decode ``raw``, checking the declared dimensions from the header first (decoding allocates them)."""
    try:
        image = Image.open(io.BytesIO(raw))
        width, height = image.size
        header = (width, height, image.format)
        if width * height > max_pixels:
            return Decoded(None, f"declares {width}x{height} pixels, more than the {max_pixels:,} an answer to this "
                           "request can need; not decoded", header)
        image.load()
    # Pillow signals a corrupt file with SyntaxError or EOFError as well as OSError
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as exc:
        return Decoded(None, f"{len(raw):,} bytes that Pillow cannot decode ({exc.__class__.__name__})")
    return Decoded(image, "", header)
