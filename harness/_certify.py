"""``certify()``: the whole engine in one call, for Python users and scripts that want no pytest.

It runs every case of a profile through :class:`~harness.runner.Run` and
returns what ``results.json`` holds; the command line and the pytest plugin
drive the same engine item by item.
"""

from __future__ import annotations

from pathlib import Path

from ._errors import NotAssessed
from .options import RunConfig
from .results import RunResult
from .runner import Run
from .spec import Profile, load_profile

__all__ = ["certify"]


def certify(profile: str | Path | Profile, *,
            router_url: str | None = RunConfig.router_url,
            api_key_env: str = RunConfig.api_key_env,
            seed: int = RunConfig.seed,
            examples: int = RunConfig.examples,
            max_generations: int | None = RunConfig.max_generations,
            fault: str | None = RunConfig.fault,
            models: tuple[str, ...] = RunConfig.models,
            headers: tuple[str, ...] = RunConfig.headers,
            timeout: float = RunConfig.timeout,
            deadline: float = RunConfig.deadline,
            workers: int = RunConfig.workers,
            latency: float = RunConfig.latency,
            input_image_url: str | None = RunConfig.input_image_url,
            allow_private_image_urls: bool = RunConfig.allow_private_image_urls,
            large_inputs: bool = RunConfig.large_inputs) -> RunResult:
    """Certify a router against ``profile`` (a built-in name, a YAML path or a loaded :class:`Profile`).

    Every option is a :class:`~harness.options.RunConfig` field, with the
    same default and unit: ``router_url`` (``None``: the embedded reference
    router on 127.0.0.1), ``api_key_env`` (the variable holding the key),
    ``seed``, ``examples`` (draws per rule), ``max_generations`` (billable
    requests; ``None``: no cap), ``fault`` (embedded router only), ``models``
    (ids; empty: all), ``headers`` (``"Name: value"``), ``timeout`` (seconds per request),
    ``deadline`` (seconds per run),
    ``workers`` (requests in flight), ``latency`` (seconds, embedded router)
    ``input_image_url``, ``allow_private_image_urls`` and ``large_inputs``.

    Returns the :class:`RunResult` (``.verdict``, ``.failed()``, ``.data``:
    what ``results.json`` holds). A router that cannot be assessed
    (unreachable, key rejected, endpoint not at the base URL) gives a
    ``not-assessed`` result saying why, not an exception; a missing key
    raises :class:`MissingApiKey`. Raises :class:`SpecError` /
    :class:`ProfileNotFound` for a bad profile, ``ValueError`` for an unknown
    model id and ``KeyError`` for an unknown fault.
    """
    if not isinstance(profile, Profile):
        profile = load_profile(profile)
    config = RunConfig(router_url=router_url, api_key_env=api_key_env, seed=seed, examples=examples,
                       max_generations=max_generations, fault=fault, models=tuple(models), headers=tuple(headers),
                       timeout=timeout, deadline=deadline, workers=workers, latency=latency, input_image_url=input_image_url,
                       allow_private_image_urls=allow_private_image_urls, large_inputs=large_inputs)
    with Run(profile, config) as run:
        try:
            run.connect()
            run.prefetch(run.plan)
            for case in run.plan:
                run.execute(case)
        except NotAssessed:
            pass  # recorded by connect(): the result says not assessed, and why
        return run.result()
