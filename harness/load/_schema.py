"""The JSON Schema (2020-12) of ``load.json``, shipped so CI scripts can rely on its shape (docs/load-json.md)."""

from __future__ import annotations

from typing import Any

__all__ = ["load_schema"]

_NUMBER = {"type": "number", "minimum": 0}
_COUNT = {"type": "integer", "minimum": 0}
_COUNTS = {"type": "object", "additionalProperties": _COUNT}

_REQUIREMENT = {
    "type": "object",
    "required": ["id", "level", "title", "source", "status", "message", "judged", "failed"],
    "properties": {
        "id": {"type": "string", "pattern": "^load\\."},
        "level": {"enum": ["MUST", "SHOULD"]},
        "title": {"type": "string"}, "source": {"type": "string"},
        "status": {"enum": ["passed", "failed", "skipped"]},
        "message": {"type": "string"}, "judged": _COUNT, "failed": _COUNT,
        "examples": {"type": "array", "maxItems": 3, "items": {
            "type": "object", "required": ["case", "status", "message", "in_flight"],
            "properties": {"case": {"type": "string"}, "combination": {"type": ["string", "null"]},
                           "status": {"type": ["integer", "null"]}, "latency_ms": _NUMBER,
                           "in_flight": {"type": "integer", "minimum": 1}, "worker": _COUNT,
                           "message": {"type": "string"}, "evidence": {"type": ["object", "null"]}}}},
    },
}


def load_schema() -> dict[str, Any]:
    """The JSON Schema every ``load.json`` validates against (``schema_version`` 1)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "image-router-conformance load.json",
        "type": "object",
        "required": ["schema_version", "kind", "profile", "router_url", "embedded", "verdict", "not_assessed",
                     "config", "pool", "totals", "requirements", "levels", "latency_ms", "timeline", "locust"],
        "properties": {
            "schema_version": {"const": 1}, "kind": {"const": "load"},
            "harness_version": {"type": "string"}, "profile": {"type": "string"}, "title": {"type": "string"},
            "router_url": {"type": "string"}, "embedded": {"type": "boolean"}, "fault": {"type": ["string", "null"]},
            "generated_at": {"type": "string"}, "wall_s": _NUMBER,
            "verdict": {"enum": ["passed", "failed", "not-assessed"]},
            "not_assessed": {"type": ["string", "null"]},
            "config": {"type": "object", "required": ["users", "spawn_rate", "duration", "max_generations"]},
            "pool": {"type": "object", "required": ["combinations", "invalid_cases", "caps_concurrency"],
                     "properties": {"combinations": _COUNT, "invalid_cases": _COUNT,
                                    "caps_concurrency": {"type": "boolean"}}},
            "totals": {"type": "object",
                       "required": ["requests", "duration_s", "throughput_rps", "billable", "by_class", "by_status",
                                    "max_in_flight", "workers", "by_worker", "stopped"],
                       "properties": {"requests": _COUNT, "duration_s": _NUMBER, "throughput_rps": _NUMBER,
                                      "billable": _COUNT, "by_class": _COUNTS, "by_status": _COUNTS,
                                      "max_in_flight": _COUNT, "workers": _COUNT, "by_worker": _COUNTS,
                                      "stopped": {"type": ["string", "null"]}}},
            "requirements": {"type": "array", "minItems": 5, "items": _REQUIREMENT},
            "levels": {"type": "array", "items": {
                "type": "object", "required": ["in_flight", "requests"],
                "properties": {"in_flight": {"type": "string", "pattern": "^[0-9]+(-[0-9]+)?$"},
                               "requests": _COUNT},
                "additionalProperties": _COUNT}},
            "latency_ms": {"type": "object", "additionalProperties": {
                "type": "object", "required": ["count"],
                "properties": {k: _NUMBER for k in ("count", "p50", "p90", "p95", "p99", "max")}}},
            "timeline": {"type": "array", "items": {
                "type": "object", "required": ["t", "answers", "in_flight", "users"],
                "properties": {"t": _COUNT, "answers": _COUNTS, "in_flight": _COUNT, "users": _COUNT}}},
            "alone": {"type": "object", "additionalProperties": {"oneOf": [
                {"type": "null"},
                {"type": "object", "required": ["status", "shows_own"],
                 "properties": {"status": {"type": ["integer", "null"]}, "shows_own": {"type": ["boolean", "null"]}}}]}},
            "locust": {"type": "array", "items": {"type": "object", "required": ["name", "requests", "failures"]}},
        },
    }
