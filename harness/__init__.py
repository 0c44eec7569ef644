"""image-router-conformance: certify OpenAI-compatible image-generation routers against their documented contract.

spec (YAML) -> JSON Schemas + Hypothesis strategies -> cases -> requests ->
checks -> evidence -> report. The names below are the public API; modules with
a leading underscore are private.
"""

from __future__ import annotations

__version__ = "0.1.0"

from ._cases import Case, build_plan
from ._errors import HarnessError, ProfileNotFound, RouterUnreachable, SpecError
from ._requirements import catalogue
from ._results import results_schema
from ._schema import error_schema, request_schema, request_violations, response_schema
from ._spec import Profile, Requirement, load_profile

__all__ = [
    "Case",
    "HarnessError",
    "Profile",
    "ProfileNotFound",
    "Requirement",
    "RouterUnreachable",
    "SpecError",
    "__version__",
    "build_plan",
    "catalogue",
    "error_schema",
    "load_profile",
    "request_schema",
    "request_violations",
    "response_schema",
    "results_schema",
]
