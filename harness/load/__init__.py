"""``conformance load``: does the contract hold with many requests in flight? Built on Locust.

A gateway that passes one request at a time can still break under
concurrency: answers crossed between callers, rate limiting in the wrong
shape or without ``Retry-After``, 5xx that only load brings. Locust is the
load engine (local, or one master and many workers); this package supplies
what it cannot know:

- the workload (:mod:`._workload`): valid requests that differ pairwise in
  what their answers prove (size, format, ``n``), leased while in flight, so
  a crossed answer is caught by name, and a share of invalid ones;
- the judgement of each answer by ``conformance run``'s own checks, where it
  arrives (:mod:`._observe`, in Locust's processes: :mod:`._engine`);
- the load requirements and their verdict (:mod:`._verdict`), ``load.json``
  (:mod:`._summary`) and ``load.html`` with its plots (:mod:`._report`).

Locust monkey-patches the standard library when imported, so it only ever
runs in processes of its own; nothing here imports it.
"""

from __future__ import annotations

from ._config import LoadConfig
from ._run import exit_code, run_load, run_worker
from ._schema import load_schema
from ._verdict import LoadRequirement, load_requirements
from ._workload import Combination, Workload, build_workload

__all__ = ["Combination", "LoadConfig", "LoadRequirement", "Workload", "build_workload", "exit_code",
           "load_requirements", "load_schema", "run_load", "run_worker"]
