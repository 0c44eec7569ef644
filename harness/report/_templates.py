"""The Jinja2 environment of the report templates: autoescaping on, and the filters they share."""

from __future__ import annotations

import json
from functools import cache
from typing import Any
from urllib.parse import quote

import jinja2

__all__ = ["render", "requirement_anchor"]


def requirement_anchor(requirement_id: str) -> str:
    """The ``id`` of a requirement's row in ``report.html`` (``index.html`` links to ``report.html#<anchor>``)."""
    return "req-" + "".join(c if c.isalnum() or c in "-._" else "_" for c in requirement_id)


def _href(name: str, file: str) -> str:
    """A relative link to ``<name>/<file>``, safe for any folder name (``./`` keeps it from reading as a scheme)."""
    return f"./{quote(name)}/{file}"


def _pretty_json(value: Any) -> str:
    # ensure_ascii=False: a cut string's marker shows as "…[28,556 chars]", not as a literal \u2026
    return json.dumps(value, indent=2, ensure_ascii=False)


@cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(loader=jinja2.PackageLoader("harness.report", "templates"), autoescape=True,
                                     undefined=jinja2.StrictUndefined, keep_trailing_newline=False)
    environment.filters.update(anchor=requirement_anchor, href=_href, pretty_json=_pretty_json)
    return environment


def render(template: str, **context: Any) -> str:
    """``templates/<template>`` rendered with ``context`` (every value HTML-escaped unless marked safe)."""
    return _environment().get_template(template).render(**context)
