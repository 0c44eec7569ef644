"""The ids of behaviour requirements: what every router must do, whatever its rules.

Rule requirements come from a profile's rules (``gen.gpt-image-2.size.max-edge``).
Behaviour requirements are the same for every router (a valid request is
answered 200, ``data`` holds ``n`` images, errors have the documented shape);
their level, title and the profile words each cites are registered with the
check that judges them (``harness.checks``). Here are only their ids, as
constants, so the planner, the checks and the faults name them one way.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ACCEPTS_VALID", "AUTH_NO_KEY_ECHO", "AUTH_REQUIRED", "AUTH_STATUS_401", "AUTH_WRONG_KEY", "BehaviourId",
    "CONTENT_TYPE", "DATA_COUNT", "ERROR_NO_IMAGE", "ERROR_PARAM", "ERROR_SHAPE", "ERROR_STATUS", "IMAGE_DECODES",
    "IMAGE_DIMENSIONS", "IMAGE_FORMAT", "IMAGE_TRANSPARENT", "IMAGE_URL_REACHABLE", "JSON_INTEROPERABLE", "JSON_STRICT", "MODEL_KNOWN", "STREAM_EVENTS", "STREAM_IMAGES", "STREAM_ORDER",
    "STREAM_SERVED", "STREAM_USAGE", "REJECTION", "RESPONSE_CREATED",
    "RESPONSE_ECHO", "RESPONSE_SCHEMA", "USAGE_CONSISTENT",
]


@dataclass(frozen=True)
class BehaviourId:
    """A behaviour requirement's id: ``slug`` under an endpoint's prefix (``gen.data.count``), or bare for
    profile-wide behaviour (``error.shape``, ``auth.required``)."""

    slug: str
    per_endpoint: bool = True

    def at(self, prefix: str) -> str:
        """The id on the endpoint with requirement-id ``prefix`` (``gen``, ``edit``)."""
        return f"{prefix}.{self.slug}" if self.per_endpoint else self.slug

    def __str__(self) -> str:
        return self.slug


ACCEPTS_VALID = BehaviourId("accepts-valid")
CONTENT_TYPE = BehaviourId("content-type")
RESPONSE_SCHEMA = BehaviourId("response.schema")
IMAGE_DECODES = BehaviourId("image.decodes")
DATA_COUNT = BehaviourId("data.count")
IMAGE_FORMAT = BehaviourId("image.format")
IMAGE_DIMENSIONS = BehaviourId("image.dimensions")
RESPONSE_ECHO = BehaviourId("response.echo")
RESPONSE_CREATED = BehaviourId("response.created")
USAGE_CONSISTENT = BehaviourId("usage.consistent")
IMAGE_TRANSPARENT = BehaviourId("image.transparent")
IMAGE_URL_REACHABLE = BehaviourId("image.url-reachable")
MODEL_KNOWN = BehaviourId("model.known")
ERROR_SHAPE = BehaviourId("error.shape", per_endpoint=False)
ERROR_STATUS = BehaviourId("error.status", per_endpoint=False)
ERROR_NO_IMAGE = BehaviourId("error.no-image", per_endpoint=False)
ERROR_PARAM = BehaviourId("error.param", per_endpoint=False)
AUTH_STATUS_401 = BehaviourId("auth.status-401", per_endpoint=False)
AUTH_NO_KEY_ECHO = BehaviourId("auth.no-key-echo", per_endpoint=False)
AUTH_REQUIRED = BehaviourId("auth.required", per_endpoint=False)
AUTH_WRONG_KEY = BehaviourId("auth.wrong-key", per_endpoint=False)
STREAM_SERVED = BehaviourId("stream.served")
STREAM_EVENTS = BehaviourId("stream.events")
STREAM_ORDER = BehaviourId("stream.order")
STREAM_IMAGES = BehaviourId("stream.images")
STREAM_USAGE = BehaviourId("stream.usage")
JSON_STRICT = BehaviourId("json.strict", per_endpoint=False)
JSON_INTEROPERABLE = BehaviourId("json.interoperable", per_endpoint=False)

#: What every rejection of an invalid request is also judged for.
REJECTION = (ERROR_SHAPE.slug, ERROR_STATUS.slug, ERROR_NO_IMAGE.slug, ERROR_PARAM.slug)
