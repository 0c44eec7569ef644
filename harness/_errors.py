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

__all__ = ["HarnessError", "SpecError", "ProfileNotFound", "RouterUnreachable"]


class HarnessError(Exception):
    """Base class of every error the harness raises on purpose."""


class SpecError(HarnessError):
    """A profile file does not satisfy the spec language.

    ``problems`` holds ``(file, line, key, message)`` tuples; ``str()`` renders
    one ``file:line: key: message`` line per problem (line is 1-based).
    """

    def __init__(self, problems: list[tuple[str, int, str, str]]) -> None:
        self.problems = sorted(problems, key=lambda p: (p[0], p[1]))
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
