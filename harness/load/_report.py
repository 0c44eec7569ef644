"""``load.json`` and ``load.html``: the load run for machines and for people, written side by side.

The page is one self-contained file: its plots (latency percentiles per
status, answers per second, requests in flight and users over time) are
SVG drawn by matplotlib and inlined, so it can be mailed or kept as a CI
artifact. Every value the router sent is HTML-escaped by Jinja2.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from .._files import write_atomic
from ..report._templates import render

__all__ = ["plots", "write_reports"]

_CLASSES = (("answer", "answered (2xx / 4xx)", "#2a7ab0"), ("rate-limited", "rate limited (429 / 503)", "#e0a020"),
            ("server-error", "5xx", "#c0392b"), ("transport-error", "no HTTP answer", "#555555"))


def _svg(figure: Any) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def plots(data: dict[str, Any]) -> dict[str, str]:
    """Inline SVG of each plot (``latency``, ``throughput``, ``concurrency``); empty when matplotlib is
    missing or there is nothing to draw."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib.figure import Figure
    except ImportError:
        return {}
    drawn: dict[str, str] = {}
    latency = {status: row for status, row in data["latency_ms"].items() if row.get("count")}
    if latency:
        figure = Figure(figsize=(7, 3))
        axes = figure.subplots()
        names = list(latency)
        for offset, (key, colour) in enumerate((("p50", "#7fb3d5"), ("p95", "#2a7ab0"), ("p99", "#1b4f72"))):
            axes.bar([i + (offset - 1) * 0.27 for i in range(len(names))], [latency[n][key] for n in names],
                     width=0.27, label=key, color=colour)
        axes.set_xticks(range(len(names)), [f"{n}\n({latency[n]['count']})" for n in names])
        axes.set_ylabel("latency (ms)")
        axes.set_title("latency percentiles per status (answers)")
        axes.legend()
        drawn["latency"] = _svg(figure)
    timeline = data["timeline"]
    if timeline:
        seconds = [row["t"] for row in timeline]
        figure = Figure(figsize=(7, 3))
        axes = figure.subplots()
        bottom = [0] * len(timeline)
        for key, label, colour in _CLASSES:
            counts = [row["answers"].get(key, 0) for row in timeline]
            if any(counts):
                axes.bar(seconds, counts, bottom=bottom, width=0.9, label=label, color=colour)
                bottom = [b + c for b, c in zip(bottom, counts)]
        axes.set_xlabel("seconds since the first request")
        axes.set_ylabel("answers per second")
        axes.set_title("throughput over time")
        axes.legend(fontsize="small")
        drawn["throughput"] = _svg(figure)
        figure = Figure(figsize=(7, 3))
        axes = figure.subplots()
        axes.plot(seconds, [row["in_flight"] for row in timeline], label="requests in flight", color="#2a7ab0")
        axes.step(seconds, [row["users"] for row in timeline], where="post", label="Locust users", color="#e0a020")
        axes.set_xlabel("seconds since the first request")
        axes.set_ylabel("count")
        axes.set_title("concurrency over time")
        axes.legend(fontsize="small")
        drawn["concurrency"] = _svg(figure)
    return drawn


def write_reports(out: Path, data: dict[str, Any]) -> tuple[Path, Path]:
    """Write ``out/load.json`` and ``out/load.html`` (atomically; parents created); both paths."""
    write_atomic(out / "load.json", json.dumps(data, indent=2, allow_nan=False))
    write_atomic(out / "load.html", render("load.html.j2", data=data, plots=plots(data)))
    return out / "load.json", out / "load.html"
