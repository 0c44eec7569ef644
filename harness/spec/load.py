"""Profile files -> resolved profile data: line-numbered YAML, the meta-schema, ``extends``.

A spec author's mistake must name file, line and key, so every document is
parsed twice: once for its data and once (``yaml.compose``) for the line of
every key path. The resolved data then goes to ``build`` for the typed model.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from .._errors import Problem, ProfileNotFound, SpecError
from .._resources import builtin_profiles, specs_dir
from ..rules import KINDS, registry_key

__all__ = ["Located", "dotted", "load_chain", "meta_schema", "resolve_path"]

class Located:
    """A parsed YAML document plus a map from key paths to 1-based line numbers."""

    def __init__(self, path: Path, display: str) -> None:
        self.display = display
        text = path.read_text(encoding="utf-8")
        self.lines: dict[tuple[Any, ...], int] = {}
        problems: list[Problem] = []
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
            self.data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            line = mark.line + 1 if mark else 1
            problem = getattr(exc, "problem", None) or str(exc)
            raise SpecError([(display, line, "", f"YAML syntax error: {problem}")]) from None
        if node is not None:
            self._index(node, (), problems)
        if problems:
            raise SpecError(problems)

    def _index(self, node: yaml.Node, path: tuple[Any, ...], problems: list) -> None:
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            seen: set[Any] = set()
            for key_node, value_node in node.value:
                key = key_node.value
                if key == "<<":  # a YAML merge key: its keys belong to this mapping
                    self._index(value_node, path, problems)
                    continue
                if key in seen:
                    problems.append((self.display, key_node.start_mark.line + 1, dotted(path), f"duplicate key {key!r}"))
                seen.add(key)
                self.lines[path + (key,)] = key_node.start_mark.line + 1
                self._index(value_node, path + (key,), problems)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self._index(item, path + (i,), problems)

    def line(self, path: tuple[Any, ...]) -> int:
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, 1)


def dotted(path: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in path)


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def meta_schema() -> dict[str, Any]:
    """The profile grammar: ``specs/meta-schema.json`` with each registered rule kind's key added where it is written.

    Parameter rules go under ``$defs/param/properties``, size rules under its
    ``dimensions`` (a kind's ``grammar`` fragment, by default ``#/$defs/rule``).
    """
    schema = json.loads((specs_dir() / "meta-schema.json").read_text(encoding="utf-8"))
    param = schema["$defs"]["param"]["properties"]
    for rule_kind in KINDS.values():
        if rule_kind.grammar is not None:
            place = param if rule_kind.place == "param" else param["dimensions"]["properties"]
            place[rule_kind.key] = rule_kind.grammar
    return schema


@cache
def _meta_validator(kinds: tuple[str, ...]) -> jsonschema.protocols.Validator:
    """The meta-schema's validator for the registry holding ``kinds``."""
    return jsonschema.Draft202012Validator(meta_schema())


def _meta_problems(doc: Located) -> list[Problem]:
    if not isinstance(doc.data, dict):
        return [(doc.display, 1, "", "a profile is a YAML mapping")]
    problems = []
    # ``null`` is the deletion marker of ``extends`` merges, valid wherever a mapping value is
    for error in _meta_validator(registry_key()).iter_errors(_without_nulls(doc.data)):
        path = tuple(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = error.schema.get("properties", {})
            for key in error.instance:
                if key not in allowed:
                    in_param = path[-2:-1] == ("params",) or path[-1:] == ("dimensions",)
                    word = "rule" if in_param else "key"
                    problems.append((doc.display, doc.line(path + (key,)), dotted(path), f"unknown {word} {key!r}"))
            continue
        if error.context:
            error = jsonschema.exceptions.best_match(error.context)
            path = path + tuple(error.relative_path)
        problems.append((doc.display, doc.line(path), dotted(path), error.message))
    return problems


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _merge(base: Any, override: Any) -> Any:
    """``extends:`` semantics: mappings merge key by key, ``null`` deletes, anything else replaces."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = _merge(base.get(key), value)
        return merged
    return override


def resolve_path(name_or_path: str | Path, *, relative_to: Path | None = None) -> Path:
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml"):
        if not candidate.is_absolute() and relative_to is not None and not candidate.exists():
            candidate = relative_to / candidate
        if candidate.is_file():
            return candidate
    if relative_to is not None and (relative_to / f"{name_or_path}.yaml").is_file():
        return relative_to / f"{name_or_path}.yaml"
    builtins = builtin_profiles()
    if str(name_or_path) in builtins:
        return builtins[str(name_or_path)]
    raise ProfileNotFound(str(name_or_path), available=list(builtins))


def _resolve_model_extends(models: dict[str, Any], doc: Located) -> dict[str, Any]:
    """Apply ``models.<m>.extends: <other model>`` (the same deep merge as profile ``extends``)."""
    resolved: dict[str, Any] = {}
    problems: list[Problem] = []

    def resolve(name: str, chain: tuple[str, ...]) -> Any:
        if name not in resolved:
            raw = models.get(name)
            parent = raw.get("extends") if isinstance(raw, dict) else None
            if parent is not None:
                at = ("models", name, "extends")
                raw = {k: v for k, v in raw.items() if k != "extends"}
                if not isinstance(models.get(parent), dict):
                    problems.append((doc.display, doc.line(at), dotted(at), f"no model {parent!r} in this profile to extend"))
                elif parent in chain:
                    problems.append((doc.display, doc.line(at), dotted(at), f"circular extends: {parent!r}"))
                else:
                    raw = _merge(resolve(parent, chain + (name,)), raw)
            resolved[name] = raw
        return resolved[name]

    for name in models:
        resolve(name, ())
    if problems:
        raise SpecError(problems)
    return resolved


def load_chain(path: Path, seen: tuple[Path, ...] = ()) -> tuple[dict[str, Any], list[Located]]:
    """The profile at ``path`` with every ``extends`` applied, and the documents it came from (child first).

    Each file's models are resolved (model ``extends``) before a child file
    merges over them, so a child may delete a model others were copied from.
    """
    doc = Located(path, _display(path))
    problems = _meta_problems(doc)
    if problems:
        raise SpecError(problems)
    own = dict(doc.data)
    parent = own.pop("extends", None)
    if isinstance(own.get("models"), dict):
        own["models"] = _resolve_model_extends(own["models"], doc)
    if parent is None:
        return _without_nulls(own), [doc]
    parent_path = resolve_path(parent, relative_to=path.parent)
    if parent_path.resolve() in seen or parent_path.resolve() == path.resolve():
        raise SpecError([(doc.display, doc.line(("extends",)), "extends", f"circular extends: {parent!r}")])
    base, docs = load_chain(parent_path, seen + (path.resolve(),))
    return _without_nulls(_merge(base, own)), [doc, *docs]
