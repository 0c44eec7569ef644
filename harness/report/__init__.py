"""Reports across profiles: ``index.html`` linking each profile's report."""

from __future__ import annotations

from ._index import write_index

__all__ = ["write_index"]
