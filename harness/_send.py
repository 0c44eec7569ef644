"""Sending one case: the request a :class:`~harness.spec.Case` stands for, and the image downloads it needs.

``conformance run`` and ``conformance load`` send cases the same way, so
both judge the same bytes: a multipart case is sent as the form its model
endpoint documents, and only a profile whose images are URLs makes the
harness fetch anything (no more images than the case asked for).
"""

from __future__ import annotations

from .spec import Case, Profile
from .transport.client import Exchange, RouterClient
from .transport.forms import form_parts

__all__ = ["images_asked", "send_case"]


def images_asked(case: Case) -> int:
    """How many images ``case`` asks for (its ``n``, else 1), at most 16."""
    n = case.body.get("n", 1) if isinstance(case.body, dict) else 1
    return min(16, n) if isinstance(n, int) and not isinstance(n, bool) and n > 0 else 1


def send_case(client: RouterClient, profile: Profile, case: Case) -> Exchange:
    """POST ``case`` to its endpoint of ``profile`` through ``client``; the answer (never raises on a bad one)."""
    endpoint = profile.endpoints[case.endpoint]
    target = profile.model_endpoint(case.endpoint, case.model)
    form = form_parts(target, case.body) if case.encoding == "multipart" and target is not None else None
    exchange = client.post(endpoint.path, case.body, auth=case.auth, headers=case.headers, form=form)
    if case.kind == "valid" and target is not None and "url" in target.image_fields_for(case.body):
        client.fetch_image_urls(exchange, limit=images_asked(case))
    return exchange
