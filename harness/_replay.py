"""Replaying cases: the plan cut down to the ids asked for, and the command line that re-sends one case.

A case id names a request of one plan (``seed``, ``examples``, ``models``
give it), so a replay builds that same plan and keeps only the asked
cases: same bodies, byte for byte, and a failure can be re-checked without
re-sending the whole run (or paying for it again).
"""

from __future__ import annotations

import difflib
import shlex

from .options import RunConfig
from .spec import Case

__all__ = ["only_cases", "replay_command"]


def only_cases(plan: list[Case], ids: tuple[str, ...]) -> list[Case]:
    """The cases of ``plan`` with these ids, in plan order (all when ``ids`` is empty).

    Raises ``ValueError`` for an id the plan lacks, naming the closest ones.
    """
    if not ids:
        return plan
    known = {case.id for case in plan}
    for wanted in ids:
        if wanted not in known:
            close = difflib.get_close_matches(wanted, known, n=3, cutoff=0.5)
            raise ValueError(f"no case {wanted!r} in this plan (same --seed, --examples and --models as the run it "
                             f"came from?){'; closest: ' + ', '.join(map(repr, close)) if close else ''}")
    return [case for case in plan if case.id in ids]


def replay_command(profile: str, config: RunConfig, case: Case, *, embedded: bool) -> str:
    """The ``conformance run`` line that re-sends exactly ``case``: the options that make the same plan, quoted
    for a POSIX shell; a real router's URL is left as ``"$ROUTER_URL"`` so the line replays against any router."""
    words = ["conformance", "run", "--profile", profile, "--seed", str(config.seed)]
    if config.examples != RunConfig.examples:
        words += ["--examples", str(config.examples)]
    if config.models:
        words += ["--models", ",".join(config.models)]
    if config.large_inputs:
        words.append("--large-inputs")
    if embedded and config.fault:
        words += ["--fault", config.fault]
    words += ["--case", case.id]
    line = " ".join(map(shlex.quote, words))
    return line if embedded else f'{line} --router-url "$ROUTER_URL"'
