"""A planned request: what the planner makes from a profile and every later step reads.

It lives apart from the contract (``model``): a case is a step of a run, not
part of what a router documents.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..rules.values import upload_bytes

__all__ = ["Case"]


@dataclass(frozen=True)
class Case:
    """One request of a run and what it proves.

    ``kind`` is ``valid`` (expect 200 and images), ``stream`` (a valid request
    asking to stream: expect 200 and server-sent events), ``invalid`` (expect
    a 4xx error) or ``auth`` (expect 401/403). ``requirements[0]`` is the one the
    case exists for. ``auth`` is ``valid``, ``missing`` or ``wrong`` (which key
    the client sends). ``headers`` are extra request headers (``None``: do not
    send that header at all). ``params`` are the request fields an invalid case
    gets wrong (what ``error.param`` should name). ``billable`` is true when a conformant router
    charges for it; ``images`` is how many images that would be; ``upload_bytes``
    the bytes of the input files it uploads. ``skip`` is why the case cannot be
    sent as configured (empty: send it).
    """

    id: str
    kind: str
    endpoint: str
    model: str
    body: dict[str, Any]
    requirements: tuple[str, ...]
    billable: bool
    origin: str
    auth: str = "valid"
    note: str = ""
    headers: dict[str, str | None] = field(default_factory=dict)
    encoding: str = "json"
    params: tuple[str, ...] = ()
    skip: str = ""

    @property
    def images(self) -> int:
        n = self.body.get("n", 1)
        return n if self.billable and isinstance(n, int) else 0

    @property
    def upload_bytes(self) -> int:
        return upload_bytes(self.body)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "requirement": self.requirements[0],
            "requirements": list(self.requirements),
            "kind": self.kind,
            "valid": self.kind in ("valid", "stream"),
            "billable": self.billable,
            "images": self.images,
            "upload_bytes": self.upload_bytes,
            "endpoint": self.endpoint,
            "model": self.model,
            "auth": self.auth,
            "origin": self.origin,
            "encoding": self.encoding,
            "headers": self.headers,
            "request": self.body,
            **({"skip": self.skip} if self.skip else {}),
        }
