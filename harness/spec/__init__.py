"""The spec step: YAML profile files -> the typed, fully resolved :class:`Profile`.

``model`` is the domain (no I/O), ``load`` reads files (line-numbered YAML,
meta-schema, ``extends``), ``build`` turns resolved data into the model and
``requirements`` lists every requirement a run can pass or fail.
"""

from __future__ import annotations

from .build import load_profile
from .case import Case
from .model import (
    ENDPOINT_PREFIX,
    PIL_FORMATS,
    Condition,
    Conflict,
    Endpoint,
    ErrorSpec,
    Header,
    Model,
    ModelEndpoint,
    Param,
    Profile,
    Requirement,
    ResponseSpec,
    Rule,
    Source,
    StreamSpec,
)
from .requirements import BehaviourId

__all__ = [
    "Case", "Condition", "Conflict", "ENDPOINT_PREFIX", "Endpoint", "ErrorSpec", "Header", "Model", "ModelEndpoint",
    "PIL_FORMATS", "Param", "Profile", "Requirement", "ResponseSpec", "Rule", "Source", "StreamSpec", "BehaviourId",
    "load_profile",
]
