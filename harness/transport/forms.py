"""multipart/form-data <-> the JSON body the schemas validate.

Edit endpoints take ``multipart/form-data``: text fields are strings and
images are file uploads, possibly repeated (``image[]``). The harness keeps
one representation of a request, the JSON-like body (an image is a
``data:`` URI), and this module maps it to form parts for sending and back
from received form parts for validation, so the same schema judges both
encodings. Parsing and encoding themselves are left to httpx and
python-multipart (through Starlette).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, NamedTuple

from ..rules.values import data_uri, decode_data_uri
from ..spec import ModelEndpoint

__all__ = ["FileField", "FormParts", "TextField", "body_from_form", "data_uri", "decode_data_uri", "form_parts"]

#: A text part: ``(name, text)``.
TextField = tuple[str, str]
#: A file part as httpx takes it: ``(name, (filename, bytes, media type))``.
FileField = tuple[str, tuple[str, bytes, str]]


class FormParts(NamedTuple):
    """A multipart/form-data body: its text ``fields`` and its ``files``, in order."""

    fields: list[TextField]
    files: list[FileField]

_MEDIA_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def form_parts(op: ModelEndpoint, body: dict[str, Any]) -> FormParts:
    """The form httpx sends for ``body``: text fields, and each image as a file upload.

    An image parameter holding a list is sent as repeated ``<name>[]`` parts
    (OpenAI's and ImageRouter's array form); a single image as ``<name>``.
    Values that are not ``data:`` URIs (e.g. a URL) stay text fields.
    """
    data: list[TextField] = []
    files: list[FileField] = []
    for name, value in body.items():
        param = op.params.get(name)
        if param is not None and param.type == "image":
            values = value if isinstance(value, list) else [value]
            field = f"{name}[]" if isinstance(value, list) else name
            for index, item in enumerate(values):
                decoded = decode_data_uri(item)
                if decoded is None:
                    data.append((field, _text(item)))
                    continue
                raw, media = decoded
                files.append((field, (f"{name}-{index + 1}.{_MEDIA_EXTENSIONS.get(media, 'bin')}", raw, media)))
            continue
        data.append((name, _text(value)))
    return FormParts(data, files)


def _coerce(text: str, json_type: str) -> Any:
    """A form field's text as the JSON type the parameter documents; unchanged when it is not one."""
    try:
        if json_type == "integer" and text.lstrip("-").isdigit():
            return int(text)
        if json_type == "number":
            return float(text)
        if json_type == "boolean" and text in ("true", "false"):
            return text == "true"
        if json_type in ("object", "array"):
            return json.loads(text)
    except ValueError:
        return text
    return text


def body_from_form(op: ModelEndpoint | None, parts: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """The JSON body that form ``parts`` (name, text or ``(bytes, media type)``) stand for.

    ``image[]`` / ``mask[]`` (and each parameter's ``aliases``) map to the
    parameter; a ``[]`` name or a repeated one gives a list; a file becomes
    a ``data:`` URI; text is coerced to the parameter's JSON type when it
    reads as one (``"2"`` -> ``2`` for an integer), else left as text so the
    schema reports the type error.
    """
    params = op.params if op is not None else {}
    alias = {a: p.name for p in params.values() for a in p.aliases}
    collected: dict[str, list[Any]] = {}
    as_list: set[str] = set()
    for raw_name, value in parts:
        name = raw_name
        if name.endswith("[]"):  # the array form, whatever the alias: image[] is always a list
            name = name[:-2]
            as_list.add(alias.get(raw_name, alias.get(name, name)))
        name = alias.get(raw_name, alias.get(name, name))
        if isinstance(value, tuple):
            value = data_uri(*value)
        elif name in params:
            value = _coerce(value, params[name].type)
        collected.setdefault(name, []).append(value)
    return {name: values if (name in as_list or len(values) > 1) else values[0] for name, values in collected.items()}
