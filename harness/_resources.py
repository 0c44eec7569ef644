"""Where the built-in specs and suites live, installed or in a checkout.

A wheel carries them under ``harness/_data``; an editable install or a plain
checkout reads them from the repository root, so both layouts work unchanged.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _data_dir(name: str) -> Path:
    packaged = _PACKAGE / "_data" / name
    if packaged.is_dir():
        return packaged
    return _PACKAGE.parent / name


def specs_dir() -> Path:
    """The folder holding ``meta-schema.json`` and ``profiles/*.yaml``."""
    return _data_dir("specs")


def suites_dir() -> Path:
    """The folder holding the pytest conformance suites."""
    return _data_dir("suites")


def builtin_profiles() -> dict[str, Path]:
    """Built-in profile names mapped to their YAML files, sorted by name."""
    return {p.stem: p for p in sorted((specs_dir() / "profiles").glob("*.yaml"))}
