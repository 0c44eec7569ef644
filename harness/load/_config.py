"""The options of one load run, with their defaults and units, declared once."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LoadConfig"]


@dataclass(frozen=True)
class LoadConfig:
    """How ``conformance load`` loads one profile's router.

    ``profile``: a built-in name or a YAML path. ``router_url``: the base URL
    (``None``: the embedded reference router on 127.0.0.1, which ``fault``
    and ``latency``, seconds before each answer, may break or slow).
    ``users``: Locust users, each with one request in flight at a time;
    ``spawn_rate``: users started per second; ``duration``: seconds of load
    after the first user starts. ``max_generations``: at most this many
    billable requests in all (workers included, the preflight request
    counted); required with a ``router_url``. ``invalid_share``: the share
    (0 to 1) of requests that are invalid cases (free: a router rejects
    them). ``timeout``: seconds one request may take. ``mode``: ``local``
    (one process) or ``master`` (``expect_workers`` workers connect to
    ``master_bind_host``:``master_port`` within ``worker_wait`` seconds).
    ``strict``: a failed SHOULD load requirement fails the run too.
    ``report_dir``: ``load.json`` and ``load.html`` go to
    ``report_dir/<profile>/``.
    """

    profile: str = "worldrouter"
    router_url: str | None = None
    api_key_env: str = "ROUTER_API_KEY"
    users: int = 20
    spawn_rate: float = 5.0
    duration: float = 30.0
    max_generations: int | None = None
    invalid_share: float = 0.1
    seed: int = 0
    models: tuple[str, ...] = ()
    headers: tuple[str, ...] = ()
    timeout: float = 60.0
    fault: str | None = None
    latency: float = 0.0
    allow_private_image_urls: bool = False
    strict: bool = False
    mode: str = "local"
    expect_workers: int = 1
    master_bind_host: str = "127.0.0.1"
    master_port: int = 5557
    worker_wait: float = 60.0
    report_dir: str = "reports"

    def __post_init__(self) -> None:
        if self.users < 1 or self.spawn_rate <= 0 or self.duration <= 0:
            raise ValueError("--users must be at least 1, --spawn-rate and --duration above 0")
        if not 0 <= self.invalid_share <= 1:
            raise ValueError("--invalid-share is a share of requests, from 0 to 1")
        if self.max_generations is not None and self.max_generations < 2:
            raise ValueError("--max-generations must be at least 2: the preflight request is billable, and the "
                             "load needs one more")
