"""The derive step: a :class:`~harness.spec.Profile` -> JSON Schemas, Hypothesis strategies, an OpenAPI document."""
