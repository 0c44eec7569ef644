"""image-router-conformance: certify OpenAI-compatible image-generation routers against their documented contract.

spec (YAML) -> JSON Schemas + Hypothesis strategies -> cases -> requests ->
checks -> evidence -> report. The names below are the public API; everything
else may change between versions.
"""

from __future__ import annotations

from ._errors import HarnessError, ProfileNotFound, RouterUnreachable, SpecError
from ._version import __version__
from .derive.schema import error_schema, request_schema, request_violations, response_schema
from .plan import build_plan
from .results import results_schema
from ._certify import certify
from .results import RunResult
from .checks import catalogue
from .spec import Case, ModelEndpoint, Profile, Requirement, load_profile

__all__ = [
    "Case",
    "HarnessError",
    "ModelEndpoint",
    "Profile",
    "ProfileNotFound",
    "Requirement",
    "RouterUnreachable",
    "SpecError",
    "__version__",
    "RunResult",
    "build_plan",
    "certify",
    "catalogue",
    "error_schema",
    "load_profile",
    "request_schema",
    "request_violations",
    "response_schema",
    "results_schema",
]
