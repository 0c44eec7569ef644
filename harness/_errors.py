"""The exceptions the harness raises, in one tree.

HarnessError                 every error the harness raises on purpose
 ├── SpecError               a profile file is malformed (file, line, key)          exit 2
 ├── ProfileNotFound         --profile names no built-in profile and no file        exit 2
 ├── MissingApiKey           the API key variable is unset or empty                 exit 2
 ├── UsageError              options the harness refuses to act on (a paid load     exit 2
 │                           run with no --max-generations; Locust not installed)
 └── NotAssessed             the router cannot be judged; nothing is blamed on it   exit 3
      ├── RouterUnreachable  no TCP connection to the router could be made
      ├── ApiKeyRejected     a valid request with the configured key got 401 / 403
      └── EndpointNotFound   the endpoint is not at the base URL (404 / 405 on it)

A router that answers badly never raises: a bad answer is a failed check with
evidence. These exceptions are for the operator's inputs and for a router that
cannot be reached as configured, which is the operator's to fix, not the
router's failure. Exception text never contains the router API key.
"""

from __future__ import annotations

from pathlib import Path

from typing import NamedTuple

__all__ = ["EXIT_MUST_FAILED", "EXIT_NOT_ASSESSED", "EXIT_OK", "EXIT_USAGE", "ApiKeyRejected", "EndpointNotFound",
           "HarnessError", "MissingApiKey", "NotAssessed", "Problem", "ProfileNotFound", "RouterUnreachable",
           "SpecError", "UsageError"]

#: Exit codes of a run: every MUST requirement passed; a MUST requirement failed; a usage or spec error
#: (SpecError, ProfileNotFound); the router could not be assessed (RouterUnreachable, no answers).
EXIT_OK, EXIT_MUST_FAILED, EXIT_USAGE, EXIT_NOT_ASSESSED = 0, 1, 2, 3


class Problem(NamedTuple):
    """One mistake in a profile file: ``file``, 1-based ``line``, dotted ``key`` path, ``message``."""

    file: str
    line: int
    key: str
    message: str


class HarnessError(Exception):
    """Base class of every error the harness raises on purpose."""


class UsageError(HarnessError):
    """Options the harness refuses to act on; the message says what to change."""


class SpecError(HarnessError):
    """A profile file does not satisfy the spec language.

    ``problems`` holds :class:`Problem` tuples, sorted by file and line;
    ``str()`` renders one ``file:line: key: message`` line per problem.
    """

    def __init__(self, problems: list[tuple[str, int, str, str]]) -> None:
        self.problems = sorted((Problem(*p) for p in problems), key=lambda p: (p.file, p.line))
        super().__init__(
            "\n".join(f"{f}:{line}: {key or '(top level)'}: {msg}" for f, line, key, msg in self.problems)
        )


class ProfileNotFound(HarnessError):
    """``--profile`` named neither a built-in profile nor an existing file."""

    def __init__(self, name: str, *, available: list[str]) -> None:
        self.name = name
        self.available = available
        if "/" in name or name.endswith((".yaml", ".yml")):  # meant as a path: say the file is missing
            message = f"profile file {name!r} not found (looked for {Path(name).resolve()})"
        else:
            message = f"no profile {name!r}; built-in profiles: {', '.join(available)}; or pass a path to a .yaml file"
        super().__init__(message)


class MissingApiKey(HarnessError):
    """The environment variable ``variable`` that should hold the router's API key is unset or empty."""

    def __init__(self, variable: str) -> None:
        self.variable = variable
        super().__init__(f"the API key variable {variable} is not set (or empty): export {variable}=<your key>, "
                         f"or name another variable with --api-key-env")


class NotAssessed(HarnessError):
    """The router cannot be judged as configured: the run is ``not-assessed`` (exit 3) and no requirement passes."""


class RouterUnreachable(NotAssessed):
    """The router at ``url`` accepted no connection (refused, DNS, timeout)."""

    def __init__(self, url: str, *, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"router not reachable at {url}: {reason}")


class ApiKeyRejected(NotAssessed):
    """A valid request sent with the key from ``variable`` was answered ``status`` (401 or 403)."""

    def __init__(self, url: str, *, status: int, variable: str) -> None:
        self.url, self.status, self.variable = url, status, variable
        super().__init__(f"the router rejected the API key (HTTP {status} to a valid request at {url}); "
                         f"check that {variable} holds a key this router accepts")


class EndpointNotFound(NotAssessed):
    """``POST url`` was answered ``status`` (404 or 405) as an unknown route: the base URL is wrong."""

    def __init__(self, url: str, *, status: int, hint: str) -> None:
        self.url, self.status = url, status
        super().__init__(f"POST {url} answered HTTP {status}, as for a route that does not exist; "
                         f"--router-url is the OpenAI SDK base URL (usually ending in /v1){hint}")
