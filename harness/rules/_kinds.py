"""The rule kinds every profile may use, each declared once."""

from __future__ import annotations

from ._registry import RuleKind, register

for _kind in (
    RuleKind("type", "type", "a `{param}` of the wrong JSON type is rejected"),
    RuleKind("required", "required", "a request without `{param}` is rejected"),
    RuleKind("enum", "enum", "`{param}` outside {value} is rejected"),
    RuleKind("minimum", "minimum", "`{param}` below {value} is rejected"),
    RuleKind("maximum", "maximum", "`{param}` above {value} is rejected"),
    RuleKind("max_length", "max-length", "`{param}` longer than {value} characters is rejected"),
    RuleKind("max_items", "max-items", "more than {value} `{param}` items are rejected"),
    RuleKind("unsupported", "unsupported", "a request with `{param}` (not supported) is rejected"),
    RuleKind("format", "format", "a malformed `{param}` (not WIDTHxHEIGHT or a documented keyword) is rejected"),
    RuleKind("allowed", "allowed", "`{param}` outside {value} is rejected", place="dimensions"),
    RuleKind("max_edge", "max-edge", "`{param}` with an edge above {value} px is rejected", place="dimensions"),
    RuleKind("multiple_of", "multiple-of", "`{param}` with an edge that is not a multiple of {value} px is rejected",
             place="dimensions", value_in_slug=True),
    RuleKind("max_ratio", "max-ratio", "`{param}` with long:short edge ratio above {value}:1 is rejected",
             place="dimensions"),
    RuleKind("min_pixels", "min-pixels", "`{param}` with fewer than {value} pixels is rejected", place="dimensions"),
    RuleKind("max_pixels", "max-pixels", "`{param}` with more than {value} pixels is rejected", place="dimensions"),
):
    register(_kind)
