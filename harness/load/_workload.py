"""What a load run sends: a pool of valid requests, each with a combination no other one shares, and invalid ones.

Under load the failure that single requests never show is a crossed answer:
a cache or connection pool hands one caller the image another asked for.
It can only be caught if every request in flight asks for something its
answer visibly proves: a size in pixels (or an aspect ratio), a format and a
count ``n``. So the pool holds valid cases that differ pairwise in that
observable :class:`Combination`, and a request leases its combination for as
long as it is in flight (``_engine``), so no two requests in flight share one.
The pool is derived from the plan (the same seed gives the same requests), so
the master and every worker of a distributed run derive the same pool.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from typing import Any

from ..checks.served import ASPECT_TOLERANCE
from ..derive.schema import request_violations
from ..plan import build_plan
from ..rules.size import parse_size
from ..spec import PIL_FORMATS, Case, ModelEndpoint, Profile

__all__ = ["Combination", "Workload", "build_workload"]

#: ``n`` values a load request asks for: enough to tell answers apart, while each request costs at most 2 images.
LOAD_N = (1, 2)
#: At most this many combinations in a pool (the rest of the product adds no power to catch a crossing).
MAX_POOL = 256


@dataclass(frozen=True)
class Combination:
    """What an answer must show to be *its* request's answer.

    ``size``: (width, height) in pixels, or ``None``; ``aspect_ratio``:
    width / height when the request names a ratio instead; ``format``: the PIL
    format name (``PNG``, ``JPEG``, ``WEBP``) or ``None`` when the profile
    has no ``output_format``; ``n``: how many images.
    """

    size: tuple[int, int] | None
    aspect_ratio: tuple[str, float] | None
    format: str | None
    n: int

    @property
    def label(self) -> str:
        shape = f"{self.size[0]}x{self.size[1]}" if self.size else f"ratio {self.aspect_ratio[0]}"  # type: ignore[index]
        return " ".join(p for p in (shape, (self.format or "").lower(), f"n={self.n}") if p)

    def shown_by(self, images: list[list[Any]] | None, count: int | None) -> bool:
        """Whether an answer of ``count`` images, the first of which are ``images`` (``[[width, height, format],
        ...]`` as their files declare them), is what this combination asks for."""
        if not images or count != self.n:
            return False
        for width, height, fmt in images:
            if self.format is not None and fmt != self.format:
                return False
            if self.size is not None and (width, height) != self.size:
                return False
            if self.aspect_ratio is not None and (not height or abs(width / height / self.aspect_ratio[1] - 1)
                                                  > ASPECT_TOLERANCE):
                return False
        return True

    def overlaps(self, other: Combination) -> bool:
        """Whether one answer could show both (``2880x2880`` and ratio ``1:1``): a crossing between the two
        would go unseen, so a pool never holds both."""
        if self.n != other.n or (self.format and other.format and self.format != other.format):
            return False
        mine, theirs = self._ratio(), other._ratio()
        if self.size is not None and other.size is not None:
            return self.size == other.size
        return abs(mine / theirs - 1) <= 2 * ASPECT_TOLERANCE

    def _ratio(self) -> float:
        return self.size[0] / self.size[1] if self.size else self.aspect_ratio[1]  # type: ignore[index]

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "size": list(self.size) if self.size else None,
                "aspect_ratio": self.aspect_ratio[0] if self.aspect_ratio else None, "format": self.format,
                "n": self.n}


@dataclass(frozen=True)
class Workload:
    """The pool (valid cases with pairwise distinct combinations, cheapest first) and the invalid cases.

    ``combinations`` maps a pool case id to its :class:`Combination`.
    """

    pool: tuple[Case, ...]
    combinations: dict[str, Combination]
    invalid: tuple[Case, ...]

    def share(self, slot: int, slots: int) -> Workload:
        """The part of the pool worker ``slot`` of ``slots`` sends (disjoint shares: no crossing goes unseen)."""
        pool = self.pool[slot::slots]
        return Workload(pool, {c.id: self.combinations[c.id] for c in pool}, self.invalid)

    def case(self, case_id: str) -> Case | None:
        return next((c for c in (*self.pool, *self.invalid) if c.id == case_id), None)


def _ratio(value: Any) -> tuple[str, float] | None:
    if isinstance(value, str) and value.count(":") == 1:
        a, b = value.split(":")
        if a.isdigit() and b.isdigit() and int(b):
            return value, int(a) / int(b)
    return None


def combination(target: ModelEndpoint, body: dict[str, Any]) -> Combination | None:
    """The observable combination of a valid ``body`` for ``target``; ``None`` when its answer could not prove it."""
    effective = target.effective(body)
    size = parse_size(effective.get("size")) if "size" in target.params else None
    ratio = _ratio(effective.get("aspect_ratio")) if size is None and "aspect_ratio" in target.params else None
    if size is None and ratio is None:
        return None  # "auto" or no size at all: any image would do, so a crossing would go unseen
    fmt = PIL_FORMATS.get(effective.get("output_format")) if "output_format" in target.params else None
    n = effective.get("n", 1)
    return Combination(size, ratio, fmt, n if isinstance(n, int) and not isinstance(n, bool) else 1)


def _axis(target: ModelEndpoint, name: str, base: dict[str, Any]) -> list[Any]:
    """The values ``name`` takes in the pool: the base case's own first, then the documented uncontested ones
    (the enum, the known-good values, else the ``allowed`` list)."""
    if name not in target.params:
        return [None]
    if name == "n":
        values: list[Any] = list(LOAD_N)
    else:
        param = target.params[name]
        documented = param.uncontested or tuple(v for v in param.rule_value("allowed") or () if v not in param.conflicts)
        values = [v for v in documented if isinstance(v, str)]
    own = base.get(name)
    return [own, *(v for v in values if v != own)] if own is not None else values or [None]


def _variants(profile: Profile, case: Case) -> list[tuple[Case, Combination]]:
    target = profile.model_endpoint(case.endpoint, case.model)
    if target is None:
        return []
    found = []
    shapes = _axis(target, "size", case.body) if "size" in target.params else _axis(target, "aspect_ratio", case.body)
    shape_name = "size" if "size" in target.params else "aspect_ratio"
    for n, shape, fmt in itertools.product(_axis(target, "n", case.body), shapes,
                                           _axis(target, "output_format", case.body)):
        body = dict(case.body)
        for name, value in (("n", n), (shape_name, shape), ("output_format", fmt)):
            if value is not None:
                body[name] = value
        if request_violations(profile, case.endpoint, body):
            continue  # a combination a documented rule forbids is not a valid request
        shown = combination(target, body)
        if shown is not None:
            found.append((replace(case, id=f"load:{case.id}:{shown.label.replace(' ', ',')}", body=body,
                                  origin=f"load variant of {case.id}"), shown))
    return found


def build_workload(profile: Profile, *, seed: int = 0, models: tuple[str, ...] = ()) -> Workload:
    """The load :class:`Workload` of ``profile``: from the plan ``seed`` and ``models`` give (examples: 1).

    The pool takes each valid, non-streaming case of the plan that can be
    sent as configured and varies its ``n`` (1, 2), ``size`` (or
    ``aspect_ratio``) and ``output_format`` over documented values, keeping
    bodies no rule of the profile forbids; a combination one answer could
    show together with one already in the pool (the same, or ``1024x1024``
    beside ratio ``1:1``) is left out. Sorted cheapest first (``n`` ascending). Raises
    ``ValueError`` for an unknown model id.
    """
    plan = build_plan(profile, seed=seed, examples=1, models=models)
    sendable = [c for c in plan if not c.skip and c.auth == "valid" and not c.headers]
    valid = [c for c in sendable if c.kind == "valid" and not _streams(profile, c)]
    seen: dict[Combination, Case] = {}
    # round robin over endpoints, then over each endpoint's cases: every endpoint (edits too) and model gets
    # combinations of its own, not only the first case's
    streams = [_distinct(_interleaved([_variants(profile, c) for c in valid if c.endpoint == endpoint]))
               for endpoint in dict.fromkeys(c.endpoint for c in valid)]
    for variant, shown in _interleaved(streams):
        if not any(shown.overlaps(kept) for kept in seen):
            seen[shown] = variant
    ordered = sorted(seen.items(), key=lambda item: item[0].n)[:MAX_POOL]
    invalid = tuple(c for c in sendable if c.kind == "invalid")
    return Workload(tuple(case for _, case in ordered), {case.id: shown for shown, case in ordered}, invalid)


def _distinct(variants: list[tuple[Case, Combination]]) -> list[tuple[Case, Combination]]:
    """The first variant of each combination, in order."""
    first: dict[Combination, Case] = {}
    for case, shown in variants:
        first.setdefault(shown, case)
    return [(case, shown) for shown, case in first.items()]


def _interleaved(lists: list[Any]) -> list[Any]:
    """The items of ``lists`` taken one from each in turn: ``[[a, b], [c]]`` -> ``[a, c, b]``."""
    return [item for group in itertools.zip_longest(*lists) for item in group if item is not None]


def _streams(profile: Profile, case: Case) -> bool:
    target = profile.model_endpoint(case.endpoint, case.model)
    return target is not None and target.streams_for(case.body)
