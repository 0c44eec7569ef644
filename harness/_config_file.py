"""``conformance run --config FILE`` (default ``./conformance.toml``): a gate's options in TOML, typed once.

Keys are the long option names with ``_`` for ``-`` (``router_url``, ``max_generations``, ``fail_on``,
``profile``, ``report_dir``); lists stand for repeated options (``header = ["X-Route: a"]``,
``profile = ["openai", "worldrouter"]``) and for comma lists (``models = ["gpt-image-2"]``). A flag on
the command line wins over the file (a repeated one adds to the file's list). The API key is never in the file: ``api_key_env`` names the
variable that holds it.
"""

from __future__ import annotations

import tomllib
from argparse import ArgumentTypeError
from pathlib import Path
from typing import Any

from ._errors import HarnessError
from .options import OPTIONS

__all__ = ["ConfigFileError", "load_config_file"]

#: ``run``'s own options (not :class:`~harness.options.RunConfig` fields): key -> argparse dest.
_RUN_KEYS = {"profile": "profiles", "report_dir": "report_dir", "quiet": "quiet", "verbose": "verbose"}
_SECRET_KEYS = ("api_key", "key", "token", "password")


class ConfigFileError(HarnessError):
    """A ``--config`` file that cannot be read: not TOML (with its line), an unknown key, a wrong type."""


def _option(key: str) -> Any:
    """The option a file key names: its field name (``headers``) or its flag without dashes (``header``)."""
    return next((o for o in OPTIONS if o.name == key or o.flag == f"--{key.replace('_', '-')}"), None)


def _value(path: Path, key: str, value: Any) -> Any:
    option = _option(key)
    if option is None:
        if key not in _RUN_KEYS:
            known = sorted([*(o.flag[2:].replace("-", "_") for o in OPTIONS), *_RUN_KEYS])
            raise ConfigFileError(f"{path}: unknown key {key!r}; known: {', '.join(known)}")
        if key == "profile":
            return [value] if isinstance(value, str) else list(value)
        return Path(value) if key == "report_dir" else bool(value)
    if option.flag_only:
        if not isinstance(value, bool):
            raise ConfigFileError(f"{path}: {key} must be true or false, not {value!r}")
        return value
    try:
        if option.repeatable:
            return [option.parse(str(v)) for v in (value if isinstance(value, list) else [value])]
        return option.parse(",".join(map(str, value)) if isinstance(value, list) else str(value))
    except (ValueError, TypeError, ArgumentTypeError) as exc:
        raise ConfigFileError(f"{path}: {key} = {value!r}: {exc}") from None


def load_config_file(path: Path) -> dict[str, Any]:
    """argparse destination -> value for each key of the TOML file ``path``.

    Raises :class:`ConfigFileError` naming the file (and the line, for TOML syntax), or the key.
    """
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigFileError(f"{path}: cannot read the config file ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigFileError(f"{path}: not TOML: {exc}") from None
    found: dict[str, Any] = {}
    for key, value in raw.items():
        if key.lower() in _SECRET_KEYS:
            raise ConfigFileError(f"{path}: {key!r}: the key never goes in a file; set api_key_env to the "
                                  "environment variable that holds it")
        option = _option(key)
        found[_RUN_KEYS.get(key) or (option.name if option is not None else key)] = _value(path, key, value)
    return found
