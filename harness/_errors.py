"""The exceptions the harness raises, in one tree.

HarnessError                 every error the harness raises on purpose
 ├── SpecError               a profile file is malformed (file, line, key)
 ├── ProfileNotFound         --profile names no built-in profile and no file
 └── RouterUnreachable       no TCP connection to the router could be made

A router that answers badly never raises: a bad answer is a failed check with
evidence. These exceptions are for the harness's own inputs and transport.
Exception text never contains the router API key.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["EXIT_MUST_FAILED", "EXIT_NOT_ASSESSED", "EXIT_OK", "EXIT_USAGE", "HarnessError", "Problem",
           "ProfileNotFound", "RouterUnreachable", "SpecError"]

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
        super().__init__(f"no profile {name!r}; built-in profiles: {', '.join(available)}; or pass a path to a .yaml file")


class RouterUnreachable(HarnessError):
    """The router at ``url`` accepted no connection (refused, DNS, timeout)."""

    def __init__(self, url: str, *, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"router not reachable at {url}: {reason}")
